//! The CLI contract (CONTRACT.md): exit statuses 0/1/2/64/66, JSON alone on stdout.

mod support;

use serde_json::Value;
use std::path::Path;
use support::*;

const AT: &str = "2025-06-01T00:00:00Z";

#[test]
fn json_is_alone_on_stdout_and_exit_codes_follow_the_indication() {
    let root = fixture("pki/rsa-root.crt");
    let other = fixture("cms/content-1k.bin");
    for (file, content, code, ind) in [
        ("cms/rsa-attached.p7s", None, 0, "TOTAL_PASSED"),
        // Detached, checked against other content: HASH_FAILURE.
        ("cms/rsa-detached.p7s", Some(&other), 1, "TOTAL_FAILED"),
        // Expired, no proof of existence: OUT_OF_BOUNDS_NO_POE, not a failure.
        ("cms/rsa-expired.p7s", None, 2, "INDETERMINATE"),
        ("cms/other-root.p7s", None, 2, "INDETERMINATE"),
    ] {
        let sig = fixture(file);
        let mut args = vec!["verify", "cms", "--signature", s(&sig)];
        if let Some(c) = content {
            args.extend(["--content", s(c)]);
        }
        args.extend(["--trust", s(&root), "--at", AT, "--json"]);
        let (c, out, _err) = tekser(&args);
        assert_eq!(c, code, "{file}");
        let v: Value = serde_json::from_str(&out).expect("stdout is exactly one JSON document");
        assert_eq!(v["indication"], ind);
        assert_eq!(v["format"], "cms");
        for k in ["sub_indication", "signatures", "document", "errors"] {
            assert!(v.get(k).is_some(), "verdict lacks {k}");
        }
        let sig = &v["signatures"][0];
        for k in [
            "indication",
            "sub_indication",
            "signer",
            "algorithm",
            "signing_time",
            "timestamp",
            "chain",
            "revocation",
            "warnings",
        ] {
            assert!(sig.get(k).is_some(), "signature lacks {k}");
        }
    }
}

#[test]
fn human_output_names_the_signer_and_the_chain() {
    let (c, out, _) = tekser(&[
        "verify",
        "cms",
        "--signature",
        s(&fixture("cms/rsa-attached.p7s")),
        "--trust",
        s(&fixture("pki/rsa-root.crt")),
        "--at",
        AT,
    ]);
    assert_eq!(c, 0);
    assert!(out.starts_with("VALID — signed by RSA Signer"), "{out}");
    assert!(
        out.contains("CN=RSA Signer") && out.contains("(trust anchor)"),
        "{out}"
    );
}

/// Runs `tekser verify ARGS` in text mode with the demo root trusted; returns (code, stdout).
fn human(args: &[&str]) -> (i32, String) {
    let root = fixture("pki/rsa-root.crt");
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    all.extend(["--trust", s(&root)]);
    let (c, out, err) = tekser(&all);
    println!("{out}{err}");
    (c, out)
}

/// #16 "The human output answers the question": the bottom line first in words, no debug
/// names, algorithm names, PDF field/kind/coverage/reason/location/claimed date, the time the
/// verdict was judged at and its source.
#[test]
fn the_bottom_line_says_when_a_valid_pdf_was_changed_after_signing() {
    // Review finding: an annotation drawn over the signed page was only a warning further
    // down; "VALID" alone read as "this is what was signed".
    let (c, out) = human(&["pdf", s(&fixture("pdf/allowed-annotation.pdf")), "--at", AT]);
    assert_eq!(c, 0);
    let first = out.lines().next().unwrap_or_default();
    assert!(first.starts_with("VALID"), "{first}");
    assert!(first.contains("changed after signing"), "{first}");
    // Bookkeeping (a time-stamp added with its lists) is not such a change.
    let (_, out) = human(&["pdf", s(&fixture("pdf/doc-timestamp.pdf")), "--at", AT]);
    let first = out.lines().next().unwrap_or_default();
    assert!(!first.contains("changed after signing"), "{first}");
}

