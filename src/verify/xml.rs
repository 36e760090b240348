//! XMLDSig verification: one report per `ds:Signature`, each judged like a CMS signer once its
//! References and SignatureValue check out.

use super::signer::signer_report;
use super::{validation_time, RequestOptions, Verifier};
use crate::crypto::{self, CryptoError, DigestAlgorithm, SignatureAlgorithm};
use crate::formats::xml::c14n::Apex;
use crate::formats::xml::{self, Document, NodeId, XmlLimits};
use crate::formats::xmldsig::{self, DsigError, Signature};
use crate::pki::cert::Certificate;
use crate::revocation::{Embedded, FetchJob, Fetches, Run};
use crate::verdict::{Format, SignatureReport, SubIndication, Verdict};
use std::sync::Arc;

/// SignatureMethod URIs (RFC 6931, RFC 4051, the NCA's pkigovkz URNs, CryptoPro's cpxmlsec URNs).
fn signature_algorithm(uri: &str) -> Option<SignatureAlgorithm> {
    use DigestAlgorithm as D;
    use SignatureAlgorithm as S;
    Some(match uri {
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => S::RsaPkcs1(D::Sha1),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => S::RsaPkcs1(D::Sha256),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => S::RsaPkcs1(D::Sha384),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => S::RsaPkcs1(D::Sha512),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => S::EcdsaFixed(D::Sha256),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" => S::EcdsaFixed(D::Sha384),
        "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311" => S::Gost34310_2004,
        "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512" => {
            S::Gost2015_512
        }
        "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-256" => {
            S::Gost2015_256
        }
        "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-256" => {
            S::Gost2012_256
        }
        "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-512" => {
            S::Gost2012_512
        }
        "http://www.w3.org/2001/04/xmldsig-more#gostr34102001-gostr3411" => S::Gost2001,
        _ => return None,
    })
}

/// DigestMethod URIs.
fn digest_algorithm(uri: &str) -> Option<DigestAlgorithm> {
    use DigestAlgorithm as D;
    Some(match uri {
        "http://www.w3.org/2000/09/xmldsig#sha1" => D::Sha1,
        "http://www.w3.org/2001/04/xmlenc#sha256" => D::Sha256,
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => D::Sha384,
        "http://www.w3.org/2001/04/xmlenc#sha512" => D::Sha512,
        "http://www.w3.org/2001/04/xmldsig-more#gost34311" => D::Gost34311,
        "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-512" => D::Streebog512,
        "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-256" => D::Streebog256,
        "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-256" => D::Streebog256,
        "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-512" => D::Streebog512,
        "http://www.w3.org/2001/04/xmldsig-more#gostr3411" => D::Gost94CryptoPro,
        _ => return None,
    })
}

/// What one verified signature covered, for callers that read the signed document (barcodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Covered {
    /// The apex of the node-set its (first) Reference hashed.
    pub apex: Apex,
}

impl Verifier {
    /// The XML parser budgets from the configured limits.
    pub(crate) fn xml_limits(&self) -> XmlLimits {
        let l = &self.config.limits;
        XmlLimits {
            max_bytes: l.max_input_bytes,
            max_depth: l.max_xml_depth,
            max_nodes: l.max_xml_nodes,
        }
    }

    /// Verifies every enveloped XML signature in `input`; also returns the wanted fetches.
    pub(crate) fn verify_xml_collect(
        &self,
        input: &[u8],
        opts: &RequestOptions,
        run: Run<'_>,
    ) -> (Verdict, Vec<FetchJob>) {
        let doc = match xml::parse(input, &self.xml_limits()) {
            Ok(d) => d,
            Err(e) => {
                return (
                    Verdict::format_failure(Format::Xmldsig, "xml", e.to_string()),
                    Vec::new(),
                )
            }
        };
        let mut fx = Fetches::new(run);
        let v = match self.verify_xml_document(&doc, opts, &mut fx) {
            Ok((reports, _)) => Verdict::from_signatures(Format::Xmldsig, reports),
            Err(e) => Verdict::format_failure(Format::Xmldsig, "xmldsig", e.to_string()),
        };
        (v, fx.wanted)
    }

