//! The result model, in the ETSI EN 319 102-1 vocabulary, and its JSON form (CONTRACT.md).
//!
//! A [`SignatureReport`] can only be made "passed" inside the crate (`pub(crate)` constructor),
//! by the verifier after every check ran.

use serde::Serialize;

/// Main status indication (ETSI EN 319 102-1 §5.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[allow(non_camel_case_types)]
pub enum Indication {
    /// Every check passed.
    TOTAL_PASSED,
    /// A check proved the signature invalid.
    TOTAL_FAILED,
    /// Not enough information (or support) to decide.
    INDETERMINATE,
}

/// Sub-indications used by tekser (ETSI EN 319 102-1 Table 5 / Table 6 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[allow(non_camel_case_types)]
#[non_exhaustive]
pub enum SubIndication {
    /// The input is not a well-formed signature of the expected format.
    FORMAT_FAILURE,
    /// messageDigest (or another covered hash) does not match the data.
    HASH_FAILURE,
    /// The signature value does not verify with the signer's key.
    SIG_CRYPTO_FAILURE,
    /// The signing certificate was revoked.
    REVOKED,
    /// A proof of existence shows the signature was made after its certificate (or one on
    /// its path) expired. tekser has no lower bound on when a signature was made (content
    /// time-stamps are not read), so it does not give this; see OUT_OF_BOUNDS_NO_POE.
    EXPIRED,
    /// A proof of existence (a verified time-stamp) shows the signature existed before its
    /// certificate (or one on its path) became valid.
    NOT_YET_VALID,
    /// The validation time is outside a certificate's validity and no proof of existence from
    /// inside it is available (ETSI EN 319 102-1 §5.2.6): an expired certificate without a
    /// time-stamp is this, not a forgery.
    OUT_OF_BOUNDS_NO_POE,
    /// The signer's certificate is not in the signature or the configured certificates.
    NO_SIGNING_CERTIFICATE_FOUND,
    /// No path to a trust anchor.
    NO_CERTIFICATE_CHAIN_FOUND,
    /// A path exists but violates a constraint (basicConstraints, keyUsage, pathLen, critical
    /// extension, a certificate signature).
    CHAIN_CONSTRAINTS_FAILURE,
    /// An algorithm is refused by policy or not supported.
    CRYPTO_CONSTRAINTS_FAILURE,
    /// The signature violates a signature-level constraint (e.g. signer key usage).
    SIG_CONSTRAINTS_FAILURE,
    /// Revocation status was required but is not available now.
    TRY_LATER,
    /// Revocation information was issued outside the allowed window.
    REVOCATION_OUT_OF_BOUNDS_NO_POE,
    /// The signed content was not supplied (detached signature without content).
    SIGNED_DATA_NOT_FOUND,
}

impl SubIndication {
    /// Every sub-indication, in declaration order (a test checks the order against the
    /// discriminants; [`SubIndication::name`]'s exhaustive match lists them beside it).
    pub const ALL: [SubIndication; 15] = {
        use SubIndication::*;
        [
            FORMAT_FAILURE,
            HASH_FAILURE,
            SIG_CRYPTO_FAILURE,
            REVOKED,
            EXPIRED,
            NOT_YET_VALID,
            OUT_OF_BOUNDS_NO_POE,
            NO_SIGNING_CERTIFICATE_FOUND,
            NO_CERTIFICATE_CHAIN_FOUND,
            CHAIN_CONSTRAINTS_FAILURE,
            CRYPTO_CONSTRAINTS_FAILURE,
            SIG_CONSTRAINTS_FAILURE,
            TRY_LATER,
            REVOCATION_OUT_OF_BOUNDS_NO_POE,
            SIGNED_DATA_NOT_FOUND,
        ]
    };

