//! CMS SignedData verification, one report per SignerInfo.

use super::signer::{path_error_code, set_chain, signer_report};
use super::{validation_time, RequestOptions, RevocationMode, Verifier};
use crate::asn1::{tag, AlgorithmId, Oid, Tlv};
use crate::crypto::{self, CryptoError, DigestAlgorithm};
use crate::formats::cms::{self as fcms, oid, SignedData, SignerId, SignerInfo};
use crate::formats::tsp;
use crate::pki::cert::{self, Certificate};
use crate::pki::crl::Crl;
use crate::pki::path::{LeafUsage, PathError, PathOptions};
use crate::pki::time::format_rfc3339;
use crate::revocation::{Embedded, FetchJob, Fetches, Run};
use crate::verdict::{ClaimedTime, TimestampReport};
use crate::verdict::{Format, SignatureReport, SubIndication, Verdict};
use std::sync::Arc;

/// The certificates one signature can draw on: its own bag, parsed on demand, then the
/// configured intermediates.
struct Bag<'v, 'a> {
    verifier: &'v Verifier,
    raw: &'a [&'a [u8]],
    parsed: Option<Vec<Arc<Certificate>>>,
    warnings: Vec<String>,
}

impl Bag<'_, '_> {
    /// Every usable certificate (bag first, then configured intermediates).
    fn pool(&mut self) -> &[Arc<Certificate>] {
        let verifier = self.verifier;
        let raw = self.raw;
        let warnings = &mut self.warnings;
        self.parsed.get_or_insert_with(|| {
            let mut v: Vec<Arc<Certificate>> = Vec::with_capacity(raw.len());
            for (i, der) in raw.iter().enumerate() {
                match verifier.certificate(der) {
                    Ok(c) => v.push(c),
                    Err(e) => warnings.push(format!(
                        "certificate #{} in the signature ignored: {e}",
                        i + 1
                    )),
                }
            }
            v.extend(verifier.intermediates.iter().cloned());
            v
        })
    }

    /// Every certificate that matches the SignerIdentifier (RFC 5652 §5.3 sid), at most `max`:
    /// by issuer and serial (matched on the raw bytes, parsed only on a hit), or by
    /// subjectKeyIdentifier; the signature's own bag first, then the configured intermediates.
    /// A decoy with the same issuer and serial, or a renewed certificate with the same key, may
    /// come before the genuine one, so the caller tries each (issue 12, renewed certificates).
    fn find_signers(&mut self, sid: &SignerId<'_>, max: usize) -> Vec<Arc<Certificate>> {
        let mut out: Vec<Arc<Certificate>> = Vec::new();
        let push = |c: Arc<Certificate>, out: &mut Vec<Arc<Certificate>>| {
            if out.len() < max && !out.iter().any(|o| o.fingerprint == c.fingerprint) {
                out.push(c);
            }
        };
        match sid {
            SignerId::IssuerSerial { issuer, serial } => {
                let hits = self.raw.iter().filter(|der| {
                    cert::issuer_and_serial(der).is_ok_and(|(i, s)| i == *issuer && s == *serial)
                });
                for der in hits {
                    if out.len() >= max {
                        break;
                    }
                    if let Ok(c) = self.verifier.certificate(der) {
                        push(c, &mut out);
                    }
                }
                let configured = self.verifier.intermediates.iter().filter(|c| {
                    c.issuer_raw.as_slice() == *issuer && c.serial.as_slice() == *serial
                });
                for c in configured {
                    push(Arc::clone(c), &mut out);
                }
            }
            SignerId::SubjectKeyId(ski) => {
                let hits: Vec<Arc<Certificate>> = self
                    .pool()
                    .iter()
                    .filter(|c| c.ext.subject_key_id.as_deref() == Some(*ski))
                    .cloned()
                    .collect();
                for c in hits {
                    push(c, &mut out);
                }
            }
        }
        out
    }
}