#[test]
fn human_output_answers_the_question_for_a_passing_pdf() {
    let pdf = fixture("pdf/signed.pdf");
    let (c, out) = human(&["pdf", s(&pdf), "--at", AT]);
    assert_eq!(c, 0);
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(
            "VALID — signed by RSA Signer, for tekser test, on 2026-11-25 23:05:44 UTC (claimed"
        ),
        "{first}"
    );
    for want in [
        "algorithm    SHA-256 with RSA",
        "field        \"Signature1\", approval signature",
        "covers       the whole document",
        "reason       Approved",
        "location     Astana",
        "claimed time 2026-11-25 23:05:44 UTC",
        "checked at:  2025-06-01 00:00:00 UTC (the time asked for with --at)",
        "<- tekser RSA Root",
    ] {
        assert!(out.contains(want), "missing {want:?}");
    }
    for debug in ["(Pdf)", "rsa-pkcs1", "D:2026", "1.2.840."] {
        assert!(
            !out.contains(debug),
            "debug text {debug:?} in the human output"
        );
    }
    // Warnings once each, and a certificate named once per clause (not "X: X names ...").
    let warnings: Vec<&str> = out.lines().filter(|l| l.contains("warning:")).collect();
    let unique: std::collections::HashSet<_> = warnings.iter().collect();
    assert_eq!(warnings.len(), unique.len(), "repeated warnings");
    let rev = warnings
        .iter()
        .find(|w| w.contains("revocation status not checked"))
        .expect("the revocation warning");
    assert!(
        rev.contains("certificate \"RSA Signer\": it names no OCSP responder")
            && rev.contains("certificate \"tekser RSA Intermediate\": it names")
            && !rev.contains("C=KZ"),
        "{rev}"
    );
}

#[test]
fn human_output_says_what_changed_in_an_altered_pdf() {
    let pdf = fixture("pdf/attack-p2-annotation.pdf");
    let (c, out) = human(&["pdf", s(&pdf), "--at", AT]);
    assert_eq!(c, 1);
    assert!(
        out.starts_with("NOT VALID — the document was changed after signing: annotation object 91 (/FreeText) was added"),
        "{out}"
    );
    assert!(out.contains("certification signature, level 2 (form filling and signing allowed)"));
    assert!(out.contains("covers       revision 2 of 3"));
    assert!(out.contains("(NOT permitted)"));
}

/// An e-certificate: the bottom line with the signed document's date, the signed fields, and
/// the envelope values no signature covers labelled as such.
#[test]
fn human_output_for_an_e_certificate_labels_what_is_not_signed() {
    let all = std::fs::read(fixture("barcode/egov-rsa/all.txt")).expect("fixture");
    let root = fixture("pki/rsa-root.crt");
    let (c, out, err) = tekser_stdin(
        &[
            "verify",
            "barcode",
            "-",
            "--trust",
            s(&root),
            "--at",
            "2025-06-01",
            "--revocation",
            "off",
        ],
        &all,
    );
    println!("{out}{err}");
    assert_eq!(c, 0);
    assert!(out.starts_with("VALID — signed by RSA Signer, for tekser test, issued on 2025-05-20 10:15:03+05:00 (the date in the signed document, not proven)"), "{out}");
    let signed = out
        .find("document (signed fields):")
        .expect("signed fields");
    let unsigned = out
        .find("NOT signed (read beside the document")
        .expect("unsigned block");
    assert!(signed < unsigned);
    assert!(
        out[signed..unsigned].contains("declarant_iin: 870101300123"),
        "{out}"
    );
    assert!(
        out[unsigned..].contains("favor_id: E2025052000000001"),
        "{out}"
    );
    assert!(!out.contains("(EgovBarcode)"), "{out}");
}

#[test]
fn human_output_names_the_root_a_chain_would_need() {
    let sig = fixture("cms/other-root.p7s");
    let (c, out) = human(&["cms", "--signature", s(&sig), "--at", AT]);
    assert_eq!(c, 2);
    assert!(
        out.starts_with(
            "CANNOT CONFIRM — the certificate chain does not reach a trusted root: it would need the root \"Untrusted Root\""
        ),
        "{out}"
    );
}

