//! nameConstraints processing (RFC 5280 §4.2.1.10, §6.1.3 (b)-(c), §6.1.4 (g)).
//!
//! Every CA on the path constrains the certificates below it: each name of a form a CA
//! constrains must lie in one of that CA's permitted subtrees of the form (when it has any) and
//! in none of the excluded subtrees of any CA. Forms: directoryName, rfc822Name (also the
//! subject's emailAddress attributes), dNSName, URI and iPAddress. A name of any other form
//! (otherName, x400Address, ediPartyName, registeredID) under a constraint of that form cannot be
//! checked, and §4.2.1.10 then says "process the constraint or reject the certificate": rejected.
//!
//! Comparisons are charged to a budget: a CA with thousands of subtrees over a leaf with
//! thousands of names is quadratic work (x509-limbo `pathological::nc-dos-*`).

use super::cert::{norm, Certificate};
use super::path::PathError;
use crate::asn1::{GeneralName, Oid};
use std::sync::Arc;

/// pkcs-9 emailAddress, which §4.2.1.10 says rfc822Name constraints also cover.
const EMAIL_ADDRESS: Oid = Oid::new_unwrap("1.2.840.113549.1.9.1");

/// Checks the whole path (leaf first, anchor last), spending at most `budget` comparisons
/// (what is left is written back).
pub fn check_name_constraints(
    path: &[Arc<Certificate>],
    budget: &mut usize,
) -> Result<(), PathError> {
    for (i, cert) in path.iter().enumerate() {
        // Self-issued intermediates are exempt; the end-entity never is (§6.1.3 (b)).
        if i > 0 && cert.is_self_issued() {
            continue;
        }
        let cas = path.iter().skip(i + 1).filter_map(|ca| {
            ca.ext
                .name_constraints
                .as_ref()
                .map(|nc| (ca.subject.rfc4514.as_str(), nc))
        });
        let names = names_of(cert);
        for (ca, nc) in cas {
            // Charged before the work: every name against every subtree of this CA.
            let cost = names
                .len()
                .saturating_mul(nc.permitted.len().saturating_add(nc.excluded.len()).max(1));
            *budget = budget
                .checked_sub(cost)
                .ok_or(PathError::WorkBudget("name constraint comparisons"))?;
            for name in &names {
                if let GeneralName::Other(_) = name {
                    let constrained = nc
                        .permitted
                        .iter()
                        .chain(&nc.excluded)
                        .any(|b| same_form(b, name));
                    if constrained {
                        return Err(PathError::NameConstraints {
                            subject: cert.subject.rfc4514.clone(),
                            name: format!(
                                "{} (a name form this validator cannot compare)",
                                describe(name, cert)
                            ),
                            ca: ca.to_owned(),
                        });
                    }
                    continue;
                }
                // A malformed DNS name cannot be placed inside or outside a subtree (§4.2.1.10
                // "all names MUST be located within the permitted namespace"; x509-limbo
                // rfc5280::nc::nc-permits-invalid-dns-san).
                if let GeneralName::Dns(d) = name {
                    let constrained = nc
                        .permitted
                        .iter()
                        .chain(&nc.excluded)
                        .any(|b| same_form(b, name));
                    if constrained && !dns_name_syntax(d) {
                        return Err(PathError::NameConstraints {
                            subject: cert.subject.rfc4514.clone(),
                            name: format!("{} (not a valid DNS name)", describe(name, cert)),
                            ca: ca.to_owned(),
                        });
                    }
                }
                let of_form: Vec<&GeneralName> =
                    nc.permitted.iter().filter(|p| same_form(p, name)).collect();
                let permitted = of_form.is_empty() || of_form.iter().any(|p| within(name, p));
                let excluded = nc
                    .excluded
                    .iter()
                    .any(|e| same_form(e, name) && (within(name, e) || wildcard_reaches(name, e)));
                if !permitted || excluded {
                    return Err(PathError::NameConstraints {
                        subject: cert.subject.rfc4514.clone(),
                        name: describe(name, cert),
                        ca: ca.to_owned(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// The names a certificate asserts: its subject (if not empty), its emailAddress attributes and
/// its subjectAltName entries.
fn names_of(c: &Certificate) -> Vec<GeneralName> {
    let mut v = Vec::new();
    if c.subject_raw != [0x30, 0x00] {
        v.push(GeneralName::Directory(c.subject_raw.clone()));
    }
    for (oid, value) in &c.subject.attrs {
        if *oid == EMAIL_ADDRESS {
            v.push(GeneralName::Email(value.clone()));
        }
    }
    v.extend(c.ext.subject_alt_names.iter().cloned());
    v
}

fn describe(n: &GeneralName, c: &Certificate) -> String {
    match n {
        GeneralName::Email(s) => format!("email {s}"),
        GeneralName::Dns(s) => format!("DNS name {s}"),
        GeneralName::Uri(s) => format!("URI {s}"),
        GeneralName::Directory(_) => format!("directory name {}", c.subject.rfc4514),
        GeneralName::Ip(ip) => format!("IP address {}", crate::asn1::hex(ip)),
        GeneralName::Other(t) => format!("name form [{t}]"),
    }
}

fn same_form(a: &GeneralName, b: &GeneralName) -> bool {
    match (a, b) {
        (GeneralName::Other(x), GeneralName::Other(y)) => x == y,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// A DNS name as a SAN may hold it (RFC 5280 §4.2.1.6, RFC 1034 §3.5): non-empty labels, no
/// leading or trailing period; a wildcard only as the whole leftmost label.
fn dns_name_syntax(d: &str) -> bool {
    let mut labels = d.split('.');
    let first_ok = match labels.next() {
        Some("*") => d.len() > 2,
        Some(l) => !l.is_empty() && !l.contains('*'),
        None => false,
    };
    first_ok && labels.all(|l| !l.is_empty() && !l.contains('*'))
}

/// The syntax RFC 5280 §4.2.1.10 gives each constraint form; a CA whose constraints break it is
/// refused rather than guessed at (x509-limbo `rfc5280::nc::invalid-*`).
pub fn check_syntax(nc: &crate::asn1::NameConstraints) -> Result<(), &'static str> {
    for base in nc.permitted.iter().chain(&nc.excluded) {
        match base {
            // "any DNS name that can be constructed by simply adding zero or more labels to the
            // left-hand side": a leading period or a wildcard is not such a name.
            GeneralName::Dns(d)
                if d.starts_with('.')
                    || d.contains('*')
                    || d.contains("..")
                    || d.ends_with('.') =>
            {
                return Err("dNSName constraint is not a DNS name (RFC 5280 §4.2.1.10)");
            }
            // "8 octets ... 32 octets": address then mask, and the mask a CIDR prefix.
            GeneralName::Ip(b) => {
                if b.len() != 8 && b.len() != 32 {
                    return Err("iPAddress constraint is not address+mask (RFC 5280 §4.2.1.10)");
                }
                let mask = b.get(b.len() / 2..).unwrap_or_default();
                let mut ones_done = false;
                for byte in mask {
                    for bit in (0..8).rev() {
                        let one = byte & (1 << bit) != 0;
                        if one && ones_done {
                            return Err(
                                "iPAddress constraint mask is not a CIDR prefix (RFC 5280 §4.2.1.10, RFC 4632)",
                            );
                        }
                        ones_done |= !one;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Is `name` inside the subtree `base` (same form)?
fn within(name: &GeneralName, base: &GeneralName) -> bool {
    use GeneralName as G;
    match (name, base) {
        (G::Directory(n), G::Directory(b)) => {
            let (n, b) = (norm(n), norm(b));
            n.starts_with(&b)
        }
        (G::Email(n), G::Email(b)) => email_within(n, b),
        (G::Dns(n), G::Dns(b)) => dns_within(n, b),
        (G::Uri(n), G::Uri(b)) => uri_host(n).is_some_and(|h| host_within(h, b)),
        (G::Ip(n), G::Ip(b)) => {
            b.len() == n.len() * 2
                && n.iter()
                    .zip(b.iter().zip(b.get(n.len()..).unwrap_or_default()))
                    .all(|(a, (net, mask))| a & mask == net & mask)
        }
        _ => false,
    }
}

/// A wildcard DNS name (`*.example.com`) would match names inside an excluded subtree under its
/// domain (`bar.example.com`): refuse it defensively (CVE-2025-61727, x509-limbo).
fn wildcard_reaches(name: &GeneralName, base: &GeneralName) -> bool {
    match (name, base) {
        (GeneralName::Dns(n), GeneralName::Dns(b)) => n
            .strip_prefix("*.")
            .is_some_and(|dom| dns_within(b.trim_start_matches('.'), dom)),
        _ => false,
    }
}

/// rfc822Name: `box@host` matches exactly, `host` matches every mailbox on that host,
/// `.domain` every mailbox on a host under the domain.
fn email_within(name: &str, base: &str) -> bool {
    let Some((local, host)) = name.rsplit_once('@') else {
        return false;
    };
    match base.rsplit_once('@') {
        Some((bl, bh)) => local == bl && host.eq_ignore_ascii_case(bh),
        None if base.starts_with('.') => ends_with_ci(host, base),
        None => host.eq_ignore_ascii_case(base),
    }
}

/// dNSName: the name itself or any name under it, on label boundaries.
fn dns_within(name: &str, base: &str) -> bool {
    let base = base.trim_start_matches('.');
    if base.is_empty() {
        return true;
    }
    name.eq_ignore_ascii_case(base)
        || (name.len() > base.len() && ends_with_ci(name, &format!(".{base}")))
}

/// URI constraints name a host (exact) or `.domain` (hosts under it).
fn host_within(host: &str, base: &str) -> bool {
    if base.starts_with('.') {
        ends_with_ci(host, base)
    } else {
        host.eq_ignore_ascii_case(base)
    }
}

fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// The host of `scheme://[userinfo@]host[:port]/…`.
fn uri_host(uri: &str) -> Option<&str> {
    let rest = uri.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split_once(']').map(|(h, _)| &h[1..])?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert!(dns_within("a.example.com", "example.com"));
        assert!(!dns_within("aexample.com", "example.com"));
        assert!(email_within("x@mail.example.com", ".example.com"));
        assert!(!email_within("x@example.com", ".example.com"));
        assert!(email_within("x@Example.com", "example.com"));
        assert_eq!(
            uri_host("http://u@h.example.com:80/p"),
            Some("h.example.com")
        );
        assert!(within(
            &GeneralName::Ip(vec![10, 1, 2, 3]),
            &GeneralName::Ip(vec![10, 0, 0, 0, 255, 0, 0, 0])
        ));
    }

    #[test]
    fn constraint_and_name_syntax() {
        use crate::asn1::NameConstraints;
        let nc = |b: GeneralName| NameConstraints {
            permitted: vec![b],
            excluded: vec![],
        };
        assert!(check_syntax(&nc(GeneralName::Dns("example.com".into()))).is_ok());
        assert!(check_syntax(&nc(GeneralName::Dns(".example.com".into()))).is_err());
        assert!(check_syntax(&nc(GeneralName::Dns("*.example.com".into()))).is_err());
        assert!(check_syntax(&nc(GeneralName::Ip(vec![10, 0, 0, 0, 255, 255, 0, 0]))).is_ok());
        // A mask with a hole, and an address without a mask.
        assert!(check_syntax(&nc(GeneralName::Ip(vec![10, 0, 0, 0, 255, 0, 255, 0]))).is_err());
        assert!(check_syntax(&nc(GeneralName::Ip(vec![10, 0, 0, 1]))).is_err());
        assert!(dns_name_syntax("a.example.com"));
        assert!(dns_name_syntax("*.example.com"));
        assert!(!dns_name_syntax(".example.com"));
        assert!(!dns_name_syntax("a..example.com"));
        assert!(!dns_name_syntax("a*.example.com"));
    }

    #[test]
    fn comparisons_are_budgeted() {
        // Charged before the work: a path whose name checks exceed the budget is refused.
        let leaf =
            crate::pki::trust::parse_bundle(include_bytes!("../../fixtures/pki/rsa-leaf.crt"))
                .expect("fixture")
                .remove(0);
        let mut ca =
            crate::pki::trust::parse_bundle(include_bytes!("../../fixtures/pki/rsa-int.crt"))
                .expect("fixture")
                .remove(0);
        ca.ext.name_constraints = Some(crate::asn1::NameConstraints {
            permitted: vec![],
            excluded: vec![GeneralName::Dns("example.org".into()); 100],
        });
        let path = [Arc::new(leaf), Arc::new(ca)];
        let mut plenty = 1_000;
        assert!(check_name_constraints(&path, &mut plenty).is_ok());
        assert!(plenty < 1_000);
        let mut little = 10;
        assert!(matches!(
            check_name_constraints(&path, &mut little),
            Err(PathError::WorkBudget(_))
        ));
    }
}
