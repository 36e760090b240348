//! Certification path building and validation (RFC 5280 §6, with policy processing in
//! [`super::policy`] and name constraints in [`super::names`]), under a work budget, with a cache
//! of validated paths.
//!
//! The search is depth-first from the end-entity certificate towards the trust anchors. Every
//! candidate issuer (same name; several when keys were rolled over or cross-signed) is tried until
//! one path works. When none does, the most specific failure is reported ([`PathError::rank`]).

use super::cert::{key_usage, Certificate};
use super::policy::{PolicyFailure, PolicyInputs};
use super::trust::TrustStore;
use crate::asn1::Oid;
use crate::crypto::{self, AlgorithmPolicy, CryptoError};
use crate::limits::Limits;
use moka::sync::Cache;
use std::sync::Arc;
use thiserror::Error;

/// What the end-entity certificate is being validated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeafUsage {
    /// Signing documents: if keyUsage is present it must include digitalSignature or
    /// nonRepudiation (ETSI EN 319 412-2 §4.3.2).
    DocumentSigning,
    /// Any use (inspecting a certificate).
    Any,
}

/// Options of one path validation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathOptions {
    /// Validation time, unix seconds.
    pub time: i64,
    /// Algorithms accepted for certificate signatures.
    pub policy: AlgorithmPolicy,
    /// Leaf usage requirement.
    pub usage: LeafUsage,
    /// Longest path (anchor excluded, leaf included; self-issued certificates do not count).
    pub max_depth: usize,
    /// Signature checks allowed.
    pub max_signature_checks: usize,
    /// Candidate issuers considered.
    pub max_steps: usize,
    /// Certificate policy inputs (RFC 5280 §6.1.1 (c), (e)-(g)).
    pub cert_policy: PolicyInputs,
    /// Name-constraint comparisons allowed over the whole search (x509-limbo
    /// `pathological::nc-dos-*`: thousands of names against thousands of subtrees).
    pub max_name_checks: usize,
}

impl PathOptions {
    /// Options from the limits, at `time`.
    pub fn new(time: i64, policy: AlgorithmPolicy, usage: LeafUsage, limits: &Limits) -> Self {
        Self {
            time,
            policy,
            usage,
            max_depth: limits.max_path_depth,
            max_signature_checks: limits.max_signature_checks,
            max_steps: limits.max_path_steps,
            cert_policy: PolicyInputs::default(),
            max_name_checks: MAX_NAME_CHECKS,
        }
    }
}

/// Name-constraint comparisons per path search. webpki allows 250,000; a real KZ path makes
/// fewer than 50 (three names against a handful of subtrees). One comparison is a bounded string
/// or byte compare, so the budget is a few milliseconds of work.
pub const MAX_NAME_CHECKS: usize = 250_000;

/// A validated path: leaf first, trust anchor last. Only [`build_path`] makes one.
#[derive(Debug, Clone)]
pub struct ValidPath {
    certs: Vec<Arc<Certificate>>,
    /// Latest notBefore on the path: the path is valid from here...
    pub valid_from: i64,
    /// ...to the earliest notAfter.
    pub valid_until: i64,
    /// The user-constrained policy set (RFC 5280 §6.1.6): the policies the path is valid for,
    /// `anyPolicy` (2.5.29.32.0) when any; empty when none and none was required.
    pub policies: Vec<Oid>,
}

impl ValidPath {
    /// Leaf first; the last one is the trust anchor.
    pub fn certs(&self) -> &[Arc<Certificate>] {
        &self.certs
    }
}

