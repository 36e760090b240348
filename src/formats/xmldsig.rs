//! XML Signature (W3C XMLDSig 1.0 / 1.1) structure: finding `ds:Signature` elements, reading
//! SignedInfo, References, SignatureValue and KeyInfo certificates, and computing what each
//! Reference covers. Only same-document references and the transforms enveloped signatures need
//! (enveloped-signature, the four C14N methods) are accepted: XPath, XSLT and remote URIs are
//! refused, so verification never evaluates code or touches the network.
//!
//! Signature wrapping: a Reference by Id must name exactly one element (IDs are unique or the
//! document is refused), and the verifier reports exactly the node-set it hashed.

use super::xml::c14n::{self, Apex, Method};
use super::xml::{Document, NodeId};
use base64::Engine as _;

/// The XMLDSig namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The enveloped-signature transform.
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// Exclusive C14N's InclusiveNamespaces namespace.
const EXC_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// Most References one signature may carry (real documents have 1–3).
const MAX_REFERENCES: usize = 16;
/// Most transforms per Reference (enveloped + C14N is the usual pair).
const MAX_TRANSFORMS: usize = 4;

/// Why a signature element cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DsigError {
    /// A required element is missing or malformed.
    #[error("XMLDSig structure: {0}")]
    Structure(String),
    /// A feature tekser does not process (transform, URI form, algorithm).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A Reference names an Id that is absent or not unique (signature wrapping).
    #[error("reference {0}")]
    Reference(String),
}

/// One `ds:Signature`.
#[derive(Debug, Clone)]
pub struct Signature {
    /// The Signature element.
    pub element: NodeId,
    /// Its SignedInfo element.
    pub signed_info: NodeId,
    /// CanonicalizationMethod of SignedInfo.
    pub c14n: Method,
    /// SignatureMethod Algorithm URI.
    pub signature_method: String,
    /// References in order.
    pub references: Vec<Reference>,
    /// Decoded SignatureValue.
    pub value: Vec<u8>,
    /// DER certificates from KeyInfo/X509Data/X509Certificate, in order.
    pub certificates: Vec<Vec<u8>>,
}

/// One `ds:Reference`.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The URI attribute (None when absent).
    pub uri: Option<String>,
    /// Whether an enveloped-signature transform is present.
    pub enveloped: bool,
    /// The C14N transform, if one is named (else C14N 1.0 without comments, XMLDSig §4.3.3.2).
    pub c14n: Option<Method>,
    /// DigestMethod Algorithm URI.
    pub digest_method: String,
    /// Decoded DigestValue.
    pub digest_value: Vec<u8>,
}

/// What a Reference resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The apex of the node-set.
    pub apex: Apex,
    /// Whether comments stay (only the XPointer forms keep them, XMLDSig §4.3.3.3).
    pub comments: bool,
}

/// Every `ds:Signature` element in document order, at most `max` (more is an error).
pub fn find_signatures(doc: &Document, max: usize) -> Result<Vec<NodeId>, DsigError> {
    let found: Vec<NodeId> = doc
        .elements()
        .into_iter()
        .filter(|&id| {
            doc.element(id)
                .is_some_and(|e| e.ns == DSIG_NS && e.local == "Signature")
        })
        .collect();
    if found.len() > max {
        return Err(DsigError::Structure(format!(
            "{} signatures exceed the limit of {max}",
            found.len()
        )));
    }
    Ok(found)
}

fn structure(what: &str) -> DsigError {
    DsigError::Structure(what.to_owned())
}

/// Base64 with the whitespace (and `&#13;` carriage returns) XMLDSig allows inside.
fn b64(text: &str) -> Result<Vec<u8>, DsigError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| DsigError::Structure(format!("bad base64: {e}")))
}

fn algorithm(doc: &Document, id: NodeId) -> Result<String, DsigError> {
    doc.element(id)
        .and_then(|e| e.attr("Algorithm"))
        .map(str::to_owned)
        .ok_or_else(|| structure("Algorithm attribute missing"))
}

