//! OCSP (RFC 6960): request encoding and response validation.
//!
//! A response is used only after every check here passed: successful status, a BasicOCSPResponse
//! signed either by the issuing CA itself or by a responder certificate that the CA issued for
//! id-kp-OCSPSigning, a SingleResponse whose CertID names this issuer and serial, and times that
//! make it current. Everything else is an error the caller turns into TRY_LATER, never "good".

use super::cert::{self, Certificate};
use super::path::verify_issued_by;
use crate::asn1::{self, tag, AlgorithmId, Asn1Error, Oid, Reader, Tlv};
use crate::crypto::{self, AlgorithmPolicy, DigestAlgorithm};
use thiserror::Error;

/// id-pkix-ocsp-basic
const OCSP_BASIC: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// id-pkix-ocsp-nonce
const OCSP_NONCE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.2");
/// id-kp-OCSPSigning
const KP_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");
/// Largest OCSP response accepted (issue #3: 64 KB).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Most certificates read from a response's `certs`.
const MAX_RESPONSE_CERTS: usize = 8;
/// Most SingleResponses looked at.
const MAX_SINGLE_RESPONSES: usize = 64;

/// Why an OCSP response was not used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum OcspError {
    /// Not a well-formed response.
    #[error("malformed OCSP response: {0}")]
    Malformed(#[from] Asn1Error),
    /// responseStatus other than successful (RFC 6960 §4.2.1).
    #[error("OCSP responder answered {0}")]
    Unsuccessful(&'static str),
    /// Not an id-pkix-ocsp-basic response.
    #[error("unsupported OCSP response type {0}")]
    UnsupportedType(String),
    /// The responder is neither the issuer nor a responder the issuer authorised.
    #[error("OCSP response signer not authorised: {0}")]
    Unauthorized(String),
    /// The signature does not verify.
    #[error("OCSP response signature invalid: {0}")]
    Signature(String),
    /// No SingleResponse for this certificate and issuer.
    #[error("OCSP response does not cover this certificate (CertID mismatch)")]
    CertIdMismatch,
    /// thisUpdate in the future, nextUpdate passed, or older than the configured maximum age.
    #[error("OCSP response is not current: {0}")]
    Stale(String),
    /// The nonce we sent did not come back.
    #[error("OCSP nonce mismatch")]
    Nonce,
    /// Too large.
    #[error("OCSP response of {0} bytes exceeds the limit")]
    TooLarge(usize),
}

/// A certificate's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    /// Not revoked.
    Good,
    /// Revoked at (unix seconds), with a CRLReason when given.
    Revoked {
        /// revocationTime
        at: i64,
        /// revocationReason
        reason: Option<u8>,
    },
    /// The responder does not know the certificate.
    Unknown,
}

/// A validated answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspStatus {
    /// The status.
    pub status: CertStatus,
    /// producedAt.
    pub produced_at: i64,
    /// thisUpdate.
    pub this_update: i64,
    /// nextUpdate.
    pub next_update: Option<i64>,
}

/// Time rules for a response (RFC 6960 §3.2 (5), (6); §4.2.2.1).
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    /// The time the status must hold at (validation time).
    pub at: i64,
    /// The real current time: no response may come from after it.
    pub now: i64,
    /// Oldest thisUpdate accepted, relative to `at`; `None` = only nextUpdate limits.
    pub max_age: Option<i64>,
    /// Clock skew tolerated either way.
    pub skew: i64,
}

impl Freshness {
    /// Applies the rules to (thisUpdate, nextUpdate). A response produced after `at` is newer
    /// evidence and accepted (a certificate good now was not revoked at `at`).
    pub fn check(&self, this_update: i64, next_update: Option<i64>) -> Result<(), String> {
        use super::time::format_rfc3339 as f;
        if this_update > self.now + self.skew {
            return Err(format!("thisUpdate {} is in the future", f(this_update)));
        }
        if let Some(n) = next_update {
            if n + self.skew < self.at {
                return Err(format!("nextUpdate {} passed at {}", f(n), f(self.at)));
            }
        }
        if let Some(max) = self.max_age {
            if this_update + max < self.at {
                return Err(format!(
                    "thisUpdate {} is older than the maximum age of {max} s",
                    f(this_update)
                ));
            }
        }
        Ok(())
    }
}