    /// The name as the verdict JSON spells it (the variant's own name).
    pub fn name(self) -> &'static str {
        use SubIndication::*;
        match self {
            FORMAT_FAILURE => "FORMAT_FAILURE",
            HASH_FAILURE => "HASH_FAILURE",
            SIG_CRYPTO_FAILURE => "SIG_CRYPTO_FAILURE",
            REVOKED => "REVOKED",
            EXPIRED => "EXPIRED",
            NOT_YET_VALID => "NOT_YET_VALID",
            OUT_OF_BOUNDS_NO_POE => "OUT_OF_BOUNDS_NO_POE",
            NO_SIGNING_CERTIFICATE_FOUND => "NO_SIGNING_CERTIFICATE_FOUND",
            NO_CERTIFICATE_CHAIN_FOUND => "NO_CERTIFICATE_CHAIN_FOUND",
            CHAIN_CONSTRAINTS_FAILURE => "CHAIN_CONSTRAINTS_FAILURE",
            CRYPTO_CONSTRAINTS_FAILURE => "CRYPTO_CONSTRAINTS_FAILURE",
            SIG_CONSTRAINTS_FAILURE => "SIG_CONSTRAINTS_FAILURE",
            TRY_LATER => "TRY_LATER",
            REVOCATION_OUT_OF_BOUNDS_NO_POE => "REVOCATION_OUT_OF_BOUNDS_NO_POE",
            SIGNED_DATA_NOT_FOUND => "SIGNED_DATA_NOT_FOUND",
        }
    }

    /// The main indication this sub-indication belongs to (ETSI EN 319 102-1 §5.1.3).
    pub fn indication(self) -> Indication {
        use SubIndication::*;
        match self {
            FORMAT_FAILURE | HASH_FAILURE | SIG_CRYPTO_FAILURE | REVOKED | EXPIRED
            | NOT_YET_VALID => Indication::TOTAL_FAILED,
            NO_SIGNING_CERTIFICATE_FOUND
            | NO_CERTIFICATE_CHAIN_FOUND
            | CHAIN_CONSTRAINTS_FAILURE
            | CRYPTO_CONSTRAINTS_FAILURE
            | SIG_CONSTRAINTS_FAILURE
            | TRY_LATER
            | REVOCATION_OUT_OF_BOUNDS_NO_POE
            | OUT_OF_BOUNDS_NO_POE
            | SIGNED_DATA_NOT_FOUND => Indication::INDETERMINATE,
        }
    }
}

/// Which format was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// CMS / PKCS#7 SignedData.
    Cms,
    /// A certificate chain on its own.
    Chain,
    /// XML Signature (enveloped).
    Xmldsig,
    /// egov.kz e-certificate QR barcode set.
    EgovBarcode,
    /// SIGEX digital document card QR barcode set.
    DdcBarcode,
    /// EU Digital COVID Certificate (`HC1:`).
    Hc1,
    /// A signed PDF.
    Pdf,
}

impl Format {
    /// Every format, in declaration order (a test checks it against the discriminants).
    pub const ALL: [Format; 7] = [
        Format::Cms,
        Format::Chain,
        Format::Xmldsig,
        Format::EgovBarcode,
        Format::DdcBarcode,
        Format::Hc1,
        Format::Pdf,
    ];

    /// The name as the verdict JSON spells it (metrics labels use it without a serde round
    /// trip per verification).
    pub fn name(self) -> &'static str {
        match self {
            Format::Cms => "cms",
            Format::Chain => "chain",
            Format::Xmldsig => "xmldsig",
            Format::EgovBarcode => "egov-barcode",
            Format::DdcBarcode => "ddc-barcode",
            Format::Hc1 => "hc1",
            Format::Pdf => "pdf",
        }
    }
}

/// Where a PDF signature sits and what it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PdfSignatureInfo {
    /// The signature field's name.
    pub field: String,
    /// approval | certification | document-timestamp
    pub kind: String,
    /// DocMDP permission level of a certification signature (1, 2 or 3).
    pub docmdp: Option<u8>,
    /// /SubFilter.
    pub sub_filter: String,
    /// The revision the signature covers (1-based), when its byte range is sound.
    pub revision: Option<usize>,
    /// How many revisions the file has.
    pub revisions: usize,
    /// True when the signature covers the whole file as it is now.
    pub covers_whole_document: bool,
    /// Changes made after this signature that it permits.
    pub allowed_changes: Vec<String>,
    /// Changes made after this signature that it does not permit.
    pub disallowed_changes: Vec<String>,
    /// /Reason.
    pub reason: Option<String>,
    /// /Location.
    pub location: Option<String>,
    /// /Name.
    pub name: Option<String>,
    /// /M, the signing time the signer's software claims (not verified).
    pub claimed_signing_time: Option<String>,
}

