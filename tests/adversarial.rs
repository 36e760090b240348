//! Hostile input: every fixture truncated and bit-flipped must give a verdict, never a panic, and
//! a flipped byte never makes a failing signature pass. Structural limits hold.

mod support;

use support::*;
use tekser::limits::Limits;
use tekser::pki::time::parse_rfc3339;
use tekser::pki::trust::TrustStore;
use tekser::verdict::{Indication, SubIndication};
use tekser::verify::{RequestOptions, RevocationMode, Verifier, VerifierConfig};

fn opts() -> RequestOptions {
    RequestOptions {
        at: Some(parse_rfc3339("2025-06-01T00:00:00Z").expect("time")),
        revocation: RevocationMode::Off,
    }
}

#[test]
fn mutated_fixtures_never_panic_and_never_pass_when_changed() {
    let v = verifier(
        &[fixture("pki/rsa-root.crt"), fixture("pki/ec-root.crt")],
        &[],
        false,
    );
    let content = std::fs::read(fixture("cms/content.txt")).expect("content");
    let mut runs = 0usize;
    for name in [
        "rsa-attached.p7s",
        "rsa-ber-stream.p7s",
        "rsa-noattr.p7s",
        "ec-attached.p7s",
        "rsa-two-signers.p7s",
        "rsa-detached.p7s",
        "rsa-pss.p7s",
    ] {
        let sig = std::fs::read(fixture(&format!("cms/{name}"))).expect("fixture");
        let detached = name.contains("detached");
        let c = detached.then_some(content.as_slice());
        assert_eq!(
            v.verify_cms(&sig, c, &opts()).indication(),
            Indication::TOTAL_PASSED,
            "{name}"
        );
        // Every truncation point on a stride, and a bit flip at every byte on a stride.
        for cut in (0..sig.len()).step_by(7) {
            let verdict = v.verify_cms(&sig[..cut], c, &opts());
            assert_ne!(
                verdict.indication(),
                Indication::TOTAL_PASSED,
                "{name} cut at {cut}"
            );
            runs += 1;
        }
        for pos in (0..sig.len()).step_by(3) {
            for bit in [0x01u8, 0x80] {
                let mut m = sig.clone();
                m[pos] ^= bit;
                let verdict = v.verify_cms(&m, c, &opts());
                // A flip inside an unsigned, unused part (e.g. a certificate in the bag that is not
                // on the path, or a BER chunk header) may leave the signature intact; it must never
                // turn a different signed content into a pass.
                if verdict.indication() == Indication::TOTAL_PASSED {
                    // Detached: the content comes from outside and is the original.
                    let ok_content = detached || content_unchanged(&m);
                    assert!(
                        ok_content,
                        "{name} byte {pos} ^ {bit:#x} passed with changed signed bytes"
                    );
                }
                runs += 1;
            }
        }
    }
    assert!(runs > 3000, "{runs}");
}

/// For the pass case above: an attached signature that still passes must still carry the
/// original content, byte for byte.
fn content_unchanged(m: &[u8]) -> bool {
    let orig = b"tekser test document: the quick brown fox jumps over the lazy dog\n";
    m.windows(orig.len()).any(|w| w == orig)
}

#[test]
fn nesting_and_count_limits_give_format_failure() {
    let v = verifier(&[], &[], false);
    // 10 000 nested indefinite-length SEQUENCEs.
    let mut deep = Vec::new();
    for _ in 0..10_000 {
        deep.extend_from_slice(&[0x30, 0x80]);
    }
    deep.extend(std::iter::repeat_n(0u8, 20_000));
    let verdict = v.verify_cms(&deep, None, &opts());
    assert_eq!(
        verdict.sub_indication(),
        Some(SubIndication::FORMAT_FAILURE)
    );
    assert!(
        verdict.errors[0].message.contains("deeper"),
        "{:?}",
        verdict.errors
    );

    // Deep definite-length nesting is rejected by the parser without recursion trouble.
    let mut def: Vec<u8> = vec![0x05, 0x00];
    for _ in 0..2_000 {
        let mut n = vec![0x30];
        let len = def.len();
        if len < 128 {
            n.push(len as u8);
        } else {
            n.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
        }
        n.extend_from_slice(&def);
        def = n;
        if def.len() > 60_000 {
            break;
        }
    }
    assert_eq!(
        v.verify_cms(&def, None, &opts()).indication(),
        Indication::TOTAL_FAILED
    );

    // Input over the size limit is refused before parsing.
    let small = Verifier::new(
        TrustStore::default(),
        vec![],
        VerifierConfig {
            limits: Limits {
                max_input_bytes: 100,
                ..Limits::default()
            },
            ..VerifierConfig::default()
        },
    );
    let sig = std::fs::read(fixture("cms/rsa-attached.p7s")).expect("fixture");
    let verdict = small.verify_cms(&sig, None, &opts());
    assert_eq!(
        verdict.sub_indication(),
        Some(SubIndication::FORMAT_FAILURE)
    );
    assert!(verdict.errors[0].message.contains("exceeds"));

    // More certificates in the bag than allowed.
    let few = Verifier::new(
        TrustStore::default(),
        vec![],
        VerifierConfig {
            limits: Limits {
                max_certificates: 1,
                ..Limits::default()
            },
            ..VerifierConfig::default()
        },
    );
    let verdict = few.verify_cms(&sig, None, &opts());
    assert_eq!(
        verdict.sub_indication(),
        Some(SubIndication::FORMAT_FAILURE),
        "{}",
        verdict.to_json()
    );
}

