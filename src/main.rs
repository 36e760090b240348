//! The `tekser` binary: parse the command line, load the configuration, run, map the outcome to
//! an exit status (CONTRACT.md: 0 passed, 1 failed, 2 indeterminate, 64 usage, 66 missing input,
//! 70 internal error).

mod cli;

use clap::Parser;
use cli::{Cli, Command, Common, TrustCommand, VerifyCommand};
use std::path::Path;
use std::process::ExitCode;
use tekser::config::{ConfigError, RawConfig};
use tekser::verdict::Verdict;

const EXIT_USAGE: u8 = 64;
const EXIT_NO_INPUT: u8 = 66;
const EXIT_INTERNAL: u8 = 70;

/// A failure before a verdict exists.
enum Fail {
    Usage(String),
    NoInput(String),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    // A bug must not look like a verdict: a panic is exit 70, never 0/1/2.
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(Fail::Usage(m))) => {
            eprintln!("tekser: {m}");
            ExitCode::from(EXIT_USAGE)
        }
        Ok(Err(Fail::NoInput(m))) => {
            eprintln!("tekser: {m}");
            ExitCode::from(EXIT_NO_INPUT)
        }
        Err(_) => {
            eprintln!("tekser: internal error");
            ExitCode::from(EXIT_INTERNAL)
        }
    }
}

/// Every input file goes through the bounded reader: a device, pipe or FIFO is read to at most
/// `limit + 1` bytes and given up on when it stalls (a usage error naming the file); a file that
/// cannot be opened is "missing input" (66).
fn read_input(p: &Path, limit: usize) -> Result<Vec<u8>, Fail> {
    use tekser::input::ReadError;
    tekser::input::read_bounded(p, limit).map_err(|e| match e {
        ReadError::Io { path, source } => Fail::NoInput(format!("{}: {source}", path.display())),
        other => Fail::Usage(other.to_string()),
    })
}

/// Non-empty lines of stdin, one payload each, reading at most `limit` bytes in all.
fn stdin_lines(limit: usize) -> Result<Vec<Vec<u8>>, Fail> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::io::stdin()
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Fail::NoInput(format!("stdin: {e}")))?;
    if buf.len() > limit {
        return Err(Fail::Usage(format!(
            "stdin: larger than the barcode limit of {limit} bytes"
        )));
    }
    Ok(tekser::formats::barcode::split_lines(&buf))
}

/// Flags override what the file and the environment said.
fn apply_flags(raw: &mut RawConfig, common: &Common) {
    if !common.trust.is_empty() {
        raw.trust = common.trust.clone();
    }
    if !common.intermediate.is_empty() {
        raw.intermediates = common.intermediate.clone();
    }
    if !common.crl.is_empty() {
        raw.crls = common.crl.clone();
    }
    raw.revocation_options
        .fetch_allow
        .extend(common.fetch_allow.iter().cloned());
    if common.at.is_some() {
        raw.at = common.at.clone();
    }
    if common.revocation.is_some() {
        raw.revocation = common.revocation.clone();
    }
    if let Some(b) = common.barcodes {
        raw.barcodes = b;
    }
    raw.danger_allow_sha1 |= common.danger_allow_sha1;
    if let Some(p) = common.auth_key_signatures {
        raw.auth_key_signatures = p;
    }
}

fn config_error(e: ConfigError) -> Fail {
    match e {
        ConfigError::Missing(e) => Fail::NoInput(e.to_string()),
        other => Fail::Usage(other.to_string()),
    }
}

fn load(common: &Common) -> Result<tekser::config::Config, Fail> {
    load_with(common, RawConfig::default())
}

/// [`load`] starting from `raw` (command-specific settings already in it).
fn load_with(common: &Common, mut raw: RawConfig) -> Result<tekser::config::Config, Fail> {
    apply_flags(&mut raw, common);
    let config = raw.validate().map_err(|e| match e {
        ConfigError::Missing(e) => Fail::NoInput(e.to_string()),
        other => Fail::Usage(other.to_string()),
    })?;
    for w in &config.warnings {
        eprintln!("tekser: warning: {w}");
    }
    Ok(config)
}

