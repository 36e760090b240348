//! Recognising what an input is before parsing it as anything (issue #16): a PDF handed to the
//! CMS route, or a certificate handed to `verify cms`, must be named as what it is, not reported
//! as `FORMAT_FAILURE` with "bad base64: Invalid symbol 58".
//!
//! [`detect`] is a pure function over a bounded prefix of the bytes: it allocates at most a few
//! dozen bytes (a base64 prefix decoded) and looks at no more than [`SNIFF_WINDOW`] bytes, so the
//! CLI and the HTTP edge can call it on every input, of any size, before any real work.
//!
//! Detection only chooses which error message to give or which parser to try; it never decides a
//! verdict. A sniffed "CMS" that then fails to parse is a `FORMAT_FAILURE` as before.

use crate::formats::barcode;
use base64::Engine;

/// How far into an input detection looks. PDF readers accept `%PDF-` within the first 1024
/// bytes (ISO 32000-1 §7.5.2 implementation note, followed by Acrobat); the other signatures
/// are at the very start after at most a BOM and some whitespace, which 4 KiB covers with room.
pub const SNIFF_WINDOW: usize = 4096;

/// Where the PDF header may start (see [`SNIFF_WINDOW`]).
const PDF_HEADER_WINDOW: usize = 1024;

/// Base64 characters decoded to recognise base64 CMS: 64 characters are 48 bytes, enough for
/// the outer SEQUENCE header (at most 6 bytes) and the 11-byte signedData OID.
const B64_PREFIX: usize = 64;

/// The DER of OID 1.2.840.113549.1.7.2 (id-signedData, RFC 5652 §5.1) with its tag and length.
const SIGNED_DATA_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
];

/// The PNG signature (RFC 2083 §3.1).
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The JPEG start-of-image marker followed by the first marker's prefix (ITU T.81 B.1.1.2).
const JPEG_MAGIC: &[u8] = &[0xff, 0xd8, 0xff];

/// How a CMS signature or a certificate is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Binary DER (or BER with an indefinite length).
    Der,
    /// PEM armour (`-----BEGIN ...-----`).
    Pem,
    /// Bare base64 (standard or URL-safe alphabet) of the DER.
    Base64,
}

/// What an input looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detected {
    /// A PDF file (`%PDF-` within the first 1024 bytes).
    Pdf,
    /// A CMS SignedData (`.p7s`, `.p7m`, `.p7b`).
    Cms(Encoding),
    /// An XML document (not a barcode payload).
    Xml,
    /// A PNG image.
    Png,
    /// A JPEG image.
    Jpeg,
    /// An X.509 certificate.
    Certificate(Encoding),
    /// Scanned 2D-barcode text (egov.kz e-certificate, SIGEX card, HC1).
    Barcode(barcode::Kind),
    /// Nothing tekser recognises.
    Unknown,
    /// Two formats at once: an image whose first 1024 bytes also hold a PDF header (a
    /// polyglot). A PDF reader shows the PDF, an image viewer the picture: which document was
    /// checked would depend on the program, so nobody accepts it.
    Ambiguous,
}

impl Detected {
    /// A short lower-case name for messages and JSON (`pdf`, `cms`, `xml`, `png`, `jpeg`,
    /// `certificate`, `barcode`, `unknown`).
    pub fn name(self) -> &'static str {
        match self {
            Detected::Pdf => "pdf",
            Detected::Cms(_) => "cms",
            Detected::Xml => "xml",
            Detected::Png => "png",
            Detected::Jpeg => "jpeg",
            Detected::Certificate(_) => "certificate",
            Detected::Barcode(_) => "barcode",
            Detected::Unknown => "unknown",
            Detected::Ambiguous => "ambiguous",
        }
    }

    /// The phrase for a sentence: "a PDF", "a CMS signature (PEM)", ...
    pub fn describe(self) -> &'static str {
        match self {
            Detected::Pdf => "a PDF",
            Detected::Cms(Encoding::Der) => "a CMS signature (DER)",
            Detected::Cms(Encoding::Pem) => "a CMS signature (PEM)",
            Detected::Cms(Encoding::Base64) => "a CMS signature (base64)",
            Detected::Xml => "an XML document",
            Detected::Png => "a PNG image",
            Detected::Jpeg => "a JPEG image",
            Detected::Certificate(_) => "an X.509 certificate",
            Detected::Barcode(barcode::Kind::Egov) => "egov.kz e-certificate barcode text",
            Detected::Barcode(barcode::Kind::Ddc) => "SIGEX document card barcode text",
            Detected::Barcode(barcode::Kind::Hc1) => "HC1 barcode text",
            Detected::Unknown => "unrecognised data",
            Detected::Ambiguous => "an image that is also a PDF (a polyglot file)",
        }
    }
}

