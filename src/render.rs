//! The verdict for people (issue #16 "The human output answers the question"): the bottom line
//! first, in words (VALID / NOT VALID / CANNOT CONFIRM), then each signature: who, when and
//! how that time is known, the algorithm by name, for PDFs the field and what it covers, the
//! chain and revocation, and the warnings once each, saying which certificate they are about.
//!
//! Everything here reads the verdict only; nothing decides anything. Every string that came
//! from the input goes through [`escape_text`].

use crate::cli::escape_text as esc;
use std::fmt::Write;
use tekser::verdict::{Format, Indication, SignatureReport, SubIndication, Verdict};

/// The human-readable verdict.
pub fn render(v: &Verdict) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", bottom_line(v));
    let _ = writeln!(out);
    let sigs = v.signatures.len();
    let _ = writeln!(
        out,
        "  input:       {}{}",
        format_name(v.format),
        match sigs {
            0 => String::new(),
            1 => ", 1 signature".to_owned(),
            n => format!(", {n} signatures"),
        }
    );
    if let Some(t) = &v.validation_time {
        let _ = writeln!(
            out,
            "  checked at:  {} ({})",
            esc(&date(t)),
            match v.validation_time_source.as_deref() {
                Some("at") => "the time asked for with --at",
                Some("timestamp") => "the time proven by the signature time-stamp",
                Some("document-timestamp") => "the time proven by a document time-stamp",
                _ => "now",
            }
        );
    }
    let _ = writeln!(
        out,
        "  result:      {}",
        indication_text(v.indication(), v.sub_indication())
    );
    for e in &v.errors {
        let _ = writeln!(out, "  problem:     {} [{}]", esc(&e.message), e.code);
    }
    if let Some(doc) = &v.document {
        let _ = writeln!(out, "  document (signed fields):");
        document_fields(&mut out, doc, "    ");
    }
    if let Some(u) = &v.unsigned {
        let _ = writeln!(
            out,
            "  NOT signed (read beside the document, no signature covers these):"
        );
        document_fields(&mut out, u, "    ");
    }
    for (i, s) in v.signatures.iter().enumerate() {
        let _ = writeln!(out);
        signature(&mut out, s, i + 1, sigs);
    }
    out
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Cms => "CMS / PKCS#7 signature",
        Format::Chain => "certificate",
        Format::Xmldsig => "signed XML document",
        Format::EgovBarcode => "egov.kz e-certificate (QR codes)",
        Format::DdcBarcode => "SIGEX document card (QR codes)",
        Format::Hc1 => "EU digital COVID certificate",
        Format::Pdf => "signed PDF",
    }
}

fn indication_text(i: Indication, sub: Option<SubIndication>) -> String {
    let main = match i {
        Indication::TOTAL_PASSED => "TOTAL_PASSED",
        Indication::TOTAL_FAILED => "TOTAL_FAILED",
        Indication::INDETERMINATE => "INDETERMINATE",
    };
    match sub {
        Some(s) => format!("{main} / {s:?}"),
        None => main.to_owned(),
    }
}

/// The first line: the answer in words.
pub(crate) fn bottom_line(v: &Verdict) -> String {
    // The document's own signatures; a PDF document time-stamp is a witness, not a signer.
    let signers: Vec<&SignatureReport> = v
        .signatures
        .iter()
        .filter(|s| !is_doc_timestamp(s))
        .collect();
    match v.indication() {
        Indication::TOTAL_PASSED => {
            let Some(first) = signers.first().copied().or(v.signatures.first()) else {
                return "VALID".to_owned();
            };
            let what = if v.format == Format::Chain {
                "certificate of"
            } else {
                "signed by"
            };
            let mut line = format!("VALID — {what} {}", who(first));
            if v.format != Format::Chain {
                match when(first, &v.signatures) {
                    When::Proven(t, tsa) => {
                        let _ = write!(
                            line,
                            ", on {} (time proven by {})",
                            esc(&date(&t)),
                            esc(&short_name(&tsa))
                        );
                    }
                    When::Claimed(t) => {
                        let _ = write!(
                            line,
                            ", on {} (claimed by the signer, not proven)",
                            esc(&date(&t))
                        );
                    }
                    // An e-certificate's signed document carries its own issue date.
                    When::Unknown => match v
                        .document
                        .as_ref()
                        .and_then(|d| d.get("response_date"))
                        .and_then(|d| d.as_str())
                    {
                        Some(d) => {
                            let _ = write!(
                                line,
                                ", issued on {} (the date in the signed document, not proven)",
                                esc(&d.replacen('T', " ", 1))
                            );
                        }
                        None => line.push_str(" (no signing time given)"),
                    },
                }
            }
            if signers.len() > 1 {
                let _ = write!(
                    line,
                    "; and {} more signature(s), all valid",
                    signers.len() - 1
                );
            }
            // Allowed changes after a signature (a form filled, an annotation drawn over the
            // page) are part of what the reader sees: the bottom line says so, not only a
            // warning further down.
            if changed_after_signing(v) {
                line.push_str(
                    "; the document was changed after signing in ways the signature permits (see below)",
                );
            }
            line
        }
        Indication::TOTAL_FAILED => format!("NOT VALID — {}", failure_reason(v)),
        Indication::INDETERMINATE => format!("CANNOT CONFIRM — {}", failure_reason(v)),
    }
}

