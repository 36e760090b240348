//! Signed PDFs (ISO 32000-1 §12.8, PAdES / ETSI EN 319 142-1): each signature field is a CMS
//! signature over two byte ranges of one revision; the document as it is now is judged by what
//! the later revisions changed.

use super::cms::Extra;
use super::{validation_time, BarcodeMode, RequestOptions, RevocationMode, Verifier};
use crate::crypto::{self, DigestAlgorithm, Sha1Policy};
use crate::formats::barcode::qr::has_finder_patterns;
use crate::formats::cms as fcms;
use crate::formats::pdf::images::ImageDict;
use crate::formats::pdf::sig::{PdfSignature, SigKind};
use crate::formats::pdf::{Document, PdfError, PdfLimits};
use crate::pki::time::format_rfc3339;
use crate::revocation::{FetchJob, Fetches, Run};
use crate::verdict::{
    ClaimedTime, Format, Indication, PdfSignatureInfo, SignatureReport, SubIndication, Verdict,
};

impl Verifier {
    /// PDF parser budgets from the configured limits.
    fn pdf_limits(&self) -> PdfLimits {
        let l = &self.config.limits;
        PdfLimits {
            max_objects: l.max_pdf_objects,
            max_depth: l.max_pdf_depth,
            max_decompressed: l.max_pdf_decompressed_bytes,
            max_revisions: l.max_pdf_revisions,
            max_asn1_depth: l.max_asn1_depth,
            max_asn1_elements: l.max_asn1_elements,
        }
    }