/// A CertID (RFC 6960 §4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertId {
    /// SHA-1 or SHA-256.
    pub hash: DigestAlgorithm,
    /// Hash of the issuer's subject DER.
    pub name_hash: Vec<u8>,
    /// Hash of the issuer's public key BIT STRING contents.
    pub key_hash: Vec<u8>,
    /// The certificate's serial (INTEGER contents as encoded).
    pub serial: Vec<u8>,
}

/// The issuer's subjectPublicKey bits (what issuerKeyHash and byKey hash).
fn key_bits(issuer: &Certificate) -> Result<&[u8], Asn1Error> {
    let mut r = Tlv::parse_exact(&issuer.spki)?.reader();
    r.read_tag(tag::SEQUENCE)?;
    r.read()?.bit_string_bytes()
}

impl CertId {
    /// The CertID of `cert` issued by `issuer` with `hash` (SHA-256 by default, SHA-1 for
    /// responders that know no better).
    pub fn new(
        cert: &Certificate,
        issuer: &Certificate,
        hash: DigestAlgorithm,
    ) -> Result<Self, Asn1Error> {
        let h = |d: &[u8]| crypto::digest(hash, d).map_err(|_| Asn1Error::Invalid("CertID hash"));
        Ok(Self {
            hash,
            name_hash: h(&issuer.subject_raw)?,
            key_hash: h(key_bits(issuer)?)?,
            serial: cert.serial.clone(),
        })
    }

    fn digest_oid(&self) -> &'static [u8] {
        match self.hash {
            DigestAlgorithm::Sha1 => crypto::digest_oid::SHA1.as_bytes(),
            _ => crypto::digest_oid::SHA256.as_bytes(),
        }
    }

    /// DER of the CertID.
    pub fn to_der(&self) -> Vec<u8> {
        let alg = asn1::encode_tlv(
            tag::SEQUENCE,
            &[
                asn1::encode_tlv(tag::OID, self.digest_oid()),
                vec![tag::NULL, 0],
            ]
            .concat(),
        );
        asn1::encode_tlv(
            tag::SEQUENCE,
            &[
                alg,
                asn1::encode_tlv(tag::OCTET_STRING, &self.name_hash),
                asn1::encode_tlv(tag::OCTET_STRING, &self.key_hash),
                asn1::encode_tlv(tag::INTEGER, &self.serial),
            ]
            .concat(),
        )
    }

    /// Does a CertID in a response (`hash`, hashes, serial) name the same certificate? The
    /// responder may use another hash algorithm than we asked with, so the issuer hashes are
    /// recomputed with its algorithm.
    fn matches(&self, issuer: &Certificate, other: &ParsedCertId<'_>) -> bool {
        let Ok(h) = DigestAlgorithm::from_oid(&other.hash.oid) else {
            return false;
        };
        use super::crl::serial_key;
        serial_key(other.serial) == serial_key(&self.serial) && issuer_matches(issuer, other, h)
    }
}

fn issuer_matches(issuer: &Certificate, id: &ParsedCertId<'_>, h: DigestAlgorithm) -> bool {
    let Ok(bits) = key_bits(issuer) else {
        return false;
    };
    crypto::digest(h, &issuer.subject_raw).is_ok_and(|d| d == id.name_hash)
        && crypto::digest(h, bits).is_ok_and(|d| d == id.key_hash)
}

/// An OCSPRequest for one certificate, with an optional nonce (RFC 8954: 1–32 octets).
pub fn build_request(id: &CertId, nonce: Option<&[u8]>) -> Vec<u8> {
    let request = asn1::encode_tlv(tag::SEQUENCE, &id.to_der());
    let mut tbs = asn1::encode_tlv(tag::SEQUENCE, &request);
    if let Some(n) = nonce {
        let ext = asn1::encode_tlv(
            tag::SEQUENCE,
            &[
                asn1::encode_tlv(tag::OID, OCSP_NONCE.as_bytes()),
                asn1::encode_tlv(tag::OCTET_STRING, &asn1::encode_tlv(tag::OCTET_STRING, n)),
            ]
            .concat(),
        );
        let exts = asn1::encode_tlv(tag::SEQUENCE, &ext);
        tbs.extend_from_slice(&asn1::encode_tlv(tag::context_constructed(2), &exts));
    }
    asn1::encode_tlv(tag::SEQUENCE, &asn1::encode_tlv(tag::SEQUENCE, &tbs))
}

