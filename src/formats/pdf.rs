//! PDF structure for signature verification: objects, cross-reference tables and streams,
//! object streams, revisions, signature fields.
//!
//! The parser reads the file as untrusted bytes: every object read is bounded (nesting depth,
//! object count, decompressed bytes per stream and per document, revision count), recursion is
//! depth-limited (the `lopdf` stack overflow on deep nesting, RUSTSEC-2026-0187, cannot happen),
//! and nothing is ever written. A damaged cross-reference section is recovered by scanning for
//! `N G obj` headers, and the verdict says so.

pub mod changes;
pub mod images;
pub mod layout;
mod lexer;
mod rebuild;
pub mod sig;

use lexer::Lexer;
pub use lexer::Obj;
use std::collections::BTreeMap;

/// Why a PDF cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// Not a PDF, or too damaged to use.
    #[error("PDF structure: {0}")]
    Structure(String),
    /// Over a budget.
    #[error("PDF budget: {0}")]
    Budget(String),
    /// A feature not supported (filters, encryption).
    #[error("unsupported PDF feature: {0}")]
    Unsupported(String),
}

fn structure(what: impl Into<String>) -> PdfError {
    PdfError::Structure(what.into())
}

/// Budgets for one document.
#[derive(Debug, Clone, Copy)]
pub struct PdfLimits {
    /// Most objects in the cross-reference of one revision.
    pub max_objects: usize,
    /// Deepest nesting of arrays and dictionaries.
    pub max_depth: usize,
    /// Most decompressed bytes in all (object and xref streams).
    pub max_decompressed: usize,
    /// Most revisions (incremental updates).
    pub max_revisions: usize,
    /// ASN.1 nesting and element budgets for the BER signature in a /Contents.
    pub max_asn1_depth: usize,
    /// See `max_asn1_depth`.
    pub max_asn1_elements: usize,
}

/// Where an object lives, per the cross-reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// At a byte offset in the file.
    Offset(usize),
    /// Inside an object stream: (stream object number, index).
    InStream(u32, u32),
    /// Freed by a cross-reference entry (`f`, or type 0 in a stream): an older definition
    /// does not shine through (ISO 32000-1 §7.5.4).
    Free,
}

/// One revision: the file up to its `%%EOF`, and the objects its cross-reference reaches.
#[derive(Debug, Clone)]
pub struct Revision {
    /// Byte length of the file up to and including this revision's `%%EOF` line end.
    pub end: usize,
    /// Object number → location (the newest entry as of this revision, free ones included).
    pub objects: BTreeMap<u32, Loc>,
    /// Generation numbers other than 0 of in-use entries (a generation change is a change).
    pub generations: BTreeMap<u32, u16>,
    /// Offsets of the cross-reference sections this revision's chain read.
    pub sections: Vec<usize>,
    /// The trailer dictionary.
    pub trailer: Obj,
}

/// A parsed document.
#[derive(Debug)]
pub struct Document<'a> {
    /// The file.
    pub data: &'a [u8],
    /// Revisions, oldest first.
    pub revisions: Vec<Revision>,
    /// Messages about damage the reader worked around.
    pub warnings: Vec<String>,
    limits: PdfLimits,
    decompressed: std::cell::Cell<usize>,
    /// Cross-reference sections by offset: each revision's /Prev chain shares the older
    /// sections, which are read once (n revisions would otherwise cost n² section reads).
    sections: std::cell::RefCell<BTreeMap<usize, std::rc::Rc<Section>>>,
    /// Cross-reference entries walked by all revisions' /Prev chains together. Each revision
    /// walks its whole chain, and the object map holds one entry per number however often it
    /// is listed: 256 revisions over a chain of sections repeating the same million numbers
    /// kept the map small while costing 10^10 steps. Charged per entry, before it is used.
    walked: std::cell::Cell<usize>,
    /// Object streams by file offset, inflated once.
    objstms: std::cell::RefCell<BTreeMap<usize, std::rc::Rc<ObjectStream>>>,
    /// Structures readers interpret differently, found while reading the cross-references:
    /// (byte offset, what). A signature whose revision ends before the offset cannot pass.
    pub ambiguities: std::cell::RefCell<Vec<(usize, String)>>,
    /// The current revision's shadowed definitions ([`Document::shadowed_definitions`]): one
    /// whole-file scan per document, whatever the number of signatures.
    shadowed: std::cell::OnceCell<Vec<String>>,
    /// Object numbers the current revision refers to (None: an object could not be read, so
    /// it might refer to anything); loaded once per document, when first needed.
    used: std::cell::OnceCell<Option<std::collections::BTreeSet<u32>>>,
}

