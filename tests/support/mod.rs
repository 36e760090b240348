//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use tekser::config::RawConfig;
use tekser::verify::Verifier;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/<rel>`
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// `../shared/testdata/<rel>`, or None (with a loud message) when the shared folder is absent.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = root().join("..").join("shared").join("testdata").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (../shared/testdata is not laid out here)",
            p.display()
        );
        None
    }
}

/// A verifier trusting `trust`, with `intermediates`, at `at`.
pub fn verifier(trust: &[PathBuf], intermediates: &[PathBuf], allow_sha1: bool) -> Verifier {
    RawConfig {
        trust: trust.to_vec(),
        intermediates: intermediates.to_vec(),
        danger_allow_sha1: allow_sha1,
        ..RawConfig::default()
    }
    .validate()
    .expect("test configuration loads")
    .verifier
}

/// Runs the tekser binary; returns (exit code, stdout, stderr).
pub fn tekser(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tekser"))
        .args(args)
        .output()
        .expect("tekser runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Path as &str for command lines.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
