//! Typed decoding of X.509 names and extensions, delegated to `x509-cert` 0.2.
//!
//! Only values are decoded here; the bytes that signatures cover are taken by the TLV cursor in
//! `pki::cert`, never re-encoded.

use super::{tag, Asn1Error, Oid, Tlv};
use der::{asn1, Decode, Tag, Tagged};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies,
    ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};

fn decode_err(what: &'static str) -> impl FnOnce(der::Error) -> Asn1Error {
    move |e| Asn1Error::Decode {
        what,
        detail: e.to_string(),
    }
}

/// A distinguished name as text: the RFC 4514 form and its attributes in encoding order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameInfo {
    /// RFC 4514 string (most specific RDN first).
    pub rfc4514: String,
    /// (attribute type, string value) for attributes with a string value, in encoding order.
    pub attrs: Vec<(Oid, String)>,
}

/// Decodes a `Name` from its raw DER.
pub fn decode_name(raw: &[u8]) -> Result<NameInfo, Asn1Error> {
    let name = x509_cert::name::Name::from_der(raw).map_err(decode_err("Name"))?;
    let mut attrs = Vec::new();
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            if let Some(s) = any_string(&atv.value) {
                attrs.push((atv.oid, s));
            }
        }
    }
    Ok(NameInfo {
        rfc4514: name.to_string(),
        attrs,
    })
}

fn any_string(value: &der::Any) -> Option<String> {
    let s = match value.tag() {
        Tag::Utf8String => asn1::Utf8StringRef::try_from(value)
            .ok()?
            .as_str()
            .to_owned(),
        Tag::PrintableString => asn1::PrintableStringRef::try_from(value)
            .ok()?
            .as_str()
            .to_owned(),
        Tag::Ia5String => asn1::Ia5StringRef::try_from(value)
            .ok()?
            .as_str()
            .to_owned(),
        Tag::TeletexString => asn1::TeletexStringRef::try_from(value)
            .ok()?
            .as_str()
            .to_owned(),
        Tag::BmpString => value.decode_as::<asn1::BmpString>().ok()?.to_string(),
        _ => return None,
    };
    Some(s)
}

/// Extension OIDs (RFC 5280 §4.2).
pub mod ext_oid {
    use super::Oid;
    /// id-ce-basicConstraints
    pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
    /// id-ce-keyUsage
    pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
    /// id-ce-extKeyUsage
    pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
    /// id-ce-subjectKeyIdentifier
    pub const SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
    /// id-ce-authorityKeyIdentifier
    pub const AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");
    /// id-ce-certificatePolicies
    pub const CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
    /// id-ce-subjectAltName
    pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
    /// id-ce-issuerAltName
    pub const ISSUER_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.18");
    /// id-ce-cRLDistributionPoints
    pub const CRL_DISTRIBUTION_POINTS: Oid = Oid::new_unwrap("2.5.29.31");
    /// id-ce-freshestCRL
    pub const FRESHEST_CRL: Oid = Oid::new_unwrap("2.5.29.46");
    /// id-pe-authorityInfoAccess
    pub const AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");
    /// id-ce-privateKeyUsagePeriod (informational)
    pub const PRIVATE_KEY_USAGE_PERIOD: Oid = Oid::new_unwrap("2.5.29.16");
    /// id-ce-nameConstraints
    pub const NAME_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.30");
}

/// The extensions path validation needs, decoded; anything else is listed by OID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertExtensions {
    /// basicConstraints: (cA, pathLenConstraint).
    pub basic_constraints: Option<(bool, Option<u8>)>,
    /// keyUsage bits as in RFC 5280 (bit 0 = digitalSignature).
    pub key_usage: Option<u16>,
    /// extKeyUsage purposes.
    pub ext_key_usage: Option<Vec<Oid>>,
    /// subjectKeyIdentifier.
    pub subject_key_id: Option<Vec<u8>>,
    /// authorityKeyIdentifier keyIdentifier.
    pub authority_key_id: Option<Vec<u8>>,
    /// certificatePolicies policy identifiers.
    pub policies: Vec<Oid>,
    /// A nameConstraints extension is present (not processed: paths through it fail closed).
    pub name_constraints: bool,
    /// Every extension marked critical.
    pub critical: Vec<Oid>,
    /// Critical extensions this validator does not process (path validation must fail on them).
    pub unknown_critical: Vec<Oid>,
}

