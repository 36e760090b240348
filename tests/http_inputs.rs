//! HTTP inputs (issues #15, #16) through real sockets: batch failures in the input's own format
//! with their line numbers, inputs recognised by their bytes (a PDF sent as CMS or XML is named
//! and pointed to the right Content-Type), JSON bodies that accept what raw bodies accept, empty
//! bodies, and the accepted types listed on a 415.

mod support;

use base64::Engine;
use serde_json::Value;
use support::*;

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).expect("fixture")
}

fn ndjson(r: &Reply) -> Vec<Value> {
    r.body
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON line"))
        .collect()
}

/// Issue #15: "Batch failures report the input's own format (today every batch failure says
/// `cms`)"; issue #16: "batch lines without `id` get their line number in the answer".
#[test]
fn batch_failures_keep_their_format_and_line_number() {
    let s = TestServer::start(|_| {});
    let good = b64(&read("cms/rsa-attached.p7s"));
    let body = [
        serde_json::json!({"id": "p", "pdf": "%PDF-1.7 is not base64"}).to_string(),
        serde_json::json!({"id": "x", "xml": 5}).to_string(),
        serde_json::json!({"id": "c", "cms": "not base64!"}).to_string(),
        // A line without an id: the answer carries its line number.
        serde_json::json!({"pdf": b64(b"%PDF-1.7\n%%EOF\n")}).to_string(),
        String::new(),
        serde_json::json!({"cms": good}).to_string(),
    ]
    .join("\n");
    let r = s.call(
        "POST",
        "/v1/verify/batch?revocation=off",
        Some("application/x-ndjson"),
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let lines = ndjson(&r);
    assert_eq!(lines.len(), 5, "{}", r.body);
    let by_line = |n: u64| {
        lines
            .iter()
            .find(|l| l["line"] == n)
            .unwrap_or_else(|| panic!("no answer for line {n}: {}", r.body))
    };
    let p = by_line(1);
    assert_eq!(
        (p["id"].as_str(), p["format"].as_str()),
        (Some("p"), Some("pdf"))
    );
    assert_eq!(p["sub_indication"], "FORMAT_FAILURE");
    let x = by_line(2);
    assert_eq!(
        (x["id"].as_str(), x["format"].as_str()),
        (Some("x"), Some("xmldsig"))
    );
    let c = by_line(3);
    assert_eq!(
        (c["id"].as_str(), c["format"].as_str()),
        (Some("c"), Some("cms"))
    );
    let unnamed = by_line(4);
    assert!(unnamed["id"].is_null());
    assert_eq!(unnamed["format"], "pdf");
    assert_eq!(unnamed["indication"], "TOTAL_FAILED");
    // Line 5 is blank (skipped); line 6 verifies.
    let ok = by_line(6);
    assert_eq!(ok["indication"], "TOTAL_PASSED", "{ok}");
    // The id still comes first on every line (README: "with the request's `id` first").
    assert!(r.body.lines().all(|l| l.starts_with("{\"id\":")));
}

fn assert_problem(r: &Reply, status: u16, code: &str, needles: &[&str]) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.content_type, "application/problem+json", "{}", r.body);
    let j = r.json();
    assert_eq!(j["code"], code, "{}", r.body);
    let detail = j["detail"].as_str().unwrap_or("");
    for n in needles {
        assert!(detail.contains(n), "{n:?} not in {detail:?}");
    }
}

