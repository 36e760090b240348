//! SIGEX digital document card barcodes: each QR symbol holds JSON
//! `{"signId": …, "total": n, "index": i, "data": "…"}`; the `data` strings joined in `index`
//! order are base64 of a ZIP archive holding `{signId}.cms`, a CMS signature (usually detached,
//! with its TSP token and OCSP response embedded).

use super::zip::{self, ZipLimits};
use super::{order, BarcodeError, Part};
use base64::Engine as _;

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    sign_id: serde_json::Value,
    total: u32,
    index: u32,
    data: String,
}

/// What the card's parts say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// The SIGEX signature id (not covered by the CMS signature).
    pub sign_id: String,
    /// Number of symbols.
    pub parts: u32,
    /// Names of the archive's entries.
    pub entries: Vec<String>,
}

/// Parses one symbol's JSON.
pub fn parse_part(payload: &[u8]) -> Result<Part<String>, String> {
    let raw: Raw = serde_json::from_slice(payload).map_err(|e| format!("not a DDC part: {e}"))?;
    let sign_id = match raw.sign_id {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err("signId must be a string or a number".into()),
    };
    if sign_id.is_empty()
        || !sign_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("signId must be letters, digits, '-' or '_'".into());
    }
    Ok(Part {
        document: sign_id,
        index: raw.index,
        total: raw.total,
        body: raw.data,
    })
}

/// Reassembles a card into its CMS signature.
pub fn assemble(
    payloads: &[&[u8]],
    zip_limits: &ZipLimits,
    max_parts: usize,
) -> Result<(Card, Vec<u8>), BarcodeError> {
    let parts = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| parse_part(p).map_err(|e| BarcodeError::Part(i + 1, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let parts = order(parts, max_parts)?;
    let sign_id = parts
        .first()
        .map(|p| p.document.clone())
        .unwrap_or_default();
    let total = parts.first().map_or(0, |p| p.total);
    let joined: String = parts
        .into_iter()
        .flat_map(|p| {
            p.body
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect::<Vec<_>>()
        })
        .collect();
    let archive = base64::engine::general_purpose::STANDARD
        .decode(joined)
        .map_err(|e| BarcodeError::Assembly(format!("joined data is not base64: {e}")))?;
    let entries = zip::read(&archive, zip_limits)?;
    let wanted = format!("{sign_id}.cms");
    let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    // zip::read refuses duplicate names; a second `{signId}.cms` is refused here too, so which
    // one is verified never depends on the reader.
    if entries.iter().filter(|e| e.name == wanted).count() > 1 {
        return Err(BarcodeError::Assembly(format!(
            "the archive holds {wanted} more than once"
        )));
    }
    let cms = entries
        .into_iter()
        .find(|e| e.name == wanted)
        .ok_or_else(|| {
            BarcodeError::Assembly(format!(
                "the archive has no {wanted} (entries: {})",
                names.join(", ")
            ))
        })?;
    Ok((
        Card {
            sign_id,
            parts: total,
            entries: names,
        },
        cms.data,
    ))
}
