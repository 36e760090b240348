//! CMS SignedData (RFC 5652 §5) read from untrusted bytes.
//!
//! The structures below mirror the RFC module, but hold exact slices of the (DER-normalised)
//! input: `signedAttrs` is kept as received because the signature covers its DER encoding with
//! the `[0]` tag replaced by `SET` (§5.4), and certificates stay raw until path building asks.

use crate::asn1::{self, pem, tag, AlgorithmId, Asn1Error, Oid, Reader, Tlv};
use crate::limits::Limits;
use std::borrow::Cow;
use thiserror::Error;

/// CMS object identifiers (RFC 5652, RFC 5035, RFC 2634).
pub mod oid {
    use super::Oid;
    /// id-signedData
    pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    /// id-data
    pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
    /// id-contentType
    pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    /// id-messageDigest
    pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
    /// id-signingTime
    pub const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
    /// id-aa-signingCertificate (ESS, SHA-1 hashes)
    pub const SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
    /// id-aa-signingCertificateV2
    pub const SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
}

/// Why the bytes are not a usable SignedData. All map to FORMAT_FAILURE.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CmsError {
    /// Malformed ASN.1.
    #[error("malformed CMS: {0}")]
    Asn1(#[from] Asn1Error),
    /// Bigger than the input limit.
    #[error("input of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Neither DER, BER, PEM nor base64.
    #[error("not a CMS signature: {0}")]
    NotCms(String),
    /// ContentInfo holds something other than SignedData.
    #[error("ContentInfo holds {0}, not SignedData")]
    NotSignedData(String),
    /// More elements than the limits allow.
    #[error("too many {what} (limit {limit})")]
    TooMany {
        /// What.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A rule of RFC 5652 is broken.
    #[error("invalid SignedData: {0}")]
    Invalid(&'static str),
}

/// `SignerIdentifier ::= CHOICE { issuerAndSerialNumber, subjectKeyIdentifier [0] }`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerId<'a> {
    /// Issuer Name DER and serial number contents.
    IssuerSerial {
        /// `issuer` (DER of the Name).
        issuer: &'a [u8],
        /// `serialNumber` contents.
        serial: &'a [u8],
    },
    /// `subjectKeyIdentifier`
    SubjectKeyId(&'a [u8]),
}

/// `Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// `attrType`
    pub oid: Oid,
    /// `attrValues`, each element raw.
    pub values: Vec<Tlv<'a>>,
}

/// `SignerInfo` (RFC 5652 §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerInfo<'a> {
    /// `version` (1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier).
    pub version: u32,
    /// `sid`
    pub sid: SignerId<'a>,
    /// `digestAlgorithm`
    pub digest_algorithm: AlgorithmId,
    /// `signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL`, the whole element as received.
    pub signed_attrs_raw: Option<&'a [u8]>,
    /// The decoded signed attributes (same order as received).
    pub signed_attrs: Vec<Attribute<'a>>,
    /// `signatureAlgorithm`
    pub signature_algorithm: AlgorithmId,
    /// `signature` contents.
    pub signature: &'a [u8],
    /// `unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL`
    pub unsigned_attrs: Vec<Attribute<'a>>,
}

impl<'a> SignerInfo<'a> {
    /// The bytes the signature covers when signed attributes are present: their DER with the
    /// IMPLICIT `[0]` tag replaced by the `SET OF` tag (RFC 5652 §5.4).
    pub fn signed_attrs_message(&self) -> Option<Vec<u8>> {
        self.signed_attrs_raw.map(|raw| {
            let mut m = raw.to_vec();
            if let Some(first) = m.first_mut() {
                *first = tag::SET;
            }
            m
        })
    }

    /// All values of signed attribute `oid` (empty when absent), and how many times it occurs.
    pub fn signed_attr(&self, oid: &Oid) -> (usize, Option<&Attribute<'a>>) {
        let mut it = self.signed_attrs.iter().filter(|a| &a.oid == oid);
        let first = it.next();
        (first.map_or(0, |_| 1 + it.count()), first)
    }
}