/// Why no valid path was found. Each variant cites the RFC 5280 rule it enforces.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// No candidate issuer chains to a trust anchor (§6.1, path construction).
    #[error("no certificate chain to a trust anchor found for {subject}: its issuer {issuer} is not a trust anchor")]
    NoIssuer {
        /// Subject of the certificate whose issuer was not found.
        subject: String,
        /// That certificate's issuer: the root (or intermediate) the path would need, so a
        /// person can see which anchor is missing.
        issuer: String,
    },
    /// The search used its budget of steps or signature checks.
    #[error("path building budget exhausted ({0})")]
    Budget(&'static str),
    /// The path would be longer than allowed.
    #[error("certificate path longer than {0}")]
    TooDeep(usize),
    /// A certificate is not valid at the validation time (§6.1.3 (a)(2)).
    #[error("certificate {subject} expired at {not_after} (validation time {at})")]
    Expired {
        /// Whose.
        subject: String,
        /// notAfter, RFC 3339.
        not_after: String,
        /// Validation time, RFC 3339.
        at: String,
        /// True for the end-entity certificate.
        leaf: bool,
    },
    /// A certificate is not yet valid at the validation time (§6.1.3 (a)(2)).
    #[error("certificate {subject} is not valid before {not_before} (validation time {at})")]
    NotYetValid {
        /// Whose.
        subject: String,
        /// notBefore, RFC 3339.
        not_before: String,
        /// Validation time, RFC 3339.
        at: String,
        /// True for the end-entity certificate.
        leaf: bool,
    },
    /// An issuer is not a CA: basicConstraints cA missing or false (§6.1.4 (k)).
    #[error("{subject} is not a CA certificate (basicConstraints)")]
    NotCa {
        /// Whose.
        subject: String,
    },
    /// An issuer's keyUsage lacks keyCertSign (§6.1.4 (n)).
    #[error("{subject} may not sign certificates (keyUsage without keyCertSign)")]
    CaKeyUsage {
        /// Whose.
        subject: String,
    },
    /// pathLenConstraint exceeded (§6.1.4 (m)).
    #[error("pathLenConstraint of {subject} exceeded")]
    PathLen {
        /// Whose.
        subject: String,
    },
    /// A critical extension we do not process (§6.1.4 (o), §4.2).
    #[error("unknown critical extension {oid} in {subject}")]
    UnknownCriticalExtension {
        /// Whose.
        subject: String,
        /// The extension.
        oid: String,
    },
    /// A certificate breaks the RFC 5280 certificate profile (§4.1, §4.2); see [`profile`].
    #[error("{subject}: {rule}")]
    Profile {
        /// Whose.
        subject: String,
        /// The rule broken.
        rule: &'static str,
    },
    /// A name of a certificate lies outside the nameConstraints of a CA above it (§6.1.3 (b), (c)).
    #[error("{subject}: {name} violates the nameConstraints of {ca}")]
    NameConstraints {
        /// Whose.
        subject: String,
        /// The offending name.
        name: String,
        /// The constraining CA.
        ca: String,
    },
    /// The end-entity keyUsage does not allow signing documents.
    #[error("keyUsage of {subject} allows neither digitalSignature nor nonRepudiation")]
    LeafKeyUsage {
        /// Whose.
        subject: String,
    },
    /// A certificate's signature does not verify with its issuer's key (§6.1.3 (a)(1)).
    #[error("signature of {subject} does not verify with the key of {issuer}")]
    BadSignature {
        /// Whose.
        subject: String,
        /// Issuer tried.
        issuer: String,
    },
    /// A certificate signature algorithm is refused by policy.
    #[error("certificate {subject}: {reason}")]
    WeakAlgorithm {
        /// Whose.
        subject: String,
        /// Why.
        reason: String,
    },
    /// A certificate signature algorithm is not supported.
    #[error("certificate {subject}: {reason}")]
    UnsupportedAlgorithm {
        /// Whose.
        subject: String,
        /// Why.
        reason: String,
    },
    /// Certificate policy processing left no acceptable policy while one was required
    /// (RFC 5280 §6.1.3 (f), §6.1.5 (g)), or a CA mapped anyPolicy (§6.1.4 (a)).
    #[error("certificate policies: {reason} (path to {subject})")]
    Policy {
        /// The end-entity certificate.
        subject: String,
        /// What failed.
        reason: String,
    },
    /// A public key that cannot be valid: RSA exponent 1, an EC point off its curve or at
    /// infinity ([`Certificate::public_key_defect`]).
    #[error("public key of {subject}: {reason}")]
    InvalidKey {
        /// Whose key.
        subject: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The path has no chance to be checked within the work budget (policy tree nodes or
    /// name-constraint comparisons): refused, not guessed.
    #[error("{0} budget exhausted")]
    WorkBudget(&'static str),
}

impl PathError {
    /// How specific a failure is; when every candidate fails, the highest rank is reported
    /// (after webpki's `Error::rank`: "no issuer" says least, a violated constraint says most).
    pub fn rank(&self) -> u8 {
        match self {
            PathError::NoIssuer { .. } => 0,
            PathError::Budget(_) | PathError::WorkBudget(_) => 1,
            PathError::TooDeep(_) => 2,
            PathError::BadSignature { .. } => 3,
            PathError::UnsupportedAlgorithm { .. } => 4,
            PathError::WeakAlgorithm { .. } | PathError::InvalidKey { .. } => 5,
            PathError::NotCa { .. } | PathError::CaKeyUsage { .. } | PathError::PathLen { .. } => 6,
            PathError::UnknownCriticalExtension { .. }
            | PathError::Profile { .. }
            | PathError::NameConstraints { .. }
            | PathError::Policy { .. } => 7,
            PathError::Expired { .. } | PathError::NotYetValid { .. } => 8,
            PathError::LeafKeyUsage { .. } => 9,
        }
    }
}

fn validity(c: &Certificate, t: i64, leaf: bool) -> Result<(), PathError> {
    use super::time::format_rfc3339 as f;
    if t < c.not_before {
        return Err(PathError::NotYetValid {
            subject: c.subject.rfc4514.clone(),
            not_before: f(c.not_before),
            at: f(t),
            leaf,
        });
    }
    if t > c.not_after {
        return Err(PathError::Expired {
            subject: c.subject.rfc4514.clone(),
            not_after: f(c.not_after),
            at: f(t),
            leaf,
        });
    }
    Ok(())
}

fn critical_extensions(c: &Certificate) -> Result<(), PathError> {
    match c.ext.unknown_critical.first() {
        Some(oid) => Err(PathError::UnknownCriticalExtension {
            subject: c.subject.rfc4514.clone(),
            oid: oid.to_string(),
        }),
        None => Ok(()),
    }
}

/// Where a certificate sits on the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Leaf,
    Intermediate,
    Anchor,
}

/// The RFC 5280 certificate profile, as strict validators (pyca/cryptography, x509-limbo) apply
/// it. Each rule cites its section. The NCA's certificates follow all of them.
fn profile(c: &Certificate, role: Role) -> Result<(), PathError> {
    use crate::asn1::ext_oid;
    let fail = |rule: &'static str| {
        Err(PathError::Profile {
            subject: c.subject.rfc4514.clone(),
            rule,
        })
    };
    let e = &c.ext;
    let is_ca = matches!(e.basic_constraints, Some((true, _)));
    // Trust anchors are configured, not validated: old v1 roots stay usable.
    if role != Role::Anchor && c.version != 2 {
        return fail("not an X.509 v3 certificate");
    }
    if e.is_critical(&ext_oid::AUTHORITY_KEY_ID) {
        return fail("authorityKeyIdentifier must be non-critical (RFC 5280 §4.2.1.1)");
    }
    if e.is_critical(&ext_oid::SUBJECT_KEY_ID) {
        return fail("subjectKeyIdentifier must be non-critical (RFC 5280 §4.2.1.2)");
    }
    if e.is_critical(&ext_oid::AUTHORITY_INFO_ACCESS) {
        return fail("authorityInfoAccess must be non-critical (RFC 5280 §4.2.2.1)");
    }
    if e.key_usage
        .is_some_and(|ku| ku & key_usage::KEY_CERT_SIGN != 0)
        && !is_ca
    {
        return fail("keyCertSign without basicConstraints cA (RFC 5280 §4.2.1.3)");
    }
    if role != Role::Anchor {
        if let Some(rule) = serial_rule(&c.serial) {
            return fail(rule);
        }
        // A name we can only show as bytes cannot be judged by a person reading the verdict.
        if let Some(kind) = c.subject.unsupported_strings.first() {
            return fail(match *kind {
                "GeneralString" => "subject name has a GeneralString value, an unsupported string type (RFC 5280 §4.1.2.4 DirectoryString)",
                "GraphicString" => "subject name has a GraphicString value, an unsupported string type (RFC 5280 §4.1.2.4 DirectoryString)",
                "UniversalString (not UCS-4)" => "subject name has a UniversalString value that is not UCS-4 (RFC 5280 §4.1.2.4)",
                _ => "subject name has a value of an unsupported string type (RFC 5280 §4.1.2.4 DirectoryString)",
            });
        }
    }
    if let Some(nc) = &e.name_constraints {
        if !e.is_critical(&ext_oid::NAME_CONSTRAINTS) {
            return fail("nameConstraints must be critical (RFC 5280 §4.2.1.10)");
        }
        if !is_ca {
            return fail(
                "nameConstraints in an end-entity certificate (RFC 5280 §4.2.1.10: CA certificates only)",
            );
        }
        if nc.permitted.is_empty() && nc.excluded.is_empty() {
            return fail("nameConstraints without subtrees (RFC 5280 §4.2.1.10)");
        }
        super::names::check_syntax(nc).or_else(&fail)?;
    }
    // policyConstraints "MUST" be critical (§4.2.1.11) binds the issuing CA; validation processes
    // it either way (§6.1.4 (i)), and NIST PKITS 4.8-4.10 CAs carry it non-critical in valid
    // paths. x509-limbo rfc5280::pc::ica-noncritical-pc, which refuses it, is a listed exception.
    if e.inhibit_any_policy.is_some() && !e.is_critical(&ext_oid::INHIBIT_ANY_POLICY) {
        return fail("inhibitAnyPolicy must be critical (RFC 5280 §4.2.1.14)");
    }
    // A root's own authorityKeyIdentifier is not checked: the CA/B Forum's TLS root profile
    // (BR 7.1.2.1.3) does not govern document signing, and the NCA's GOST root names its
    // issuer and serial there.
    if role != Role::Anchor && !c.is_self_issued() && e.authority_key_id.is_none() {
        // Required in every certificate but a self-signed one; a configured anchor is trusted as
        // it is (RFC 5280 §4.2.1.1).
        return fail("authorityKeyIdentifier keyIdentifier missing (RFC 5280 §4.2.1.1)");
    }
    match role {
        // RFC 5280 allows a CA certificate in leaf position (CA/B Forum's TLS rules do not).
        Role::Leaf => {}
        Role::Intermediate | Role::Anchor => {
            if e.subject_key_id.is_none() {
                return fail("CA certificate without subjectKeyIdentifier (RFC 5280 §4.2.1.2)");
            }
            // basicConstraints "MUST" be critical in CA certificates (§4.2.1.9). For
            // intermediates that binds the issuing CA, not validation (§6.1; PKITS 4.6.4 accepts
            // a non-critical one); a configured root is held to it (x509-limbo
            // rfc5280::root-non-critical-basic-constraints).
            if role == Role::Anchor
                && e.basic_constraints.is_some()
                && !e.is_critical(&ext_oid::BASIC_CONSTRAINTS)
            {
                return fail("CA basicConstraints must be critical (RFC 5280 §4.2.1.9)");
            }
            // An empty SEQUENCE: a CA must have a non-empty subject (RFC 5280 §4.1.2.6).
            if c.subject_raw == [0x30, 0x00] {
                return fail("CA certificate with an empty subject (RFC 5280 §4.1.2.6)");
            }
        }
    }
    Ok(())
}

/// RFC 5280 §4.1.2.2: "The serial number MUST be a positive integer ... Conforming CAs MUST NOT
/// use serialNumber values longer than 20 octets." The sign octet a positive value needs is not
/// counted. x509-limbo `rfc5280::serial::*` expects refusal, as pyca/cryptography does.
fn serial_rule(serial: &[u8]) -> Option<&'static str> {
    let first = serial.first()?;
    if first & 0x80 != 0 {
        return Some("negative serial number (RFC 5280 §4.1.2.2)");
    }
    if serial.iter().all(|b| *b == 0) {
        return Some("serial number zero (RFC 5280 §4.1.2.2: must be positive)");
    }
    let magnitude = match serial {
        [0, rest @ ..] => rest,
        s => s,
    };
    if magnitude.len() > 20 {
        return Some("serial number longer than 20 octets (RFC 5280 §4.1.2.2)");
    }
    None
}