/// The time a verdict was judged at and where it came from: `--at`, now, a signature
/// time-stamp (openssl ts), a PDF document time-stamp (pyHanko) — in the JSON and in words.
#[test]
fn every_verdict_carries_its_validation_time_and_source() {
    let root = fixture("pki/rsa-root.crt");
    let json = |args: &[&str]| -> Value {
        let mut all = vec!["verify"];
        all.extend_from_slice(args);
        all.extend(["--trust", s(&root), "--json"]);
        let (_, out, err) = tekser(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"))
    };
    let sig = fixture("cms/rsa-attached.p7s");
    let v = json(&["cms", "--signature", s(&sig), "--at", AT]);
    assert_eq!(v["validation_time"], AT);
    assert_eq!(v["validation_time_source"], "at");
    let before = time_now();
    let v = json(&["cms", "--signature", s(&sig)]);
    assert_eq!(v["validation_time_source"], "now");
    let t = v["validation_time"].as_str().expect("a time");
    assert!(t >= before.as_str(), "{t} < {before}");
    // A signature time-stamp made by openssl ts (fixtures/tsa/meta.json: genTime).
    let ts = fixture("tsa/timestamped.p7s");
    let tsa_root = fixture("tsa/ca.crt");
    let v = json(&["cms", "--signature", s(&ts), "--trust", s(&tsa_root)]);
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v}");
    assert_eq!(v["validation_time"], "2026-11-25T19:17:12Z");
    assert_eq!(v["validation_time_source"], "timestamp");
    // A PDF whose only signature is covered by a pyHanko document time-stamp.
    let pdf = fixture("pdf/doc-timestamp.pdf");
    let v = json(&["pdf", s(&pdf)]);
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v}");
    assert_eq!(v["validation_time_source"], "document-timestamp");
    let (_, out) = human(&["pdf", s(&pdf)]);
    assert!(
        out.lines()
            .next()
            .unwrap_or_default()
            .contains("(time proven by tekser PDF TSA)"),
        "{out}"
    );
    assert!(
        out.contains("(the time proven by a document time-stamp)"),
        "{out}"
    );
}

