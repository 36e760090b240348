//! First contact with the Kazakh NCA test PKI: CMS made by Kalkan (the NCA's own library).

mod support;

use support::*;
use tekser::pki::time::parse_rfc3339;
use tekser::verdict::{Indication, SubIndication, Verdict};
use tekser::verify::Input;
use tekser::verify::{RequestOptions, RevocationMode};

fn verify(sig: &str, content: Option<&str>, at: &str) -> Verdict {
    let kz = testdata("kz");
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
        ..Default::default()
    };
    v.verify(
        &Input::Cms {
            signature: &sig,
            content: content.as_deref(),
        },
        &opts,
    )
}

/// Inside the RSA signer's validity (2021-01-18 .. 2022-01-18).
const RSA_TIME: &str = "2021-06-01T00:00:00Z";
/// Inside the GOST signer's validity (2022-07-28 .. 2023-07-28).
const GOST_TIME: &str = "2022-10-01T00:00:00Z";

#[test]
fn kalkan_rsa_sample_passes_with_iin_and_a_signing_time_warning() {
    let v = verify("attached-1signer-rsa.cms", None, RSA_TIME);
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

    let v = verify("attached-1signer-lol_kek.cms", None, RSA_TIME);
    assert_eq!(v.indication(), Indication::TOTAL_PASSED, "{}", v.to_json());
}

#[test]
fn kalkan_rsa_sample_fails_outside_validity() {
    let v = verify("attached-1signer-rsa.cms", None, GOST_TIME);
    assert_eq!(v.indication(), Indication::INDETERMINATE);
    assert_eq!(
        v.sub_indication(),
        Some(SubIndication::OUT_OF_BOUNDS_NO_POE)
    );
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
    assert_eq!(
        gost.signer.as_ref().and_then(|s| s.iin.as_deref()),
        Some("123456789012")
    );
    assert_eq!(
        gost.algorithm.as_deref(),
        Some("gost3410-2015-512"),
        "{}",
        v.to_json()
    );
    // The validity periods do not overlap: at any time exactly one signer passes, and the other
    // says why not.
    if at_rsa_time {
        assert_eq!(
            rsa.indication(),
            Indication::TOTAL_PASSED,
            "{}",
            v.to_json()
        );
        assert_eq!(
            gost.sub_indication(),
            Some(SubIndication::OUT_OF_BOUNDS_NO_POE),
            "{}",
            v.to_json()
        );
    } else {
        assert_eq!(
            gost.indication(),
            Indication::TOTAL_PASSED,
            "{}",
            v.to_json()
        );
        assert_eq!(gost.chain.len(), 2);
        assert_eq!(
            rsa.sub_indication(),
            Some(SubIndication::OUT_OF_BOUNDS_NO_POE)
        );
    }
    assert_eq!(v.indication(), Indication::INDETERMINATE);
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
        let v = verify(sig, content, RSA_TIME);
        check_two_signers(&v, true);
        let v = verify(sig, content, GOST_TIME);
        check_two_signers(&v, false);
    }
}

#[test]
fn kalkan_detached_without_content_is_signed_data_not_found() {
    let v = verify("detached-2signers-gost2015-rsa.cms", None, RSA_TIME);
    let rsa = v
        .signatures
        .iter()
        .find(|s| s.signer.as_ref().is_some_and(|x| x.issuer.contains("RSA")))
        .expect("RSA signer");
    assert_eq!(
        rsa.sub_indication(),
        Some(SubIndication::SIGNED_DATA_NOT_FOUND)
    );
    let v = verify(
        "detached-2signers-gost2015-rsa.cms",
        Some("content-test123.txt"),
        RSA_TIME,
    );
    assert_eq!(v.signatures.len(), 2);
}

#[test]
fn kalkan_sample_with_wrong_content_is_hash_failure() {
    let kz = testdata("kz");
    let v = verifier(&[kz.join("ca/nca_rsa_test.crt")], &[], false);
    let sig = std::fs::read(kz.join("cms/detached-2signers-gost2015-rsa.cms")).expect("sample");
    let opts = RequestOptions {
        at: Some(parse_rfc3339(RSA_TIME).expect("time")),
        revocation: RevocationMode::Off,
        ..Default::default()
    };
    let v = v.verify(
        &Input::Cms {
            signature: &sig,
            content: Some(b"test124"),
        },
        &opts,
    );
    assert_eq!(v.indication(), Indication::TOTAL_FAILED);
    assert_eq!(v.sub_indication(), Some(SubIndication::HASH_FAILURE));
}

