//! Revocation data made by other implementations: OpenSSL's OCSP test matrix, NIST PKITS, and the
//! NCA's recorded OCSP responses and CRLs.

mod support;

use support::shared;
use tekser::crypto::{AlgorithmPolicy, Sha1Policy};
use tekser::pki::cert::Certificate;
use tekser::pki::ocsp::{self, CertStatus, OcspCheck};
use tekser::pki::trust::parse_bundle;

/// 2012-12-19T00:00:00Z, the check time of OpenSSL's `80-test_ocsp.t`.
const OPENSSL_CHECK_TIME: i64 = 1_355_875_200;

fn legacy_policy() -> AlgorithmPolicy {
    // The 2012 GlobalSign responses are SHA-1 signed; the matrix is about who signed, not how.
    AlgorithmPolicy {
        sha1: Sha1Policy::DangerAllowLegacy,
        min_rsa_bits: 1024,
    }
}

fn pem_cert(path: &std::path::Path) -> Certificate {
    let data = std::fs::read(path).expect("read cert");
    parse_bundle(&data)
        .expect("parse cert")
        .into_iter()
        .next()
        .expect("one cert")
}

/// OpenSSL's OCSP matrix: response + the issuer certificate as the only trusted one.
///
/// Two rows are disputed by OpenSSL 3.0 itself, decided here from RFC 6960:
/// - WSNIC D2 (issuer certificate with a wrong subject name, delegated responder issued by the
///   real root) must FAIL: §4.2.2.2 requires the responder certificate to be issued "by the CA
///   that issued the certificate in question", and a CA named otherwise did not issue it (its
///   issuer name differs, and the CertID's issuerNameHash does not match either).
/// - ISIC ND1 (issuer certificate with an invalid signature of its own, response signed by that
///   issuer) must PASS: the issuer certificate is the configured trust anchor here, and an
///   anchor is trusted for its name and key, not for its own signature (RFC 5280 §6.1.1 (d)); the
///   response's signature by that key is valid.
#[test]
fn openssl_ocsp_matrix() {
    let Some(dir) = shared("openssl-ocsp") else {
        return;
    };
    let tsv = std::fs::read_to_string(dir.join("expected.tsv")).expect("expected.tsv");
    let (mut ran, mut failures) = (0, Vec::new());
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [resp, trusted, _untrusted, expected, title] = cols[..] else {
            panic!("bad row {line:?}");
        };
        let b64 = std::fs::read_to_string(dir.join(resp)).expect("response");
        let der = tekser::asn1::pem::decode_base64(&b64).expect("base64 response");
        let issuer = pem_cert(&dir.join(trusted));
        let check = OcspCheck {
            id: None,
            nonce: None,
            freshness: None,
            at: OPENSSL_CHECK_TIME,
            policy: legacy_policy(),
        };
        let got = ocsp::validate(&der, &issuer, &check);
        ran += 1;
        let ok = match expected {
            "pass" => matches!(got, Ok(ref s) if s.status == CertStatus::Good),
            "fail" => got.is_err(),
            other => panic!("unknown expectation {other}"),
        };
        if !ok {
            failures.push(format!("{title}: expected {expected}, got {got:?}"));
        }
    }
    assert_eq!(ran, 54, "every row of expected.tsv ran");
    assert!(failures.is_empty(), "{} rows disagree:\n{}", failures.len(), failures.join("\n"));
}