/// Reads one Signature element (XMLDSig §4.1: SignedInfo, SignatureValue, KeyInfo?, Object*).
pub fn parse_signature(doc: &Document, sig: NodeId) -> Result<Signature, DsigError> {
    let mut kids = doc.child_elements(sig);
    let (signed_info, _) = kids
        .next()
        .filter(|(_, e)| e.ns == DSIG_NS && e.local == "SignedInfo")
        .ok_or_else(|| structure("SignedInfo must be the first child of Signature"))?;
    let (value_el, _) = kids
        .next()
        .filter(|(_, e)| e.ns == DSIG_NS && e.local == "SignatureValue")
        .ok_or_else(|| structure("SignatureValue must follow SignedInfo"))?;
    let value = b64(&doc.text(value_el))?;
    let mut certificates = Vec::new();
    if let Some((key_info, _)) = doc.child(sig, DSIG_NS, "KeyInfo") {
        for (x509, _) in doc
            .child_elements(key_info)
            .filter(|(_, e)| e.ns == DSIG_NS && e.local == "X509Data")
        {
            for (c, _) in doc
                .child_elements(x509)
                .filter(|(_, e)| e.ns == DSIG_NS && e.local == "X509Certificate")
            {
                certificates.push(b64(&doc.text(c))?);
            }
        }
    }
    let mut si_kids = doc.child_elements(signed_info);
    let (cm, _) = si_kids
        .next()
        .filter(|(_, e)| e.ns == DSIG_NS && e.local == "CanonicalizationMethod")
        .ok_or_else(|| structure("CanonicalizationMethod must open SignedInfo"))?;
    let c14n = c14n_method(doc, cm)?;
    let (sm, _) = si_kids
        .next()
        .filter(|(_, e)| e.ns == DSIG_NS && e.local == "SignatureMethod")
        .ok_or_else(|| structure("SignatureMethod must follow CanonicalizationMethod"))?;
    let signature_method = algorithm(doc, sm)?;
    let mut references = Vec::new();
    for (r, e) in si_kids {
        if e.ns != DSIG_NS || e.local != "Reference" {
            return Err(structure("only References may follow SignatureMethod"));
        }
        if references.len() == MAX_REFERENCES {
            return Err(structure("too many References"));
        }
        references.push(parse_reference(doc, r)?);
    }
    if references.is_empty() {
        return Err(structure("SignedInfo has no Reference"));
    }
    Ok(Signature {
        element: sig,
        signed_info,
        c14n,
        signature_method,
        references,
        value,
        certificates,
    })
}

/// A C14N method element with its optional InclusiveNamespaces PrefixList.
fn c14n_method(doc: &Document, id: NodeId) -> Result<Method, DsigError> {
    let uri = algorithm(doc, id)?;
    let mut m = Method::from_uri(&uri)
        .ok_or_else(|| DsigError::Unsupported(format!("canonicalization {uri}")))?;
    if m.exclusive {
        if let Some((_, inc)) = doc.child(id, EXC_NS, "InclusiveNamespaces") {
            m.inclusive_prefixes = inc
                .attr("PrefixList")
                .unwrap_or("")
                .split_ascii_whitespace()
                .map(str::to_owned)
                .collect();
        }
    }
    Ok(m)
}

fn parse_reference(doc: &Document, r: NodeId) -> Result<Reference, DsigError> {
    let uri = doc
        .element(r)
        .and_then(|e| e.attr("URI"))
        .map(str::to_owned);
    let mut kids = doc.child_elements(r).peekable();
    let mut enveloped = false;
    let mut c14n = None;
    if let Some((t, _)) = kids.next_if(|(_, e)| e.ns == DSIG_NS && e.local == "Transforms") {
        let transforms: Vec<NodeId> = doc.child_elements(t).map(|(id, _)| id).collect();
        if transforms.len() > MAX_TRANSFORMS {
            return Err(structure("too many Transforms"));
        }
        for (i, id) in transforms.iter().enumerate() {
            let alg = algorithm(doc, *id)?;
            if alg == ENVELOPED && !enveloped && c14n.is_none() {
                enveloped = true;
            } else if c14n.is_none() && i + 1 == transforms.len() {
                // C14N is only accepted as the last transform: it turns the node-set into octets.
                c14n = Some(c14n_method(doc, *id)?);
            } else {
                return Err(DsigError::Unsupported(format!(
                    "transform {alg} (only enveloped-signature followed by one canonicalization)"
                )));
            }
        }
    }
    let (dm, _) = kids
        .next()
        .filter(|(_, e)| e.ns == DSIG_NS && e.local == "DigestMethod")
        .ok_or_else(|| structure("Reference lacks DigestMethod"))?;
    let (dv, _) = kids
        .next()
        .filter(|(_, e)| e.ns == DSIG_NS && e.local == "DigestValue")
        .ok_or_else(|| structure("Reference lacks DigestValue"))?;
    Ok(Reference {
        uri,
        enveloped,
        c14n,
        digest_method: algorithm(doc, dm)?,
        digest_value: b64(&doc.text(dv))?,
    })
}