#[test]
fn gost_2015_ca_chains_to_the_nca_gost_root_and_a_corrupted_byte_fails() {
    let kz = testdata("kz");
    let v = verifier(&[kz.join("ncanode-go/root_test_gost_2022.cer")], &[], false);
    let opts = RequestOptions {
        at: Some(parse_rfc3339("2023-01-01T00:00:00Z").expect("time")),
        revocation: RevocationMode::Off,
        ..Default::default()
    };
    for ca in [
        "ca/nca_gost2015_test.cer",
        "ncanode-go/nca_gost2022_test.cer",
    ] {
        let der = std::fs::read(kz.join(ca)).expect("ca");
        let verdict = v.verify(
            &Input::Chain {
                certificates: &der,
                max_depth: None,
            },
            &opts,
        );
        assert_eq!(
            verdict.indication(),
            Indication::TOTAL_PASSED,
            "{ca}: {}",
            verdict.to_json()
        );
        // Flip one byte inside the tbsCertificate (the issuer's signature covers it).
        let mut bad = der.clone();
        let pos = bad.len() / 3;
        bad[pos] ^= 0x01;
        let verdict = v.verify(
            &Input::Chain {
                certificates: &bad,
                max_depth: None,
            },
            &opts,
        );
        assert_ne!(
            verdict.indication(),
            Indication::TOTAL_PASSED,
            "{ca} with byte {pos} flipped"
        );
    }
    // A corrupted byte in the Kalkan GOST signature value.
    let sig = std::fs::read(kz.join("cms/attached-2signers-gost2015-rsa.cms")).expect("sample");
    let v = verifier(&[kz.join("ca/nca_gost2015_test.cer")], &[], false);
    let at = RequestOptions {
        at: Some(parse_rfc3339("2022-10-01T00:00:00Z").expect("time")),
        revocation: RevocationMode::Off,
        ..Default::default()
    };
    let good = v.verify(
        &Input::Cms {
            signature: &sig,
            content: None,
        },
        &at,
    );
    let gost_ok = |verdict: &Verdict| {
        verdict
            .signatures
            .iter()
            .find(|s| s.algorithm.as_deref() == Some("gost3410-2015-512"))
            .map(|s| (s.indication(), s.sub_indication()))
    };
    assert_eq!(gost_ok(&good), Some((Indication::TOTAL_PASSED, None)));
    // The GOST SignerInfo's 128-byte signature: find it as the OCTET STRING of that length
    // (tag 04, length 81 80) and flip its first byte.
    let pos = sig
        .windows(3)
        .position(|w| w == [0x04, 0x81, 0x80])
        .expect("GOST signature value")
        + 3;
    let mut bad = sig.clone();
    bad[pos] ^= 0x01;
    assert_eq!(
        gost_ok(&v.verify(
            &Input::Cms {
                signature: &bad,
                content: None
            },
            &at
        )),
        Some((
            Indication::TOTAL_FAILED,
            Some(SubIndication::SIG_CRYPTO_FAILURE)
        ))
    );
}

#[test]
fn gost_2004_user_certificate_chains_to_the_nca_2004_ca_and_a_corrupted_byte_fails() {
    let kz = testdata("kz");
    let v = verifier(&[kz.join("ca/nca_gost_test.crt")], &[], false);
    let opts = RequestOptions {
        at: Some(parse_rfc3339("2022-06-01T00:00:00Z").expect("time")),
        revocation: RevocationMode::Off,
        ..Default::default()
    };
    let pem = std::fs::read(kz.join("certs/ceo_valid_sign_2004_gost.cer")).expect("cert");
    let verdict = v.verify(
        &Input::Chain {
            certificates: &pem,
            max_depth: None,
        },
        &opts,
    );
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        verdict.to_json()
    );
    let s = &verdict.signatures[0];
    let signer = s.signer.as_ref().expect("signer");
    assert_eq!(signer.iin.as_deref(), Some("123456789011"));
    assert_eq!(signer.bin.as_deref(), Some("123456789021"));
    assert!(
        signer.roles.iter().any(|r| r == "ceo"),
        "{:?}",
        signer.roles
    );
    // Corrupt the certificate: decode the PEM, flip a byte inside the tbsCertificate.
    let der = tekser::pki::trust::parse_bundle(&pem)
        .expect("pem")
        .remove(0)
        .der;
    let mut bad = der.clone();
    bad[200] ^= 0x01;
    let verdict = v.verify(
        &Input::Chain {
            certificates: &bad,
            max_depth: None,
        },
        &opts,
    );
    assert_ne!(verdict.indication(), Indication::TOTAL_PASSED);
}

