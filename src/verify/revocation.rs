//! The revocation step of the pipeline: every certificate of a validated path that has
//! revocation information is checked; the signer's status goes into the report.

use super::{RequestOptions, RevocationMode, Verifier};
use crate::pki::cert::Certificate;
use crate::pki::ocsp::CertStatus;
use crate::pki::path::ValidPath;
use crate::pki::time::format_rfc3339;
use crate::revocation::{CertOutcome, Context, Embedded, Fetches, Finding};
use crate::verdict::{RevocationReport, SignatureReport, SubIndication};
use std::sync::Arc;

/// CRLReason names (RFC 5280 §5.3.1).
fn reason_name(r: Option<u8>) -> &'static str {
    match r {
        Some(0) => "unspecified",
        Some(1) => "keyCompromise",
        Some(2) => "cACompromise",
        Some(3) => "affiliationChanged",
        Some(4) => "superseded",
        Some(5) => "cessationOfOperation",
        Some(6) => "certificateHold",
        Some(8) => "removeFromCRL",
        Some(9) => "privilegeWithdrawn",
        Some(10) => "aACompromise",
        _ => "no reason given",
    }
}

fn report_of(f: &Finding) -> RevocationReport {
    let (status, revoked_at) = match f.status {
        CertStatus::Good => ("good", None),
        CertStatus::Revoked { at, .. } => ("revoked", Some(format_rfc3339(at))),
        CertStatus::Unknown => ("unknown", None),
    };
    RevocationReport {
        status: status.into(),
        source: f.source.as_str().into(),
        produced_at: Some(format_rfc3339(f.produced_at)),
        next_update: f.next_update.map(format_rfc3339),
        revoked_at,
    }
}

impl Verifier {
    /// Checks `path` at `time`. Returns the report to continue with, or the failed report.
    /// Fetches that would answer missing statuses are added to `fx.wanted`.
    pub(super) fn check_revocation(
        &self,
        mut report: SignatureReport,
        path: &ValidPath,
        pool: &[Arc<Certificate>],
        embedded: &Embedded,
        time: i64,
        opts: &RequestOptions,
        fx: &mut Fetches<'_>,
    ) -> Result<SignatureReport, SignatureReport> {
        if opts.revocation == RevocationMode::Off {
            return Ok(report);
        }
        let certs = path.certs();
        let cx = Context {
            at: time,
            now: crate::pki::time::now().max(time),
            policy: self.config.policy,
            anchors: &self.trust,
            pool,
            embedded,
            limits: &self.config.limits,
            work: &Arc::clone(&fx.work),
        };
        let mut missing = Vec::new();
        // The anchor (last) is trusted as configured; every certificate below it is checked.
        for (i, cert) in certs.iter().enumerate().take(certs.len().saturating_sub(1)) {
            let who = if i == 0 {
                "the signer's certificate"
            } else {
                "CA certificate"
            };
            match self.revocation.check(certs, i, &cx, fx) {
                CertOutcome::Known(f) => {
                    if i == 0 {
                        report.revocation = report_of(&f);
                    }
                    match f.status {
                        CertStatus::Revoked { at, reason } if at <= time => {
                            return Err(report.fail(
                                SubIndication::REVOKED,
                                "revoked",
                                format!(
                                    "{who} {} was revoked at {} ({}), at or before the validation time {}",
                                    cert.subject.rfc4514,
                                    format_rfc3339(at),
                                    reason_name(reason),
                                    format_rfc3339(time)
                                ),
                            ));
                        }
                        CertStatus::Revoked { at, reason } => report.warnings.push(format!(
                            "{who} {} was revoked at {} ({}), after the validation time",
                            cert.subject.rfc4514,
                            format_rfc3339(at),
                            reason_name(reason)
                        )),
                        CertStatus::Unknown => missing.push(format!(
                            "{}: the {} source does not know the certificate",
                            cert.subject.rfc4514,
                            f.source.as_str()
                        )),
                        CertStatus::Good => {}
                    }
                }
                CertOutcome::Missing(why) => {
                    missing.push(format!("{}: {why}", cert.subject.rfc4514));
                }
                CertOutcome::Exempt => {}
            }
        }
        // A source skipped for want of budget is not "unavailable" (which `prefer` lets pass):
        // the request ran out of work and nothing was proved. Checked here, so every caller
        // (documents, `verify chain`, certificate inspection) gets it.
        if fx.work.refused() {
            return Err(work_spent(report, &fx.work));
        }
        if missing.is_empty() {
            return Ok(report);
        }
        match opts.revocation {
            RevocationMode::Require => Err(report.fail(
                SubIndication::TRY_LATER,
                "revocation-unavailable",
                format!(
                    "revocation status is required but not available: {}",
                    missing.join("; ")
                ),
            )),
            _ => {
                report.warnings.push(format!(
                    "revocation status not checked: {}",
                    missing.join("; ")
                ));
                Ok(report)
            }
        }
    }
}

/// The verdict of a signature whose checks the request's work budget cut short: INDETERMINATE
/// (nothing was disproved; a larger budget could decide it), never a pass.
pub(super) fn work_spent(
    report: SignatureReport,
    work: &crate::pki::work::Work,
) -> SignatureReport {
    report.fail(
        SubIndication::SIG_CONSTRAINTS_FAILURE,
        "work-budget",
        crate::pki::work::WorkSpent(work.limit()).to_string(),
    )
}