impl Verifier {
    /// Verifies an RFC 3161 time-stamp token (or a whole TimeStampResp) on its own: its CMS
    /// signature, and a TSA certificate with id-kp-timeStamping that chains to a trust anchor.
    pub fn verify_timestamp_token(&self, token: &[u8], opts: &RequestOptions) -> Verdict {
        let der = match fcms::decode_input(token, &self.config.limits) {
            Ok(d) => d,
            Err(e) => return Verdict::format_failure(Format::Cms, "format", e.to_string()),
        };
        let token = tsp::token_from_response(&der).unwrap_or(&der);
        let mut fx = Fetches::standalone(&self.config.limits);
        let mut v = self.verify_cms_inner(token, None, opts, &mut fx, true, &Extra::default());
        let gen_time = fcms::parse_signed_data(token, &self.config.limits)
            .ok()
            .and_then(|sd| sd.econtent)
            .and_then(|c| tsp::parse_tst_info(c).ok())
            .map(|t| t.gen_time);
        let now = validation_time(opts);
        if let Some(g) = gen_time.filter(|&g| g > now.saturating_add(self.skew())) {
            for s in &mut v.signatures {
                s.warnings.push(format!(
                    "genTime {} is after the validation time {}",
                    format_rfc3339(g),
                    format_rfc3339(now)
                ));
            }
        }
        v
    }

    /// Clock skew tolerated on times a signature claims (the revocation setting's, 5 minutes by
    /// default), in seconds.
    fn skew(&self) -> i64 {
        i64::try_from(self.revocation.config().skew.as_secs()).unwrap_or(i64::MAX / 4)
    }

    /// A time-stamp token over `stamped` (a CMS signature value, or a PDF's byte ranges): the
    /// token verifies as a TSA signature and its message imprint is the hash of `stamped`.
    pub(super) fn check_timestamp(
        &self,
        token: &[u8],
        stamped: &[&[u8]],
        opts: &RequestOptions,
        fx: &mut Fetches<'_>,
    ) -> StampCheck {
        let fail = |report, tsa, why: String| StampCheck {
            report,
            tsa,
            result: Err(why),
        };
        let limits = &self.config.limits;
        let sd = match fcms::parse_signed_data(token, limits) {
            Ok(sd) => sd,
            Err(e) => return fail(None, None, e.to_string()),
        };
        if sd.econtent_type != tsp::TST_INFO {
            return fail(
                None,
                None,
                format!("token content is {}, not TSTInfo", sd.econtent_type),
            );
        }
        let tst = match sd
            .econtent
            .ok_or_else(|| "token has no TSTInfo".to_owned())
            .and_then(|c| tsp::parse_tst_info(c).map_err(|e| format!("TSTInfo: {e}")))
        {
            Ok(t) => t,
            Err(e) => return fail(None, None, e),
        };
        let mut report = TimestampReport {
            gen_time: format_rfc3339(tst.gen_time),
            tsa: tst
                .tsa_name
                .as_deref()
                .and_then(|n| crate::asn1::decode_name(n).ok())
                .map(|n| n.rfc4514)
                .unwrap_or_default(),
            valid: false,
        };
        let imprint_ok = DigestAlgorithm::from_oid(&tst.hash_algorithm.oid)
            .and_then(|d| crypto::digest_parts(d, stamped))
            .is_ok_and(|h| h == tst.hashed_message);
        if !imprint_ok {
            return fail(
                Some(report),
                None,
                "its message imprint is not the hash of the time-stamped data".into(),
            );
        }
        let v = self.verify_cms_inner(token, None, opts, fx, true, &Extra::default());
        let passed = v.indication() == crate::verdict::Indication::TOTAL_PASSED;
        let why = v
            .signatures
            .first()
            .and_then(|s| s.errors.first())
            .or(v.errors.first())
            .map(|e| e.message.clone());
        let sig = v.signatures.into_iter().next();
        if let Some(s) = sig.as_ref().and_then(|s| s.signer.as_ref()) {
            if report.tsa.is_empty() {
                report.tsa = s.subject.clone();
            }
        }
        if !passed {
            let why = why.unwrap_or_else(|| "the token does not verify".into());
            return fail(Some(report), sig, why);
        }
        // A token from the future proves nothing at the validation time (issue 13 item 10).
        let now = validation_time(opts);
        if tst.gen_time > now.saturating_add(self.skew()) {
            let why = format!(
                "its genTime {} is after the validation time {}",
                format_rfc3339(tst.gen_time),
                format_rfc3339(now)
            );
            return fail(Some(report), sig, why);
        }
        report.valid = true;
        StampCheck {
            report: Some(report),
            tsa: sig,
            result: Ok(tst.gen_time),
        }
    }
}

/// The outcome of checking a time-stamp token against the data it stamps.
pub(super) struct StampCheck {
    /// What the token says, when it could be read.
    pub report: Option<TimestampReport>,
    /// The token's own signature report, when verification got that far.
    pub tsa: Option<SignatureReport>,
    /// genTime when the token is usable, else why not.
    pub result: Result<i64, String>,
}