/// An inflated object stream: its data, /First, and each object's offset after /First.
#[derive(Debug)]
struct ObjectStream {
    data: Vec<u8>,
    first: usize,
    offsets: Vec<usize>,
    /// The object numbers its header lists, in order.
    numbers: Vec<u32>,
}

/// A parsed cross-reference section: its trailer and entries (number, location, generation).
type Section = (Obj, Vec<(u32, Loc, u16)>);

impl<'a> Document<'a> {
    /// Reads the structure of `data`.
    pub fn parse(data: &'a [u8], limits: PdfLimits) -> Result<Self, PdfError> {
        if !data.starts_with(b"%PDF-") {
            // Some writers put junk before the header; accept it within the first KB.
            let head = data.get(..1024.min(data.len())).unwrap_or_default();
            if !head.windows(5).any(|w| w == b"%PDF-") {
                return Err(structure("no %PDF- header"));
            }
        }
        let mut doc = Self {
            data,
            revisions: Vec::new(),
            warnings: Vec::new(),
            limits,
            decompressed: std::cell::Cell::new(0),
            sections: std::cell::RefCell::new(BTreeMap::new()),
            ambiguities: std::cell::RefCell::new(Vec::new()),
            shadowed: std::cell::OnceCell::new(),
            used: std::cell::OnceCell::new(),
            walked: std::cell::Cell::new(0),
            objstms: std::cell::RefCell::new(BTreeMap::new()),
        };
        let eofs = eof_positions(data);
        if eofs.len() > limits.max_revisions {
            return Err(PdfError::Budget(format!(
                "{} revisions exceed the limit of {}",
                eofs.len(),
                limits.max_revisions
            )));
        }
        let mut total_entries = 0usize;
        let mut begin = 0;
        for &end in &eofs {
            let read = doc.revision_at(begin, end);
            begin = end;
            match read {
                // A budget is spent for the whole document: the next revision would spend it
                // again, and recovery must not run on a file already refused as too costly.
                Err(e @ PdfError::Budget(_)) => return Err(e),
                Ok(r) => {
                    // Each revision holds its own object table: bound them together too.
                    total_entries += r.objects.len();
                    if total_entries > limits.max_objects.saturating_mul(4) {
                        return Err(PdfError::Budget(format!(
                            "the revisions' object tables exceed {} entries in all",
                            limits.max_objects.saturating_mul(4)
                        )));
                    }
                    doc.revisions.push(r)
                }
                Err(e) => doc
                    .warnings
                    .push(format!("revision ending at byte {end} unreadable: {e}")),
            }
        }
        if doc.revisions.is_empty() {
            let r = doc.recover()?;
            doc.warnings
                .push("cross-reference damaged: objects recovered by scanning the file".into());
            doc.revisions.push(r);
        }
        // Encryption is looked for in every trailer, readable revision or not.
        let mut encrypted = doc
            .revisions
            .iter()
            .any(|r| r.trailer.get(b"Encrypt").is_some());
        let mut at = 0;
        while let Some(rel) = find(data.get(at..).unwrap_or_default(), b"trailer") {
            let mut lx = Lexer::new(data, at + rel + 7, limits.max_depth);
            encrypted |= lx.object().is_ok_and(|t| t.get(b"Encrypt").is_some());
            at += rel + 7;
        }
        if encrypted {
            return Err(PdfError::Unsupported(
                "encrypted PDF (the /Encrypt dictionary): decrypting is not supported, so its signatures cannot be checked".into(),
            ));
        }
        Ok(doc)
    }

    /// The last revision (the document as it is now).
    pub fn current(&self) -> Option<&Revision> {
        self.revisions.last()
    }

    /// The revision whose end is exactly `end`, if any.
    pub fn revision_ending_at(&self, end: usize) -> Option<usize> {
        self.revisions.iter().position(|r| r.end == end)
    }