/// The leaf's own public key must be one the algorithm policy accepts (a chain ending in a key
/// nothing may verify with is not a usable certificate): RSA under the minimum or not a whole
/// number of bytes, curves other than P-256/P-384, DSA and unknown algorithms are refused, as
/// the same policy refuses them for signatures (ETSI TS 119 312).
fn leaf_key(c: &Certificate, policy: &AlgorithmPolicy) -> Result<(), PathError> {
    use crate::crypto::PublicKey;
    let weak = |reason: String| PathError::WeakAlgorithm {
        subject: c.subject.rfc4514.clone(),
        reason,
    };
    if let Some(reason) = c.public_key_defect() {
        return Err(PathError::InvalidKey {
            subject: c.subject.rfc4514.clone(),
            reason,
        });
    }
    match &c.public_key {
        Ok(PublicKey::Rsa { bits, .. }) if bits % 8 != 0 || *bits < policy.min_rsa_bits => Err(
            weak(format!(
                "RSA public key of {bits} bits refused by the algorithm policy (minimum {}, whole bytes)",
                policy.min_rsa_bits
            )),
        ),
        Ok(PublicKey::Other { algorithm, .. }) => Err(weak(format!(
            "public key algorithm or curve {algorithm} refused by the algorithm policy"
        ))),
        Ok(_) => Ok(()),
        Err(e) => Err(weak(format!("unreadable public key: {e}"))),
    }
}

