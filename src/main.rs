//! The `tekser` binary: parse the command line, load the configuration, run, map the outcome to
//! an exit status (CONTRACT.md: 0 passed, 1 failed, 2 indeterminate, 64 usage, 66 missing input,
//! 70 internal error).

mod batch;
mod cli;
mod render;

use clap::Parser;
use cli::{Cli, Command, Common, TrustCommand, VerifyArgs, VerifyCommand};
use std::path::Path;
use std::process::ExitCode;
use tekser::config::{ConfigError, RawConfig};
use tekser::verdict::Verdict;
use tekser::verify::Input;

const EXIT_USAGE: u8 = 64;
const EXIT_UNAVAILABLE: u8 = 69;
const EXIT_NO_INPUT: u8 = 66;
const EXIT_INTERNAL: u8 = 70;

/// A failure before a verdict exists.
pub(crate) enum Fail {
    Usage(String),
    NoInput(String),
    /// Already reported through the log (the server, once logging is set up, so that JSON logs
    /// stay one object per line); the exit status.
    Logged(u8),
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
        Ok(Err(Fail::Logged(code))) => ExitCode::from(code),
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
    if p.as_os_str() == "-" {
        return read_stdin(limit);
    }
    tekser::input::read_bounded(p, limit).map_err(|e| match e {
        ReadError::Io { path, source } => Fail::NoInput(format!("{}: {source}", path.display())),
        other => Fail::Usage(other.to_string()),
    })
}

/// Set once stdin has been read: a second `-` would silently get nothing.
static STDIN_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn take_stdin() -> Result<(), Fail> {
    if STDIN_TAKEN.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return Err(Fail::Usage(
            "only one input can come from stdin (\"-\")".to_owned(),
        ));
    }
    Ok(())
}

/// `-` as an input file: stdin, read to at most `limit` bytes (#16: "`-` reads stdin
/// everywhere").
fn read_stdin(limit: usize) -> Result<Vec<u8>, Fail> {
    use std::io::Read;
    take_stdin()?;
    let mut buf = Vec::new();
    std::io::stdin()
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Fail::NoInput(format!("stdin: {e}")))?;
    if buf.len() > limit {
        return Err(Fail::Usage(format!(
            "stdin: larger than the limit of {limit} bytes"
        )));
    }
    Ok(buf)
}

/// Non-empty lines of stdin, one payload each, reading at most `limit` bytes in all.
fn stdin_lines(limit: usize) -> Result<Vec<Vec<u8>>, Fail> {
    Ok(tekser::formats::barcode::split_lines(&read_stdin(limit)?))
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
    if let Some(at) = &common.at {
        raw.at = Some(at_arg(at));
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

/// `--at 2025-06-01` (a date alone) is midnight UTC of that day; anything else is passed on
/// as written (RFC 3339, checked by the configuration).
fn at_arg(at: &str) -> String {
    let b = at.as_bytes();
    let date_only = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if date_only {
        format!("{at}T00:00:00Z")
    } else {
        at.to_owned()
    }
}

/// What `tekser verify` command reads an input of this type, for messages.
fn command_for(d: tekser::detect::Detected) -> Option<&'static str> {
    use tekser::detect::Detected as D;
    match d {
        D::Pdf => Some("tekser verify pdf"),
        D::Cms(_) => Some("tekser verify cms"),
        D::Xml => Some("tekser verify xml"),
        D::Certificate(_) => Some("tekser verify chain"),
        D::Barcode(_) => Some("tekser verify barcode"),
        D::Png | D::Jpeg => Some("tekser verify barcode --image"),
        _ => None,
    }
}

/// The input's type against the command's: another recognised type is a usage error naming
/// the right command (#16), not a FORMAT_FAILURE from the wrong parser. Unrecognised data goes
/// to the parser, which says what is wrong with it.
fn expect_kind(path: &Path, bytes: &[u8], want: &str) -> Result<(), Fail> {
    use tekser::detect::Detected as D;
    let d = tekser::detect::detect(bytes);
    let fits = match want {
        "cms" => matches!(d, D::Cms(_)),
        "pdf" => d == D::Pdf,
        "xml" => d == D::Xml,
        _ => true,
    };
    if fits || d == D::Unknown {
        return Ok(());
    }
    let name = if path.as_os_str() == "-" {
        "stdin".to_owned()
    } else {
        path.display().to_string()
    };
    let hint = match command_for(d) {
        Some(cmd) => format!(": use `{cmd} {}`", path.display()),
        None => String::new(),
    };
    Err(Fail::Usage(format!(
        "{name} is {}, not what `tekser verify {want}` reads{hint}",
        d.describe()
    )))
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

/// Prints the verdict (JSON or for people) and returns its exit status.
fn emit(v: &Verdict, json: bool) -> u8 {
    let text = if json {
        v.to_json() + "\n"
    } else {
        render::render(&v)
    };
    write_stdout(&text);
    v.exit_code()
}

/// Writes to stdout. A reader that went away (`tekser … | head -c1`) is not an error of
/// ours: the rest is dropped quietly (`println!` panicked on EPIPE, exit 70). Other write
/// errors are said on stderr.
pub(crate) fn write_stdout(text: &str) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
        Err(e) => {
            eprintln!("tekser: cannot write the output: {e}");
            false
        }
    }
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
    if common.json {
        // The server always answers JSON; a flag that changes nothing is refused, not ignored.
        return Err(Fail::Usage(
            "serve has no --json: responses are always JSON; for JSON logs set TEKSER_LOG_FORMAT=json or [server] log_format = \"json\"".into(),
        ));
    }
    let mut raw = server_raw(config_file)?;
    apply_flags(&mut raw, common);
    if listen.is_some() {
        raw.listen = listen;
    }
    raw.demo |= demo;
    let config = raw.clone().validate().map_err(config_error)?;
    tekser::http::logging::init(
        config.server.json_logs,
        std::env::var(tekser::http::logging::FILTER_VAR)
            .ok()
            .as_deref(),
    )
    .map_err(|e| Fail::Usage(e.to_string()))?;
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.server.io_threads)
        .thread_name("tekser-io")
        .enable_all()
        .build()
        .map_err(|e| Fail::Usage(format!("cannot start the async runtime: {e}")))?;
    let cfg = config.server.clone();
    runtime.block_on(async move {
        // A busy or forbidden address is the environment's fault, not the command line's:
        // EX_UNAVAILABLE (69), naming the address.
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| {
                tracing::error!(listen = %cfg.listen, error = %e, "cannot listen on {}: {e}", cfg.listen);
                Fail::Logged(EXIT_UNAVAILABLE)
            })?;
        let addr = listener.local_addr().map_err(|e| Fail::Usage(e.to_string()))?;
        // Every start-up line goes through the log, so that with JSON logs each is one object.
        tekser::http::logging::startup_summary(&config, addr);
        let state = tekser::http::AppState::new(raw, config).map_err(|e| Fail::Usage(e.to_string()))?;
        tekser::http::serve(state, listener, shutdown_signal())
            .await
            .map_err(|e| Fail::Usage(e.to_string()))?;
        tracing::info!("tekser stopped");
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
        Command::Verify(VerifyArgs {
            command: None,
            batch,
        }) => {
            let config = load(&batch.common)?;
            batch::run(&config, &batch)
        }
        Command::Verify(VerifyArgs {
            command: Some(command),
            ..
        }) => verify_one(command),
    }
}