/// A machine-readable error with a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorEntry {
    /// Stable code, e.g. `signature-invalid`.
    pub code: String,
    /// Explanation for people.
    pub message: String,
}

impl ErrorEntry {
    /// A new entry.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Who signed, from the signing certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SignerReport {
    /// Subject, RFC 4514.
    pub subject: String,
    /// Serial number, hex.
    pub serial: String,
    /// Issuer, RFC 4514.
    pub issuer: String,
    /// Kazakh individual identification number (subject serialNumber `IIN…`).
    pub iin: Option<String>,
    /// Kazakh business identification number (subject OU `BIN…`).
    pub bin: Option<String>,
    /// Roles from the NCA's extended key usage / policy OIDs.
    pub roles: Vec<String>,
    /// signing | authentication | signing-and-authentication | unspecified (keyUsage and EKU).
    pub key_purpose: String,
}

/// One certificate on the validated path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainEntry {
    /// Subject, RFC 4514.
    pub subject: String,
    /// Serial, hex.
    pub serial: String,
    /// notBefore, RFC 3339.
    pub not_before: String,
    /// notAfter, RFC 3339.
    pub not_after: String,
    /// True for the configured trust anchor.
    pub trust_anchor: bool,
}

/// Revocation status of the signing certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevocationReport {
    /// good | revoked | unknown | unchecked
    pub status: String,
    /// ocsp | crl | embedded | cache | none
    pub source: String,
    /// When the status was produced.
    pub produced_at: Option<String>,
    /// When it must be refreshed.
    pub next_update: Option<String>,
    /// Revocation time, when revoked.
    pub revoked_at: Option<String>,
}

impl RevocationReport {
    /// Not checked (revocation off, or no source answered).
    pub fn unchecked() -> Self {
        Self {
            status: "unchecked".into(),
            source: "none".into(),
            produced_at: None,
            next_update: None,
            revoked_at: None,
        }
    }
}

/// RFC 3161 signature timestamp, when present and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimestampReport {
    /// genTime, RFC 3339.
    pub gen_time: String,
    /// TSA subject.
    pub tsa: String,
    /// Whether the token verified.
    pub valid: bool,
}

/// A time the document claims for itself, checked against the chain (nothing independent
/// proves it: a reader sees "genuine, and the certificate was valid at the document's own date").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimedTime {
    /// RFC 3339.
    pub time: String,
    /// Where it came from, e.g. `cms-signing-time`.
    pub source: String,
    /// True when the signature covers it.
    pub signed: bool,
    /// True when the certification path was valid at that time.
    pub chain_valid: bool,
    /// Why not, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The verdict on one signature (or one certificate, for `verify chain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureReport {
    indication: Indication,
    sub_indication: Option<SubIndication>,
    /// The signer, when its certificate was found.
    pub signer: Option<SignerReport>,
    /// Signature algorithm name, e.g. `rsa-pkcs1-sha256`, or the OID when unknown.
    pub algorithm: Option<String>,
    /// The signed signingTime attribute, RFC 3339.
    pub signing_time: Option<String>,
    /// Signature timestamp.
    pub timestamp: Option<TimestampReport>,
    /// The time the document claims it was signed, and whether the chain was valid then
    /// (given when the chain is not valid at the validation time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_time: Option<ClaimedTime>,
    /// What the signature covers, where the format can say more than "the content" (XMLDSig:
    /// the whole document or the element a Reference named). Absent for CMS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_data: Option<String>,
    /// PDF signatures: field, revision, permitted and forbidden later changes. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf: Option<PdfSignatureInfo>,
    /// The validated path, leaf first (empty when none was found).
    pub chain: Vec<ChainEntry>,
    /// The certificate policies the validated path is valid for (RFC 5280 §6.1.6
    /// user-constrained policy set; "2.5.29.32.0" = anyPolicy). Absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// Revocation status.
    pub revocation: RevocationReport,
    /// Things worth knowing that did not decide the verdict.
    pub warnings: Vec<String>,
    /// Why the signature did not pass (extension to CONTRACT.md: per-signature errors).
    pub errors: Vec<ErrorEntry>,
}

