//! Request bodies to jobs: multipart forms, JSON objects, NDJSON batch lines, payload lines. Pure
//! functions over bytes, apart from the socket (hyper) and the pool, so that a fuzz target can
//! drive exactly what the routes run (`fuzz/fuzz_targets/http_body.rs`).

use super::{multipart, Problem};
use crate::detect::{detect, Detected};
use crate::verdict::Format;
use crate::verify::Input;
use base64::Engine;
use hyper::StatusCode;
use serde::Deserialize;

/// Base64 with or without padding: JSON clients send what their library writes (Python's
/// `urlsafe_b64encode`, JavaScript's `btoa`, Go's `RawURLEncoding`), and a raw body accepts
/// either too.
const PADDING_OPTIONAL: base64::engine::GeneralPurposeConfig =
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
const STANDARD: base64::engine::GeneralPurpose =
    base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, PADDING_OPTIONAL);
const URL_SAFE: base64::engine::GeneralPurpose =
    base64::engine::GeneralPurpose::new(&base64::alphabet::URL_SAFE, PADDING_OPTIONAL);

/// Base64 or base64url (whitespace ignored, padding optional) of a JSON field; a 400 naming the
/// field when it is neither.
pub(super) fn b64(field: &str, s: &str) -> Result<Vec<u8>, Problem> {
    let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(&clean)
        .or_else(|e| URL_SAFE.decode(&clean).map_err(|_| e))
        .map_err(|e| Problem::bad_request(format!("{field}: not base64 or base64url: {e}")))
}

/// A JSON field that takes what the raw body takes: PEM text (`cms`, `cert`) or XML text
/// (`xml`) as it is, anything else as base64/base64url.
pub(super) fn text_or_b64(field: &str, s: &str) -> Result<Vec<u8>, Problem> {
    let t = s.trim_start_matches('\u{feff}').trim_start();
    let text = match field {
        "cms" | "cert" => t.starts_with("-----BEGIN "),
        "xml" => t.starts_with('<'),
        _ => false,
    };
    if text {
        Ok(s.as_bytes().to_vec())
    } else {
        b64(field, s)
    }
}

/// What a route or a JSON field expects, to be compared with what the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// A CMS signature (DER, BER, PEM, base64).
    Cms,
    /// A PDF.
    Pdf,
    /// An XML document.
    Xml,
    /// A PNG or JPEG.
    Image,
    /// Barcode payload text.
    Barcodes,
}

impl Expected {
    fn describe(self) -> &'static str {
        match self {
            Expected::Cms => "a CMS signature",
            Expected::Pdf => "a PDF",
            Expected::Xml => "an XML document",
            Expected::Image => "a PNG or JPEG image",
            Expected::Barcodes => "barcode payload text",
        }
    }

    /// Whether bytes recognised as `d` are accepted here. Unrecognised bytes are: they get the
    /// format's own FORMAT_FAILURE verdict, as before detection existed.
    fn accepts(self, d: Detected) -> bool {
        matches!(
            (self, d),
            (_, Detected::Unknown)
                | (Expected::Cms, Detected::Cms(_))
                | (Expected::Pdf, Detected::Pdf)
                | (Expected::Xml, Detected::Xml)
                | (Expected::Image, Detected::Png | Detected::Jpeg)
                | (Expected::Barcodes, Detected::Barcode(_))
        )
    }
}

/// Where the bytes came from, for the problem's advice.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// The raw request body: a mismatch is a 415 naming the right Content-Type.
    Body,
    /// A JSON field: a mismatch is a 422 naming the right field.
    Field(&'static str),
    /// The `signature` part of a multipart form (422).
    Part,
}