/// Whether a verdict's signatures were followed by permitted changes a reader sees on the page
/// (filled fields, redrawn appearances, annotations, overlays): the document shown is not only
/// what was signed.
pub(crate) fn changed_after_signing(v: &Verdict) -> bool {
    v.signatures
        .iter()
        .filter(|s| !is_doc_timestamp(s))
        .any(|s| {
            s.pdf.as_ref().is_some_and(|p| {
                p.allowed_changes
                    .iter()
                    .any(|c| VISIBLE_CHANGES.contains(&c.as_str()))
            }) || s
                .warnings
                .iter()
                .any(|w| w.contains("overlay") || w.contains("drawn over"))
        })
}

/// Allowed changes (src/formats/pdf/changes.rs) that alter what a reader sees on the page;
/// the others (a signature or time-stamp added, the lists and dictionaries that record it,
/// validation data, metadata) are bookkeeping.
const VISIBLE_CHANGES: &[&str] = &[
    "form field filled",
    "form field appearance updated",
    "annotation added",
];

/// Why a verdict did not pass, from the deciding signature (or the document's errors).
fn failure_reason(v: &Verdict) -> String {
    let deciding = v
        .signatures
        .iter()
        .find(|s| s.indication() == v.indication() && s.sub_indication() == v.sub_indication());
    let sub = v.sub_indication();
    let first_error = deciding
        .and_then(|s| s.errors.first())
        .or(v.errors.first())
        .map(|e| e.message.clone())
        .unwrap_or_default();
    let n = v.signatures.len();
    let which = match (deciding, n) {
        (Some(s), n) if n > 1 => {
            let pos = v
                .signatures
                .iter()
                .position(|x| std::ptr::eq(x, s))
                .map_or(0, |p| p + 1);
            format!(
                " (signature {pos} of {n}{})",
                s.signer
                    .as_ref()
                    .map(|x| format!(", {}", short_name(&x.subject)))
                    .unwrap_or_default()
            )
        }
        _ => String::new(),
    };
    let reason = match sub {
        Some(SubIndication::HASH_FAILURE) => {
            let changes = deciding
                .and_then(|s| s.pdf.as_ref())
                .map(|p| p.disallowed_changes.join("; "))
                .filter(|c| !c.is_empty());
            format!(
                "the document was changed after signing: {}",
                changes.unwrap_or(first_error)
            )
        }
        Some(SubIndication::SIG_CRYPTO_FAILURE) => {
            format!("the signature does not match the signer's key: {first_error}")
        }
        Some(SubIndication::REVOKED) => format!("the signer's certificate is revoked: {first_error}"),
        Some(SubIndication::FORMAT_FAILURE) => {
            format!("the input is not a readable {}: {first_error}", format_name(v.format))
        }
        Some(SubIndication::NO_CERTIFICATE_CHAIN_FOUND) => {
            format!("the certificate chain does not reach a trusted root: {}", missing_root(&first_error))
        }
        Some(SubIndication::NO_SIGNING_CERTIFICATE_FOUND) => {
            format!("the signer's certificate is not in the signature nor given: {first_error}")
        }
        Some(SubIndication::OUT_OF_BOUNDS_NO_POE) => format!(
            "a certificate was not valid at the validation time and no time-stamp proves the signature is older: {first_error}"
        ),
        Some(SubIndication::TRY_LATER) => {
            format!("the revocation status could not be obtained: {first_error}")
        }
        // The core's message names --content (and the HTTP part).
        Some(SubIndication::SIGNED_DATA_NOT_FOUND) => first_error,
        Some(SubIndication::CRYPTO_CONSTRAINTS_FAILURE) => {
            format!("an algorithm is refused or not supported: {first_error}")
        }
        _ => first_error,
    };
    let reason = match deciding {
        Some(s) => about_certificates(&reason, s),
        None => reason,
    };
    format!("{}{which}", esc(&reason))
}

