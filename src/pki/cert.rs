//! X.509 certificates (RFC 5280 §4.1) kept with the exact bytes their signature covers.

use crate::asn1::{self, tag, AlgorithmId, Asn1Error, CertExtensions, NameInfo, Oid, Tlv};
use crate::crypto::PublicKey;

/// Most extensions a certificate may carry before we stop reading (real ones have < 15).
const MAX_EXTENSIONS: usize = 64;

/// A parsed certificate. Raw fields are sub-slices of the original DER, copied once.
#[derive(Debug, Clone)]
pub struct Certificate {
    /// The whole certificate as received.
    pub der: Vec<u8>,
    /// SHA-256 of `der`: identity for caches and loop detection.
    pub fingerprint: [u8; 32],
    /// `tbsCertificate`, exactly as signed.
    pub tbs: Vec<u8>,
    /// `signatureAlgorithm` (the outer one).
    pub signature_algorithm: AlgorithmId,
    /// `tbsCertificate.signature` differs from `signatureAlgorithm` (RFC 5280 §4.1.1.2 says they
    /// MUST be equal). Kept as a fact rather than a parse error so that path validation can say
    /// so by name instead of "not a certificate" or "signature does not verify".
    pub signature_algorithm_mismatch: bool,
    /// `signatureValue` bytes.
    pub signature: Vec<u8>,
    /// X.509 version (0 = v1, 2 = v3).
    pub version: u32,
    /// `serialNumber` contents (two's complement, as encoded).
    pub serial: Vec<u8>,
    /// `issuer` Name DER.
    pub issuer_raw: Vec<u8>,
    /// `subject` Name DER.
    pub subject_raw: Vec<u8>,
    /// `subject` normalised for name matching (RFC 5280 §7.1), one entry per RDN.
    pub subject_norm: Vec<Vec<u8>>,
    /// `issuer` normalised the same way.
    pub issuer_norm: Vec<Vec<u8>>,
    /// Decoded subject.
    pub subject: NameInfo,
    /// Decoded issuer (RFC 4514 text).
    pub issuer: String,
    /// `notBefore`, unix seconds.
    pub not_before: i64,
    /// `notAfter`, unix seconds.
    pub not_after: i64,
    /// `notBefore` and `notAfter` as RFC 3339 text (formatted once, reported often).
    pub validity_text: (String, String),
    /// `subjectPublicKeyInfo` DER.
    pub spki: Vec<u8>,
    /// The public key, or why it could not be read.
    pub public_key: Result<PublicKey, Asn1Error>,
    /// Extensions used by path validation.
    pub ext: CertExtensions,
}

/// keyUsage bits (RFC 5280 §4.2.1.3, bit 0 first).
pub mod key_usage {
    /// digitalSignature
    pub const DIGITAL_SIGNATURE: u16 = 1 << 0;
    /// nonRepudiation (contentCommitment)
    pub const NON_REPUDIATION: u16 = 1 << 1;
    /// keyEncipherment
    pub const KEY_ENCIPHERMENT: u16 = 1 << 2;
    /// keyAgreement
    pub const KEY_AGREEMENT: u16 = 1 << 4;
    /// keyCertSign
    pub const KEY_CERT_SIGN: u16 = 1 << 5;
    /// cRLSign
    pub const CRL_SIGN: u16 = 1 << 6;
}

