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
pub fn read(zip: &[u8], limits: &ZipLimits) -> Result<Vec<Entry>, ZipError> {
    // End of central directory: 22 bytes plus a comment of up to 65535 bytes.
    let min = zip.len().saturating_sub(22 + 0xFFFF);
    let eocd = (min..=zip.len().saturating_sub(22))
        .rev()
        .find(|&i| zip.get(i..i + 4) == Some(b"PK\x05\x06"))
        .ok_or(ZipError::Malformed("no end-of-central-directory record"))?;
    let disk = u16_at(zip, eocd + 4).ok_or(MALFORMED)?;
    let cd_disk = u16_at(zip, eocd + 6).ok_or(MALFORMED)?;
    let count = u16_at(zip, eocd + 10).ok_or(MALFORMED)?;
    let cd_size = u32_at(zip, eocd + 12).ok_or(MALFORMED)?;
    let cd_offset = u32_at(zip, eocd + 16).ok_or(MALFORMED)?;
    if disk != 0 || cd_disk != 0 {
        return Err(ZipError::Unsupported("multi-disk archive"));
    }
    if count == 0xFFFF || cd_offset == 0xFFFF_FFFF {
        return Err(ZipError::Unsupported("ZIP64"));
    }
    if count > MAX_ENTRIES {
        return Err(ZipError::Budget(format!(
            "{count} entries exceed the limit of {MAX_ENTRIES}"
        )));
    }
    let cd = zip
        .get(cd_offset..cd_offset.checked_add(cd_size).ok_or(MALFORMED)?)
        .ok_or(MALFORMED)?;
    let mut out = Vec::with_capacity(count);
    let mut pos = 0;
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
        let name = cd.get(pos + 46..pos + 46 + name_len).ok_or(MALFORMED)?;
        let name = String::from_utf8_lossy(name).into_owned();
        pos += 46 + name_len + extra_len + comment_len;
        if flags & 1 != 0 {
            return Err(ZipError::Unsupported("encrypted entry"));
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
        // Local header: signature, then name and extra lengths at 26/28; data follows.
        if zip.get(local..local + 4) != Some(b"PK\x03\x04") {
            return Err(ZipError::Malformed("bad local header"));
        }
        let lname = u16_at(zip, local + 26).ok_or(MALFORMED)?;
        let lextra = u16_at(zip, local + 28).ok_or(MALFORMED)?;
        let start = local + 30 + lname + lextra;
        let raw = zip.get(start..start + csize).ok_or(MALFORMED)?;
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
    Ok(out)
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
