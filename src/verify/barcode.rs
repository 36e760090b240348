//! Barcode sets: recognise, reassemble, then verify the signed document inside (XMLDSig for
//! egov e-certificates, CMS for SIGEX document cards) and report its decoded fields.

use super::xml::Covered;
use super::{RequestOptions, RevocationMode, Verifier};
use crate::formats::barcode::zip::ZipLimits;
use crate::formats::barcode::{self, ddc, egov, qr, BarcodeError, Kind};
use crate::formats::xml::c14n::Apex;
use crate::formats::xml::{self, Document, Kind as NodeKind, NodeId};
use crate::formats::xmldsig::DSIG_NS;
use crate::revocation::{FetchJob, Fetches, Run};
use crate::verdict::{ClaimedTime, Format, Indication, SignatureReport, SubIndication, Verdict};
use serde_json::{json, Map, Value};

/// The document fields reported from an e-certificate, by the element names state databases use
/// (first match in the signed node-set, outside signatures), and their names in the verdict.
const EGOV_FIELDS: &[(&str, &[&str])] = &[
    (
        "request_number",
        &["requestNumber", "requestId", "RequestNumber"],
    ),
    (
        "declarant_iin",
        &["declarantId", "declarantIin", "iin", "IIN"],
    ),
    ("request_date", &["requestDate", "RequestDate"]),
    ("response_date", &["responseDate", "ResponseDate"]),
    ("status", &["status", "Status"]),
    ("business_data", &["businessData", "BusinessData"]),
];

impl Verifier {
    /// Verifies a barcode set (one scanned payload per element, any order); `content` is the signed
    /// document of a SIGEX card, when the caller has it. Also returns the fetches that would
    /// complete the revocation picture.
    pub(crate) fn verify_barcodes_collect(
        &self,
        payloads: &[&[u8]],
        content: Option<&[u8]>,
        opts: &RequestOptions,
        run: Run<'_>,
    ) -> (Verdict, Vec<FetchJob>) {
        let kind = match self.barcode_kind(payloads) {
            Ok(k) => k,
            Err((format, e)) => return (barcode_failure(format, &e), Vec::new()),
        };
        let l = &self.config.limits;
        let zip_limits = ZipLimits {
            max_entry_bytes: l.max_unzipped_bytes,
            max_ratio: l.max_zip_ratio,
        };
        match kind {
            Kind::Egov => {
                let (envelope, document) = match egov::assemble(
                    payloads,
                    &PART_LIMITS,
                    &zip_limits,
                    l.max_barcode_parts,
                ) {
                    Ok(x) => x,
                    Err(e) => return (barcode_failure(Format::EgovBarcode, &e), Vec::new()),
                };
                let doc = match xml::parse(&document, &self.xml_limits()) {
                    Ok(d) => d,
                    Err(e) => {
                        return (
                            Verdict::format_failure(
                                Format::EgovBarcode,
                                "xml",
                                format!("the e-certificate document: {e}"),
                            ),
                            Vec::new(),
                        )
                    }
                };
                let mut fx = Fetches::new(run);
                let mut v = match self.verify_xml_document(&doc, opts, &mut fx) {
                    Ok((mut reports, covered)) => {
                        let mut fields = Map::new();
                        fields.insert("parts".into(), json!(envelope.parts));
                        // Fields are read only from what a signature's references covered.
                        if let Some(c) = covered.iter().flatten().next() {
                            fields.extend(egov_fields(&doc, *c));
                        }
                        let mut warnings = envelope_warnings(&envelope, &fields);
                        warnings.extend(
                            fields
                                .values()
                                .filter_map(|v| v.get("ambiguous")?.as_str())
                                .map(str::to_owned),
                        );
                        for r in &mut reports {
                            r.warnings.extend(warnings.iter().cloned());
                        }
                        self.egov_claimed_time(&doc, &fields, &mut reports, &fx);
                        let mut v = Verdict::from_signatures(Format::EgovBarcode, reports);
                        v.document = Some(Value::Object(fields));
                        v
                    }
                    Err(e) => {
                        Verdict::format_failure(Format::EgovBarcode, "xmldsig", e.to_string())
                    }
                };
                v.unsigned = Some(json!({
                    "favor_id": envelope.favor_id,
                    "creation_date": envelope.creation_date,
                }));
                v.format = Format::EgovBarcode;
                (v, fx.wanted)
            }
            Kind::Ddc => {
                let (card, cms) = match ddc::assemble(payloads, &zip_limits, l.max_barcode_parts) {
                    Ok(x) => x,
                    Err(e) => return (barcode_failure(Format::DdcBarcode, &e), Vec::new()),
                };
                let (mut v, wanted) = self.verify_cms_collect(&cms, content, opts, run);
                v.format = Format::DdcBarcode;
                v.document = Some(json!({
                    "parts": card.parts,
                    "content_supplied": content.is_some(),
                }));
                // signId names the card in each part and the CMS entry in the archive, but the
                // CMS does not carry it: a card renamed to another signId verifies the same
                // (issue 13 item 9). The archive's entry names are as unsigned.
                v.unsigned = Some(json!({
                    "sign_id": card.sign_id,
                    "entries": card.entries,
                }));
                for s in &mut v.signatures {
                    s.warnings.push(
                        "the card's signId is not covered by the signature (reported under `unsigned`)"
                            .to_owned(),
                    );
                }
                (v, wanted)
            }
            Kind::Hc1 => (
                Verdict::format_failure(
                    Format::Hc1,
                    "unsupported-format",
                    "EU DCC (HC1:) payloads are recognised but not verified by this version",
                ),
                Vec::new(),
            ),
        }
    }