/// Checks that `issuer` may act as a CA for a path in which `below` non-self-issued
/// intermediates sit under it.
fn ca_constraints(issuer: &Certificate, below: usize) -> Result<(), PathError> {
    let subject = || issuer.subject.rfc4514.clone();
    match issuer.ext.basic_constraints {
        Some((true, path_len)) => {
            if let Some(pl) = path_len {
                if below > usize::from(pl) {
                    return Err(PathError::PathLen { subject: subject() });
                }
            }
        }
        _ => return Err(PathError::NotCa { subject: subject() }),
    }
    if let Some(ku) = issuer.ext.key_usage {
        if ku & key_usage::KEY_CERT_SIGN == 0 {
            return Err(PathError::CaKeyUsage { subject: subject() });
        }
    }
    Ok(())
}

/// Verifies `child`'s signature with `issuer`'s key over the original tbsCertificate.
pub fn verify_issued_by(
    child: &Certificate,
    issuer: &Certificate,
    policy: &AlgorithmPolicy,
) -> Result<(), PathError> {
    let subject = || child.subject.rfc4514.clone();
    if child.signature_algorithm_mismatch {
        return Err(PathError::Profile {
            subject: subject(),
            rule: "signatureAlgorithm differs from tbsCertificate.signature (RFC 5280 §4.1.1.2)",
        });
    }
    if let Some(reason) = issuer.public_key_defect() {
        return Err(PathError::InvalidKey {
            subject: issuer.subject.rfc4514.clone(),
            reason,
        });
    }
    let map = |e: CryptoError| match e {
        CryptoError::BadSignature => PathError::BadSignature {
            subject: subject(),
            issuer: issuer.subject.rfc4514.clone(),
        },
        CryptoError::Constraints(reason) => PathError::WeakAlgorithm {
            subject: subject(),
            reason,
        },
        CryptoError::Unsupported(reason) | CryptoError::BadKey(reason) => {
            PathError::UnsupportedAlgorithm {
                subject: subject(),
                reason,
            }
        }
    };
    let key = issuer
        .public_key
        .as_ref()
        .map_err(|e| PathError::UnsupportedAlgorithm {
            subject: issuer.subject.rfc4514.clone(),
            reason: format!("unreadable public key: {e}"),
        })?;
    let r = crypto::resolve(&child.signature_algorithm, None, key, policy).map_err(map)?;
    r.verifier
        .verify(key, &child.tbs, &child.signature)
        .map_err(map)
}

