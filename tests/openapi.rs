//! docs/openapi.yaml against real validators and a real server: the document validates as
//! OpenAPI 3.1 (openapi-spec-validator), every response the requests below receive validates
//! against the schema the document gives for its path, method, status and media type (JSON
//! Schema 2020-12, jsonschema), every status answered is documented, and every problem and error
//! code literal in src/ is in the document's enums. The checks run in tests/openapi_check.py;
//! .ci/run installs its two PyPI packages. A missing validator fails the test, it never skips.

mod support;

use base64::Engine;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::*;

/// Responses to check, in the shape openapi_check.py reads.
#[derive(Default)]
struct Records(Vec<Value>);

impl Records {
    /// Records `r` as the answer to `method path` (one record per NDJSON line).
    fn add(&mut self, path: &str, method: &str, r: &Reply) {
        let media = r
            .content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let bodies: Vec<Value> = match media.as_str() {
            "application/x-ndjson" => r
                .body
                .lines()
                .map(|l| serde_json::from_str(l).expect("NDJSON line"))
                .collect(),
            "application/json" | "application/problem+json" => vec![r.json()],
            _ => vec![Value::String(r.body.clone())],
        };
        for body in bodies {
            self.0.push(json!({
                "path": path, "method": method, "status": r.status, "media": media, "body": body,
            }));
        }
    }

    /// A body the checker must refuse (proves the check can fail).
    fn add_invalid(&mut self, path: &str, method: &str, status: u16, body: Value, why: &str) {
        self.0.push(json!({
            "path": path, "method": method, "status": status, "media": "application/json",
            "body": body, "expect_invalid": true, "why": why,
        }));
    }
}

/// Runs the checker; panics with its output unless it passed.
fn run_checker(records: Option<&Records>) -> String {
    // One folder per call: the tests run in parallel in one process.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tekser-openapi-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(root().join("tests/openapi_check.py"))
        .arg(root().join("docs/openapi.yaml"));
    if let Some(r) = records {
        let file = dir.join("responses.json");
        std::fs::write(&file, Value::Array(r.0.clone()).to_string()).expect("write records");
        cmd.arg(&file).arg(root().join("src"));
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("python3 is needed for the OpenAPI checks (.ci/run installs it): {e}")
    });
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("ModuleNotFoundError"),
        "the OpenAPI validators are missing: pip install openapi-spec-validator jsonschema (.ci/run does)\n{text}"
    );
    assert!(out.status.success(), "OpenAPI check failed:\n{text}");
    text
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let out = run_checker(None);
    assert!(out.contains("valid OpenAPI 3.1"), "{out}");
}

fn rd(p: &str) -> Vec<u8> {
    std::fs::read(fixture(p)).expect("fixture")
}

