//! Every fixture made by fixtures/generate.sh (OpenSSL) gets the verdict written by hand in
//! fixtures/expected.json, through the library and through the `tekser` binary.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use support::*;
use tekser::pki::time::parse_rfc3339;
use tekser::verify::Input;
use tekser::verify::{RequestOptions, RevocationMode};

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

fn paths(v: Option<&Value>, default: &Value) -> Vec<PathBuf> {
    v.unwrap_or(default)
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| fixture(p.as_str().expect("path")))
                .collect()
        })
        .unwrap_or_default()
}

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

#[test]
fn cms_fixtures_match_expected_verdicts() {
    let exp = expected();
    let at_default = exp["at"].as_str().expect("at");
    let cases = exp["cases"].as_array().expect("cases");
    assert!(cases.len() >= 25, "expected.json lost cases");
    for case in cases {
        let file = str_field(case, "file").expect("file");
        let trust = paths(case.get("trust"), &exp["trust"]);
        let inter = paths(case.get("intermediates"), &Value::Array(vec![]));
        let allow_sha1 = case
            .get("danger_allow_sha1")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let at = str_field(case, "at").unwrap_or(at_default);
        let v = verifier(&trust, &inter, allow_sha1);
        let sig = std::fs::read(fixture(file)).expect("fixture");
        // Large contents are generated, not committed: ["a", 1048576] = 1 MiB of 'a'.
        let repeat = case.get("content_repeat").map(|r| {
            let byte = r[0].as_str().and_then(|s| s.bytes().next()).expect("byte");
            vec![byte; r[1].as_u64().expect("len") as usize]
        });
        let content = str_field(case, "content")
            .map(|c| std::fs::read(fixture(c)).expect("content"))
            .or(repeat);
        let opts = RequestOptions {
            at: Some(parse_rfc3339(at).expect("time")),
            revocation: RevocationMode::Prefer,
            ..Default::default()
        };
        let verdict = v.verify(
            &Input::Cms {
                signature: &sig,
                content: content.as_deref(),
            },
            &opts,
        );
        let json: Value = serde_json::from_str(&verdict.to_json()).expect("verdict JSON");
        let ctx = format!("{file} {case}: got {json}");
        assert_eq!(json["indication"], case["indication"], "{ctx}");
        assert_eq!(
            json["sub_indication"],
            case.get("sub_indication").cloned().unwrap_or(Value::Null),
            "{ctx}"
        );
        assert_eq!(
            json["signatures"].as_array().map(Vec::len),
            case["signers"].as_u64().map(|n| n as usize),
            "{ctx}"
        );
        if let Some(alg) = case.get("algorithm") {
            assert_eq!(&json["signatures"][0]["algorithm"], alg, "{ctx}");
        }
        if json["indication"] == "TOTAL_PASSED" {
            for s in json["signatures"].as_array().expect("signatures") {
                let chain = s["chain"].as_array().expect("chain");
                assert!(chain.len() >= 2, "{ctx}");
                assert_eq!(
                    chain.last().map(|c| &c["trust_anchor"]),
                    Some(&Value::Bool(true)),
                    "{ctx}"
                );
                assert!(
                    s["signer"]["subject"]
                        .as_str()
                        .is_some_and(|x| x.contains("CN=")),
                    "{ctx}"
                );
            }
        }

        // The same case through the binary: exit status and JSON on stdout only.
        let mut args: Vec<String> = vec!["verify".into(), "cms".into(), "--json".into()];
        args.extend([
            "--signature".into(),
            s(&fixture(file)).into(),
            "--at".into(),
            at.into(),
        ]);
        let tmp_content =
            std::env::temp_dir().join(format!("tekser-fixture-content-{}", std::process::id()));
        if let Some(c) = str_field(case, "content") {
            args.extend(["--content".into(), s(&fixture(c)).into()]);
        } else if let Some(c) = &content {
            std::fs::write(&tmp_content, c).expect("write content");
            args.extend(["--content".into(), s(&tmp_content).into()]);
        }
        for t in &trust {
            args.extend(["--trust".into(), s(t).into()]);
        }
        for i in &inter {
            args.extend(["--intermediate".into(), s(i).into()]);
        }
        if allow_sha1 {
            args.push("--danger-allow-sha1".into());
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = tekser(&argv);
        // An input of another recognised type is a usage error at the CLI, naming the command.
        if let Some(want) = case.get("cli_exit").and_then(Value::as_i64) {
            assert_eq!(i64::from(code), want, "{ctx}: {stderr}");
            assert!(stderr.contains("use `tekser verify "), "{ctx}: {stderr}");
            continue;
        }
        let cli: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{ctx}: stdout not JSON ({e}): {stdout} {stderr}"));
        assert_eq!(cli["indication"], json["indication"], "{ctx}");
        let want_code = match json["indication"].as_str() {
            Some("TOTAL_PASSED") => 0,
            Some("TOTAL_FAILED") => 1,
            _ => 2,
        };
        assert_eq!(code, want_code, "{ctx}");
    }
}

#[test]
fn chain_fixtures_match_expected_verdicts() {
    let exp = expected();
    let at = exp["at"].as_str().expect("at");
    for case in exp["chains"].as_array().expect("chains") {
        let cert = str_field(case, "cert").expect("cert");
        let inter = paths(case.get("intermediates"), &Value::Array(vec![]));
        let trust = paths(None, &exp["trust"]);
        let mut args: Vec<String> = vec![
            "verify".into(),
            "chain".into(),
            "--json".into(),
            "--at".into(),
            at.into(),
        ];
        args.extend(["--cert".into(), s(&fixture(cert)).into()]);
        for t in &trust {
            args.extend(["--trust".into(), s(t).into()]);
        }
        for i in &inter {
            args.extend(["--intermediate".into(), s(i).into()]);
        }
        if let Some(d) = case.get("max_depth").and_then(Value::as_u64) {
            args.extend(["--max-depth".into(), d.to_string()]);
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = tekser(&argv);
        let json: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{case}: {e}: {stdout} {stderr}"));
        let ctx = format!("{case}: got {json}");
        assert_eq!(json["format"], "chain", "{ctx}");
        assert_eq!(json["indication"], case["indication"], "{ctx}");
        assert_eq!(
            json["sub_indication"],
            case.get("sub_indication").cloned().unwrap_or(Value::Null),
            "{ctx}"
        );
        if let Some(n) = case.get("chain_len").and_then(Value::as_u64) {
            assert_eq!(
                json["signatures"][0]["chain"].as_array().map(Vec::len),
                Some(n as usize),
                "{ctx}"
            );
        }
        assert_eq!(
            code,
            if json["indication"] == "TOTAL_PASSED" {
                0
            } else if json["indication"] == "TOTAL_FAILED" {
                1
            } else {
                2
            }
        );
    }
}

#[test]
fn tampered_content_is_hash_failure_and_tampered_signature_is_crypto_failure() {
    let v = verifier(&[fixture("pki/rsa-root.crt")], &[], false);
    let opts = RequestOptions {
        at: Some(parse_rfc3339("2025-06-01T00:00:00Z").expect("time")),
        revocation: RevocationMode::Off,
        ..Default::default()
    };
    let sig = std::fs::read(fixture("cms/rsa-detached.p7s")).expect("fixture");
    let mut content = std::fs::read(fixture("cms/content.txt")).expect("content");
    content[0] ^= 1;
    let verdict = v.verify(
        &Input::Cms {
            signature: &sig,
            content: Some(&content),
        },
        &opts,
    );
    assert_eq!(
        format!("{:?}", verdict.sub_indication()),
        "Some(HASH_FAILURE)"
    );

    // Flip a bit in the last byte (inside the RSA signature value of the last SignerInfo).
    let mut sig = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("fixture");
    let n = sig.len();
    sig[n - 1] ^= 0x01;
    let verdict = v.verify(
        &Input::Cms {
            signature: &sig,
            content: None,
        },
        &opts,
    );
    assert_eq!(
        format!("{:?}", verdict.sub_indication()),
        "Some(SIG_CRYPTO_FAILURE)"
    );

    // Same with no signed attributes: the signature covers the content itself.
    let sig = std::fs::read(fixture("cms/rsa-noattr.p7s")).expect("fixture");
    let pos = sig
        .windows(9)
        .position(|w| w == b"tekser te")
        .expect("attached content");
    let mut sig2 = sig.clone();
    sig2[pos] ^= 0x20;
    let verdict = v.verify(
        &Input::Cms {
            signature: &sig2,
            content: None,
        },
        &opts,
    );
    assert_eq!(
        format!("{:?}", verdict.sub_indication()),
        "Some(SIG_CRYPTO_FAILURE)"
    );
}

#[test]
fn revocation_require_is_try_later_until_revocation_lands() {
    let v = verifier(&[fixture("pki/rsa-root.crt")], &[], false);
    let opts = RequestOptions {
        at: Some(parse_rfc3339("2025-06-01T00:00:00Z").expect("time")),
        revocation: RevocationMode::Require,
        ..Default::default()
    };
    let sig = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("fixture");
    let verdict = v.verify(
        &Input::Cms {
            signature: &sig,
            content: None,
        },
        &opts,
    );
    assert_eq!(format!("{:?}", verdict.sub_indication()), "Some(TRY_LATER)");
}
