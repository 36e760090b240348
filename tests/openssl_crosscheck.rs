//! Cross-check: our verdict on every fixture that names an `openssl` expectation in
//! fixtures/expected.json against `openssl cms -verify` on the same input at the same time.
//! Passing means TOTAL_PASSED for us and exit 0 for OpenSSL. Where the two must differ, the case
//! carries a `differs` reason (our stricter algorithm policy), and the test checks that OpenSSL
//! really does say what the reason claims.

mod support;

use serde_json::Value;
use std::process::Command;
use support::*;
use tekser::pki::time::parse_rfc3339;
use tekser::verdict::Indication;
use tekser::verify::Input;
use tekser::verify::{RequestOptions, RevocationMode};

fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn openssl_verify(
    sig: &std::path::Path,
    content: Option<&std::path::Path>,
    ca: &std::path::Path,
    at: i64,
    extra: &[&str],
) -> bool {
    let pem = sig.extension().is_some_and(|e| e == "pem");
    let mut cmd = Command::new("openssl");
    cmd.args([
        "cms",
        "-verify",
        "-binary",
        "-inform",
        if pem { "PEM" } else { "DER" },
    ]);
    cmd.arg("-in").arg(sig).arg("-CAfile").arg(ca);
    cmd.args(["-attime", &at.to_string(), "-out", "/dev/null"]);
    if let Some(c) = content {
        cmd.arg("-content").arg(c);
    }
    cmd.args(extra);
    cmd.output().expect("openssl runs").status.success()
}

#[test]
fn verdicts_agree_with_openssl_cms_verify() {
    assert!(
        openssl_available(),
        "the openssl CLI is required (.ci/run installs it)"
    );
    let exp: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).expect("read"))
            .expect("json");
    let at_s = exp["at"].as_str().expect("at");
    let at = parse_rfc3339(at_s).expect("time");
    let trust: Vec<_> = exp["trust"]
        .as_array()
        .expect("trust")
        .iter()
        .map(|p| fixture(p.as_str().expect("p")))
        .collect();
    let dir = std::env::temp_dir().join(format!("tekser-xcheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let ca = dir.join("roots.pem");
    let roots: Vec<u8> = trust
        .iter()
        .flat_map(|t| std::fs::read(t).expect("root"))
        .collect();
    std::fs::write(&ca, roots).expect("write roots");
    let v = verifier(&trust, &[], false);
    let opts = RequestOptions {
        at: Some(at),
        revocation: RevocationMode::Off,
        ..Default::default()
    };
    let mut compared = 0;
    for case in exp["cases"].as_array().expect("cases") {
        let Some(want_openssl) = case.get("openssl").and_then(Value::as_str) else {
            continue;
        };
        if case.get("trust").is_some()
            || case.get("at").is_some()
            || case.get("intermediates").is_some()
        {
            continue;
        }
        let file = fixture(case["file"].as_str().expect("file"));
        let mut content = case.get("content").and_then(Value::as_str).map(fixture);
        if let Some(r) = case.get("content_repeat") {
            // Generated content (not committed): write it where openssl can read it too.
            let byte = r[0].as_str().and_then(|s| s.bytes().next()).expect("byte");
            let p = dir.join(format!("content-{compared}"));
            std::fs::write(&p, vec![byte; r[1].as_u64().expect("len") as usize]).expect("write");
            content = Some(p);
        }
        let ours = v
            .verify(
                &Input::Cms {
                    signature: &std::fs::read(&file).expect("sig"),
                    content: content
                        .as_ref()
                        .map(|c| std::fs::read(c).expect("c"))
                        .as_deref(),
                },
                &opts,
            )
            .indication()
            == Indication::TOTAL_PASSED;
        let theirs = openssl_verify(&file, content.as_deref(), &ca, at, &[]);
        assert_eq!(
            theirs,
            want_openssl == "pass",
            "{case}: openssl said {theirs}"
        );
        match case.get("differs").and_then(Value::as_str) {
            Some(reason) => assert_ne!(ours, theirs, "{case}: expected to differ ({reason})"),
            None => assert_eq!(ours, theirs, "{case}: tekser and openssl disagree"),
        }
        compared += 1;
    }
    assert!(compared >= 20, "only {compared} cases compared");

    // The Kalkan RSA sample: both accept it inside the signer's validity.
    {
        let kz = testdata("kz");
        let t = parse_rfc3339("2021-06-01T00:00:00Z").expect("time");
        let sig = kz.join("cms/attached-1signer-rsa.cms");
        let ca = kz.join("ca/nca_rsa_test.crt");
        // The NCA CA certificate is not self-signed (its root is not in the test data). tekser
        // treats every configured certificate as a trust anchor, which is OpenSSL's -partial_chain.
        assert!(
            openssl_verify(&sig, None, &ca, t, &["-partial_chain"]),
            "openssl rejects the Kalkan sample"
        );
        let ours = verifier(&[ca], &[], false).verify(
            &Input::Cms {
                signature: &std::fs::read(&sig).expect("sig"),
                content: None,
            },
            &RequestOptions {
                at: Some(t),
                revocation: RevocationMode::Off,
                ..Default::default()
            },
        );
        assert_eq!(ours.indication(), Indication::TOTAL_PASSED);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
