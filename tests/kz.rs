//! First contact with the Kazakh NCA test PKI: CMS made by Kalkan (the NCA's own library).

mod support;

use support::*;
use tekser::pki::time::parse_rfc3339;
use tekser::verdict::{Indication, SubIndication, Verdict};
use tekser::verify::{RequestOptions, RevocationMode};

fn verify(sig: &str, content: Option<&str>, at: &str) -> Option<Verdict> {
    let kz = shared("kz")?;
    let v = verifier(
        &[
            kz.join("ca/nca_rsa_test.crt"),
            kz.join("ca/nca_gost2015_test.cer"),
        ],
        &[],
        false,
    );
    let sig = std::fs::read(kz.join("cms").join(sig)).expect("sample");
    let content = content.map(|c| std::fs::read(kz.join("cms").join(c)).expect("content"));
    let opts = RequestOptions {
        at: Some(parse_rfc3339(at).expect("time")),
        revocation: RevocationMode::Off,
    };
    Some(v.verify_cms(&sig, content.as_deref(), &opts))
}

/// Inside the RSA signer's validity (2021-01-18 .. 2022-01-18).
const RSA_TIME: &str = "2021-06-01T00:00:00Z";
/// Inside the GOST signer's validity (2022-07-28 .. 2023-07-28).
const GOST_TIME: &str = "2022-10-01T00:00:00Z";

#[test]
fn kalkan_rsa_sample_passes_with_iin_and_a_signing_time_warning() {
    let Some(v) = verify("attached-1signer-rsa.cms", None, RSA_TIME) else {
        return;
    };
    assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
    let s = &v.signatures[0];
    let signer = s.signer.as_ref().expect("signer");
    assert_eq!(signer.iin.as_deref(), Some("123456789011"));
    assert!(signer.issuer.contains("RSA TEST"), "{}", signer.issuer);
    assert_eq!(s.algorithm.as_deref(), Some("rsa-pkcs1-sha256"));
    assert_eq!(s.chain.len(), 2);
    assert!(s.chain[1].trust_anchor);
    assert_eq!(s.signing_time.as_deref(), Some("2022-09-28T14:40:30Z"));
    // The test key had expired when Kalkan signed with it: say so.
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("signingTime") && w.contains("outside")),
        "{:?}",
        s.warnings
    );

    let Some(v) = verify("attached-1signer-lol_kek.cms", None, RSA_TIME) else {
        return;
    };
    assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
}

#[test]
fn kalkan_rsa_sample_fails_outside_validity() {
    let Some(v) = verify("attached-1signer-rsa.cms", None, GOST_TIME) else {
        return;
    };
    assert_eq!(v.indication(), Indication::TOTAL_FAILED);
    assert_eq!(v.sub_indication(), Some(SubIndication::EXPIRED));
}

fn check_two_signers(v: &Verdict, at_rsa_time: bool) {
    assert_eq!(v.signatures.len(), 2, "{}", v.to_json());
    let gost = v
        .signatures
        .iter()
        .find(|s| s.signer.as_ref().is_some_and(|x| x.issuer.contains("GOST")))
        .expect("GOST signer reported");
    let rsa = v
        .signatures
        .iter()
        .find(|s| s.signer.as_ref().is_some_and(|x| x.issuer.contains("RSA")))
        .expect("RSA signer reported");
    // GOST is not supported yet: INDETERMINATE with a reason that says so, never TOTAL_FAILED.
    assert_eq!(
        gost.indication(),
        Indication::INDETERMINATE,
        "{}",
        v.to_json()
    );
    assert_eq!(
        gost.sub_indication(),
        Some(SubIndication::CRYPTO_CONSTRAINTS_FAILURE)
    );
    assert!(gost
        .errors
        .iter()
        .any(|e| e.code == "unsupported-algorithm" && e.message.contains("GOST")));
    assert_eq!(
        gost.signer.as_ref().and_then(|s| s.iin.as_deref()),
        Some("123456789012")
    );
    if at_rsa_time {
        assert_eq!(
            rsa.indication(),
            Indication::TOTAL_PASSED,
            "{}",
            v.to_json()
        );
        assert_eq!(v.indication(), Indication::INDETERMINATE);
    } else {
        assert_eq!(rsa.indication(), Indication::TOTAL_FAILED);
        assert_eq!(rsa.sub_indication(), Some(SubIndication::EXPIRED));
        assert_eq!(v.indication(), Indication::TOTAL_FAILED);
    }
}

#[test]
fn kalkan_two_signer_samples_report_each_signer() {
    for (sig, content) in [
        ("attached-2signers-gost2015-rsa.cms", None),
        (
            "detached-2signers-gost2015-rsa.cms",
            Some("content-test123.txt"),
        ),
    ] {
        let Some(v) = verify(sig, content, RSA_TIME) else {
            return;
        };
        check_two_signers(&v, true);
        let Some(v) = verify(sig, content, GOST_TIME) else {
            return;
        };
        check_two_signers(&v, false);
    }
}

#[test]
fn kalkan_detached_without_content_is_signed_data_not_found() {
    let Some(v) = verify("detached-2signers-gost2015-rsa.cms", None, RSA_TIME) else {
        return;
    };
    let rsa = v
        .signatures
        .iter()
        .find(|s| s.signer.as_ref().is_some_and(|x| x.issuer.contains("RSA")))
        .expect("RSA signer");
    assert_eq!(
        rsa.sub_indication(),
        Some(SubIndication::SIGNED_DATA_NOT_FOUND)
    );
    let Some(v) = verify(
        "detached-2signers-gost2015-rsa.cms",
        Some("content-test123.txt"),
        RSA_TIME,
    ) else {
        return;
    };
    assert_eq!(v.signatures.len(), 2);
}

#[test]
fn kalkan_sample_with_wrong_content_is_hash_failure() {
    let Some(kz) = shared("kz") else { return };
    let v = verifier(&[kz.join("ca/nca_rsa_test.crt")], &[], false);
    let sig = std::fs::read(kz.join("cms/detached-2signers-gost2015-rsa.cms")).expect("sample");
    let opts = RequestOptions {
        at: Some(parse_rfc3339(RSA_TIME).expect("time")),
        revocation: RevocationMode::Off,
    };
    let v = v.verify_cms(&sig, Some(b"test124"), &opts);
    assert_eq!(v.indication(), Indication::TOTAL_FAILED);
    assert_eq!(v.sub_indication(), Some(SubIndication::HASH_FAILURE));
}
