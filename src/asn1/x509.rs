//! Typed decoding of X.509 names and extensions, delegated to `x509-cert` 0.2.
//!
//! Only values are decoded here; the bytes that signatures cover are taken by the TLV cursor in
//! `pki::cert`, never re-encoded.

use super::{tag, Asn1Error, Oid, Tlv};
use der::{asn1, Decode, Tag, Tagged};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies,
    ExtendedKeyUsage, InhibitAnyPolicy, KeyUsage, PolicyConstraints, PolicyMappings,
    SubjectKeyIdentifier,
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
    /// String types in the name that this decoder does not read (GeneralString, GraphicString,
    /// ...), by name; their values appear as `#hex` in `rfc4514`. Path validation refuses
    /// certificates that have any (see `pki::path`), naming the type.
    pub unsupported_strings: Vec<&'static str>,
}

/// Decodes a `Name` from its raw DER. UniversalString values (a DirectoryString choice the `der`
/// crate lacks) are read as UCS-4; values of other types it lacks are kept as opaque bytes and
/// listed in [`NameInfo::unsupported_strings`] instead of failing the whole certificate.
pub fn decode_name(raw: &[u8]) -> Result<NameInfo, Asn1Error> {
    let mut unsupported_strings = Vec::new();
    let name = match x509_cert::name::Name::from_der(raw) {
        Ok(n) => n,
        Err(first) => {
            let rewritten = rewrite_unsupported_strings(raw, &mut unsupported_strings)
                .map_err(|_| decode_err("Name")(first))?;
            x509_cert::name::Name::from_der(&rewritten).map_err(|_| decode_err("Name")(first))?
        }
    };
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
        unsupported_strings,
    })
}

