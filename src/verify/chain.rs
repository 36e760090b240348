//! `tekser verify chain`: a certificate on its own, validated to the trust anchors.

use super::signer::{chain_report, path_error_code, signer_report};
use super::{validation_time, RequestOptions, RevocationMode, Verifier};
use crate::pki::cert::Certificate;
use crate::pki::path::{build_path, LeafUsage, PathOptions};
use crate::pki::trust::parse_bundle;
use crate::verdict::{Format, SignatureReport, SubIndication, Verdict};
use std::sync::Arc;

impl Verifier {
    /// Validates the first certificate in `input` (PEM or DER); further certificates in the same
    /// input are path candidates. `max_depth` overrides the configured path length limit.
    pub fn verify_chain(
        &self,
        input: &[u8],
        max_depth: Option<usize>,
        opts: &RequestOptions,
    ) -> Verdict {
        if input.len() > self.config.limits.max_input_bytes {
            return Verdict::format_failure(Format::Chain, "format", "certificate input too large");
        }
        let mut certs = match parse_bundle(input) {
            Ok(c) => c,
            Err(e) => return Verdict::format_failure(Format::Chain, "format", e),
        };
        if certs.len() > self.config.limits.max_certificates {
            return Verdict::format_failure(
                Format::Chain,
                "format",
                "too many certificates in the input",
            );
        }
        if certs.is_empty() {
            return Verdict::format_failure(Format::Chain, "format", "no certificate in the input");
        }
        let leaf = Arc::new(certs.remove(0));
        let extra: Vec<Arc<Certificate>> = certs.into_iter().map(Arc::new).collect();
        self.verify_certificate(&leaf, &extra, max_depth, opts)
    }

    /// Validates one parsed certificate with `extra` path candidates besides the configured ones.
    pub fn verify_certificate(
        &self,
        leaf: &Arc<Certificate>,
        extra: &[Arc<Certificate>],
        max_depth: Option<usize>,
        opts: &RequestOptions,
    ) -> Verdict {
        let mut report = SignatureReport::pending();
        report.signer = Some(signer_report(leaf));
        report.algorithm = Some(leaf.signature_algorithm.oid.to_string());
        let mut path_opts = PathOptions::new(
            validation_time(opts),
            self.config.policy,
            LeafUsage::Any,
            &self.config.limits,
        );
        if let Some(d) = max_depth {
            path_opts.max_depth = d;
        }
        let pool: Vec<Arc<Certificate>> = extra
            .iter()
            .chain(self.intermediates.iter())
            .cloned()
            .collect();
        let report = match build_path(leaf, &self.trust, &pool, &path_opts) {
            Ok(path) => {
                report.chain = chain_report(&path);
                match opts.revocation {
                    RevocationMode::Require => report.fail(
                        SubIndication::TRY_LATER,
                        "revocation-unavailable",
                        "revocation status is required but no OCSP or CRL source is available",
                    ),
                    RevocationMode::Prefer => {
                        report.warnings.push(
                            "revocation status not checked: no OCSP or CRL source available".into(),
                        );
                        report.pass()
                    }
                    RevocationMode::Off => report.pass(),
                }
            }
            Err(e) => {
                let (sub, code) = path_error_code(&e);
                report.fail(sub, code, e.to_string())
            }
        };
        Verdict::from_signatures(Format::Chain, vec![report])
    }
}