/// Issue #16: "a PDF given to `verify cms` or sent as `application/octet-stream` ... get HTTP
/// 415/422 that names the right command or Content-Type".
#[test]
fn a_document_sent_as_another_format_is_named_with_its_content_type() {
    let s = TestServer::start(|_| {});
    let pdf = read("pdf/signed.pdf");
    let cms = read("cms/rsa-attached.p7s");
    // (sent as, body, what the 415's detail must say)
    let cases: [(&str, Vec<u8>, &[&str]); 7] = [
        (
            "application/pkcs7-signature",
            pdf.clone(),
            &["is a PDF", "Content-Type: application/pdf"],
        ),
        (
            "application/octet-stream",
            pdf.clone(),
            &["is a PDF", "Content-Type: application/pdf"],
        ),
        (
            "application/xml",
            pdf.clone(),
            &["an XML document", "application/pdf"],
        ),
        (
            "application/pdf",
            cms.clone(),
            &["application/pkcs7-signature"],
        ),
        ("text/plain", read("pdf/unsigned.pdf"), &["application/pdf"]),
        (
            "application/pkcs7-signature",
            read("barcode/egov-rsa/part-1.png"),
            &["image/png"],
        ),
        // A certificate is pointed to the route that checks certificates.
        (
            "application/pkcs7-signature",
            read("pki/rsa-leaf.crt"),
            &["/v1/certificates/inspect"],
        ),
    ];
    for (ct, body, needles) in &cases {
        let r = s.call("POST", "/v1/verify", Some(ct), body);
        assert_problem(&r, 415, "format-mismatch", needles);
    }
    let multipart = |body: &[u8]| {
        s.call(
            "POST",
            "/v1/verify",
            Some("multipart/form-data; boundary=B"),
            body,
        )
    };
    // Detached CMS with the two files swapped.
    let detached = read("cms/rsa-detached.p7s");
    let r = multipart(&form(&[("signature", &pdf), ("content", &detached)]));
    assert_problem(&r, 422, "format-mismatch", &["signature", "swapped"]);
    // Attacker finding: a part under another name (here `Content`) was ignored, and an attached
    // CMS passed while the client believed its content had been checked too.
    let r = multipart(&form(&[("signature", &cms), ("Content", b"another text")]));
    assert_problem(&r, 400, "bad-request", &["unknown form part", "Content"]);
    // A JSON field holding another format names the right field.
    let j = serde_json::json!({"cms": b64(&pdf)}).to_string();
    let r = s.call("POST", "/v1/verify", Some("application/json"), j.as_bytes());
    assert_problem(&r, 422, "format-mismatch", &["\"pdf\" field"]);
    // Bytes nobody recognises are still verified, and fail as the format they were sent as.
    let r = s.call("POST", "/v1/verify", Some("application/pdf"), b"hello");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["format"], "pdf");
    assert_eq!(r.json()["sub_indication"], "FORMAT_FAILURE");
}

/// Issue #16: "JSON bodies accept what raw bodies accept (PEM, base64url)".
#[test]
fn json_fields_accept_pem_base64url_and_xml_text() {
    let s = TestServer::start(|_| {});
    let pem = String::from_utf8(read("cms/rsa-attached.pem")).expect("PEM is text");
    let der = read("cms/rsa-attached.p7s");
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&der);
    for cms in [pem, url, b64(&der)] {
        let j = serde_json::json!({"cms": cms}).to_string();
        let r = s.call("POST", "/v1/verify", Some("application/json"), j.as_bytes());
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["indication"], "TOTAL_PASSED", "{}", r.body);
    }
    let xml = String::from_utf8(read("barcode/egov-rsa/document.xml")).expect("XML is text");
    let j = serde_json::json!({"xml": xml}).to_string();
    let r = s.call(
        "POST",
        "/v1/verify?revocation=off",
        Some("application/json"),
        j.as_bytes(),
    );
    assert_eq!(r.json()["format"], "xmldsig", "{}", r.body);
    assert_eq!(r.json()["indication"], "TOTAL_PASSED", "{}", r.body);
    // Inspect takes a PEM certificate in its JSON too.
    let cert = String::from_utf8(read("pki/rsa-leaf.crt")).expect("PEM");
    let j = serde_json::json!({"cert": cert}).to_string();
    let r = s.call(
        "POST",
        "/v1/certificates/inspect",
        Some("application/json"),
        j.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["certificate"]["sha256"].is_string(), "{}", r.body);
}

/// Issue #16: two documents in one JSON body and empty bodies are 400; a wrong Content-Type
/// answer lists the accepted types.
#[test]
fn ambiguous_empty_and_untyped_bodies_are_refused_with_the_reason() {
    let s = TestServer::start(|_| {});
    let der = b64(&read("cms/rsa-attached.p7s"));
    let pdf = b64(&read("pdf/signed.pdf"));
    let j = serde_json::json!({"cms": der, "pdf": pdf}).to_string();
    let r = s.call("POST", "/v1/verify", Some("application/json"), j.as_bytes());
    assert_problem(&r, 400, "bad-request", &["more than one"]);
    for ct in [
        "application/pkcs7-signature",
        "application/pdf",
        "text/plain",
        "application/xml",
    ] {
        let r = s.call("POST", "/v1/verify", Some(ct), b"");
        assert_problem(&r, 400, "bad-request", &["empty"]);
    }
    let r = s.call(
        "POST",
        "/v1/verify/batch",
        Some("application/x-ndjson"),
        b"\n",
    );
    assert_problem(&r, 400, "bad-request", &["empty"]);
    let r = s.call("POST", "/v1/verify", Some("application/zip"), b"PK");
    assert_problem(
        &r,
        415,
        "unsupported-media-type",
        &[
            "application/zip",
            "application/pdf",
            "multipart/form-data",
            "text/plain",
        ],
    );
    let r = s.call("POST", "/v1/verify", None, b"x");
    assert_problem(
        &r,
        415,
        "unsupported-media-type",
        &["application/pkcs7-signature"],
    );
    let r = s.call("POST", "/v1/verify/batch", Some("text/csv"), b"a,b");
    assert_problem(&r, 415, "unsupported-media-type", &["application/x-ndjson"]);
}