/// The Name re-encoded with each attribute value of a universal type `der` cannot represent
/// replaced: UniversalString by the same text as UTF8String, anything else by an OCTET STRING
/// of the same contents (shown as `#04…`). Used only to produce text; matching and signatures
/// use the original bytes.
fn rewrite_unsupported_strings(
    raw: &[u8],
    notes: &mut Vec<&'static str>,
) -> Result<Vec<u8>, Asn1Error> {
    fn wrap(tag: u8, content: &[u8]) -> Result<Vec<u8>, Asn1Error> {
        let len = content.len();
        let mut out = vec![tag];
        if len < 0x80 {
            out.push(u8::try_from(len).map_err(|_| Asn1Error::Invalid("length"))?);
        } else {
            let bytes = u32::try_from(len)
                .map_err(|_| Asn1Error::Invalid("length"))?
                .to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            let used = bytes.get(skip..).unwrap_or_default();
            out.push(0x80 | u8::try_from(used.len()).map_err(|_| Asn1Error::Invalid("length"))?);
            out.extend_from_slice(used);
        }
        out.extend_from_slice(content);
        Ok(out)
    }
    let mut rdns = Tlv::parse_exact(raw)?.expect(tag::SEQUENCE)?.reader();
    let mut name = Vec::new();
    while !rdns.is_empty() {
        let mut set = rdns.read_tag(tag::SET)?.reader();
        let mut rdn = Vec::new();
        while !set.is_empty() {
            let mut ava = set.read_tag(tag::SEQUENCE)?.reader();
            let oid = ava.read_tag(tag::OID)?;
            let value = ava.read()?;
            ava.finish()?;
            let new_value = match value.tag {
                0x1C => {
                    let text: Option<String> = (value.value.len() % 4 == 0)
                        .then(|| {
                            value
                                .value
                                .chunks_exact(4)
                                .map(|c| {
                                    let mut b = [0u8; 4];
                                    b.copy_from_slice(c);
                                    char::from_u32(u32::from_be_bytes(b))
                                })
                                .collect()
                        })
                        .flatten();
                    match text {
                        Some(t) => wrap(0x0C, t.as_bytes())?,
                        None => {
                            notes.push("UniversalString (not UCS-4)");
                            wrap(0x04, value.value)?
                        }
                    }
                }
                0x07 | 0x08 | 0x0B | 0x0D | 0x0E | 0x19 | 0x1B | 0x1D | 0x1F => {
                    notes.push(match value.tag {
                        0x19 => "GraphicString",
                        0x1B => "GeneralString",
                        0x1D => "CHARACTER STRING",
                        _ => "an unsupported universal type",
                    });
                    wrap(0x04, value.value)?
                }
                _ => value.raw.to_vec(),
            };
            let mut seq = oid.raw.to_vec();
            seq.extend_from_slice(&new_value);
            rdn.extend_from_slice(&wrap(tag::SEQUENCE, &seq)?);
        }
        name.extend_from_slice(&wrap(tag::SET, &rdn)?);
    }
    wrap(tag::SEQUENCE, &name)
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
    /// id-ce-policyMappings
    pub const POLICY_MAPPINGS: Oid = Oid::new_unwrap("2.5.29.33");
    /// id-ce-policyConstraints
    pub const POLICY_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.36");
    /// id-ce-inhibitAnyPolicy
    pub const INHIBIT_ANY_POLICY: Oid = Oid::new_unwrap("2.5.29.54");
    /// anyPolicy (RFC 5280 §4.2.1.4), a policy identifier, not an extension.
    pub const ANY_POLICY: Oid = Oid::new_unwrap("2.5.29.32.0");
    /// id-pkix-ocsp-nocheck
    pub const OCSP_NO_CHECK: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.5");
    /// id-ad-ocsp (access method in authorityInfoAccess)
    pub const AD_OCSP: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");
    /// cRLNumber (CRL extension)
    pub const CRL_NUMBER: Oid = Oid::new_unwrap("2.5.29.20");
    /// deltaCRLIndicator (CRL extension)
    pub const DELTA_CRL_INDICATOR: Oid = Oid::new_unwrap("2.5.29.27");
    /// issuingDistributionPoint (CRL extension)
    pub const ISSUING_DISTRIBUTION_POINT: Oid = Oid::new_unwrap("2.5.29.28");
    /// reasonCode (CRL entry extension)
    pub const REASON_CODE: Oid = Oid::new_unwrap("2.5.29.21");
    /// invalidityDate (CRL entry extension)
    pub const INVALIDITY_DATE: Oid = Oid::new_unwrap("2.5.29.24");
    /// certificateIssuer (CRL entry extension, indirect CRLs)
    pub const CERTIFICATE_ISSUER: Oid = Oid::new_unwrap("2.5.29.29");
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
    /// certificatePolicies policy identifiers; `None` when the extension is absent (RFC 5280
    /// §6.1.3 (e) treats "absent" and "present" differently, so an empty list is not the same).
    pub policies: Option<Vec<Oid>>,
    /// policyMappings (issuerDomainPolicy, subjectDomainPolicy) pairs (RFC 5280 §4.2.1.5).
    pub policy_mappings: Option<Vec<(Oid, Oid)>>,
    /// policyConstraints (requireExplicitPolicy, inhibitPolicyMapping) (RFC 5280 §4.2.1.11).
    pub policy_constraints: Option<(Option<u32>, Option<u32>)>,
    /// inhibitAnyPolicy SkipCerts (RFC 5280 §4.2.1.14).
    pub inhibit_any_policy: Option<u32>,
    /// nameConstraints (RFC 5280 §4.2.1.10).
    pub name_constraints: Option<NameConstraints>,
    /// subjectAltName entries.
    pub subject_alt_names: Vec<GeneralName>,
    /// cRLDistributionPoints (RFC 5280 §4.2.1.13).
    pub crl_distribution_points: Vec<DistributionPoint>,
    /// freshestCRL: where delta CRLs are (RFC 5280 §4.2.1.15).
    pub freshest_crl: Vec<DistributionPoint>,
    /// OCSP responder URLs from authorityInfoAccess (RFC 5280 §4.2.2.1).
    pub ocsp_urls: Vec<String>,
    /// id-pkix-ocsp-nocheck: an OCSP responder certificate not to be checked (RFC 6960 §4.2.2.2.1).
    pub ocsp_no_check: bool,
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

/// Reads one `Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }`
/// (certificates, CRLs, CRL entries and OCSP responses share it).
pub fn read_extension<'a>(r: &mut super::Reader<'a>) -> Result<(Oid, bool, &'a [u8]), Asn1Error> {
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
    Ok((oid, critical, value))
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
        let (oid, critical, value) = read_extension(&mut r)?;
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
                // Decoded by x509-cert first to refuse malformed values (RFC 5280 §4.2.2.1).
                AuthorityInfoAccessSyntax::from_der(value)
                    .map_err(decode_err("authorityInfoAccess"))?;
                out.ocsp_urls = ocsp_urls(value)?;
            }
            ext_oid::NAME_CONSTRAINTS => {
                out.name_constraints = Some(parse_name_constraints(value)?);
            }
            ext_oid::SUBJECT_ALT_NAME => out.subject_alt_names = general_names_of(value)?,
            ext_oid::CRL_DISTRIBUTION_POINTS => {
                out.crl_distribution_points = parse_distribution_points(value)?;
            }
            ext_oid::FRESHEST_CRL => out.freshest_crl = parse_distribution_points(value)?,
            ext_oid::OCSP_NO_CHECK => out.ocsp_no_check = true,
            ext_oid::CERTIFICATE_POLICIES => {
                // Processed by `pki::policy` (RFC 5280 §6.1.3 (d)-(f)); qualifiers are not used.
                let p = CertificatePolicies::from_der(value)
                    .map_err(decode_err("certificatePolicies"))?;
                let ids: Vec<Oid> = p.0.iter().map(|pi| pi.policy_identifier).collect();
                // §4.2.1.4: "A certificate policy OID MUST NOT appear more than once".
                // Sorted copy: linear-logarithmic, whatever the count a hostile certificate holds.
                let mut sorted = ids.clone();
                sorted.sort_unstable();
                if sorted.windows(2).any(|w| w.first() == w.get(1)) {
                    return Err(Asn1Error::Invalid(
                        "duplicate certificate policy identifier",
                    ));
                }
                out.policies = Some(ids);
            }
            ext_oid::POLICY_MAPPINGS => {
                let m = PolicyMappings::from_der(value).map_err(decode_err("policyMappings"))?;
                out.policy_mappings = Some(
                    m.0.iter()
                        .map(|pm| (pm.issuer_domain_policy, pm.subject_domain_policy))
                        .collect(),
                );
            }
            ext_oid::POLICY_CONSTRAINTS => {
                let pc =
                    PolicyConstraints::from_der(value).map_err(decode_err("policyConstraints"))?;
                // §4.2.1.11: "Conforming CAs MUST NOT issue certificates where policy
                // constraints is an empty sequence."
                if pc.require_explicit_policy.is_none() && pc.inhibit_policy_mapping.is_none() {
                    return Err(Asn1Error::Invalid("empty policyConstraints"));
                }
                out.policy_constraints =
                    Some((pc.require_explicit_policy, pc.inhibit_policy_mapping));
            }
            ext_oid::INHIBIT_ANY_POLICY => {
                let ia =
                    InhibitAnyPolicy::from_der(value).map_err(decode_err("inhibitAnyPolicy"))?;
                out.inhibit_any_policy = Some(ia.0);
            }
            ext_oid::ISSUER_ALT_NAME | ext_oid::PRIVATE_KEY_USAGE_PERIOD => {}
            other if critical => out.unknown_critical.push(other),
            _ => {}
        }
    }
    Ok(out)
}