/// Resolves a same-document URI (XMLDSig §4.3.3.2–3): "" (the document without comments),
/// "#id", "#xpointer(/)" and "#xpointer(id('id'))" (with comments). Ids are the attributes
/// `Id`, `ID` and `id`; a value carried by more than one element is refused.
pub fn resolve(doc: &Document, uri: Option<&str>) -> Result<Target, DsigError> {
    let Some(uri) = uri else {
        return Err(DsigError::Unsupported(
            "a Reference without URI (the application would have to say what it means)".into(),
        ));
    };
    if uri.is_empty() {
        return Ok(Target {
            apex: Apex::Document,
            comments: false,
        });
    }
    let Some(frag) = uri.strip_prefix('#') else {
        return Err(DsigError::Unsupported(format!(
            "reference to {uri:?}: only same-document references are followed"
        )));
    };
    if frag == "xpointer(/)" {
        return Ok(Target {
            apex: Apex::Document,
            comments: true,
        });
    }
    let (id, comments) = match frag
        .strip_prefix("xpointer(id(")
        .and_then(|r| r.strip_suffix("))"))
    {
        Some(quoted) => (
            quoted
                .strip_prefix('\'')
                .and_then(|q| q.strip_suffix('\''))
                .or_else(|| quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')))
                .ok_or_else(|| DsigError::Unsupported(format!("XPointer {frag:?}")))?,
            true,
        ),
        None => (frag, false),
    };
    // Any attribute an application may take for an ID counts, in any namespace (xml:id,
    // wsu:Id): an element with the same value elsewhere is one a downstream reader may take for
    // the signed one, so the reference is refused as ambiguous (wrapping).
    let mut hits = doc.elements().into_iter().filter(|&n| {
        doc.element(n).is_some_and(|e| {
            e.attrs
                .iter()
                .any(|a| matches!(a.local.as_str(), "Id" | "ID" | "id") && a.value == id)
        })
    });
    let first = hits
        .next()
        .ok_or_else(|| DsigError::Reference(format!("#{id} names no element")))?;
    if hits.next().is_some() {
        return Err(DsigError::Reference(format!(
            "#{id} names more than one element (signature wrapping?)"
        )));
    }
    Ok(Target {
        apex: Apex::Element(first),
        comments,
    })
}

/// The octets a Reference's digest covers: its target, minus `excluded` subtrees when the
/// enveloped-signature transform is present, canonicalized.
pub fn reference_octets(
    doc: &Document,
    r: &Reference,
    target: Target,
    excluded: &[NodeId],
) -> Vec<u8> {
    let mut m = r.c14n.clone().unwrap_or_default();
    m.comments = m.comments && target.comments;
    let excluded = if r.enveloped { excluded } else { &[] };
    let mut out = Vec::new();
    c14n::canonicalize(doc, target.apex, excluded, &m, &mut out);
    out
}

/// The canonical SignedInfo: the octets the SignatureValue covers.
pub fn signed_info_octets(doc: &Document, sig: &Signature) -> Vec<u8> {
    let mut out = Vec::new();
    c14n::canonicalize(
        doc,
        Apex::Element(sig.signed_info),
        &[],
        &sig.c14n,
        &mut out,
    );
    out
}