    /// Reads the cross-reference chain of the revision whose `%%EOF` ends at `end`; its
    /// `startxref` is the last one after `begin` (the previous revision's end), however far
    /// before the `%%EOF` it is.
    fn revision_at(&self, begin: usize, end: usize) -> Result<Revision, PdfError> {
        let tail = self.data.get(begin..end).unwrap_or_default();
        let sx = rfind(tail, b"startxref").ok_or_else(|| structure("no startxref"))?;
        let mut lx = Lexer::new(self.data, begin + sx + 9, self.limits.max_depth);
        let start = lx
            .object()?
            .as_int()
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| structure("startxref is not an offset"))?;
        let mut objects = BTreeMap::new();
        let mut generations = BTreeMap::new();
        let mut trailer = None;
        let mut next = Some(start);
        let mut seen = Vec::new();
        while let Some(off) = next.take() {
            if seen.contains(&off) || seen.len() > self.limits.max_revisions * 2 + 2 {
                return Err(structure("cross-reference /Prev chain loops"));
            }
            if off >= end {
                return Err(structure("cross-reference offset beyond its revision"));
            }
            seen.push(off);
            let section = self.shared_section(off)?;
            let t = &section.0;
            // Hybrid files: the table marks objects in object streams free for old readers and
            // the /XRefStm stream defines them; its in-use entries win over the table's free
            // ones of the same section (ISO 32000-1 §7.5.8.4).
            let mut hybrid = None;
            if let Some(stm) = t.get(b"XRefStm").and_then(Obj::as_int) {
                let stm = usize::try_from(stm).map_err(|_| structure("/XRefStm"))?;
                if stm >= end {
                    return Err(structure("/XRefStm beyond its revision"));
                }
                let more = self.shared_section(stm)?;
                seen.push(stm);
                // Writers mark compressed objects free in the table and give them type-2
                // entries in the stream. Any other disagreement (the table frees an object the
                // stream places at an offset, or both place it differently) is read one way by
                // MuPDF (the table) and another by PDF 1.5 readers (the stream).
                let table: BTreeMap<u32, Loc> =
                    section.1.iter().map(|(n, l, _)| (*n, *l)).collect();
                for (n, l, _) in &more.1 {
                    let clash = match (table.get(n), l) {
                        (Some(Loc::Free), Loc::Offset(_)) => true,
                        (Some(t @ Loc::Offset(_)), l) => t != l,
                        _ => false,
                    };
                    // Recorded once per section (every revision whose chain walks it would
                    // find it again).
                    let mut found = self.ambiguities.borrow_mut();
                    if clash && !found.iter().any(|(o, _)| *o == off) {
                        found.push((
                            off,
                            format!("object {n} has one cross-reference entry in the table at byte {off} and another in its /XRefStm: readers disagree on which counts"),
                        ));
                    }
                }
                hybrid = Some(more);
            }
            let used: std::collections::BTreeSet<u32> = hybrid
                .iter()
                .flat_map(|m| m.1.iter())
                .filter(|(_, l, _)| *l != Loc::Free)
                .map(|(n, _, _)| *n)
                .collect();
            let entries = section
                .1
                .iter()
                .filter(|(n, l, _)| *l != Loc::Free || !used.contains(n))
                .chain(hybrid.iter().flat_map(|m| m.1.iter()));
            for &(num, loc, gen) in entries {
                self.charge_walk()?;
                // Counted as the map grows, not after a whole section was added.
                let full = objects.len() >= self.limits.max_objects;
                if let std::collections::btree_map::Entry::Vacant(v) = objects.entry(num) {
                    if full {
                        return Err(PdfError::Budget(format!(
                            "more than {} objects",
                            self.limits.max_objects
                        )));
                    }
                    v.insert(loc);
                    if gen != 0 && loc != Loc::Free {
                        generations.insert(num, gen);
                    }
                }
            }
            next = t
                .get(b"Prev")
                .and_then(Obj::as_int)
                .and_then(|v| usize::try_from(v).ok());
            if trailer.is_none() {
                trailer = Some(t.clone());
            }
        }
        // Object 0 heads the free list; it is never an object.
        objects.remove(&0);
        Ok(Revision {
            end,
            objects,
            generations,
            sections: seen,
            trailer: trailer.ok_or_else(|| structure("no trailer"))?,
        })
    }

    /// A section read once, as a copy (for callers outside the revision walk).
    fn cached_section(&self, off: usize) -> Result<Section, PdfError> {
        self.shared_section(off).map(|s| (*s).clone())
    }

    /// A section read once and shared (a clone per revision copied every entry again).
    fn shared_section(&self, off: usize) -> Result<std::rc::Rc<Section>, PdfError> {
        if let Some(s) = self.sections.borrow().get(&off) {
            return Ok(std::rc::Rc::clone(s));
        }
        let (s, _) = self.xref_section(off)?;
        let s = std::rc::Rc::new(s);
        self.sections
            .borrow_mut()
            .insert(off, std::rc::Rc::clone(&s));
        Ok(s)
    }

    /// Charges one cross-reference entry walked to the document's budget: eight times
    /// `max_objects`, twice the revisions' object tables together (entries listed again by
    /// later updates and the double listing of hybrid files stay far below).
    fn charge_walk(&self) -> Result<(), PdfError> {
        let budget = self.limits.max_objects.saturating_mul(8);
        let n = self.walked.get().saturating_add(1);
        if n > budget {
            return Err(PdfError::Budget(format!(
                "cross-reference chains list more than {budget} entries in all"
            )));
        }
        self.walked.set(n);
        Ok(())
    }

    /// One xref section (table or stream) at `off`: its trailer and entries, and for a table
    /// the byte just after its trailer dictionary (for a stream, `off`).
    fn xref_section(&self, off: usize) -> Result<(Section, usize), PdfError> {
        let mut lx = Lexer::new(self.data, off, self.limits.max_depth);
        if lx.keyword(b"xref") {
            let mut entries = Vec::new();
            loop {
                lx.skip_ws();
                if lx.keyword(b"trailer") {
                    let t = lx.object()?;
                    return Ok(((t, entries), lx.pos));
                }
                let first = lx.unsigned().ok_or_else(|| structure("xref subsection"))?;
                let count = lx.unsigned().ok_or_else(|| structure("xref subsection"))?;
                let first = u32::try_from(first).map_err(|_| structure("xref subsection"))?;
                let count = usize::try_from(count).map_err(|_| structure("xref subsection"))?;
                if count > self.limits.max_objects
                    || entries.len().saturating_add(count) > self.limits.max_objects
                {
                    return Err(PdfError::Budget("xref subsection too long".into()));
                }
                entries.reserve(count);
                for i in 0..count {
                    // Entries are "oooooooooo ggggg n" and an end of line that writers spell
                    // CR LF, space LF, space CR, or (not per the standard, but seen) a single
                    // LF: read the three fields as tokens, so 19- and 20-byte entries both work.
                    let (o, g) = (lx.unsigned(), lx.unsigned());
                    lx.skip_ws();
                    let kind = lx.take(1).and_then(|k| k.first().copied());
                    // The entry ends in white space: "… 00000 ntrailer" is a damaged table
                    // that viewers rebuild by scanning the file, so it cannot be read as given.
                    if !self
                        .data
                        .get(lx.pos)
                        .is_some_and(|c| matches!(c, b' ' | b'\r' | b'\n'))
                    {
                        return Err(structure("xref entry not ended by an end of line"));
                    }
                    let num = first
                        .checked_add(u32::try_from(i).unwrap_or(u32::MAX))
                        .ok_or_else(|| structure("xref numbering"))?;
                    let gen = g
                        .and_then(|g| u16::try_from(g).ok())
                        .ok_or_else(|| structure("bad xref entry"))?;
                    match (o, kind) {
                        (Some(o), Some(b'n')) if o > 0 => entries.push((
                            num,
                            Loc::Offset(usize::try_from(o).map_err(|_| structure("offset"))?),
                            gen,
                        )),
                        (Some(_), Some(b'f')) => entries.push((num, Loc::Free, gen)),
                        // "n" with offset 0 is a writer's way of saying free.
                        (Some(_), Some(b'n')) => entries.push((num, Loc::Free, gen)),
                        _ => return Err(structure("bad xref entry")),
                    }
                }
            }
        }
        // A cross-reference stream: N G obj << /Type /XRef /W [..] /Index [..] >> stream.
        let (_, _, obj) = self.indirect_at(off)?;
        let Obj::Stream(dict, _) = &obj else {
            return Err(structure("startxref does not point at a cross-reference"));
        };
        if dget(dict, b"Type").and_then(Obj::as_name) != Some(b"XRef".as_slice()) {
            return Err(structure("startxref does not point at a cross-reference"));
        }
        let data = self.stream_data(&obj)?;
        let w: Vec<usize> = dget(dict, b"W")
            .and_then(Obj::as_array)
            .ok_or_else(|| structure("xref stream without /W"))?
            .iter()
            .map(|o| {
                o.as_int()
                    .and_then(|v| usize::try_from(v).ok())
                    .unwrap_or(usize::MAX)
            })
            .collect();
        let &[w0, w1, w2] = w.as_slice() else {
            return Err(structure("xref stream /W"));
        };
        if w0 > 8 || w1 > 8 || w2 > 8 {
            return Err(structure("xref stream /W"));
        }
        let size = dget(dict, b"Size").and_then(Obj::as_int).unwrap_or(0);
        let index: Vec<i64> = match dget(dict, b"Index").and_then(Obj::as_array) {
            Some(a) => a.iter().filter_map(Obj::as_int).collect(),
            None => vec![0, size],
        };
        let row = w0 + w1 + w2;
        if row == 0 {
            return Err(structure("xref stream /W"));
        }
        // /Index counts are checked in sum, with checked arithmetic, against the object budget
        // and against the rows the data holds, before any entry is made.
        let mut listed = 0usize;
        for pair in index.chunks(2) {
            let (Some(&first), Some(&count)) = (pair.first(), pair.get(1)) else {
                break;
            };
            let count = usize::try_from(count).map_err(|_| structure("xref stream /Index"))?;
            if first < 0 {
                return Err(structure("xref stream /Index"));
            }
            listed = listed
                .checked_add(count)
                .ok_or_else(|| structure("xref stream /Index"))?;
            if listed > self.limits.max_objects {
                return Err(PdfError::Budget("xref stream too long".into()));
            }
        }
        if listed
            .checked_mul(row)
            .is_none_or(|bytes| bytes > data.len())
        {
            return Err(structure("xref stream shorter than /Index"));
        }
        let mut entries = Vec::with_capacity(listed);
        let mut rows = data.chunks_exact(row);
        for pair in index.chunks(2) {
            let (Some(&first), Some(&count)) = (pair.first(), pair.get(1)) else {
                break;
            };
            for i in 0..count.max(0) {
                let Some(r) = rows.next() else {
                    return Err(structure("xref stream shorter than /Index"));
                };
                let field = |a: usize, b: usize, default: u64| -> u64 {
                    if b == a {
                        return default;
                    }
                    r.get(a..b)
                        .unwrap_or_default()
                        .iter()
                        .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
                };
                let kind = field(0, w0, 1);
                let f2 = field(w0, w0 + w1, 0);
                let f3 = field(w0 + w1, row, 0);
                if entries.len() >= self.limits.max_objects {
                    return Err(PdfError::Budget("xref stream too long".into()));
                }
                let num = u32::try_from(first.saturating_add(i))
                    .map_err(|_| structure("xref numbering"))?;
                match kind {
                    0 => entries.push((num, Loc::Free, 0)),
                    1 => entries.push((
                        num,
                        Loc::Offset(usize::try_from(f2).map_err(|_| structure("offset"))?),
                        u16::try_from(f3).map_err(|_| structure("generation"))?,
                    )),
                    2 => entries.push((
                        num,
                        Loc::InStream(
                            u32::try_from(f2).map_err(|_| structure("objstm"))?,
                            u32::try_from(f3).map_err(|_| structure("objstm"))?,
                        ),
                        0,
                    )),
                    // Other types are reserved and read as null objects (§7.5.8.3).
                    _ => {}
                }
            }
        }
        Ok(((Obj::Dict(dict.clone()), entries), off))
    }

    /// Rebuilds a cross-reference by scanning for `N G obj` (the last definition wins).
    fn recover(&self) -> Result<Revision, PdfError> {
        let mut objects = BTreeMap::new();
        let mut trailer = None;
        let d = self.data;
        let mut i = 0;
        while let Some(rel) = find(d.get(i..).unwrap_or_default(), b" obj") {
            let at = i + rel;
            // Walk back over "N G".
            let mut s = at;
            let mut fields = 0;
            while fields < 2 && s > 0 {
                let mut e = s;
                while e > 0 && d.get(e - 1) == Some(&b' ') {
                    e -= 1;
                }
                let mut b = e;
                while b > 0 && d.get(b - 1).is_some_and(u8::is_ascii_digit) {
                    b -= 1;
                }
                if b == e {
                    break;
                }
                fields += 1;
                s = b;
            }
            if fields == 2 {
                let mut lx = Lexer::new(d, s, self.limits.max_depth);
                if let Some(n) = lx.object().ok().and_then(|o| o.as_int()) {
                    if let Ok(n) = u32::try_from(n) {
                        objects.insert(n, Loc::Offset(s));
                        if objects.len() > self.limits.max_objects {
                            return Err(PdfError::Budget("too many objects".into()));
                        }
                    }
                }
            }
            i = at + 4;
        }
        if let Some(t) = rfind(d, b"trailer") {
            let mut lx = Lexer::new(d, t + 7, self.limits.max_depth);
            trailer = lx.object().ok();
        }
        let trailer = match trailer {
            Some(t) => t,
            None => {
                // No trailer: find the catalog among the recovered objects.
                let root = objects.iter().find_map(|(&n, &loc)| {
                    let o = self.load(loc).ok()?;
                    (o.get(b"Type").and_then(Obj::as_name) == Some(b"Catalog".as_slice()))
                        .then_some(n)
                });
                let root = root.ok_or_else(|| structure("no trailer and no catalog"))?;
                Obj::Dict(vec![(b"Root".to_vec(), Obj::Ref(root, 0))])
            }
        };
        Ok(Revision {
            end: self.data.len(),
            objects,
            generations: BTreeMap::new(),
            sections: Vec::new(),
            trailer,
        })
    }

    /// The indirect object at a byte offset: (number, generation, object).
    fn indirect_at(&self, off: usize) -> Result<(u32, u16, Obj), PdfError> {
        self.indirect_span(off).map(|(n, g, o, _)| (n, g, o))
    }

    /// [`Document::indirect_at`], and the byte after the object's value (after `endstream`
    /// for a stream), where `endobj` should follow.
    fn indirect_span(&self, off: usize) -> Result<(u32, u16, Obj, usize), PdfError> {
        let mut lx = Lexer::new(self.data, off, self.limits.max_depth);
        let num = lx
            .object()?
            .as_int()
            .ok_or_else(|| structure("object number"))?;
        let gen = lx
            .object()?
            .as_int()
            .ok_or_else(|| structure("generation"))?;
        // "N G obj" with white space before the keyword: "0obj" is one token to MuPDF, which
        // then repairs the file by scanning, and shows what the scan finds.
        if !self
            .data
            .get(lx.pos)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | 0))
            || !lx.keyword(b"obj")
        {
            return Err(structure(format!("no 'obj' at byte {off}")));
        }
        let obj = lx.object()?;
        let obj = match obj {
            Obj::Dict(d) if lx.keyword(b"stream") => {
                // The stream starts after the EOL following "stream".
                let mut start = lx.pos;
                if self.data.get(start) == Some(&b'\r') {
                    start += 1;
                }
                if self.data.get(start) == Some(&b'\n') {
                    start += 1;
                }
                let declared = match d.iter().find(|(k, _)| k == b"Length").map(|(_, v)| v) {
                    Some(Obj::Int(n)) => usize::try_from(*n).ok(),
                    Some(Obj::Ref(n, _)) => self
                        .resolve_ref_shallow(*n)
                        .and_then(|o| o.as_int())
                        .and_then(|n| usize::try_from(n).ok()),
                    _ => None,
                };
                let ok = declared.and_then(|len| {
                    let end = start.checked_add(len)?;
                    let after = self
                        .data
                        .get(end..end.checked_add(12)?.min(self.data.len()))?;
                    let trimmed: Vec<u8> = after
                        .iter()
                        .copied()
                        .skip_while(u8::is_ascii_whitespace)
                        .collect();
                    trimmed.starts_with(b"endstream").then_some(end)
                });
                let end = match ok {
                    Some(e) => e,
                    None => {
                        let rel = find(self.data.get(start..).unwrap_or_default(), b"endstream")
                            .ok_or_else(|| structure("stream without endstream"))?;
                        let mut e = start + rel;
                        while e > start && self.data.get(e - 1).is_some_and(u8::is_ascii_whitespace)
                        {
                            e -= 1;
                        }
                        e
                    }
                };
                let mut after = Lexer::new(self.data, end, 1);
                if !after.keyword(b"endstream") {
                    return Err(structure("stream without endstream"));
                }
                lx.pos = after.pos;
                Obj::Stream(d, start..end)
            }
            other => other,
        };
        Ok((
            u32::try_from(num).map_err(|_| structure("object number"))?,
            u16::try_from(gen).map_err(|_| structure("generation"))?,
            obj,
            lx.pos,
        ))
    }

    /// An object's value by its number in the current revision, without following streams
    /// (used for /Length, which cannot itself be in an object stream per ISO 32000-1 7.3.10).
    fn resolve_ref_shallow(&self, num: u32) -> Option<Obj> {
        let loc = self.current()?.objects.get(&num).copied()?;
        match loc {
            Loc::Offset(o) => self.indirect_at(o).ok().map(|(_, _, obj)| obj),
            Loc::InStream(..) | Loc::Free => None,
        }
    }

    /// Loads an object from a location, as of the current revision.
    pub fn load(&self, loc: Loc) -> Result<Obj, PdfError> {
        let rev = self.current().ok_or_else(|| structure("no revision"))?;
        self.load_in(rev, loc)
    }

    /// Loads an object from a location, resolving object streams as of revision `rev` (a later
    /// revision may redefine an object stream: the old objects must come from the old one).
    pub fn load_in(&self, rev: &Revision, loc: Loc) -> Result<Obj, PdfError> {
        match loc {
            Loc::Free => Err(structure("free object")),
            Loc::Offset(o) => Ok(self.indirect_at(o)?.2),
            Loc::InStream(stm, index) => {
                let sloc = rev
                    .objects
                    .get(&stm)
                    .copied()
                    .ok_or_else(|| structure("object stream missing"))?;
                let Loc::Offset(so) = sloc else {
                    return Err(structure("object stream inside an object stream"));
                };
                let stm = self.object_stream(so)?;
                let at = stm
                    .offsets
                    .get(usize::try_from(index).unwrap_or(usize::MAX))
                    .and_then(|&o| stm.first.checked_add(o))
                    .ok_or_else(|| structure("object stream index"))?;
                let data = &stm.data;
                let mut lx = Lexer::new(data, at, self.limits.max_depth);
                lx.object()
            }
        }
    }

    /// The object stream at byte offset `off`, inflated and its header read once per document
    /// (every object inside would otherwise inflate the whole stream again: a 2,000-page file
    /// with its pages in one object stream took 487 ms to verify).
    fn object_stream(&self, off: usize) -> Result<std::rc::Rc<ObjectStream>, PdfError> {
        if let Some(s) = self.objstms.borrow().get(&off) {
            return Ok(std::rc::Rc::clone(s));
        }
        let (_, _, s) = self.indirect_at(off)?;
        let Obj::Stream(dict, _) = &s else {
            return Err(structure("object stream is not a stream"));
        };
        let n = dget(dict, b"N")
            .and_then(Obj::as_int)
            .and_then(|v| usize::try_from(v).ok())
            .filter(|&n| n <= self.limits.max_objects)
            .ok_or_else(|| structure("object stream /N"))?;
        let first = dget(dict, b"First")
            .and_then(Obj::as_int)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| structure("object stream /First"))?;
        let data = self.stream_data(&s)?;
        let mut lx = Lexer::new(&data, 0, self.limits.max_depth);
        // Each header pair takes at least four bytes: a count the data cannot hold is not
        // allocated for.
        let cap = n.min(data.len() / 4);
        let mut offsets = Vec::with_capacity(cap);
        let mut numbers = Vec::with_capacity(cap);
        for _ in 0..n {
            let num = lx
                .object()?
                .as_int()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| structure("objstm header"))?;
            numbers.push(num);
            let o = lx
                .object()?
                .as_int()
                .and_then(|v| usize::try_from(v).ok())
                .ok_or_else(|| structure("objstm header"))?;
            offsets.push(o);
        }
        let stm = std::rc::Rc::new(ObjectStream {
            data,
            first,
            offsets,
            numbers,
        });
        self.objstms
            .borrow_mut()
            .insert(off, std::rc::Rc::clone(&stm));
        Ok(stm)
    }

    /// Object `num` as of revision `rev` (None when the revision does not define it).
    pub fn get_in(&self, rev: &Revision, num: u32) -> Option<Obj> {
        let loc = rev.objects.get(&num).copied()?;
        self.load_in(rev, loc).ok()
    }

    /// Follows a reference as of revision `rev` (other values are returned as they are; a
    /// dangling reference is null, as ISO 32000-1 §7.3.10 says).
    pub fn deref_in(&self, rev: &Revision, o: &Obj) -> Obj {
        match o {
            Obj::Ref(n, _) => self.get_in(rev, *n).unwrap_or(Obj::Null),
            other => other.clone(),
        }
    }

    /// A stream's decoded data (FlateDecode with PNG predictors, or no filter).
    pub fn stream_data(&self, o: &Obj) -> Result<Vec<u8>, PdfError> {
        let Obj::Stream(dict, range) = o else {
            return Err(structure("not a stream"));
        };
        let raw = self
            .data
            .get(range.clone())
            .ok_or_else(|| structure("stream outside the file"))?;
        let filters: Vec<Vec<u8>> = match dget(dict, b"Filter") {
            None => Vec::new(),
            Some(Obj::Name(n)) => vec![n.clone()],
            Some(Obj::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_name().map(<[u8]>::to_vec))
                .collect(),
            Some(_) => return Err(structure("bad /Filter")),
        };
        let mut data = raw.to_vec();
        for f in &filters {
            data = match f.as_slice() {
                b"FlateDecode" => {
                    let left = self
                        .limits
                        .max_decompressed
                        .saturating_sub(self.decompressed.get());
                    let out = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&data, left)
                        .map_err(|e| match e.status {
                            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                                PdfError::Budget("decompressed stream data over the limit".into())
                            }
                            _ => structure("bad FlateDecode data"),
                        })?;
                    self.decompressed
                        .set(self.decompressed.get().saturating_add(out.len()));
                    out
                }
                other => {
                    return Err(PdfError::Unsupported(format!(
                        "stream filter /{}",
                        String::from_utf8_lossy(other)
                    )))
                }
            };
        }
        let parms = dget(dict, b"DecodeParms");
        let predictor = parms
            .and_then(|p| p.get(b"Predictor"))
            .and_then(Obj::as_int)
            .unwrap_or(1);
        if predictor >= 10 {
            let columns = parms
                .and_then(|p| p.get(b"Columns"))
                .and_then(Obj::as_int)
                .map_or(Ok(1), usize::try_from)
                .map_err(|_| structure("predictor /Columns"))?;
            // /Columns sizes the row buffers: it is checked before they exist. A row longer
            // than the data is no row at all; the output (at most the data's length) is
            // charged to the decompression budget like inflated bytes.
            if columns > data.len() {
                if data.is_empty() {
                    return Ok(data);
                }
                return Err(structure("predictor /Columns longer than the stream data"));
            }
            let left = self
                .limits
                .max_decompressed
                .saturating_sub(self.decompressed.get());
            if data.len() > left {
                return Err(PdfError::Budget(
                    "predictor output over the decompression limit".into(),
                ));
            }
            data = png_unpredict(&data, columns)?;
            self.decompressed
                .set(self.decompressed.get().saturating_add(data.len()));
        }
        Ok(data)
    }
}