/// Now as RFC 3339 UTC, from `date` (another implementation than tekser's clock formatting).
fn time_now() -> String {
    let o = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date runs");
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[test]
fn garbage_input_is_format_failure_not_a_crash() {
    let dir = std::env::temp_dir().join(format!("tekser-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    for (name, bytes) in [
        ("empty", &b""[..]),
        ("text", &b"hello, this is not a signature"[..]),
        (
            "der-garbage",
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00][..],
        ),
        (
            "pem-junk",
            &b"-----BEGIN PKCS7-----\n!!!!\n-----END PKCS7-----\n"[..],
        ),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        let (c, out, _) = tekser(&["verify", "cms", "--signature", s(&p), "--json"]);
        assert_eq!(c, 1, "{name}");
        let v: Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["sub_indication"], "FORMAT_FAILURE", "{name}");
        assert!(!v["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_are_64_and_missing_files_66() {
    let sig = fixture("cms/rsa-attached.p7s");
    let (c, out, _) = tekser(&[
        "verify",
        "cms",
        "--signature",
        "/nonexistent/sig.p7s",
        "--json",
    ]);
    assert_eq!(c, 66);
    assert!(out.is_empty(), "nothing on stdout for a missing file");
    let (c, _, _) = tekser(&[
        "verify",
        "cms",
        "--signature",
        s(&sig),
        "--trust",
        "/nonexistent/root.pem",
    ]);
    assert_eq!(c, 66);
    let (c, _, err) = tekser(&["verify", "cms", "--signature", s(&sig), "--at", "yesterday"]);
    assert_eq!(c, 64, "{err}");
    let (c, _, _) = tekser(&[
        "verify",
        "cms",
        "--signature",
        s(&sig),
        "--revocation",
        "sometimes",
    ]);
    assert_eq!(c, 64);
    let (c, _, _) = tekser(&["verify", "cms", "--no-such-flag"]);
    assert_eq!(c, 64);
    let (c, _, _) = tekser(&["verify", "cms"]);
    assert_eq!(c, 64, "missing --signature");
    let (c, _, err) = tekser(&["verify", "cms", "--signature", s(&sig), "--crl", s(&sig)]);
    assert_eq!(c, 64, "--crl is refused until CRL checking exists: {err}");
    let (c, out, _) = tekser(&["--help"]);
    assert_eq!(c, 0);
    assert!(out.contains("verify"));
    // A trust file that is not a certificate is a usage error, not a verdict.
    let (c, _, _) = tekser(&[
        "verify",
        "cms",
        "--signature",
        s(&sig),
        "--trust",
        s(&fixture("cms/content.txt")),
    ]);
    assert_eq!(c, 64);
}

/// Starts `tekser serve` with `args`, returns the child, its address and the banner's curl lines
/// (the banner ends with the line about `--demo`).
fn serve_banner(args: &[&str]) -> (std::process::Child, String, Vec<String>) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tekser"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(root())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tekser serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let mut addr = None;
    let mut curls = Vec::new();
    for line in lines.by_ref().take(20) {
        let line = line.expect("line");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            addr = rest.split_whitespace().next().map(str::to_owned);
        }
        if line.trim_start().starts_with("curl ") {
            curls.push(line.trim().to_owned());
        }
        // The banner's last line: the demo sample's curl, or the pointer to `--demo`.
        if line.contains("rsa-attached.p7s") || line.contains("serve --demo") {
            break;
        }
    }
    // Drain the rest so the pipe never blocks the child.
    std::thread::spawn(move || for _ in lines {});
    (child, addr.expect("banner names the address"), curls)
}

fn stop(mut child: std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let code = child.wait().expect("exit");
    assert_eq!(code.code(), Some(0), "graceful exit on SIGTERM");
}

fn post(url: &str, content_type: &str, body: &[u8]) -> Value {
    let resp = ureq::post(url)
        .set("Content-Type", content_type)
        .send_bytes(body)
        .expect("request");
    serde_json::from_str(&resp.into_string().expect("body")).expect("json")
}

#[test]
fn serve_with_no_configuration_trusts_the_nca_passes_its_own_curl_example_and_stops_on_sigterm() {
    let (child, addr, curls) = serve_banner(&[]);
    // The banner's example: the NCA's GOST 2022 CA through /v1/certificates/inspect.
    let curl = curls.first().expect("banner prints a curl example");
    assert!(
        curl.contains("@trust/kz-nca-prod/nca_gost_2022.der")
            && curl.contains("/v1/certificates/inspect"),
        "{curl}"
    );
    // Run what the banner says, with revocation off (its CRL is on the NCA's network, and the
    // tests reach only loopback).
    let ca = std::fs::read(root().join("trust/kz-nca-prod/nca_gost_2022.der")).expect("ca");
    let v = post(
        &format!("http://{addr}/v1/certificates/inspect?revocation=off"),
        "application/pkix-cert",
        &ca,
    );
    assert_eq!(v["verdict"]["indication"], "TOTAL_PASSED", "{v}");
    // The demo samples do not pass without --demo: their roots are not trusted by default.
    let sample = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("sample");
    let v = post(
        &format!("http://{addr}/v1/verify?revocation=off"),
        "application/pkcs7-signature",
        &sample,
    );
    assert_eq!(v["indication"], "INDETERMINATE", "{v}");
    assert_eq!(v["sub_indication"], "NO_CERTIFICATE_CHAIN_FOUND", "{v}");
    stop(child);
}

#[test]
fn serve_demo_passes_its_sample_curl_example_with_a_warning() {
    let (child, addr, curls) = serve_banner(&["--demo"]);
    let curl = curls
        .iter()
        .find(|c| c.contains("@fixtures/cms/rsa-attached.p7s"))
        .expect("the --demo banner prints the sample's curl line");
    assert!(curl.contains("application/pkcs7-signature"), "{curl}");
    let sample = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("sample");
    let v = post(
        &format!("http://{addr}/v1/verify"),
        "application/pkcs7-signature",
        &sample,
    );
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v}");
    let warnings = v["signatures"][0]["warnings"].to_string();
    assert!(warnings.contains("DEMO trust anchor"), "{v}");
    stop(child);
}

