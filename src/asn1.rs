//! ASN.1 at the byte level, and the only module that imports the der 0.7 family
//! (`der`, `spki`, `x509-cert`, `const-oid`).
//!
//! Everything above this module works on our own types ([`Tlv`], [`Oid`], [`AlgorithmId`], unix
//! seconds), so moving to der 0.8 touches this folder only.
//!
//! Why a hand-written TLV cursor beside `der`: signatures are verified over the *original* bytes
//! (the `tbsCertificate`, the signed attributes), and der 0.7 re-sorts `SET OF` when it decodes, so
//! re-encoding a decoded value can change the bytes that were signed. The cursor hands out exact
//! sub-slices of the input instead, and cannot read past the end of its slice.

mod ber;
pub mod pem;
mod x509;

pub use ber::{ber_element_len, normalize_ber};
pub use x509::{
    decode_name, ext_oid, named_bits, normalize_name, parse_distribution_points, parse_dp_name,
    parse_extensions, read_extension, CertExtensions, DistributionPoint, GeneralName,
    NameConstraints, NameInfo,
};

use thiserror::Error;

/// An object identifier (re-exported so the rest of the crate never names `const_oid`).
pub type Oid = const_oid::ObjectIdentifier;

/// Universal tag numbers we read directly.
pub mod tag {
    /// BOOLEAN
    pub const BOOLEAN: u8 = 0x01;
    /// INTEGER
    pub const INTEGER: u8 = 0x02;
    /// BIT STRING
    pub const BIT_STRING: u8 = 0x03;
    /// OCTET STRING
    pub const OCTET_STRING: u8 = 0x04;
    /// NULL
    pub const NULL: u8 = 0x05;
    /// OBJECT IDENTIFIER
    pub const OID: u8 = 0x06;
    /// UTCTime
    pub const UTC_TIME: u8 = 0x17;
    /// GeneralizedTime
    pub const GENERALIZED_TIME: u8 = 0x18;
    /// SEQUENCE (constructed)
    pub const SEQUENCE: u8 = 0x30;
    /// SET (constructed)
    pub const SET: u8 = 0x31;

    /// `[n]` context-specific, constructed.
    pub const fn context_constructed(n: u8) -> u8 {
        0xA0 | n
    }
    /// `[n]` context-specific, primitive.
    pub const fn context_primitive(n: u8) -> u8 {
        0x80 | n
    }
}

/// What went wrong while reading ASN.1. Display text is for humans; callers map variants.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Asn1Error {
    /// The input ended inside a header or a value.
    #[error("truncated ASN.1 data")]
    Truncated,
    /// An element had another tag than the grammar requires here.
    #[error("unexpected ASN.1 tag 0x{found:02x} (expected 0x{expected:02x})")]
    UnexpectedTag {
        /// The tag the grammar requires.
        expected: u8,
        /// The tag found.
        found: u8,
    },
    /// Length or tag forms that DER forbids (indefinite length, high tag numbers, lengths over 4 GiB).
    #[error("invalid ASN.1 encoding: {0}")]
    Invalid(&'static str),
    /// Bytes left over after the last element of a structure.
    #[error("trailing data after ASN.1 value")]
    TrailingData,
    /// Nesting deeper than the configured limit.
    #[error("ASN.1 nesting deeper than {0}")]
    TooDeep(usize),
    /// More elements than the configured limit.
    #[error("ASN.1 structure has more than {0} elements")]
    TooManyElements(usize),
    /// A value could not be decoded by the typed decoder.
    #[error("cannot decode {what}: {detail}")]
    Decode {
        /// Which production failed.
        what: &'static str,
        /// The decoder's message.
        detail: String,
    },
}