impl SignatureReport {
    /// A report that has not passed yet: INDETERMINATE until the verifier decides.
    pub(crate) fn pending() -> Self {
        Self {
            indication: Indication::INDETERMINATE,
            sub_indication: None,
            signer: None,
            algorithm: None,
            signing_time: None,
            timestamp: None,
            claimed_time: None,
            signed_data: None,
            pdf: None,
            chain: Vec::new(),
            policies: Vec::new(),
            revocation: RevocationReport::unchecked(),
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Marks the report as failed (or indeterminate) with a sub-indication and a reason.
    pub(crate) fn fail(
        mut self,
        sub: SubIndication,
        code: &str,
        message: impl Into<String>,
    ) -> Self {
        self.indication = sub.indication();
        self.sub_indication = Some(sub);
        self.errors.push(ErrorEntry::new(code, message));
        self
    }

    /// Marks the report as passed. Only the verification pipeline calls this.
    /// Adds an error without changing the indication (a second reason on a failed signature).
    pub(crate) fn with_error(mut self, code: &str, message: impl Into<String>) -> Self {
        self.errors.push(ErrorEntry::new(code, message));
        self
    }

    pub(crate) fn pass(mut self) -> Self {
        self.indication = Indication::TOTAL_PASSED;
        self.sub_indication = None;
        self
    }

    /// The indication.
    pub fn indication(&self) -> Indication {
        self.indication
    }

    /// The sub-indication.
    pub fn sub_indication(&self) -> Option<SubIndication> {
        self.sub_indication
    }
}

/// The whole verdict (CONTRACT.md "Verdict JSON").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    indication: Indication,
    sub_indication: Option<SubIndication>,
    /// The format verified.
    pub format: Format,
    /// Per-signature results.
    pub signatures: Vec<SignatureReport>,
    /// Decoded document fields (barcode formats); null otherwise. Only what a signature covered.
    pub document: Option<serde_json::Value>,
    /// Values read beside the signed document that no signature covers (a barcode's envelope:
    /// egov `FavorID`/`creationDate`, a SIGEX card's `signId`); absent when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsigned: Option<serde_json::Value>,
    /// Document-level errors.
    pub errors: Vec<ErrorEntry>,
    /// The time the signatures were judged at, RFC 3339 (CONTRACT.md additions); set by
    /// [`Verdict::set_validation_time`] in the one entry point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_time: Option<String>,
    /// Where [`Verdict::validation_time`] came from: `now`, `at` (asked for), `timestamp`
    /// (every signature judged at its own verified signature time-stamp) or
    /// `document-timestamp` (every PDF signature judged at a verified document time-stamp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_time_source: Option<String>,
}

impl Verdict {
    /// Combines per-signature results: TOTAL_PASSED only if every signature passed, TOTAL_FAILED
    /// if any failed, INDETERMINATE otherwise. The sub-indication is that of the first signature
    /// with the deciding indication.
    pub(crate) fn from_signatures(format: Format, signatures: Vec<SignatureReport>) -> Self {
        let decide = |ind: Indication| signatures.iter().find(|s| s.indication == ind);
        let (indication, sub_indication) = if signatures.is_empty() {
            (
                Indication::TOTAL_FAILED,
                Some(SubIndication::FORMAT_FAILURE),
            )
        } else if let Some(s) = decide(Indication::TOTAL_FAILED) {
            (Indication::TOTAL_FAILED, s.sub_indication)
        } else if let Some(s) = decide(Indication::INDETERMINATE) {
            (Indication::INDETERMINATE, s.sub_indication)
        } else {
            (Indication::TOTAL_PASSED, None)
        };
        let errors = if signatures.is_empty() {
            vec![ErrorEntry::new(
                "no-signature",
                "the input carries no signature",
            )]
        } else {
            Vec::new()
        };
        Self {
            indication,
            sub_indication,
            format,
            signatures,
            document: None,
            unsigned: None,
            errors,
            validation_time: None,
            validation_time_source: None,
        }
    }

    /// Fails the whole document for a reason no single signature carries (its signatures stay
    /// listed with their own results).
    pub(crate) fn fail_document(
        &mut self,
        sub: SubIndication,
        code: &str,
        message: impl Into<String>,
    ) {
        self.indication = sub.indication();
        self.sub_indication = Some(sub);
        self.errors.push(ErrorEntry::new(code, message));
    }