struct Search<'a> {
    opts: &'a PathOptions,
    anchors: &'a TrustStore,
    pool: &'a [Arc<Certificate>],
    /// The request's budget, charged with every signature check besides `sig_checks`.
    work: &'a super::work::Work,
    sig_checks: usize,
    steps: usize,
    name_checks: usize,
    /// Policy processing work over every candidate path of this search.
    policy_work: super::policy::PolicyWork,
    best: Option<PathError>,
    /// The policies of the path found.
    policies: Vec<Oid>,
}

/// Stop the whole search (budget) or just this branch.
enum Stop {
    Branch,
    All,
}

impl Search<'_> {
    fn record(&mut self, e: PathError) {
        if self.best.as_ref().is_none_or(|b| e.rank() > b.rank()) {
            self.best = Some(e);
        }
    }

    fn check_sig(&mut self, child: &Certificate, issuer: &Certificate) -> Result<(), Stop> {
        if self.sig_checks >= self.opts.max_signature_checks {
            self.record(PathError::Budget("signature checks"));
            return Err(Stop::All);
        }
        if self.work.charge().is_err() {
            self.record(PathError::WorkBudget("signature operations of the request"));
            return Err(Stop::All);
        }
        self.sig_checks += 1;
        verify_issued_by(child, issuer, &self.opts.policy).map_err(|e| {
            self.record(e);
            Stop::Branch
        })
    }

    /// Extends `path` (leaf first) until it reaches an anchor; returns the anchor.
    fn walk(&mut self, path: &mut Vec<Arc<Certificate>>) -> Result<Arc<Certificate>, Stop> {
        let child = match path.last() {
            Some(c) => Arc::clone(c),
            None => return Err(Stop::All),
        };
        // Non-self-issued intermediates already on the path, below the next issuer (§6.1.4 (l)).
        let below = path.iter().skip(1).filter(|c| !c.is_self_issued()).count();

        let mut anchors: Vec<&Arc<Certificate>> =
            self.anchors.by_subject(&child.issuer_norm).collect();
        prefer_matching_key_id(&mut anchors, &child);
        for anchor in anchors {
            self.step()?;
            // Trust anchors are trusted for their key and name; their own basicConstraints,
            // keyUsage, pathLen, validity and critical extensions still bind, as in OpenSSL and
            // pyca/cryptography (RFC 5280 §6.1.1 (d) leaves this to the relying party).
            let checks = ca_constraints(anchor, below)
                .and_then(|()| validity(anchor, self.opts.time, false))
                .and_then(|()| critical_extensions(anchor))
                .and_then(|()| profile(anchor, Role::Anchor));
            if let Err(e) = checks {
                self.record(e);
                continue;
            }
            match self.check_sig(&child, anchor) {
                Ok(()) => {}
                Err(Stop::All) => return Err(Stop::All),
                Err(Stop::Branch) => continue,
            }
            // Whole-path rules, checked here so that a failing path lets the search try the
            // others (x509-limbo rfc5280::nc::nc-forbids-alternate-chain-ica).
            path.push(Arc::clone(anchor));
            let whole = self.whole_path(path);
            path.pop();
            match whole {
                Ok(()) => return Ok(Arc::clone(anchor)),
                Err(e @ PathError::WorkBudget(_)) => {
                    self.record(e);
                    return Err(Stop::All);
                }
                Err(e) => self.record(e),
            }
        }

        // Depth counts the leaf and the logical intermediates: self-issued certificates (key
        // rollover) do not add a level, as for pathLenConstraint (§6.1.4 (l)).
        if 1 + below >= self.opts.max_depth {
            self.record(PathError::TooDeep(self.opts.max_depth));
            return Err(Stop::Branch);
        }
        let mut candidates: Vec<&Arc<Certificate>> = self
            .pool
            .iter()
            .filter(|c| c.subject_norm == child.issuer_norm)
            .collect();
        prefer_matching_key_id(&mut candidates, &child);
        for cand in candidates {
            self.step()?;
            // A certificate (or the same key under the same name) twice on one path is a loop.
            if path.iter().any(|p| {
                p.fingerprint == cand.fingerprint
                    || (p.subject_norm == cand.subject_norm && p.spki == cand.spki)
            }) {
                continue;
            }
            let checks = validity(cand, self.opts.time, false)
                .and_then(|()| ca_constraints(cand, below))
                .and_then(|()| critical_extensions(cand))
                .and_then(|()| profile(cand, Role::Intermediate));
            if let Err(e) = checks {
                self.record(e);
                continue;
            }
            match self.check_sig(&child, cand) {
                Ok(()) => {}
                Err(Stop::All) => return Err(Stop::All),
                Err(Stop::Branch) => continue,
            }
            path.push(Arc::clone(cand));
            match self.walk(path) {
                Ok(anchor) => return Ok(anchor),
                Err(Stop::All) => return Err(Stop::All),
                Err(Stop::Branch) => {
                    path.pop();
                }
            }
        }
        self.record(PathError::NoIssuer {
            subject: child.subject.rfc4514.clone(),
            issuer: child.issuer.clone(),
        });
        Err(Stop::Branch)
    }

    /// nameConstraints and certificate policies over a complete path (leaf first, anchor last).
    fn whole_path(&mut self, path: &[Arc<Certificate>]) -> Result<(), PathError> {
        let mut left = self.opts.max_name_checks.saturating_sub(self.name_checks);
        let before = left;
        let r = super::names::check_name_constraints(path, &mut left);
        self.name_checks += before - left;
        r?;
        let leaf = || {
            path.first()
                .map(|c| c.subject.rfc4514.clone())
                .unwrap_or_default()
        };
        self.policies =
            super::policy::process_with(path, &self.opts.cert_policy, &mut self.policy_work)
                .map_err(|f| match f {
                    PolicyFailure::Budget => PathError::WorkBudget("certificate policy tree"),
                    PolicyFailure::NoValidPolicy => PathError::Policy {
                        subject: leaf(),
                        reason: "no valid policy for the path while an explicit policy is required"
                            .into(),
                    },
                    PolicyFailure::AnyPolicyMapping(k) => PathError::Policy {
                        subject: leaf(),
                        reason: format!(
                            "{} maps anyPolicy (RFC 5280 §6.1.4 (a))",
                            path.get(k)
                                .map(|c| c.subject.rfc4514.as_str())
                                .unwrap_or("a CA")
                        ),
                    },
                })?;
        Ok(())
    }

    fn step(&mut self) -> Result<(), Stop> {
        if self.steps >= self.opts.max_steps {
            self.record(PathError::Budget("path building steps"));
            return Err(Stop::All);
        }
        self.steps += 1;
        Ok(())
    }
}