/// One `GeneralName` (RFC 5280 §4.2.1.6), the forms path validation and revocation use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeneralName {
    /// rfc822Name
    Email(String),
    /// dNSName
    Dns(String),
    /// directoryName: the Name DER.
    Directory(Vec<u8>),
    /// uniformResourceIdentifier
    Uri(String),
    /// iPAddress: 4 or 16 octets (with a mask of the same length in name constraints).
    Ip(Vec<u8>),
    /// Any other form, by its context tag number.
    Other(u8),
}

impl GeneralName {
    /// Decodes one element of `GeneralNames`.
    pub fn parse(t: Tlv<'_>) -> Result<Self, Asn1Error> {
        let text = |v: &[u8]| -> Result<String, Asn1Error> {
            std::str::from_utf8(v)
                .ok()
                .filter(|s| s.is_ascii())
                .map(str::to_owned)
                .ok_or(Asn1Error::Invalid("GeneralName string is not IA5"))
        };
        Ok(match t.tag {
            0x81 => Self::Email(text(t.value)?),
            0x82 => Self::Dns(text(t.value)?),
            0xA4 => {
                let name = t.reader().read_tag(tag::SEQUENCE)?;
                Self::Directory(name.raw.to_vec())
            }
            0x86 => Self::Uri(text(t.value)?),
            0x87 => Self::Ip(t.value.to_vec()),
            other => Self::Other(other & 0x1F),
        })
    }
}

/// Most names one `GeneralNames` may hold before we stop reading.
const MAX_GENERAL_NAMES: usize = 256;

fn general_names(r: &mut super::Reader<'_>) -> Result<Vec<GeneralName>, Asn1Error> {
    let mut out = Vec::new();
    while !r.is_empty() {
        if out.len() >= MAX_GENERAL_NAMES {
            return Err(Asn1Error::TooManyElements(MAX_GENERAL_NAMES));
        }
        out.push(GeneralName::parse(r.read()?)?);
    }
    Ok(out)
}

/// `GeneralNames ::= SEQUENCE OF GeneralName` from an extension value.
fn general_names_of(value: &[u8]) -> Result<Vec<GeneralName>, Asn1Error> {
    general_names(&mut Tlv::parse_exact(value)?.expect(tag::SEQUENCE)?.reader())
}