/// Issue 12 item 2: digestAlgorithm SHA-1 (messageDigest = SHA-1 of the content) under a
/// sha256WithRSAEncryption signature over the attributes (fixtures/generate-forgeries.sh). The
/// content is bound only by SHA-1, so the SHA-1 policy applies; with the legacy setting it passes
/// and names both hashes.
#[test]
fn a_sha1_content_digest_under_a_sha256_signature_is_refused() {
    let sig = std::fs::read(fixture("forged/sha1-digest.p7s")).expect("fixture");
    let v = verifier(&[fixture("pki/rsa-root.crt")], &[], false);
    let verdict = v.verify_cms(&sig, None, &opts());
    assert_eq!(
        verdict.indication(),
        Indication::INDETERMINATE,
        "{}",
        verdict.to_json()
    );
    assert_eq!(
        verdict.sub_indication(),
        Some(SubIndication::CRYPTO_CONSTRAINTS_FAILURE),
        "{}",
        verdict.to_json()
    );
    assert!(
        error_text(&verdict).contains("SHA-1"),
        "{}",
        error_text(&verdict)
    );

    // The signature itself is genuine: the legacy setting lets it through, reporting the pair.
    let legacy = verifier(&[fixture("pki/rsa-root.crt")], &[], true);
    let verdict = legacy.verify_cms(&sig, None, &opts());
    assert_eq!(
        verdict.indication(),
        Indication::TOTAL_PASSED,
        "{}",
        verdict.to_json()
    );
    assert_eq!(
        verdict.signatures[0].algorithm.as_deref(),
        Some("rsa-pkcs1-sha256 (content digest sha1)")
    );
}

/// Issue 12, renewed certificates: every certificate matching the SignerIdentifier is tried, the
/// one ESS signing-certificate-v2 names first. Fixtures (generate-forgeries.sh) are genuine
/// `openssl cms -sign` signatures with another certificate put first in `certificates`: a decoy
/// with rsa-leaf's issuer and serial but another key, and an expired renewal of rsa-leaf's key
/// (same SKI), with and without ESS. OpenSSL 3.0 itself takes the first match and fails them all.
#[test]
fn a_decoy_or_renewed_certificate_first_does_not_fail_a_genuine_signature() {
    let v = verifier(&[fixture("pki/rsa-root.crt")], &[], false);
    for name in ["decoy-first.p7s", "renewed-keyid.p7s", "renewed-cades.p7s"] {
        let sig = std::fs::read(fixture(&format!("forged/{name}"))).expect("fixture");
        let verdict = v.verify_cms(&sig, None, &opts());
        assert_eq!(
            verdict.indication(),
            Indication::TOTAL_PASSED,
            "{name}: {}",
            verdict.to_json()
        );
        let chain = &verdict.signatures[0].chain;
        assert_eq!(chain.len(), 3, "{name}");
        // The genuine leaf (valid to 2034), not the expired renewal or the decoy.
        assert_eq!(chain[0].not_after, "2034-06-01T00:00:00Z", "{name}");
    }

    // The candidate budget applies: with one candidate, the first match decides (and fails).
    let one = tekser::config::RawConfig {
        trust: vec![fixture("pki/rsa-root.crt")],
        limits: Limits {
            max_signer_candidates: 1,
            ..Limits::default()
        },
        ..tekser::config::RawConfig::default()
    }
    .validate()
    .expect("config")
    .verifier;
    let sig = std::fs::read(fixture("forged/decoy-first.p7s")).expect("fixture");
    let verdict = one.verify_cms(&sig, None, &opts());
    assert_eq!(
        verdict.sub_indication(),
        Some(SubIndication::SIG_CRYPTO_FAILURE),
        "{}",
        verdict.to_json()
    );
    let sig = std::fs::read(fixture("forged/renewed-keyid.p7s")).expect("fixture");
    assert_eq!(
        one.verify_cms(&sig, None, &opts()).sub_indication(),
        Some(SubIndication::OUT_OF_BOUNDS_NO_POE)
    );
}