/// Orders candidates so those whose subjectKeyIdentifier matches the child's
/// authorityKeyIdentifier come first (an optimisation, not a filter: RFC 5280 does not require
/// the identifiers to match).
fn prefer_matching_key_id(cands: &mut [&Arc<Certificate>], child: &Certificate) {
    if let Some(aki) = &child.ext.authority_key_id {
        cands.sort_by_key(|c| c.ext.subject_key_id.as_ref() != Some(aki));
    }
}

/// Builds and validates a path from `leaf` to one of `anchors`, using `pool` (certificates from
/// the signature and configured intermediates) as candidate issuers, outside any request (its
/// own caps only). A verification uses [`build_path_within`] with the request's budget.
pub fn build_path(
    leaf: &Arc<Certificate>,
    anchors: &TrustStore,
    pool: &[Arc<Certificate>],
    opts: &PathOptions,
) -> Result<ValidPath, PathError> {
    build_path_within(leaf, anchors, pool, opts, &super::work::Work::unlimited())
}

/// [`build_path`], charging each signature check to `work`, the request's budget.
pub fn build_path_within(
    leaf: &Arc<Certificate>,
    anchors: &TrustStore,
    pool: &[Arc<Certificate>],
    opts: &PathOptions,
    work: &super::work::Work,
) -> Result<ValidPath, PathError> {
    validity(leaf, opts.time, true)?;
    critical_extensions(leaf)?;
    if opts.usage == LeafUsage::DocumentSigning {
        if let Some(ku) = leaf.ext.key_usage {
            if ku & (key_usage::DIGITAL_SIGNATURE | key_usage::NON_REPUDIATION) == 0 {
                return Err(PathError::LeafKeyUsage {
                    subject: leaf.subject.rfc4514.clone(),
                });
            }
        }
    }
    if let Some(anchor) = anchors.find(&leaf.fingerprint) {
        return Ok(ValidPath {
            certs: vec![Arc::clone(anchor)],
            valid_from: leaf.not_before,
            valid_until: leaf.not_after,
            policies: Vec::new(),
        });
    }
    profile(leaf, Role::Leaf)?;
    leaf_key(leaf, &opts.policy)?;
    let mut search = Search {
        opts,
        anchors,
        pool,
        work,
        sig_checks: 0,
        steps: 0,
        name_checks: 0,
        policy_work: super::policy::PolicyWork::default(),
        best: None,
        policies: Vec::new(),
    };
    let mut path = vec![Arc::clone(leaf)];
    match search.walk(&mut path) {
        Ok(anchor) => {
            path.push(anchor);
            // The window in which every certificate on the path is valid, the anchor included:
            // the search checked the anchor's validity too, so a cached path must not outlive
            // it (the 2015 NCA roots expired in 2025 with CAs under them still cached).
            let valid_from = path
                .iter()
                .map(|c| c.not_before)
                .max()
                .unwrap_or(leaf.not_before);
            let valid_until = path
                .iter()
                .map(|c| c.not_after)
                .min()
                .unwrap_or(leaf.not_after);
            Ok(ValidPath {
                certs: path,
                valid_from,
                valid_until,
                policies: search.policies,
            })
        }
        Err(_) => Err(search.best.unwrap_or(PathError::NoIssuer {
            subject: leaf.subject.rfc4514.clone(),
            issuer: leaf.issuer.clone(),
        })),
    }
}

