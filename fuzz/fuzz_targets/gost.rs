//! GOST public keys and signatures from untrusted bytes: SubjectPublicKeyInfo decoding, and the
//! verifiers on arbitrary (key, signature, message) triples. Invariants: never panics; a valid
//! signature with one bit changed never verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tekser::crypto::gost::{GostCurve, GostKeyFamily};
use tekser::crypto::{resolve_named, AlgorithmPolicy, PublicKey, SignatureAlgorithm};

fuzz_target!(|data: &[u8]| {
    let _ = PublicKey::from_spki(data);
    let Some((&selector, rest)) = data.split_first() else { return };
    let (curve, family, alg) = match selector % 4 {
        0 => (GostCurve::Tc26_512A, GostKeyFamily::Gost2012_512, SignatureAlgorithm::Gost2015_512),
        1 => (GostCurve::Tc26_256A, GostKeyFamily::Gost2012_256, SignatureAlgorithm::Gost2015_256),
        2 => (GostCurve::CryptoProA, GostKeyFamily::Gost2001, SignatureAlgorithm::Gost34310_2004),
        _ => (GostCurve::Tc26_512C, GostKeyFamily::Gost2012_512, SignatureAlgorithm::Gost2012_512),
    };
    let n = 2 * curve.size();
    if rest.len() < 2 * n {
        return;
    }
    let (point, tail) = rest.split_at(n);
    let (sig, message) = tail.split_at(n);
    let key = PublicKey::Gost { family, curve, point: point.to_vec() };
    let Ok(r) = resolve_named(alg, &key, &AlgorithmPolicy::default()) else { return };
    // The seeds are valid signatures; a verified one must stop verifying when one bit changes.
    if r.verifier.verify(&key, message, sig).is_ok() {
        let mut bad = sig.to_vec();
        bad[0] ^= 1;
        assert!(
            r.verifier.verify(&key, message, &bad).is_err(),
            "a GOST signature still verified after a bit flip"
        );
    }
    // Truncated signatures are rejected, not sliced out of range.
    let _ = r.verifier.verify(&key, message, &sig[..sig.len() / 2]);
});