/// One tag-length-value element: exact sub-slices of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet (class, constructed bit and tag number < 31).
    pub tag: u8,
    /// The contents octets.
    pub value: &'a [u8],
    /// The whole element, header included.
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Parses exactly one element that must fill `input`.
    pub fn parse_exact(input: &'a [u8]) -> Result<Self, Asn1Error> {
        let mut r = Reader::new(input);
        let tlv = r.read()?;
        r.finish()?;
        Ok(tlv)
    }

    /// Reader over this element's contents.
    pub fn reader(&self) -> Reader<'a> {
        Reader::new(self.value)
    }

    /// Checks the tag and returns self.
    pub fn expect(self, tag: u8) -> Result<Self, Asn1Error> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(Asn1Error::UnexpectedTag {
                expected: tag,
                found: self.tag,
            })
        }
    }

    /// Decodes this element as an OBJECT IDENTIFIER.
    pub fn oid(&self) -> Result<Oid, Asn1Error> {
        self.expect(tag::OID)?;
        Oid::from_bytes(self.value).map_err(|e| Asn1Error::Decode {
            what: "OBJECT IDENTIFIER",
            detail: e.to_string(),
        })
    }

    /// The contents of an INTEGER with a redundant leading zero (sign octet) removed.
    pub fn unsigned_integer(&self) -> Result<&'a [u8], Asn1Error> {
        self.expect(tag::INTEGER)?;
        match self.value {
            [] => Err(Asn1Error::Invalid("empty INTEGER")),
            [0, rest @ ..] if !rest.is_empty() => Ok(rest),
            v => Ok(v),
        }
    }

    /// A small non-negative INTEGER (versions, pathLen).
    pub fn small_uint(&self) -> Result<u32, Asn1Error> {
        let v = self.unsigned_integer()?;
        if self.value.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(Asn1Error::Invalid("negative INTEGER"));
        }
        if v.len() > 4 {
            return Err(Asn1Error::Invalid("INTEGER too large"));
        }
        Ok(v.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
    }

    /// The bytes of a BIT STRING with no unused bits (signatures, keys).
    pub fn bit_string_bytes(&self) -> Result<&'a [u8], Asn1Error> {
        self.expect(tag::BIT_STRING)?;
        match self.value {
            [0, rest @ ..] => Ok(rest),
            _ => Err(Asn1Error::Invalid("BIT STRING with unused bits")),
        }
    }

    /// Decodes a UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049, RFC 5280 §4.1.2.5.1) or a
    /// GeneralizedTime (`YYYYMMDDHHMMSS[.f]Z`) as unix seconds (negative before 1970).
    pub fn time(&self) -> Result<i64, Asn1Error> {
        let bad = Asn1Error::Invalid("malformed Time");
        let v = self.value;
        let digits = |s: &[u8]| -> Result<i64, Asn1Error> {
            if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
                return Err(Asn1Error::Invalid("malformed Time"));
            }
            Ok(s.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0')))
        };
        let (year, rest) = match self.tag {
            tag::UTC_TIME => {
                if v.len() != 13 {
                    return Err(bad);
                }
                let yy = digits(&v[..2])?;
                (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &v[2..])
            }
            tag::GENERALIZED_TIME => {
                if v.len() < 15 {
                    return Err(bad);
                }
                (digits(&v[..4])?, &v[4..])
            }
            found => {
                return Err(Asn1Error::UnexpectedTag {
                    expected: tag::GENERALIZED_TIME,
                    found,
                })
            }
        };
        // MMDDHHMMSS, then an optional fraction (OCSP responders send one), then Z.
        let (fields, tail) = rest.split_at(10);
        let tail = match tail {
            [b'.', f @ .., b'Z'] if !f.is_empty() && f.iter().all(u8::is_ascii_digit) => {
                "Z".as_bytes()
            }
            t => t,
        };
        if tail != b"Z" {
            return Err(bad);
        }
        let f = |i: usize| digits(&fields[i..i + 2]);
        let (mo, d, h, mi, sec) = (f(0)?, f(2)?, f(4)?, f(6)?, f(8)?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let dim = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        if !(1..=12).contains(&mo)
            || d < 1
            || d > dim[(mo - 1) as usize]
            || h > 23
            || mi > 59
            || sec > 59
        {
            return Err(bad);
        }
        // Days from civil (H. Hinnant's algorithm).
        let y = if mo <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (mo + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Ok(days * 86_400 + h * 3600 + mi * 60 + sec)
    }
}

/// A cursor over DER elements that cannot read past its slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The tag of the next element, if any.
    pub fn peek_tag(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Reads the next element (DER: definite lengths only).
    pub fn read(&mut self) -> Result<Tlv<'a>, Asn1Error> {
        let rest = self.data.get(self.pos..).ok_or(Asn1Error::Truncated)?;
        let (tag, header_len, len) = read_header(rest)?;
        let len = len.ok_or(Asn1Error::Invalid("indefinite length in DER"))?;
        let end = header_len.checked_add(len).ok_or(Asn1Error::Truncated)?;
        let raw = rest.get(..end).ok_or(Asn1Error::Truncated)?;
        let value = raw.get(header_len..).ok_or(Asn1Error::Truncated)?;
        self.pos += end;
        Ok(Tlv { tag, value, raw })
    }

    /// Reads the next element and checks its tag.
    pub fn read_tag(&mut self, tag: u8) -> Result<Tlv<'a>, Asn1Error> {
        self.read()?.expect(tag)
    }

    /// Reads the next element if it carries `tag`.
    pub fn read_optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, Asn1Error> {
        if self.peek_tag() == Some(tag) {
            self.read().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails if bytes are left.
    pub fn finish(&self) -> Result<(), Asn1Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Asn1Error::TrailingData)
        }
    }
}