/// "no certificate chain … for S: its issuer I is not a trust anchor …" → names I as the root
/// the chain would need (the path error carries the missing issuer's name).
fn missing_root(msg: &str) -> String {
    match msg
        .split_once(": its issuer ")
        .and_then(|(_, rest)| rest.split_once(" is not a trust anchor"))
    {
        // about_certificates then shortens a name it knows (the signer's issuer) to its CN.
        Some((issuer, _)) => {
            format!("it would need the root {issuer} as a trust anchor (--trust)")
        }
        None => msg.to_owned(),
    }
}

fn is_doc_timestamp(s: &SignatureReport) -> bool {
    s.pdf
        .as_ref()
        .is_some_and(|p| p.kind == "document-timestamp")
}

/// "Name, IIN …, for Org (BIN …)".
fn who(s: &SignatureReport) -> String {
    let Some(signer) = &s.signer else {
        return "an unknown signer".to_owned();
    };
    let mut w = short_name(&signer.subject);
    if let Some(iin) = &signer.iin {
        let _ = write!(w, ", IIN {iin}");
    }
    if let Some(org) = rdn(&signer.subject, "O") {
        let _ = write!(w, ", for {org}");
    }
    if let Some(bin) = &signer.bin {
        let _ = write!(w, " (BIN {bin})");
    }
    esc(&w).into_owned()
}

enum When {
    Proven(String, String),
    Claimed(String),
    Unknown,
}

/// When the signature was made, and how that is known: its own verified time-stamp, a verified
/// PDF document time-stamp over a later revision, or only the signer's own claim.
fn when(s: &SignatureReport, all: &[SignatureReport]) -> When {
    if let Some(t) = s.timestamp.as_ref().filter(|t| t.valid) {
        return When::Proven(t.gen_time.clone(), t.tsa.clone());
    }
    if let Some(rev) = s.pdf.as_ref().and_then(|p| p.revision) {
        let witness = all.iter().find(|d| {
            is_doc_timestamp(d)
                && d.indication() == Indication::TOTAL_PASSED
                && d.pdf
                    .as_ref()
                    .and_then(|p| p.revision)
                    .is_some_and(|r| r > rev)
        });
        if let Some(t) = witness
            .and_then(|d| d.timestamp.as_ref())
            .filter(|t| t.valid)
        {
            // Proves existence before genTime, not the signing moment: say "by".
            return When::Proven(format!("or before {}", date(&t.gen_time)), t.tsa.clone());
        }
    }
    if let Some(t) = &s.signing_time {
        return When::Claimed(t.clone());
    }
    if let Some(m) = s
        .pdf
        .as_ref()
        .and_then(|p| p.claimed_signing_time.as_deref())
    {
        return When::Claimed(pdf_date(m));
    }
    When::Unknown
}