struct ParsedCertId<'a> {
    hash: AlgorithmId,
    name_hash: &'a [u8],
    key_hash: &'a [u8],
    serial: &'a [u8],
}

struct Single<'a> {
    id: ParsedCertId<'a>,
    status: CertStatus,
    this_update: i64,
    next_update: Option<i64>,
}

enum ResponderId<'a> {
    ByName(&'a [u8]),
    ByKey(&'a [u8]),
}

struct Basic<'a> {
    tbs: &'a [u8],
    responder: ResponderId<'a>,
    produced_at: i64,
    singles: Vec<Single<'a>>,
    nonce: Option<&'a [u8]>,
    sig_alg: AlgorithmId,
    signature: &'a [u8],
    certs: Vec<&'a [u8]>,
}

fn unsuccessful(code: u32) -> &'static str {
    match code {
        1 => "malformedRequest",
        2 => "internalError",
        3 => "tryLater",
        5 => "sigRequired",
        6 => "unauthorized",
        _ => "an unknown status",
    }
}

fn parse_basic(der: &[u8]) -> Result<Basic<'_>, OcspError> {
    let mut r = Tlv::parse_exact(der)?.expect(tag::SEQUENCE)?.reader();
    let status = r.read()?;
    if status.tag != 0x0A || status.value.len() != 1 {
        return Err(Asn1Error::Invalid("responseStatus").into());
    }
    if status.value[0] != 0 {
        return Err(OcspError::Unsuccessful(unsuccessful(u32::from(
            status.value[0],
        ))));
    }
    let bytes = r.read_tag(tag::context_constructed(0))?;
    r.finish()?;
    let mut rb = Tlv::parse_exact(bytes.value)?
        .expect(tag::SEQUENCE)?
        .reader();
    let ty = rb.read()?.oid()?;
    if ty != OCSP_BASIC {
        return Err(OcspError::UnsupportedType(ty.to_string()));
    }
    let basic_der = rb.read_tag(tag::OCTET_STRING)?.value;
    rb.finish()?;

    let mut b = Tlv::parse_exact(basic_der)?.expect(tag::SEQUENCE)?.reader();
    let tbs = b.read_tag(tag::SEQUENCE)?;
    let sig_alg = AlgorithmId::parse(b.read_tag(tag::SEQUENCE)?)?;
    let signature = b.read()?.bit_string_bytes()?;
    let mut certs = Vec::new();
    if let Some(c) = b.read_optional(tag::context_constructed(0))? {
        let mut cr = Tlv::parse_exact(c.value)?.expect(tag::SEQUENCE)?.reader();
        while !cr.is_empty() {
            if certs.len() >= MAX_RESPONSE_CERTS {
                return Err(Asn1Error::TooManyElements(MAX_RESPONSE_CERTS).into());
            }
            certs.push(cr.read_tag(tag::SEQUENCE)?.raw);
        }
    }
    b.finish()?;

    let mut t = tbs.reader();
    if let Some(v) = t.read_optional(tag::context_constructed(0))? {
        if Tlv::parse_exact(v.value)?.small_uint()? != 0 {
            return Err(Asn1Error::Invalid("unknown OCSP response version").into());
        }
    }
    let rid = t.read()?;
    let responder = match rid.tag {
        0xA1 => ResponderId::ByName(Tlv::parse_exact(rid.value)?.expect(tag::SEQUENCE)?.raw),
        0xA2 => ResponderId::ByKey(
            Tlv::parse_exact(rid.value)?
                .expect(tag::OCTET_STRING)?
                .value,
        ),
        _ => return Err(Asn1Error::Invalid("ResponderID").into()),
    };
    let produced_at = t.read_tag(tag::GENERALIZED_TIME)?.time()?;
    let mut list = t.read_tag(tag::SEQUENCE)?.reader();
    let mut singles = Vec::new();
    while !list.is_empty() {
        if singles.len() >= MAX_SINGLE_RESPONSES {
            return Err(Asn1Error::TooManyElements(MAX_SINGLE_RESPONSES).into());
        }
        singles.push(parse_single(list.read_tag(tag::SEQUENCE)?.reader())?);
    }
    let mut nonce = None;
    if let Some(e) = t.read_optional(tag::context_constructed(1))? {
        let mut er = Tlv::parse_exact(e.value)?.expect(tag::SEQUENCE)?.reader();
        while !er.is_empty() {
            let (oid, critical, value) = crate::asn1::read_extension(&mut er)?;
            if oid == OCSP_NONCE {
                // RFC 8954 wraps the nonce in an OCTET STRING; some responders do not.
                nonce = Some(match Tlv::parse_exact(value) {
                    Ok(inner) if inner.tag == tag::OCTET_STRING => inner.value,
                    _ => value,
                });
            } else if critical {
                return Err(Asn1Error::Invalid("unknown critical OCSP response extension").into());
            }
        }
    }
    t.finish()?;
    Ok(Basic {
        tbs: tbs.raw,
        responder,
        produced_at,
        singles,
        nonce,
        sig_alg,
        signature,
        certs,
    })
}