    /// Verifies the QR codes found in images (PNG or JPEG scans or photos, any order).
    pub(crate) fn verify_barcode_images_collect(
        &self,
        images: &[&[u8]],
        content: Option<&[u8]>,
        opts: &RequestOptions,
        run: Run<'_>,
    ) -> (Verdict, Vec<FetchJob>) {
        let mut payloads = Vec::new();
        for (i, img) in images.iter().enumerate() {
            match qr::decode_image(img, self.config.limits.max_image_pixels) {
                Ok(luma) => {
                    payloads.extend(qr::read_qr_codes(luma).into_iter().map(String::into_bytes))
                }
                Err(e) => {
                    return (
                        Verdict::format_failure(
                            Format::EgovBarcode,
                            "image",
                            format!("image {}: {e}", i + 1),
                        ),
                        Vec::new(),
                    )
                }
            }
        }
        if payloads.is_empty() {
            return (
                Verdict::format_failure(
                    Format::EgovBarcode,
                    "no-barcode",
                    "no QR code was found in the image",
                ),
                Vec::new(),
            );
        }
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        self.verify_barcodes_collect(&refs, content, opts, run)
    }

    /// One kind for the whole set, within the count and size budgets.
    fn barcode_kind(&self, payloads: &[&[u8]]) -> Result<Kind, (Format, BarcodeError)> {
        let l = &self.config.limits;
        let fail = |e| (Format::EgovBarcode, e);
        if payloads.is_empty() {
            return Err(fail(BarcodeError::Assembly("no barcode payloads".into())));
        }
        if payloads.len() > l.max_barcode_parts {
            return Err(fail(BarcodeError::Budget(format!(
                "{} payloads exceed the limit of {}",
                payloads.len(),
                l.max_barcode_parts
            ))));
        }
        let total: usize = payloads.iter().map(|p| p.len()).sum();
        if total > l.max_barcode_bytes {
            return Err(fail(BarcodeError::Budget(format!(
                "{total} bytes of payloads exceed the limit of {}",
                l.max_barcode_bytes
            ))));
        }
        let mut kind = None;
        for (i, p) in payloads.iter().enumerate() {
            let k = barcode::detect(p).ok_or_else(|| {
                fail(BarcodeError::Unrecognised(
                    i + 1,
                    "not an egov BarcodeElement, a SIGEX document-card part or an HC1: payload"
                        .into(),
                ))
            })?;
            match kind {
                None => kind = Some(k),
                Some(prev) if prev != k => {
                    return Err((
                        format_of(prev),
                        BarcodeError::Assembly(format!(
                            "payload {} is a {k:?} part in a set of {prev:?} parts",
                            i + 1
                        )),
                    ))
                }
                Some(_) => {}
            }
        }
        kind.ok_or_else(|| fail(BarcodeError::Assembly("no barcode payloads".into())))
    }
}

/// XML budgets for one symbol's envelope (a QR symbol holds under 3 KB of a flat element).
const PART_LIMITS: xml::XmlLimits = xml::XmlLimits {
    max_bytes: 64 << 10,
    max_depth: 8,
    max_nodes: 256,
};

fn format_of(k: Kind) -> Format {
    match k {
        Kind::Egov => Format::EgovBarcode,
        Kind::Ddc => Format::DdcBarcode,
        Kind::Hc1 => Format::Hc1,
    }
}

fn barcode_failure(format: Format, e: &BarcodeError) -> Verdict {
    let code = match e {
        BarcodeError::Unrecognised(..) => "unrecognised-payload",
        BarcodeError::Part(..) => "barcode-part",
        BarcodeError::Assembly(_) => "barcode-parts",
        BarcodeError::Budget(_) => "limit",
        BarcodeError::Zip(_) => "archive",
    };
    Verdict::format_failure(format, code, e.to_string())
}