    /// Input that could not be parsed at all: TOTAL_FAILED / FORMAT_FAILURE.
    pub fn format_failure(format: Format, code: &str, message: impl Into<String>) -> Self {
        Self {
            indication: Indication::TOTAL_FAILED,
            sub_indication: Some(SubIndication::FORMAT_FAILURE),
            format,
            signatures: Vec::new(),
            document: None,
            unsigned: None,
            errors: vec![ErrorEntry::new(code, message)],
            validation_time: None,
            validation_time_source: None,
        }
    }

    /// Records when the signatures were judged: `at` when one was asked for, else `now`; a
    /// proof of existence moves it only when it applied to every signature (the core judges
    /// a time-stamped signature at min(asked time, genTime)), and then the latest such time is
    /// given, so the one field never claims more than each signature had.
    pub fn set_validation_time(&mut self, at: Option<i64>, now: i64) {
        let asked = at.unwrap_or(now);
        let parse = |t: &str| crate::pki::time::parse_rfc3339(t).ok();
        // Per signature: the proof-of-existence time it was judged at, if any.
        let doc_ts: Vec<(usize, i64)> = self
            .signatures
            .iter()
            .filter(|s| s.indication == Indication::TOTAL_PASSED)
            .filter_map(|s| {
                let p = s.pdf.as_ref().filter(|p| p.kind == "document-timestamp")?;
                let t = s.timestamp.as_ref().filter(|t| t.valid)?;
                Some((p.revision?, parse(&t.gen_time)?))
            })
            .collect();
        let mut latest: Option<(i64, &str)> = None;
        let mut all = !self.signatures.is_empty();
        for s in &self.signatures {
            if s.pdf
                .as_ref()
                .is_some_and(|p| p.kind == "document-timestamp")
            {
                continue;
            }
            let own = s
                .timestamp
                .as_ref()
                .filter(|t| t.valid)
                .and_then(|t| parse(&t.gen_time))
                .map(|t| (t, "timestamp"));
            // A document time-stamp over a later revision proves this one existed then.
            let doc = s.pdf.as_ref().and_then(|p| p.revision).and_then(|r| {
                doc_ts
                    .iter()
                    .filter(|(rev, _)| *rev > r)
                    .map(|&(_, t)| (t, "document-timestamp"))
                    .min()
            });
            match own.or(doc).filter(|(t, _)| *t < asked) {
                Some(p) if latest.is_none_or(|l| p.0 >= l.0) => latest = Some(p),
                Some(_) => {}
                None => all = false,
            }
        }
        let (time, source) = match latest {
            Some((t, source)) if all => (t, source),
            _ => (asked, if at.is_some() { "at" } else { "now" }),
        };
        self.validation_time = Some(crate::pki::time::format_rfc3339(time));
        self.validation_time_source = Some(source.to_owned());
    }

    /// The overall indication.
    pub fn indication(&self) -> Indication {
        self.indication
    }

    /// The overall sub-indication.
    pub fn sub_indication(&self) -> Option<SubIndication> {
        self.sub_indication
    }

    /// CLI exit status (CONTRACT.md): 0 passed, 1 failed, 2 indeterminate.
    pub fn exit_code(&self) -> u8 {
        match self.indication {
            Indication::TOTAL_PASSED => 0,
            Indication::TOTAL_FAILED => 1,
            Indication::INDETERMINATE => 2,
        }
    }

    /// The verdict as compact JSON (HTTP responses).
    pub fn to_json_compact(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!("{{\"indication\":\"INDETERMINATE\",\"errors\":[{{\"code\":\"internal\",\"message\":\"{e}\"}}]}}")
        })
    }

    /// The verdict as indented JSON text (CLI).
    pub fn to_json(&self) -> String {
        // Serialising plain structs of strings cannot fail; keep a valid document if it ever did.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            format!("{{\"indication\":\"INDETERMINATE\",\"errors\":[{{\"code\":\"internal\",\"message\":\"{e}\"}}]}}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sub_indication_once_in_order_and_named_as_in_json() {
        for (i, s) in SubIndication::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i, "{s:?}");
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
        }
    }

    #[test]
    fn every_format_once_in_order_and_named_as_in_json() {
        for (i, f) in Format::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i, "{f:?}");
            assert_eq!(serde_json::to_value(f).unwrap(), f.name());
        }
    }
}
