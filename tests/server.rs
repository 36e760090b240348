//! `tekser serve` through real sockets with a real HTTP client (ureq; hyper's client for h2c):
//! every endpoint and input form, every error status, limits, slowloris, saturation, graceful
//! shutdown, batch ids, admin auth.

mod support;

use base64::Engine;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::*;

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).expect("fixture")
}

#[test]
fn verify_accepts_every_cms_input_form() {
    let s = TestServer::start(|_| {});
    let attached = read("cms/rsa-attached.p7s");
    for ct in [
        "application/pkcs7-signature",
        "application/octet-stream",
        "application/pkcs7-mime",
    ] {
        let r = s.call("POST", "/v1/verify", Some(ct), &attached);
        assert_eq!(r.status, 200, "{ct}: {}", r.body);
        assert_eq!(r.json()["indication"], "TOTAL_PASSED", "{ct}");
        assert!(r.content_type.starts_with("application/json"));
    }
    // PEM text works as the body too.
    let r = s.call(
        "POST",
        "/v1/verify",
        Some("application/pkcs7-signature"),
        &read("cms/rsa-attached.pem"),
    );
    assert_eq!(r.json()["indication"], "TOTAL_PASSED");

    // Detached: multipart with `signature` and `content` parts.
    let (sig, content) = (read("cms/rsa-detached.p7s"), read("cms/content.txt"));
    let mut body = Vec::new();
    body.extend_from_slice(b"--BOUNDARY42\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"s.p7s\"\r\nContent-Type: application/pkcs7-signature\r\n\r\n");
    body.extend_from_slice(&sig);
    body.extend_from_slice(
        b"\r\n--BOUNDARY42\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n",
    );
    body.extend_from_slice(&content);
    body.extend_from_slice(b"\r\n--BOUNDARY42--\r\n");
    let r = s.call(
        "POST",
        "/v1/verify",
        Some("multipart/form-data; boundary=BOUNDARY42"),
        &body,
    );
    assert_eq!(r.json()["indication"], "TOTAL_PASSED", "{}", r.body);

    // JSON with base64 fields, detached.
    let j = serde_json::json!({"cms": b64(&sig), "content": b64(&content)}).to_string();
    let r = s.call("POST", "/v1/verify", Some("application/json"), j.as_bytes());
    assert_eq!(r.json()["indication"], "TOTAL_PASSED");
    // Same without the content: SIGNED_DATA_NOT_FOUND, still a 200 verdict.
    let j = serde_json::json!({"cms": b64(&sig)}).to_string();
    let r = s.call("POST", "/v1/verify", Some("application/json"), j.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["sub_indication"], "SIGNED_DATA_NOT_FOUND");

    // Bad input is a verdict (200, FORMAT_FAILURE), never a 500.
    let r = s.call(
        "POST",
        "/v1/verify",
        Some("application/pkcs7-signature"),
        b"\x30\x82\xff\xff garbage",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["sub_indication"], "FORMAT_FAILURE");
}

/// XMLDSig (application/xml) and barcode sets (text/plain, one payload per line; JSON
/// `{"barcodes": [...]}`) through the real socket.
#[test]
fn xml_and_barcode_bodies_are_verified() {
    let s = TestServer::start(|_| {});
    let q = "/v1/verify?revocation=off";
    let doc = read("barcode/egov-rsa/document.xml");
    let r = s.call("POST", q, Some("application/xml"), &doc);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["format"], "xmldsig");
    assert_eq!(r.json()["indication"], "TOTAL_PASSED", "{}", r.body);

    let lines = read("barcode/egov-rsa/all.txt");
    let r = s.call("POST", q, Some("text/plain; charset=utf-8"), &lines);
    assert_eq!(r.json()["format"], "egov-barcode");
    assert_eq!(r.json()["indication"], "TOTAL_PASSED", "{}", r.body);
    assert_eq!(r.json()["document"]["declarant_iin"], "870101300123");

    // A set with a part missing is a verdict naming it, not an HTTP error.
    let text = String::from_utf8(lines).unwrap();
    let without_first: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let r = s.call("POST", q, Some("text/plain"), without_first.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["sub_indication"], "FORMAT_FAILURE");
    assert!(r.body.contains("part 1 of"), "{}", r.body);

    let ddc: Vec<String> = text_lines("barcode/ddc-rsa/all.txt");
    let content = read("barcode/ddc-document.txt");
    let j = serde_json::json!({"barcodes": ddc, "content": b64(&content)}).to_string();
    let r = s.call("POST", q, Some("application/json"), j.as_bytes());
    assert_eq!(r.json()["format"], "ddc-barcode");
    assert_eq!(r.json()["indication"], "TOTAL_PASSED", "{}", r.body);
}

