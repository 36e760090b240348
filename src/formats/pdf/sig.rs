//! Signature fields, byte-range integrity (the USF and SWA attacks), DocMDP, DSS, and what
//! changed in the revisions after a signature (incremental saving and shadow attacks).

use super::{find, Document, Loc, Obj, PdfError, Revision};
use std::collections::BTreeSet;

/// The DSS's certificates, OCSP responses and CRLs, DER each.
pub type Dss = (Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<Vec<u8>>);

/// Most signature fields read from one document.
const MAX_FIELDS: usize = 64;
/// Most field-tree nodes visited (fields with /Kids).
const MAX_FIELD_NODES: usize = 10_000;

/// What a signature dictionary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigKind {
    /// An approval signature.
    Approval,
    /// A certification signature with its DocMDP permission level (1, 2 or 3).
    Certification(u8),
    /// A document time-stamp (/Type /DocTimeStamp, ETSI.RFC3161).
    DocTimeStamp,
}

/// One signature as found in the document, before any cryptography.
#[derive(Debug, Clone)]
pub struct PdfSignature {
    /// The field's fully qualified name (T entries joined by '.').
    pub field: String,
    /// /SubFilter.
    pub sub_filter: String,
    /// Kind.
    pub kind: SigKind,
    /// /Reason, /Location, /Name, /M as text.
    pub reason: Option<String>,
    /// /Location.
    pub location: Option<String>,
    /// /Name.
    pub name: Option<String>,
    /// /M (claimed signing time, as written).
    pub claimed_time: Option<String>,
    /// The two signed ranges, or why the byte range is unusable.
    pub ranges: Result<[std::ops::Range<usize>; 2], String>,
    /// The revision (index into `Document::revisions`) the signature covers.
    pub revision: Option<usize>,
    /// The CMS (or time-stamp token) bytes, trailing zero padding removed.
    pub contents: Vec<u8>,
    /// The form fields this signature locks (FieldMDP in its /Reference, or its field's
    /// /Lock): a later change to their value is a disallowed change.
    pub lock: Option<FieldLock>,
}

/// Which fields a signature locks (ISO 32000-1 Table 256, /Action and /Fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldLock {
    /// Every field.
    All,
    /// Only these (fully qualified names).
    Include(Vec<String>),
    /// Every field but these.
    Exclude(Vec<String>),
}

impl FieldLock {
    /// Whether the field of fully qualified name `name` is locked.
    pub fn locks(&self, name: &str) -> bool {
        // A name locks its descendants too ("a" locks "a.b").
        let hit = |list: &[String]| {
            list.iter().any(|l| {
                name == l
                    || name
                        .strip_prefix(l.as_str())
                        .is_some_and(|r| r.starts_with('.'))
            })
        };
        match self {
            FieldLock::All => true,
            FieldLock::Include(l) => hit(l),
            FieldLock::Exclude(l) => !hit(l),
        }
    }

    fn read(doc: &Document<'_>, rev: &Revision, params: &Obj) -> Option<Self> {
        let fields = || -> Vec<String> {
            let f = params.get(b"Fields").map(|f| doc.deref_in(rev, f));
            f.as_ref()
                .and_then(Obj::as_array)
                .unwrap_or_default()
                .iter()
                .filter_map(|x| text(Some(&doc.deref_in(rev, x))))
                .collect()
        };
        match params.get(b"Action").and_then(Obj::as_name)? {
            b"All" => Some(FieldLock::All),
            b"Include" => Some(FieldLock::Include(fields())),
            b"Exclude" => Some(FieldLock::Exclude(fields())),
            _ => None,
        }
    }
}

fn text(o: Option<&Obj>) -> Option<String> {
    let s = o?.as_str()?;
    // UTF-16BE with BOM, else PDFDocEncoding (Latin-1 is close enough for reporting).
    if let Some(rest) = s.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes(c.try_into().unwrap_or([0, 0])))
            .collect();
        return Some(String::from_utf16_lossy(&units));
    }
    Some(s.iter().map(|&b| char::from(b)).collect())
}