fn signature(out: &mut String, s: &SignatureReport, n: usize, of: usize) {
    let status = match s.indication() {
        Indication::TOTAL_PASSED => "valid",
        Indication::TOTAL_FAILED => "NOT VALID",
        Indication::INDETERMINATE => "cannot be confirmed",
    };
    let kind = if is_doc_timestamp(s) {
        "Document time-stamp"
    } else {
        "Signature"
    };
    let _ = writeln!(
        out,
        "{kind} {n} of {of}: {status} ({})",
        indication_text(s.indication(), s.sub_indication())
    );
    if let Some(signer) = &s.signer {
        let label = if is_doc_timestamp(s) {
            "stamped by"
        } else {
            "signed by"
        };
        let _ = writeln!(out, "  {label:<12} {}", who(s));
        let _ = writeln!(out, "  {:<12} {}", "subject", esc(&signer.subject));
        let _ = writeln!(
            out,
            "  {:<12} {} (serial {})",
            "issued by",
            esc(&signer.issuer),
            esc(&signer.serial)
        );
        if !signer.roles.is_empty() {
            let _ = writeln!(out, "  {:<12} {}", "roles", esc(&signer.roles.join(", ")));
        }
        if signer.key_purpose != "signing" && !signer.key_purpose.is_empty() {
            let _ = writeln!(out, "  {:<12} {}", "key for", esc(&signer.key_purpose));
        }
    }
    if let Some(a) = &s.algorithm {
        let _ = writeln!(out, "  {:<12} {}", "algorithm", esc(&algorithm_name(a)));
    }
    if let Some(p) = &s.pdf {
        let kind = match (p.kind.as_str(), p.docmdp) {
            ("certification", Some(l)) => format!(
                "certification signature, level {l} ({})",
                match l {
                    1 => "no changes allowed",
                    2 => "form filling and signing allowed",
                    _ => "form filling, signing and annotations allowed",
                }
            ),
            ("certification", None) => "certification signature".to_owned(),
            ("document-timestamp", _) => "document time-stamp".to_owned(),
            ("approval", _) => "approval signature".to_owned(),
            (other, _) => other.to_owned(),
        };
        let _ = writeln!(out, "  {:<12} \"{}\", {kind}", "field", esc(&p.field));
        let covers = if p.covers_whole_document {
            "the whole document".to_owned()
        } else {
            match p.revision {
                Some(r) => format!(
                    "revision {r} of {} (the document was extended after this signature)",
                    p.revisions
                ),
                None => "no sound byte range".to_owned(),
            }
        };
        let _ = writeln!(out, "  {:<12} {covers}", "covers");
        for c in &p.allowed_changes {
            let _ = writeln!(out, "  {:<12} {} (permitted)", "changed after", esc(c));
        }
        for c in &p.disallowed_changes {
            let _ = writeln!(out, "  {:<12} {} (NOT permitted)", "changed after", esc(c));
        }
        if let Some(r) = &p.reason {
            let _ = writeln!(out, "  {:<12} {}", "reason", esc(r));
        }
        if let Some(l) = &p.location {
            let _ = writeln!(out, "  {:<12} {}", "location", esc(l));
        }
        if let Some(nm) = &p.name {
            let _ = writeln!(out, "  {:<12} {}", "name", esc(nm));
        }
        if let Some(m) = &p.claimed_signing_time {
            let _ = writeln!(
                out,
                "  {:<12} {} (the signer's software says so; not proven)",
                "claimed time",
                esc(&pdf_date(m))
            );
        }
    }
    if let Some(d) = &s.signed_data {
        let _ = writeln!(out, "  {:<12} {}", "covers", esc(&d.to_string()));
    }
    if let Some(t) = &s.signing_time {
        let _ = writeln!(
            out,
            "  {:<12} {} (signingTime, as the signer says; not proven)",
            "signed at",
            esc(&date(t))
        );
    }
    if let Some(t) = &s.timestamp {
        let _ = writeln!(
            out,
            "  {:<12} {} by {}{}",
            "time-stamp",
            esc(&date(&t.gen_time)),
            esc(&short_name(&t.tsa)),
            if t.valid {
                " (verified: proves the signature existed then)"
            } else {
                " (NOT usable)"
            }
        );
    }
    if let Some(c) = &s.claimed_time {
        let _ = writeln!(
            out,
            "  {:<12} the document says it was signed at {} ({}): {}; nothing independent proves that time",
            "claimed",
            esc(&date(&c.time)),
            esc(&c.source),
            if c.chain_valid {
                "the certificate chain was valid then".to_owned()
            } else {
                format!("the chain was not valid then either ({})", esc(c.reason.as_deref().unwrap_or("no reason given")))
            }
        );
    }
    if s.chain.is_empty() {
        if s.signer.is_some() {
            let _ = writeln!(out, "  {:<12} none reaches a trust anchor", "chain");
        }
    } else {
        for (j, c) in s.chain.iter().enumerate() {
            let label = if j == 0 { "chain" } else { "" };
            let arrow = if j == 0 { "" } else { "<- " };
            let _ = writeln!(
                out,
                "  {label:<12} {arrow}{}  valid {} .. {}{}",
                esc(&short_name(&c.subject)),
                esc(&date(&c.not_before)),
                esc(&date(&c.not_after)),
                if c.trust_anchor {
                    "  (trust anchor)"
                } else {
                    ""
                }
            );
        }
    }
    let about = s
        .signer
        .as_ref()
        .map(|x| short_name(&x.subject))
        .unwrap_or_else(|| "the signer".to_owned());
    let r = &s.revocation;
    let rev = match (r.status.as_str(), r.source.as_str()) {
        ("unchecked", _) => "not checked".to_owned(),
        (st, src) => {
            let mut t = format!("{st} ({})", source_name(src));
            if let Some(p) = &r.produced_at {
                let _ = write!(t, ", produced {}", date(p));
            }
            if let Some(at) = &r.revoked_at {
                let _ = write!(t, ", revoked at {}", date(at));
            }
            t
        }
    };
    let _ = writeln!(
        out,
        "  {:<12} {} (the signer's certificate, {})",
        "revocation",
        esc(&rev),
        esc(&about)
    );
    for w in dedup(&s.warnings) {
        let _ = writeln!(out, "  warning:     {}", esc(&about_certificates(&w, s)));
    }
    for e in &s.errors {
        let _ = writeln!(
            out,
            "  problem:     {} [{}]",
            esc(&about_certificates(&e.message, s)),
            e.code
        );
    }
}

