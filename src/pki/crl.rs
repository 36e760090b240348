//! Certificate revocation lists (RFC 5280 §5): parsed once into a compact index of revoked
//! serial numbers, so that a 20 MB CRL with a million entries is a binary search, not a parse.
//!
//! The index holds a 64-bit hash of each serial and the offset of its entry in the CRL's DER;
//! the entry itself (revocation date, reason) is decoded only when a lookup hits. Memory is the
//! DER plus 12 bytes an entry.

use super::cert::{norm, Certificate};
use crate::asn1::{
    self, ext_oid, named_bits, parse_dp_name, read_extension, tag, AlgorithmId, Asn1Error,
    DistributionPoint, GeneralName, Reader, Tlv,
};
use crate::crypto::{self, AlgorithmPolicy, CryptoError};
use std::hash::{Hash, Hasher};
use thiserror::Error;

/// Why a CRL cannot be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CrlError {
    /// Not a well-formed CertificateList.
    #[error("malformed CRL: {0}")]
    Malformed(#[from] Asn1Error),
    /// A critical (entry) extension this validator does not process (§5.2, §5.3).
    #[error("CRL carries an unknown critical extension {0}")]
    UnknownCritical(String),
    /// The CRL is larger than allowed.
    #[error("CRL of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Size.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// The signature does not verify with the candidate issuer.
    #[error("CRL signature does not verify: {0}")]
    Signature(String),
    /// The signer may not sign CRLs.
    #[error("the CRL signer's keyUsage lacks cRLSign")]
    NotCrlSigner,
    /// The CRL breaks the RFC 5280 CRL profile (§5.1, §5.2).
    #[error("CRL profile: {0}")]
    Profile(&'static str),
}

/// issuingDistributionPoint (RFC 5280 §5.2.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuingDistributionPoint {
    /// The distribution point name (`full_name` / `relative_name`); `reasons` = onlySomeReasons.
    pub point: DistributionPoint,
    /// onlyContainsUserCerts
    pub only_user: bool,
    /// onlyContainsCACerts
    pub only_ca: bool,
    /// onlyContainsAttributeCerts
    pub only_attribute: bool,
    /// indirectCRL
    pub indirect: bool,
}

/// One revoked certificate, decoded on a lookup hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// revocationDate, unix seconds.
    pub revoked_at: i64,
    /// CRLReason code, when given (1 keyCompromise, … 6 certificateHold, 8 removeFromCRL).
    pub reason: Option<u8>,
}

/// CRLReason removeFromCRL: a delta CRL entry that lifts a hold.
pub const REASON_REMOVE_FROM_CRL: u8 = 8;

/// A parsed CRL.
#[derive(Debug)]
pub struct Crl {
    der: Vec<u8>,
    tbs: std::ops::Range<usize>,
    signature: std::ops::Range<usize>,
    /// signatureAlgorithm.
    pub signature_algorithm: AlgorithmId,
    /// issuer Name DER.
    pub issuer_raw: Vec<u8>,
    /// issuer, normalised for matching.
    pub issuer_norm: Vec<Vec<u8>>,
    /// issuer, RFC 4514.
    pub issuer: String,
    /// thisUpdate, unix seconds.
    pub this_update: i64,
    /// nextUpdate, unix seconds.
    pub next_update: Option<i64>,
    /// cRLNumber (unsigned big-endian, leading zeros stripped).
    pub crl_number: Option<Vec<u8>>,
    /// deltaCRLIndicator's BaseCRLNumber: set on delta CRLs.
    pub delta_base: Option<Vec<u8>>,
    /// issuingDistributionPoint.
    pub idp: Option<IssuingDistributionPoint>,
    /// freshestCRL of this (complete) CRL: where its deltas are.
    pub freshest: Vec<DistributionPoint>,
    /// SHA-256 of the DER.
    pub fingerprint: [u8; 32],
    index: Vec<(u64, u32)>,
    /// For indirect CRLs: the certificate issuer in force at each entry (index into `issuers`;
    /// 0 = the CRL issuer), in `index` order.
    entry_issuer: Vec<u16>,
    issuers: Vec<Vec<Vec<u8>>>,
}