/// Cache key: the leaf, the anchor set, and every option except the time (the cached validity
/// window is checked against the time on lookup instead).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PathKey {
    leaf: [u8; 32],
    trust_version: u64,
    policy: AlgorithmPolicy,
    usage: LeafUsage,
    max_depth: usize,
    cert_policy: PolicyInputs,
}

/// Validated paths by signer certificate: a second document from the same signer skips the
/// chain's signature checks. Bounded in entries; entries also expire after `ttl`.
#[derive(Clone)]
pub struct PathCache {
    inner: Cache<PathKey, Arc<ValidPath>>,
}

impl std::fmt::Debug for PathCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PathCache")
            .field("entries", &self.inner.entry_count())
            .finish()
    }
}

impl PathCache {
    /// A cache of at most `capacity` paths, each kept at most `ttl`.
    pub fn new(capacity: u64, ttl: std::time::Duration) -> Self {
        Self {
            inner: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
        }
    }

    fn key(leaf: &Certificate, anchors: &TrustStore, opts: &PathOptions) -> PathKey {
        PathKey {
            leaf: leaf.fingerprint,
            trust_version: anchors.version(),
            policy: opts.policy,
            usage: opts.usage,
            max_depth: opts.max_depth,
            cert_policy: opts.cert_policy.clone(),
        }
    }

    /// A path validated earlier for this leaf under the same anchors and options, when the
    /// validation time falls inside its validity window.
    pub fn get(
        &self,
        leaf: &Certificate,
        anchors: &TrustStore,
        opts: &PathOptions,
    ) -> Option<Arc<ValidPath>> {
        self.inner
            .get(&Self::key(leaf, anchors, opts))
            .filter(|p| p.valid_from <= opts.time && opts.time <= p.valid_until)
    }

    /// [`build_path`], remembering a success.
    pub fn build(
        &self,
        leaf: &Arc<Certificate>,
        anchors: &TrustStore,
        pool: &[Arc<Certificate>],
        opts: &PathOptions,
        work: &super::work::Work,
    ) -> Result<Arc<ValidPath>, PathError> {
        let p = Arc::new(build_path_within(leaf, anchors, pool, opts, work)?);
        self.inner
            .insert(Self::key(leaf, anchors, opts), Arc::clone(&p));
        Ok(p)
    }

    /// Entries held now.
    pub fn len(&self) -> u64 {
        self.inner.entry_count()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    //! Clear reasons (issue 12): certificates made by OpenSSL (fixtures/pki, `fixtures/generate.sh`)
    //! with one defect put in, each reported by name.
    use super::*;
    use crate::crypto::PublicKey;
    use crate::pki::trust::parse_bundle;

    fn der(pem: &[u8]) -> Vec<u8> {
        parse_bundle(pem).expect("fixture").remove(0).der
    }

    fn opts(at: i64) -> PathOptions {
        PathOptions::new(
            at,
            AlgorithmPolicy::default(),
            LeafUsage::Any,
            &Limits::default(),
        )
    }

    /// Validates `leaf` under `int` to the fixture root of its family.
    fn validate(leaf: Certificate, int: Certificate, root: &[u8]) -> Result<ValidPath, PathError> {
        let anchors = TrustStore::new(parse_bundle(root).expect("root"));
        let at = leaf.not_before + 60;
        build_path(&Arc::new(leaf), &anchors, &[Arc::new(int)], &opts(at))
    }

    const RSA_LEAF: &[u8] = include_bytes!("../../fixtures/pki/rsa-leaf.crt");
    const RSA_INT: &[u8] = include_bytes!("../../fixtures/pki/rsa-int.crt");
    const RSA_ROOT: &[u8] = include_bytes!("../../fixtures/pki/rsa-root.crt");
    const EC_LEAF: &[u8] = include_bytes!("../../fixtures/pki/ec-leaf.crt");
    const EC_INT: &[u8] = include_bytes!("../../fixtures/pki/ec-int.crt");
    const EC_ROOT: &[u8] = include_bytes!("../../fixtures/pki/ec-root.crt");

    fn cert(pem: &[u8]) -> Certificate {
        parse_bundle(pem).expect("fixture").remove(0)
    }

    #[test]
    fn serial_numbers() {
        assert_eq!(serial_rule(&[0x01]), None);
        assert_eq!(serial_rule(&[0x00, 0x80]), None);
        assert!(serial_rule(&[0x00]).is_some_and(|r| r.contains("zero")));
        assert!(serial_rule(&[0xFF]).is_some_and(|r| r.contains("negative")));
        let mut twenty = vec![0x00, 0x80];
        twenty.extend([1; 19]);
        assert_eq!(serial_rule(&twenty), None, "20 octets and a sign octet");
        assert!(serial_rule(&[0x7F; 21]).is_some_and(|r| r.contains("20 octets")));
    }

    #[test]
    fn untouched_fixtures_validate() {
        assert!(validate(cert(RSA_LEAF), cert(RSA_INT), RSA_ROOT).is_ok());
        assert!(validate(cert(EC_LEAF), cert(EC_INT), EC_ROOT).is_ok());
    }

    #[test]
    fn inner_and_outer_signature_algorithms_differ() {
        // tbsCertificate.signature is the first sha256WithRSAEncryption OID in the DER; make it
        // sha384WithRSAEncryption (same length, still well-formed DER).
        let mut d = der(RSA_LEAF);
        let oid = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B];
        let at = d.windows(oid.len()).position(|w| w == oid).expect("oid");
        d[at + oid.len() - 1] = 0x0C;
        let leaf = Certificate::from_der(&d).expect("still parses");
        assert!(leaf.signature_algorithm_mismatch);
        let e = validate(leaf, cert(RSA_INT), RSA_ROOT).expect_err("refused");
        assert!(
            e.to_string()
                .contains("signatureAlgorithm differs from tbsCertificate.signature"),
            "{e}"
        );
    }

