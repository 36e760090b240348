//! Signer identity for the verdict, including the Kazakh NCA conventions (IIN, BIN, roles).

use crate::asn1::Oid;
use crate::pki::builtin::DEMO_WARNING;
use crate::pki::cert::Certificate;
use crate::pki::path::{PathError, ValidPath};
use crate::pki::trust::TrustStore;
use crate::verdict::{ChainEntry, SignatureReport, SignerReport, SubIndication};

/// X.520 serialNumber (the NCA puts `IIN` + 12 digits here).
const SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
/// X.520 organizationalUnitName (the NCA puts `BIN` + 12 digits here).
const ORG_UNIT: Oid = Oid::new_unwrap("2.5.4.11");

/// NCA role OIDs (extended key usage or policy) and their names in the verdict.
const ROLES: &[(Oid, &str)] = &[
    (Oid::new_unwrap("1.2.398.3.3.4.1.1"), "individual"),
    (Oid::new_unwrap("1.2.398.3.3.4.1.2"), "legal-entity"),
    (Oid::new_unwrap("1.2.398.3.3.4.1.2.1"), "ceo"),
    (Oid::new_unwrap("1.2.398.3.3.4.1.2.2"), "signing-right"),
    (Oid::new_unwrap("1.2.398.3.3.4.1.2.3"), "finance"),
    (Oid::new_unwrap("1.2.398.3.3.4.1.2.4"), "hr"),
    (Oid::new_unwrap("1.2.398.3.3.4.1.2.5"), "employee"),
    (
        Oid::new_unwrap("1.2.398.5.19.1.2.2.1"),
        "information-system",
    ),
];

/// id-kp-clientAuth: the NCA's authentication certificates carry it.
const KP_CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
/// id-kp-emailProtection: the NCA's signing certificates carry it.
const KP_EMAIL_PROTECTION: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.4");

/// What a key is for, from keyUsage and extended key usage. The NCA issues every person two
/// keys: AUTH (digitalSignature + keyEncipherment, clientAuth) for logging in, and RSA/GOST SIGN
/// (digitalSignature + nonRepudiation, emailProtection) for signing documents.
pub fn key_purpose(c: &Certificate) -> &'static str {
    use crate::pki::cert::key_usage as ku;
    let usage = c.ext.key_usage.unwrap_or(0);
    let eku = c.ext.ext_key_usage.as_deref().unwrap_or_default();
    let sign = usage & ku::NON_REPUDIATION != 0 || eku.contains(&KP_EMAIL_PROTECTION);
    // The NCA's GOST 2015 signing keys also carry keyAgreement (for GOST key exchange): only an
    // encipherment/agreement key *without* a signing mark counts as an authentication key.
    let auth = eku.contains(&KP_CLIENT_AUTH)
        || (!sign && usage & (ku::KEY_ENCIPHERMENT | ku::KEY_AGREEMENT) != 0);
    match (sign, auth) {
        (true, false) => "signing",
        (false, true) => "authentication",
        (true, true) => "signing-and-authentication",
        (false, false) => "unspecified",
    }
}

/// id-kp-timeStamping, id-kp-OCSPSigning and anyExtendedKeyUsage (RFC 5280 §4.2.1.12).
const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
const KP_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");
const ANY_EKU: Oid = Oid::new_unwrap("2.5.29.37.0");

/// A key whose extended key usage names only a service's purposes (a TSA's time-stamping, an
/// OCSP responder's signing): RFC 3161 §2.3 and RFC 6960 §4.2.2.2 reserve such keys for that
/// service, so a document signed with one is not signed by a person or organisation.
pub fn service_only_key(c: &Certificate) -> bool {
    let Some(eku) = c.ext.ext_key_usage.as_deref() else {
        return false;
    };
    !eku.is_empty()
        && !eku.contains(&ANY_EKU)
        && eku
            .iter()
            .all(|o| *o == KP_TIME_STAMPING || *o == KP_OCSP_SIGNING)
}

/// The NCA's arc for role OIDs; unknown roles under it are reported by OID.
const NCA_ROLE_ARC: &[u8] = &[0x2a, 0x83, 0x0e, 0x03, 0x03, 0x04];

fn kz_number(value: &str, prefix: &str) -> Option<String> {
    let digits = value.strip_prefix(prefix)?;
    (digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.to_owned())
}

