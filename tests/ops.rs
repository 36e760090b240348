//! Operations through real sockets and the real binary: HEAD probes, /version, CORS off and on,
//! JSON logs (every stderr line one flat object; request and start-up fields), a bad TEKSER_LOG
//! and a busy port as errors, and the Prometheus metrics an operator scrapes.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

fn ureq_raw(method: &str, url: &str, headers: &[(&str, &str)]) -> ureq::Response {
    let mut r = ureq::request(method, url);
    for (k, v) in headers {
        r = r.set(k, v);
    }
    match r.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

#[test]
fn head_probes_and_version() {
    let s = TestServer::start(|_| {});
    for p in ["/healthz", "/readyz"] {
        let r = ureq_raw("HEAD", &format!("{}{p}", s.base), &[]);
        assert_eq!(r.status(), 200, "HEAD {p}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.into_string().expect("body"), "", "HEAD has no body");
    }
    let r = s.call("PUT", "/healthz", Some("text/plain"), b"x");
    assert_eq!(r.status, 405);
    let v = s.call("GET", "/version", None, b"").json();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert!(v["git_commit"].is_null() || v["git_commit"].is_string());
    assert!(v["build"]["target_os"].is_string());
}

#[test]
fn cors_is_off_by_default() {
    let s = TestServer::start(|_| {});
    let pre = ureq_raw(
        "OPTIONS",
        &format!("{}/v1/verify", s.base),
        &[
            ("Origin", "https://portal.example.kz"),
            ("Access-Control-Request-Method", "POST"),
        ],
    );
    assert_eq!(
        pre.status(),
        405,
        "no preflight answer without cors_origins"
    );
    assert!(pre.header("access-control-allow-origin").is_none());
    let r = ureq_raw(
        "GET",
        &format!("{}/healthz", s.base),
        &[("Origin", "https://portal.example.kz")],
    );
    assert!(r.header("access-control-allow-origin").is_none());
    assert!(r.header("vary").is_none());
}

#[test]
fn cors_allows_the_configured_origins_only() {
    let s = TestServer::start(|raw| {
        raw.server.cors_origins = vec!["https://portal.example.kz".into()];
    });
    let url = format!("{}/v1/verify", s.base);
    let pre = ureq_raw(
        "OPTIONS",
        &url,
        &[
            ("Origin", "https://portal.example.kz"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
    );
    assert_eq!(pre.status(), 204);
    assert_eq!(
        pre.header("access-control-allow-origin"),
        Some("https://portal.example.kz")
    );
    assert!(pre
        .header("access-control-allow-methods")
        .is_some_and(|m| m.contains("POST")));
    assert!(pre
        .header("access-control-allow-headers")
        .is_some_and(|m| m.contains("content-type")));
    // An origin not listed: answered, but without the grant, so the browser refuses.
    let other = ureq_raw(
        "OPTIONS",
        &url,
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
    );
    assert_eq!(other.status(), 204);
    assert!(other.header("access-control-allow-origin").is_none());
    // The actual request carries the grant and exposes x-request-id.
    let sig = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("fixture");
    let r = ureq::post(&url)
        .set("Origin", "https://portal.example.kz")
        .set("Content-Type", "application/pkcs7-signature")
        .send_bytes(&sig)
        .expect("verify");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://portal.example.kz")
    );
    assert!(r
        .header("access-control-expose-headers")
        .is_some_and(|h| h.contains("x-request-id")));
    assert_eq!(r.header("vary"), Some("origin"));
    // Origins are validated when the configuration is.
    for bad in [
        "portal.example.kz",
        "https://portal.example.kz/",
        "https://a, https://b",
    ] {
        let mut raw = tekser::config::RawConfig::default();
        raw.server.cors_origins = vec![bad.into()];
        let e = raw.validate().expect_err(bad);
        assert!(e.to_string().contains("cors_origins"), "{e}");
    }
}

/// `tekser serve` as a child process with JSON logs on an ephemeral port; stderr collected by a
/// thread, the address read from the start-up log.
struct Served {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
    base: String,
}

impl Served {
    fn start(env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tekser"));
        cmd.args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .env_remove("TEKSER_LOG")
            .env("TEKSER_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("tekser serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let mut s = Self {
            child,
            lines,
            seen: Vec::new(),
            base: String::new(),
        };
        let line = s.wait_for("\"tekser listening\"");
        let j: Value = serde_json::from_str(&line).expect("JSON line");
        s.base = format!("http://{}", j["listen"].as_str().expect("listen field"));
        s
    }

    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("no log line with {needle}; got:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// SIGTERM, then every stderr line until exit.
    fn stop(mut self) -> Vec<String> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "clean exit on SIGTERM");
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(l);
        }
        self.seen
    }
}

#[test]
fn json_logs_are_one_flat_object_a_line() {
    let s = Served::start(&[]);
    let sig = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("fixture");
    let r = ureq::post(&format!("{}/v1/verify", s.base))
        .set("Content-Type", "application/pkcs7-signature")
        .send_bytes(&sig)
        .expect("verify");
    assert_eq!(r.status(), 200);
    let _ = ureq::get(&format!("{}/nowhere", s.base)).call();
    let lines = s.stop();
    let objects: Vec<serde_json::Map<String, Value>> = lines
        .iter()
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(o)) => o,
            _ => panic!("a stderr line is not a JSON object: {l:?}"),
        })
        .collect();
    for o in &objects {
        assert!(
            o.values().all(|v| !v.is_object() && !v.is_array()),
            "nested fields: {o:?}"
        );
        assert!(
            o.contains_key("timestamp") && o.contains_key("level") && o.contains_key("message")
        );
    }
    let find = |msg: &str, pred: &dyn Fn(&serde_json::Map<String, Value>) -> bool| {
        objects
            .iter()
            .find(|o| o["message"] == msg && pred(o))
            .unwrap_or_else(|| panic!("no {msg:?} line in {lines:#?}"))
            .clone()
    };
    let verify = find("request", &|o| o["route"] == "/v1/verify");
    assert_eq!(verify["status"], 200);
    assert_eq!(verify["format"], "cms");
    assert_eq!(verify["indication"], "TOTAL_PASSED");
    assert_eq!(verify["bytes_in"], sig.len());
    assert!(verify["bytes_out"].as_u64().is_some_and(|n| n > 100));
    assert!(verify["duration_ms"].is_number());
    assert!(verify["client"]
        .as_str()
        .is_some_and(|c| c.starts_with("127.0.0.1:")));
    assert!(verify["request_id"].is_string());
    let missing = find("request", &|o| o["status"] == 404);
    assert_eq!(missing["problem"], "not-found");
    assert_eq!(missing["route"], "other");
    // The start-up summary: anchors by set, revocation mode, limits.
    let anchors = find("trust anchors", &|_| true);
    assert_eq!(anchors["trust_set"], "demo");
    assert_eq!(anchors["anchors"], 2);
    assert_eq!(find("revocation", &|_| true)["revocation"], "prefer");
    assert!(find("limits", &|_| true)["max_body_bytes"].is_number());
}