/// Refuses bytes that are recognisably something else than `expected` (issue #16: a PDF sent as
/// CMS must not be answered FORMAT_FAILURE "bad base64: Invalid symbol 58"). The problem names
/// what the bytes are and where to send them. Looks at a bounded prefix only
/// ([`crate::detect::SNIFF_WINDOW`]).
pub fn check_format(expected: Expected, bytes: &[u8], source: Source) -> Result<(), Problem> {
    let d = detect(bytes);
    if expected.accepts(d) {
        return Ok(());
    }
    let (content_type, field) = match d {
        Detected::Pdf => ("application/pdf", Some("pdf")),
        Detected::Cms(_) => ("application/pkcs7-signature", Some("cms")),
        Detected::Xml => ("application/xml", Some("xml")),
        Detected::Png => ("image/png", None),
        Detected::Jpeg => ("image/jpeg", None),
        Detected::Barcode(_) => ("text/plain", Some("barcodes")),
        // A certificate has its own route; `Unknown` is accepted above.
        Detected::Certificate(_) | Detected::Unknown | Detected::Ambiguous => ("", None),
    };
    let advice = match (d, source, field) {
        (Detected::Ambiguous, _, _) => {
            "readers would show different documents from these bytes; send the PDF or the image on its own"
                .to_owned()
        }
        (Detected::Certificate(_), _, _) => {
            "a certificate on its own is checked by POST /v1/certificates/inspect".to_owned()
        }
        (_, Source::Field(_), Some(f)) => format!("send it in the \"{f}\" field"),
        _ => format!("send it to POST /v1/verify with Content-Type: {content_type}"),
    };
    let (status, place) = match source {
        Source::Body => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the request body".to_owned(),
        ),
        Source::Field(f) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the \"{f}\" field"),
        ),
        Source::Part => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "the \"signature\" part".to_owned(),
        ),
    };
    Err(Problem::new(
        status,
        "format-mismatch",
        format!(
            "{place} should be {} but is {}: {advice}",
            expected.describe(),
            d.describe()
        ),
    ))
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

impl JsonRequest {
    /// The verdict format of the document this request names (CMS when it names none), for a
    /// failure answered before the document is verified.
    fn format(&self) -> Format {
        if self.pdf.is_some() {
            Format::Pdf
        } else if self.xml.is_some() {
            Format::Xmldsig
        } else if let Some(b) = &self.barcodes {
            let refs: Vec<&[u8]> = b.iter().take(1).map(String::as_bytes).collect();
            Input::Barcodes {
                payloads: &refs,
                content: None,
            }
            .format()
        } else {
            Format::Cms
        }
    }
}

impl Job {
    /// The bounded `format` label of the verification metrics.
    pub fn metrics_label(&self) -> &'static str {
        match self {
            Job::Cms { .. } => "cms",
            Job::Xml(_) => "xml",
            Job::Pdf(_) => "pdf",
            Job::Image(_) | Job::Barcodes { .. } => "barcode",
        }
    }
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
        let signature = text_or_b64("cms", &cms)?;
        check_format(Expected::Cms, &signature, Source::Field("cms"))?;
        return Ok(Job::Cms { signature, content });
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
        let xml = text_or_b64("xml", &x)?;
        check_format(Expected::Xml, &xml, Source::Field("xml"))?;
        return Ok(Job::Xml(xml));
    }
    if let Some(p) = r.pdf {
        let pdf = b64("pdf", &p)?;
        check_format(Expected::Pdf, &pdf, Source::Field("pdf"))?;
        return Ok(Job::Pdf(pdf.into()));
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
        // (An empty body goes on to decode_job's refusal.)
        BodyKind::Pdf if !body.trim_ascii().is_empty() => {
            check_format(Expected::Pdf, body, Source::Body)?;
            Ok(Job::Pdf(body.clone()))
        }
        other => decode_job(other, body),
    }
}