/// #13 item 7: a device or FIFO named as any input is read to at most its limit + 1 bytes (or
/// given up when it stalls), and the error is a usage error (64) naming the file, never an
/// out-of-memory crash.
#[test]
fn endless_inputs_are_usage_errors_naming_the_file() {
    let sig = fixture("cms/rsa-attached.p7s");
    let sig = s(&sig);
    let cases: [(&str, Vec<&str>); 11] = [
        (
            "--signature",
            vec!["verify", "cms", "--signature", "/dev/zero"],
        ),
        (
            "--content",
            vec![
                "verify",
                "cms",
                "--signature",
                sig,
                "--content",
                "/dev/zero",
            ],
        ),
        (
            "--trust",
            vec![
                "verify",
                "cms",
                "--signature",
                sig,
                "--trust",
                "/dev/urandom",
            ],
        ),
        (
            "--intermediate",
            vec![
                "verify",
                "cms",
                "--signature",
                sig,
                "--intermediate",
                "/dev/zero",
            ],
        ),
        (
            "--crl",
            vec!["verify", "cms", "--signature", sig, "--crl", "/dev/zero"],
        ),
        ("barcode file", vec!["verify", "barcode", "/dev/urandom"]),
        ("--image", vec!["verify", "barcode", "--image", "/dev/zero"]),
        ("pdf", vec!["verify", "pdf", "/dev/zero"]),
        ("xml", vec!["verify", "xml", "/dev/zero"]),
        ("--cert", vec!["verify", "chain", "--cert", "/dev/zero"]),
        (
            "--config",
            vec!["serve", "--config", "/dev/zero", "--listen", "127.0.0.1:0"],
        ),
    ];
    for (what, args) in cases {
        let t = std::time::Instant::now();
        let (c, out, err) = tekser(&args);
        let took = t.elapsed();
        println!("{what}: exit {c} after {took:?}: {}", err.trim());
        assert_eq!(c, 64, "{what}: {err}");
        assert!(out.is_empty(), "{what}: nothing on stdout: {out}");
        assert!(
            err.contains("/dev/"),
            "{what}: the error names the file: {err}"
        );
        assert!(err.contains("larger than the limit"), "{what}: {err}");
        // Generous: the largest limit (256 MiB of zeros) reads in well under a second.
        assert!(
            took < std::time::Duration::from_secs(20),
            "{what}: {took:?}"
        );
    }
}

