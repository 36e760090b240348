//! A bounded reader for the small ZIP archives inside KZ barcodes (APPNOTE.TXT 6.3): the central
//! directory is read from the end record, each entry's data located through its local header,
//! stored or DEFLATE only, no encryption, no ZIP64, no multi-disk. Against decompression bombs:
//! the declared size must be within the budget before inflating, inflation stops at that size,
//! the real size must equal the declared one, the ratio is capped, the CRC-32 must match.

use miniz_oxide::inflate::{decompress_to_vec_with_limit, TINFLStatus};

/// Most entries read from one archive (the barcodes carry one or two files).
const MAX_ENTRIES: usize = 16;

/// Why an archive was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZipError {
    /// Not a ZIP archive, or a truncated / inconsistent one.
    #[error("ZIP archive: {0}")]
    Malformed(&'static str),
    /// A feature these archives never use.
    #[error("ZIP archive: unsupported {0}")]
    Unsupported(&'static str),
    /// Parts of the archive that disagree, or bytes its directory does not account for: what a
    /// streaming reader and a directory reader would read differently.
    #[error("ZIP archive: {0}")]
    Refused(String),
    /// Over a budget (entries, size, ratio).
    #[error("ZIP archive: {0}")]
    Budget(String),
}

/// One decompressed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// File name as stored (UTF-8 or CP437 read lossily).
    pub name: String,
    /// Decompressed bytes.
    pub data: Vec<u8>,
}

/// Budgets for one archive.
#[derive(Debug, Clone, Copy)]
pub struct ZipLimits {
    /// Largest decompressed entry.
    pub max_entry_bytes: usize,
    /// Highest decompressed/compressed ratio.
    pub max_ratio: usize,
}

fn u16_at(b: &[u8], i: usize) -> Option<usize> {
    let s: [u8; 2] = b.get(i..i.checked_add(2)?)?.try_into().ok()?;
    Some(usize::from(u16::from_le_bytes(s)))
}

fn u32_at(b: &[u8], i: usize) -> Option<usize> {
    let s: [u8; 4] = b.get(i..i.checked_add(4)?)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(s)).ok()
}

const MALFORMED: ZipError = ZipError::Malformed("truncated or inconsistent");