/// A distribution point (RFC 5280 §4.2.1.13), or the point named by a CRL's
/// issuingDistributionPoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DistributionPoint {
    /// `fullName` entries.
    pub full_name: Vec<GeneralName>,
    /// `nameRelativeToCRLIssuer`: the RDN SET DER.
    pub relative_name: Option<Vec<u8>>,
    /// `reasons` bits (bit 0 = unused, 1 = keyCompromise, …); `None` = all reasons.
    pub reasons: Option<u16>,
    /// `cRLIssuer` (indirect CRLs).
    pub crl_issuer: Vec<GeneralName>,
}

impl DistributionPoint {
    /// The URLs among the full names. The NCA's 2018 CA certificates put two in one
    /// IA5String, "http://crl.root.gov.kz/gost.crl\n URL=http://crl1.root.gov.kz/gost.crl"
    /// (a Windows-style list): each white-space separated item is a URL, `URL=` dropped, as the
    /// certificate states them.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        self.full_name
            .iter()
            .filter_map(|n| match n {
                GeneralName::Uri(u) => Some(u.as_str()),
                _ => None,
            })
            .flat_map(|u| {
                u.split_ascii_whitespace()
                    .map(|item| item.strip_prefix("URL=").unwrap_or(item))
            })
    }
}

/// A `DistributionPointName` (the contents of the `[0]` wrapper).
pub fn parse_dp_name(t: Tlv<'_>, dp: &mut DistributionPoint) -> Result<(), Asn1Error> {
    let inner = Tlv::parse_exact(t.value)?;
    match inner.tag {
        0xA0 => dp.full_name = general_names(&mut inner.reader())?,
        0xA1 => dp.relative_name = Some(inner.raw.to_vec()),
        _ => return Err(Asn1Error::Invalid("DistributionPointName")),
    }
    Ok(())
}

/// Named bits of a BIT STRING as a u16 (bit 0 first).
pub fn named_bits(t: Tlv<'_>) -> Result<u16, Asn1Error> {
    let (unused, bytes) = t
        .value
        .split_first()
        .ok_or(Asn1Error::Invalid("empty BIT STRING"))?;
    if *unused > 7 || bytes.len() > 2 {
        return Err(Asn1Error::Invalid("named BIT STRING"));
    }
    let mut v = 0u16;
    for (i, b) in bytes.iter().enumerate() {
        for bit in 0..8 {
            if b & (0x80 >> bit) != 0 {
                v |= 1 << (i * 8 + bit);
            }
        }
    }
    Ok(v)
}

/// `CRLDistributionPoints` / `FreshestCRL` (same syntax) from an extension value.
pub fn parse_distribution_points(value: &[u8]) -> Result<Vec<DistributionPoint>, Asn1Error> {
    let mut r = Tlv::parse_exact(value)?.expect(tag::SEQUENCE)?.reader();
    let mut out = Vec::new();
    while !r.is_empty() {
        if out.len() >= MAX_GENERAL_NAMES {
            return Err(Asn1Error::TooManyElements(MAX_GENERAL_NAMES));
        }
        let mut d = r.read_tag(tag::SEQUENCE)?.reader();
        let mut dp = DistributionPoint::default();
        if let Some(n) = d.read_optional(0xA0)? {
            parse_dp_name(n, &mut dp)?;
        }
        if let Some(b) = d.read_optional(0x81)? {
            dp.reasons = Some(named_bits(b)?);
        }
        if let Some(i) = d.read_optional(0xA2)? {
            dp.crl_issuer = general_names(&mut i.reader())?;
        }
        d.finish()?;
        out.push(dp);
    }
    Ok(out)
}

/// The OCSP responder URIs of an authorityInfoAccess value.
fn ocsp_urls(value: &[u8]) -> Result<Vec<String>, Asn1Error> {
    let mut r = Tlv::parse_exact(value)?.expect(tag::SEQUENCE)?.reader();
    let mut out = Vec::new();
    while !r.is_empty() {
        let mut ad = r.read_tag(tag::SEQUENCE)?.reader();
        let method = ad.read()?.oid()?;
        let location = GeneralName::parse(ad.read()?)?;
        if let (ext_oid::AD_OCSP, GeneralName::Uri(u)) = (method, location) {
            out.push(u);
        }
    }
    Ok(out)
}

