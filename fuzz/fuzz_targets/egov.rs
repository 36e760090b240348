//! egov e-certificate barcode reassembly: one payload per line. Invariants: never panics; a set
//! that reassembles yields a document within the decompression budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tekser::formats::barcode::{egov, split_lines, zip};
use tekser::formats::xml::XmlLimits;

fuzz_target!(|data: &[u8]| {
    let lines = split_lines(data);
    let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let xml = XmlLimits { max_bytes: 64 << 10, max_depth: 8, max_nodes: 256 };
    let z = zip::ZipLimits { max_entry_bytes: 1 << 20, max_ratio: 200 };
    if let Ok((_, document)) = egov::assemble(&refs, &xml, &z, 64) {
        assert!(document.len() <= 1 << 20);
    }
    // The archive reader on its own.
    if let Ok(entries) = zip::read(data, &z) {
        assert!(entries.iter().all(|e| e.data.len() <= 1 << 20));
    }
});