fn text_lines(rel: &str) -> Vec<String> {
    String::from_utf8(read(rel))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn query_parameters_override_the_defaults() {
    let s = TestServer::start(|_| {});
    let sig = read("cms/rsa-attached.p7s");
    let r = s.call(
        "POST",
        "/v1/verify?at=2040-01-01T00%3A00%3A00Z",
        Some("application/pkcs7-signature"),
        &sig,
    );
    let v = r.json();
    assert_eq!(v["sub_indication"], "OUT_OF_BOUNDS_NO_POE");
    // The verdict says when it was judged and why then (issue #16), over HTTP as in the CLI.
    assert_eq!(v["validation_time"], "2040-01-01T00:00:00Z", "{v:#}");
    assert_eq!(v["validation_time_source"], "at", "{v:#}");
    let r = s.call(
        "POST",
        "/v1/verify?revocation=require",
        Some("application/pkcs7-signature"),
        &sig,
    );
    assert_eq!(r.json()["sub_indication"], "TRY_LATER");
    let r = s.call(
        "POST",
        "/v1/verify?at=tomorrow",
        Some("application/pkcs7-signature"),
        &sig,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(r.json()["status"], 400);
}

#[test]
fn error_statuses_are_problem_json() {
    let s = TestServer::start(|raw| raw.server.max_body_bytes = 4096);
    let problem = |r: &Reply, status: u16| {
        assert_eq!(r.status, status, "{}", r.body);
        assert_eq!(r.content_type, "application/problem+json", "{status}");
        let j = r.json();
        assert_eq!(j["status"], status);
        assert!(j["type"].as_str().is_some_and(|t| t.contains("/problems/")));
        assert!(j["detail"].as_str().is_some_and(|d| !d.is_empty()));
    };
    problem(
        &s.call("POST", "/v1/verify", Some("application/json"), b"{not json"),
        400,
    );
    problem(&s.call("GET", "/nowhere", None, b""), 404);
    problem(&s.call("GET", "/v1/verify", None, b""), 405);
    problem(
        &s.call(
            "POST",
            "/v1/verify",
            Some("application/pkcs7-signature"),
            &vec![0x30; 10_000],
        ),
        413,
    );
    problem(
        &s.call("POST", "/v1/verify", Some("application/zip"), b"PK"),
        415,
    );
    problem(&s.call("POST", "/v1/verify", Some("image/gif"), b"x"), 415);
    problem(
        &s.call(
            "POST",
            "/v1/verify",
            Some("application/json"),
            b"{\"id\": 3}",
        ),
        422,
    );
    problem(
        &s.call("POST", "/v1/verify/batch", Some("text/csv"), b"a,b"),
        415,
    );
    // Admin routes do not exist without a token.
    problem(&s.call("GET", "/admin/cache", None, b""), 404);
}

#[test]
fn oversized_headers_get_431() {
    let s = TestServer::start(|raw| raw.server.max_header_bytes = 8192);
    let mut c = TcpStream::connect(s.addr).expect("connect");
    let big = "a".repeat(20_000);
    let req = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
    let _ = c.write_all(req.as_bytes());
    let mut buf = String::new();
    let _ = c.read_to_string(&mut buf);
    assert!(
        buf.starts_with("HTTP/1.1 431"),
        "{}",
        buf.lines().next().unwrap_or("")
    );
}

#[test]
fn slowloris_connection_is_closed_after_the_header_timeout() {
    let s = TestServer::start(|raw| raw.server.header_read_timeout_ms = 300);
    let mut c = TcpStream::connect(s.addr).expect("connect");
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .expect("write");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let t = Instant::now();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf); // EOF (or a 408) once the server gives up
    let waited = t.elapsed();
    assert!(
        waited < Duration::from_secs(4),
        "connection stayed open {waited:?}"
    );
    assert!(
        waited >= Duration::from_millis(250),
        "closed too early: {waited:?}"
    );
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}

#[test]
fn saturation_answers_503_with_retry_after_and_keeps_serving() {
    let s = TestServer::start(|raw| {
        raw.server.workers = 1;
        raw.server.queue_capacity = 1;
    });
    let sig = read("cms/rsa-detached-1m.p7s");
    let body =
        serde_json::json!({"cms": b64(&sig), "content": b64(&vec![b'a'; 1 << 20])}).to_string();
    let statuses: Vec<(u16, Option<String>)> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..16)
            .map(|_| {
                sc.spawn(|| {
                    let r = s.call(
                        "POST",
                        "/v1/verify",
                        Some("application/json"),
                        body.as_bytes(),
                    );
                    (r.status, r.retry_after)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert!(
        statuses.iter().all(|(s, _)| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().any(|(s, _)| *s == 503),
        "no 503 under saturation: {statuses:?}"
    );
    assert!(statuses.iter().any(|(s, _)| *s == 200));
    assert!(statuses
        .iter()
        .filter(|(s, _)| *s == 503)
        .all(|(_, ra)| ra.as_deref() == Some("1")));
    // Still serving afterwards.
    let r = s.call(
        "POST",
        "/v1/verify",
        Some("application/pkcs7-signature"),
        &read("cms/rsa-attached.p7s"),
    );
    assert_eq!(r.status, 200);
    let m = s.call("GET", "/metrics", None, b"").body;
    let rejected: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("tekser_queue_rejections_total "))
        .and_then(|v| v.parse().ok())
        .expect("rejections metric");
    assert!(rejected >= 1);
    // Load shedding is its own status code in the request metric, apart from 500s.
    let shed: u64 = m
        .lines()
        .find_map(|l| {
            l.strip_prefix("tekser_http_requests_total{route=\"/v1/verify\",code=\"503\"} ")
        })
        .and_then(|v| v.parse().ok())
        .expect("503 series");
    assert_eq!(shed, rejected, "every shed request is counted as a 503");
    assert!(m.contains("tekser_http_requests_total{route=\"/v1/verify\",code=\"500\"} 0"));
}

#[test]
fn graceful_shutdown_finishes_in_flight_requests() {
    let mut s = TestServer::start(|_| {});
    let sig = read("cms/rsa-attached.p7s");
    let mut c = TcpStream::connect(s.addr).expect("connect");
    let head = format!(
        "POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkcs7-signature\r\nContent-Length: {}\r\n\r\n",
        sig.len()
    );
    c.write_all(head.as_bytes()).expect("head");
    let (first, rest) = sig.split_at(100);
    c.write_all(first).expect("part");
    std::thread::sleep(Duration::from_millis(200));
    s.shutdown(); // like SIGTERM, with the request half sent
    std::thread::sleep(Duration::from_millis(200));
    // While the request is in flight the listener stays for probes: not ready, HEAD too, and
    // new verifications are turned away (each on a connection of its own).
    let r = s.call("GET", "/readyz", None, b"");
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["code"], "shutting-down");
    assert_eq!(r.retry_after.as_deref(), Some("5"));
    assert_eq!(s.call("HEAD", "/readyz", None, b"").status, 503);
    let r = s.call(
        "POST",
        "/v1/verify",
        Some("application/pkcs7-signature"),
        &sig,
    );
    assert_eq!(r.status, 503, "{}", r.body);
    c.write_all(rest).expect("rest of the body");
    let mut buf = String::new();
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = c.read_to_string(&mut buf);
    assert!(buf.starts_with("HTTP/1.1 200"), "{buf}");
    assert!(buf.contains("TOTAL_PASSED"));
    s.join();
    // Drained: the listener is gone.
    assert!(TcpStream::connect_timeout(&s.addr, Duration::from_millis(500)).is_err());
}

#[test]
fn batch_streams_one_verdict_per_id() {
    let s = TestServer::start(|raw| raw.server.batch_in_flight = 4);
    let good = b64(&read("cms/rsa-attached.p7s"));
    let ec = b64(&read("cms/ec-attached.p7s"));
    let expired = b64(&read("cms/rsa-expired.p7s"));
    let mut body = String::new();
    let mut want = std::collections::BTreeMap::new();
    for i in 0..60 {
        let (cms, ind) = match i % 4 {
            0 => (good.as_str(), "TOTAL_PASSED"),
            1 => (ec.as_str(), "TOTAL_PASSED"),
            2 => (expired.as_str(), "INDETERMINATE"),
            _ => ("not base64!", "TOTAL_FAILED"),
        };
        body.push_str(&serde_json::json!({"id": format!("doc-{i}"), "cms": cms}).to_string());
        body.push('\n');
        want.insert(format!("doc-{i}"), ind);
    }
    body.push_str("{this line is not json}\n\n");
    let r = s.call(
        "POST",
        "/v1/verify/batch",
        Some("application/x-ndjson"),
        body.as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/x-ndjson");
    let lines: Vec<Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON line"))
        .collect();
    assert_eq!(lines.len(), 61, "one line per request line");
    let mut seen = std::collections::BTreeMap::new();
    for l in &lines {
        if l["id"].is_null() {
            assert_eq!(l["sub_indication"], "FORMAT_FAILURE");
            continue;
        }
        let id = l["id"].as_str().expect("id").to_owned();
        assert!(
            seen.insert(id.clone(), l["indication"].clone()).is_none(),
            "{id} twice"
        );
    }
    for (id, ind) in &want {
        assert_eq!(seen.get(id).and_then(Value::as_str), Some(*ind), "{id}");
    }
}

#[test]
fn inspect_health_ready_metrics() {
    let s = TestServer::start(|_| {});
    let mut pem = read("pki/rsa-leaf.crt");
    pem.extend(read("pki/rsa-int.crt"));
    let r = s.call(
        "POST",
        "/v1/certificates/inspect",
        Some("application/x-pem-file"),
        &pem,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["verdict"]["indication"], "TOTAL_PASSED");
    assert_eq!(
        j["verdict"]["signatures"][0]["chain"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert!(j["certificate"]["signer"]["subject"]
        .as_str()
        .is_some_and(|x| x.contains("RSA Signer")));
    assert_eq!(j["certificate"]["key_usage"][0], "digitalSignature");
    let r = s.call(
        "POST",
        "/v1/certificates/inspect",
        Some("application/json"),
        br#"{"cert": "AAAA"}"#,
    );
    assert_eq!(r.status, 422);

    assert_eq!(s.call("GET", "/healthz", None, b"").status, 200);
    let r = s.call("GET", "/readyz", None, b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["trust_anchors"], 2);
    let _ = s.call(
        "POST",
        "/v1/verify",
        Some("application/pkcs7-signature"),
        &read("cms/rsa-attached.p7s"),
    );
    let m = s.call("GET", "/metrics", None, b"");
    assert!(m.content_type.starts_with("text/plain"));
    for name in [
        "tekser_http_requests_total{route=\"/v1/verify\",code=\"200\"} 1",
        "tekser_verification_seconds_count{format=\"cms\"} 1",
        "tekser_verdicts_total{format=\"cms\",indication=\"TOTAL_PASSED\",sub_indication=\"none\"} 1",
        "tekser_cache_misses_total{cache=\"path\"} 1",
        "tekser_queue_depth 0",
        "tekser_upstream_revocation_fetches_total 0",
        "tekser_revocation_fetches_total{kind=\"ocsp\"} 0",
    ] {
        assert!(m.body.contains(name), "metrics lack {name}:\n{}", m.body);
    }
}

#[test]
fn admin_routes_need_the_bearer_token() {
    let token = "s3cret-token-0123456789";
    let s = TestServer::start(|raw| raw.server.admin_token = Some(token.into()));
    assert_eq!(s.call("GET", "/admin/cache", None, b"").status, 401);
    let wrong = s.call_with(
        "GET",
        "/admin/cache",
        None,
        b"",
        &[("Authorization", "Bearer s3cret-token-0123456780")],
    );
    assert_eq!(wrong.status, 401);
    let auth = format!("Bearer {token}");
    let _ = s.call(
        "POST",
        "/v1/verify",
        Some("application/pkcs7-signature"),
        &read("cms/rsa-attached.p7s"),
    );
    let _ = s.call(
        "POST",
        "/v1/verify",
        Some("application/pkcs7-signature"),
        &read("cms/rsa-attached.p7s"),
    );
    let r = s.call_with(
        "GET",
        "/admin/cache",
        None,
        b"",
        &[("Authorization", &auth)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["path_cache"]["hits"], 1);
    assert_eq!(r.json()["path_cache"]["misses"], 1);
    let r = s.call_with(
        "POST",
        "/admin/trust/reload",
        None,
        b"",
        &[("Authorization", &auth)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["trust_anchors"], 2);
    // A fresh verifier after the reload: the cache starts empty.
    let r = s.call_with(
        "GET",
        "/admin/cache",
        None,
        b"",
        &[("Authorization", &auth)],
    );
    assert_eq!(r.json()["path_cache"]["entries"], 0);
    assert_eq!(
        s.call_with(
            "POST",
            "/admin/trust/reload",
            None,
            b"",
            &[("Authorization", "Bearer nope")]
        )
        .status,
        401
    );
}

#[test]
fn h2c_prior_knowledge_is_served() {
    let s = TestServer::start(|_| {});
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(s.addr)
            .await
            .expect("connect");
        let (mut send, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .expect("h2 handshake");
        tokio::spawn(conn);
        let sig = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("fixture");
        let req = hyper::Request::post(format!("{}/v1/verify", s.base))
            .header("content-type", "application/pkcs7-signature")
            .body(http_body_util::Full::new(bytes::Bytes::from(sig)))
            .expect("request");
        let resp = send.send_request(req).await.expect("h2 response");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.version(), hyper::Version::HTTP_2);
        use http_body_util::BodyExt;
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["indication"], "TOTAL_PASSED");
    });
}

#[test]
fn tls_serves_h2_and_http11_to_curl() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("curl is required for the TLS test (.ci/run installs it)");
    }
    let dir = std::env::temp_dir().join(format!("tekser-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    // A server certificate made by OpenSSL for 127.0.0.1.
    let ok = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl")
        .status
        .success();
    assert!(ok, "openssl made the TLS certificate");
    let (c2, k2) = (cert.clone(), key.clone());
    let s = TestServer::start(move |raw| {
        raw.server.tls_cert = Some(c2);
        raw.server.tls_key = Some(k2);
    });
    let url = format!("https://{}/v1/verify", s.addr);
    for proto in ["--http2", "--http1.1"] {
        let out = std::process::Command::new("curl")
            .args(["-s", "-S", proto, "-w", "\n%{http_version}", "--cacert"])
            .arg(&cert)
            .args([
                "-H",
                "Content-Type: application/pkcs7-signature",
                "--data-binary",
            ])
            .arg(format!("@{}", fixture("cms/rsa-attached.p7s").display()))
            .arg(&url)
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let (body, version) = text.rsplit_once('\n').expect("version line");
        assert_eq!(
            version,
            if proto == "--http2" { "2" } else { "1.1" },
            "{text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_str(body).expect("json");
        assert_eq!(v["indication"], "TOTAL_PASSED");
    }
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = ureq::get(&format!("http://{}/healthz", s.addr))
        .timeout(Duration::from_secs(3))
        .call();
    assert!(plain.is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

/// #13 item 8 / #12: `/v1/certificates/inspect` has the certificate-count budget `verify chain`
/// has (it parsed any number before).
#[test]
fn inspect_refuses_bundles_over_the_certificate_budget() {
    let s = TestServer::start(|_| {});
    let mut pem = read("pki/rsa-leaf.crt");
    for _ in 0..63 {
        pem.extend(read("pki/rsa-int.crt"));
    }
    let r = s.call(
        "POST",
        "/v1/certificates/inspect",
        Some("application/x-pem-file"),
        &pem,
    );
    assert_eq!(
        r.status, 200,
        "64 certificates are within the budget: {}",
        r.body
    );
    pem.extend(read("pki/rsa-int.crt"));
    let r = s.call(
        "POST",
        "/v1/certificates/inspect",
        Some("application/x-pem-file"),
        &pem,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("more than 64 certificates"), "{}", r.body);
}

/// #12: a multipart form with two parts of one name (two contents: which one was verified?) is
/// a 400, not the first one taken.
#[test]
fn duplicate_multipart_parts_are_400() {
    let s = TestServer::start(|_| {});
    let (sig, content) = (read("cms/rsa-detached.p7s"), read("cms/content.txt"));
    for dup in ["signature", "content"] {
        let mut body = Vec::new();
        body.extend_from_slice(
            b"--B42\r\nContent-Disposition: form-data; name=\"signature\"\r\n\r\n",
        );
        body.extend_from_slice(&sig);
        body.extend_from_slice(
            b"\r\n--B42\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n",
        );
        body.extend_from_slice(&content);
        body.extend_from_slice(
            format!("\r\n--B42\r\nContent-Disposition: form-data; name=\"{dup}\"\r\n\r\nother")
                .as_bytes(),
        );
        body.extend_from_slice(b"\r\n--B42--\r\n");
        let r = s.call(
            "POST",
            "/v1/verify",
            Some("multipart/form-data; boundary=B42"),
            &body,
        );
        assert_eq!(r.status, 400, "{dup}: {}", r.body);
        assert!(r.body.contains("duplicate multipart part"), "{}", r.body);
    }
}