/// nameConstraints: permitted and excluded subtrees (minimum/maximum are not used, RFC 5280
/// §4.2.1.10).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameConstraints {
    /// permittedSubtrees bases.
    pub permitted: Vec<GeneralName>,
    /// excludedSubtrees bases.
    pub excluded: Vec<GeneralName>,
}

fn parse_name_constraints(value: &[u8]) -> Result<NameConstraints, Asn1Error> {
    let mut r = Tlv::parse_exact(value)?.expect(tag::SEQUENCE)?.reader();
    let mut nc = NameConstraints::default();
    let subtrees = |t: Tlv<'_>| -> Result<Vec<GeneralName>, Asn1Error> {
        let mut r = t.reader();
        let mut out = Vec::new();
        while !r.is_empty() {
            if out.len() >= MAX_GENERAL_NAMES {
                return Err(Asn1Error::TooManyElements(MAX_GENERAL_NAMES));
            }
            let mut st = r.read_tag(tag::SEQUENCE)?.reader();
            out.push(GeneralName::parse(st.read()?)?);
        }
        Ok(out)
    };
    if let Some(p) = r.read_optional(0xA0)? {
        nc.permitted = subtrees(p)?;
    }
    if let Some(e) = r.read_optional(0xA1)? {
        nc.excluded = subtrees(e)?;
    }
    r.finish()?;
    Ok(nc)
}

/// A Name in a form where names that RFC 5280 §7.1 says match are byte-equal: string values
/// case-folded with whitespace trimmed and compressed (RFC 4518, simplified), the attributes of a
/// multi-valued RDN sorted, RDN order kept. Values that are not strings are kept as encoded.
pub fn normalize_name(raw: &[u8]) -> Result<Vec<Vec<u8>>, Asn1Error> {
    let mut rdns = Tlv::parse_exact(raw)?.expect(tag::SEQUENCE)?.reader();
    let mut out = Vec::new();
    while !rdns.is_empty() {
        let mut set = rdns.read_tag(tag::SET)?.reader();
        let mut avas: Vec<Vec<u8>> = Vec::new();
        while !set.is_empty() {
            let mut ava = set.read_tag(tag::SEQUENCE)?.reader();
            let oid = ava.read_tag(tag::OID)?;
            let value = ava.read()?;
            let mut v = oid.raw.to_vec();
            match string_value(value) {
                Some(s) => {
                    v.push(0x0C);
                    let folded: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
                    v.extend_from_slice(folded.to_lowercase().as_bytes());
                }
                None => v.extend_from_slice(value.raw),
            }
            avas.push(v);
        }
        avas.sort();
        let mut rdn = Vec::new();
        for a in avas {
            rdn.extend_from_slice(&(a.len() as u32).to_be_bytes());
            rdn.extend_from_slice(&a);
        }
        out.push(rdn);
    }
    Ok(out)
}

/// The text of a directory string value, when it is one.
fn string_value(t: Tlv<'_>) -> Option<String> {
    match t.tag {
        // UTF8String, PrintableString, TeletexString (as Latin-1), IA5String
        0x0C | 0x13 | 0x16 => std::str::from_utf8(t.value).ok().map(str::to_owned),
        0x14 => Some(t.value.iter().map(|b| char::from(*b)).collect()),
        // BMPString: UTF-16BE
        0x1E => {
            if t.value.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = t
                .value
                .chunks_exact(2)
                .filter_map(|c| c.try_into().ok().map(u16::from_be_bytes))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Name ::= SEQUENCE { SET { SEQUENCE { commonName, <tag> <value> } } }`
    fn cn(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut atv = vec![0x06, 0x03, 0x55, 0x04, 0x03, tag, value.len() as u8];
        atv.extend_from_slice(value);
        let mut seq = vec![0x30, atv.len() as u8];
        seq.extend(atv);
        let mut set = vec![0x31, seq.len() as u8];
        set.extend(seq);
        let mut name = vec![0x30, set.len() as u8];
        name.extend(set);
        name
    }

    #[test]
    fn string_types_der_lacks() {
        // UniversalString (UCS-4) is a DirectoryString choice: read as text.
        let n = decode_name(&cn(0x1C, &[0, 0, 0, b'A', 0, 1, 0xF6, 0x00])).expect("decodes");
        assert_eq!(n.rfc4514, "CN=A\u{1F600}");
        assert!(n.unsupported_strings.is_empty());
        // GeneralString: kept as bytes and named.
        let n = decode_name(&cn(0x1B, b"x")).expect("decodes");
        assert_eq!(n.unsupported_strings, ["GeneralString"]);
        // Malformed structure still fails.
        assert!(decode_name(&[0x30, 0x03, 0x31, 0x01]).is_err());
    }
}
