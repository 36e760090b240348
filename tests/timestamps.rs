//! RFC 3161 signature time-stamps: a token made by `openssl ts` over a signature made by
//! `openssl cms` (fixtures/generate-tsa.sh), and the NCA test TSA's token and response.

mod support;

use support::{fixture, testdata};
use tekser::config::RawConfig;
use tekser::pki::time::{format_rfc3339, parse_rfc3339};
use tekser::verify::Input;

fn meta_gen_time() -> String {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("tsa/meta.json")).expect("meta"))
            .expect("json");
    m["gen_time"].as_str().expect("gen_time").to_owned()
}

/// Thirty days after the signer's certificate expired (it lived one day).
fn after_expiry() -> String {
    let gen = parse_rfc3339(&meta_gen_time()).expect("time");
    format_rfc3339(gen + 31 * 86_400)
}

fn verify(file: &str, revocation: &str, crl: bool) -> serde_json::Value {
    let raw = RawConfig {
        trust: vec![fixture("tsa/ca.crt")],
        crls: if crl {
            vec![fixture("tsa/revoked-after.crl")]
        } else {
            vec![]
        },
        at: Some(after_expiry()),
        revocation: Some(revocation.into()),
        ..RawConfig::default()
    };
    let cfg = raw.validate().expect("config");
    let sig = std::fs::read(fixture(&format!("tsa/{file}"))).expect("cms");
    serde_json::from_str(
        &cfg.verifier
            .verify(
                &Input::Cms {
                    signature: &sig,
                    content: None,
                },
                &cfg.request,
            )
            .to_json(),
    )
    .expect("json")
}

#[test]
fn a_valid_timestamp_carries_the_signature_past_certificate_expiry() {
    let v = verify("timestamped.p7s", "off", false);
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v:#}");
    let ts = &v["signatures"][0]["timestamp"];
    assert_eq!(ts["valid"], true);
    assert_eq!(ts["gen_time"], meta_gen_time().as_str());
    assert!(
        ts["tsa"].as_str().unwrap_or("").contains("tekser test TSA"),
        "{ts}"
    );
    // Without the token the same signature is judged now: expired, with no proof of existence
    // from before expiry (INDETERMINATE, not a forgery); its own signed signingTime is reported
    // as a claim, with the chain valid then.
    let v = verify("signed.p7s", "off", false);
    let claimed = &v["signatures"][0]["claimed_time"];
    assert_eq!(claimed["source"], "cms-signing-time", "{v:#}");
    assert_eq!(claimed["signed"], true, "{v:#}");
    assert_eq!(claimed["chain_valid"], true, "{v:#}");
    assert_eq!(claimed["time"], v["signatures"][0]["signing_time"], "{v:#}");
    assert_eq!(v["sub_indication"], "OUT_OF_BOUNDS_NO_POE", "{v:#}");
    assert_eq!(v["indication"], "INDETERMINATE", "{v:#}");
}

#[test]
fn revocation_after_gen_time_does_not_fail_a_timestamped_signature() {
    let v = verify("timestamped.p7s", "require", true);
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v:#}");
    let s = &v["signatures"][0];
    assert_eq!(s["revocation"]["status"], "revoked", "{v:#}");
    assert!(
        s["warnings"]
            .to_string()
            .contains("after the validation time"),
        "{v:#}"
    );
}

#[test]
fn a_token_over_other_bytes_is_not_used() {
    let v = verify("bad-imprint.p7s", "off", false);
    assert_eq!(v["sub_indication"], "OUT_OF_BOUNDS_NO_POE", "{v:#}");
    assert_eq!(v["indication"], "INDETERMINATE", "{v:#}");
    let s = &v["signatures"][0];
    assert_eq!(s["timestamp"]["valid"], false, "{v:#}");
    assert!(
        s["warnings"].to_string().contains("message imprint"),
        "{v:#}"
    );
}