    /// Verifies every signature of a PDF; also returns the fetches that would complete it.
    pub(crate) fn verify_pdf_collect(
        &self,
        input: &[u8],
        opts: &RequestOptions,
        run: Run<'_>,
    ) -> (Verdict, Vec<FetchJob>) {
        let fail =
            |code: &str, e: String| (Verdict::format_failure(Format::Pdf, code, e), Vec::new());
        if input.len() > self.config.limits.max_input_bytes {
            return fail(
                "limit",
                format!("PDF of {} bytes exceeds the input limit", input.len()),
            );
        }
        let doc = match Document::parse(input, self.pdf_limits()) {
            Ok(d) => d,
            Err(e @ PdfError::Unsupported(_)) => return fail("unsupported-pdf", e.to_string()),
            Err(e) => return fail("pdf", e.to_string()),
        };
        let sigs = match doc.signatures() {
            Ok(s) => s,
            Err(e) => return fail("pdf", e.to_string()),
        };
        // QR codes printed on the pages (e-certificates): read within the image budgets.
        let (barcodes, barcode_jobs) = self.pdf_barcodes(&doc, !sigs.is_empty(), opts, run);
        if sigs.is_empty() && barcodes.is_none() {
            let why = if opts.barcodes == BarcodeMode::Never {
                "the PDF has no signed signature field (its images were not read for QR codes: barcodes = never)"
            } else {
                "the PDF has no signed signature field and no readable QR codes"
            };
            return fail("no-signature", why.into());
        }
        let (certificates, ocsp, crls) = doc.dss();
        let extra = Extra {
            certificates,
            ocsp,
            crls,
        };
        let mut fx = Fetches::new(run);
        let revisions = doc.revisions.len();
        // Every byte after a signed revision must belong to a revision that is read and judged.
        let signed_ends: Vec<usize> = sigs
            .iter()
            .filter_map(|s| s.ranges.as_ref().ok().map(|r| r[1].end))
            .collect();
        let unaccounted = doc.unaccounted(&signed_ends);
        // The certification signature's DocMDP level governs every later change.
        let certification = sigs.iter().find_map(|s| match s.kind {
            SigKind::Certification(p) => Some((p, s.revision.unwrap_or(0))),
            _ => None,
        });
        // Document time-stamps first: a valid one proves the revisions it covers existed at its
        // genTime, which is when the signatures of those revisions are then judged.
        let mut proofs: Vec<(usize, i64)> = Vec::new();
        let mut stamped: Vec<Option<SignatureReport>> = Vec::with_capacity(sigs.len());
        for s in &sigs {
            stamped.push((s.kind == SigKind::DocTimeStamp).then(|| {
                let (r, gen) = self.pdf_doc_timestamp(&doc, s, opts, &mut fx);
                if let (Some(g), Some(rev)) = (gen, s.revision) {
                    proofs.push((rev, g));
                }
                r
            }));
        }
        let mut reports: Vec<SignatureReport> = Vec::with_capacity(sigs.len());
        for (s, ts) in sigs.iter().zip(stamped) {
            let mdp = certification
                .filter(|(_, at)| s.revision.is_some_and(|r| r >= *at))
                .map(|(p, _)| p);
            let mut report = match ts {
                Some(r) => r,
                None => {
                    let poe = s.revision.and_then(|rev| {
                        proofs
                            .iter()
                            .filter(|(r, _)| *r >= rev)
                            .map(|(_, t)| *t)
                            .min()
                    });
                    self.pdf_signature(&doc, s, opts, &mut fx, &extra, poe)
                }
            };
            // Failed only on time: is the signature's own /M (inside the signed byte range) a
            // time at which it would have passed? Reported as a claim, never as a pass.
            if report.sub_indication() == Some(SubIndication::OUT_OF_BOUNDS_NO_POE)
                && report.claimed_time.is_none()
            {
                if let Some(at) = s.claimed_time.as_deref().and_then(pdf_date) {
                    let then = RequestOptions {
                        at: Some(at),
                        revocation: RevocationMode::Off,
                        ..*opts
                    };
                    let mut none = fx.offline_sharing();
                    let again = self.pdf_signature(&doc, s, &then, &mut none, &extra, None);
                    report.claimed_time = Some(ClaimedTime {
                        time: format_rfc3339(at),
                        source: "pdf-signature-m".into(),
                        signed: true,
                        chain_valid: again.indication() == Indication::TOTAL_PASSED,
                        reason: again.errors.first().map(|e| e.message.clone()),
                    });
                }
            }
            let changes = match s.revision {
                Some(rev) => doc.changes_after(rev, mdp, s.lock.as_ref()),
                None => Default::default(),
            };
            let end = s.ranges.as_ref().map_or(usize::MAX, |r| r[1].end);
            let unread: Vec<&str> = unaccounted
                .iter()
                .filter(|u| u.at >= end)
                .map(|u| u.what.as_str())
                .collect();
            if !changes.disallowed.is_empty() {
                let why = format!(
                    "the document was changed after this signature in ways it does not permit: {}",
                    changes.disallowed.join("; ")
                );
                report = if report.indication() == Indication::TOTAL_PASSED {
                    report.fail(SubIndication::HASH_FAILURE, "modified-after-signing", why)
                } else {
                    report.with_error("modified-after-signing", why)
                };
            }
            if !unread.is_empty() {
                // Bytes a viewer may apply and this reader could not judge: never a pass.
                let why = format!(
                    "bytes after this signature's revision are not accounted for: {}",
                    unread.join("; ")
                );
                report = if report.indication() == Indication::TOTAL_PASSED {
                    report.fail(
                        SubIndication::SIG_CONSTRAINTS_FAILURE,
                        "unaccounted-bytes",
                        why,
                    )
                } else {
                    report.with_error("unaccounted-bytes", why)
                };
            }
            report.warnings.extend(changes.overlays.iter().cloned());
            report.warnings.extend(doc.warnings.iter().cloned());
            report.pdf = Some(PdfSignatureInfo {
                field: s.field.clone(),
                kind: match s.kind {
                    SigKind::Approval => "approval",
                    SigKind::Certification(_) => "certification",
                    SigKind::DocTimeStamp => "document-timestamp",
                }
                .into(),
                docmdp: match s.kind {
                    SigKind::Certification(p) => Some(p),
                    _ => None,
                },
                sub_filter: s.sub_filter.clone(),
                revision: s.revision.map(|r| r + 1),
                revisions,
                // A trailing comment is tolerated but not signed: only white space may follow.
                covers_whole_document: s.revision.is_some_and(|r| r + 1 == revisions)
                    && unread.is_empty()
                    && doc
                        .data
                        .get(end..)
                        .is_some_and(|t| t.iter().all(u8::is_ascii_whitespace)),
                allowed_changes: changes.allowed,
                disallowed_changes: changes.disallowed,
                reason: s.reason.clone(),
                location: s.location.clone(),
                name: s.name.clone(),
                claimed_signing_time: s.claimed_time.clone(),
            });
            reports.push(report);
        }
        let mut wanted = fx.wanted;
        wanted.extend(barcode_jobs);
        // A document time-stamp proves when the bytes existed, not that anyone signed them: a
        // PDF whose only signatures are time-stamps is not a signed document, whatever the
        // time-stamps' own verdicts (they stay in `signatures` for the reader).
        let only_timestamps =
            barcodes.is_none() && sigs.iter().all(|s| s.kind == SigKind::DocTimeStamp);
        let mut verdict = match barcodes {
            Some(b) => {
                // The barcodes' signatures join the PDF's; their verdict is in `document`.
                let mut all = reports;
                if b.signatures.is_empty() {
                    let e = b.errors.first();
                    all.push(SignatureReport::pending().fail(
                        SubIndication::FORMAT_FAILURE,
                        "barcode",
                        e.map_or_else(
                            || "the QR codes do not form a verifiable set".into(),
                            |e| e.message.clone(),
                        ),
                    ));
                } else {
                    all.extend(b.signatures.iter().cloned());
                }
                let mut v = Verdict::from_signatures(Format::Pdf, all);
                v.document = Some(serde_json::json!({ "barcodes": b }));
                v
            }
            None => Verdict::from_signatures(Format::Pdf, reports),
        };
        if only_timestamps {
            verdict.fail_document(
                SubIndication::FORMAT_FAILURE,
                "no-signature",
                "the PDF carries only document time-stamps: they prove when its bytes existed, not who signed it",
            );
        }
        verdict.format = Format::Pdf;
        (verdict, wanted)
    }