/// `SignedData` (RFC 5652 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedData<'a> {
    /// `version`
    pub version: u32,
    /// `encapContentInfo.eContentType`
    pub econtent_type: Oid,
    /// `encapContentInfo.eContent` contents, when attached.
    pub econtent: Option<&'a [u8]>,
    /// `certificates`: the DER of each `Certificate` choice (other choices are ignored).
    pub certificates: Vec<&'a [u8]>,
    /// `crls`: each RevocationInfoChoice, raw (used by revocation checking).
    pub crls: Vec<&'a [u8]>,
    /// `signerInfos`
    pub signers: Vec<SignerInfo<'a>>,
}

/// Turns the bytes a user gave (DER, BER, PEM, or bare base64) into DER. Borrowed when the input
/// was DER already.
pub fn decode_input<'a>(input: &'a [u8], limits: &Limits) -> Result<Cow<'a, [u8]>, CmsError> {
    if input.len() > limits.max_input_bytes {
        return Err(CmsError::TooLarge {
            size: input.len(),
            limit: limits.max_input_bytes,
        });
    }
    // DER/BER starts with the SEQUENCE tag; only text needs the PEM/base64 sniffing.
    let binary: Cow<'a, [u8]> = if input.first() == Some(&tag::SEQUENCE) {
        Cow::Borrowed(input)
    } else if pem::is_pem(input) {
        let mut blocks = pem::decode_blocks(input, |l| {
            matches!(l, "PKCS7" | "CMS" | "PKCS #7 SIGNED DATA" | "SIGNED DATA")
        });
        if blocks.is_empty() {
            return Err(CmsError::NotCms("PEM without a PKCS7 or CMS block".into()));
        }
        // One signature per input: a second block would be ignored, unseen.
        if blocks.len() > 1 {
            return Err(CmsError::NotCms(
                "more than one PKCS7/CMS PEM block: give one signature per input".into(),
            ));
        }
        Cow::Owned(blocks.swap_remove(0).map_err(CmsError::NotCms)?)
    } else {
        let text = std::str::from_utf8(input)
            .map_err(|_| CmsError::NotCms("neither DER, PEM nor base64".into()))?;
        Cow::Owned(
            pem::decode_base64(text).map_err(|e| CmsError::NotCms(format!("bad base64: {e}")))?,
        )
    };
    match binary {
        Cow::Borrowed(b) => Ok(asn1::normalize_ber(
            b,
            limits.max_asn1_depth,
            limits.max_asn1_elements,
        )?),
        Cow::Owned(v) => {
            let der = asn1::normalize_ber(&v, limits.max_asn1_depth, limits.max_asn1_elements)?;
            Ok(Cow::Owned(der.into_owned()))
        }
    }
}

/// Whether `input` (a CMS as given; `der`, its decoding, and `sd`, parsed from `der`) also
/// reads as a PDF outside its signed content: a `%PDF-` anywhere but inside the encapsulated
/// content. PDF readers find a header anywhere and repair the rest, so a genuine signature
/// carrying a PDF in an unsigned certificate, or PEM text with a PDF after its END line,
/// verifies as CMS while every viewer shows the unsigned PDF. A PDF as the signed content itself
/// is fine: the viewer then shows what was signed. Works on what the pipeline already decoded.
pub fn pdf_outside_content(input: &[u8], der: &[u8], sd: &SignedData<'_>) -> bool {
    const HEADER: &[u8] = b"%PDF-";
    // Text (PEM, base64): '%' is no base64 character, so a header lies outside any block.
    if input.first() != Some(&tag::SEQUENCE) {
        return memchr::memmem::find(input, HEADER).is_some();
    }
    // The content's place in `der` (`sd` borrows from it).
    let inside = sd.econtent.map(|c| {
        let start = (c.as_ptr() as usize).wrapping_sub(der.as_ptr() as usize);
        start..start.saturating_add(c.len())
    });
    memchr::memmem::find_iter(der, HEADER).any(|i| {
        inside
            .as_ref()
            .is_none_or(|r| !(r.start <= i && i.saturating_add(HEADER.len()) <= r.end))
    })
}

