//! CRLs, OCSP responses and TSTInfo from untrusted bytes. Invariants: never panics; a CRL that
//! parses answers lookups; an OCSP response is never accepted without a valid signature by the
//! (fixed) issuer, which the fuzzer cannot produce.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tekser::crypto::AlgorithmPolicy;
use tekser::pki::crl::Crl;
use tekser::pki::ocsp::{self, OcspCheck};
use tekser::pki::trust::parse_bundle;

fuzz_target!(|data: &[u8]| {
    let issuer = parse_bundle(include_bytes!("../../fixtures/pki/rsa-int.crt"))
        .ok()
        .and_then(|v| v.into_iter().next());
    if let Ok(crl) = Crl::parse(data, 1 << 20) {
        let _ = crl.lookup(&[1, 2, 3], &crl.issuer_norm);
        if let Some(i) = &issuer {
            let _ = crl.covers(i);
            let _ = crl.verify_signed_by(i, &AlgorithmPolicy::default());
        }
    }
    if let Some(i) = &issuer {
        let check = OcspCheck {
            id: None,
            nonce: None,
            freshness: None,
            at: 1_748_736_000,
            policy: AlgorithmPolicy::default(),
        };
        assert!(
            ocsp::validate(data, i, &check).is_err(),
            "an OCSP response validated without the issuer's key"
        );
    }
    let _ = tekser::formats::tsp::parse_tst_info(data);
    let _ = tekser::formats::tsp::token_from_response(data);
});