fn source_name(s: &str) -> &str {
    match s {
        "ocsp" => "OCSP, fetched",
        "crl" => "CRL",
        "embedded" => "revocation data embedded in the document",
        "cache" => "cached answer",
        other => other,
    }
}

/// Warnings in their first order, each once.
fn dedup(ws: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ws.iter()
        .filter(|w| seen.insert(w.as_str()))
        .cloned()
        .collect()
}

/// Replaces each full certificate name of the chain (or the signer) in `text` by its short
/// name in quotes, and splits a per-certificate list ("A: why; B: why") into one clause per
/// certificate, so each says which certificate it is about without repeating long names.
fn about_certificates(text: &str, s: &SignatureReport) -> String {
    let mut names: Vec<&str> = s.chain.iter().map(|c| c.subject.as_str()).collect();
    if let Some(signer) = &s.signer {
        names.push(&signer.subject);
        names.push(&signer.issuer);
    }
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.dedup();
    let mut t = text.to_owned();
    for n in names.iter().filter(|n| n.contains('=')) {
        let short = format!("\"{}\"", short_name(n));
        // "X: X names …" (a cause that repeats its subject) says X once.
        t = t.replace(&format!("{n}: {n} "), &format!("{short}: "));
        t = t.replace(&format!("; {n}: "), &format!("; certificate {short}: "));
        t = t.replace(&format!(": {n}: "), &format!(": certificate {short}: "));
        t = t.replace(n, &short);
    }
    t
}

/// A distinguished name's CN (else O, else the whole name).
fn short_name(dn: &str) -> String {
    rdn(dn, "CN")
        .or_else(|| rdn(dn, "O"))
        .unwrap_or_else(|| dn.to_owned())
}

/// The value of attribute `key` in an RFC 4514 string (escaped commas respected).
fn rdn(dn: &str, key: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in dn.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' || c == '+' {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts.iter().find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().to_owned())
    })
}

/// RFC 3339 → "2026-11-25 23:05:44 UTC" (other text unchanged).
fn date(t: &str) -> String {
    match tekser::pki::time::parse_rfc3339(t) {
        Ok(secs) => {
            let s = tekser::pki::time::format_rfc3339(secs);
            s.replace('T', " ").trim_end_matches('Z').to_owned() + " UTC"
        }
        Err(_) => t.to_owned(),
    }
}

