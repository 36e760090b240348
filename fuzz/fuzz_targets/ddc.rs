//! SIGEX document-card reassembly: one JSON part per line. Invariant: never panics; a card that
//! reassembles names its signature entry after its signId.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tekser::formats::barcode::{ddc, detect, split_lines, zip};

fuzz_target!(|data: &[u8]| {
    let lines = split_lines(data);
    for l in &lines {
        let _ = detect(l);
    }
    let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let z = zip::ZipLimits { max_entry_bytes: 1 << 20, max_ratio: 200 };
    if let Ok((card, _cms)) = ddc::assemble(&refs, &z, 64) {
        assert!(card.entries.contains(&format!("{}.cms", card.sign_id)));
    }
});