    #[test]
    fn ec_key_off_the_curve_or_at_infinity() {
        let mut leaf = cert(EC_LEAF);
        let Ok(PublicKey::P256(point)) = &leaf.public_key else {
            panic!("P-256 fixture");
        };
        let mut off = point.clone();
        *off.last_mut().expect("point") ^= 1;
        leaf.public_key = Ok(PublicKey::P256(off.clone()));
        let e = validate(leaf.clone(), cert(EC_INT), EC_ROOT).expect_err("refused");
        assert!(matches!(e, PathError::InvalidKey { .. }), "{e:?}");
        assert!(e.to_string().contains("not on the curve"), "{e}");

        leaf.public_key = Ok(PublicKey::P256(vec![0x00]));
        let e = validate(leaf, cert(EC_INT), EC_ROOT).expect_err("refused");
        assert!(e.to_string().contains("point at infinity"), "{e}");

        // The issuer's key off the curve: named as such, not "signature does not verify".
        let mut int = cert(EC_INT);
        int.public_key = Ok(PublicKey::P256(off));
        let e = validate(cert(EC_LEAF), int, EC_ROOT).expect_err("refused");
        assert!(
            matches!(&e, PathError::InvalidKey { subject, .. } if subject.contains("Intermediate")),
            "{e:?}"
        );
    }

    #[test]
    fn rsa_exponent_one() {
        let mut leaf = cert(RSA_LEAF);
        let Ok(PublicKey::Rsa { der: key, bits, .. }) = &leaf.public_key else {
            panic!("RSA fixture");
        };
        // RSAPublicKey { n, e }: keep n, set e = 1.
        let mut r = crate::asn1::Tlv::parse_exact(key).expect("key").reader();
        let n = r.read().expect("n").raw.to_vec();
        let mut body = n;
        body.extend_from_slice(&[0x02, 0x01, 0x01]);
        let mut e1 = vec![0x30, 0x82];
        e1.extend_from_slice(&u16::try_from(body.len()).expect("len").to_be_bytes());
        e1.extend_from_slice(&body);
        leaf.public_key = Ok(PublicKey::Rsa {
            der: e1,
            bits: *bits,
            parsed: Default::default(),
        });
        let e = validate(leaf, cert(RSA_INT), RSA_ROOT).expect_err("refused");
        assert!(e.to_string().contains("RSA public exponent 1"), "{e}");
    }

    #[test]
    fn unsupported_string_type_in_a_name() {
        // The leaf's subject CN (a UTF8String "tekser RSA Signer"-like value) retagged as
        // GeneralString (0x1B): the certificate still parses and is refused by name.
        let d = der(RSA_LEAF);
        let leaf = cert(RSA_LEAF);
        let cn_oid = [0x06, 0x03, 0x55, 0x04, 0x03];
        let subject_at = d
            .windows(leaf.subject_raw.len())
            .position(|w| w == leaf.subject_raw.as_slice())
            .expect("subject");
        let cn_at = subject_at
            + leaf
                .subject_raw
                .windows(cn_oid.len())
                .position(|w| w == cn_oid)
                .expect("CN");
        let mut patched = d.clone();
        patched[cn_at + cn_oid.len()] = 0x1B;
        let leaf = Certificate::from_der(&patched).expect("parses despite GeneralString");
        assert_eq!(leaf.subject.unsupported_strings, ["GeneralString"]);
        let e = validate(leaf, cert(RSA_INT), RSA_ROOT).expect_err("refused");
        assert!(e.to_string().contains("GeneralString"), "{e}");
    }
}
