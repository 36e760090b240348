//! Budgets for untrusted input, in one place with their defaults and where they came from.

use serde::Deserialize;

/// Largest configuration file read (`--config`), in bytes. A full configuration is ~2 KB; 1 MiB
/// leaves room for comments and long allow-lists and keeps `/dev/zero` as a config cheap.
pub const MAX_CONFIG_FILE_BYTES: usize = 1 << 20;

/// Most attributes on one XML element, namespace declarations included. Signed documents carry
/// a handful (an egov envelope's root ~10 namespace declarations; XMLDSig elements 1–3); 256 is
/// far above that, and refuses 100,000-attribute elements before their values are decoded.
pub const MAX_XML_ATTRIBUTES: usize = 256;

/// Largest trust or intermediate bundle file (`--trust`, `--intermediate`, each file of a
/// directory), and largest TLS certificate or key file, in bytes. Mozilla's whole root bundle is
/// ~220 KB and the NCA set a few KB; 16 MiB is ~10,000 PEM certificates.
pub const MAX_BUNDLE_FILE_BYTES: usize = 16 << 20;

/// Every size, count and work budget the core enforces. Defaults are generous for real documents
/// and small enough that a hostile input cannot make one request expensive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest signature/document input in bytes (256 MiB: a 100 MB signed PDF of scans fits;
    /// PDF byte ranges are hashed in place, so the file is the only copy held).
    pub max_input_bytes: usize,
    /// Largest detached content in bytes (256 MiB).
    pub max_content_bytes: usize,
    /// Most certificates read from one signature's bag (real CMS carry 1–5; 64 leaves room for
    /// cross-signed chains).
    pub max_certificates: usize,
    /// Most SignerInfos verified in one CMS (court documents with many co-signers stay far below).
    pub max_signers: usize,
    /// Most signed or unsigned attributes per signer.
    pub max_attributes: usize,
    /// Deepest ASN.1 nesting accepted while normalising BER (CMS needs ~12; X.509 ~10).
    pub max_asn1_depth: usize,
    /// Most ASN.1 elements visited while normalising BER input.
    pub max_asn1_elements: usize,
    /// Longest certificate path, trust anchor excluded (the NCA uses 2, webpki allows 6).
    pub max_path_depth: usize,
    /// Signature checks one path search may spend (webpki uses 100).
    pub max_signature_checks: usize,
    /// Candidate issuers one path search may consider (webpki caps calls at 200 000; we search
    /// much smaller bags, and a hostile bag of same-name certificates must stay cheap).
    pub max_path_steps: usize,
    /// Certificates tried as one SignerInfo's signer (all match its issuer+serial or SKI: a
    /// renewed certificate with the same key, a decoy). Each costs a signature check and a path
    /// search; 4 covers a key renewed three times, and 32 signers × 4 stays under 128 checks.
    pub max_signer_candidates: usize,
    /// Signature operations one request may spend in all (document signatures, certificate
    /// signatures tried while building paths, CRL and OCSP signatures): the per-layer caps
    /// multiply to thousands; a real document with 32 signers needs a few hundred.
    pub max_request_signature_checks: usize,
    /// Deepest XML element nesting (signed documents of state bodies nest ~10 levels).
    pub max_xml_depth: usize,
    /// Most XML nodes in one document (elements, text, comments, PIs).
    pub max_xml_nodes: usize,
    /// Most barcode parts in one set (egov e-certificates print 3–10 QR codes).
    pub max_barcode_parts: usize,
    /// Largest total size of one barcode set's payloads, in bytes (a QR symbol holds < 3 KB).
    pub max_barcode_bytes: usize,
    /// Largest decompressed size of a barcode's ZIP entry (the documents are a few KB of XML).
    pub max_unzipped_bytes: usize,
    /// Highest decompressed/compressed ratio accepted from a ZIP entry (XML compresses ~5–20×;
    /// a decompression bomb reaches 1000×).
    pub max_zip_ratio: usize,
    /// Most objects in one PDF revision's cross-reference (large scanned documents have ~10^4).
    pub max_pdf_objects: usize,
    /// Deepest nesting of PDF arrays and dictionaries (real files stay under 10).
    pub max_pdf_depth: usize,
    /// Most bytes decompressed from one PDF's object and cross-reference streams.
    pub max_pdf_decompressed_bytes: usize,
    /// Most revisions (incremental updates) in one PDF.
    pub max_pdf_revisions: usize,
    /// Largest image read for QR codes, in pixels (a 48-megapixel phone photo).
    pub max_image_pixels: usize,
    /// Most images of one PDF read for QR codes.
    pub max_pdf_images: usize,
    /// Time budget for reading the QR codes of one PDF's images, in milliseconds (checked between
    /// images; each image is bounded by `max_image_pixels`).
    pub qr_time_budget_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 256 << 20,
            max_content_bytes: 256 << 20,
            max_certificates: 64,
            max_signers: 32,
            max_attributes: 64,
            max_asn1_depth: 32,
            max_asn1_elements: 200_000,
            max_path_depth: 8,
            max_signature_checks: 64,
            max_path_steps: 256,
            max_signer_candidates: 4,
            max_request_signature_checks: 1024,
            max_xml_depth: 64,
            max_xml_nodes: 200_000,
            max_barcode_parts: 64,
            max_barcode_bytes: 1 << 20,
            max_unzipped_bytes: 8 << 20,
            max_zip_ratio: 200,
            max_pdf_objects: 1_000_000,
            max_pdf_depth: 32,
            max_pdf_decompressed_bytes: 256 << 20,
            max_pdf_revisions: 256,
            max_image_pixels: 48_000_000,
            max_pdf_images: 32,
            qr_time_budget_ms: 3000,
        }
    }
}