/// What one signer's verification draws on besides the SignerInfo.
struct Step<'s, 'v, 'a, 'd> {
    bag: &'s mut Bag<'v, 'a>,
    embedded: &'s Embedded,
    fx: &'s mut Fetches<'d>,
    /// Verifying a time-stamp token: the signer must be a TSA, and tokens are not nested.
    timestamp: bool,
}

impl Verifier {
    /// Revocation data carried in the signature: `crls` RevocationInfoChoices (CRLs, and OCSP
    /// responses as id-ri-ocsp-response, RFC 5940) and CAdES revocation-values attributes.
    fn embedded_revocation(&self, sd: &SignedData<'_>, warnings: &mut Vec<String>) -> Embedded {
        let max = self.revocation.config().crl_max_bytes;
        let (crls, ocsp) = fcms::revocation_info(sd);
        let mut out = Embedded {
            ocsp,
            ..Embedded::default()
        };
        for (i, raw) in crls.iter().enumerate() {
            match Crl::parse(raw, max) {
                Ok(c) => out.crls.push(Arc::new(c)),
                Err(e) => warnings.push(format!("embedded CRL #{} ignored: {e}", i + 1)),
            }
        }
        out
    }

    /// Verifies a CMS SignedData (DER, BER, PEM or base64), attached or with detached `content`;
    /// also returns the fetches that would complete the revocation
    /// picture (run them with [`Verifier::run_fetches`] and verify again, passing every job
    /// run so far for this request as `done`).
    pub(crate) fn verify_cms_collect(
        &self,
        signature: &[u8],
        content: Option<&[u8]>,
        opts: &RequestOptions,
        run: Run<'_>,
    ) -> (Verdict, Vec<FetchJob>) {
        let mut fx = Fetches::new(run);
        let parts = content.map(|c| [c]);
        let v = self.verify_cms_inner(
            signature,
            parts.as_ref().map(|p| &p[..]),
            opts,
            &mut fx,
            false,
            &Extra::default(),
        );
        (v, fx.wanted)
    }

    /// The CMS pipeline. `content` is the detached content as parts hashed in order (one part,
    /// or a PDF's two byte ranges); `extra` adds certificates and revocation data found beside
    /// the signature (a PDF's DSS).
    pub(super) fn verify_cms_inner(
        &self,
        signature: &[u8],
        content: Option<&[&[u8]]>,
        opts: &RequestOptions,
        fx: &mut Fetches<'_>,
        timestamp: bool,
        extra: &Extra,
    ) -> Verdict {
        let limits = &self.config.limits;
        if let Some(c) = content {
            let total: usize = c.iter().map(|p| p.len()).sum();
            // PDF byte ranges are hashed in place and bounded by the input limit instead.
            if c.len() == 1 && total > limits.max_content_bytes {
                return Verdict::format_failure(
                    Format::Cms,
                    "content-too-large",
                    format!(
                        "content of {total} bytes exceeds the limit of {}",
                        limits.max_content_bytes
                    ),
                );
            }
        }
        let der = match fcms::decode_input(signature, limits) {
            Ok(d) => d,
            Err(e) => return Verdict::format_failure(Format::Cms, "format", e.to_string()),
        };
        let sd = match fcms::parse_signed_data(&der, limits) {
            Ok(sd) => sd,
            Err(e) => return Verdict::format_failure(Format::Cms, "format", e.to_string()),
        };
        // Every CMS, wherever it came from (a file, a request, a PDF's /Contents, a barcode):
        // checked on the bytes already decoded, not by a second parse.
        if fcms::pdf_outside_content(signature, &der, &sd) {
            let why = "the file is also a PDF outside its signed content: PDF readers would show bytes no signature covers";
            return Verdict::format_failure(Format::Cms, "polyglot", why);
        }
        let attached = sd.econtent.map(|a| [a]);
        let (content, content_warning) = match (attached.as_ref(), content) {
            (Some(att), Some(det)) if !same_bytes(&att[..], det) => {
                return Verdict::format_failure(
                    Format::Cms,
                    "content-mismatch",
                    "the signature carries attached content that differs from the content given",
                )
            }
            (Some(att), _) => (Some(&att[..]), None),
            (None, Some(det)) => (Some(det), None),
            (None, None) => (
                None,
                Some("detached signature: the signed content was not supplied (give it with --content FILE, or as the `content` part over HTTP)"),
            ),
        };
        let time = validation_time(opts);
        let mut raw_certs: Vec<&[u8]> = sd.certificates.clone();
        raw_certs.extend(extra.certificates.iter().map(Vec::as_slice));
        let mut bag = Bag {
            verifier: self,
            raw: &raw_certs,
            parsed: None,
            warnings: Vec::new(),
        };
        let embedded = if opts.revocation == RevocationMode::Off {
            Embedded::default()
        } else {
            let mut e = self.embedded_revocation(&sd, &mut bag.warnings);
            self.add_extra_revocation(&mut e, extra, &mut bag.warnings);
            e
        };
        let mut reports: Vec<SignatureReport> = sd
            .signers
            .iter()
            .map(|si| {
                let mut s = Step {
                    bag: &mut bag,
                    embedded: &embedded,
                    fx: &mut *fx,
                    timestamp,
                };
                self.verify_signer(&sd, si, content, &mut s, time, opts)
            })
            .collect();
        for r in &mut reports {
            r.warnings.extend(bag.warnings.iter().cloned());
            if let Some(w) = content_warning {
                r.warnings.push(w.to_owned());
            }
        }
        Verdict::from_signatures(Format::Cms, reports)
    }

