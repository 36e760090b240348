//! Certificate bundles (PEM or DER) through path building: the first certificate is the leaf,
//! the rest are candidates, and the fixtures' roots plus every bundle certificate that parses
//! are tried as anchors in turn. Invariants: never panics; the budget bounds the work.
#![no_main]

use tekser::verify::Input;
use libfuzzer_sys::fuzz_target;
use tekser::pki::trust::{parse_bundle, TrustStore};
use tekser::verify::{RequestOptions, RevocationMode, Verifier, VerifierConfig};

fuzz_target!(|data: &[u8]| {
    let opts = RequestOptions {
        at: Some(1_748_736_000),
        revocation: RevocationMode::Off,
        ..Default::default()
    };
    let roots = parse_bundle(include_bytes!("../../fixtures/pki/rsa-root.crt")).unwrap_or_default();
    let v = Verifier::new(TrustStore::new(roots), vec![], VerifierConfig::default());
    let _ = v.verify(&Input::Chain { certificates: data, max_depth: None }, &opts);
    // Everything in the bundle as an anchor too: exercises anchor checks and loops.
    if let Ok(certs) = parse_bundle(data) {
        let v = Verifier::new(TrustStore::new(certs), vec![], VerifierConfig::default());
        let _ = v.verify(&Input::Chain { certificates: data, max_depth: Some(4) }, &opts);
    }
});