/// Issue #16: "HTTP/2 clients that send a body over the limit get the 413 (today curl sees a
/// stream error)": curl over h2c, with a declared length and streamed (chunked), and over
/// HTTP/1.1 for comparison.
#[test]
fn http2_clients_over_the_body_limit_read_the_413() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("curl is required for this test (.ci/run installs it)");
    }
    let s = TestServer::start(|raw| raw.server.max_body_bytes = 65536);
    let dir = std::env::temp_dir().join(format!("tekser-h2-413-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let big = dir.join("big.bin");
    // 5 MB: far past the limit and past h2's initial flow-control windows.
    std::fs::write(&big, vec![b'x'; 5_000_000]).expect("write");
    let url = format!("{}/v1/verify", s.base);
    let at_big = format!("@{}", big.display());
    let cases: [&[&str]; 3] = [
        &["--http2-prior-knowledge", "--data-binary", &at_big],
        &[
            "--http2-prior-knowledge",
            "-H",
            "transfer-encoding: chunked",
            "-X",
            "POST",
            "-T",
            big.to_str().expect("utf-8 path"),
        ],
        &["--http1.1", "--data-binary", &at_big],
    ];
    for args in cases {
        let start = std::time::Instant::now();
        let out = std::process::Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "20",
                "-w",
                "\n%{http_code} %{http_version}",
            ])
            .args(["-H", "content-type: application/pdf"])
            .args(args)
            .arg(&url)
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout);
        println!(
            "{args:?}: {:?} {}",
            start.elapsed(),
            text.lines().last().unwrap_or("")
        );
        assert!(
            out.status.success(),
            "{args:?}: curl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("\"body-too-large\""), "{args:?}: {text}");
        let last = text.lines().last().unwrap_or("");
        assert!(last.starts_with("413 "), "{args:?}: {last}");
        if args.contains(&"--http2-prior-knowledge") {
            assert_eq!(last, "413 2", "{args:?}");
        }
    }
    // The connection's other streams and later requests are unaffected.
    let r = s.call(
        "POST",
        "/v1/verify",
        Some("application/pkcs7-signature"),
        &read("cms/rsa-attached.p7s"),
    );
    assert_eq!(r.json()["indication"], "TOTAL_PASSED");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two Content-Type headers: a proxy in front may have judged the request by the other one, so
/// which applies is not left to the first-wins rule of the header map: 400.
#[test]
fn two_content_type_headers_are_refused() {
    use std::io::{Read, Write};
    let server = TestServer::start(|_| {});
    let doc = read("cms/rsa-attached.p7s");
    let mut s = std::net::TcpStream::connect(server.addr).expect("connect");
    let head = format!(
        "POST /v1/verify HTTP/1.1\r\nHost: t\r\nContent-Type: application/pkcs7-signature\r\nContent-Type: application/pdf\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        doc.len()
    );
    s.write_all(head.as_bytes()).expect("head");
    s.write_all(&doc).expect("body");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(out.contains("more than one Content-Type"), "{out}");
    // One header: verified as before.
    let r = server.call(
        "POST",
        "/v1/verify",
        Some("application/pkcs7-signature"),
        &doc,
    );
    assert_eq!(r.status, 200);
}

/// Query options given twice, or with a malformed %-escape, are refused: `revocation=require`
/// followed by `revocation=off` must not quietly run with `off`.
#[test]
fn ambiguous_or_malformed_query_options_are_refused() {
    let server = TestServer::start(|_| {});
    let doc = read("cms/rsa-attached.p7s");
    let ct = Some("application/pkcs7-signature");
    for q in [
        "?revocation=require&revocation=off",
        "?at=2025-06-01T00:00:00Z&at=2031-01-01T00:00:00Z",
        "?at=2025-06-01T00%3A00%3A00%zzZ",
        "?barcodes=%+f",
    ] {
        let r = server.call("POST", &format!("/v1/verify{q}"), ct, &doc);
        assert_problem(&r, 400, "bad-request", &[]);
    }
    let r = server.call("POST", "/v1/verify?revocation=off", ct, &doc);
    assert_eq!(r.status, 200, "{}", r.body);
}
