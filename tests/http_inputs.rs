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
    assert_eq!((p["id"].as_str(), p["format"].as_str()), (Some("p"), Some("pdf")));
    assert_eq!(p["sub_indication"], "FORMAT_FAILURE");
    let x = by_line(2);
    assert_eq!((x["id"].as_str(), x["format"].as_str()), (Some("x"), Some("xmldsig")));
    let c = by_line(3);
    assert_eq!((c["id"].as_str(), c["format"].as_str()), (Some("c"), Some("cms")));
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