/// A serial number as compared: the INTEGER contents in minimal two's complement (a redundant
/// 0x00 before a byte below 0x80 dropped). The sign octet stays: 00 FF (255) is not FF (-1),
/// PKITS 4.4.14.
pub fn serial_key(s: &[u8]) -> &[u8] {
    let mut s = s;
    while let [0, next, ..] = s {
        if *next >= 0x80 {
            break;
        }
        s = &s[1..];
    }
    s
}

fn serial_hash(s: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// Most distinct certificate issuers one indirect CRL may name.
const MAX_INDIRECT_ISSUERS: usize = 1024;

impl Crl {
    /// Parses a DER (or PEM) CRL of at most `max_bytes`.
    pub fn parse(input: &[u8], max_bytes: usize) -> Result<Self, CrlError> {
        if input.len() > max_bytes {
            return Err(CrlError::TooLarge {
                size: input.len(),
                limit: max_bytes,
            });
        }
        let der = if input.first() == Some(&tag::SEQUENCE) {
            input.to_vec()
        } else {
            asn1::pem::decode_blocks(input, |l| l == "X509 CRL")
                .into_iter()
                .next()
                .and_then(Result::ok)
                .ok_or(Asn1Error::Invalid("neither DER nor PEM CRL"))?
        };
        Self::from_der(der)
    }

    fn from_der(der: Vec<u8>) -> Result<Self, CrlError> {
        let base = der.as_ptr() as usize;
        let range = |s: &[u8]| {
            let start = s.as_ptr() as usize - base;
            start..start + s.len()
        };
        let mut outer = Tlv::parse_exact(&der)?.expect(tag::SEQUENCE)?.reader();
        let tbs = outer.read_tag(tag::SEQUENCE)?;
        let sig_alg = outer.read_tag(tag::SEQUENCE)?;
        let signature = outer.read()?.bit_string_bytes()?;
        outer.finish()?;

        let mut r = tbs.reader();
        if let Some(v) = r.read_optional(tag::INTEGER)? {
            if v.small_uint()? != 1 {
                return Err(Asn1Error::Invalid("unknown CRL version").into());
            }
        }
        let inner_alg = r.read_tag(tag::SEQUENCE)?;
        if inner_alg.raw != sig_alg.raw {
            return Err(Asn1Error::Invalid(
                "CRL signatureAlgorithm differs from tbsCertList.signature",
            )
            .into());
        }
        let issuer = r.read_tag(tag::SEQUENCE)?;
        let this_update = r.read()?.time()?;
        let next_update = match r.peek_tag() {
            Some(tag::UTC_TIME | tag::GENERALIZED_TIME) => Some(r.read()?.time()?),
            _ => None,
        };
        let revoked = r.read_optional(tag::SEQUENCE)?;
        let mut crl = Crl {
            tbs: range(tbs.raw),
            signature: range(signature),
            signature_algorithm: AlgorithmId::parse(sig_alg)?,
            issuer_raw: issuer.raw.to_vec(),
            issuer_norm: norm(issuer.raw),
            issuer: asn1::decode_name(issuer.raw)?.rfc4514,
            this_update,
            next_update,
            crl_number: None,
            delta_base: None,
            idp: None,
            freshest: Vec::new(),
            fingerprint: super::cert::sha256(&der),
            index: Vec::new(),
            entry_issuer: Vec::new(),
            issuers: vec![norm(issuer.raw)],
            der: Vec::new(),
        };
        if let Some(exts) = r.read_optional(tag::context_constructed(0))? {
            crl.read_extensions(Tlv::parse_exact(exts.value)?)?;
        }
        r.finish()?;
        // §5.2.3: "conforming CRL issuers MUST include this extension in all CRLs". Without it a
        // CRL cannot be ordered against another from the same issuer (nor a delta against its
        // base), so it is refused (x509-limbo crl::crlnumber-missing).
        if crl.crl_number.is_none() {
            return Err(CrlError::Profile("CRL without cRLNumber (RFC 5280 §5.2.3)"));
        }
        if let Some(list) = revoked {
            crl.index_entries(list.reader(), &range)?;
        }
        crl.der = der;
        Ok(crl)
    }

    fn read_extensions(&mut self, seq: Tlv<'_>) -> Result<(), CrlError> {
        let mut r = seq.expect(tag::SEQUENCE)?.reader();
        while !r.is_empty() {
            let (oid, critical, value) = read_extension(&mut r)?;
            match oid {
                ext_oid::CRL_NUMBER => {
                    // §5.2.3: "This extension is non-critical"; a CRL that marks it critical
                    // was not made by a conforming issuer (x509-limbo crl::crlnumber-critical).
                    if critical {
                        return Err(CrlError::Profile(
                            "cRLNumber marked critical (RFC 5280 §5.2.3)",
                        ));
                    }
                    self.crl_number = Some(Tlv::parse_exact(value)?.unsigned_integer()?.to_vec())
                }
                ext_oid::DELTA_CRL_INDICATOR => {
                    self.delta_base = Some(Tlv::parse_exact(value)?.unsigned_integer()?.to_vec())
                }
                ext_oid::ISSUING_DISTRIBUTION_POINT => self.idp = Some(parse_idp(value)?),
                ext_oid::FRESHEST_CRL => {
                    self.freshest = asn1::parse_distribution_points(value)?;
                }
                ext_oid::AUTHORITY_KEY_ID | ext_oid::ISSUER_ALT_NAME => {}
                ext_oid::AUTHORITY_INFO_ACCESS => {}
                other if critical => return Err(CrlError::UnknownCritical(other.to_string())),
                _ => {}
            }
        }
        Ok(())
    }

    fn index_entries(
        &mut self,
        mut list: Reader<'_>,
        range: &dyn Fn(&[u8]) -> std::ops::Range<usize>,
    ) -> Result<(), CrlError> {
        let indirect = self.idp.as_ref().is_some_and(|i| i.indirect);
        let mut current_issuer: u16 = 0;
        let mut entries: Vec<(u64, u32, u16)> = Vec::new();
        while !list.is_empty() {
            let entry = list.read_tag(tag::SEQUENCE)?;
            let mut e = entry.reader();
            let serial = e.read_tag(tag::INTEGER)?.value;
            let when = e.read()?;
            if !matches!(when.tag, tag::UTC_TIME | tag::GENERALIZED_TIME) {
                return Err(Asn1Error::Invalid("revocationDate").into());
            }
            if let Some(exts) = e.read_optional(tag::SEQUENCE)? {
                let mut x = exts.reader();
                while !x.is_empty() {
                    let (oid, critical, value) = read_extension(&mut x)?;
                    match oid {
                        ext_oid::CERTIFICATE_ISSUER if indirect => {
                            let names = Tlv::parse_exact(value)?.expect(tag::SEQUENCE)?;
                            let mut nr = names.reader();
                            let mut dn = None;
                            while !nr.is_empty() {
                                if let GeneralName::Directory(d) = GeneralName::parse(nr.read()?)? {
                                    dn = Some(norm(&d));
                                }
                            }
                            let dn = dn.ok_or(Asn1Error::Invalid(
                                "certificateIssuer without a directoryName",
                            ))?;
                            current_issuer = match self.issuers.iter().position(|i| *i == dn) {
                                Some(p) => p as u16,
                                None if self.issuers.len() < MAX_INDIRECT_ISSUERS => {
                                    self.issuers.push(dn);
                                    (self.issuers.len() - 1) as u16
                                }
                                None => {
                                    return Err(
                                        Asn1Error::TooManyElements(MAX_INDIRECT_ISSUERS).into()
                                    )
                                }
                            };
                        }
                        ext_oid::REASON_CODE | ext_oid::INVALIDITY_DATE => {}
                        // §5.3: an unprocessable critical entry extension makes the whole CRL
                        // unusable.
                        other if critical => {
                            return Err(CrlError::UnknownCritical(other.to_string()))
                        }
                        _ => {}
                    }
                }
            }
            e.finish()?;
            let offset = u32::try_from(range(entry.raw).start)
                .map_err(|_| Asn1Error::Invalid("CRL over 4 GiB"))?;
            entries.push((serial_hash(serial_key(serial)), offset, current_issuer));
        }
        entries.sort_unstable();
        self.index = entries.iter().map(|(h, o, _)| (*h, *o)).collect();
        if indirect {
            self.entry_issuer = entries.iter().map(|(_, _, i)| *i).collect();
        }
        Ok(())
    }

    /// Number of revoked entries.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when no certificate is listed.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Looks up `serial` (INTEGER contents) of a certificate issued by `cert_issuer`.
    pub fn lookup(&self, serial: &[u8], cert_issuer: &[Vec<u8>]) -> Option<RevokedEntry> {
        let key = serial_key(serial);
        let h = serial_hash(key);
        let start = self.index.partition_point(|(k, _)| *k < h);
        for (i, (k, off)) in self.index.iter().enumerate().skip(start) {
            if *k != h {
                break;
            }
            let Some(entry) = self.entry_at(*off as usize) else {
                continue;
            };
            if serial_key(entry.0) != key {
                continue;
            }
            let issuer_ok = match self.entry_issuer.get(i) {
                Some(idx) => {
                    self.issuers.get(usize::from(*idx)).map(Vec::as_slice) == Some(cert_issuer)
                }
                None => true,
            };
            if issuer_ok {
                return Some(entry.1);
            }
        }
        None
    }

    fn entry_at(&self, off: usize) -> Option<(&[u8], RevokedEntry)> {
        let mut r = Reader::new(self.der.get(off..)?);
        let mut e = r.read().ok()?.reader();
        let serial = e.read().ok()?.value;
        let revoked_at = e.read().ok()?.time().ok()?;
        let mut reason = None;
        if let Ok(Some(exts)) = e.read_optional(tag::SEQUENCE) {
            let mut x = exts.reader();
            while let Ok((oid, _, value)) = read_extension(&mut x) {
                if oid == ext_oid::REASON_CODE {
                    let t = Tlv::parse_exact(value).ok()?;
                    reason = (t.tag == 0x0A && t.value.len() == 1).then(|| t.value[0]);
                }
            }
        }
        Some((serial, RevokedEntry { revoked_at, reason }))
    }

    /// Verifies the CRL's signature with `signer`'s key; the signer must be allowed to sign CRLs.
    /// The caller establishes that `signer` is the right authority (name, path).
    pub fn verify_signed_by(
        &self,
        signer: &Certificate,
        policy: &AlgorithmPolicy,
    ) -> Result<(), CrlError> {
        if signer
            .ext
            .key_usage
            .is_some_and(|ku| ku & super::cert::key_usage::CRL_SIGN == 0)
        {
            return Err(CrlError::NotCrlSigner);
        }
        let key = signer
            .public_key
            .as_ref()
            .map_err(|e| CrlError::Signature(e.to_string()))?;
        let r = crypto::resolve(&self.signature_algorithm, None, key, policy)
            .map_err(|e: CryptoError| CrlError::Signature(e.to_string()))?;
        r.verifier
            .verify(
                key,
                &self.der[self.tbs.clone()],
                &self.der[self.signature.clone()],
            )
            .map_err(|e| CrlError::Signature(e.to_string()))
    }

    /// Whether this CRL may speak for `cert` (RFC 5280 §6.3.3 (b)): issuer (direct, or indirect
    /// through a cRLIssuer of the certificate's distribution points) and the
    /// issuingDistributionPoint scope. Reasons are handled by the caller.
    pub fn covers(&self, cert: &Certificate) -> bool {
        self.scope(cert).is_some()
    }

    /// [`Crl::covers`], returning the reasons the certificate's matching distribution point
    /// asks for (all when it names none).
    pub fn scope(&self, cert: &Certificate) -> Option<u16> {
        const ALL: u16 = 0x01FF;
        let reasons = |dp: &DistributionPoint| dp.reasons.unwrap_or(ALL);
        let dps = &cert.ext.crl_distribution_points;
        let indirect = self.idp.as_ref().is_some_and(|i| i.indirect);
        let via_crl_issuer = |dp: &DistributionPoint| {
            dp.crl_issuer
                .iter()
                .any(|n| matches!(n, GeneralName::Directory(d) if norm(d) == self.issuer_norm))
        };
        let direct = self.issuer_norm == cert.issuer_norm
            && (dps.is_empty()
                || dps
                    .iter()
                    .any(|dp| dp.crl_issuer.is_empty() || via_crl_issuer(dp)));
        let by_indirect = indirect && dps.iter().any(via_crl_issuer);
        if !direct && !by_indirect {
            return None;
        }
        let all_dps = || {
            if dps.is_empty() {
                ALL
            } else {
                dps.iter().fold(0, |a, dp| a | reasons(dp))
            }
        };
        let Some(idp) = &self.idp else {
            return Some(all_dps());
        };
        let is_ca = matches!(cert.ext.basic_constraints, Some((true, _)));
        if (idp.only_user && is_ca) || (idp.only_ca && !is_ca) || idp.only_attribute {
            return None;
        }
        let idp_names = self.point_names(&idp.point);
        if idp_names.is_empty() {
            return Some(all_dps());
        }
        // One of the IDP's names must match one of the certificate's DP names, or, where a DP
        // has no name, one of its cRLIssuer names (§6.3.3 (b)(2)(i)).
        dps.iter()
            .find(|dp| {
                let names = if dp.full_name.is_empty() && dp.relative_name.is_none() {
                    dp.crl_issuer.clone()
                } else {
                    self.dp_names(dp, &cert.issuer_raw)
                };
                names
                    .iter()
                    .any(|n| idp_names.iter().any(|m| same_name(n, m)))
            })
            .map(reasons)
    }

    /// The names of an IDP (a relative name is appended to the CRL issuer).
    fn point_names(&self, p: &DistributionPoint) -> Vec<GeneralName> {
        self.dp_names(p, &self.issuer_raw)
    }

    fn dp_names(&self, p: &DistributionPoint, issuer_raw: &[u8]) -> Vec<GeneralName> {
        let mut v = p.full_name.clone();
        if let Some(rdn) = &p.relative_name {
            let base = p
                .crl_issuer
                .iter()
                .find_map(|n| match n {
                    GeneralName::Directory(d) => Some(d.as_slice()),
                    _ => None,
                })
                .unwrap_or(issuer_raw);
            if let Some(full) = append_rdn(base, rdn) {
                v.push(GeneralName::Directory(full));
            }
        }
        v
    }
}

fn same_name(a: &GeneralName, b: &GeneralName) -> bool {
    match (a, b) {
        (GeneralName::Directory(x), GeneralName::Directory(y)) => norm(x) == norm(y),
        (GeneralName::Uri(x), GeneralName::Uri(y)) => x == y,
        _ => a == b,
    }
}

/// `name` (DER) with one more RDN (`[1]`-tagged SET contents) appended.
fn append_rdn(name: &[u8], rdn_tagged: &[u8]) -> Option<Vec<u8>> {
    let n = Tlv::parse_exact(name).ok()?;
    let r = Tlv::parse_exact(rdn_tagged).ok()?;
    let mut body = n.value.to_vec();
    body.extend_from_slice(&asn1::encode_tlv(tag::SET, r.value));
    Some(asn1::encode_tlv(tag::SEQUENCE, &body))
}

fn parse_idp(value: &[u8]) -> Result<IssuingDistributionPoint, Asn1Error> {
    let mut r = Tlv::parse_exact(value)?.expect(tag::SEQUENCE)?.reader();
    let mut idp = IssuingDistributionPoint::default();
    let flag = |t: Tlv<'_>| t.value == [0xFF];
    if let Some(n) = r.read_optional(0xA0)? {
        parse_dp_name(n, &mut idp.point)?;
    }
    if let Some(t) = r.read_optional(0x81)? {
        idp.only_user = flag(t);
    }
    if let Some(t) = r.read_optional(0x82)? {
        idp.only_ca = flag(t);
    }
    if let Some(t) = r.read_optional(0x83)? {
        idp.point.reasons = Some(named_bits(t)?);
    }
    if let Some(t) = r.read_optional(0x84)? {
        idp.indirect = flag(t);
    }
    if let Some(t) = r.read_optional(0x85)? {
        idp.only_attribute = flag(t);
    }
    r.finish()?;
    Ok(idp)
}
