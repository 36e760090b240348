//! 2D-barcode payloads: recognising a scanned payload by its shape, and reassembling a document
//! printed as several QR symbols (egov.kz e-certificates, SIGEX document cards).
//!
//! Each symbol says which document it belongs to, its position and the number of symbols; the
//! set must be complete, without duplicates, from one document, in any order. The joined bytes
//! are a small ZIP archive read under budgets ([`zip`]).

pub mod ddc;
pub mod egov;
pub mod qr;
pub mod zip;

/// The payload kinds tekser recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// egov.kz e-certificate part: `<BarcodeElement xmlns="http://barcodes.pdf.shep.nitec.kz/">`.
    Egov,
    /// SIGEX digital document card part: JSON `{"signId", "total", "index", "data"}`.
    Ddc,
    /// EU Digital COVID Certificate (`HC1:` + base45): recognised, not verified yet.
    Hc1,
}

/// Why a barcode set cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BarcodeError {
    /// A payload of no known shape.
    #[error("payload {0}: {1}")]
    Unrecognised(usize, String),
    /// One part cannot be parsed.
    #[error("part {0}: {1}")]
    Part(usize, String),
    /// The set is incomplete, has duplicates, or mixes documents or kinds.
    #[error("{0}")]
    Assembly(String),
    /// Over a size or count budget.
    #[error("{0}")]
    Budget(String),
    /// The reassembled archive.
    #[error(transparent)]
    Zip(#[from] zip::ZipError),
}

/// Recognises one payload by its shape.
pub fn detect(payload: &[u8]) -> Option<Kind> {
    let trimmed = payload
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(payload)
        .trim_ascii_start();
    if trimmed.starts_with(b"HC1:") {
        Some(Kind::Hc1)
    } else if trimmed.starts_with(b"{") {
        Some(Kind::Ddc)
    } else if root_element(trimmed).is_some_and(|n| local_name(n) == b"BarcodeElement") {
        Some(Kind::Egov)
    } else {
        None
    }
}

/// One payload per non-empty line (CR LF or LF), as scanners and `text/plain` bodies send them.
pub fn split_lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.trim_ascii().is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// The name of the first element of XML text, after the XML declaration, processing
/// instructions, comments and whitespace: the root decides what a document is, not a word
/// anywhere in it (an XML document mentioning "BarcodeElement" in a comment is no barcode).
fn root_element(mut text: &[u8]) -> Option<&[u8]> {
    loop {
        text = text.trim_ascii_start();
        let (close, skip) = if text.starts_with(b"<?") {
            (&b"?>"[..], 2)
        } else if text.starts_with(b"<!--") {
            (&b"-->"[..], 4)
        } else {
            break;
        };
        let end = memchr::memmem::find(text.get(skip..)?, close)?;
        text = text.get(skip + end + close.len()..)?;
    }
    let rest = text.strip_prefix(b"<")?;
    let end = rest
        .iter()
        .position(|&c| c.is_ascii_whitespace() || c == b'>' || c == b'/')
        .unwrap_or(rest.len());
    rest.get(..end)
}

/// `p:name` → `name`.
fn local_name(qname: &[u8]) -> &[u8] {
    qname
        .iter()
        .position(|&c| c == b':')
        .and_then(|i| qname.get(i + 1..))
        .unwrap_or(qname)
}

/// One part of a multi-symbol document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<T> {
    /// Which document (egov FavorID, DDC signId).
    pub document: String,
    /// Position as printed.
    pub index: u32,
    /// Number of parts as printed.
    pub total: u32,
    /// The part's data.
    pub body: T,
}