impl Certificate {
    /// Parses one DER certificate. Trailing bytes are an error.
    pub fn from_der(der: &[u8]) -> Result<Self, Asn1Error> {
        let mut outer = Tlv::parse_exact(der)?.expect(tag::SEQUENCE)?.reader();
        let tbs = outer.read_tag(tag::SEQUENCE)?;
        let sig_alg_tlv = outer.read_tag(tag::SEQUENCE)?;
        let signature = outer.read()?.bit_string_bytes()?;
        outer.finish()?;

        let mut r = tbs.reader();
        let version = match r.read_optional(tag::context_constructed(0))? {
            Some(v) => Tlv::parse_exact(v.value)?.small_uint()?,
            None => 0,
        };
        if version > 2 {
            return Err(Asn1Error::Invalid("unknown certificate version"));
        }
        let serial = r.read_tag(tag::INTEGER)?.value;
        if serial.is_empty() {
            return Err(Asn1Error::Invalid("empty serial number"));
        }
        let inner_alg = r.read_tag(tag::SEQUENCE)?;
        // RFC 5280 §4.1.1.2: signatureAlgorithm MUST equal tbsCertificate.signature; refused by
        // `path::verify_issued_by`, the one place a certificate signature is checked.
        let signature_algorithm_mismatch = inner_alg.raw != sig_alg_tlv.raw;
        let issuer = r.read_tag(tag::SEQUENCE)?;
        let mut validity = r.read_tag(tag::SEQUENCE)?.reader();
        let not_before = validity.read()?.time()?;
        let not_after = validity.read()?.time()?;
        validity.finish()?;
        let subject = r.read_tag(tag::SEQUENCE)?;
        let spki = r.read_tag(tag::SEQUENCE)?;
        r.read_optional(tag::context_primitive(1))?;
        r.read_optional(tag::context_primitive(2))?;
        let ext = match r.read_optional(tag::context_constructed(3))? {
            Some(e) => {
                if version != 2 {
                    return Err(Asn1Error::Invalid("extensions in a non-v3 certificate"));
                }
                asn1::parse_extensions(Tlv::parse_exact(e.value)?, MAX_EXTENSIONS)?
            }
            None => CertExtensions::default(),
        };
        r.finish()?;

        Ok(Self {
            der: der.to_vec(),
            fingerprint: sha256(der),
            tbs: tbs.raw.to_vec(),
            signature_algorithm: AlgorithmId::parse(sig_alg_tlv)?,
            signature_algorithm_mismatch,
            signature: signature.to_vec(),
            version,
            serial: serial.to_vec(),
            issuer_raw: issuer.raw.to_vec(),
            subject_raw: subject.raw.to_vec(),
            subject_norm: norm(subject.raw),
            issuer_norm: norm(issuer.raw),
            subject: asn1::decode_name(subject.raw)?,
            issuer: asn1::decode_name(issuer.raw)?.rfc4514,
            not_before,
            not_after,
            validity_text: (
                super::time::format_rfc3339(not_before),
                super::time::format_rfc3339(not_after),
            ),
            spki: spki.raw.to_vec(),
            public_key: PublicKey::from_spki(spki.raw),
            ext,
        })
    }

    /// Serial number as hex (the encoding's bytes, leading sign zero removed).
    pub fn serial_hex(&self) -> String {
        let s = match self.serial.as_slice() {
            [0, rest @ ..] if !rest.is_empty() => rest,
            s => s,
        };
        asn1::hex(s)
    }

    /// True when subject and issuer are the same name (RFC 5280 "self-issued").
    pub fn is_self_issued(&self) -> bool {
        self.subject_raw == self.issuer_raw || self.subject_norm == self.issuer_norm
    }

    /// What is wrong with the subject public key itself, when something is: an RSA exponent
    /// below 3 or even, an EC point that is not an uncompressed point on its curve or is the
    /// point at infinity (SEC 1 §3.2.2.1 public key validation). Such a key never verifies a
    /// signature; saying why beats "signature does not verify".
    pub fn public_key_defect(&self) -> Option<String> {
        match self.public_key.as_ref().ok()? {
            PublicKey::Rsa { der, .. } => rsa_defect(der),
            PublicKey::P256(point) => ec_defect(point, &P256),
            PublicKey::P384(point) => ec_defect(point, &P384),
            _ => None,
        }
    }

    /// Is `t` inside [notBefore, notAfter]?
    pub fn valid_at(&self, t: i64) -> bool {
        self.not_before <= t && t <= self.not_after
    }