#[test]
fn the_tsa_certificate_must_be_for_time_stamping() {
    // The signer's own signature as if it were a token: the certificate lacks timeStamping.
    let raw = RawConfig {
        trust: vec![fixture("tsa/ca.crt")],
        at: Some(meta_gen_time()),
        revocation: Some("off".into()),
        ..RawConfig::default()
    };
    let cfg = raw.validate().expect("config");
    let token = std::fs::read(fixture("tsa/token.tsr")).expect("token");
    let v = cfg.verifier.verify_timestamp_token(&token, &cfg.request);
    assert_eq!(
        v.indication(),
        tekser::verdict::Indication::TOTAL_PASSED,
        "{}",
        v.to_json()
    );
    let signed = std::fs::read(fixture("tsa/signed.p7s")).expect("cms");
    let v = cfg.verifier.verify_timestamp_token(&signed, &cfg.request);
    assert!(v.to_json().contains("not-a-tsa"), "{}", v.to_json());
}

#[test]
fn nca_test_tsa_token_and_response_verify() {
    let kz = testdata("kz");
    let raw = RawConfig {
        trust: vec![kz.join("ca/nca_gost_test.crt")],
        at: Some("2022-09-18T13:20:14Z".into()),
        revocation: Some("off".into()),
        ..RawConfig::default()
    };
    // The sample's message imprint is SHA-1: refused by the default policy (issue 12 item 5),
    // verified under the legacy SHA-1 setting.
    let strict = raw.clone().validate().expect("config");
    let data = std::fs::read(kz.join("tsp/tsp_token.bin")).expect("tsp");
    let v = strict
        .verifier
        .verify_timestamp_token(&data, &strict.request);
    assert_eq!(
        v.sub_indication(),
        Some(tekser::verdict::SubIndication::CRYPTO_CONSTRAINTS_FAILURE),
        "{}",
        v.to_json()
    );
    assert!(
        v.to_json().contains("message imprint: SHA-1"),
        "{}",
        v.to_json()
    );
    let cfg = RawConfig {
        danger_allow_sha1: true,
        ..raw
    }
    .validate()
    .expect("config");
    for f in ["tsp/tsp_token.bin", "tsp/tsp_response.bin"] {
        let data = std::fs::read(kz.join(f)).expect("tsp");
        let v = cfg.verifier.verify_timestamp_token(&data, &cfg.request);
        assert_eq!(
            v.indication(),
            tekser::verdict::Indication::TOTAL_PASSED,
            "{f}: {}",
            v.to_json()
        );
        assert_eq!(
            v.signatures[0].algorithm.as_deref(),
            Some("gost34310-2004"),
            "{f}"
        );
    }
}

/// genTime of the tokens in fixtures/forged (generate-forgeries.sh).
fn forged_gen_time() -> i64 {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("forged/meta.json")).expect("meta"))
            .expect("json");
    parse_rfc3339(m["gen_time"].as_str().expect("gen_time")).expect("time")
}

/// A verifier trusting the fixture RSA root, at `at`, revocation off.
fn forged_config(at: i64) -> tekser::config::Config {
    RawConfig {
        trust: vec![fixture("pki/rsa-root.crt")],
        at: Some(format_rfc3339(at)),
        revocation: Some("off".into()),
        ..RawConfig::default()
    }
    .validate()
    .expect("config")
}

/// Issue 12 item 5, RFC 3161 §2.3: the TSA certificate's extendedKeyUsage must be critical and
/// hold id-kp-timeStamping only. `openssl ts -reply` signs only with such a certificate; the other
/// two tokens are `openssl cms -sign` over the same TSTInfo.
#[test]
fn the_tsa_certificate_profile_is_enforced() {
    let cfg = forged_config(forged_gen_time() + 86_400);
    let check = |file: &str| {
        let token = std::fs::read(fixture(&format!("forged/{file}"))).expect("token");
        cfg.verifier.verify_timestamp_token(&token, &cfg.request)
    };
    let good = check("tsa-good.tsr");
    assert_eq!(
        good.indication(),
        tekser::verdict::Indication::TOTAL_PASSED,
        "{}",
        good.to_json()
    );
    for (file, needle) in [
        ("tsa-noncrit.tsr", "not critical"),
        ("tsa-multi.tsr", "besides id-kp-timeStamping"),
    ] {
        let v = check(file);
        assert_eq!(
            v.sub_indication(),
            Some(tekser::verdict::SubIndication::SIG_CONSTRAINTS_FAILURE),
            "{file}: {}",
            v.to_json()
        );
        let text = support::error_text(&v);
        assert!(
            text.contains("not-a-tsa") && text.contains(needle),
            "{file}: {text}"
        );
    }
}