fn read_attributes<'a>(
    set_contents: Reader<'a>,
    limit: usize,
) -> Result<Vec<Attribute<'a>>, CmsError> {
    let mut r = set_contents;
    let mut out = Vec::new();
    while !r.is_empty() {
        if out.len() >= limit {
            return Err(CmsError::TooMany {
                what: "attributes",
                limit,
            });
        }
        let mut a = r.read_tag(tag::SEQUENCE)?.reader();
        let oid = a.read()?.oid()?;
        let mut vr = a.read_tag(tag::SET)?.reader();
        a.finish()?;
        let mut values = Vec::new();
        while !vr.is_empty() {
            if values.len() >= limit {
                return Err(CmsError::TooMany {
                    what: "attribute values",
                    limit,
                });
            }
            values.push(vr.read()?);
        }
        out.push(Attribute { oid, values });
    }
    Ok(out)
}

fn read_signer<'a>(tlv: Tlv<'a>, limits: &Limits) -> Result<SignerInfo<'a>, CmsError> {
    let mut r = tlv.expect(tag::SEQUENCE)?.reader();
    let version = r.read()?.small_uint()?;
    let sid_tlv = r.read()?;
    let sid = match sid_tlv.tag {
        tag::SEQUENCE => {
            let mut s = sid_tlv.reader();
            let issuer = s.read_tag(tag::SEQUENCE)?.raw;
            let serial = s.read_tag(tag::INTEGER)?.value;
            s.finish()?;
            SignerId::IssuerSerial { issuer, serial }
        }
        t if t == tag::context_primitive(0) => SignerId::SubjectKeyId(sid_tlv.value),
        _ => return Err(CmsError::Invalid("unknown SignerIdentifier choice")),
    };
    let digest_algorithm = AlgorithmId::parse(r.read()?)?;
    let (signed_attrs_raw, signed_attrs) = match r.read_optional(tag::context_constructed(0))? {
        Some(t) => (
            Some(t.raw),
            read_attributes(t.reader(), limits.max_attributes)?,
        ),
        None => (None, Vec::new()),
    };
    let signature_algorithm = AlgorithmId::parse(r.read()?)?;
    let signature = r.read_tag(tag::OCTET_STRING)?.value;
    let unsigned_attrs = match r.read_optional(tag::context_constructed(1))? {
        Some(t) => read_attributes(t.reader(), limits.max_attributes)?,
        None => Vec::new(),
    };
    r.finish()?;
    Ok(SignerInfo {
        version,
        sid,
        digest_algorithm,
        signed_attrs_raw,
        signed_attrs,
        signature_algorithm,
        signature,
        unsigned_attrs,
    })
}

/// Parses `ContentInfo { id-signedData, SignedData }` from DER.
pub fn parse_signed_data<'a>(der: &'a [u8], limits: &Limits) -> Result<SignedData<'a>, CmsError> {
    let mut ci = Tlv::parse_exact(der)?.expect(tag::SEQUENCE)?.reader();
    let content_type = ci.read()?.oid()?;
    if content_type != oid::SIGNED_DATA {
        return Err(CmsError::NotSignedData(content_type.to_string()));
    }
    let explicit = ci.read_tag(tag::context_constructed(0))?;
    ci.finish()?;
    let mut sd = Tlv::parse_exact(explicit.value)?
        .expect(tag::SEQUENCE)?
        .reader();

    let version = sd.read()?.small_uint()?;
    // digestAlgorithms is advisory (one-pass hashing); each SignerInfo names its own digest.
    sd.read_tag(tag::SET)?;
    let mut eci = sd.read_tag(tag::SEQUENCE)?.reader();
    let econtent_type = eci.read()?.oid()?;
    let econtent = match eci.read_optional(tag::context_constructed(0))? {
        Some(t) => Some(Tlv::parse_exact(t.value)?.expect(tag::OCTET_STRING)?.value),
        None => None,
    };
    eci.finish()?;

    let mut certificates = Vec::new();
    if let Some(t) = sd.read_optional(tag::context_constructed(0))? {
        let mut cr = t.reader();
        while !cr.is_empty() {
            let c = cr.read()?;
            if c.tag == tag::SEQUENCE {
                if certificates.len() >= limits.max_certificates {
                    return Err(CmsError::TooMany {
                        what: "certificates",
                        limit: limits.max_certificates,
                    });
                }
                certificates.push(c.raw);
            }
        }
    }
    let mut crls = Vec::new();
    if let Some(t) = sd.read_optional(tag::context_constructed(1))? {
        let mut cr = t.reader();
        while !cr.is_empty() {
            if crls.len() >= limits.max_certificates {
                return Err(CmsError::TooMany {
                    what: "revocation entries",
                    limit: limits.max_certificates,
                });
            }
            crls.push(cr.read()?.raw);
        }
    }
    let mut sr = sd.read_tag(tag::SET)?.reader();
    sd.finish()?;
    let mut signers = Vec::new();
    while !sr.is_empty() {
        if signers.len() >= limits.max_signers {
            return Err(CmsError::TooMany {
                what: "signers",
                limit: limits.max_signers,
            });
        }
        signers.push(read_signer(sr.read()?, limits)?);
    }
    Ok(SignedData {
        version,
        econtent_type,
        econtent,
        certificates,
        crls,
        signers,
    })
}