/// Reads every entry of `zip`.
///
/// The archive must be exactly what its central directory says, because a streaming reader
/// (which walks local headers from the start) and a directory reader must see the same files
/// (issue 12 item 4): the local entries are contiguous from byte 0 in directory order, each local
/// header agrees with its directory entry (flags, method, CRC, sizes, name), the directory follows
/// the last entry's data and ends at the end record, and nothing follows the end record's comment.
/// Names are unique.
pub fn read(zip: &[u8], limits: &ZipLimits) -> Result<Vec<Entry>, ZipError> {
    // End of central directory: 22 bytes plus a comment of up to 65535 bytes.
    let min = zip.len().saturating_sub(22 + 0xFFFF);
    let eocd = (min..=zip.len().saturating_sub(22))
        .rev()
        .find(|&i| zip.get(i..i + 4) == Some(b"PK\x05\x06"))
        .ok_or(ZipError::Malformed("no end-of-central-directory record"))?;
    let disk = u16_at(zip, eocd + 4).ok_or(MALFORMED)?;
    let cd_disk = u16_at(zip, eocd + 6).ok_or(MALFORMED)?;
    let count_here = u16_at(zip, eocd + 8).ok_or(MALFORMED)?;
    let count = u16_at(zip, eocd + 10).ok_or(MALFORMED)?;
    let cd_size = u32_at(zip, eocd + 12).ok_or(MALFORMED)?;
    let cd_offset = u32_at(zip, eocd + 16).ok_or(MALFORMED)?;
    let comment_len = u16_at(zip, eocd + 20).ok_or(MALFORMED)?;
    if disk != 0 || cd_disk != 0 || count_here != count {
        return Err(ZipError::Unsupported("multi-disk archive"));
    }
    if count == 0xFFFF || cd_offset == 0xFFFF_FFFF {
        return Err(ZipError::Unsupported("ZIP64"));
    }
    if eocd
        .checked_add(22)
        .and_then(|e| e.checked_add(comment_len))
        != Some(zip.len())
    {
        return Err(ZipError::Malformed(
            "bytes after the end-of-central-directory record",
        ));
    }
    if cd_offset.checked_add(cd_size) != Some(eocd) {
        return Err(ZipError::Malformed(
            "the central directory does not end at the end record",
        ));
    }
    if count > MAX_ENTRIES {
        return Err(ZipError::Budget(format!(
            "{count} entries exceed the limit of {MAX_ENTRIES}"
        )));
    }
    let cd = zip.get(cd_offset..eocd).ok_or(MALFORMED)?;
    let mut out: Vec<Entry> = Vec::with_capacity(count);
    let mut pos = 0;
    // Where the next local header must start: entries are contiguous from byte 0.
    let mut next_local = 0usize;
    for _ in 0..count {
        if cd.get(pos..pos + 4) != Some(b"PK\x01\x02") {
            return Err(ZipError::Malformed("bad central directory entry"));
        }
        let flags = u16_at(cd, pos + 8).ok_or(MALFORMED)?;
        let method = u16_at(cd, pos + 10).ok_or(MALFORMED)?;
        let crc = u32_at(cd, pos + 16).ok_or(MALFORMED)?;
        let csize = u32_at(cd, pos + 20).ok_or(MALFORMED)?;
        let usize_ = u32_at(cd, pos + 24).ok_or(MALFORMED)?;
        let name_len = u16_at(cd, pos + 28).ok_or(MALFORMED)?;
        let extra_len = u16_at(cd, pos + 30).ok_or(MALFORMED)?;
        let comment_len = u16_at(cd, pos + 32).ok_or(MALFORMED)?;
        let local = u32_at(cd, pos + 42).ok_or(MALFORMED)?;
        let raw_name = cd.get(pos + 46..pos + 46 + name_len).ok_or(MALFORMED)?;
        let name = String::from_utf8_lossy(raw_name).into_owned();
        pos += 46 + name_len + extra_len + comment_len;
        if flags & 1 != 0 {
            return Err(ZipError::Unsupported("encrypted entry"));
        }
        if out.iter().any(|e| e.name == name) {
            return Err(ZipError::Refused(format!("entry {name:?} appears twice")));
        }
        if local != next_local {
            return Err(ZipError::Refused(format!(
                "entry {name:?} starts at byte {local}, but the previous entry ends at {next_local}: the archive holds bytes its directory does not list"
            )));
        }
        if usize_ > limits.max_entry_bytes {
            return Err(ZipError::Budget(format!(
                "entry {name:?} declares {usize_} bytes, over the limit of {}",
                limits.max_entry_bytes
            )));
        }
        if usize_ > csize.max(1).saturating_mul(limits.max_ratio) {
            return Err(ZipError::Budget(format!(
                "entry {name:?} would expand {csize} bytes to {usize_} (ratio over {})",
                limits.max_ratio
            )));
        }
        // Local header (APPNOTE 4.3.7): flags 6, method 8, CRC 14, sizes 18/22, name and extra
        // lengths 26/28, then the name, the extra field and the data.
        if zip.get(local..local + 4) != Some(b"PK\x03\x04") {
            return Err(ZipError::Malformed("bad local header"));
        }
        let lflags = u16_at(zip, local + 6).ok_or(MALFORMED)?;
        let lmethod = u16_at(zip, local + 8).ok_or(MALFORMED)?;
        let lcrc = u32_at(zip, local + 14).ok_or(MALFORMED)?;
        let lcsize = u32_at(zip, local + 18).ok_or(MALFORMED)?;
        let lusize = u32_at(zip, local + 22).ok_or(MALFORMED)?;
        let lname = u16_at(zip, local + 26).ok_or(MALFORMED)?;
        let lextra = u16_at(zip, local + 28).ok_or(MALFORMED)?;
        if zip.get(local + 30..local + 30 + lname) != Some(raw_name) {
            return Err(ZipError::Refused(format!(
                "the local header of {name:?} names another file"
            )));
        }
        // Bit 3: CRC and sizes follow the data in a data descriptor (zero in the local header).
        let descriptor = flags & 8 != 0;
        let local_fields_agree = (lcrc, lcsize, lusize) == (crc, csize, usize_)
            || (descriptor && (lcrc, lcsize, lusize) == (0, 0, 0));
        if lflags != flags || lmethod != method || !local_fields_agree {
            return Err(ZipError::Refused(format!(
                "the local header of {name:?} disagrees with the central directory (flags, method, CRC or sizes)"
            )));
        }
        let start = local + 30 + lname + lextra;
        let end = start.checked_add(csize).ok_or(MALFORMED)?;
        let raw = zip.get(start..end).ok_or(MALFORMED)?;
        next_local = if descriptor {
            data_descriptor_end(zip, end, (crc, csize, usize_)).ok_or_else(|| {
                ZipError::Refused(format!(
                    "the data descriptor of {name:?} disagrees with the central directory"
                ))
            })?
        } else {
            end
        };
        let data = match method {
            0 => raw.to_vec(),
            8 => inflate(raw, usize_)?,
            _ => return Err(ZipError::Unsupported("compression method")),
        };
        if data.len() != usize_ {
            return Err(ZipError::Malformed(
                "entry size differs from the declared size",
            ));
        }
        if usize::try_from(crc32(&data)).ok() != Some(crc) {
            return Err(ZipError::Malformed("CRC-32 mismatch"));
        }
        out.push(Entry { name, data });
    }
    if pos != cd.len() {
        return Err(ZipError::Malformed(
            "the central directory is longer than its entries",
        ));
    }
    if next_local != cd_offset {
        return Err(ZipError::Refused(
            "bytes between the last entry and the central directory".into(),
        ));
    }
    Ok(out)
}