impl CertExtensions {
    /// Whether extension `oid` was marked critical.
    pub fn is_critical(&self, oid: &Oid) -> bool {
        self.critical.contains(oid)
    }
}

/// Parses `Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension` (the contents of `[3]`).
pub fn parse_extensions(seq: Tlv<'_>, max: usize) -> Result<CertExtensions, Asn1Error> {
    let mut out = CertExtensions::default();
    let mut seen: Vec<Oid> = Vec::new();
    let mut r = seq.expect(tag::SEQUENCE)?.reader();
    while !r.is_empty() {
        if seen.len() >= max {
            return Err(Asn1Error::TooManyElements(max));
        }
        let mut e = r.read_tag(tag::SEQUENCE)?.reader();
        let oid = e.read()?.oid()?;
        let critical = match e.read_optional(tag::BOOLEAN)? {
            Some(b) => match b.value {
                [0xFF] => true,
                [0x00] => false,
                _ => return Err(Asn1Error::Invalid("BOOLEAN not DER")),
            },
            None => false,
        };
        let value = e.read_tag(tag::OCTET_STRING)?.value;
        e.finish()?;
        // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
        if seen.contains(&oid) {
            return Err(Asn1Error::Invalid("duplicate extension"));
        }
        seen.push(oid);
        if critical {
            out.critical.push(oid);
        }
        match oid {
            ext_oid::BASIC_CONSTRAINTS => {
                let bc =
                    BasicConstraints::from_der(value).map_err(decode_err("basicConstraints"))?;
                out.basic_constraints = Some((bc.ca, bc.path_len_constraint));
            }
            ext_oid::KEY_USAGE => {
                let ku = KeyUsage::from_der(value).map_err(decode_err("keyUsage"))?;
                out.key_usage = Some(ku.0.bits());
            }
            ext_oid::EXT_KEY_USAGE => {
                let eku = ExtendedKeyUsage::from_der(value).map_err(decode_err("extKeyUsage"))?;
                out.ext_key_usage = Some(eku.0);
            }
            ext_oid::SUBJECT_KEY_ID => {
                let ski = SubjectKeyIdentifier::from_der(value)
                    .map_err(decode_err("subjectKeyIdentifier"))?;
                out.subject_key_id = Some(ski.0.as_bytes().to_vec());
            }
            ext_oid::AUTHORITY_KEY_ID => {
                let aki = AuthorityKeyIdentifier::from_der(value)
                    .map_err(decode_err("authorityKeyIdentifier"))?;
                out.authority_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
            }
            ext_oid::AUTHORITY_INFO_ACCESS => {
                // Decoded only to refuse malformed values (RFC 5280 §4.2.2.1).
                AuthorityInfoAccessSyntax::from_der(value)
                    .map_err(decode_err("authorityInfoAccess"))?;
            }
            ext_oid::NAME_CONSTRAINTS => out.name_constraints = true,
            ext_oid::CERTIFICATE_POLICIES => {
                // Policy identifiers are reported (KZ roles); policy *processing* (RFC 5280 §6.1.3
                // (d)-(f)) is not done, so a critical policies extension is accepted as "recognised"
                // the way browsers and webpki treat it.
                let p = CertificatePolicies::from_der(value)
                    .map_err(decode_err("certificatePolicies"))?;
                out.policies = p.0.iter().map(|pi| pi.policy_identifier).collect();
            }
            ext_oid::SUBJECT_ALT_NAME
            | ext_oid::ISSUER_ALT_NAME
            | ext_oid::CRL_DISTRIBUTION_POINTS
            | ext_oid::FRESHEST_CRL
            | ext_oid::PRIVATE_KEY_USAGE_PERIOD => {}
            other if critical => out.unknown_critical.push(other),
            _ => {}
        }
    }
    Ok(out)
}