/// id-ri-ocsp-response (RFC 5940 §4.1)
const RI_OCSP_RESPONSE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.16.2");
/// id-aa-ets-revocationValues (RFC 5126 §6.3.4)
const REVOCATION_VALUES: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.24");
/// id-pkix-ocsp-basic
const OCSP_BASIC: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.1");

/// Revocation data inside a SignedData: (CRL DERs, OCSPResponse DERs). Malformed items are
/// skipped here; what is found is validated by the revocation checker before any use.
pub fn revocation_info<'a>(sd: &SignedData<'a>) -> (Vec<&'a [u8]>, Vec<Vec<u8>>) {
    let mut crls = Vec::new();
    let mut ocsp = Vec::new();
    for raw in &sd.crls {
        let Ok(t) = Tlv::parse_exact(raw) else {
            continue;
        };
        match t.tag {
            tag::SEQUENCE => crls.push(*raw),
            // [1] OtherRevocationInfoFormat { otherRevInfoFormat, otherRevInfo }
            0xA1 => {
                let mut r = t.reader();
                if let (Ok(f), Ok(info)) = (r.read().and_then(|o| o.oid()), r.read()) {
                    if f == RI_OCSP_RESPONSE {
                        ocsp.push(info.raw.to_vec());
                    }
                }
            }
            _ => {}
        }
    }
    // CAdES RevocationValues ::= SEQUENCE { crlVals [0] SEQUENCE OF CertificateList OPTIONAL,
    //   ocspVals [1] SEQUENCE OF BasicOCSPResponse OPTIONAL, otherRevVals [2] OPTIONAL }
    for si in &sd.signers {
        for a in si
            .unsigned_attrs
            .iter()
            .filter(|a| a.oid == REVOCATION_VALUES)
        {
            for v in &a.values {
                let mut r = v.reader();
                while let Ok(item) = r.read() {
                    let Ok(list) = Tlv::parse_exact(item.value) else {
                        continue;
                    };
                    let mut lr = list.reader();
                    while let Ok(x) = lr.read() {
                        match item.tag {
                            0xA0 => crls.push(x.raw),
                            0xA1 => ocsp.push(wrap_basic_ocsp(x.raw)),
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    (crls, ocsp)
}

/// An OCSPResponse around a BasicOCSPResponse (successful, id-pkix-ocsp-basic).
fn wrap_basic_ocsp(basic: &[u8]) -> Vec<u8> {
    use crate::asn1::encode_tlv;
    let rb = encode_tlv(
        tag::SEQUENCE,
        &[
            encode_tlv(tag::OID, OCSP_BASIC.as_bytes()),
            encode_tlv(tag::OCTET_STRING, basic),
        ]
        .concat(),
    );
    encode_tlv(
        tag::SEQUENCE,
        &[
            vec![0x0A, 0x01, 0x00],
            encode_tlv(tag::context_constructed(0), &rb),
        ]
        .concat(),
    )
}