/// The end of a data descriptor at `at` (APPNOTE 4.3.9: an optional `PK\x07\x08` signature, then
/// CRC-32, compressed and uncompressed size), when it carries exactly `expected`.
fn data_descriptor_end(zip: &[u8], at: usize, expected: (usize, usize, usize)) -> Option<usize> {
    let at = if zip.get(at..at.checked_add(4)?) == Some(b"PK\x07\x08") {
        at + 4
    } else {
        at
    };
    let found = (u32_at(zip, at)?, u32_at(zip, at + 4)?, u32_at(zip, at + 8)?);
    (found == expected).then_some(at + 12)
}

/// Raw DEFLATE, stopping at `limit` bytes (one more byte than declared is already an error).
fn inflate(raw: &[u8], limit: usize) -> Result<Vec<u8>, ZipError> {
    decompress_to_vec_with_limit(raw, limit).map_err(|e| match e.status {
        TINFLStatus::HasMoreOutput => {
            ZipError::Budget("entry inflates beyond its declared size".into())
        }
        _ => ZipError::Malformed("bad DEFLATE data"),
    })
}

/// CRC-32 (IEEE 802.3, reflected, as ZIP uses it).
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::LazyLock<[u32; 256]> = std::sync::LazyLock::new(|| {
        let mut t = [0u32; 256];
        for (i, slot) in (0u32..).zip(t.iter_mut()) {
            let mut c = i;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    let mut c = !0u32;
    for &b in data {
        let idx = usize::from(u8::try_from((c ^ u32::from(b)) & 0xFF).unwrap_or(0));
        c = TABLE.get(idx).copied().unwrap_or(0) ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ZipLimits = ZipLimits {
        max_entry_bytes: 1 << 20,
        max_ratio: 200,
    };

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    /// A stored-entry archive writer for crafted cases: `(name, data, listed)`, where an unlisted
    /// entry has a local header and data but no central directory entry.
    fn archive(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let le16 = |n: usize| u16::try_from(n).unwrap().to_le_bytes();
        let le32 = |n: usize| u32::try_from(n).unwrap().to_le_bytes();
        let mut z = Vec::new();
        let mut cd = Vec::new();
        let mut listed = 0;
        for &(name, data, list) in entries {
            let crc = crc32(data).to_le_bytes();
            let offset = z.len();
            z.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
            for f in [
                &crc[..],
                &le32(data.len()),
                &le32(data.len()),
                &le16(name.len()),
                &[0, 0],
            ] {
                z.extend_from_slice(f);
            }
            z.extend_from_slice(name.as_bytes());
            z.extend_from_slice(data);
            if list {
                listed += 1;
                cd.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
                for f in [
                    &crc[..],
                    &le32(data.len()),
                    &le32(data.len()),
                    &le16(name.len()),
                ] {
                    cd.extend_from_slice(f);
                }
                cd.extend_from_slice(&[0; 12]);
                cd.extend_from_slice(&le32(offset));
                cd.extend_from_slice(name.as_bytes());
            }
        }
        let cd_offset = z.len();
        z.extend_from_slice(&cd);
        z.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
        z.extend_from_slice(&le16(listed));
        z.extend_from_slice(&le16(listed));
        z.extend_from_slice(&le32(cd.len()));
        z.extend_from_slice(&le32(cd_offset));
        z.extend_from_slice(&[0, 0]);
        z
    }

    /// Issue 12 item 4: what a streaming reader would read differently from the directory.
    #[test]
    fn local_headers_and_directory_must_agree() {
        let ok = archive(&[("a.cms", b"first", true), ("b.txt", b"second", true)]);
        let entries = read(&ok, &LIMITS).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].data, b"second");
        let refused = |z: &[u8], needle: &str| match read(z, &LIMITS) {
            Err(e) => assert!(e.to_string().contains(needle), "{needle}: {e}"),
            Ok(e) => panic!("{needle}: accepted {e:?}"),
        };
        // An extra local entry before the listed one: a streaming unzip reads the forgery.
        refused(
            &archive(&[("d.xml", b"forged", false), ("d.xml", b"genuine", true)]),
            "does not list",
        );
        // ... or between two listed entries, or after the last one.
        refused(
            &archive(&[
                ("a", b"1", true),
                ("x", b"hidden", false),
                ("b", b"2", true),
            ]),
            "does not list",
        );
        refused(
            &archive(&[("a", b"1", true), ("x", b"hidden", false)]),
            "central directory",
        );
        // Duplicate names (the first would be taken).
        refused(
            &archive(&[("s.cms", b"1", true), ("s.cms", b"2", true)]),
            "appears twice",
        );
        // Bytes after the end record, or before the first entry.
        let mut tail = ok.clone();
        tail.extend_from_slice(b"junk");
        assert!(read(&tail, &LIMITS).is_err());
        let mut head = b"junk".to_vec();
        head.extend_from_slice(&ok);
        assert!(read(&head, &LIMITS).is_err());

        // A Python-made archive, one local header field changed at a time.
        let zip = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/barcode/hello.zip"
        ))
        .unwrap();
        assert_eq!(&zip[..4], b"PK\x03\x04");
        for (offset, what) in [
            (6, "flags"),
            (8, "method"),
            (14, "CRC"),
            (18, "compressed size"),
            (22, "size"),
            (30, "name"),
        ] {
            let mut m = zip.clone();
            m[offset] ^= 0x02;
            match read(&m, &LIMITS) {
                Err(ZipError::Refused(e)) => assert!(e.contains("hello.xml"), "{what}: {e}"),
                other => panic!("{what}: {other:?}"),
            }
        }
    }

    /// Python's zipfile writing to a stream: data descriptors (flag bit 3, zeros in the local
    /// headers) agree with the directory and are accounted for; a changed descriptor is refused.
    #[test]
    fn reads_data_descriptors_and_checks_them() {
        let zip = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/barcode/stream.zip"
        ))
        .unwrap();
        let entries = read(&zip, &LIMITS).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].name, "two.txt");
        assert_eq!(entries[1].data, b"second entry\n");
        let d = zip.windows(4).position(|w| w == b"PK\x07\x08").unwrap();
        let mut m = zip.clone();
        m[d + 8] ^= 1; // compressed size in the first descriptor
        assert!(
            matches!(read(&m, &LIMITS), Err(ZipError::Refused(_))),
            "{:?}",
            read(&m, &LIMITS)
        );
    }

    /// An archive made by Python's zipfile (DEFLATE), committed as bytes: another implementation.
    #[test]
    fn reads_a_python_made_archive_and_refuses_damage() {
        let zip = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/barcode/hello.zip"
        ))
        .unwrap();
        let entries = read(&zip, &LIMITS).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].name, "hello.xml");
        assert!(entries[0].data.starts_with(b"<hello>"));
        // Every truncation fails cleanly; so does a flipped byte in the data.
        for n in 0..zip.len() {
            assert!(read(&zip[..n], &LIMITS).is_err());
        }
        let mut bad = zip.clone();
        bad[40] ^= 0x55;
        assert!(read(&bad, &LIMITS).is_err());
        // A budget under the declared size refuses before inflating.
        let small = ZipLimits {
            max_entry_bytes: 10,
            ..LIMITS
        };
        assert!(matches!(read(&zip, &small), Err(ZipError::Budget(_))));
    }
}
