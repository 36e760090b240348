//! The PDF reader and signature extraction on untrusted bytes. Invariants: never panics, never
//! overflows the stack (nesting is budgeted); every signature it reports has either a sound
//! byte range inside the file or a reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tekser::formats::pdf::{Document, PdfLimits};

const LIMITS: PdfLimits = PdfLimits {
    max_objects: 100_000,
    max_depth: 32,
    max_decompressed: 16 << 20,
    max_revisions: 64,
    max_asn1_depth: 32,
    max_asn1_elements: 200_000,
};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = Document::parse(data, LIMITS) else { return };
    if let Ok(sigs) = doc.signatures() {
        let ends: Vec<usize> = sigs.iter().filter_map(|s| s.ranges.as_ref().ok().map(|r| r[1].end)).collect();
        for u in doc.unaccounted(&ends) {
            assert!(u.at <= data.len());
        }
        for s in sigs {
            if let Ok(r) = &s.ranges {
                assert!(r[0].end <= r[1].start && r[1].end <= data.len());
            }
            if let Some(rev) = s.revision {
                let _ = doc.changes_after(rev, Some(2), s.lock.as_ref());
            }
        }
    }
    let _ = doc.dss();
});