fn parse_single(mut s: Reader<'_>) -> Result<Single<'_>, OcspError> {
    let mut id = s.read_tag(tag::SEQUENCE)?.reader();
    let cid = ParsedCertId {
        hash: AlgorithmId::parse(id.read_tag(tag::SEQUENCE)?)?,
        name_hash: id.read_tag(tag::OCTET_STRING)?.value,
        key_hash: id.read_tag(tag::OCTET_STRING)?.value,
        serial: id.read_tag(tag::INTEGER)?.value,
    };
    id.finish()?;
    let st = s.read()?;
    let status = match st.tag {
        0x80 => CertStatus::Good,
        0xA1 => {
            let mut ri = st.reader();
            let at = ri.read_tag(tag::GENERALIZED_TIME)?.time()?;
            let reason = match ri.read_optional(tag::context_constructed(0))? {
                Some(r) => {
                    let e = Tlv::parse_exact(r.value)?;
                    (e.tag == 0x0A && e.value.len() == 1).then(|| e.value[0])
                }
                None => None,
            };
            CertStatus::Revoked { at, reason }
        }
        0x82 => CertStatus::Unknown,
        _ => return Err(Asn1Error::Invalid("CertStatus").into()),
    };
    let this_update = s.read_tag(tag::GENERALIZED_TIME)?.time()?;
    let next_update = match s.read_optional(tag::context_constructed(0))? {
        Some(n) => Some(Tlv::parse_exact(n.value)?.time()?),
        None => None,
    };
    // singleExtensions [1] are informational (e.g. archive cutoff); a critical one we cannot
    // process would make the response unusable, but none is defined as critical.
    Ok(Single {
        id: cid,
        status,
        this_update,
        next_update,
    })
}

/// What a response is checked against.
#[derive(Debug, Clone, Copy)]
pub struct OcspCheck<'a> {
    /// The CertID asked about; `None` checks only that the response names `issuer` (OpenSSL's
    /// `-respin` mode, used by its test matrix).
    pub id: Option<&'a CertId>,
    /// The nonce sent, if any.
    pub nonce: Option<&'a [u8]>,
    /// Time rules; `None` skips them (the OpenSSL matrix's responses are years stale).
    pub freshness: Option<Freshness>,
    /// Time at which a delegated responder certificate must be valid.
    pub at: i64,
    /// Algorithms accepted.
    pub policy: AlgorithmPolicy,
}

