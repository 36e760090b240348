//! `tekser verify chain`: a certificate on its own, validated to the trust anchors.

use super::signer::{path_error_code, set_chain, signer_report};
use super::{validation_time, RequestOptions, Verifier};
use crate::pki::cert::Certificate;
use crate::pki::path::{build_path_within, LeafUsage, PathOptions};
use crate::pki::trust::parse_bundle_at_most;
use crate::revocation::{Embedded, FetchJob, Fetches, Run};
use crate::verdict::{Format, SignatureReport, Verdict};
use std::sync::Arc;

impl Verifier {
    /// Validates the first certificate in `input` (PEM or DER); further certificates in the same
    /// input are path candidates. Also returns the wanted fetches.
    pub(crate) fn verify_chain_collect(
        &self,
        input: &[u8],
        max_depth: Option<usize>,
        opts: &RequestOptions,
        run: Run<'_>,
    ) -> (Verdict, Vec<FetchJob>) {
        match self.parse_chain_input(input) {
            Ok((leaf, extra)) => {
                self.verify_certificate_collect(&leaf, &extra, max_depth, opts, run)
            }
            Err(v) => (v, Vec::new()),
        }
    }

    /// The leaf and the extra certificates of a `verify chain` input.
    #[allow(clippy::type_complexity)]
    fn parse_chain_input(
        &self,
        input: &[u8],
    ) -> Result<(Arc<Certificate>, Vec<Arc<Certificate>>), Verdict> {
        if input.len() > self.config.limits.max_input_bytes {
            return Err(Verdict::format_failure(
                Format::Chain,
                "format",
                "certificate input too large",
            ));
        }
        // The count budget is applied while the bundle is read, not after it was parsed whole.
        let mut certs = match parse_bundle_at_most(input, self.config.limits.max_certificates) {
            Ok(c) => c,
            Err(e) => return Err(Verdict::format_failure(Format::Chain, "format", e)),
        };
        if certs.len() > self.config.limits.max_certificates {
            return Err(Verdict::format_failure(
                Format::Chain,
                "format",
                "too many certificates in the input",
            ));
        }
        if certs.is_empty() {
            return Err(Verdict::format_failure(
                Format::Chain,
                "format",
                "no certificate in the input",
            ));
        }
        let leaf = Arc::new(certs.remove(0));
        let extra: Vec<Arc<Certificate>> = certs.into_iter().map(Arc::new).collect();
        Ok((leaf, extra))
    }

    /// Validates one parsed certificate with `extra` path candidates besides the configured ones;
    /// `max_depth` (intermediates allowed between leaf and anchor, as OpenSSL's `-verify_depth`
    /// counts) overrides the configured path length limit. Also returns the wanted fetches.
    pub(crate) fn verify_certificate_collect(
        &self,
        leaf: &Arc<Certificate>,
        extra: &[Arc<Certificate>],
        max_depth: Option<usize>,
        opts: &RequestOptions,
        run: Run<'_>,
    ) -> (Verdict, Vec<FetchJob>) {
        let mut fx = Fetches::new(run);
        let v = self.verify_certificate_jobs(leaf, extra, max_depth, opts, &mut fx);
        (v, fx.wanted)
    }

    fn verify_certificate_jobs(
        &self,
        leaf: &Arc<Certificate>,
        extra: &[Arc<Certificate>],
        max_depth: Option<usize>,
        opts: &RequestOptions,
        fx: &mut Fetches<'_>,
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
        // `max_depth` counts intermediates (OpenSSL's -verify_depth, x509-limbo); the path
        // options count the leaf too.
        if let Some(d) = max_depth {
            path_opts.max_depth = d.saturating_add(1);
        }
        path_opts.cert_policy = self.config.cert_policy.clone();
        let pool: Vec<Arc<Certificate>> = extra
            .iter()
            .chain(self.intermediates.iter())
            .cloned()
            .collect();
        let report = match build_path_within(leaf, &self.trust, &pool, &path_opts, &fx.work) {
            Ok(path) => {
                set_chain(&mut report, &path, &self.trust);
                let embedded = Embedded::default();
                let time = validation_time(opts);
                match self.check_revocation(report, &path, &pool, &embedded, time, opts, fx) {
                    Ok(r) => r.pass(),
                    Err(failed) => failed,
                }
            }
            Err(e) => {
                let (sub, code) = path_error_code(&e, false);
                report.fail(sub, code, e.to_string())
            }
        };
        Verdict::from_signatures(Format::Chain, vec![report])
    }
}