    fn verify_signer(
        &self,
        sd: &SignedData<'_>,
        si: &SignerInfo<'_>,
        content: Option<&[&[u8]]>,
        step: &mut Step<'_, '_, '_, '_>,
        time: i64,
        opts: &RequestOptions,
    ) -> SignatureReport {
        use SubIndication as S;
        // 1. Signing certificate (RFC 5652 §5.3 sid): every match, the one the ESS
        // signing-certificate(-v2) attribute names first; the first that passes is the signer.
        let mut candidates = step
            .bag
            .find_signers(&si.sid, self.config.limits.max_signer_candidates);
        if candidates.is_empty() {
            return SignatureReport::pending().fail(
                S::NO_SIGNING_CERTIFICATE_FOUND,
                "signer-certificate-not-found",
                "the signer's certificate is neither in the signature nor among the configured certificates",
            );
        }
        // Stable: among equals the bag's order is kept.
        candidates.sort_by_key(|c| !ess_names(si, c));
        let mut best: Option<SignatureReport> = None;
        for signer in candidates {
            let r = self.verify_signer_as(sd, si, content, step, time, opts, signer);
            if r.indication() == crate::verdict::Indication::TOTAL_PASSED {
                return r;
            }
            // Report the most telling failure: one past the signature check (the key fits)
            // over a decoy whose key does not verify the signature.
            let better = best
                .as_ref()
                .is_none_or(|b| key_did_not_fit(b) && !key_did_not_fit(&r));
            if better {
                best = Some(r);
            }
        }
        best.unwrap_or_else(SignatureReport::pending)
    }