/// The certificate inside an NCA test PKCS#12 (openssl pkcs12 -legacy), as PEM.
fn p12_cert(p12: &std::path::Path, password: &str) -> Vec<u8> {
    let out = std::process::Command::new("openssl")
        .args(["pkcs12", "-legacy", "-nokeys", "-clcerts", "-passin"])
        .arg(format!("pass:{password}"))
        .arg("-in")
        .arg(p12)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// IIN, BIN, roles and key purpose of the NCA's test certificates (issued by the NCA, read by us).
#[test]
fn nca_roles_and_key_purposes() {
    let kz = testdata("kz");
    let report = |pem: &[u8]| {
        let c = tekser::pki::trust::parse_bundle(pem)
            .expect("cert")
            .remove(0);
        tekser::verify::signer_report(&c)
    };
    let sign = report(&std::fs::read(kz.join("certs/individual_valid_sign_2004_rsa.cer")).unwrap());
    assert_eq!(
        (sign.key_purpose.as_str(), sign.roles.clone()),
        ("signing", vec!["individual".to_owned()])
    );
    let auth =
        report(&std::fs::read(kz.join("certs/individual_valid_sign_2004_rsa_auth.cer")).unwrap());
    assert_eq!(auth.key_purpose, "authentication");
    let dir = kz.join("ncanode-go");
    let password = std::fs::read_to_string(dir.join("PASSWORD.txt")).unwrap();
    let password = password.trim();
    for (file, iin, bin, roles) in [
        (
            "legal/valid/head.p12",
            Some("123456789011"),
            Some("123456789021"),
            &["legal-entity", "ceo"][..],
        ),
        (
            "legal/valid/employee.p12",
            Some("123456789012"),
            Some("123456789021"),
            &["legal-entity", "employee"],
        ),
        (
            "legal/valid/employee_signright.p12",
            Some("123456789012"),
            Some("123456789021"),
            &["legal-entity", "signing-right"],
        ),
        (
            "legal/valid/infosystem.p12",
            Some("123456789012"),
            Some("123456789021"),
            &["legal-entity", "information-system"],
        ),
        // An unknown role under the NCA's arc is reported by OID.
        (
            "legal/valid/treasury_client.p12",
            None,
            Some("123456789021"),
            &["legal-entity", "1.2.398.3.3.4.1.2.6"],
        ),
        (
            "individual/valid/individual_valid.p12",
            Some("123456789011"),
            None,
            &["individual"],
        ),
    ] {
        let r = report(&p12_cert(&dir.join(file), password));
        assert_eq!(r.iin.as_deref(), iin, "{file}");
        assert_eq!(r.bin.as_deref(), bin, "{file}");
        assert_eq!(r.roles, roles, "{file}");
        // GOST 2015 signing keys carry keyAgreement too; they are still signing keys.
        assert_eq!(r.key_purpose, "signing", "{file}");
    }
}

/// A document signed with an authentication-only key: a warning by default, a
/// SIG_CONSTRAINTS_FAILURE under the refuse policy. The PKI and CMS are made by the OpenSSL CLI.
#[test]
fn authentication_key_signatures_follow_the_policy() {
    let dir = std::env::temp_dir().join(format!("tekser-authkey-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = r#"set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj /CN=AuthKeyCA -days 3650 \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout auth.key -out auth.csr -subj /CN=AuthKeyLeaf 2>/dev/null
printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' > auth.ext
openssl x509 -req -in auth.csr -CA ca.crt -CAkey ca.key -set_serial 7 -days 365 -extfile auth.ext -out auth.crt 2>/dev/null
printf 'content' > content.txt
openssl cms -sign -binary -nodetach -in content.txt -signer auth.crt -inkey auth.key -outform DER -out auth.p7s
"#;
    let ok = std::process::Command::new("sh")
        .args(["-c", script])
        .current_dir(&dir)
        .status()
        .expect("sh runs")
        .success();
    assert!(ok, "openssl made the fixture");
    let sig = std::fs::read(dir.join("auth.p7s")).unwrap();
    let opts = RequestOptions {
        at: None,
        revocation: RevocationMode::Off,
        ..Default::default()
    };
    for (policy, indication) in [
        (
            tekser::verify::AuthKeyPolicy::Warn,
            Indication::TOTAL_PASSED,
        ),
        (
            tekser::verify::AuthKeyPolicy::Refuse,
            Indication::INDETERMINATE,
        ),
    ] {
        let mut raw = tekser::config::RawConfig {
            trust: vec![dir.join("ca.crt")],
            auth_key_signatures: policy,
            ..Default::default()
        };
        raw.limits = tekser::limits::Limits::default();
        let v = raw.validate().expect("config").verifier;
        let verdict = v.verify(
            &Input::Cms {
                signature: &sig,
                content: None,
            },
            &opts,
        );
        assert_eq!(verdict.indication(), indication, "{}", verdict.to_json());
        let s = &verdict.signatures[0];
        assert_eq!(s.signer.as_ref().unwrap().key_purpose, "authentication");
        if policy == tekser::verify::AuthKeyPolicy::Refuse {
            assert_eq!(
                s.sub_indication(),
                Some(SubIndication::SIG_CONSTRAINTS_FAILURE)
            );
        } else {
            assert!(
                s.warnings.iter().any(|w| w.contains("authentication key")),
                "{:?}",
                s.warnings
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
