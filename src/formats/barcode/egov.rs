//! egov.kz e-certificate barcodes. Each QR symbol holds
//!
//! ```xml
//! <BarcodeElement xmlns="http://barcodes.pdf.shep.nitec.kz/">
//!   <creationDate>…</creationDate><elementData>base64</elementData>
//!   <elementNumber>1</elementNumber><elementsAmount>5</elementsAmount><FavorID>…</FavorID>
//! </BarcodeElement>
//! ```
//!
//! Each `elementData` is base64 with its own padding; decoded and joined in `elementNumber`
//! order they make a ZIP archive with one entry: the signed XML document.

use super::zip::{self, ZipLimits};
use super::{order, BarcodeError, Part};
use crate::formats::xml::{self, XmlLimits};
use base64::Engine as _;

/// The envelope's namespace.
pub const NS: &str = "http://barcodes.pdf.shep.nitec.kz/";

/// What the envelope says besides the data. None of it is covered by the document's signature:
/// anyone can rewrite it in every symbol without breaking the signature (issue 12 item 3), so it
/// is reported apart from the signed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The request number the e-certificate answers (FavorID; the same in every part).
    pub favor_id: String,
    /// creationDate as printed in the first part that has one.
    pub creation_date: String,
    /// Other creationDate values printed in later parts (each once), when the parts disagree.
    pub other_creation_dates: Vec<String>,
    /// Number of symbols.
    pub parts: u32,
}

/// Parses one symbol's XML.
pub fn parse_part(payload: &[u8], limits: &XmlLimits) -> Result<(Part<Vec<u8>>, String), String> {
    let doc = xml::parse(payload, limits).map_err(|e| e.to_string())?;
    let root = doc.element(doc.root).ok_or("no root element")?;
    if root.local != "BarcodeElement" || !(root.ns == NS || root.ns.is_empty()) {
        return Err(format!(
            "expected <BarcodeElement xmlns=\"{NS}\">, found <{}>",
            root.local
        ));
    }
    let field = |name: &str| -> Result<String, String> {
        let mut hits = doc
            .child_elements(doc.root)
            .filter(|(_, e)| e.local == name);
        let (id, _) = hits.next().ok_or_else(|| format!("{name} missing"))?;
        if hits.next().is_some() {
            return Err(format!("{name} appears twice"));
        }
        Ok(doc.text(id).trim().to_owned())
    };
    let number = |name: &str| -> Result<u32, String> {
        field(name)?
            .parse::<u32>()
            .map_err(|_| format!("{name} is not a number"))
    };
    let data: String = field("elementData")?
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let body = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("elementData is not base64: {e}"))?;
    Ok((
        Part {
            document: field("FavorID")?,
            index: number("elementNumber")?,
            total: number("elementsAmount")?,
            body,
        },
        field("creationDate").unwrap_or_default(),
    ))
}

/// Reassembles a set of symbols into the signed XML document.
pub fn assemble(
    payloads: &[&[u8]],
    xml_limits: &XmlLimits,
    zip_limits: &ZipLimits,
    max_parts: usize,
) -> Result<(Envelope, Vec<u8>), BarcodeError> {
    let mut parts = Vec::with_capacity(payloads.len());
    let mut creation = String::new();
    let mut other_dates: Vec<String> = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let (part, date) = parse_part(p, xml_limits).map_err(|e| BarcodeError::Part(i + 1, e))?;
        if creation.is_empty() {
            creation = date;
        } else if !date.is_empty() && date != creation && !other_dates.contains(&date) {
            // Bounded by the part count (checked by the caller before parsing).
            other_dates.push(date);
        }
        parts.push(part);
    }
    let parts = order(parts, max_parts)?;
    let envelope = Envelope {
        favor_id: parts
            .first()
            .map(|p| p.document.clone())
            .unwrap_or_default(),
        creation_date: creation,
        other_creation_dates: other_dates,
        parts: parts.first().map_or(0, |p| p.total),
    };
    let archive: Vec<u8> = parts.into_iter().flat_map(|p| p.body).collect();
    let mut entries = zip::read(&archive, zip_limits)?;
    if entries.len() != 1 {
        return Err(BarcodeError::Assembly(format!(
            "the archive holds {} entries; an e-certificate holds exactly one",
            entries.len()
        )));
    }
    let entry = entries.remove(0);
    Ok((envelope, entry.data))
}