/// Orders a set of parts: one document, one total, each position exactly once. Positions may be
/// 1-based (1..=total) or 0-based (0..total); a set with a 0 is read as 0-based.
pub fn order<T>(parts: Vec<Part<T>>, max_parts: usize) -> Result<Vec<Part<T>>, BarcodeError> {
    let first = parts
        .first()
        .ok_or_else(|| BarcodeError::Assembly("no parts".into()))?;
    let (doc, total) = (first.document.clone(), first.total);
    if let Some(p) = parts.iter().find(|p| p.document != doc) {
        return Err(BarcodeError::Assembly(format!(
            "parts of different documents: {doc:?} and {:?}",
            p.document
        )));
    }
    if let Some(p) = parts.iter().find(|p| p.total != total) {
        return Err(BarcodeError::Assembly(format!(
            "parts disagree on the number of parts: {total} and {}",
            p.total
        )));
    }
    let n = usize::try_from(total).unwrap_or(usize::MAX);
    if n == 0 || n > max_parts {
        return Err(BarcodeError::Budget(format!(
            "a set of {total} parts (at most {max_parts} accepted)"
        )));
    }
    let base = u32::from(parts.iter().all(|p| p.index != 0));
    let mut slots: Vec<Option<Part<T>>> = (0..n).map(|_| None).collect();
    for p in parts {
        let printed = p.index;
        let pos = printed
            .checked_sub(base)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i < n)
            .ok_or_else(|| {
                BarcodeError::Assembly(format!("part number {printed} is outside 1..{total}"))
            })?;
        match slots.get_mut(pos) {
            Some(slot @ None) => *slot = Some(p),
            _ => {
                return Err(BarcodeError::Assembly(format!(
                    "part {} of {total} appears more than once",
                    pos + 1
                )))
            }
        }
    }
    let missing: Vec<String> = slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    if !missing.is_empty() {
        return Err(BarcodeError::Assembly(format!(
            "part{} {} of {total} missing",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", ")
        )));
    }
    Ok(slots.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_egov_payload_is_known_by_its_root_element() {
        let egov =
            b"<?xml version=\"1.0\"?><!-- x --><BarcodeElement xmlns=\"u\"><a/></BarcodeElement>";
        assert_eq!(detect(egov), Some(Kind::Egov));
        assert_eq!(
            detect(b"<p:BarcodeElement xmlns:p=\"u\"/>"),
            Some(Kind::Egov)
        );
        // Review finding: the word in a comment or an element's text made any XML a barcode.
        assert_eq!(detect(b"<doc><!-- BarcodeElement --></doc>"), None);
        assert_eq!(detect(b"<!-- BarcodeElement --><doc/>"), None);
        assert_eq!(detect(b"<doc>BarcodeElement</doc>"), None);
        assert_eq!(detect(b"<?xml version=\"1.0\""), None);
    }

    use super::*;

    fn p(doc: &str, index: u32, total: u32) -> Part<u32> {
        Part {
            document: doc.into(),
            index,
            total,
            body: index,
        }
    }

    #[test]
    fn orders_and_names_what_is_wrong() {
        let ok = order(vec![p("a", 3, 3), p("a", 1, 3), p("a", 2, 3)], 64).unwrap();
        assert_eq!(ok.iter().map(|x| x.body).collect::<Vec<_>>(), [1, 2, 3]);
        let zero = order(vec![p("a", 1, 2), p("a", 0, 2)], 64).unwrap();
        assert_eq!(zero.iter().map(|x| x.body).collect::<Vec<_>>(), [0, 1]);
        let err = |v| order(v, 64).unwrap_err().to_string();
        assert_eq!(err(vec![p("a", 1, 3), p("a", 3, 3)]), "part 2 of 3 missing");
        assert_eq!(err(vec![p("a", 1, 4)]), "parts 2, 3, 4 of 4 missing");
        assert_eq!(
            err(vec![p("a", 1, 2), p("a", 1, 2)]),
            "part 1 of 2 appears more than once"
        );
        assert!(err(vec![p("a", 1, 2), p("b", 2, 2)]).contains("different documents"));
        assert!(err(vec![p("a", 1, 2), p("a", 2, 3)]).contains("number of parts"));
        assert!(err(vec![p("a", 5, 2)]).contains("outside"));
        assert!(matches!(
            order(vec![p("a", 1, 100)], 64),
            Err(BarcodeError::Budget(_))
        ));
    }

    #[test]
    fn detects_by_shape() {
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><BarcodeElement xmlns=\"http://barcodes.pdf.shep.nitec.kz/\"/>"),
            Some(Kind::Egov)
        );
        assert_eq!(detect(b" {\"signId\":\"1\"}"), Some(Kind::Ddc));
        assert_eq!(detect(b"HC1:NCFOXN%TS3DH"), Some(Kind::Hc1));
        assert_eq!(detect(b"hello"), None);
        assert_eq!(detect(b"<html/>"), None);
    }
}
