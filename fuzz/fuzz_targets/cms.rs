//! CMS parsing and verification of arbitrary bytes (attached, then with the input's tail as
//! detached content). Invariants: never panics; the verdict of the same input is the same on a
//! second call (the second one answers from the caches); a passed verdict has a chain that ends
//! at a trust anchor.
#![no_main]

use tekser::verify::Input;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tekser::pki::trust::{parse_bundle, TrustStore};
use tekser::verdict::Indication;
use tekser::verify::{RequestOptions, RevocationMode, Verifier, VerifierConfig};

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let mut anchors = parse_bundle(include_bytes!("../../fixtures/pki/rsa-root.crt")).unwrap_or_default();
        anchors.extend(parse_bundle(include_bytes!("../../fixtures/pki/ec-root.crt")).unwrap_or_default());
        Verifier::new(TrustStore::new(anchors), vec![], VerifierConfig::default())
    })
}

fuzz_target!(|data: &[u8]| {
    let opts = RequestOptions {
        at: Some(1_748_736_000), // 2025-06-01T00:00:00Z, inside the fixtures' validity
        revocation: RevocationMode::Off,
        ..Default::default()
    };
    let v = verifier();
    let first = v.verify(&Input::Cms { signature: data, content: None }, &opts);
    let again = v.verify(&Input::Cms { signature: data, content: None }, &opts);
    assert_eq!(first.to_json(), again.to_json(), "verdict changed between two calls");
    if first.indication() == Indication::TOTAL_PASSED {
        for s in &first.signatures {
            assert!(s.chain.last().is_some_and(|c| c.trust_anchor));
        }
    }
    let split = data.len() / 2;
    let _ = v.verify(&Input::Cms { signature: &data[..split], content: Some(&data[split..]) }, &opts);
});
