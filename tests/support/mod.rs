//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod loopback;
pub mod nginx;
pub mod pki;

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

/// Public conformance data made by other implementations, copied into `tests/data/` with its
/// provenance and licence (tests/data/README.md). Missing data fails the test.
pub fn testdata(rel: &str) -> PathBuf {
    let p = root().join("tests").join("data").join(rel);
    assert!(
        p.exists(),
        "{} is missing: the public conformance data lives in the repository (tests/data/README.md)",
        p.display()
    );
    p
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

/// Every error of a verdict, document-level and per signature, as "code: message; …" (for
/// asserting that a verdict names its problem).
pub fn error_text(v: &tekser::verdict::Verdict) -> String {
    v.errors
        .iter()
        .chain(v.signatures.iter().flat_map(|s| s.errors.iter()))
        .map(|e| format!("{}: {}", e.code, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Path as &str for command lines.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A `tekser serve` running in-process on an ephemeral loopback port, stopped on drop.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The socket address.
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server trusting the fixtures' roots; `tweak` adjusts the raw configuration.
    pub fn start(tweak: impl FnOnce(&mut RawConfig)) -> Self {
        let mut raw = RawConfig {
            trust: vec![fixture("pki/rsa-root.crt"), fixture("pki/ec-root.crt")],
            listen: Some("127.0.0.1:0".into()),
            at: Some("2025-06-01T00:00:00Z".into()),
            ..RawConfig::default()
        };
        tweak(&mut raw);
        let config = raw.clone().validate().expect("server config");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                // Named so a test can count the server's threads apart from its own.
                .thread_name("tekser-srv")
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(config.server.listen)
                    .await
                    .expect("bind");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                let state = tekser::http::AppState::new(raw, config).expect("state");
                tekser::http::serve(state, listener, async {
                    let _ = stop_rx.await;
                })
                .await
                .expect("serve");
            });
        });
        let addr = addr_rx.recv().expect("server address");
        Self {
            base: format!("http://{addr}"),
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Asks the server to shut down (as SIGTERM would); `join` waits for it.
    pub fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }

    /// Waits until the server has stopped.
    pub fn join(&mut self) {
        self.shutdown();
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread");
        }
    }

    /// One request; returns (status, content-type, retry-after, body).
    pub fn call(&self, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> Reply {
        self.call_with(method, path, content_type, body, &[])
    }

    /// One request with extra headers.
    pub fn call_with(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = ureq::request(method, &format!("{}{path}", self.base));
        if let Some(ct) = content_type {
            req = req.set("Content-Type", ct);
        }
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let res = if method == "GET" {
            req.call()
        } else {
            req.send_bytes(body)
        };
        let resp = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        Reply {
            status: resp.status(),
            content_type: resp.header("content-type").unwrap_or("").to_owned(),
            retry_after: resp.header("retry-after").map(str::to_owned),
            body: resp.into_string().expect("utf-8 body"),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.join();
    }
}

/// A response as the tests see it.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Content-Type.
    pub content_type: String,
    /// Retry-After, if any.
    pub retry_after: Option<String>,
    /// Body text.
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A multipart/form-data body with boundary `B` and the given `(name, data)` parts (send it as
/// `multipart/form-data; boundary=B`).
pub fn form(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, data) in parts {
        body.extend_from_slice(
            format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--B--\r\n");
    body
}
