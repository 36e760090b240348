//! The XML parser, C14N and XMLDSig structure on untrusted bytes. Invariants: never panics;
//! a parsed document's canonical form parses again and canonicalizes to the same bytes
//! (C14N is idempotent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tekser::formats::xml::c14n::{canonicalize, Apex, Method};
use tekser::formats::xml::{parse, XmlLimits};
use tekser::formats::xmldsig;

const LIMITS: XmlLimits = XmlLimits {
    max_bytes: 1 << 20,
    max_depth: 64,
    max_nodes: 20_000,
};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = parse(data, &LIMITS) else { return };
    for m in [
        Method::default(),
        Method { comments: true, ..Method::default() },
        Method { exclusive: true, ..Method::default() },
    ] {
        let mut once = Vec::new();
        canonicalize(&doc, Apex::Document, &[], &m, &mut once);
        let again = parse(&once, &LIMITS).expect("canonical XML parses");
        let mut twice = Vec::new();
        canonicalize(&again, Apex::Document, &[], &m, &mut twice);
        assert_eq!(once, twice, "C14N is not idempotent");
    }
    // Subtrees (first few elements), with and without an excluded child.
    for id in doc.elements().into_iter().take(8) {
        let mut out = Vec::new();
        let excluded: Vec<_> = doc.child_elements(id).map(|(c, _)| c).take(1).collect();
        canonicalize(&doc, Apex::Element(id), &excluded, &Method::default(), &mut out);
        let _ = parse(&out, &LIMITS).expect("canonical subtree parses");
    }
    if let Ok(sigs) = xmldsig::find_signatures(&doc, 8) {
        for s in sigs {
            if let Ok(sig) = xmldsig::parse_signature(&doc, s) {
                let _ = xmldsig::signed_info_octets(&doc, &sig);
                for r in &sig.references {
                    if let Ok(t) = xmldsig::resolve(&doc, r.uri.as_deref()) {
                        let _ = xmldsig::reference_octets(&doc, r, t, &[s]);
                    }
                }
            }
        }
    }
});
