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

fn read_input(p: &Path, limit: usize) -> Result<Vec<u8>, Fail> {
    let meta = std::fs::metadata(p).map_err(|e| Fail::NoInput(format!("{}: {e}", p.display())))?;
    if meta.len() > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(Fail::Usage(format!(
            "{}: larger than the input limit of {limit} bytes",
            p.display()
        )));
    }
    std::fs::read(p).map_err(|e| Fail::NoInput(format!("{}: {e}", p.display())))
}

fn load(common: &Common) -> Result<tekser::config::Config, Fail> {
    let raw = RawConfig {
        trust: common.trust.clone(),
        intermediates: common.intermediate.clone(),
        crls: common.crl.clone(),
        at: common.at.clone(),
        revocation: common.revocation.clone(),
        danger_allow_sha1: common.danger_allow_sha1,
        ..RawConfig::default()
    };
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

fn run(cli: Cli) -> Result<u8, Fail> {
    match cli.command {
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
            let v = config
                .verifier
                .verify_cms(&sig, content.as_deref(), &config.request);
            Ok(emit(&v, common.json))
        }
        Command::Verify(VerifyCommand::Chain {
            cert,
            max_depth,
            common,
        }) => {
            let config = load(&common)?;
            let input = read_input(&cert, config.verifier.limits().max_input_bytes)?;
            let v = config
                .verifier
                .verify_chain(&input, max_depth, &config.request);
            Ok(emit(&v, common.json))
        }
    }
}