/// #13 item 7: a FIFO nobody writes to used to block the CLI forever.
#[test]
fn a_fifo_without_a_writer_ends_with_a_usage_error() {
    let dir = std::env::temp_dir().join(format!("tekser-cli-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let fifo = dir.join("sig.p7s");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    for args in [
        vec!["verify", "cms", "--signature", s(&fifo)],
        vec![
            "verify",
            "cms",
            "--signature",
            s(&fixture("cms/rsa-attached.p7s")),
            "--trust",
            s(&fifo),
        ],
    ] {
        let t = std::time::Instant::now();
        let (c, _, err) = tekser(&args);
        let took = t.elapsed();
        println!("FIFO: exit {c} after {took:?}: {}", err.trim());
        assert_eq!(c, 64, "{err}");
        assert!(err.contains(s(&fifo)) && err.contains("no data"), "{err}");
        assert!(took < std::time::Duration::from_secs(15), "{took:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// #13 item 8: a 72 MB PEM of 60,000 certificates was parsed whole (336 MB) before "too many
/// certificates". Now the block after the 64th ends the read: the blocks behind it are never
/// decoded (here they are broken, and the error is the count, not the broken block).
#[test]
fn verify_chain_stops_reading_a_bundle_at_the_certificate_limit() {
    let dir = std::env::temp_dir().join(format!("tekser-cli-bundle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let leaf = std::fs::read(fixture("pki/rsa-leaf.crt")).expect("fixture");
    let int = std::fs::read(fixture("pki/rsa-int.crt")).expect("fixture");
    let broken = b"-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n";

    // 64 certificates and a broken block after them.
    let mut small = leaf.clone();
    for _ in 0..63 {
        small.extend_from_slice(&int);
    }
    small.extend_from_slice(broken);
    let p = dir.join("small.pem");
    std::fs::write(&p, &small).expect("tmp");
    let (c, out, _) = tekser(&["verify", "chain", "--cert", s(&p), "--json"]);
    let v: Value = serde_json::from_str(&out).expect("a verdict");
    println!("65 blocks: exit {c}, {}", v["errors"]);
    assert_eq!(v["sub_indication"], "FORMAT_FAILURE");
    assert!(
        v["errors"]
            .to_string()
            .contains("more than 64 certificates"),
        "{out}"
    );

    // 60,000 certificates (72 MB): refused at the 65th, fast and without parsing the rest.
    let mut big = Vec::with_capacity(60_000 * int.len());
    big.extend_from_slice(&leaf);
    while big.len() < 72 << 20 {
        big.extend_from_slice(&int);
    }
    let p = dir.join("big.pem");
    std::fs::write(&p, &big).expect("tmp");
    let time = std::path::Path::new("/usr/bin/time");
    let t = std::time::Instant::now();
    let (c, out, err) = if time.exists() {
        let o = std::process::Command::new(time)
            .args(["-f", "maxrss_kb=%M", env!("CARGO_BIN_EXE_tekser")])
            .args(["verify", "chain", "--cert", s(&p), "--json"])
            .output()
            .expect("runs");
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    } else {
        panic!("/usr/bin/time (Debian package time) must be installed: .ci/run installs it");
    };
    let took = t.elapsed();
    let v: Value = serde_json::from_str(&out).expect("a verdict");
    println!(
        "{} bytes: exit {c} after {took:?}; {}",
        big.len(),
        err.trim()
    );
    assert!(
        v["errors"]
            .to_string()
            .contains("more than 64 certificates"),
        "{out}"
    );
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    let kb = err
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|k| k.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no peak RSS from /usr/bin/time: {err}"));
    // The 72 MB input itself is held once; parsing all of it took 336 MB.
    assert!(kb < 200 * 1024, "peak RSS {kb} kB");
    let _ = std::fs::remove_dir_all(&dir);
}

/// #13 item 10: `verify barcode FILES --image PNG` used to ignore the files silently.
#[test]
fn barcode_files_beside_an_image_are_a_usage_error() {
    let (c, out, err) = tekser(&[
        "verify",
        "barcode",
        s(&fixture("barcode/egov-rsa/all.txt")),
        "--image",
        s(&fixture("barcode/egov-rsa/part-1.png")),
    ]);
    assert_eq!(c, 64, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("--image"), "{err}");
}

/// #13 item 10: a right-to-left override (and other invisible or control characters) in a
/// certificate name reached the human output as is, reordering what a person reads. The
/// certificate is made by openssl; the JSON keeps the real name.
#[test]
fn bidi_and_control_characters_in_names_are_escaped_in_human_output() {
    let dir = std::env::temp_dir().join(format!("tekser-cli-bidi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let cert = dir.join("rlo.pem");
    let cn = "Signer\u{202E}fdp.exe\u{2066}x\u{200B}";
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "30", "-utf8", "-subj"])
        .arg(format!("/CN={cn}"))
        .arg("-keyout")
        .arg(dir.join("rlo.key"))
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (_, out, _) = tekser(&["verify", "chain", "--cert", s(&cert), "--trust", s(&cert)]);
    println!("{out}");
    assert!(out.contains("Signer"), "{out}");
    for c in ['\u{202E}', '\u{2066}', '\u{200B}'] {
        assert!(
            !out.contains(c),
            "U+{:04X} reached the terminal: {out}",
            u32::from(c)
        );
    }
    assert!(
        out.contains("Signer\\u{202E}fdp.exe\\u{2066}x\\u{200B}"),
        "{out}"
    );
    // The JSON verdict keeps the name as it is (JSON consumers escape for themselves).
    let (_, json, _) = tekser(&[
        "verify",
        "chain",
        "--cert",
        s(&cert),
        "--trust",
        s(&cert),
        "--json",
    ]);
    assert!(json.contains(cn) || json.contains("\\u202e"), "{json}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs tekser with `input` on stdin; returns (exit code, stdout, stderr).
fn tekser_stdin(args: &[&str], input: &[u8]) -> (i32, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tekser"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tekser runs");
    let mut stdin = child.stdin.take().expect("stdin");
    // A refused input may exit before reading everything: a closed pipe here is fine.
    let _ = stdin.write_all(input);
    drop(stdin);
    let out = child.wait_with_output().expect("exit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// #16 "One argument style": the document is positional for every verify subcommand
/// (`--signature`/`--cert` stay as aliases), and `-` reads it from stdin.
#[test]
fn the_document_is_positional_everywhere_and_dash_reads_stdin() {
    let root = fixture("pki/rsa-root.crt");
    let root = s(&root);
    let ints = fixture("pki/rsa-int.crt");
    let cms = fixture("cms/rsa-attached.p7s");
    let pdf = fixture("pdf/signed.pdf");
    let xml = fixture("xml/exc-c14n-rsa.xml");
    let leaf = fixture("pki/rsa-leaf.crt");
    let common = ["--trust", root, "--at", AT, "--json"];
    let passes = |args: &[&str], stdin: Option<&Path>| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(common);
        all.extend(["--intermediate", s(&ints)]);
        let (c, out, err) = match stdin {
            Some(p) => tekser_stdin(&all, &std::fs::read(p).expect("fixture")),
            None => tekser(&all),
        };
        let v: Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}{err}"));
        assert_eq!(
            (c, v["indication"].as_str()),
            (0, Some("TOTAL_PASSED")),
            "{args:?}: {err}"
        );
    };
    passes(&["verify", "cms", s(&cms)], None);
    passes(&["verify", "cms", "--signature", s(&cms)], None);
    passes(&["verify", "cms", "-"], Some(&cms));
    passes(&["verify", "pdf", "-"], Some(&pdf));
    passes(&["verify", "xml", "-"], Some(&xml));
    passes(&["verify", "chain", s(&leaf)], None);
    passes(&["verify", "chain", "--cert", s(&leaf)], None);
    passes(&["verify", "chain", "-"], Some(&leaf));
    // Detached: the content from stdin.
    let det = fixture("cms/rsa-detached.p7s");
    let content = fixture("cms/content.txt");
    passes(
        &["verify", "cms", s(&det), "--content", "-"],
        Some(&content),
    );
    // Both at once is a usage error, as is stdin twice.
    let (c, _, err) = tekser(&["verify", "cms", s(&cms), "--signature", s(&cms)]);
    assert_eq!(c, 64, "{err}");
    let (c, _, err) = tekser_stdin(&["verify", "cms", "-", "--content", "-"], b"");
    assert_eq!(c, 64, "{err}");
    assert!(err.contains("only one input can come from stdin"), "{err}");
}

/// #16 "Inputs are recognised, not misread": a PDF given to `verify cms` or `verify xml`, a
/// CMS given to `verify pdf`, swapped --signature/--content: exit 64 naming the right command
/// (was TOTAL_FAILED / FORMAT_FAILURE "bad base64: Invalid symbol 58").
#[test]
fn a_document_given_to_the_wrong_command_is_a_usage_error_naming_the_right_one() {
    let pdf = fixture("pdf/signed.pdf");
    let cms = fixture("cms/rsa-attached.p7s");
    let det = fixture("cms/rsa-detached.p7s");
    let content = fixture("cms/content.txt");
    for (args, want) in [
        (vec!["verify", "cms", s(&pdf)], "use `tekser verify pdf "),
        (
            vec!["verify", "cms", "--signature", s(&pdf)],
            "use `tekser verify pdf ",
        ),
        (vec!["verify", "xml", s(&pdf)], "use `tekser verify pdf "),
        (vec!["verify", "pdf", s(&cms)], "use `tekser verify cms "),
        (
            vec![
                "verify",
                "cms",
                "--signature",
                s(&content),
                "--content",
                s(&det),
            ],
            "swapped? use `tekser verify cms ",
        ),
    ] {
        let (c, out, err) = tekser(&args);
        println!("{args:?}: exit {c}: {}", err.trim());
        assert_eq!(c, 64, "{args:?}: {out}{err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

/// #16: `--at 2025-06-01` is midnight UTC; the SHA-1 refusal names `--danger-allow-sha1`; the
/// missing detached content names `--content`.
#[test]
fn messages_name_the_flags_that_fix_them() {
    let root = fixture("pki/rsa-root.crt");
    let json = |args: &[&str]| -> Value {
        let mut all = args.to_vec();
        all.extend(["--trust", s(&root), "--json"]);
        let (_, out, err) = tekser(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"))
    };
    let cms = fixture("cms/rsa-attached.p7s");
    let v = json(&["verify", "cms", s(&cms), "--at", "2025-06-01"]);
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v}");
    assert_eq!(v["validation_time"], "2025-06-01T00:00:00Z");
    let (c, _, err) = tekser(&["verify", "cms", s(&cms), "--at", "2025-13-01"]);
    assert_eq!(c, 64, "{err}");
    let sha1 = fixture("cms/rsa-sha1.p7s");
    let v = json(&["verify", "cms", s(&sha1), "--at", AT]);
    assert_eq!(v["sub_indication"], "CRYPTO_CONSTRAINTS_FAILURE", "{v}");
    assert!(
        v["signatures"].to_string().contains("--danger-allow-sha1"),
        "{v}"
    );
    let det = fixture("cms/rsa-detached.p7s");
    let v = json(&["verify", "cms", s(&det), "--at", AT]);
    assert_eq!(v["sub_indication"], "SIGNED_DATA_NOT_FOUND", "{v}");
    assert!(v["signatures"].to_string().contains("--content"), "{v}");
}

/// #16: `--trust DIR` takes CA certificates only: a leaf in the folder is not an anchor (it
/// would make itself "valid"), said once; private keys beside the certificates are not worth a
/// warning each.
#[test]
fn a_trust_folder_loads_ca_certificates_only_and_says_so_once() {
    let dir = std::env::temp_dir().join(format!("tekser-cli-trustdir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp");
    for f in [
        "rsa-leaf.crt",
        "rsa-leaf.key",
        "rsa-leaf2.crt",
        "other-root.crt",
        "other-root.key",
    ] {
        std::fs::copy(fixture(&format!("pki/{f}")), dir.join(f)).expect("copy");
    }
    std::fs::write(dir.join("notes.txt"), "not a certificate").expect("tmp");
    let leaf = fixture("pki/rsa-leaf.crt");
    let (c, out, err) = tekser(&[
        "verify",
        "chain",
        s(&leaf),
        "--trust",
        s(&dir),
        "--at",
        AT,
        "--json",
    ]);
    println!("{err}");
    let v: Value = serde_json::from_str(&out).expect("a verdict");
    assert_eq!(c, 2, "{v}");
    assert_eq!(v["sub_indication"], "NO_CERTIFICATE_CHAIN_FOUND", "{v}");
    let leaf_lines: Vec<&str> = err.lines().filter(|l| l.contains("leaf")).collect();
    assert_eq!(leaf_lines.len(), 1, "{err}");
    assert!(
        leaf_lines[0].contains("2 end-entity certificate(s) skipped, a leaf is not a trust anchor"),
        "{err}"
    );
    assert!(!err.contains(".key"), "no warning per key file: {err}");
    assert_eq!(
        err.lines().filter(|l| l.contains("notes.txt")).count(),
        1,
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// #16: `tekser verify … --json | head -c1` panicked and exited 70 in 12 of 20 runs. Now a
/// reader that goes away ends the output quietly: the verdict's own status, nothing on stderr
/// but the usual warnings. Twenty runs through a real shell pipe, and one where the pipe is
/// closed before tekser writes (deterministic EPIPE).
#[test]
fn a_closed_stdout_pipe_ends_quietly() {
    let cms = fixture("cms/rsa-attached.p7s");
    let root = fixture("pki/rsa-root.crt");
    let cmd = format!(
        "{} verify cms {} --trust {} --at {AT} --json | head -c1 >/dev/null; exit ${{PIPESTATUS[0]}}",
        env!("CARGO_BIN_EXE_tekser"),
        s(&cms),
        s(&root)
    );
    for run in 0..20 {
        let o = std::process::Command::new("bash")
            .args(["-c", &cmd])
            .output()
            .expect("bash runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "run {run}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("internal error"),
            "run {run}: {err}"
        );
    }
    for mode in [vec!["--json"], vec![]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tekser"))
            .args(["verify", "cms", s(&cms), "--trust", s(&root), "--at", AT])
            .args(&mode)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("tekser runs");
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("exit");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{mode:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("internal error"),
            "{err}"
        );
    }
}