    /// Steps 2–7 of [`Verifier::verify_signer`] with `signer` as the signer's certificate.
    #[allow(clippy::too_many_arguments)]
    fn verify_signer_as(
        &self,
        sd: &SignedData<'_>,
        si: &SignerInfo<'_>,
        content: Option<&[&[u8]]>,
        step: &mut Step<'_, '_, '_, '_>,
        time: i64,
        opts: &RequestOptions,
        signer: Arc<Certificate>,
    ) -> SignatureReport {
        use SubIndication as S;
        let mut report = SignatureReport::pending();
        report.signer = Some(signer_report(&signer));

        // 2. Signed attributes (§5.3, §11): contentType, messageDigest, signingTime, ESS.
        let mut digest_alg = None;
        let message: Vec<u8>;
        let joined: Vec<u8>;
        let signed_message: &[u8] =
            match si.signed_attrs_message() {
                Some(m) => {
                    match check_signed_attrs(
                        sd,
                        si,
                        &signer,
                        time.saturating_add(self.skew()),
                        &mut report,
                    ) {
                        Ok(()) => {}
                        Err((sub, code, msg)) => return report.fail(sub, code, msg),
                    }
                    message = m;
                    &message
                }
                None => match content {
                    Some([one]) => one,
                    Some(parts) => {
                        // No signed attributes: the signature is over the content itself.
                        joined = parts.concat();
                        &joined
                    }
                    None => return report.fail(
                        S::SIGNED_DATA_NOT_FOUND,
                        "content-missing",
                        "no signed attributes and no content: nothing to verify the signature over",
                    ),
                },
            };

        // 3. Algorithms under policy.
        let resolved = DigestAlgorithm::from_oid(&si.digest_algorithm.oid).and_then(|d| {
            digest_alg = Some(d);
            // With signed attributes, digestAlgorithm is the hash that binds the content
            // (messageDigest): a signature OID naming SHA-256 over attributes that carry a SHA-1
            // of the content is only as strong as SHA-1 (RFC 5652 §5.4, issue 12 item 2).
            crypto::check_digest(d, &self.config.policy)?;
            let key = signer
                .public_key
                .as_ref()
                .map_err(|e| CryptoError::BadKey(e.to_string()))?;
            crypto::resolve(&si.signature_algorithm, Some(d), key, &self.config.policy)
                .map(|r| (r, key))
        });
        let (resolved, key) = match resolved {
            Ok(r) => r,
            Err(e) => {
                // Unknown algorithms stay visible in the verdict by OID.
                report.algorithm = Some(algorithm_label(
                    &si.signature_algorithm,
                    &si.digest_algorithm,
                ));
                return crypto_failure(report, e);
            }
        };
        // A time-stamp token's message imprint binds the stamped data as strongly as a
        // signature's digest does: the same policy applies (issue 12 item 5).
        if step.timestamp {
            if let Some(Ok(tst)) = sd.econtent.map(tsp::parse_tst_info) {
                let imprint = DigestAlgorithm::from_oid(&tst.hash_algorithm.oid)
                    .and_then(|d| crypto::check_digest(d, &self.config.policy));
                if let Err(e) = imprint {
                    report.algorithm = Some(resolved.verifier.name().to_owned());
                    return crypto_failure(
                        report,
                        match e {
                            CryptoError::Constraints(m) => CryptoError::Constraints(format!(
                                "the time-stamp's message imprint: {m}"
                            )),
                            other => other,
                        },
                    );
                }
            }
        }
        // Report the pair actually used when the content digest differs from the signature's own.
        report.algorithm = Some(match (resolved.algorithm.digest(), digest_alg) {
            (Some(sig_d), Some(d)) if sig_d != d && si.signed_attrs_raw.is_some() => {
                format!("{} (content digest {})", resolved.verifier.name(), d.name())
            }
            _ => resolved.verifier.name().to_owned(),
        });

        // 4. messageDigest over the content.
        if si.signed_attrs_raw.is_some() {
            match (content, digest_alg) {
                (Some(c), Some(d)) => {
                    let (_, attr) = si.signed_attr(&oid::MESSAGE_DIGEST);
                    let expected = attr
                        .and_then(|a| a.values.first())
                        .filter(|v| v.tag == tag::OCTET_STRING)
                        .map(|v| v.value);
                    match crypto::digest_parts(d, c) {
                        Ok(actual) if Some(actual.as_slice()) == expected => {}
                        Ok(_) => {
                            return report.fail(
                                S::HASH_FAILURE,
                                "hash-mismatch",
                                "messageDigest does not match the digest of the content",
                            )
                        }
                        Err(e) => return crypto_failure(report, e),
                    }
                }
                _ => {
                    // Verify what we can (the signature over the attributes) before saying the
                    // content is missing.
                    if step.fx.work.charge().is_err() {
                        return super::revocation::work_spent(report, &step.fx.work);
                    }
                    if let Err(e) = resolved.verifier.verify(key, signed_message, si.signature) {
                        return crypto_failure(report, e);
                    }
                    return report.fail(
                        S::SIGNED_DATA_NOT_FOUND,
                        "content-missing",
                        "detached signature: give the signed content with --content FILE (over HTTP: the `content` part) to check messageDigest",
                    );
                }
            }
        }

        // 5. The signature value.
        if step.fx.work.charge().is_err() {
            return super::revocation::work_spent(report, &step.fx.work);
        }
        if let Err(e) = resolved.verifier.verify(key, signed_message, si.signature) {
            return crypto_failure(report, e);
        }

        // 5a. A signature time-stamp (RFC 3161) proves the signature existed at genTime: the
        // path and revocation are then judged at genTime.
        let mut time = time;
        if !step.timestamp {
            let token = si
                .unsigned_attrs
                .iter()
                .find(|a| a.oid == tsp::SIGNATURE_TIMESTAMP_TOKEN)
                .and_then(|a| a.values.first());
            if let Some(token) = token {
                let check = self.check_timestamp(token.raw, &[si.signature], opts, step.fx);
                report.timestamp = check.report;
                match check.result {
                    Ok(gen_time) => time = time.min(gen_time),
                    Err(why) => report
                        .warnings
                        .push(format!("signature time-stamp not usable: {why}")),
                }
            }
        }

        // 6–7. Path and revocation.
        let pool = step.bag.pool().to_vec();
        self.judge_signer(
            report,
            &signer,
            &pool,
            step.embedded,
            time,
            opts,
            step.fx,
            step.timestamp,
        )
    }

