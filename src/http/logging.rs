//! The server's log: set-up (format, `TEKSER_LOG` filter) and the start-up summary. With
//! `log_format = "json"` every line on stderr is one JSON object with flat fields (no nested
//! `fields`/`span` objects, no plain banner lines), so a log shipper can index it as it is.

use crate::config::Config;
use std::net::SocketAddr;

/// The environment variable holding a `tracing` filter (`info`, `tekser=debug,hyper=warn`).
pub const FILTER_VAR: &str = "TEKSER_LOG";

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// `TEKSER_LOG` is not a filter; ignoring it would hide the debug output the operator asked
    /// for, or flood the log with what they filtered out.
    #[error("{FILTER_VAR}={value:?} is not a log filter ({reason}); examples: info, warn, tekser=debug,hyper=warn")]
    BadFilter {
        /// What the variable holds.
        value: String,
        /// The parser's complaint.
        reason: String,
    },
}

/// Parses a filter the way [`init`] does (for `TEKSER_LOG`); `None` means the default, `info`.
pub fn filter(value: Option<&str>) -> Result<tracing_subscriber::EnvFilter, LogError> {
    match value {
        None => Ok(tracing_subscriber::EnvFilter::new("info")),
        Some(v) => tracing_subscriber::EnvFilter::builder()
            .with_regex(false)
            .parse(v)
            .map_err(|e| LogError::BadFilter {
                value: v.to_owned(),
                reason: e.to_string(),
            }),
    }
}

/// Installs the global subscriber writing to stderr: text (colours on a terminal) or flat JSON.
/// `filter_value` is `TEKSER_LOG`'s value, if set.
pub fn init(json: bool, filter_value: Option<&str>) -> Result<(), LogError> {
    let filter = filter(filter_value)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests start several servers in one process) keeps the first subscriber.
    if json {
        let _ = builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init();
    } else {
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let _ = builder.with_ansi(ansi).try_init();
    }
    Ok(())
}

/// The start-up summary, as log events (one JSON object each with JSON logs): where the server
/// listens, the trust anchors by set with their count, the revocation mode, the limits.
pub fn startup_summary(config: &Config, addr: SocketAddr) {
    let s = &config.server;
    let scheme = if s.tls.is_some() { "https" } else { "http" };
    if !s.json_logs {
        human_banner(config, addr, scheme);
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        git_commit = super::BUILD.git_commit,
        listen = %addr,
        url = %format_args!("{scheme}://{addr}"),
        tls = s.tls.is_some(),
        workers = s.workers,
        io_threads = s.io_threads,
        admin = s.admin_token.is_some(),
        cors_origins = s.cors_origins.len(),
        "tekser listening"
    );
    // Anchors grouped by where they came from: a built-in set ("kz-nca", "demo") or a file.
    let mut sets: Vec<(String, usize)> = Vec::new();
    for (_, origin) in config.verifier.trust().entries() {
        let set = origin
            .source
            .split_once(": ")
            .map_or(origin.source.as_str(), |(set, _)| set)
            .to_owned();
        match sets.iter_mut().find(|(n, _)| *n == set) {
            Some((_, n)) => *n += 1,
            None => sets.push((set, 1)),
        }
    }
    for (set, count) in &sets {
        tracing::info!(trust_set = %set, anchors = count, "trust anchors");
    }
    if sets.is_empty() {
        tracing::warn!(anchors = 0, "no trust anchors: no chain can be validated");
    }
    let l = config.verifier.limits();
    let rev = &config.verifier.config().revocation;
    tracing::info!(
        revocation = %format!("{:?}", config.request.revocation).to_ascii_lowercase(),
        revocation_deadline_ms = u64::try_from(rev.deadline.as_millis()).unwrap_or(u64::MAX),
        validation_time = config.request.at.map_or_else(|| "now".to_owned(), |t| t.to_string()),
        shared_cache = config
            .verifier
            .revocation()
            .shared()
            .map_or_else(|| "off".to_owned(), |s| s.cache.describe()),
        "revocation"
    );
    tracing::info!(
        max_body_bytes = s.max_body_bytes,
        max_text_body_bytes = s.max_text_body_bytes,
        max_batch_bytes = s.max_batch_bytes,
        max_header_bytes = s.max_header_bytes,
        max_connections = s.max_connections,
        queue_capacity = s.queue_capacity,
        request_deadline_ms = u64::try_from(s.request_deadline.as_millis()).unwrap_or(u64::MAX),
        max_input_bytes = l.max_input_bytes,
        max_certificates = l.max_certificates,
        "limits"
    );
    if config.demo_trust && s.json_logs {
        tracing::warn!(
            try_it = %format_args!("curl -s -H 'Content-Type: application/pkcs7-signature' --data-binary @fixtures/cms/rsa-attached.p7s {scheme}://{addr}/v1/verify"),
            "demo trust store in use: test roots whose private keys are public, never for production"
        );
    }
}

/// With text logs (for a person at a terminal), the banner with copy-paste examples as plain
/// lines, as before; with JSON logs it is left out, its facts being in the summary events.
fn human_banner(config: &Config, addr: SocketAddr, scheme: &str) {
    eprintln!(
        "tekser {} listening on {scheme}://{addr} ({} verification threads)",
        env!("CARGO_PKG_VERSION"),
        config.server.workers
    );
    let nca = config
        .verifier
        .trust()
        .entries()
        .any(|(_, o)| o.source.starts_with("kz-nca:"));
    if nca {
        eprintln!("trust: the NCA production roots (kz-nca). Try, from the repository root (a GOST R 34.10-2015-512 chain):");
        eprintln!(
            "  curl -s -H 'Content-Type: application/pkix-cert' --data-binary @trust/kz-nca-prod/nca_gost_2022.der {scheme}://{addr}/v1/certificates/inspect"
        );
    }
    if config.demo_trust {
        eprintln!(
            "demo trust store in use (test roots with public keys: never for production). Try:"
        );
        eprintln!(
            "  curl -s -H 'Content-Type: application/pkcs7-signature' --data-binary @fixtures/cms/rsa-attached.p7s {scheme}://{addr}/v1/verify"
        );
    } else {
        eprintln!("the bundled sample documents verify under `tekser serve --demo`");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_filters_are_refused() {
        assert!(filter(None).is_ok());
        assert!(filter(Some("tekser=debug,hyper=warn")).is_ok());
        let e = filter(Some("tekser=loud")).expect_err("not a level");
        assert!(e.to_string().contains("TEKSER_LOG"), "{e}");
    }
}