impl Document<'_> {
    /// The catalog of a revision.
    pub fn catalog(&self, rev: &Revision) -> Option<Obj> {
        let r = rev.trailer.get(b"Root")?.as_ref_num()?;
        self.get_in(rev, r)
    }

    /// Every signature field with a value, in field-tree order.
    pub fn signatures(&self) -> Result<Vec<PdfSignature>, PdfError> {
        let rev = self
            .current()
            .ok_or_else(|| PdfError::Structure("no revision".into()))?;
        let Some(catalog) = self.catalog(rev) else {
            return Err(PdfError::Structure("no document catalog".into()));
        };
        let acro = self.deref_in(rev, catalog.get(b"AcroForm").unwrap_or(&Obj::Null));
        let perms_ref = catalog
            .get(b"Perms")
            .map(|p| self.deref_in(rev, p))
            .and_then(|p| p.get(b"DocMDP").and_then(Obj::as_ref_num));
        let mut out = Vec::new();
        let mut stack: Vec<(Obj, String, Option<Vec<u8>>)> = acro
            .get(b"Fields")
            .map(|f| self.deref_in(rev, f))
            .and_then(|f| f.as_array().map(<[Obj]>::to_vec))
            .unwrap_or_default()
            .into_iter()
            .rev()
            .map(|f| (f, String::new(), None))
            .collect();
        let mut visited = 0usize;
        let mut seen = BTreeSet::new();
        while let Some((field_ref, parent_name, inherited_ft)) = stack.pop() {
            visited += 1;
            if visited > MAX_FIELD_NODES {
                return Err(PdfError::Budget("too many form fields".into()));
            }
            if let Some(n) = field_ref.as_ref_num() {
                if !seen.insert(n) {
                    continue; // a field tree that loops
                }
            }
            let field = self.deref_in(rev, &field_ref);
            let part = text(field.get(b"T")).unwrap_or_default();
            let name = match (parent_name.is_empty(), part.is_empty()) {
                (true, _) => part,
                (false, true) => parent_name.clone(),
                (false, false) => format!("{parent_name}.{part}"),
            };
            let ft = field
                .get(b"FT")
                .and_then(Obj::as_name)
                .map(<[u8]>::to_vec)
                .or(inherited_ft);
            if let Some(kids) = field.get(b"Kids").map(|k| self.deref_in(rev, k)) {
                for k in kids.as_array().unwrap_or_default().iter().rev() {
                    stack.push((k.clone(), name.clone(), ft.clone()));
                }
            }
            if ft.as_deref() != Some(b"Sig".as_slice()) {
                continue;
            }
            let Some(v) = field.get(b"V") else { continue };
            if out.len() == MAX_FIELDS {
                return Err(PdfError::Budget("too many signature fields".into()));
            }
            let sig_num = v.as_ref_num();
            let sig = self.deref_in(rev, v);
            let certification = sig_num.is_some() && sig_num == perms_ref;
            let mut s = self.read_signature(rev, name, &sig, sig_num, certification);
            // The signature field's /Lock, when the signature dictionary has no FieldMDP.
            if s.lock.is_none() {
                if let Some(l) = field.get(b"Lock").map(|l| self.deref_in(rev, l)) {
                    s.lock = FieldLock::read(self, rev, &l);
                }
            }
            out.push(s);
        }
        Ok(out)
    }

    fn read_signature(
        &self,
        rev: &Revision,
        field: String,
        sig: &Obj,
        sig_num: Option<u32>,
        certification: bool,
    ) -> PdfSignature {
        let sub_filter = sig
            .get(b"SubFilter")
            .and_then(Obj::as_name)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let is_ts = sig.get(b"Type").and_then(Obj::as_name) == Some(b"DocTimeStamp".as_slice())
            || sub_filter == "ETSI.RFC3161";
        let kind = if is_ts {
            SigKind::DocTimeStamp
        } else if certification {
            SigKind::Certification(docmdp_level(self, rev, sig))
        } else {
            SigKind::Approval
        };
        let contents = sig
            .get(b"Contents")
            .and_then(Obj::as_str)
            .unwrap_or_default();
        let ranges = self.check_byte_range(rev, sig, sig_num, contents);
        let revision = ranges
            .as_ref()
            .ok()
            .and_then(|r| self.revision_ending_at(r[1].end));
        PdfSignature {
            field,
            sub_filter,
            kind,
            reason: text(sig.get(b"Reason")),
            location: text(sig.get(b"Location")),
            name: text(sig.get(b"Name")),
            claimed_time: text(sig.get(b"M")),
            ranges,
            revision,
            contents: self.trim_padding(contents),
            lock: field_mdp(self, rev, sig),
        }
    }

    /// ISO 32000-1 §12.8.1 and the USF/SWA lessons: /ByteRange is [0 a b c]; a..b is exactly
    /// this signature's /Contents hex string, inside the signature dictionary; the second range
    /// ends at the end of a revision; the signature dictionary belongs to that revision.
    fn check_byte_range(
        &self,
        rev: &Revision,
        sig: &Obj,
        sig_num: Option<u32>,
        contents: &[u8],
    ) -> Result<[std::ops::Range<usize>; 2], String> {
        let br = sig
            .get(b"ByteRange")
            .and_then(Obj::as_array)
            .ok_or("no /ByteRange")?;
        let v: Vec<i64> = br.iter().filter_map(Obj::as_int).collect();
        let (&[a, b, c, d], 4) = (v.as_slice(), br.len()) else {
            return Err(format!(
                "/ByteRange must be four integers, found {} entries",
                br.len()
            ));
        };
        let u = |x: i64| usize::try_from(x).map_err(|_| "negative /ByteRange value".to_owned());
        let (s0, l0, s1, l1) = (u(a)?, u(b)?, u(c)?, u(d)?);
        let len = self.data.len();
        if s0 != 0 {
            return Err("/ByteRange does not start at byte 0".into());
        }
        let e1 = s1.checked_add(l1).ok_or("/ByteRange overflows")?;
        if l0 == 0 || s1 <= l0 || e1 > len {
            return Err(
                "/ByteRange ranges overlap, are empty or run past the end of the file".into(),
            );
        }
        if contents.is_empty() || contents.iter().all(|&b| b == 0) {
            return Err("empty or zeroed /Contents (universal signature forgery)".into());
        }
        // The gap is exactly one hex string, equal to this /Contents.
        if self.data.get(l0) != Some(&b'<') || self.data.get(s1 - 1) != Some(&b'>') {
            return Err("the gap between the byte ranges is not a hex string".into());
        }
        let mut lx = super::lexer::Lexer::new(self.data, l0, 1);
        match lx.object() {
            Ok(Obj::Str(s)) if lx.pos == s1 && s == contents => {}
            _ => {
                return Err(
                    "the gap between the byte ranges is not this signature's /Contents (signature wrapping)"
                        .into(),
                )
            }
        }
        // The signature dictionary is the object that holds the gap.
        let Some(num) = sig_num else {
            return Err("the signature dictionary is not an indirect object".into());
        };
        let Some(&Loc::Offset(off)) = rev.objects.get(&num) else {
            return Err("the signature dictionary is not at a file offset".into());
        };
        let endobj = find(self.data.get(off..).unwrap_or_default(), b"endobj")
            .map(|e| off + e)
            .unwrap_or(len);
        if !(off < l0 && s1 <= endobj) {
            return Err(
                "the signed gap is outside the signature dictionary (signature wrapping)".into(),
            );
        }
        let Some(k) = self.revision_ending_at(e1) else {
            return Err(format!(
                "the signed range ends at byte {e1}, which is not the end of a revision"
            ));
        };
        if let Some(r) = self.revisions.get(k) {
            if r.objects.get(&num) != Some(&Loc::Offset(off)) {
                return Err("the signature dictionary is not part of the revision it signs".into());
            }
        }
        Ok([s0..l0, s1..e1])
    }

    /// DSS (ETSI EN 319 142-1 §5.4.2): certificates, OCSP responses and CRLs (DER), as of the
    /// current revision.
    pub fn dss(&self) -> Dss {
        let Some(rev) = self.current() else {
            return Default::default();
        };
        let Some(dss) = self
            .catalog(rev)
            .and_then(|c| c.get(b"DSS").map(|d| self.deref_in(rev, d)))
        else {
            return Default::default();
        };
        let list = |key: &[u8]| -> Vec<Vec<u8>> {
            let arr = dss.get(key).map(|a| self.deref_in(rev, a));
            arr.as_ref()
                .and_then(Obj::as_array)
                .unwrap_or_default()
                .iter()
                .take(256)
                .filter_map(|s| self.stream_data(&self.deref_in(rev, s)).ok())
                .collect()
        };
        (list(b"Certs"), list(b"OCSPs"), list(b"CRLs"))
    }
}