/// Issue 12 item 5: a signature time-stamp whose message imprint is SHA-1 is not used (the
/// algorithm policy applies to the imprint); the same signature with a SHA-256 imprint is.
#[test]
fn a_sha1_message_imprint_is_refused() {
    let cfg = forged_config(forged_gen_time() + 86_400);
    let run = |file: &str| -> serde_json::Value {
        let sig = std::fs::read(fixture(&format!("forged/{file}"))).expect("cms");
        serde_json::from_str(
            &cfg.verifier
                .verify(
                    &Input::Cms {
                        signature: &sig,
                        content: None,
                    },
                    &cfg.request,
                )
                .to_json(),
        )
        .expect("json")
    };
    let good = run("stamped.p7s");
    assert_eq!(good["indication"], "TOTAL_PASSED", "{good:#}");
    assert_eq!(
        good["signatures"][0]["timestamp"]["valid"], true,
        "{good:#}"
    );
    let sha1 = run("stamped-sha1-imprint.p7s");
    let ts = &sha1["signatures"][0]["timestamp"];
    assert_eq!(ts["valid"], false, "{sha1:#}");
    let warnings = sha1["signatures"][0]["warnings"].to_string();
    assert!(
        warnings.contains("message imprint") && warnings.contains("SHA-1"),
        "{sha1:#}"
    );
}

/// Issue 13 item 10: a signingTime after the validation time is a warning. fixtures/cms was
/// signed on 2026-11-25; validated at 2025-06-01 its signingTime lies in the future.
#[test]
fn a_signing_time_in_the_future_is_a_warning() {
    let sig = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("cms");
    let at = |t: &str| {
        let cfg = RawConfig {
            trust: vec![fixture("pki/rsa-root.crt")],
            at: Some(t.into()),
            revocation: Some("off".into()),
            ..RawConfig::default()
        }
        .validate()
        .expect("config");
        cfg.verifier.verify(
            &Input::Cms {
                signature: &sig,
                content: None,
            },
            &cfg.request,
        )
    };
    let early = at("2025-06-01T00:00:00Z");
    assert_eq!(
        early.indication(),
        tekser::verdict::Indication::TOTAL_PASSED
    );
    let w = early.signatures[0].warnings.join("\n");
    assert!(
        w.contains("signingTime") && w.contains("in the future"),
        "{w}"
    );
    let later = at("2027-01-01T00:00:00Z");
    let w = later.signatures[0].warnings.join("\n");
    assert!(!w.contains("in the future"), "{w}");
}

/// Issue 13 item 10: a time-stamp token whose genTime is after the validation time is not
/// `valid: true`; it is unusable with a warning (the signature is judged at the validation time),
/// and a standalone token says so too.
#[test]
fn a_time_stamp_from_the_future_is_not_valid() {
    let gen = forged_gen_time();
    let before = forged_config(gen - 180 * 86_400);
    let sig = std::fs::read(fixture("forged/stamped.p7s")).expect("cms");
    let v: serde_json::Value = serde_json::from_str(
        &before
            .verifier
            .verify(
                &Input::Cms {
                    signature: &sig,
                    content: None,
                },
                &before.request,
            )
            .to_json(),
    )
    .expect("json");
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v:#}");
    let s = &v["signatures"][0];
    assert_eq!(s["timestamp"]["valid"], false, "{v:#}");
    assert!(
        s["warnings"].to_string().contains("genTime")
            && s["warnings"]
                .to_string()
                .contains("after the validation time"),
        "{v:#}"
    );
    // Within the clock skew it is valid.
    let just = forged_config(gen - 60);
    let v: serde_json::Value = serde_json::from_str(
        &just
            .verifier
            .verify(
                &Input::Cms {
                    signature: &sig,
                    content: None,
                },
                &just.request,
            )
            .to_json(),
    )
    .expect("json");
    assert_eq!(v["signatures"][0]["timestamp"]["valid"], true, "{v:#}");

    let token = std::fs::read(fixture("forged/tsa-good.tsr")).expect("token");
    let v = before
        .verifier
        .verify_timestamp_token(&token, &before.request);
    let w = v.signatures[0].warnings.join("\n");
    assert!(
        w.contains("genTime") && w.contains("after the validation time"),
        "{w}"
    );
}