/// PNG "Up"/"Sub"/… predictors row by row (what xref streams use), bytes per pixel 1.
fn png_unpredict(data: &[u8], columns: usize) -> Result<Vec<u8>, PdfError> {
    if columns == 0 {
        return Err(structure("predictor /Columns 0"));
    }
    let row = columns + 1;
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; columns];
    for chunk in data.chunks(row) {
        let Some((&ty, bytes)) = chunk.split_first() else {
            break;
        };
        let mut cur = bytes.to_vec();
        cur.resize(columns, 0);
        for i in 0..columns {
            let left = if i > 0 {
                cur.get(i - 1).copied().unwrap_or(0)
            } else {
                0
            };
            let up = prev.get(i).copied().unwrap_or(0);
            let ul = if i > 0 {
                prev.get(i - 1).copied().unwrap_or(0)
            } else {
                0
            };
            let add = match ty {
                0 => 0,
                1 => left,
                2 => up,
                3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                4 => {
                    let p = i16::from(left) + i16::from(up) - i16::from(ul);
                    let (pa, pb, pc) = (
                        (p - i16::from(left)).abs(),
                        (p - i16::from(up)).abs(),
                        (p - i16::from(ul)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        left
                    } else if pb <= pc {
                        up
                    } else {
                        ul
                    }
                }
                _ => return Err(structure("unknown PNG predictor")),
            };
            if let Some(c) = cur.get_mut(i) {
                *c = c.wrapping_add(add);
            }
        }
        out.extend_from_slice(&cur);
        prev = cur;
    }
    Ok(out)
}

/// Positions just after each `%%EOF` marker and its line end: the ends of revisions.
fn eof_positions(data: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rel) = find(data.get(i..).unwrap_or_default(), b"%%EOF") {
        let mut end = i + rel + 5;
        if data.get(end) == Some(&b'\r') {
            end += 1;
        }
        if data.get(end) == Some(&b'\n') {
            end += 1;
        }
        out.push(end);
        i = end;
    }
    out
}

/// First position of `needle` in `hay` (SIMD substring search: the scans over a whole file
/// for `%%EOF` and `trailer` are a visible part of verifying a 10 MB PDF otherwise).
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(hay, needle)
}

/// A dictionary entry from a dictionary's entry list.
/// A dictionary entry; the last of a key written twice, as [`Obj::get`].
fn dget<'x>(d: &'x [(Vec<u8>, Obj)], key: &[u8]) -> Option<&'x Obj> {
    d.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
}