    /// The signature's own claimed time (CMS signingTime) checked against the chain: what a
    /// reader needs when the chain is not valid at the validation time.
    fn claimed_time(
        &self,
        report: &SignatureReport,
        signer: &Arc<Certificate>,
        pool: &[Arc<Certificate>],
        work: &crate::pki::work::Work,
    ) -> Option<ClaimedTime> {
        let text = report.signing_time.as_ref()?;
        let at = crate::pki::time::parse_rfc3339(text).ok()?;
        let path_opts = PathOptions::new(
            at,
            self.config.policy,
            LeafUsage::DocumentSigning,
            &self.config.limits,
        );
        let built = self
            .paths
            .build(signer, &self.trust, pool, &path_opts, work);
        Some(ClaimedTime {
            time: text.clone(),
            source: "cms-signing-time".into(),
            signed: true,
            chain_valid: built.is_ok(),
            reason: built.err().map(|e| e.to_string()),
        })
    }

    /// Steps shared by every signature format once the signature value verified: the signer's
    /// certification path at `time` (through the path cache), the TSA purpose when `tsa`, and the
    /// revocation status of every certificate on the path.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn judge_signer(
        &self,
        mut report: SignatureReport,
        signer: &Arc<Certificate>,
        pool: &[Arc<Certificate>],
        embedded: &Embedded,
        time: i64,
        opts: &RequestOptions,
        fx: &mut Fetches<'_>,
        tsa: bool,
    ) -> SignatureReport {
        use SubIndication as S;
        let path_opts = PathOptions::new(
            time,
            self.config.policy,
            LeafUsage::DocumentSigning,
            &self.config.limits,
        );
        let cached = self.paths.get(signer, &self.trust, &path_opts);
        let counter = if cached.is_some() {
            &self.stats.path_hits
        } else {
            &self.stats.path_misses
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = match cached.map_or_else(
            || {
                self.paths
                    .build(signer, &self.trust, pool, &path_opts, &fx.work)
            },
            Ok,
        ) {
            Ok(p) => p,
            Err(e) => {
                // A time before the one asked about can only come from a proof of existence.
                let poe = time < validation_time(opts);
                if !tsa && matches!(e, PathError::Expired { .. } | PathError::NotYetValid { .. }) {
                    report.claimed_time = self.claimed_time(&report, signer, pool, &fx.work);
                }
                let (sub, code) = path_error_code(&e, poe);
                return report.fail(sub, code, e.to_string());
            }
        };
        set_chain(&mut report, &path, &self.trust);
        if !tsa && super::signer::service_only_key(signer) {
            return report.fail(
                S::SIG_CONSTRAINTS_FAILURE,
                "key-usage",
                "the signer's certificate is for time-stamping or OCSP responses only (extended key usage), not for signing documents",
            );
        }
        if !tsa && super::signer::key_purpose(signer) == "authentication" {
            let why = "the document was signed with an authentication key (keyEncipherment/clientAuth, no nonRepudiation)";
            match self.config.auth_key_signatures {
                super::AuthKeyPolicy::Warn => report.warnings.push(why.to_owned()),
                super::AuthKeyPolicy::Refuse => {
                    return report.fail(S::SIG_CONSTRAINTS_FAILURE, "authentication-key", why)
                }
            }
        }
        if tsa {
            if let Err(why) = tsa_profile(signer) {
                return report.fail(S::SIG_CONSTRAINTS_FAILURE, "not-a-tsa", why);
            }
        }
        match self.check_revocation(report, &path, pool, embedded, time, opts, fx) {
            Ok(r) => r.pass(),
            Err(failed) => failed,
        }
    }
}

type Failure = (SubIndication, &'static str, String);

/// RFC 3161 §2.3: "The corresponding certificate MUST contain only one instance of the extended
/// key usage field extension ... with KeyPurposeID having value id-kp-timeStamping. This extension
/// MUST be critical." A certificate also good for other purposes is not a TSA certificate.
fn tsa_profile(c: &Certificate) -> Result<(), &'static str> {
    let eku = c.ext.ext_key_usage.as_deref().unwrap_or_default();
    if !eku.contains(&tsp::KP_TIME_STAMPING) {
        return Err("the time-stamp signer's certificate lacks id-kp-timeStamping (RFC 3161 §2.3)");
    }
    if eku.len() != 1 {
        return Err("the time-stamp signer's certificate has purposes besides id-kp-timeStamping (RFC 3161 §2.3: it must be the only one)");
    }
    if !c.ext.is_critical(&crate::asn1::ext_oid::EXT_KEY_USAGE) {
        return Err("the time-stamp signer's extendedKeyUsage is not critical (RFC 3161 §2.3)");
    }
    Ok(())
}