#[test]
fn responses_match_the_openapi_document() {
    let mut rec = Records::default();
    let s = TestServer::start(|raw| {
        raw.server.max_body_bytes = 64 << 10;
        raw.server.admin_token = Some("0123456789abcdef0123".into());
    });
    for f in [
        "cms/rsa-attached.p7s",
        "cms/rsa-expired.p7s",
        "cms/rsa-detached.p7s",
        "cms/other-root.p7s",
        "cms/content.txt",
        "cms/rsa-two-signers.p7s",
    ] {
        let r = s.call(
            "POST",
            "/v1/verify",
            Some("application/pkcs7-signature"),
            &rd(f),
        );
        rec.add("/v1/verify", "post", &r);
    }
    for (ct, f) in [
        ("application/xml", "barcode/egov-rsa/document.xml"),
        ("text/plain", "barcode/egov-rsa/all.txt"),
        ("text/plain", "barcode/ddc-rsa/all.txt"),
        ("text/plain", "cms/content.txt"),
        ("application/pdf", "pdf/two-signatures.pdf"),
        ("application/pdf", "pdf/attack-isa-content.pdf"),
    ] {
        let r = s.call("POST", "/v1/verify?revocation=off", Some(ct), &rd(f));
        assert_eq!(r.status, 200, "{f}: {}", r.body);
        rec.add("/v1/verify", "post", &r);
    }
    // Every error status a client can provoke, each a problem document with a documented code.
    let mut statuses = std::collections::BTreeSet::new();
    for (method, path, ct, body) in [
        (
            "POST",
            "/v1/verify",
            Some("application/json"),
            b"{oops".to_vec(),
        ),
        (
            "POST",
            "/v1/verify",
            Some("application/json"),
            b"{}".to_vec(),
        ),
        (
            "POST",
            "/v1/verify",
            Some("application/zip"),
            b"PK".to_vec(),
        ),
        ("POST", "/v1/verify", None, b"x".to_vec()),
        (
            "POST",
            "/v1/verify",
            Some("application/pdf"),
            vec![b'%'; 70 << 10],
        ),
        (
            "POST",
            "/v1/verify?at=never",
            Some("application/pdf"),
            b"%PDF".to_vec(),
        ),
        ("GET", "/v1/verify", None, Vec::new()),
        ("POST", "/healthz", Some("text/plain"), b"x".to_vec()),
        ("POST", "/version", Some("text/plain"), b"x".to_vec()),
        ("GET", "/nowhere", None, Vec::new()),
        (
            "POST",
            "/v1/verify/batch",
            Some("text/csv"),
            b"a,b".to_vec(),
        ),
        ("GET", "/admin/cache", None, Vec::new()),
        (
            "POST",
            "/v1/certificates/inspect",
            Some("application/x-pem-file"),
            b"nope".to_vec(),
        ),
    ] {
        let r = s.call(method, path, ct, &body);
        assert!(r.status >= 400, "{method} {path}: {}", r.status);
        assert_eq!(r.content_type, "application/problem+json");
        statuses.insert(r.status);
        rec.add(
            path.split('?').next().unwrap_or(path),
            &method.to_lowercase(),
            &r,
        );
    }
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        [400, 401, 404, 405, 413, 415, 422],
        "each client error status is exercised"
    );

    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let batch = format!(
        "{}\n{}\nnot json\n{}\n",
        json!({"id": 1, "cms": b64(&rd("cms/rsa-attached.p7s"))}),
        json!({"id": "x", "cms": b64(&rd("cms/rsa-expired.p7s"))}),
        json!({"id": 3})
    );
    let r = s.call(
        "POST",
        "/v1/verify/batch",
        Some("application/x-ndjson"),
        batch.as_bytes(),
    );
    rec.add("/v1/verify/batch", "post", &r);
    let r = s.call(
        "POST",
        "/v1/certificates/inspect",
        Some("application/x-pem-file"),
        &rd("pki/ec-leaf.crt"),
    );
    rec.add("/v1/certificates/inspect", "post", &r);
    for p in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/version",
        "/openapi.yaml",
    ] {
        let r = s.call("GET", p, None, b"");
        assert_eq!(r.status, 200, "{p}");
        rec.add(p, "get", &r);
    }
    let r = s.call_with(
        "GET",
        "/admin/cache",
        None,
        b"",
        &[("Authorization", "Bearer 0123456789abcdef0123")],
    );
    assert_eq!(r.status, 200);
    rec.add("/admin/cache", "get", &r);
    let r = s.call_with(
        "POST",
        "/admin/trust/reload",
        None,
        b"",
        &[("Authorization", "Bearer 0123456789abcdef0123")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    rec.add("/admin/trust/reload", "post", &r);

    // The served document is the file.
    let served = s.call("GET", "/openapi.yaml", None, b"");
    assert_eq!(served.content_type, "application/yaml");
    assert_eq!(
        served.body,
        std::fs::read_to_string(root().join("docs/openapi.yaml")).expect("openapi.yaml")
    );

    // The checker must refuse what the document forbids.
    let good = s
        .call(
            "POST",
            "/v1/verify",
            Some("application/pkcs7-signature"),
            &rd("cms/rsa-attached.p7s"),
        )
        .json();
    type Mutation = (&'static str, fn(&mut Value));
    let mutations: [Mutation; 5] = [
        ("enum", |v| v["indication"] = "MAYBE".into()),
        ("additionalProperties", |v| v["surprise"] = 1.into()),
        ("type", |v| {
            v["signatures"][0]["chain"][0]["trust_anchor"] = "yes".into()
        }),
        ("required", |v| {
            v["signatures"][0]
                .as_object_mut()
                .map(|o| o.remove("revocation"));
        }),
        ("error code enum", |v| {
            v["errors"] = json!([{"code": "made-up", "message": "x"}])
        }),
    ];
    for (why, mutate) in mutations {
        let mut bad = good.clone();
        mutate(&mut bad);
        rec.add_invalid("/v1/verify", "post", 200, bad, why);
    }

    // 503: /readyz and /v1/verify while the server drains (a request still in flight).
    drop(s);
    let mut s = TestServer::start(|_| {});
    let sig = rd("cms/rsa-attached.p7s");
    let mut c = TcpStream::connect(s.addr).expect("connect");
    let head = format!(
        "POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkcs7-signature\r\nContent-Length: {}\r\n\r\n",
        sig.len()
    );
    c.write_all(head.as_bytes()).expect("head");
    c.write_all(&sig[..100]).expect("part");
    std::thread::sleep(Duration::from_millis(200));
    s.shutdown();
    std::thread::sleep(Duration::from_millis(200));
    for (m, p) in [("get", "/readyz"), ("post", "/v1/verify")] {
        let r = s.call(
            &m.to_uppercase(),
            p,
            Some("application/pkcs7-signature"),
            &sig,
        );
        assert_eq!(r.status, 503, "{p} while draining: {}", r.body);
        rec.add(p, m, &r);
    }
    c.write_all(&sig[100..]).expect("rest");
    let mut buf = String::new();
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = c.read_to_string(&mut buf);
    assert!(buf.starts_with("HTTP/1.1 200"), "{buf}");
    s.join();

    let out = run_checker(Some(&rec));
    println!("{out}");
    assert!(
        out.contains(&format!("{} responses checked", rec.0.len())),
        "{out}"
    );
}
