//! Request bodies to jobs: multipart forms, JSON objects, NDJSON batch lines, payload lines. Pure
//! functions over bytes, apart from the socket (hyper) and the pool, so that a fuzz target can
//! drive exactly what the routes run (`fuzz/fuzz_targets/http_body.rs`).

use super::{multipart, Problem};
use base64::Engine;
use hyper::StatusCode;
use serde::Deserialize;

/// Base64 (whitespace ignored) of a JSON field; a 400 naming the field when it is not.
pub(super) fn b64(field: &str, s: &str) -> Result<Vec<u8>, Problem> {
    let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean)
        .map_err(|e| Problem::bad_request(format!("{field}: not base64: {e}")))
}

/// The JSON request forms of CONTRACT.md.
#[derive(Debug, Deserialize)]
pub(super) struct JsonRequest {
    #[serde(default)]
    pub(super) id: Option<serde_json::Value>,
    cms: Option<String>,
    content: Option<String>,
    barcodes: Option<Vec<String>>,
    xml: Option<String>,
    pdf: Option<String>,
}

/// What to verify, decoded from any accepted request form.
#[derive(Debug, PartialEq, Eq)]
pub enum Job {
    /// A CMS signature, with its detached content if given.
    Cms {
        /// The signature (DER, BER or PEM).
        signature: Vec<u8>,
        /// Detached content.
        content: Option<Vec<u8>>,
    },
    /// An XML document with enveloped signatures.
    Xml(Vec<u8>),
    /// A signed PDF: the request body itself, shared (a PDF can be tens of megabytes; each
    /// fetch round decodes the job again).
    Pdf(bytes::Bytes),
    /// A PNG or JPEG with QR codes.
    Image(Vec<u8>),
    /// Scanned barcode payloads (egov or SIGEX).
    Barcodes {
        /// One payload per scanned symbol.
        payloads: Vec<Vec<u8>>,
        /// The signed document a SIGEX card refers to.
        content: Option<Vec<u8>>,
    },
}

fn job_from_json(r: JsonRequest) -> Result<Job, Problem> {
    // One document per request: a body naming two would have one verified and the client
    // believing the other was (the same ambiguity as a duplicate multipart part).
    let documents = [
        r.cms.is_some(),
        r.barcodes.is_some(),
        r.xml.is_some(),
        r.pdf.is_some(),
    ]
    .into_iter()
    .filter(|d| *d)
    .count();
    if documents > 1 {
        return Err(Problem::bad_request(
            "the JSON request names more than one of \"cms\", \"barcodes\", \"xml\" and \"pdf\"",
        ));
    }
    if r.content.is_some() && (r.xml.is_some() || r.pdf.is_some()) {
        return Err(Problem::bad_request(
            "\"content\" goes with \"cms\" or \"barcodes\" only",
        ));
    }
    if let Some(cms) = r.cms {
        let content = r
            .content
            .as_deref()
            .map(|c| b64("content", c))
            .transpose()?;
        return Ok(Job::Cms {
            signature: b64("cms", &cms)?,
            content,
        });
    }
    let content = r
        .content
        .as_deref()
        .map(|c| b64("content", c))
        .transpose()?;
    if let Some(b) = r.barcodes {
        return Ok(Job::Barcodes {
            payloads: b.into_iter().map(String::into_bytes).collect(),
            content,
        });
    }
    if let Some(x) = r.xml {
        return Ok(Job::Xml(b64("xml", &x)?));
    }
    if let Some(p) = r.pdf {
        return Ok(Job::Pdf(b64("pdf", &p)?.into()));
    }
    Err(Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing-field",
        "the JSON request needs a \"cms\" (base64, optionally \"content\"), \"xml\" or \"pdf\" (base64), or \"barcodes\" (array of scanned payloads) field",
    ))
}

/// How a `/v1/verify` body is to be decoded (decided from the headers, on the I/O thread).
#[derive(Debug, Clone)]
pub enum BodyKind {
    /// A CMS signature as it is.
    Der,
    /// `multipart/form-data` with this boundary: parts `signature` and `content`.
    Multipart(String),
    /// A JSON request object (CONTRACT.md).
    Json,
    /// An XML document.
    Xml,
    /// A PDF.
    Pdf,
    /// A PNG or JPEG.
    Image,
    /// Barcode payloads, one per line.
    Text,
}