/// Evidence found beside a signature rather than inside it (a PDF's DSS): DER certificates,
/// OCSP responses and CRLs.
#[derive(Debug, Default, Clone)]
pub(crate) struct Extra {
    pub certificates: Vec<Vec<u8>>,
    pub ocsp: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
}

impl Verifier {
    fn add_extra_revocation(&self, e: &mut Embedded, extra: &Extra, warnings: &mut Vec<String>) {
        let max = self.revocation.config().crl_max_bytes;
        for (i, raw) in extra.crls.iter().enumerate() {
            match Crl::parse(raw, max) {
                Ok(c) => e.crls.push(Arc::new(c)),
                Err(err) => warnings.push(format!("DSS CRL #{} ignored: {err}", i + 1)),
            }
        }
        e.ocsp.extend(extra.ocsp.iter().cloned());
    }
}

/// Whether `whole` equals the concatenation of `parts`.
fn same_bytes(whole: &[&[u8]], parts: &[&[u8]]) -> bool {
    whole
        .iter()
        .flat_map(|p| p.iter())
        .eq(parts.iter().flat_map(|p| p.iter()))
}

/// contentType must be present once and equal eContentType (RFC 5652 §11.1); messageDigest must be
/// present once (§11.2); signingTime is reported (§11.3), with a warning when it is after
/// `latest` (the validation time plus clock skew); ESS signing-certificate(-v2), when
/// present, must name the signer's certificate (RFC 2634 §5.4, RFC 5035).
fn check_signed_attrs(
    sd: &SignedData<'_>,
    si: &SignerInfo<'_>,
    signer: &Certificate,
    latest: i64,
    report: &mut SignatureReport,
) -> Result<(), Failure> {
    use SubIndication as S;
    let single = |o: &Oid, name: &str| -> Result<Tlv<'_>, Failure> {
        match si.signed_attr(o) {
            (1, Some(a)) if a.values.len() == 1 => a.values.first().copied().ok_or_else(|| {
                (
                    S::FORMAT_FAILURE,
                    "signed-attributes",
                    format!("{name} has no value"),
                )
            }),
            (0, _) => Err((
                S::FORMAT_FAILURE,
                "signed-attributes",
                format!("signed attribute {name} is missing"),
            )),
            _ => Err((
                S::FORMAT_FAILURE,
                "signed-attributes",
                format!("signed attribute {name} must occur once with one value"),
            )),
        }
    };
    let ct = single(&oid::CONTENT_TYPE, "contentType")?;
    let ct = ct.oid().map_err(|e| {
        (
            S::FORMAT_FAILURE,
            "signed-attributes",
            format!("contentType: {e}"),
        )
    })?;
    if ct != sd.econtent_type {
        return Err((
            S::FORMAT_FAILURE,
            "signed-attributes",
            format!(
                "contentType attribute {ct} differs from eContentType {}",
                sd.econtent_type
            ),
        ));
    }
    single(&oid::MESSAGE_DIGEST, "messageDigest")?;
    if let (n, Some(a)) = si.signed_attr(&oid::SIGNING_TIME) {
        match a.values.first().map(|v| v.time()) {
            Some(Ok(t)) if n == 1 => {
                report.signing_time = Some(format_rfc3339(t));
                // A claimed signing time after the validation time (plus clock skew) cannot be
                // true at that time: the signer's clock or the claim is wrong (issue 13 item 10).
                if t > latest {
                    report.warnings.push(format!(
                        "signingTime {} is in the future (after the validation time)",
                        format_rfc3339(t)
                    ));
                }
                if !signer.valid_at(t) {
                    report.warnings.push(format!(
                        "signingTime {} is outside the signer certificate's validity ({} .. {})",
                        format_rfc3339(t),
                        format_rfc3339(signer.not_before),
                        format_rfc3339(signer.not_after)
                    ));
                }
            }
            _ => {
                return Err((
                    S::FORMAT_FAILURE,
                    "signed-attributes",
                    "malformed signingTime attribute".into(),
                ))
            }
        }
    }
    for (attr_oid, default_hash) in [
        (oid::SIGNING_CERTIFICATE, DigestAlgorithm::Sha1),
        (oid::SIGNING_CERTIFICATE_V2, DigestAlgorithm::Sha256),
    ] {
        if let (_, Some(a)) = si.signed_attr(&attr_oid) {
            match ess_first_cert_hash(a.values.first().copied(), default_hash) {
                Ok((alg, hash)) => {
                    // SHA-256 of the certificate (ESS v2's default) is already its fingerprint.
                    let ours = match alg {
                        DigestAlgorithm::Sha256 => Some(signer.fingerprint.to_vec()),
                        other => crypto::digest(other, &signer.der).ok(),
                    };
                    if ours.as_deref() != Some(hash) {
                        return Err((
                            S::NO_SIGNING_CERTIFICATE_FOUND,
                            "signing-certificate-mismatch",
                            "the ESS signing-certificate attribute names another certificate"
                                .into(),
                        ));
                    }
                }
                Err(msg) => return Err((S::FORMAT_FAILURE, "signed-attributes", msg)),
            }
        }
    }
    Ok(())
}