/// Reads an identifier and a length. Returns (tag, header length, Some(len) | None for indefinite).
pub(crate) fn read_header(input: &[u8]) -> Result<(u8, usize, Option<usize>), Asn1Error> {
    let tag = *input.first().ok_or(Asn1Error::Truncated)?;
    if tag & 0x1F == 0x1F {
        // No X.509, CMS, OCSP or TSP production uses tag numbers >= 31.
        return Err(Asn1Error::Invalid("high tag number form"));
    }
    let first = *input.get(1).ok_or(Asn1Error::Truncated)?;
    if first < 0x80 {
        return Ok((tag, 2, Some(usize::from(first))));
    }
    if first == 0x80 {
        return Ok((tag, 2, None));
    }
    let n = usize::from(first & 0x7F);
    if n > 4 {
        return Err(Asn1Error::Invalid("length over 4 GiB"));
    }
    let bytes = input.get(2..2 + n).ok_or(Asn1Error::Truncated)?;
    let len = bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Ok((tag, 2 + n, Some(len)))
}

/// An AlgorithmIdentifier: the OID and the raw parameters element (absent or NULL are both `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmId {
    /// `algorithm`
    pub oid: Oid,
    /// `parameters`, the whole element, unless absent or NULL.
    pub params: Option<Vec<u8>>,
}

impl AlgorithmId {
    /// Parses `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`.
    pub fn parse(tlv: Tlv<'_>) -> Result<Self, Asn1Error> {
        let mut r = tlv.expect(tag::SEQUENCE)?.reader();
        let oid = r.read()?.oid()?;
        let params = if r.is_empty() {
            None
        } else {
            let p = r.read()?;
            (p.tag != tag::NULL).then(|| p.raw.to_vec())
        };
        r.finish()?;
        Ok(Self { oid, params })
    }

    /// The parameters as a TLV, when present.
    pub fn params_tlv(&self) -> Option<Result<Tlv<'_>, Asn1Error>> {
        self.params.as_deref().map(Tlv::parse_exact)
    }
}

/// Wraps contents in a header (used when a structure must be rebuilt, e.g. `[0]` → `SET`).
pub fn encode_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    push_length(&mut out, value.len());
    out.extend_from_slice(value);
    out
}

pub(crate) fn push_length(out: &mut Vec<u8>, len: usize) {
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            let sig = bytes.get(skip..).unwrap_or_default();
            // At most size_of::<usize>() = 8 length octets.
            out.push(0x80 | u8::try_from(sig.len()).unwrap_or(8));
            out.extend_from_slice(sig);
        }
    }
}

/// Formats bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_refuses_overread_and_trailing() {
        assert_eq!(
            Reader::new(&[0x30, 0x05, 0x01]).read(),
            Err(Asn1Error::Truncated)
        );
        assert_eq!(
            Tlv::parse_exact(&[0x05, 0x00, 0x00]),
            Err(Asn1Error::TrailingData)
        );
        assert_eq!(
            Reader::new(&[0x30, 0x85, 1, 1, 1, 1, 1]).read(),
            Err(Asn1Error::Invalid("length over 4 GiB"))
        );
        let t = Tlv::parse_exact(&[0x02, 0x02, 0x00, 0x80]).unwrap();
        assert_eq!(t.unsigned_integer().unwrap(), &[0x80]);
    }

    #[test]
    fn long_form_lengths_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 65535, 65536] {
            let v = vec![7u8; len];
            let enc = encode_tlv(tag::OCTET_STRING, &v);
            let t = Tlv::parse_exact(&enc).unwrap();
            assert_eq!(t.value.len(), len);
        }
    }
}