fn emit(v: &Verdict, json: bool) -> u8 {
    if json {
        println!("{}", v.to_json());
    } else {
        print!("{}", cli::render_text(v));
    }
    v.exit_code()
}

/// The server's raw configuration: the file, then the environment, then flags.
fn server_raw(config_file: Option<&Path>) -> Result<RawConfig, Fail> {
    let mut raw = match config_file {
        Some(p) => RawConfig::from_file(p).map_err(config_error)?,
        None => RawConfig::default(),
    };
    raw.apply_env(|k| std::env::var(k).ok())
        .map_err(config_error)?;
    Ok(raw)
}

fn serve(
    config_file: Option<&Path>,
    listen: Option<String>,
    demo: bool,
    common: &Common,
) -> Result<u8, Fail> {
    let mut raw = server_raw(config_file)?;
    apply_flags(&mut raw, common);
    if listen.is_some() {
        raw.listen = listen;
    }
    raw.demo |= demo;
    let config = raw.clone().validate().map_err(config_error)?;
    init_logging(config.server.json_logs);
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.server.io_threads)
        .thread_name("tekser-io")
        .enable_all()
        .build()
        .map_err(|e| Fail::Usage(format!("cannot start the async runtime: {e}")))?;
    let demo = config.demo_trust;
    let nca = config
        .verifier
        .trust()
        .entries()
        .any(|(_, o)| o.source.starts_with("kz-nca:"));
    let cfg = config.server.clone();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| Fail::Usage(format!("cannot listen on {}: {e}", cfg.listen)))?;
        let addr = listener.local_addr().map_err(|e| Fail::Usage(e.to_string()))?;
        let state = tekser::http::AppState::new(raw, config).map_err(|e| Fail::Usage(e.to_string()))?;
        let scheme = if cfg.tls.is_some() { "https" } else { "http" };
        eprintln!(
            "tekser {} listening on {scheme}://{addr} ({} verification threads)",
            env!("CARGO_PKG_VERSION"),
            cfg.workers
        );
        if nca {
            eprintln!("trust: the NCA production roots (kz-nca). Try, from the repository root (a GOST R 34.10-2015-512 chain):");
            eprintln!(
                "  curl -s -H 'Content-Type: application/pkix-cert' --data-binary @trust/kz-nca-prod/nca_gost_2022.der {scheme}://{addr}/v1/certificates/inspect"
            );
        }
        if demo {
            eprintln!("demo trust store in use (test roots with public keys: never for production). Try:");
            eprintln!(
                "  curl -s -H 'Content-Type: application/pkcs7-signature' --data-binary @fixtures/cms/rsa-attached.p7s {scheme}://{addr}/v1/verify"
            );
        } else {
            eprintln!("the bundled sample documents verify under `tekser serve --demo`");
        }
        tekser::http::serve(state, listener, shutdown_signal())
            .await
            .map_err(|e| Fail::Usage(e.to_string()))?;
        eprintln!("tekser stopped");
        Ok::<u8, Fail>(0)
    })
}