/// Decodes a body into a job (CPU work: JSON, base64, multipart; runs on the pool).
pub fn decode_job(kind: BodyKind, body: &[u8]) -> Result<Job, Problem> {
    // An empty body is a client mistake (a file that was not attached), not a document that
    // failed verification.
    if body.trim_ascii().is_empty() {
        return Err(Problem::bad_request("the request body is empty"));
    }
    match kind {
        BodyKind::Der => {
            check_format(Expected::Cms, body, Source::Body)?;
            Ok(Job::Cms {
                signature: body.to_vec(),
                content: None,
            })
        }
        BodyKind::Multipart(boundary) => {
            let parts = multipart::parse(body, &boundary).map_err(Problem::bad_request)?;
            // A part under another name (`Content`, `file`) would be ignored while the client
            // believes it was checked: refused, naming the two parts read.
            if let Some(p) = parts
                .iter()
                .find(|p| p.name != "signature" && p.name != "content")
            {
                return Err(Problem::bad_request(format!(
                    "unknown form part {:?}: the parts read are \"signature\" and \"content\"",
                    p.name
                )));
            }
            let get = |n: &str| parts.iter().find(|p| p.name == n).map(|p| p.data.to_vec());
            let signature = get("signature").ok_or_else(|| {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "missing-field",
                    "multipart form needs a \"signature\" part",
                )
            })?;
            let content = get("content");
            if let Err(mut p) = check_format(Expected::Cms, &signature, Source::Part) {
                // The most common cause: the two files given the wrong names.
                if content
                    .as_deref()
                    .is_some_and(|c| matches!(detect(c), Detected::Cms(_)))
                {
                    p.detail.push_str(
                        " (the \"content\" part is the signature: are the parts swapped?)",
                    );
                }
                return Err(p);
            }
            Ok(Job::Cms { signature, content })
        }
        BodyKind::Xml => {
            check_format(Expected::Xml, body, Source::Body)?;
            Ok(Job::Xml(body.to_vec()))
        }
        BodyKind::Pdf => {
            check_format(Expected::Pdf, body, Source::Body)?;
            Ok(Job::Pdf(bytes::Bytes::copy_from_slice(body)))
        }
        BodyKind::Image => {
            check_format(Expected::Image, body, Source::Body)?;
            Ok(Job::Image(body.to_vec()))
        }
        BodyKind::Text => {
            check_format(Expected::Barcodes, body, Source::Body)?;
            Ok(Job::Barcodes {
                payloads: crate::formats::barcode::split_lines(body),
                content: None,
            })
        }
        BodyKind::Json => {
            let r: JsonRequest = serde_json::from_slice(body)
                .map_err(|e| Problem::bad_request(format!("invalid JSON: {e}")))?;
            job_from_json(r)
        }
    }
}

/// Line `n` (from 0) of an NDJSON batch: its `id` (null when absent or unreadable) and its job,
/// or why it cannot be one with the format of the document the line names (a bad `pdf` line is
/// answered as a PDF verdict, not as CMS).
#[allow(clippy::type_complexity)]
pub fn decode_batch_line(
    n: usize,
    line: &[u8],
) -> (serde_json::Value, Result<Job, (Format, Problem)>) {
    let line_no = n.saturating_add(1);
    match serde_json::from_slice::<JsonRequest>(line) {
        Ok(mut r) => {
            let id = r.id.take().unwrap_or(serde_json::Value::Null);
            let format = r.format();
            let job = job_from_json(r).map_err(|mut p| {
                p.detail = format!("line {line_no}: {}", p.detail);
                (format, p)
            });
            (id, job)
        }
        // A bad line still answers with its id when the id itself is readable (README).
        Err(e) => (
            batch_line_id(line),
            Err((
                batch_line_format(line),
                Problem::bad_request(format!("line {line_no}: invalid JSON: {e}")),
            )),
        ),
    }
}

/// The format of the document a batch line names, read without decoding its payloads: by the
/// first of `pdf`, `xml`, `barcodes` it has (CMS otherwise, the format of the batch contract).
pub fn batch_line_format(line: &[u8]) -> Format {
    #[derive(Deserialize)]
    struct Fields {
        #[serde(default)]
        pdf: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        xml: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        barcodes: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Fields>(line) {
        Ok(f) if f.pdf.is_some() => Format::Pdf,
        Ok(f) if f.xml.is_some() => Format::Xmldsig,
        Ok(f) if f.barcodes.is_some() => Format::EgovBarcode,
        _ => Format::Cms,
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
        let (format, problem) = job.unwrap_err();
        assert!(problem.detail.starts_with("line 2: invalid JSON"));
        assert_eq!(format, Format::Cms);
        // A line naming a PDF that cannot be decoded is answered as a PDF.
        let (_, job) = decode_batch_line(3, br#"{"pdf": "%PDF-1.7"}"#);
        let (format, problem) = job.unwrap_err();
        assert_eq!(format, Format::Pdf);
        assert!(
            problem.detail.starts_with("line 4: pdf: not base64"),
            "{}",
            problem.detail
        );
        let (_, job) = decode_batch_line(4, br#"{"xml": 5}"#);
        assert_eq!(job.unwrap_err().0, Format::Xmldsig);
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
