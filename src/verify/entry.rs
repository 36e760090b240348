//! The one verification entry point: an [`Input`] of any format, verified offline
//! ([`Verifier::verify`]), with the fetches that would complete it ([`Verifier::verify_collect`]),
//! or with those fetches run ([`Verifier::verify_online`]). The CLI, the HTTP routes, the batch
//! endpoint, the benches and the tests all build an `Input`; the per-format pipelines behind it
//! are private.

use super::{RequestOptions, Verifier};
use crate::formats::barcode;
use crate::pki::cert::Certificate;
use crate::pki::work::Work;
use crate::revocation::rounds::{block_on, drive, Rounds};
use crate::revocation::{Fetch, FetchJob, Run};
use crate::verdict::{Format, Verdict};
use std::convert::Infallible;
use std::future::ready;
use std::sync::Arc;

/// What to verify. Borrowed: the caller owns the bytes (a file read, a request body).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Input<'a> {
    /// A CMS SignedData (DER, BER, PEM or base64), attached or with detached content.
    Cms {
        /// The signature.
        signature: &'a [u8],
        /// The detached content, when the signature does not hold it.
        content: Option<&'a [u8]>,
    },
    /// A PDF: every signature in it.
    Pdf(&'a [u8]),
    /// An XML document: every enveloped signature in it.
    Xml(&'a [u8]),
    /// Scanned 2D-barcode payloads of one document, any order (egov.kz, SIGEX, HC1).
    Barcodes {
        /// One payload per symbol.
        payloads: &'a [&'a [u8]],
        /// The signed document a SIGEX card refers to, when the caller has it.
        content: Option<&'a [u8]>,
    },
    /// PNG or JPEG images holding the QR codes of one document.
    BarcodeImages {
        /// The images, any order.
        images: &'a [&'a [u8]],
        /// As for [`Input::Barcodes`].
        content: Option<&'a [u8]>,
    },
    /// A certificate bundle (PEM or DER): the first certificate is validated, the others are
    /// path candidates.
    Chain {
        /// The bundle.
        certificates: &'a [u8],
        /// Intermediates allowed between leaf and anchor (OpenSSL's `-verify_depth`); overrides
        /// the configured path length limit.
        max_depth: Option<usize>,
    },
    /// An already parsed certificate, with extra path candidates.
    Certificate {
        /// The certificate validated.
        leaf: &'a Arc<Certificate>,
        /// Path candidates besides the configured intermediates.
        extra: &'a [Arc<Certificate>],
        /// As for [`Input::Chain`].
        max_depth: Option<usize>,
    },
}

impl Input<'_> {
    /// The verdict format of this input, for answers given before (or instead of) verifying
    /// it: a batch line that fails is reported in its own format, not as CMS.
    pub fn format(&self) -> Format {
        match self {
            Input::Cms { .. } => Format::Cms,
            Input::Pdf(_) => Format::Pdf,
            Input::Xml(_) => Format::Xmldsig,
            Input::Barcodes { payloads, .. } => {
                match payloads.first().and_then(|p| barcode::detect(p)) {
                    Some(barcode::Kind::Ddc) => Format::DdcBarcode,
                    Some(barcode::Kind::Hc1) => Format::Hc1,
                    Some(barcode::Kind::Egov) | None => Format::EgovBarcode,
                }
            }
            Input::BarcodeImages { .. } => Format::EgovBarcode,
            Input::Chain { .. } | Input::Certificate { .. } => Format::Chain,
        }
    }
}

impl Verifier {
    /// Verifies `input` without network access: revocation comes from the input itself,
    /// `--crl` and the caches.
    pub fn verify(&self, input: &Input<'_>, opts: &RequestOptions) -> Verdict {
        let work = self.new_work();
        let run = Run {
            done: &[],
            work: &work,
        };
        self.verify_collect(input, opts, run).0
    }

    /// A fresh work budget for one request ([`crate::pki::work`]): every verification run of
    /// the request spends from it.
    pub fn new_work(&self) -> Arc<Work> {
        Arc::new(Work::new(self.config.limits.max_request_signature_checks))
    }

    /// [`Verifier::verify`], also returning the fetches that would complete the revocation
    /// picture. `run` holds the fetches already run for this request (they are not asked for
    /// again) and its work budget. Drive it with [`crate::revocation::rounds::drive`].
    pub fn verify_collect(
        &self,
        input: &Input<'_>,
        opts: &RequestOptions,
        run: Run<'_>,
    ) -> (Verdict, Vec<FetchJob>) {
        let (mut verdict, wanted) = match *input {
            Input::Cms { signature, content } => {
                self.verify_cms_collect(signature, content, opts, run)
            }
            Input::Pdf(pdf) => self.verify_pdf_collect(pdf, opts, run),
            Input::Xml(xml) => self.verify_xml_collect(xml, opts, run),
            Input::Barcodes { payloads, content } => {
                self.verify_barcodes_collect(payloads, content, opts, run)
            }
            Input::BarcodeImages { images, content } => {
                self.verify_barcode_images_collect(images, content, opts, run)
            }
            Input::Chain {
                certificates,
                max_depth,
            } => self.verify_chain_collect(certificates, max_depth, opts, run),
            Input::Certificate {
                leaf,
                extra,
                max_depth,
            } => self.verify_certificate_collect(leaf, extra, max_depth, opts, run),
        };
        // Every verdict says when it was judged, whoever asked (CLI, batch, HTTP).
        verdict.set_validation_time(opts.at, crate::pki::time::now());
        (verdict, wanted)
    }

    /// [`Verifier::verify`], fetching missing revocation data with `fetcher` between rounds
    /// (blocks this thread; the fetch-round driver the server uses too).
    pub fn verify_online(
        &self,
        input: &Input<'_>,
        opts: &RequestOptions,
        fetcher: &dyn Fetch,
    ) -> Verdict {
        let rounds = Rounds::new(
            self.config.revocation.deadline,
            opts.revocation,
            self.new_work(),
        );
        let answer = block_on(drive(
            rounds,
            |r| {
                let step = r.step(self.verify_collect(input, opts, r.run()), |v| v);
                ready(Ok::<_, Infallible>(step))
            },
            |jobs, deadline| {
                self.run_fetches_until(&jobs, fetcher, deadline);
                ready(jobs)
            },
        ));
        answer.unwrap_or_else(|never| match never {})
    }
}