/// Recognises `bytes` by looking at most at its first [`SNIFF_WINDOW`] bytes.
///
/// Order matters where shapes overlap: barcode text before XML (an egov payload is an XML
/// element), PEM before base64 (a PEM body is base64), and binary magic first of all.
pub fn detect(bytes: &[u8]) -> Detected {
    let window = bytes.get(..SNIFF_WINDOW).unwrap_or(bytes);
    let pdf_window = window.get(..PDF_HEADER_WINDOW).unwrap_or(window);
    let image = if window.starts_with(PNG_MAGIC) {
        Some(Detected::Png)
    } else if window.starts_with(JPEG_MAGIC) {
        Some(Detected::Jpeg)
    } else {
        None
    };
    if let Some(image) = image {
        // PDF readers look for the header anywhere in the first 1024 bytes.
        return if find(pdf_window, b"%PDF-").is_some() {
            Detected::Ambiguous
        } else {
            image
        };
    }
    if is_cms_der(window) {
        return Detected::Cms(Encoding::Der);
    }
    if is_certificate_der(window) {
        return Detected::Certificate(Encoding::Der);
    }
    if find(pdf_window, b"%PDF-").is_some() {
        return Detected::Pdf;
    }
    let text = window
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(window)
        .trim_ascii_start();
    if let Some(detected) = pem(text) {
        return detected;
    }
    if let Some(kind) = barcode_kind(text) {
        return Detected::Barcode(kind);
    }
    if text.starts_with(b"<") {
        return Detected::Xml;
    }
    if is_base64_cms(text) {
        return Detected::Cms(Encoding::Base64);
    }
    Detected::Unknown
}

/// Reads a DER/BER tag-length header at the start of `b` for a constructed SEQUENCE: returns the
/// rest after the header and the content length (`None` for an indefinite length).
fn sequence_header(b: &[u8]) -> Option<(&[u8], Option<usize>)> {
    let (&tag, rest) = b.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    match first {
        0x80 => Some((rest, None)),
        n if n < 0x80 => Some((rest, Some(usize::from(n)))),
        // Long form with 1..=4 length bytes: 4 covers every size tekser accepts (< 4 GiB).
        0x81..=0x84 => {
            let count = usize::from(first & 0x7f);
            let len_bytes = rest.get(..count)?;
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &d| (acc << 8) | usize::from(d));
            Some((rest.get(count..)?, Some(len)))
        }
        _ => None,
    }
}

/// A ContentInfo whose contentType is id-signedData: `30 <len> 06 09 2a864886f70d010702`.
fn is_cms_der(b: &[u8]) -> bool {
    sequence_header(b).is_some_and(|(rest, _)| rest.starts_with(SIGNED_DATA_OID))
}

/// A Certificate: SEQUENCE { tbsCertificate SEQUENCE { [0] version | serial INTEGER, ... } }
/// (RFC 5280 §4.1). The nested SEQUENCE with a version tag or an INTEGER right inside is what
/// tells it apart from other DER (a CRL's TBS starts with an optional INTEGER version too, but
/// a CRL is no input tekser takes on its own, and calling it a certificate only names it).
fn is_certificate_der(b: &[u8]) -> bool {
    let Some((rest, Some(_))) = sequence_header(b) else {
        return false;
    };
    let Some((tbs, Some(_))) = sequence_header(rest) else {
        return false;
    };
    // [0] EXPLICIT Version: a0 03 02 01 0v.
    tbs.starts_with(&[0xa0, 0x03, 0x02, 0x01]) || tbs.first() == Some(&0x02)
}

/// PEM armour: a CMS (`PKCS7`, `CMS`) or a certificate.
fn pem(text: &[u8]) -> Option<Detected> {
    let label = text.strip_prefix(b"-----BEGIN ")?;
    if label.starts_with(b"PKCS7-----") || label.starts_with(b"CMS-----") {
        Some(Detected::Cms(Encoding::Pem))
    } else if label.starts_with(b"CERTIFICATE-----") || label.starts_with(b"X509 CERTIFICATE-----")
    {
        Some(Detected::Certificate(Encoding::Pem))
    } else {
        None
    }
}

