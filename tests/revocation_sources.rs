//! Combining every verified local revocation source for a certificate (issue #12 item 1): a
//! stale "good" must never beat a revocation made known later. Fixtures from
//! `fixtures/revocation/make.sh` (OpenSSL and asn1crypto).

mod support;

use support::fixture;
use tekser::config::RawConfig;
use tekser::verify::Input;

/// The CMS signed by rsa-leaf, carrying OpenSSL's "good" for it (producedAt 2026-11-25).
fn cms_with_good() -> Vec<u8> {
    std::fs::read(fixture("revocation/rsa-attached-ocsp.p7s")).expect("fixture")
}

fn verify(crls: &[&str], mode: &str, at: &str) -> serde_json::Value {
    verify_sig(&cms_with_good(), crls, mode, at)
}

fn verify_sig(sig: &[u8], crls: &[&str], mode: &str, at: &str) -> serde_json::Value {
    let cfg = RawConfig {
        trust: vec![fixture("pki/rsa-root.crt")],
        intermediates: vec![fixture("pki/rsa-int.crt")],
        crls: crls.iter().map(|c| fixture(c)).collect(),
        revocation: Some(mode.into()),
        at: Some(at.into()),
        ..RawConfig::default()
    }
    .validate()
    .expect("config");
    let v = cfg.verifier.verify(
        &Input::Cms {
            signature: sig,
            content: None,
        },
        &cfg.request,
    );
    serde_json::from_str(&v.to_json()).expect("json")
}

#[test]
fn embedded_good_alone_passes_from_the_embedded_source() {
    // The control: without the CRL the embedded answer is used.
    let v = verify(&[], "prefer", "2026-11-28T00:00:00Z");
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v:#}");
    let r = &v["signatures"][0]["revocation"];
    assert_eq!(
        (r["status"].as_str(), r["source"].as_str()),
        (Some("good"), Some("embedded")),
        "{v:#}"
    );
}

#[test]
fn a_later_crl_revocation_beats_an_embedded_stale_good() {
    // Good produced 2026-11-25, CRL of 2026-11-26 revoking on 2026-11-26, validated 2026-11-28.
    for mode in ["prefer", "require"] {
        let v = verify(
            &["revocation/rsa-int-revokes-leaf.crl"],
            mode,
            "2026-11-28T00:00:00Z",
        );
        assert_eq!(v["indication"], "TOTAL_FAILED", "{mode}: {v:#}");
        assert_eq!(v["sub_indication"], "REVOKED", "{mode}: {v:#}");
        let r = &v["signatures"][0]["revocation"];
        assert_eq!(r["status"], "revoked", "{v:#}");
        assert_eq!(r["source"], "crl", "the deciding source: {v:#}");
        assert_eq!(r["revoked_at"], "2026-11-26T00:00:00Z", "{v:#}");
    }
}

#[test]
fn a_revocation_after_the_validation_time_only_warns() {
    // Validated 2026-11-25T20:00 (after the good, before the revocation): passes with a warning.
    let v = verify(
        &["revocation/rsa-int-revokes-leaf.crl"],
        "prefer",
        "2026-11-25T20:00:00Z",
    );
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v:#}");
    assert!(v.to_string().contains("after the validation time"), "{v:#}");
}

#[test]
fn a_fresher_good_beats_an_older_hold() {
    // certificateHold since 2026-11-19 on a CRL of 2026-11-20; the good of 2026-11-25 is
    // fresher: the hold was lifted, the freshest status wins.
    let v = verify(
        &["revocation/rsa-int-hold-leaf.crl"],
        "prefer",
        "2026-11-28T00:00:00Z",
    );
    assert_eq!(v["indication"], "TOTAL_PASSED", "{v:#}");
    let r = &v["signatures"][0]["revocation"];
    assert_eq!(
        (r["status"].as_str(), r["source"].as_str()),
        (Some("good"), Some("embedded")),
        "{v:#}"
    );
}

#[test]
fn a_newer_crl_lifts_a_hold_of_an_older_one() {
    // No OCSP at all: the CRL of 2026-11-20 puts the leaf on hold, the CRL of 2026-11-27 no
    // longer lists it. The freshest wins; each CRL alone decides as it says.
    let sig = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("fixture");
    let at = "2026-11-28T00:00:00Z";
    let hold = "revocation/rsa-int-hold-leaf.crl";
    let empty = "revocation/rsa-int-empty.crl";
    for crls in [[hold, empty], [empty, hold]] {
        let v = verify_sig(&sig, &crls, "prefer", at);
        assert_eq!(v["indication"], "TOTAL_PASSED", "{crls:?}: {v:#}");
        assert_eq!(
            v["signatures"][0]["revocation"]["produced_at"], "2026-11-27T00:00:00Z",
            "{v:#}"
        );
    }
    let v = verify_sig(&sig, &[hold], "prefer", at);
    assert_eq!(v["sub_indication"], "REVOKED", "{v:#}");
    // A permanent revocation is not lifted by a newer CRL (RFC 5280 §3.3).
    let v = verify_sig(
        &sig,
        &["revocation/rsa-int-revokes-leaf.crl", empty],
        "prefer",
        at,
    );
    assert_eq!(v["sub_indication"], "REVOKED", "{v:#}");
}