    /// The first subject attribute of type `oid`, as text.
    pub fn subject_attr(&self, oid: &Oid) -> Option<&str> {
        self.subject
            .attrs
            .iter()
            .find(|(o, _)| o == oid)
            .map(|(_, v)| v.as_str())
    }

    /// All subject attributes of type `oid`.
    pub fn subject_attrs<'a>(&'a self, oid: &'a Oid) -> impl Iterator<Item = &'a str> + 'a {
        self.subject
            .attrs
            .iter()
            .filter(move |(o, _)| o == oid)
            .map(|(_, v)| v.as_str())
    }
}

/// Finds `issuerAndSerialNumber` parts of a certificate without decoding the rest: used to locate a
/// CMS signer in the certificate bag cheaply. Returns (issuer Name DER, serial contents, SKI if
/// cheaply found is not attempted).
pub fn issuer_and_serial(der: &[u8]) -> Result<(&[u8], &[u8]), Asn1Error> {
    let mut outer = Tlv::parse_exact(der)?.expect(tag::SEQUENCE)?.reader();
    let mut r = outer.read_tag(tag::SEQUENCE)?.reader();
    r.read_optional(tag::context_constructed(0))?;
    let serial = r.read_tag(tag::INTEGER)?.value;
    r.read_tag(tag::SEQUENCE)?;
    let issuer = r.read_tag(tag::SEQUENCE)?.raw;
    Ok((issuer, serial))
}

/// A name in its matching form; a name that cannot be normalised matches only itself.
pub fn norm(raw: &[u8]) -> Vec<Vec<u8>> {
    asn1::normalize_name(raw).unwrap_or_else(|_| vec![raw.to_vec()])
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn rsa_defect(der: &[u8]) -> Option<String> {
    let mut k = Tlv::parse_exact(der).ok()?.reader();
    k.read().ok()?;
    let e = k.read().ok()?.unsigned_integer().ok()?;
    let small = e.len() <= 1 && e.first().copied().unwrap_or(0) < 3;
    let even = e.last().is_none_or(|b| b % 2 == 0);
    if small || even {
        let shown = e.iter().fold(0u64, |a, b| {
            a.saturating_mul(256).saturating_add(u64::from(*b))
        });
        return Some(format!(
            "RSA public exponent {shown} is not an odd number of at least 3 (RFC 8017 §3.1)"
        ));
    }
    None
}

/// A short-Weierstrass curve y² = x³ - 3x + b over GF(p) (FIPS 186-4 D.1.2), as hex.
struct Curve {
    name: &'static str,
    p: &'static str,
    b: &'static str,
    bytes: usize,
}

const P256: Curve = Curve {
    name: "P-256",
    p: "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
    b: "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
    bytes: 32,
};

const P384: Curve = Curve {
    name: "P-384",
    p: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
    b: "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
    bytes: 48,
};

fn ec_defect(point: &[u8], c: &Curve) -> Option<String> {
    use num_bigint::BigUint;
    let fail = |what: &str| Some(format!("{} public key: {what}", c.name));
    match point {
        [0x00] => return fail("the point at infinity"),
        [0x02 | 0x03, ..] => return fail("a compressed point (not supported)"),
        [0x04, ..] if point.len() == 1 + 2 * c.bytes => {}
        _ => return fail("not an uncompressed point of the curve's size"),
    }
    let hex = |s: &str| BigUint::parse_bytes(s.as_bytes(), 16);
    let (p, b) = (hex(c.p)?, hex(c.b)?);
    let x = BigUint::from_bytes_be(point.get(1..=c.bytes)?);
    let y = BigUint::from_bytes_be(point.get(1 + c.bytes..)?);
    if x >= p || y >= p {
        return fail("a coordinate is not below the field prime");
    }
    // y² = x³ - 3x + b (mod p), with -3x written as + (p - 3)·x to stay unsigned.
    let lhs = (&y * &y) % &p;
    let rhs = ((&x * &x * &x) + (&p - BigUint::from(3u8)) * &x + &b) % &p;
    if lhs != rhs {
        return fail("the point is not on the curve");
    }
    None
}