/// Barcode payload text, by the shapes [`barcode::detect`] accepts, checked on the window only
/// (that function scans its whole input; a payload names its kind within its first bytes). A
/// SIGEX card is JSON, so a `{` must also carry `"signId"` to be called one here.
fn barcode_kind(text: &[u8]) -> Option<barcode::Kind> {
    match barcode::detect(text)? {
        barcode::Kind::Ddc if find(text, b"\"signId\"").is_none() => None,
        kind => Some(kind),
    }
}

/// Bare base64 whose first [`B64_PREFIX`] characters (whitespace skipped) decode to the start of
/// a CMS ContentInfo, in the standard or URL-safe alphabet.
fn is_base64_cms(text: &[u8]) -> bool {
    let mut prefix = Vec::with_capacity(B64_PREFIX);
    for &c in text.iter().filter(|c| !c.is_ascii_whitespace()) {
        if prefix.len() == B64_PREFIX {
            break;
        }
        prefix.push(c);
    }
    // Whole quanta only: a 4-character group decodes alone, so a prefix is a valid input.
    prefix.truncate(prefix.len() - prefix.len() % 4);
    let no_pad = base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
    [
        base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, no_pad),
        base64::engine::GeneralPurpose::new(&base64::alphabet::URL_SAFE, no_pad),
    ]
    .iter()
    .any(|engine| engine.decode(&prefix).is_ok_and(|der| is_cms_der(&der)))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Vec<u8> {
        let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    #[test]
    fn pdf_files_are_pdf() {
        assert_eq!(detect(&fixture("fixtures/pdf/signed.pdf")), Detected::Pdf);
        assert_eq!(detect(&fixture("fixtures/pdf/unsigned.pdf")), Detected::Pdf);
        assert_eq!(
            detect(&fixture("fixtures/barcode/egov-rsa/ecert.pdf")),
            Detected::Pdf
        );
    }

    #[test]
    fn pdf_header_after_junk_within_1024_bytes_only() {
        let pdf = fixture("fixtures/pdf/signed.pdf");
        let mut late = vec![b'x'; 1000];
        late.extend_from_slice(&pdf);
        assert_eq!(detect(&late), Detected::Pdf);
        let mut too_late = vec![b'x'; 1100];
        too_late.extend_from_slice(&pdf);
        assert_eq!(detect(&too_late), Detected::Unknown);
    }

    #[test]
    fn cms_in_each_encoding() {
        assert_eq!(
            detect(&fixture("fixtures/cms/rsa-attached.p7s")),
            Detected::Cms(Encoding::Der)
        );
        // BER with indefinite lengths, as streaming signers write it.
        assert_eq!(
            detect(&fixture("fixtures/cms/rsa-ber-stream.p7s")),
            Detected::Cms(Encoding::Der)
        );
        assert_eq!(
            detect(&fixture("fixtures/cms/rsa-attached.pem")),
            Detected::Cms(Encoding::Pem)
        );
        assert_eq!(
            detect(&fixture("fixtures/cms/rsa-attached.b64")),
            Detected::Cms(Encoding::Base64)
        );
        // Kalkan-made (another implementation's) signature.
        let dir = format!("{}/tests/data/kz/cms", env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{dir}: {e}")).path();
            if path.extension().is_some_and(|e| e == "cms") {
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
                assert!(
                    matches!(detect(&bytes), Detected::Cms(_)),
                    "{}",
                    path.display()
                );
                seen += 1;
            }
        }
        assert!(seen >= 4, "the Kalkan samples: {seen}");
    }

    #[test]
    fn base64url_and_pkcs7_pem_are_cms() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let der = fixture("fixtures/cms/rsa-attached.p7s");
        assert_eq!(
            detect(URL_SAFE_NO_PAD.encode(&der).as_bytes()),
            Detected::Cms(Encoding::Base64)
        );
        let pem = format!(
            "\n  -----BEGIN PKCS7-----\n{}\n-----END PKCS7-----\n",
            STANDARD.encode(&der)
        );
        assert_eq!(detect(pem.as_bytes()), Detected::Cms(Encoding::Pem));
    }

    #[test]
    fn xml_documents_with_bom_and_whitespace() {
        let xml = fixture("fixtures/xml/exc-c14n-rsa.xml");
        assert_eq!(detect(&xml), Detected::Xml);
        let mut bom = b"\xEF\xBB\xBF \r\n".to_vec();
        bom.extend_from_slice(&xml);
        assert_eq!(detect(&bom), Detected::Xml);
        assert_eq!(
            detect(&fixture("fixtures/barcode/egov-rsa/document.xml")),
            Detected::Xml
        );
    }

    #[test]
    fn images() {
        assert_eq!(
            detect(&fixture("fixtures/barcode/egov-rsa/part-1.png")),
            Detected::Png
        );
        // No JPEG fixture is checked in: the start of a JFIF file as every encoder writes it.
        let jfif = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00";
        assert_eq!(detect(jfif), Detected::Jpeg);
    }

    #[test]
    fn certificates_der_and_pem() {
        assert_eq!(
            detect(&fixture("fixtures/pki/rsa-leaf.crt")),
            Detected::Certificate(Encoding::Pem)
        );
        assert_eq!(
            detect(&fixture(
                "tests/data/kz/certs/individual_valid_sign_2004_rsa.cer"
            )),
            Detected::Certificate(Encoding::Pem)
        );
        assert_eq!(
            detect(&fixture("tests/data/kz/ca/nca_gost2015_test.cer")),
            Detected::Certificate(Encoding::Der)
        );
        assert_eq!(
            detect(&fixture("tests/data/kz/ca-embedded/nca_2015_cert.der")),
            Detected::Certificate(Encoding::Der)
        );
    }

    #[test]
    fn barcode_text() {
        assert_eq!(
            detect(&fixture("fixtures/barcode/egov-rsa/part-1.txt")),
            Detected::Barcode(barcode::Kind::Egov)
        );
        assert_eq!(
            detect(&fixture("fixtures/barcode/egov-rsa/all.txt")),
            Detected::Barcode(barcode::Kind::Egov)
        );
        assert_eq!(
            detect(&fixture("fixtures/barcode/ddc-rsa/all.txt")),
            Detected::Barcode(barcode::Kind::Ddc)
        );
        assert_eq!(
            detect(b"HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N"),
            Detected::Barcode(barcode::Kind::Hc1)
        );
        // JSON that is no SIGEX card.
        assert_eq!(detect(br#"{"cms": "MIIB"}"#), Detected::Unknown);
    }

    #[test]
    fn unknown_and_degenerate_inputs() {
        // Review finding: a PNG with a PDF header in a tEXt chunk, a PDF appended, passed the
        // batch command as a picture while PDF readers show the PDF.
        let mut polyglot = PNG_MAGIC.to_vec();
        polyglot.extend_from_slice(b"\0\0\0\x0dtEXtComment\0%PDF-1.7\n");
        assert_eq!(detect(&polyglot), Detected::Ambiguous);
        let mut jpeg = JPEG_MAGIC.to_vec();
        jpeg.extend_from_slice(b"\xFF\xFE\0\x0b%PDF-1.4\n");
        assert_eq!(detect(&jpeg), Detected::Ambiguous);
        assert_eq!(detect(b""), Detected::Unknown);
        assert_eq!(detect(b"   \n"), Detected::Unknown);
        assert_eq!(detect(b"hello world"), Detected::Unknown);
        assert_eq!(detect(&[0x30]), Detected::Unknown);
        assert_eq!(detect(&[0x30, 0x84, 0xff]), Detected::Unknown);
        assert_eq!(
            detect(&[0x30, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Detected::Unknown
        );
        // A bare ZIP archive.
        assert_eq!(
            detect(&fixture("fixtures/barcode/hello.zip")),
            Detected::Unknown
        );
    }

    #[test]
    fn looks_at_a_bounded_window_only() {
        // 64 MiB of whitespace then a PDF header: not found, and quickly.
        let mut big = vec![b' '; 64 << 20];
        big.extend_from_slice(b"%PDF-1.7");
        let start = std::time::Instant::now();
        assert_eq!(detect(&big), Detected::Unknown);
        let took = start.elapsed();
        println!("detect on 64 MiB: {took:?}");
        assert!(took < std::time::Duration::from_secs(2));
    }
}