    /// Verifies the signatures of a parsed document; for each, what it covered when it passed
    /// its reference checks.
    pub(crate) fn verify_xml_document(
        &self,
        doc: &Document,
        opts: &RequestOptions,
        fx: &mut Fetches<'_>,
    ) -> Result<(Vec<SignatureReport>, Vec<Option<Covered>>), DsigError> {
        let sigs = xmldsig::find_signatures(doc, self.config.limits.max_signers)?;
        let mut reports = Vec::with_capacity(sigs.len());
        let mut covered = Vec::with_capacity(sigs.len());
        for &s in &sigs {
            let (r, c) = self.verify_xml_signature(doc, s, &sigs, opts, fx);
            reports.push(r);
            covered.push(c);
        }
        Ok((reports, covered))
    }

    fn verify_xml_signature(
        &self,
        doc: &Document,
        element: NodeId,
        all: &[NodeId],
        opts: &RequestOptions,
        fx: &mut Fetches<'_>,
    ) -> (SignatureReport, Option<Covered>) {
        use SubIndication as S;
        let report = SignatureReport::pending();
        let sig = match xmldsig::parse_signature(doc, element) {
            Ok(s) => s,
            Err(e) => {
                return (
                    report.fail(S::FORMAT_FAILURE, "xmldsig", e.to_string()),
                    None,
                )
            }
        };

        // 1. References: each digest over exactly the node-set it names.
        let mut report = report;
        let mut first = None;
        for r in &sig.references {
            match check_reference(doc, &sig, r, all, &self.config.policy) {
                Ok((target, note)) => {
                    first.get_or_insert(target.apex);
                    if let Some(n) = note {
                        if !report.warnings.contains(&n) {
                            report.warnings.push(n);
                        }
                    }
                }
                Err((sub, code, msg)) => return (report.fail(sub, code, msg), None),
            }
        }
        let Some(apex) = first else {
            return (
                report.fail(S::FORMAT_FAILURE, "xmldsig", "no Reference"),
                None,
            );
        };
        report.signed_data = Some(describe(doc, apex));

        // 2. The signing certificate: the KeyInfo certificate whose key verifies SignedInfo.
        let Some(alg) = signature_algorithm(&sig.signature_method) else {
            return (
                report.fail(
                    S::CRYPTO_CONSTRAINTS_FAILURE,
                    "unsupported-algorithm",
                    format!("signature method {}", sig.signature_method),
                ),
                None,
            );
        };
        let mut pool: Vec<Arc<Certificate>> = Vec::new();
        for (i, der) in sig
            .certificates
            .iter()
            .take(self.config.limits.max_certificates)
            .enumerate()
        {
            match self.certificate(der) {
                Ok(c) => pool.push(c),
                Err(e) => report
                    .warnings
                    .push(format!("KeyInfo certificate #{} ignored: {e}", i + 1)),
            }
        }
        if pool.is_empty() {
            return (
                report.fail(
                    S::NO_SIGNING_CERTIFICATE_FOUND,
                    "signer-certificate-not-found",
                    "KeyInfo carries no usable X509Certificate",
                ),
                None,
            );
        }
        let message = xmldsig::signed_info_octets(doc, &sig);
        let mut last_error = CryptoError::BadSignature;
        let mut signer = None;
        for c in &pool {
            // Each key tried is a signature operation charged to the request.
            if fx.work.charge().is_err() {
                return (super::revocation::work_spent(report, &fx.work), None);
            }
            let outcome = c
                .public_key
                .as_ref()
                .map_err(|e| CryptoError::BadKey(e.to_string()))
                .and_then(|k| {
                    let resolved = crypto::resolve_named(alg, k, &self.config.policy)?;
                    resolved.verifier.verify(k, &message, &sig.value)?;
                    Ok(resolved)
                });
            match outcome {
                Ok(resolved) => {
                    report.algorithm = Some(resolved.verifier.name().to_owned());
                    signer = Some(Arc::clone(c));
                    break;
                }
                Err(e) => last_error = e,
            }
        }
        let Some(signer) = signer else {
            if let Some(c) = pool.first() {
                report.signer = Some(signer_report(c));
            }
            return (super::cms::crypto_failure(report, last_error), None);
        };
        report.signer = Some(signer_report(&signer));

        // 3. Path and revocation, at the validation time.
        pool.extend(self.intermediates.iter().cloned());
        let time = validation_time(opts);
        let report = self.judge_signer(
            report,
            &signer,
            &pool,
            &Embedded::default(),
            time,
            opts,
            fx,
            false,
        );
        (report, Some(Covered { apex }))
    }
}