/// Validates a DER OCSPResponse for a certificate of `issuer`.
pub fn validate(
    der: &[u8],
    issuer: &Certificate,
    check: &OcspCheck<'_>,
) -> Result<OcspStatus, OcspError> {
    if der.len() > MAX_RESPONSE_BYTES {
        return Err(OcspError::TooLarge(der.len()));
    }
    let basic = parse_basic(der)?;

    // 1. Who signed: the issuer, or a delegated responder issued by it (RFC 6960 §4.2.2.2).
    let names = |c: &Certificate| match basic.responder {
        ResponderId::ByName(n) => cert::norm(n) == c.subject_norm,
        ResponderId::ByKey(h) => key_bits(c)
            .is_ok_and(|b| crypto::digest(DigestAlgorithm::Sha1, b).is_ok_and(|d| d == h)),
    };
    let delegated;
    let signer: &Certificate = if names(issuer) {
        issuer
    } else {
        let mut why =
            String::from("the responder ID names neither the issuer nor an included certificate");
        let mut found = None;
        for raw in &basic.certs {
            let Ok(c) = Certificate::from_der(raw) else {
                continue;
            };
            if !names(&c) {
                continue;
            }
            match authorised_responder(&c, issuer, check) {
                Ok(()) => {
                    found = Some(c);
                    break;
                }
                Err(e) => why = e,
            }
        }
        delegated = found.ok_or(OcspError::Unauthorized(why))?;
        &delegated
    };

    // 2. The signature over tbsResponseData.
    let key = signer
        .public_key
        .as_ref()
        .map_err(|e| OcspError::Signature(e.to_string()))?;
    let r = crypto::resolve(&basic.sig_alg, None, key, &check.policy)
        .map_err(|e| OcspError::Signature(e.to_string()))?;
    r.verifier
        .verify(key, basic.tbs, basic.signature)
        .map_err(|e| OcspError::Signature(e.to_string()))?;

    // 3. The SingleResponse for our certificate.
    let single = match check.id {
        Some(id) => basic.singles.iter().find(|s| id.matches(issuer, &s.id)),
        None => basic.singles.first().filter(|s| {
            DigestAlgorithm::from_oid(&s.id.hash.oid)
                .is_ok_and(|h| issuer_matches(issuer, &s.id, h))
        }),
    }
    .ok_or(OcspError::CertIdMismatch)?;
    // Two answers for one certificate that disagree ("good" then "revoked"): no answer, whichever
    // comes first.
    if let Some(id) = check.id {
        if basic
            .singles
            .iter()
            .filter(|s| id.matches(issuer, &s.id))
            .any(|s| s.status != single.status)
        {
            return Err(OcspError::Stale(
                "the response holds contradictory answers for the certificate".into(),
            ));
        }
    }

    // 4. Nonce and times.
    if let Some(n) = check.nonce {
        if basic.nonce.is_some_and(|got| got != n) {
            return Err(OcspError::Nonce);
        }
        // A responder may ignore the nonce (RFC 8954 §2: then freshness rests on the times).
    }
    if let Some(f) = check.freshness {
        f.check(single.this_update, single.next_update)
            .map_err(OcspError::Stale)?;
        if basic.produced_at > f.now + f.skew {
            return Err(OcspError::Stale(format!(
                "producedAt {} is in the future",
                super::time::format_rfc3339(basic.produced_at)
            )));
        }
    }
    Ok(OcspStatus {
        status: single.status,
        produced_at: basic.produced_at,
        this_update: single.this_update,
        next_update: single.next_update,
    })
}

/// A delegated responder: issued (and signed) by the CA, for id-kp-OCSPSigning, valid at `at`.
fn authorised_responder(
    c: &Certificate,
    issuer: &Certificate,
    check: &OcspCheck<'_>,
) -> Result<(), String> {
    if c.issuer_norm != issuer.subject_norm {
        return Err(format!(
            "responder certificate {} was not issued by {}",
            c.subject.rfc4514, issuer.subject.rfc4514
        ));
    }
    if !c
        .ext
        .ext_key_usage
        .as_ref()
        .is_some_and(|eku| eku.contains(&KP_OCSP_SIGNING))
    {
        return Err(format!(
            "responder certificate {} lacks id-kp-OCSPSigning",
            c.subject.rfc4514
        ));
    }
    if !c.valid_at(check.at) {
        return Err(format!(
            "responder certificate {} is not valid at the validation time",
            c.subject.rfc4514
        ));
    }
    verify_issued_by(c, issuer, &check.policy)
        .map_err(|e| format!("responder certificate not signed by the issuer: {e}"))
}