#[test]
fn a_bad_log_filter_and_a_busy_port_are_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_tekser"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("TEKSER_LOG", "tekser=loud")
        .output()
        .expect("tekser");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{err}");
    assert!(
        err.contains("TEKSER_LOG") && err.contains("tekser=loud"),
        "{err}"
    );

    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_tekser"))
        .args(["serve", "--demo", "--listen", &addr])
        .env("TEKSER_LOG_FORMAT", "json")
        .output()
        .expect("tekser");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "EX_UNAVAILABLE: {err}");
    assert!(err.contains(&addr), "names the address: {err}");
    for l in err.lines() {
        assert!(serde_json::from_str::<Value>(l).is_ok(), "not JSON: {l}");
    }
}

#[test]
fn metrics_an_operator_scrapes() {
    let s = TestServer::start(|raw| raw.server.admin_token = Some("0123456789abcdef0123".into()));
    let rd = |p: &str| std::fs::read(fixture(p)).expect("fixture");
    let ok = s.call(
        "POST",
        "/v1/verify",
        Some("application/pkcs7-signature"),
        &rd("cms/rsa-attached.p7s"),
    );
    assert_eq!(ok.status, 200);
    let expired = s.call(
        "POST",
        "/v1/verify",
        Some("application/pkcs7-signature"),
        &rd("cms/rsa-expired.p7s"),
    );
    let sub = expired.json()["sub_indication"]
        .as_str()
        .expect("sub")
        .to_owned();
    let xml = s.call(
        "POST",
        "/v1/verify?revocation=off",
        Some("application/xml"),
        &rd("barcode/egov-rsa/document.xml"),
    );
    assert_eq!(xml.json()["format"], "xmldsig");
    assert_eq!(s.call("GET", "/nowhere", None, b"").status, 404);
    let m = s.call("GET", "/metrics", None, b"").body;
    let value = |series: &str| -> f64 {
        m.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in:\n{m}"))
    };
    assert_eq!(
        value("tekser_http_requests_total{route=\"/v1/verify\",code=\"200\"}"),
        3.0
    );
    assert_eq!(
        value("tekser_http_requests_total{route=\"other\",code=\"404\"}"),
        1.0
    );
    // The verdict vocabulary of the JSON, format and sub-indication alike.
    assert_eq!(value("tekser_verdicts_total{format=\"cms\",indication=\"TOTAL_PASSED\",sub_indication=\"none\"}"), 1.0);
    assert_eq!(value(&format!("tekser_verdicts_total{{format=\"cms\",indication=\"INDETERMINATE\",sub_indication=\"{sub}\"}}")), 1.0);
    assert_eq!(value("tekser_verdicts_total{format=\"xmldsig\",indication=\"TOTAL_PASSED\",sub_indication=\"none\"}"), 1.0);
    assert_eq!(
        value("tekser_verification_seconds_count{format=\"xmldsig\"}"),
        1.0
    );
    // HTTP latency with queue wait: one observation per response, in the +Inf bucket.
    assert_eq!(
        value("tekser_http_request_duration_seconds_bucket{route=\"/v1/verify\",le=\"+Inf\"}"),
        3.0
    );
    assert!(value("tekser_http_request_duration_seconds_sum{route=\"/v1/verify\"}") > 0.0);
    // Process metrics from /proc.
    assert!(value("process_resident_memory_bytes") > 1e6);
    assert!(value("process_open_fds") >= 3.0);
    assert!(value("process_cpu_seconds_total") >= 0.0);
    assert!(value("process_start_time_seconds") > 1.7e9);
    assert!(m.contains(&format!(
        "tekser_build_info{{version=\"{}\"",
        env!("CARGO_PKG_VERSION")
    )));
    // The earliest trust-anchor expiry: the fixture roots' earliest notAfter.
    let earliest = value("tekser_trust_anchor_earliest_expiry_timestamp_seconds");
    let v = verifier(
        &[fixture("pki/rsa-root.crt"), fixture("pki/ec-root.crt")],
        &[],
        false,
    );
    let want = v
        .trust()
        .entries()
        .map(|(c, _)| c.not_after)
        .min()
        .expect("anchors");
    assert_eq!(earliest, want as f64);
    assert_eq!(value("tekser_trust_anchors"), 2.0);
    // Every metric has HELP and TYPE, and every series name is prefixed.
    for l in m.lines().filter(|l| !l.starts_with('#')) {
        assert!(l.starts_with("tekser_") || l.starts_with("process_"), "{l}");
        let name = l.split(['{', ' ']).next().unwrap_or("");
        let base = name
            .trim_end_matches("_bucket")
            .trim_end_matches("_sum")
            .trim_end_matches("_count");
        assert!(
            m.contains(&format!("# TYPE {name} ")) || m.contains(&format!("# TYPE {base} ")),
            "{name} has no TYPE"
        );
    }
    // /admin/cache lists every cache.
    let c = s
        .call_with(
            "GET",
            "/admin/cache",
            None,
            b"",
            &[("Authorization", "Bearer 0123456789abcdef0123")],
        )
        .json();
    for k in [
        "path_cache",
        "certificate_cache",
        "ocsp_cache",
        "crl_cache",
        "crl_signature_cache",
        "queue",
    ] {
        assert!(c[k].is_object(), "{k} missing: {c}");
    }
}

