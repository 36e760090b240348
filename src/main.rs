//! The `tekser` binary: parse the command line, load the configuration, run, map the outcome to
//! an exit status (CONTRACT.md: 0 passed, 1 failed, 2 indeterminate, 64 usage, 66 missing input,
//! 70 internal error).

mod cli;

use clap::Parser;
use cli::{Cli, Command, Common, VerifyCommand};
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
    let mut raw = RawConfig::default();
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

fn serve(config_file: Option<&Path>, listen: Option<String>, common: &Common) -> Result<u8, Fail> {
    let mut raw = match config_file {
        Some(p) => RawConfig::from_file(p).map_err(config_error)?,
        None => RawConfig::default(),
    };
    raw.apply_env(|k| std::env::var(k).ok())
        .map_err(config_error)?;
    apply_flags(&mut raw, common);
    if listen.is_some() {
        raw.listen = listen;
    }
    raw.demo_trust_if_empty = true;
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
        if demo {
            eprintln!("demo trust store in use. Try, from the repository root:");
            eprintln!(
                "  curl -s -H 'Content-Type: application/pkcs7-signature' --data-binary @fixtures/cms/rsa-attached.p7s {scheme}://{addr}/v1/verify"
            );
        }
        tekser::http::serve(state, listener, shutdown_signal())
            .await
            .map_err(|e| Fail::Usage(e.to_string()))?;
        eprintln!("tekser stopped");
        Ok::<u8, Fail>(0)
    })
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
            common,
        } => serve(config.as_deref(), listen, &common),
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
            common,
        }) => {
            let config = load(&common)?;
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