    /// Reads the QR codes of the document's images; a barcode verdict when any were found.
    /// Which images are read follows `opts.barcodes` (README "Barcodes in PDFs"): `auto` reads
    /// the images of an unsigned PDF, and of a signed one only the images that may be QR codes
    /// (an e-certificate's page; [`ImageDict::may_be_qr_code`]), and hands rxing only images
    /// that show finder patterns. Reading
    /// every image cost a signed 50 KB PDF with one page image 6× its rate (issue #15).
    fn pdf_barcodes(
        &self,
        doc: &Document<'_>,
        signed: bool,
        opts: &RequestOptions,
        run: Run<'_>,
    ) -> (Option<Verdict>, Vec<FetchJob>) {
        let l = &self.config.limits;
        // QR images of e-certificates are small (≈100 modules at 3–4 px: ~0.2 MP) while page
        // scans are 4–9 MP and carry no QR code to read: skipping images over 4 MP keeps signed
        // scans from paying for QR reading on every verification.
        const PDF_QR_IMAGE_PIXELS: usize = 4_000_000;
        let (max_images, max_pixels) = (
            l.max_pdf_images,
            l.max_image_pixels.min(PDF_QR_IMAGE_PIXELS),
        );
        let (images, _skipped) = match opts.barcodes {
            BarcodeMode::Never => return (None, Vec::new()),
            BarcodeMode::Auto if signed => {
                doc.page_images_where(max_images, max_pixels, ImageDict::may_be_qr_code)
            }
            BarcodeMode::Auto | BarcodeMode::Always => doc.page_images(max_images, max_pixels),
        };
        let start = std::time::Instant::now();
        let budget = std::time::Duration::from_millis(l.qr_time_budget_ms);
        let mut payloads: Vec<Vec<u8>> = Vec::new();
        for img in images {
            if start.elapsed() > budget {
                break;
            }
            if opts.barcodes == BarcodeMode::Auto && !has_finder_patterns(&img) {
                continue;
            }
            payloads.extend(
                crate::formats::barcode::qr::read_qr_codes(img)
                    .into_iter()
                    .map(String::into_bytes)
                    .filter(|p| crate::formats::barcode::detect(p).is_some()),
            );
        }
        if payloads.is_empty() {
            return (None, Vec::new());
        }
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let (v, jobs) = self.verify_barcodes_collect(&refs, None, opts, run);
        (Some(v), jobs)
    }