/// The verdict's `signer` object for a certificate.
pub fn signer_report(c: &Certificate) -> SignerReport {
    let iin = c
        .subject_attrs(&SERIAL_NUMBER)
        .find_map(|v| kz_number(v, "IIN"));
    let bin = c.subject_attrs(&ORG_UNIT).find_map(|v| kz_number(v, "BIN"));
    let mut roles = Vec::new();
    let oids = c
        .ext
        .ext_key_usage
        .iter()
        .flatten()
        .chain(c.ext.policies.iter().flatten());
    for o in oids {
        if let Some((_, name)) = ROLES.iter().find(|(oid, _)| oid == o) {
            if !roles.iter().any(|r| r == name) {
                roles.push((*name).to_owned());
            }
        } else if o.as_bytes().starts_with(NCA_ROLE_ARC) {
            let s = o.to_string();
            if !roles.contains(&s) {
                roles.push(s);
            }
        }
    }
    SignerReport {
        subject: c.subject.rfc4514.clone(),
        serial: c.serial_hex(),
        issuer: c.issuer.clone(),
        iin,
        bin,
        roles,
        key_purpose: key_purpose(c).to_owned(),
    }
}

/// Fills the report's `chain` array from a validated path; a path that ends at a demo anchor
/// (private key public) gets the warning that says anyone could have made it.
pub(crate) fn set_chain(report: &mut SignatureReport, path: &ValidPath, trust: &TrustStore) {
    let n = path.certs().len();
    report.chain = path
        .certs()
        .iter()
        .enumerate()
        .map(|(i, c)| ChainEntry {
            subject: c.subject.rfc4514.clone(),
            serial: c.serial_hex(),
            not_before: c.validity_text.0.clone(),
            not_after: c.validity_text.1.clone(),
            trust_anchor: i + 1 == n,
        })
        .collect();
    report.policies = path.policies.iter().map(ToString::to_string).collect();
    if path
        .certs()
        .last()
        .is_some_and(|a| trust.is_demo(&a.fingerprint))
    {
        report.warnings.push(DEMO_WARNING.to_owned());
    }
}

/// Maps a path failure to its sub-indication and error code (the one place this is decided).
/// `poe`: the validation time is a proof of existence (a verified time-stamp's genTime), not
/// just the time asked about.
///
/// ETSI EN 319 102-1 §5.2.6: a certificate outside its validity at the validation time, with
/// no proof of existence from inside it, is INDETERMINATE / OUT_OF_BOUNDS_NO_POE — a genuine
/// 2020 document checked today is not a forgery. A proof that the signature existed *before*
/// notBefore fails it (NOT_YET_VALID); existing after notAfter proves nothing about when it was
/// made, so expiry stays OUT_OF_BOUNDS_NO_POE even then.
pub(crate) fn path_error_code(e: &PathError, poe: bool) -> (SubIndication, &'static str) {
    match e {
        PathError::NoIssuer { .. }
        | PathError::Budget(_)
        | PathError::WorkBudget(_)
        | PathError::TooDeep(_) => (SubIndication::NO_CERTIFICATE_CHAIN_FOUND, "chain-not-found"),
        PathError::Expired { .. } => (SubIndication::OUT_OF_BOUNDS_NO_POE, "certificate-expired"),
        PathError::NotYetValid { .. } if poe => {
            (SubIndication::NOT_YET_VALID, "certificate-not-yet-valid")
        }
        PathError::NotYetValid { .. } => (
            SubIndication::OUT_OF_BOUNDS_NO_POE,
            "certificate-not-yet-valid",
        ),
        PathError::LeafKeyUsage { .. } => (SubIndication::SIG_CONSTRAINTS_FAILURE, "key-usage"),
        PathError::WeakAlgorithm { .. } => {
            (SubIndication::CRYPTO_CONSTRAINTS_FAILURE, "weak-algorithm")
        }
        PathError::InvalidKey { .. } => (
            SubIndication::CRYPTO_CONSTRAINTS_FAILURE,
            "invalid-public-key",
        ),
        PathError::UnsupportedAlgorithm { .. } => (
            SubIndication::CRYPTO_CONSTRAINTS_FAILURE,
            "unsupported-algorithm",
        ),
        PathError::NotCa { .. }
        | PathError::CaKeyUsage { .. }
        | PathError::PathLen { .. }
        | PathError::UnknownCriticalExtension { .. }
        | PathError::Profile { .. }
        | PathError::NameConstraints { .. }
        | PathError::Policy { .. }
        | PathError::BadSignature { .. } => (
            SubIndication::CHAIN_CONSTRAINTS_FAILURE,
            "chain-constraints",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kz_numbers_need_twelve_digits() {
        assert_eq!(
            kz_number("IIN123456789012", "IIN").as_deref(),
            Some("123456789012")
        );
        assert_eq!(kz_number("IIN12345", "IIN"), None);
        assert_eq!(kz_number("BIN12345678901a", "BIN"), None);
    }
}