/// /Reference [<< /TransformMethod /FieldMDP /TransformParams << /Action … /Fields … >> >>].
fn field_mdp(doc: &Document<'_>, rev: &Revision, sig: &Obj) -> Option<FieldLock> {
    let refs = sig.get(b"Reference").map(|r| doc.deref_in(rev, r))?;
    refs.as_array()
        .unwrap_or_default()
        .iter()
        .map(|r| doc.deref_in(rev, r))
        .filter(|r| {
            r.get(b"TransformMethod").and_then(Obj::as_name) == Some(b"FieldMDP".as_slice())
        })
        .find_map(|r| {
            FieldLock::read(
                doc,
                rev,
                &r.get(b"TransformParams").map(|t| doc.deref_in(rev, t))?,
            )
        })
}

/// /Reference [<< /TransformMethod /DocMDP /TransformParams << /P n >> >>]; default P = 2.
fn docmdp_level(doc: &Document<'_>, rev: &Revision, sig: &Obj) -> u8 {
    let refs = sig.get(b"Reference").map(|r| doc.deref_in(rev, r));
    let p = refs
        .as_ref()
        .and_then(Obj::as_array)
        .unwrap_or_default()
        .iter()
        .map(|r| doc.deref_in(rev, r))
        .find(|r| r.get(b"TransformMethod").and_then(Obj::as_name) == Some(b"DocMDP".as_slice()))
        .and_then(|r| {
            r.get(b"TransformParams")
                .map(|t| doc.deref_in(rev, t))
                .and_then(|t| t.get(b"P").and_then(Obj::as_int))
        })
        .unwrap_or(2);
    u8::try_from(p.clamp(1, 3)).unwrap_or(2)
}

impl Document<'_> {
    /// /Contents is reserved larger than the signature and padded with zeros: keep the first
    /// complete BER value (several Java and .NET signers write indefinite lengths) when what
    /// follows is zeros only; otherwise keep it all, and the CMS decoder refuses the rest.
    fn trim_padding(&self, c: &[u8]) -> Vec<u8> {
        // Most signers write DER: its length is in the first header, read without a walk.
        if let Ok(tlv) = crate::asn1::Reader::new(c).read() {
            if c.get(tlv.raw.len()..)
                .is_some_and(|rest| rest.iter().all(|&b| b == 0))
            {
                return tlv.raw.to_vec();
            }
        }
        match crate::asn1::ber_element_len(
            c,
            self.limits.max_asn1_depth,
            self.limits.max_asn1_elements,
        ) {
            Ok(n) if c.get(n..).is_some_and(|rest| rest.iter().all(|&b| b == 0)) => {
                c.get(..n).unwrap_or(c).to_vec()
            }
            _ => c.to_vec(),
        }
    }
}