    /// One approval or certification signature: byte range, then the CMS over it.
    fn pdf_signature(
        &self,
        doc: &Document<'_>,
        s: &PdfSignature,
        opts: &RequestOptions,
        fx: &mut Fetches<'_>,
        extra: &Extra,
        poe: Option<i64>,
    ) -> SignatureReport {
        let report = SignatureReport::pending();
        let ranges = match &s.ranges {
            Ok(r) => r.clone(),
            Err(why) => {
                return report.fail(SubIndication::FORMAT_FAILURE, "byte-range", why.clone())
            }
        };
        let parts: [&[u8]; 2] = [
            doc.data.get(ranges[0].clone()).unwrap_or_default(),
            doc.data.get(ranges[1].clone()).unwrap_or_default(),
        ];
        // A valid document time-stamp over this revision is proof of existence at its genTime.
        let mut o = *opts;
        if let Some(t) = poe {
            o.at = Some(validation_time(opts).min(t));
        }
        let v = match s.sub_filter.as_str() {
            "adbe.pkcs7.detached" | "ETSI.CAdES.detached" => {
                self.verify_cms_inner(&s.contents, Some(&parts), &o, fx, false, extra)
            }
            "adbe.pkcs7.sha1" => {
                // The CMS is attached and its content is the SHA-1 of the byte ranges.
                if self.config.policy.sha1 == Sha1Policy::Refuse {
                    return report.fail(
                        SubIndication::CRYPTO_CONSTRAINTS_FAILURE,
                        "weak-algorithm",
                        "adbe.pkcs7.sha1 hashes the document with SHA-1 (allow only with --danger-allow-sha1, or danger_allow_sha1 = true in the configuration)",
                    );
                }
                let econtent = fcms::decode_input(&s.contents, &self.config.limits)
                    .ok()
                    .and_then(|der| {
                        fcms::parse_signed_data(&der, &self.config.limits)
                            .ok()
                            .and_then(|sd| sd.econtent.map(<[u8]>::to_vec))
                    });
                let digest = crypto::digest_parts(DigestAlgorithm::Sha1, &parts).ok();
                if econtent.is_none() || econtent != digest {
                    return report.fail(
                        SubIndication::HASH_FAILURE,
                        "hash-mismatch",
                        "the adbe.pkcs7.sha1 content is not the SHA-1 of the signed byte ranges",
                    );
                }
                self.verify_cms_inner(&s.contents, None, &o, fx, false, extra)
            }
            other => {
                return report.fail(
                    SubIndication::FORMAT_FAILURE,
                    "unsupported-subfilter",
                    format!("/SubFilter /{other} is not supported (adbe.pkcs7.detached, ETSI.CAdES.detached, adbe.pkcs7.sha1, ETSI.RFC3161)"),
                )
            }
        };
        let mut r = v.signatures.into_iter().next().unwrap_or_else(|| {
            let e = v.errors.first();
            SignatureReport::pending().fail(
                SubIndication::FORMAT_FAILURE,
                e.map_or("format", |e| e.code.as_str()),
                e.map_or_else(
                    || "the /Contents is not a CMS signature".into(),
                    |e| e.message.clone(),
                ),
            )
        });
        if poe.is_some() {
            r.warnings.push(
                "validated at the genTime of a document time-stamp over this revision (proof of existence)"
                    .into(),
            );
        }
        r
    }