fn verify_one(command: VerifyCommand) -> Result<u8, Fail> {
    match command {
        VerifyCommand::Cms {
            file,
            signature,
            content,
            common,
        } => {
            // clap requires one of the two and refuses both.
            let signature = file.or(signature).unwrap_or_default();
            let config = load(&common)?;
            let limits = *config.verifier.limits();
            let sig = read_input(&signature, limits.max_input_bytes)?;
            let content_path = content;
            let content = content_path
                .as_ref()
                .map(|c| read_input(c, limits.max_content_bytes))
                .transpose()?;
            // Swapped: the "content" is a CMS signature and the "signature" is not.
            if let (Some(cp), Some(c)) = (&content_path, &content) {
                let sig_kind = tekser::detect::detect(&sig);
                if !matches!(sig_kind, tekser::detect::Detected::Cms(_))
                    && matches!(tekser::detect::detect(c), tekser::detect::Detected::Cms(_))
                {
                    return Err(Fail::Usage(format!(
                        "--content {} is a CMS signature and {} is {}: swapped? use `tekser verify cms {} --content {}`",
                        cp.display(),
                        signature.display(),
                        sig_kind.describe(),
                        cp.display(),
                        signature.display()
                    )));
                }
            }
            expect_kind(&signature, &sig, "cms")?;
            let v = config.verifier.verify_online(
                &Input::Cms {
                    signature: &sig,
                    content: content.as_deref(),
                },
                &config.request,
                config.fetcher.as_ref(),
            );
            Ok(emit(&v, common.json))
        }
        VerifyCommand::Pdf { file, common } => {
            let config = load(&common)?;
            let input = read_input(&file, config.verifier.limits().max_input_bytes)?;
            expect_kind(&file, &input, "pdf")?;
            let v = config.verifier.verify_online(
                &Input::Pdf(&input),
                &config.request,
                config.fetcher.as_ref(),
            );
            Ok(emit(&v, common.json))
        }
        VerifyCommand::Xml { file, common } => {
            let config = load(&common)?;
            let input = read_input(&file, config.verifier.limits().max_input_bytes)?;
            expect_kind(&file, &input, "xml")?;
            let v = config.verifier.verify_online(
                &Input::Xml(&input),
                &config.request,
                config.fetcher.as_ref(),
            );
            Ok(emit(&v, common.json))
        }
        VerifyCommand::Barcode {
            files,
            image,
            content,
            common,
        } => {
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
                let v = config.verifier.verify_online(
                    &Input::BarcodeImages {
                        images: &refs,
                        content: content.as_deref(),
                    },
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
            let v = config.verifier.verify_online(
                &Input::Barcodes {
                    payloads: &refs,
                    content: content.as_deref(),
                },
                &config.request,
                config.fetcher.as_ref(),
            );
            Ok(emit(&v, common.json))
        }
        VerifyCommand::Chain {
            file,
            cert,
            max_depth,
            policy,
            common,
        } => {
            let cert = file.or(cert).unwrap_or_default();
            let raw = RawConfig {
                certificate_policy: policy.settings(),
                ..RawConfig::default()
            };
            let config = load_with(&common, raw)?;
            let input = read_input(&cert, config.verifier.limits().max_input_bytes)?;
            let v = config.verifier.verify_online(
                &Input::Chain {
                    certificates: &input,
                    max_depth,
                },
                &config.request,
                config.fetcher.as_ref(),
            );
            Ok(emit(&v, common.json))
        }
    }
}