type Failure = (SubIndication, &'static str, String);

/// Checks one Reference's digest. The enveloped-signature transform removes the enclosing
/// Signature (XMLDSig §6.6.4). When Kalkan adds a co-signature to a signed document, the earlier
/// signature's digest naturally did not cover it: if the standard node-set does not match but the
/// one without the later signatures does, the reference holds and a note says so.
fn check_reference(
    doc: &Document,
    sig: &Signature,
    r: &xmldsig::Reference,
    all: &[NodeId],
    policy: &crypto::AlgorithmPolicy,
) -> Result<(xmldsig::Target, Option<String>), Failure> {
    use SubIndication as S;
    let target = xmldsig::resolve(doc, r.uri.as_deref()).map_err(|e| match e {
        DsigError::Unsupported(_) => (S::FORMAT_FAILURE, "unsupported-reference", e.to_string()),
        _ => (S::FORMAT_FAILURE, "reference", e.to_string()),
    })?;
    if r.enveloped {
        if !within(doc, sig.element, target.apex) {
            return Err((
                S::FORMAT_FAILURE,
                "reference",
                "enveloped-signature transform on a Reference that does not contain the signature"
                    .into(),
            ));
        }
    }
    let d = digest_algorithm(&r.digest_method).ok_or_else(|| {
        (
            S::CRYPTO_CONSTRAINTS_FAILURE,
            "unsupported-algorithm",
            format!("digest method {}", r.digest_method),
        )
    })?;
    // Reference digests follow the signature policy: SHA-1 only under the legacy setting.
    if d == DigestAlgorithm::Sha1 && policy.sha1 == crypto::Sha1Policy::Refuse {
        return Err((
            S::CRYPTO_CONSTRAINTS_FAILURE,
            "weak-algorithm",
            "SHA-1 reference digest refused (allow only with --danger-allow-sha1, or danger_allow_sha1 = true in the configuration)".into(),
        ));
    }
    let digest = |excluded: &[NodeId]| {
        crypto::digest(d, &xmldsig::reference_octets(doc, r, target, excluded))
    };
    let standard = digest(&[sig.element]).map_err(|e| {
        (
            S::CRYPTO_CONSTRAINTS_FAILURE,
            "unsupported-algorithm",
            e.to_string(),
        )
    })?;
    if standard == r.digest_value {
        return Ok((target, None));
    }
    // Only signatures added after this one (later in document order) may be outside it.
    let others: Vec<NodeId> = all
        .iter()
        .copied()
        .skip_while(|&s| s != sig.element)
        .skip(1)
        .filter(|&s| within(doc, s, target.apex))
        .collect();
    if r.enveloped && !others.is_empty() {
        let mut excluded = others;
        excluded.push(sig.element);
        if digest(&excluded).is_ok_and(|v| v == r.digest_value) {
            return Ok((
                target,
                Some(
                    "the signed content excludes the co-signatures added after this signature"
                        .into(),
                ),
            ));
        }
    }
    Err((
        S::HASH_FAILURE,
        "hash-mismatch",
        format!(
            "DigestValue of Reference URI={:?} does not match the document",
            r.uri.as_deref().unwrap_or("")
        ),
    ))
}

fn within(doc: &Document, node: NodeId, apex: Apex) -> bool {
    match apex {
        Apex::Document => true,
        Apex::Element(a) => doc.is_within(node, a),
    }
}

/// "/a/b[2]": the path of the signed element (or "/" plus the root for the whole document).
fn describe(doc: &Document, apex: Apex) -> String {
    match apex {
        Apex::Document => format!("the whole document ({})", element_path(doc, doc.root)),
        Apex::Element(e) => format!("element {}", element_path(doc, e)),
    }
}

fn element_path(doc: &Document, id: NodeId) -> String {
    let mut parts = Vec::new();
    let mut cur = Some(id);
    while let Some(n) = cur {
        let Some(e) = doc.element(n) else { break };
        let parent = doc.nodes.get(n).and_then(|x| x.parent);
        let mut step = e.local.clone();
        if let Some(p) = parent {
            let same: Vec<NodeId> = doc
                .child_elements(p)
                .filter(|(_, s)| s.local == e.local && s.ns == e.ns)
                .map(|(i, _)| i)
                .collect();
            if same.len() > 1 {
                let pos = same.iter().position(|&i| i == n).unwrap_or(0) + 1;
                step = format!("{step}[{pos}]");
            }
        }
        parts.push(step);
        cur = parent;
    }
    parts.reverse();
    format!("/{}", parts.join("/"))
}