/// Whether the SignerInfo's ESS signing-certificate(-v2) attribute names `c` (false when absent
/// or unreadable: then no candidate is preferred).
fn ess_names(si: &SignerInfo<'_>, c: &Certificate) -> bool {
    [
        (oid::SIGNING_CERTIFICATE_V2, DigestAlgorithm::Sha256),
        (oid::SIGNING_CERTIFICATE, DigestAlgorithm::Sha1),
    ]
    .iter()
    .any(|(attr_oid, default_hash)| {
        let (_, attr) = si.signed_attr(attr_oid);
        attr.and_then(|a| ess_first_cert_hash(a.values.first().copied(), *default_hash).ok())
            .is_some_and(|(alg, hash)| match alg {
                DigestAlgorithm::Sha256 => c.fingerprint.as_slice() == hash,
                other => crypto::digest(other, &c.der).is_ok_and(|h| h == hash),
            })
    })
}

/// A candidate signer certificate that failed because its key is not the signing key: the
/// signature value does not verify with it, it does not fit the algorithm, or ESS names another.
fn key_did_not_fit(r: &SignatureReport) -> bool {
    matches!(
        r.sub_indication(),
        Some(SubIndication::SIG_CRYPTO_FAILURE | SubIndication::NO_SIGNING_CERTIFICATE_FOUND)
    )
}

/// `SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies … }`;
/// returns the hash algorithm and hash of the first ESSCertID (the signer's, RFC 5035 §3).
fn ess_first_cert_hash(
    value: Option<Tlv<'_>>,
    default_hash: DigestAlgorithm,
) -> Result<(DigestAlgorithm, &[u8]), String> {
    let bad = |e: &dyn std::fmt::Display| format!("malformed signing-certificate attribute: {e}");
    let value = value.ok_or_else(|| bad(&"no value"))?;
    let mut certs = value
        .expect(tag::SEQUENCE)
        .and_then(|v| v.reader().read_tag(tag::SEQUENCE))
        .map_err(|e| bad(&e))?
        .reader();
    let mut id = certs.read_tag(tag::SEQUENCE).map_err(|e| bad(&e))?.reader();
    let mut alg = default_hash;
    if id.peek_tag() == Some(tag::SEQUENCE) {
        let a = AlgorithmId::parse(id.read().map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
        alg = DigestAlgorithm::from_oid(&a.oid).map_err(|e| bad(&e))?;
    }
    let hash = id.read_tag(tag::OCTET_STRING).map_err(|e| bad(&e))?.value;
    Ok((alg, hash))
}

pub(super) fn crypto_failure(report: SignatureReport, e: CryptoError) -> SignatureReport {
    use SubIndication as S;
    match &e {
        CryptoError::BadSignature => {
            report.fail(S::SIG_CRYPTO_FAILURE, "signature-invalid", e.to_string())
        }
        CryptoError::Constraints(_) => report.fail(
            S::CRYPTO_CONSTRAINTS_FAILURE,
            "weak-algorithm",
            e.to_string(),
        ),
        CryptoError::Unsupported(_) => report.fail(
            S::CRYPTO_CONSTRAINTS_FAILURE,
            "unsupported-algorithm",
            e.to_string(),
        ),
        CryptoError::BadKey(_) => report.fail(S::SIG_CRYPTO_FAILURE, "bad-key", e.to_string()),
    }
}

/// What to call the algorithm before it is resolved (unknown OIDs stay visible in the verdict).
fn algorithm_label(sig: &AlgorithmId, digest: &AlgorithmId) -> String {
    format!("{} with digest {}", sig.oid, digest.oid)
}