/// A PDF date (`D:YYYYMMDDHHmmSSOHH'mm'`, ISO 32000-1 §7.9.4) as a readable date; anything
/// that does not parse is shown as written.
fn pdf_date(d: &str) -> String {
    let s = d.strip_prefix("D:").unwrap_or(d);
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return d.to_owned();
    }
    let part = |a: usize, b: usize, default: &str| digits.get(a..b).unwrap_or(default).to_owned();
    let rest = s.get(digits.len()..).unwrap_or_default();
    let zone = match rest.chars().next() {
        Some('Z') | None => "UTC".to_owned(),
        Some(sign @ ('+' | '-')) => {
            let z: String = rest.chars().skip(1).filter(char::is_ascii_digit).collect();
            format!(
                "UTC{sign}{}:{}",
                z.get(0..2).unwrap_or("00"),
                z.get(2..4).unwrap_or("00")
            )
        }
        Some(_) => return d.to_owned(),
    };
    format!(
        "{}-{}-{} {}:{}:{} {zone}",
        part(0, 4, "0000"),
        part(4, 6, "01"),
        part(6, 8, "01"),
        part(8, 10, "00"),
        part(10, 12, "00"),
        part(12, 14, "00")
    )
}

/// Algorithm names for people: tekser's short names and the OIDs a verdict may carry.
pub fn algorithm_name(a: &str) -> String {
    // "X (content digest Y)" and "SIG_OID with digest DIGEST_OID" are pairs.
    if let Some((sig, d)) = a.split_once(" (content digest ") {
        return format!(
            "{} (content hashed with {})",
            algorithm_name(sig),
            digest_name(d.trim_end_matches(')'))
        );
    }
    if let Some((sig, d)) = a.split_once(" with digest ") {
        return format!("{} with digest {}", oid_name(sig), digest_name(d));
    }
    let known = match a {
        "rsa-pkcs1-sha1" => "SHA-1 with RSA",
        "rsa-pkcs1-sha256" => "SHA-256 with RSA",
        "rsa-pkcs1-sha384" => "SHA-384 with RSA",
        "rsa-pkcs1-sha512" => "SHA-512 with RSA",
        "rsa-pss-sha256" => "RSA-PSS with SHA-256",
        "rsa-pss-sha384" => "RSA-PSS with SHA-384",
        "rsa-pss-sha512" => "RSA-PSS with SHA-512",
        "ecdsa-p256-sha256" => "ECDSA P-256 with SHA-256",
        "ecdsa-p256-sha384" => "ECDSA P-256 with SHA-384",
        "ecdsa-p384-sha256" => "ECDSA P-384 with SHA-256",
        "ecdsa-p384-sha384" => "ECDSA P-384 with SHA-384",
        "ed25519" => "Ed25519",
        "gost3410-2015-512" => "GOST R 34.10-2015 (512-bit) with Streebog-512",
        "gost3410-2015-256" => "GOST R 34.10-2015 (256-bit) with Streebog-256",
        "gost3410-2012-512" => "GOST R 34.10-2012 (512-bit) with Streebog-512",
        "gost3410-2012-256" => "GOST R 34.10-2012 (256-bit) with Streebog-256",
        "gost34310-2004" => "GOST 34.310-2004 with GOST 34.311-95",
        "gost3410-2001" => "GOST R 34.10-2001 with GOST R 34.11-94",
        _ => return oid_name(a),
    };
    known.to_owned()
}

fn digest_name(d: &str) -> String {
    // An OID is named by the crypto layer's own table (the Kazakh OIDs included), so the two
    // cannot drift; the short name is then spelled for people.
    let short = d
        .parse::<tekser::asn1::Oid>()
        .ok()
        .and_then(|o| tekser::crypto::DigestAlgorithm::from_oid(&o).ok())
        .map_or(d, |a| a.name());
    match short {
        "md5" => "MD5".into(),
        "sha1" => "SHA-1".into(),
        "sha256" => "SHA-256".into(),
        "sha384" => "SHA-384".into(),
        "sha512" => "SHA-512".into(),
        "streebog256" => "Streebog-256".into(),
        "streebog512" => "Streebog-512".into(),
        "gost34311" => "GOST 34.311-95".into(),
        "gostr3411-94" => "GOST R 34.11-94".into(),
        other => format!("OID {other}"),
    }
}