/// Warnings about an egov envelope: its values are not signed, and where the signed document has
/// the same value (FavorID is the request number) they must agree.
fn envelope_warnings(envelope: &egov::Envelope, signed: &Map<String, Value>) -> Vec<String> {
    let mut out = vec![
        "FavorID and creationDate of the barcode envelope are not covered by the signature (reported under `unsigned`)"
            .to_owned(),
    ];
    if let Some(Value::String(number)) = signed.get("request_number") {
        if number.trim() != envelope.favor_id {
            out.push(format!(
                "the envelope's unsigned FavorID {:?} differs from the signed request number {:?}",
                envelope.favor_id,
                number.trim()
            ));
        }
    }
    if !envelope.other_creation_dates.is_empty() {
        out.push(format!(
            "the parts disagree on the unsigned creationDate: {:?} and {}",
            envelope.creation_date,
            envelope
                .other_creation_dates
                .iter()
                .map(|d| format!("{d:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

/// The e-certificate's key fields from the node-set a signature covered.
impl Verifier {
    /// A signature that failed only on time (OUT_OF_BOUNDS_NO_POE) is checked again at the
    /// document's own signed date (responseDate, else requestDate): a genuine e-certificate from
    /// 2020 read today says "valid at its own date, which nothing independent proves".
    fn egov_claimed_time(
        &self,
        doc: &Document,
        fields: &Map<String, Value>,
        reports: &mut [SignatureReport],
        fx: &Fetches<'_>,
    ) {
        if !reports
            .iter()
            .any(|r| r.sub_indication() == Some(SubIndication::OUT_OF_BOUNDS_NO_POE))
        {
            return;
        }
        let Some((source, text, at)) = [
            ("egov-response-date", "response_date"),
            ("egov-request-date", "request_date"),
        ]
        .into_iter()
        .find_map(|(source, key)| {
            let text = fields.get(key)?.as_str()?;
            Some((source, text, crate::pki::time::parse_rfc3339(text).ok()?))
        }) else {
            return;
        };
        let then = RequestOptions {
            at: Some(at),
            revocation: RevocationMode::Off,
            ..RequestOptions::default()
        };
        let mut fx = fx.offline_sharing();
        let Ok((again, _)) = self.verify_xml_document(doc, &then, &mut fx) else {
            return;
        };
        for (r, a) in reports.iter_mut().zip(again) {
            if r.sub_indication() != Some(SubIndication::OUT_OF_BOUNDS_NO_POE) {
                continue;
            }
            r.claimed_time = Some(ClaimedTime {
                time: text.to_owned(),
                source: source.into(),
                signed: true,
                chain_valid: a.indication() == Indication::TOTAL_PASSED,
                reason: a.errors.first().map(|e| e.message.clone()),
            });
        }
    }
}

fn egov_fields(doc: &Document, covered: Covered) -> Map<String, Value> {
    let apex = match covered.apex {
        Apex::Document => doc.root,
        Apex::Element(e) => e,
    };
    let mut out = Map::new();
    let elements = signed_elements(doc, apex);
    for &(key, names) in EGOV_FIELDS {
        let mut values = elements
            .iter()
            .copied()
            .filter(|&id| {
                doc.element(id)
                    .is_some_and(|e| names.contains(&e.local.as_str()))
            })
            .map(|id| tree(doc, id));
        let first = values.next();
        let differs = first.as_ref().is_some_and(|f| values.any(|v| v != *f));
        match first {
            Some(v) if !differs => {
                out.insert(key.to_owned(), v);
            }
            // Two signed elements with one field's name (in any namespace) and different
            // contents: a reader of the first and a reader of the last see different
            // documents, so neither is reported.
            Some(_) => {
                out.insert(
                    key.to_owned(),
                    json!({"ambiguous": format!("the signed document has several different {} elements; none is reported", names.first().copied().unwrap_or(key))}),
                );
            }
            None => {}
        }
    }
    out
}

/// Elements under `apex` in document order, skipping ds:Signature subtrees.
fn signed_elements(doc: &Document, apex: NodeId) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut stack = vec![apex];
    while let Some(id) = stack.pop() {
        let Some(e) = doc.element(id) else { continue };
        if e.ns == DSIG_NS && e.local == "Signature" {
            continue;
        }
        out.push(id);
        stack.extend(e.children.iter().rev().copied());
    }
    out
}

/// An element as JSON: text for a leaf, else an object of children (repeated names become
/// arrays), attributes as `@name`. Depth is bounded by the parser's depth budget.
fn tree(doc: &Document, id: NodeId) -> Value {
    let Some(e) = doc.element(id) else {
        return Value::Null;
    };
    let has_children = e.children.iter().any(|&c| doc.element(c).is_some());
    if !has_children && e.attrs.is_empty() {
        return Value::String(doc.text(id).trim().to_owned());
    }
    let mut map = Map::new();
    for a in &e.attrs {
        map.insert(format!("@{}", a.local), Value::String(a.value.clone()));
    }
    for &c in &e.children {
        match doc.nodes.get(c).map(|n| &n.kind) {
            Some(NodeKind::Element(ce)) => {
                if ce.ns == DSIG_NS && ce.local == "Signature" {
                    continue;
                }
                let v = tree(doc, c);
                match map.get_mut(&ce.local) {
                    Some(Value::Array(arr)) => arr.push(v),
                    Some(prev) => {
                        let first = prev.take();
                        *prev = Value::Array(vec![first, v]);
                    }
                    None => {
                        map.insert(ce.local.clone(), v);
                    }
                }
            }
            Some(NodeKind::Text(t)) if !t.trim().is_empty() => {
                map.insert("#text".into(), Value::String(t.trim().to_owned()));
            }
            _ => {}
        }
    }
    Value::Object(map)
}