    /// A document time-stamp: the token verifies (TSA, chain) and its imprint is the hash of
    /// the byte ranges. Returns the report and genTime when valid.
    fn pdf_doc_timestamp(
        &self,
        doc: &Document<'_>,
        s: &PdfSignature,
        opts: &RequestOptions,
        fx: &mut Fetches<'_>,
    ) -> (SignatureReport, Option<i64>) {
        let report = SignatureReport::pending();
        let ranges = match &s.ranges {
            Ok(r) => r.clone(),
            Err(why) => {
                return (
                    report.fail(SubIndication::FORMAT_FAILURE, "byte-range", why.clone()),
                    None,
                )
            }
        };
        let parts: [&[u8]; 2] = [
            doc.data.get(ranges[0].clone()).unwrap_or_default(),
            doc.data.get(ranges[1].clone()).unwrap_or_default(),
        ];
        let check = self.check_timestamp(&s.contents, &parts, opts, fx);
        let gen_time = check.result.as_ref().ok().copied();
        let mut r = match (check.tsa, &check.result) {
            (Some(tsa), _) => tsa,
            (None, Err(why)) if check.report.is_some() => {
                report.fail(SubIndication::HASH_FAILURE, "hash-mismatch", why.clone())
            }
            (None, Err(why)) => report.fail(SubIndication::FORMAT_FAILURE, "format", why.clone()),
            (None, Ok(_)) => report,
        };
        r.timestamp = check.report;
        (r, gen_time)
    }
}

/// A PDF date (ISO 32000-1 §7.9.4: `D:YYYYMMDDHHmmSSOHH'mm'`, later parts optional) as unix
/// seconds.
fn pdf_date(text: &str) -> Option<i64> {
    let t = text.strip_prefix("D:").unwrap_or(text);
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    let num = |from: usize, len: usize, default: u32| -> Option<u32> {
        match digits.get(from..from + len) {
            Some(d) => d.parse().ok(),
            None if from >= 4 && digits.len() <= from => Some(default),
            None => None,
        }
    };
    let year = i32::try_from(num(0, 4, 0)?).ok()?;
    let month = time::Month::try_from(u8::try_from(num(4, 2, 1)?).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(year, month, u8::try_from(num(6, 2, 1)?).ok()?).ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(num(8, 2, 0)?).ok()?,
        u8::try_from(num(10, 2, 0)?).ok()?,
        u8::try_from(num(12, 2, 0)?).ok()?,
    )
    .ok()?;
    let rest = t.get(digits.len()..).unwrap_or_default();
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let o: String = rest.chars().filter(char::is_ascii_digit).collect();
            let h: i32 = o.get(0..2)?.parse().ok()?;
            let m: i32 = o.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            let secs = (h * 3600 + m * 60) * if sign == '-' { -1 } else { 1 };
            time::UtcOffset::from_whole_seconds(secs).ok()?
        }
        _ => time::UtcOffset::UTC,
    };
    Some(
        time::PrimitiveDateTime::new(date, clock)
            .assume_offset(offset)
            .unix_timestamp(),
    )
}

#[cfg(test)]
mod tests {
    use super::pdf_date;

    #[test]
    fn pdf_dates() {
        // 2024-06-01T12:00:00+05:00
        assert_eq!(pdf_date("D:20240601120000+05'00'"), Some(1_717_225_200));
        assert_eq!(pdf_date("D:20240601070000Z"), Some(1_717_225_200));
        assert_eq!(pdf_date("D:2024"), Some(1_704_067_200));
        assert_eq!(pdf_date("D:2024139"), None);
        assert_eq!(pdf_date("yesterday"), None);
    }
}
