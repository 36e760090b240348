//! Signer identity for the verdict, including the Kazakh NCA conventions (IIN, BIN, roles).

use crate::asn1::Oid;
use crate::pki::cert::Certificate;
use crate::pki::path::{PathError, ValidPath};
use crate::pki::time::format_rfc3339;
use crate::verdict::{ChainEntry, SignerReport, SubIndication};

/// X.520 serialNumber (the NCA puts `IIN` + 12 digits here).
const SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
/// X.520 organizationalUnitName (the NCA puts `BIN` + 12 digits here).
const ORG_UNIT: Oid = Oid::new_unwrap("2.5.4.11");

/// NCA role OIDs (extended key usage or policy) and their names in the verdict.
const ROLES: &[(&str, &str)] = &[
    ("1.2.398.3.3.4.1.1", "individual"),
    ("1.2.398.3.3.4.1.2", "legal-entity"),
    ("1.2.398.3.3.4.1.2.1", "ceo"),
    ("1.2.398.3.3.4.1.2.2", "signing-right"),
    ("1.2.398.3.3.4.1.2.3", "finance"),
    ("1.2.398.3.3.4.1.2.4", "hr"),
    ("1.2.398.3.3.4.1.2.5", "employee"),
    ("1.2.398.5.19.1.2.2.1", "information-system"),
];

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
        .chain(c.ext.policies.iter());
    for o in oids {
        let s = o.to_string();
        if let Some((_, name)) = ROLES.iter().find(|(oid, _)| *oid == s) {
            if !roles.iter().any(|r| r == name) {
                roles.push((*name).to_owned());
            }
        } else if s.starts_with("1.2.398.3.3.4.") && !roles.contains(&s) {
            // An NCA role we do not know by name is reported by OID.
            roles.push(s);
        }
    }
    SignerReport {
        subject: c.subject.rfc4514.clone(),
        serial: c.serial_hex(),
        issuer: c.issuer.clone(),
        iin,
        bin,
        roles,
    }
}

/// The verdict's `chain` array for a validated path.
pub(crate) fn chain_report(path: &ValidPath) -> Vec<ChainEntry> {
    let n = path.certs().len();
    path.certs()
        .iter()
        .enumerate()
        .map(|(i, c)| ChainEntry {
            subject: c.subject.rfc4514.clone(),
            serial: c.serial_hex(),
            not_before: format_rfc3339(c.not_before),
            not_after: format_rfc3339(c.not_after),
            trust_anchor: i + 1 == n,
        })
        .collect()
}

/// Maps a path failure to its sub-indication and error code (the one place this is decided).
pub(crate) fn path_error_code(e: &PathError) -> (SubIndication, &'static str) {
    match e {
        PathError::NoIssuer { .. } | PathError::Budget(_) | PathError::TooDeep(_) => {
            (SubIndication::NO_CERTIFICATE_CHAIN_FOUND, "chain-not-found")
        }
        PathError::Expired { .. } => (SubIndication::EXPIRED, "certificate-expired"),
        PathError::NotYetValid { .. } => (SubIndication::NOT_YET_VALID, "certificate-not-yet-valid"),
        PathError::LeafKeyUsage { .. } => (SubIndication::SIG_CONSTRAINTS_FAILURE, "key-usage"),
        PathError::WeakAlgorithm { .. } => (SubIndication::CRYPTO_CONSTRAINTS_FAILURE, "weak-algorithm"),
        PathError::UnsupportedAlgorithm { .. } => {
            (SubIndication::CRYPTO_CONSTRAINTS_FAILURE, "unsupported-algorithm")
        }
        PathError::NotCa { .. }
        | PathError::CaKeyUsage { .. }
        | PathError::PathLen { .. }
        | PathError::UnknownCriticalExtension { .. }
        | PathError::Profile { .. }
        | PathError::NameConstraints { .. }
        | PathError::BadSignature { .. } => (SubIndication::CHAIN_CONSTRAINTS_FAILURE, "chain-constraints"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kz_numbers_need_twelve_digits() {
        assert_eq!(kz_number("IIN123456789012", "IIN").as_deref(), Some("123456789012"));
        assert_eq!(kz_number("IIN12345", "IIN"), None);
        assert_eq!(kz_number("BIN12345678901a", "BIN"), None);
    }
}