/// Signature algorithm OIDs (RFC 4055, RFC 5758, RFC 8410, RFC 9215, Kazakh NCA) by name;
/// an unknown one stays visible as "algorithm OID …".
fn oid_name(o: &str) -> String {
    let n = match o {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.113549.1.1.5" => "SHA-1 with RSA",
        "1.2.840.113549.1.1.11" => "SHA-256 with RSA",
        "1.2.840.113549.1.1.12" => "SHA-384 with RSA",
        "1.2.840.113549.1.1.13" => "SHA-512 with RSA",
        "1.2.840.113549.1.1.10" => "RSA-PSS",
        "1.2.840.10045.4.3.2" => "ECDSA with SHA-256",
        "1.2.840.10045.4.3.3" => "ECDSA with SHA-384",
        "1.2.840.10045.4.3.4" => "ECDSA with SHA-512",
        "1.2.840.10045.2.1" => "ECDSA",
        "1.3.101.112" => "Ed25519",
        "1.2.643.7.1.1.3.2" => "GOST R 34.10-2012 (256-bit) with Streebog-256",
        "1.2.643.7.1.1.3.3" => "GOST R 34.10-2012 (512-bit) with Streebog-512",
        "1.2.643.7.1.1.1.1" => "GOST R 34.10-2012 (256-bit)",
        "1.2.643.7.1.1.1.2" => "GOST R 34.10-2012 (512-bit)",
        "1.2.398.3.10.1.1.1.2" => "GOST 34.310-2004 with GOST 34.311-95",
        "1.2.398.3.10.1.1.2.3.2" => "GOST R 34.10-2015 (512-bit) with Streebog-512",
        "1.2.398.3.10.1.1.2.3.1" => "GOST R 34.10-2015 (256-bit) with Streebog-256",
        other if other.chars().all(|c| c.is_ascii_digit() || c == '.') => {
            return format!("algorithm OID {other}")
        }
        other => return other.to_owned(),
    };
    n.to_owned()
}

/// A barcode document's fields, one per line (`key: value`), nested objects indented.
fn document_fields(out: &mut String, v: &serde_json::Value, indent: &str) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, val) in m {
                match val {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                        let _ = writeln!(out, "{indent}{}:", esc(k));
                        document_fields(out, val, &format!("{indent}  "));
                    }
                    other => {
                        let _ = writeln!(out, "{indent}{}: {}", esc(k), esc(&scalar(other)));
                    }
                }
            }
        }
        serde_json::Value::Array(a) => {
            for val in a {
                match val {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                        let _ = writeln!(out, "{indent}-");
                        document_fields(out, val, &format!("{indent}  "));
                    }
                    other => {
                        let _ = writeln!(out, "{indent}- {}", esc(&scalar(other)));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{indent}{}", esc(&scalar(other)));
        }
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn digest_oids_are_named_as_the_crypto_layer_names_them() {
        for (oid, name) in [
            ("2.16.840.1.101.3.4.2.1", "SHA-256"),
            ("1.2.398.3.10.1.3.1", "GOST 34.311-95"),
            ("1.2.398.3.10.1.3.2", "Streebog-256"),
            ("1.2.398.3.10.1.3.3", "Streebog-512"),
            ("1.2.643.2.2.9", "GOST R 34.11-94"),
            ("sha384", "SHA-384"),
            ("1.2.3.4", "OID 1.2.3.4"),
        ] {
            assert_eq!(digest_name(oid), name, "{oid}");
        }
    }

    use super::*;

    #[test]
    fn names_and_dates_for_people() {
        assert_eq!(algorithm_name("rsa-pkcs1-sha256"), "SHA-256 with RSA");
        assert_eq!(
            algorithm_name("1.2.840.113549.1.1.1 with digest 2.16.840.1.101.3.4.2.1"),
            "RSA with digest SHA-256"
        );
        assert_eq!(algorithm_name("1.2.3.4"), "algorithm OID 1.2.3.4");
        assert_eq!(pdf_date("D:20261125230544Z"), "2026-11-25 23:05:44 UTC");
        assert_eq!(
            pdf_date("D:20261125230544+05'00'"),
            "2026-11-25 23:05:44 UTC+05:00"
        );
        assert_eq!(pdf_date("garbage"), "garbage");
        assert_eq!(date("2026-01-01T00:00:00Z"), "2026-01-01 00:00:00 UTC");
        assert_eq!(short_name("C=KZ,O=a\\,b,CN=RSA Signer"), "RSA Signer");
        assert_eq!(
            rdn("C=KZ,O=a\\,b,CN=RSA Signer", "O").as_deref(),
            Some("a,b")
        );
    }
}