/// `tekser trust list`: the anchors a server (or a verify command with these `--trust`) uses.
fn trust_list(
    config_file: Option<&Path>,
    trust: Vec<std::path::PathBuf>,
    json: bool,
) -> Result<u8, Fail> {
    let mut raw = server_raw(config_file)?;
    if !trust.is_empty() {
        raw.trust = trust;
    }
    let config = raw.validate().map_err(config_error)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let rows: Vec<serde_json::Value> = config
        .verifier
        .trust()
        .entries()
        .map(|(c, o)| {
            serde_json::json!({
                "subject": c.subject.rfc4514,
                "sha256": tekser::asn1::hex(&c.fingerprint),
                "not_before": c.validity_text.0,
                "not_after": c.validity_text.1,
                "key": c.public_key.as_ref().map_or_else(|e| format!("unreadable: {e}"), |k| k.describe()),
                "source": o.source,
                "demo": o.demo,
                "expired": c.not_after < now,
            })
        })
        .collect();
    if json {
        println!("{}", serde_json::Value::Array(rows));
    } else {
        for r in &rows {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            println!("{}", cli::escape_text(&s("subject")));
            println!("  sha256     {}", s("sha256"));
            println!(
                "  valid      {} .. {}{}",
                s("not_before"),
                s("not_after"),
                if r["expired"].as_bool() == Some(true) {
                    "  (expired)"
                } else {
                    ""
                }
            );
            println!("  key        {}", s("key"));
            println!(
                "  from       {}{}",
                s("source"),
                if r["demo"].as_bool() == Some(true) {
                    "  (DEMO: private key public)"
                } else {
                    ""
                }
            );
        }
    }
    Ok(0)
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TEKSER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if json {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

fn run(cli: Cli) -> Result<u8, Fail> {
    match cli.command {
        Command::Serve {
            config,
            listen,
            demo,
            common,
        } => serve(config.as_deref(), listen, demo, &common),
        Command::Trust(TrustCommand::List {
            json,
            trust,
            config,
        }) => trust_list(config.as_deref(), trust, json),
        Command::Verify(VerifyCommand::Cms {
            signature,
            content,
            common,
        }) => {
            let config = load(&common)?;
            let limits = *config.verifier.limits();
            let sig = read_input(&signature, limits.max_input_bytes)?;
            let content = content
                .map(|c| read_input(&c, limits.max_content_bytes))
                .transpose()?;
            let v = config.verifier.verify_cms_online(
                &sig,
                content.as_deref(),
                &config.request,
                config.fetcher.as_ref(),
            );
            Ok(emit(&v, common.json))
        }
        Command::Verify(VerifyCommand::Pdf { file, common }) => {
            let config = load(&common)?;
            let input = read_input(&file, config.verifier.limits().max_input_bytes)?;
            let v =
                config
                    .verifier
                    .verify_pdf_online(&input, &config.request, config.fetcher.as_ref());
            Ok(emit(&v, common.json))
        }
        Command::Verify(VerifyCommand::Xml { file, common }) => {
            let config = load(&common)?;
            let input = read_input(&file, config.verifier.limits().max_input_bytes)?;
            let v =
                config
                    .verifier
                    .verify_xml_online(&input, &config.request, config.fetcher.as_ref());
            Ok(emit(&v, common.json))
        }
        Command::Verify(VerifyCommand::Barcode {
            files,
            image,
            content,
            common,
        }) => {
            let config = load(&common)?;
            let limits = *config.verifier.limits();
            if !image.is_empty() {
                let images = image
                    .iter()
                    .map(|f| read_input(f, limits.max_input_bytes))
                    .collect::<Result<Vec<_>, _>>()?;
                let content = content
                    .map(|c| read_input(&c, limits.max_content_bytes))
                    .transpose()?;
                let refs: Vec<&[u8]> = images.iter().map(Vec::as_slice).collect();
                let v = config.verifier.verify_barcode_images_online(
                    &refs,
                    content.as_deref(),
                    &config.request,
                    config.fetcher.as_ref(),
                );
                return Ok(emit(&v, common.json));
            }
            let mut payloads: Vec<Vec<u8>> = Vec::new();
            for f in &files {
                if f.as_os_str() == "-" {
                    payloads.extend(stdin_lines(limits.max_barcode_bytes)?);
                } else {
                    payloads.push(read_input(f, limits.max_barcode_bytes)?);
                }
            }
            let content = content
                .map(|c| read_input(&c, limits.max_content_bytes))
                .transpose()?;
            let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            let v = config.verifier.verify_barcodes_online(
                &refs,
                content.as_deref(),
                &config.request,
                config.fetcher.as_ref(),
            );
            Ok(emit(&v, common.json))
        }
        Command::Verify(VerifyCommand::Chain {
            cert,
            max_depth,
            policy,
            common,
        }) => {
            let raw = RawConfig {
                certificate_policy: policy.settings(),
                ..RawConfig::default()
            };
            let config = load_with(&common, raw)?;
            let input = read_input(&cert, config.verifier.limits().max_input_bytes)?;
            let v = config.verifier.verify_chain_online(
                &input,
                max_depth,
                &config.request,
                config.fetcher.as_ref(),
            );
            Ok(emit(&v, common.json))
        }
    }
}