#[test]
fn serve_help_and_config_errors_through_the_binary() {
    let (code, out, _) = tekser(&["serve", "--help"]);
    assert_eq!(code, 0);
    for needle in [
        "--config",
        "TEKSER_LOG_FORMAT",
        "TEKSER_LOG ",
        "TEKSER_ADMIN_TOKEN",
        "tls_cert",
        "log_format",
        "admin_token",
        "cors_origins",
    ] {
        assert!(out.contains(needle), "serve --help lacks {needle}:\n{out}");
    }
    assert!(
        !out.contains("--json"),
        "serve lists a meaningless --json:\n{out}"
    );
    let (code, _, err) = tekser(&["serve", "--json"]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("log_format"), "{err}");

    let dir = std::env::temp_dir().join(format!("tekser-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let p = dir.join("bad.toml");
    std::fs::write(&p, "[revocation]\nocsp_nonce = true\n").expect("write");
    let (code, _, err) = tekser(&["serve", "--config", s(&p)]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("did you mean [revocation_options]"), "{err}");
}

/// The earliest cached-CRL expiry gauge equals the CRL's nextUpdate as OpenSSL reads it.
#[test]
fn crl_expiry_gauge_matches_openssl() {
    let crl = fixture("revocation/rsa-int-empty.crl");
    let out = Command::new("openssl")
        .args([
            "crl",
            "-inform",
            "DER",
            "-noout",
            "-nextupdate",
            "-in",
            s(&crl),
        ])
        .output()
        .expect("openssl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let when = text
        .trim()
        .strip_prefix("nextUpdate=")
        .expect("nextUpdate line")
        .to_owned();
    let out = Command::new("date")
        .args(["-u", "-d", &when, "+%s"])
        .output()
        .expect("date runs");
    let want: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("epoch");
    let srv = TestServer::start(|raw| raw.crls = vec![crl.clone()]);
    let m = srv.call("GET", "/metrics", None, b"").body;
    let got: f64 = m
        .lines()
        .find_map(|l| l.strip_prefix("tekser_crl_cache_earliest_next_update_timestamp_seconds "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no CRL expiry gauge:\n{m}"));
    assert_eq!(got, want, "{when}");
}