/// [`decode_job`] for a body the server holds as [`bytes::Bytes`]: a PDF body becomes the job
/// without a copy (5 MB copied per request and per fetch round before; issue #15).
pub fn decode_shared_job(kind: BodyKind, body: &bytes::Bytes) -> Result<Job, Problem> {
    match kind {
        BodyKind::Pdf => Ok(Job::Pdf(body.clone())),
        other => decode_job(other, body),
    }
}

/// Decodes a body into a job (CPU work: JSON, base64, multipart; runs on the pool).
pub fn decode_job(kind: BodyKind, body: &[u8]) -> Result<Job, Problem> {
    match kind {
        BodyKind::Der => Ok(Job::Cms {
            signature: body.to_vec(),
            content: None,
        }),
        BodyKind::Multipart(boundary) => {
            let parts = multipart::parse(body, &boundary).map_err(Problem::bad_request)?;
            let get = |n: &str| parts.iter().find(|p| p.name == n).map(|p| p.data.to_vec());
            let signature = get("signature").ok_or_else(|| {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "missing-field",
                    "multipart form needs a \"signature\" part",
                )
            })?;
            Ok(Job::Cms {
                signature,
                content: get("content"),
            })
        }
        BodyKind::Xml => Ok(Job::Xml(body.to_vec())),
        BodyKind::Pdf => Ok(Job::Pdf(bytes::Bytes::copy_from_slice(body))),
        BodyKind::Image => Ok(Job::Image(body.to_vec())),
        BodyKind::Text => Ok(Job::Barcodes {
            payloads: crate::formats::barcode::split_lines(body),
            content: None,
        }),
        BodyKind::Json => {
            let r: JsonRequest = serde_json::from_slice(body)
                .map_err(|e| Problem::bad_request(format!("invalid JSON: {e}")))?;
            job_from_json(r)
        }
    }
}

/// Line `n` (from 0) of an NDJSON batch: its `id` (null when absent or unreadable) and its job,
/// or why it cannot be one.
pub fn decode_batch_line(n: usize, line: &[u8]) -> (serde_json::Value, Result<Job, Problem>) {
    match serde_json::from_slice::<JsonRequest>(line) {
        Ok(mut r) => (
            r.id.take().unwrap_or(serde_json::Value::Null),
            job_from_json(r),
        ),
        // A bad line still answers with its id when the id itself is readable (README).
        Err(e) => (
            batch_line_id(line),
            Err(Problem::bad_request(format!(
                "line {}: invalid JSON: {e}",
                n.saturating_add(1)
            ))),
        ),
    }
}

/// The `id` of a batch line, without decoding its payloads (for answering a line whose
/// verification failed unexpectedly).
pub fn batch_line_id(line: &[u8]) -> serde_json::Value {
    #[derive(Deserialize)]
    struct IdOnly {
        #[serde(default)]
        id: Option<serde_json::Value>,
    }
    serde_json::from_slice::<IdOnly>(line)
        .ok()
        .and_then(|r| r.id)
        .unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_body_naming_two_documents_is_refused() {
        for body in [
            r#"{"cms":"AA==","pdf":"AA=="}"#,
            r#"{"xml":"AA==","barcodes":["x"]}"#,
            r#"{"pdf":"AA==","content":"AA=="}"#,
        ] {
            let r: JsonRequest = serde_json::from_str(body).expect("json");
            assert!(job_from_json(r).is_err(), "{body}");
        }
        let r: JsonRequest = serde_json::from_str(r#"{"cms":"AA==","content":"AA=="}"#).unwrap();
        assert!(job_from_json(r).is_ok());
    }

    #[test]
    fn batch_lines_keep_their_id_even_when_bad() {
        let (id, job) = decode_batch_line(0, br#"{"id": 7, "cms": "MAA="}"#);
        assert_eq!(
            (id, job.unwrap()),
            (
                serde_json::json!(7),
                Job::Cms {
                    signature: vec![0x30, 0],
                    content: None
                }
            )
        );
        // The cms field has the wrong type: the line is refused, but its id is echoed.
        let (id, job) = decode_batch_line(1, br#"{"id": "a", "cms": 5}"#);
        assert_eq!(id, serde_json::json!("a"));
        assert!(job.unwrap_err().detail.starts_with("line 2: invalid JSON"));
        assert_eq!(decode_batch_line(2, b"not json").0, serde_json::Value::Null);
    }

    #[test]
    fn a_json_body_and_a_batch_line_decode_alike() {
        let body = br#"{"xml": "PGEvPg==", "id": 1}"#;
        assert_eq!(
            decode_job(BodyKind::Json, body).unwrap(),
            decode_batch_line(0, body).1.unwrap()
        );
    }
}
