//! What changed after a signed revision, judged by what each object *was* in the signed
//! revision — never by what the new bytes call it.
//!
//! 1. The cross-reference states are compared entry by entry: every object whose entry changed
//!    (new offset, re-pointed, freed, another generation, its object stream redefined) and whose
//!    value differs is a change. Entries re-pointed into the signed bytes, entries pointing at
//!    another object's definition and two numbers sharing one definition are refused outright.
//! 2. Roles come from the signed revision's object graph: catalog → page tree → pages →
//!    contents, resources, annotations; the AcroForm and its field tree; the catalog's
//!    metadata and DSS; the signed trailer's /Info. A shared object has every role it is
//!    reached by, and a change must be allowed under each.
//! 3. A short list of changes is allowed (pyHanko's difference analysis and EU DSS allow the
//!    same): new signature fields with their widgets, signature dictionaries and appearances
//!    (where DocMDP permits), /V and /AP of fields that are not read-only (P2, P3, approval),
//!    new annotations (P3, approval), DSS and document time-stamps (always), the metadata stream
//!    and information dictionary that were such in the signed revision. A new object is allowed
//!    only when an allowed change refers to it in an allowed place; everything else is a
//!    disallowed change, named.
//! 4. A new annotation or signature widget that is visible draws over the signed page: that is
//!    reported as an overlay, a warning even where it is permitted.

use super::sig::FieldLock;
use super::{Document, Loc, Obj, Revision};
use std::collections::{BTreeMap, BTreeSet};

/// What an object is in the signed revision (or what an allowed change makes a new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Catalog,
    PageTree,
    Page,
    Content,
    Resource,
    Annotation,
    /// An annotation's appearance (or an object it uses).
    Appearance,
    /// A non-signature form field or its widget.
    Field,
    /// A signature field or its widget.
    SigField,
    /// A widget's appearance (changes with a form fill).
    FieldAppearance,
    FieldList,
    AnnotList,
    AcroForm,
    Info,
    Metadata,
    Dss,
    Signature,
    /// Reachable from the catalog through anything else (/Names, /OpenAction, outlines, …).
    Structure,
    // Transient: resolved when the object is loaded.
    /// An entry of /Kids in the page tree.
    Kid,
    /// An entry of a page's /Annots.
    AnnotEntry,
    /// An entry of /Fields or a field's /Kids.
    FieldEntry,
    /// A /Kids entry of a signature field.
    SigFieldEntry,
}

impl Role {
    fn noun(self) -> &'static str {
        match self {
            Role::Catalog => "the document catalog",
            Role::PageTree | Role::Kid => "a page tree node",
            Role::Page => "a page",
            Role::Content => "a page content stream",
            Role::Resource => "a page resource (font, image, form XObject, …)",
            Role::Annotation | Role::AnnotEntry => "an annotation",
            Role::Appearance => "an annotation appearance",
            Role::Field | Role::FieldEntry => "a form field",
            Role::SigField | Role::SigFieldEntry => "a signature field",
            Role::FieldAppearance => "a form field appearance",
            Role::FieldList => "the form's field list",
            Role::AnnotList => "a page's annotation list",
            Role::AcroForm => "the interactive form (AcroForm)",
            Role::Info => "the document information dictionary",
            Role::Metadata => "the document's XMP metadata",
            Role::Dss => "validation data (DSS)",
            Role::Signature => "a signature dictionary",
            Role::Structure => "document structure",
        }
    }
}

/// The outcome of the analysis for one signature.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    /// Permitted changes, one note each.
    pub allowed: Vec<String>,
    /// Forbidden changes, each naming the object and what it was.
    pub disallowed: Vec<String>,
    /// Permitted new annotations and widgets that draw over the signed page.
    pub overlays: Vec<String>,
}

/// Annotation flags (ISO 32000-1 Table 165): Hidden and NoView make an annotation invisible.
const ANNOT_HIDDEN: i64 = 2;
const ANNOT_NOVIEW: i64 = 32;
/// The annotation subtypes a later revision may add (ISO 32000-1 Table 169: the markup
/// annotations and their pop-ups). Links, multimedia, 3D, screen, watermark and printer's-mark
/// annotations act or draw beyond a comment and are not allowed.
const MARKUP: [&str; 16] = [
    "Text",
    "FreeText",
    "Line",
    "Square",
    "Circle",
    "Polygon",
    "PolyLine",
    "Highlight",
    "Underline",
    "Squiggly",
    "StrikeOut",
    "Stamp",
    "Caret",
    "Ink",
    "Popup",
    "FileAttachment",
];

/// Disallowed changes named one by one in a verdict; more are counted.
const MAX_LISTED: usize = 100;

/// Field flag ReadOnly (Table 221).
const FIELD_READ_ONLY: i64 = 1;

impl Document<'_> {
    /// What changed between revision `from` (the signed one) and the current revision, judged
    /// for a signature under DocMDP level `mdp` (None: the document is not certified).
    /// `lock` names the fields the signature locks (FieldMDP).
    pub fn changes_after(&self, from: usize, mdp: Option<u8>, lock: Option<&FieldLock>) -> Changes {
        let (Some(old), Some(new)) = (self.revisions.get(from), self.current()) else {
            return Changes::default();
        };
        if self.revisions.len() > 1 && self.linearized_as_is() {
            // Even a signature over the whole file: its signer saw the updates, linear readers
            // would not.
            return Changes {
                disallowed: vec![format!(
                    "the first object is a linearization dictionary whose /L is the file's length ({} bytes): linear readers read its first-page table and not the {} updates after it",
                    self.data.len(),
                    self.revisions.len() - 1
                )],
                ..Changes::default()
            };
        }
        if from + 1 >= self.revisions.len() {
            return Changes::default();
        }
        let mut a = Analysis {
            doc: self,
            old,
            new,
            mdp,
            lock,
            names: BTreeMap::new(),
            out: Changes::default(),
            changed: BTreeMap::new(),
            roles: BTreeMap::new(),
            judged: BTreeSet::new(),
            granted: BTreeSet::new(),
            owners: BTreeMap::new(),
            seen_bad: std::collections::HashSet::new(),
            unlisted: 0,
        };
        a.read_alike();
        a.diff_entries();
        if !a.changed.is_empty() {
            a.compute_roles();
        }
        a.trailer();
        if a.changed.is_empty() {
            return a.finish();
        }
        a.judge_existing();
        a.judge_new();
        a.finish()
    }

    /// Two objects with the same meaning (streams compared by dictionary and decoded data).
    fn same(&self, a: &Obj, b: &Obj) -> bool {
        match (a, b) {
            (Obj::Stream(da, _), Obj::Stream(db, _)) => {
                da == db
                    && match (self.stream_data(a), self.stream_data(b)) {
                        (Ok(x), Ok(y)) => x == y,
                        _ => false,
                    }
            }
            _ => a == b,
        }
    }
}

struct Analysis<'d, 'a> {
    doc: &'d Document<'a>,
    old: &'d Revision,
    new: &'d Revision,
    mdp: Option<u8>,
    lock: Option<&'d FieldLock>,
    /// Fully qualified names of the signed revision's fields (for FieldMDP).
    names: BTreeMap<u32, String>,
    out: Changes,
    /// Changed objects: the new value, or None when freed.
    changed: BTreeMap<u32, Option<Obj>>,
    /// Roles in the signed revision.
    roles: BTreeMap<u32, BTreeSet<Role>>,
    /// Changed objects already judged (by a role or a grant).
    judged: BTreeSet<u32>,
    /// (object, grant) pairs already followed.
    granted: BTreeSet<(u32, Role)>,
    /// Disallowed changes recorded so far (for [`Analysis::bad`]).
    seen_bad: std::collections::HashSet<String>,
    /// Disallowed changes beyond [`MAX_LISTED`].
    unlisted: usize,
    /// Field appearance objects of the signed revision → the fields whose /AP reaches them.
    owners: BTreeMap<u32, BTreeSet<u32>>,
}

impl Analysis<'_, '_> {
    fn finish(mut self) -> Changes {
        if self.unlisted > 0 {
            self.out
                .disallowed
                .push(format!("and {} more disallowed changes", self.unlisted));
        }
        self.out
    }

    /// Records a disallowed change once. An attacker decides how many there are: the first
    /// [`MAX_LISTED`] are named, the rest counted (a set keeps this linear).
    fn bad(&mut self, why: String) {
        if self.seen_bad.contains(&why) {
            return;
        }
        if self.out.disallowed.len() < MAX_LISTED {
            self.seen_bad.insert(why.clone());
            self.out.disallowed.push(why);
        } else {
            self.unlisted += 1;
        }
    }

    fn allow(&mut self, note: &str) {
        if !self.out.allowed.iter().any(|a| a == note) {
            self.out.allowed.push(note.to_owned());
        }
    }

    fn forms_ok(&self) -> bool {
        self.mdp.is_none_or(|p| p >= 2)
    }

    fn annotations_ok(&self) -> bool {
        self.mdp.is_none_or(|p| p >= 3)
    }

    /// Step 0: the later revisions read the same way by every reader. A key written twice in
    /// a later trailer, a cross-reference that readers resolve differently, or a definition a
    /// rebuilding viewer would prefer would let a viewer show what this analysis never saw.
    fn read_alike(&mut self) {
        let (doc, old) = (self.doc, self.old);
        for rev in doc.revisions.iter().filter(|r| r.end > old.end) {
            if let Some(k) = rev.trailer.duplicate_key() {
                self.bad(format!(
                    "the trailer of the revision ending at byte {} has the key /{} twice",
                    rev.end,
                    String::from_utf8_lossy(&k)
                ));
            }
        }
        let ambiguous: Vec<String> = doc
            .ambiguities
            .borrow()
            .iter()
            .filter(|(at, _)| *at >= old.end)
            .map(|(_, why)| why.clone())
            .collect();
        for why in ambiguous {
            self.bad(why);
        }
        for why in doc.shadowed_definitions() {
            self.bad(why.clone());
        }
    }

    /// Step 1: the cross-reference states, entry by entry.
    fn diff_entries(&mut self) {
        let (doc, old, new) = (self.doc, self.old, self.new);
        let used = |r: &Revision, n: u32| r.objects.get(&n).is_some_and(|l| *l != Loc::Free);
        let nums: BTreeSet<u32> = old
            .objects
            .keys()
            .chain(new.objects.keys())
            .copied()
            .collect();
        for n in nums {
            let (lo, ln) = (old.objects.get(&n), new.objects.get(&n));
            let (uo, un) = (used(old, n), used(new, n));
            if !uo && !un {
                continue;
            }
            let stream_redefined = matches!(ln, Some(Loc::InStream(s, _))
                if old.objects.get(s) != new.objects.get(s));
            let same_gen = old.generations.get(&n) == new.generations.get(&n);
            if lo == ln && same_gen && !stream_redefined {
                continue;
            }
            if uo && !un {
                self.changed.insert(n, None);
                continue;
            }
            if uo && !same_gen {
                // The signed graph refers to `n` by its old generation: readers resolve those
                // references to null (poppler) or rebuild the file, whatever the new value.
                self.bad(format!(
                    "object {n}'s generation changed from {} to {}: the signed references to it no longer reach it",
                    old.generations.get(&n).copied().unwrap_or(0),
                    new.generations.get(&n).copied().unwrap_or(0)
                ));
            }
            let Some(&loc) = ln else { continue };
            if let Loc::Offset(off) = loc {
                if off < old.end {
                    self.bad(format!(
                        "object {n}'s cross-reference entry was re-pointed to byte {off} inside the signed revision"
                    ));
                }
                match doc.indirect_at(off) {
                    Ok((num, gen, _)) if num == n && gen == new.generations.get(&n).copied().unwrap_or(0) => {}
                    Ok((num, gen, _)) => self.bad(format!(
                        "object {n}'s cross-reference entry points at the definition of object {num} {gen}"
                    )),
                    Err(_) => {}
                }
            }
            let value = match doc.load_in(new, loc) {
                Ok(v) => v,
                Err(e) => {
                    self.bad(format!(
                        "object {n} of the current revision cannot be read: {e}"
                    ));
                    Obj::Null
                }
            };
            if let Some(k) = value.duplicate_key() {
                self.bad(format!(
                    "object {n} has the key /{} twice (readers disagree on which value counts)",
                    String::from_utf8_lossy(&k)
                ));
            }
            if uo && same_gen {
                if let Some(prev) = doc.get_in(old, n) {
                    if doc.same(&prev, &value) {
                        continue;
                    }
                }
            }
            self.changed.insert(n, Some(value));
        }
        // Two numbers with one definition: "hide via referenced object".
        let mut by_offset: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for (&n, loc) in &new.objects {
            if let Loc::Offset(o) = loc {
                by_offset.entry(*o).or_default().push(n);
            }
        }
        for (o, nums) in by_offset {
            if nums.len() > 1 && nums.iter().any(|n| self.changed.contains_key(n)) {
                let list: Vec<String> = nums.iter().map(u32::to_string).collect();
                self.bad(format!(
                    "objects {} share one definition at byte {o}",
                    list.join(" and ")
                ));
            }
        }
    }

    /// The trailer may not move the catalog; its /Info pointer names nothing by itself.
    fn trailer(&mut self) {
        let root = |r: &Revision| r.trailer.get(b"Root").and_then(Obj::as_ref_num);
        if root(self.old) != root(self.new) {
            self.bad(format!(
                "the trailer's /Root now points at object {} (the signed catalog is object {})",
                root(self.new).map_or("none".into(), |n| n.to_string()),
                root(self.old).map_or("none".into(), |n| n.to_string()),
            ));
        }
        let info = |r: &Revision| r.trailer.get(b"Info").and_then(Obj::as_ref_num);
        if let Some(n) = info(self.new) {
            if info(self.old) != Some(n) {
                self.grant(Obj::Ref(n, 0), Role::Info, None);
            }
        }
    }

    /// Fully qualified field names of the signed revision (T entries joined by '.').
    fn field_names(&mut self) {
        let (doc, old) = (self.doc, self.old);
        let Some(cat) = old.trailer.get(b"Root").map(|r| doc.deref_in(old, r)) else {
            return;
        };
        let form = cat
            .get(b"AcroForm")
            .map(|a| doc.deref_in(old, a))
            .unwrap_or(Obj::Null);
        let top = form
            .get(b"Fields")
            .map(|f| doc.deref_in(old, f))
            .unwrap_or(Obj::Null);
        let mut stack: Vec<(Obj, String)> = top
            .as_array()
            .unwrap_or_default()
            .iter()
            .map(|f| (f.clone(), String::new()))
            .collect();
        let budget = doc.limits.max_objects;
        while let Some((f, parent)) = stack.pop() {
            let Some(n) = f.as_ref_num() else { continue };
            if self.names.contains_key(&n) || self.names.len() > budget {
                continue;
            }
            let v = doc.deref_in(old, &f);
            let part = v
                .get(b"T")
                .and_then(Obj::as_str)
                .map(|t| String::from_utf8_lossy(t).into_owned());
            let name = match (parent.is_empty(), part) {
                (_, None) => parent.clone(),
                (true, Some(p)) => p,
                (false, Some(p)) => format!("{parent}.{p}"),
            };
            if let Some(k) = v.get(b"Kids").map(|k| doc.deref_in(old, k)) {
                for x in k.as_array().unwrap_or_default() {
                    stack.push((x.clone(), name.clone()));
                }
            }
            self.names.insert(n, name);
        }
    }

    /// Step 2: roles in the signed revision, from the signed trailer.
    fn compute_roles(&mut self) {
        if self.lock.is_some() {
            self.field_names();
        }
        let (doc, old) = (self.doc, self.old);
        let mut stack: Vec<(Obj, Role)> = Vec::new();
        if let Some(r) = old.trailer.get(b"Root") {
            stack.push((r.clone(), Role::Catalog));
        }
        if let Some(i) = old.trailer.get(b"Info") {
            stack.push((i.clone(), Role::Info));
        }
        let mut visited: BTreeSet<(u32, Role)> = BTreeSet::new();
        // Each (object, role) pair is expanded once: linear in the signed graph.
        let budget = doc.limits.max_objects.saturating_mul(4);
        while let Some((o, role)) = stack.pop() {
            if visited.len() > budget {
                self.bad("the signed revision's object graph is too large to analyse".into());
                return;
            }
            let (value, role) = match o {
                Obj::Ref(n, _) => {
                    let value = doc.get_in(old, n).unwrap_or(Obj::Null);
                    let role = refine(doc, old, role, &value);
                    if !visited.insert((n, role)) {
                        continue;
                    }
                    self.roles.entry(n).or_default().insert(role);
                    (value, role)
                }
                other => (other, role),
            };
            children(&value, role, &mut stack);
        }
        self.appearance_owners();
    }

    /// Which fields' appearances each field appearance object belongs to (an appearance
    /// dictionary, its streams and what they use).
    fn appearance_owners(&mut self) {
        let (doc, old) = (self.doc, self.old);
        let fields: Vec<u32> = self
            .roles
            .iter()
            .filter(|(_, r)| r.contains(&Role::Field) || r.contains(&Role::SigField))
            .map(|(&n, _)| n)
            .collect();
        let budget = doc.limits.max_objects.saturating_mul(4);
        let mut steps = 0usize;
        for f in fields {
            let Some(ap) = doc.get_in(old, f).and_then(|v| v.get(b"AP").cloned()) else {
                continue;
            };
            let mut seen = BTreeSet::new();
            let mut stack = refs_of(&ap);
            while let Some(r) = stack.pop() {
                steps += 1;
                if steps > budget {
                    return;
                }
                if !seen.insert(r) {
                    continue;
                }
                if !self
                    .roles
                    .get(&r)
                    .is_some_and(|x| x.contains(&Role::FieldAppearance))
                {
                    continue;
                }
                self.owners.entry(r).or_default().insert(f);
                if let Some(v) = doc.get_in(old, r) {
                    stack.extend(refs_of(&v));
                }
            }
        }
    }

    /// Step 3a: changed objects that had a role in the signed revision.
    fn judge_existing(&mut self) {
        let items: Vec<(u32, Option<Obj>, BTreeSet<Role>)> = self
            .changed
            .iter()
            .filter_map(|(&n, v)| Some((n, v.clone(), self.roles.get(&n)?.clone())))
            .collect();
        for (n, value, roles) in items {
            self.judged.insert(n);
            let Some(value) = value else {
                let what = roles.first().map_or("an object", |r| r.noun());
                self.bad(format!("object {n} ({what}) was freed"));
                continue;
            };
            let old = self.doc.get_in(self.old, n).unwrap_or(Obj::Null);
            for role in roles {
                if let Err(why) = self.existing(n, role, &old, &value) {
                    self.bad(why);
                    break;
                }
            }
        }
    }

    /// One changed object judged as what it was.
    fn existing(&mut self, n: u32, role: Role, old: &Obj, new: &Obj) -> Result<(), String> {
        let changed_keys = || dict_diff(old, new);
        match role {
            Role::Catalog => {
                for k in changed_keys() {
                    let (ov, nv) = (old.get(k.as_bytes()), new.get(k.as_bytes()));
                    match k.as_str() {
                        "AcroForm" => match (ov, nv) {
                            (None, Some(v)) => self.grant(v.clone(), Role::AcroForm, None),
                            (Some(o @ Obj::Dict(_)), Some(v @ Obj::Dict(_))) => {
                                let (o, v) = (o.clone(), v.clone());
                                self.existing(n, Role::AcroForm, &o, &v)?
                            }
                            _ => {
                                return Err(format!(
                                "the document catalog (object {n}) now points /AcroForm elsewhere"
                            ))
                            }
                        },
                        "DSS" => match nv {
                            Some(v) => self.grant(v.clone(), Role::Dss, None),
                            None => return Err("the DSS was removed from the catalog".into()),
                        },
                        "Metadata" => match nv {
                            Some(v) => self.grant(v.clone(), Role::Metadata, None),
                            None => return Err("the catalog's /Metadata was removed".into()),
                        },
                        // Extensions and Version declare features; they carry no content.
                        "Extensions" | "Version" if nv.is_none_or(|v| !has_refs(v)) => {}
                        _ => {
                            return Err(format!("the document catalog (object {n}) changed: /{k}"))
                        }
                    }
                }
                self.allow("document catalog updated (form, DSS or metadata entry)");
                Ok(())
            }
            Role::AcroForm => {
                for k in changed_keys() {
                    let (ov, nv) = (old.get(k.as_bytes()), new.get(k.as_bytes()));
                    match k.as_str() {
                        "Fields" => {
                            let (ov, nv) = (ov.cloned(), nv.cloned());
                            self.list_change(n, ov.as_ref(), nv.as_ref(), Role::FieldEntry, None)?
                        }
                        "SigFlags" => {}
                        // false is the default (pypdf writes it when filling a form); true
                        // makes viewers redraw every field from its value, which is not judged.
                        "NeedAppearances" if nv.is_none_or(|v| *v == Obj::Bool(false)) => {}
                        // Default resources may gain entries (a new signature's font) but not
                        // change or lose one: fields without their own appearance are drawn
                        // with them.
                        "DR" if self.mdp != Some(1) => {
                            let (ov, nv) = (ov.cloned(), nv.cloned());
                            self.resources_grow(n, ov.as_ref(), nv.as_ref())?
                        }
                        _ => {
                            return Err(format!("the interactive form (object {n}) changed: /{k}"))
                        }
                    }
                }
                self.allow("form field list updated");
                Ok(())
            }
            Role::Page => {
                let keys = changed_keys();
                let other: Vec<&str> = keys
                    .iter()
                    .map(String::as_str)
                    .filter(|k| *k != "Annots")
                    .collect();
                if !other.is_empty() {
                    return Err(format!("page object {n} changed: /{}", other.join(", /")));
                }
                if !keys.is_empty() {
                    let (ov, nv) = (old.get(b"Annots").cloned(), new.get(b"Annots").cloned());
                    self.list_change(n, ov.as_ref(), nv.as_ref(), Role::AnnotEntry, Some(n))?;
                }
                self.allow("page annotations updated");
                Ok(())
            }
            Role::FieldList => self.list_change(n, Some(old), Some(new), Role::FieldEntry, None),
            // The page is not known here: overlays are named by the annotation alone.
            Role::AnnotList => self.list_change(n, Some(old), Some(new), Role::AnnotEntry, None),
            Role::SigField | Role::Field => {
                let sig = role == Role::SigField;
                if !sig && !self.forms_ok() {
                    return Err(format!("form field {n} changed, which DocMDP P1 forbids"));
                }
                let ff = field_flags(self.doc, self.old, old);
                // An appearance is redrawn with a value: alone, it changes what the field
                // shows while its value stays the signed one.
                let keys = changed_keys();
                let valued = keys.iter().any(|k| k == "V" || k == "AS");
                if keys.iter().any(|k| k == "AP") && !valued {
                    return Err(format!(
                        "{} {n} got a new appearance (/AP) without a new value",
                        role.noun()
                    ));
                }
                if let (Some(lock), Some(name)) = (self.lock, self.names.get(&n)) {
                    if lock.locks(name) && !changed_keys().is_empty() {
                        return Err(format!(
                            "form field {n} ({name}) changed, which this signature locks (FieldMDP)"
                        ));
                    }
                }
                for k in changed_keys() {
                    let nv = new.get(k.as_bytes()).cloned();
                    match (k.as_str(), nv) {
                        ("V", Some(v)) if sig && old.get(b"V").is_none() => {
                            self.new_signature_value(&v, &format!("object {n}"))?;
                        }
                        ("V" | "AS", _) if !sig && ff & FIELD_READ_ONLY == 0 => {
                            // Viewers draw a new value (regenerating the appearance where they
                            // see fit) over the signed page: permitted, never silent.
                            self.overlay(&format!("value of form field {n}"), "Widget", new, None);
                            // A value is a string or name; an indirect one (rich text in a
                            // stream) is the field's own.
                            for r in new.get(b"V").map(refs_of).unwrap_or_default() {
                                self.grant(Obj::Ref(r, 0), Role::Appearance, None);
                            }
                        }
                        ("AP", Some(v)) if ff & FIELD_READ_ONLY == 0 => {
                            // A filled field (or a signed signature field) draws its new
                            // appearance over the signed page: permitted, never silent.
                            let what = if sig { "signature field" } else { "form field" };
                            self.overlay(&format!("appearance of {what} {n}"), "Widget", new, None);
                            self.grant(v, Role::FieldAppearance, None)
                        }
                        _ if ff & FIELD_READ_ONLY != 0 => {
                            return Err(format!("read-only form field {n} changed: /{k}"))
                        }
                        _ => return Err(format!("{} {n} changed: /{k}", role.noun())),
                    }
                }
                self.allow(if sig {
                    "signature field signed"
                } else {
                    "form field filled"
                });
                Ok(())
            }
            Role::FieldAppearance if self.forms_ok() => {
                let owners = self.owners.get(&n).cloned().unwrap_or_default();
                if owners.is_empty() {
                    return Err(format!("object {n} (a form field appearance) changed"));
                }
                for f in owners {
                    self.appearance_owner_filled(n, f)?;
                }
                for r in refs_of(new) {
                    self.grant(Obj::Ref(r, 0), Role::Appearance, None);
                }
                self.allow("form field appearance updated");
                Ok(())
            }
            Role::Info if !matches!(new, Obj::Stream(..)) => {
                for r in refs_of(new) {
                    self.grant(Obj::Ref(r, 0), Role::Info, None);
                }
                self.allow("document information updated");
                Ok(())
            }
            Role::Metadata if is_metadata(new) => {
                self.allow("XMP metadata updated");
                Ok(())
            }
            Role::Dss => {
                for r in refs_of(new) {
                    self.grant(Obj::Ref(r, 0), Role::Dss, None);
                }
                self.allow("validation data (DSS) updated");
                Ok(())
            }
            _ => Err(format!("object {n} ({}) changed", role.noun())),
        }
    }

    /// A resource dictionary (the form's /DR) that may only gain entries: every category and
    /// every entry of the signed one stays as it was; new entries are judged as appearances.
    fn resources_grow(
        &mut self,
        holder: u32,
        old: Option<&Obj>,
        new: Option<&Obj>,
    ) -> Result<(), String> {
        let (doc, or, nr) = (self.doc, self.old, self.new);
        let why =
            || format!("the default resources (/DR) of object {holder} changed or lost an entry");
        let Some(new) = new else { return Err(why()) };
        let Some(old) = old else {
            self.grant(new.clone(), Role::Appearance, None);
            return Ok(());
        };
        let (od, nd) = (doc.deref_in(or, old), doc.deref_in(nr, new));
        for (cat, ov) in od.as_dict().unwrap_or_default() {
            let Some(nv) = nd.get(cat) else {
                return Err(why());
            };
            let (oc, nc) = (doc.deref_in(or, ov), doc.deref_in(nr, nv));
            match (oc.as_dict(), nc.as_dict()) {
                (Some(oe), Some(_)) => {
                    for (k, v) in oe {
                        if nc.get(k) != Some(v) {
                            return Err(why());
                        }
                    }
                    for (k, v) in nc.as_dict().unwrap_or_default() {
                        if oc.get(k).is_none() {
                            self.grant(v.clone(), Role::Appearance, None);
                        }
                    }
                }
                _ if oc == nc => {}
                _ => return Err(why()),
            }
        }
        for (cat, nv) in nd.as_dict().unwrap_or_default() {
            if od.get(cat).is_none() {
                self.grant(nv.clone(), Role::Appearance, None);
            }
        }
        Ok(())
    }

    /// A field appearance `n` may be redrawn only with its field `f`: `f` changed in the same
    /// update with a new value (or, for a signature field, was signed), and is neither
    /// read-only nor locked.
    fn appearance_owner_filled(&mut self, n: u32, f: u32) -> Result<(), String> {
        let (doc, or) = (self.doc, self.old);
        let old_field = doc.get_in(or, f).unwrap_or(Obj::Null);
        let why = |what: &str| {
            format!("object {n}, the appearance of form field {f}, changed while {what}")
        };
        let Some(Some(new_field)) = self.changed.get(&f) else {
            return Err(why("the field did not"));
        };
        let keys = dict_diff(&old_field, new_field);
        let sig = field_type(doc, or, &old_field).as_deref() == Some(b"Sig".as_slice());
        if sig {
            if old_field.get(b"V").is_some() || !keys.iter().any(|k| k == "V") {
                return Err(why("its signature field was not being signed"));
            }
            let field = new_field.clone();
            self.overlay(
                &format!("appearance of signature field {f}"),
                "Widget",
                &field,
                None,
            );
            return Ok(());
        }
        if !keys.iter().any(|k| k == "V" || k == "AS") {
            return Err(why("the field's value did not"));
        }
        if field_flags(doc, or, &old_field) & FIELD_READ_ONLY != 0 {
            return Err(why("the field is read-only"));
        }
        if let (Some(lock), Some(name)) = (self.lock, self.names.get(&f)) {
            if lock.locks(name) {
                return Err(why("this signature locks the field (FieldMDP)"));
            }
        }
        let field = new_field.clone();
        self.overlay(
            &format!("appearance of form field {f}"),
            "Widget",
            &field,
            None,
        );
        Ok(())
    }

    /// An array of references that may only grow: every old entry stays, new ones are judged
    /// as `entry` (fields or annotations). `holder` owns the array (for messages).
    fn list_change(
        &mut self,
        holder: u32,
        old: Option<&Obj>,
        new: Option<&Obj>,
        entry: Role,
        page: Option<u32>,
    ) -> Result<(), String> {
        let (doc, or, nr) = (self.doc, self.old, self.new);
        let old_list = old
            .map(|o| doc.deref_in(or, o))
            .unwrap_or(Obj::Array(Vec::new()));
        let Some(new) = new else {
            return Err(format!(
                "the list /{} of object {holder} was removed",
                list_key(entry)
            ));
        };
        let new_list = doc.deref_in(nr, new);
        // The array may itself be a new indirect object: this judges it.
        if let Obj::Ref(a, _) = new {
            if old.and_then(Obj::as_ref_num) != Some(*a) && self.changed.contains_key(a) {
                self.judged.insert(*a);
            }
        }
        let (Some(ol), Some(nl)) = (old_list.as_array(), new_list.as_array()) else {
            return Err(format!(
                "the list /{} of object {holder} is no longer a list",
                list_key(entry)
            ));
        };
        // Signed entries keep their order: the order of annotations is their drawing order,
        // so moving a signed one on top of another (or listing it twice) changes what the
        // page shows without changing any object. A new entry anywhere is judged (and, if
        // visible, reported as an overlay) on its own.
        let mut seen = BTreeSet::new();
        if let Some(d) = nl
            .iter()
            .filter_map(Obj::as_ref_num)
            .find(|r| !seen.insert(*r))
        {
            return Err(format!(
                "object {d} is listed twice in /{} of object {holder}",
                list_key(entry)
            ));
        }
        let old_refs: BTreeSet<u32> = ol.iter().filter_map(Obj::as_ref_num).collect();
        // Direct entries are rare (annotations are indirect objects): compared in full.
        let kept: Vec<&Obj> = nl
            .iter()
            .filter(|x| match x.as_ref_num() {
                Some(r) => old_refs.contains(&r),
                None => ol.contains(x),
            })
            .collect();
        if kept.len() == ol.len() && kept.iter().zip(ol.iter()).any(|(a, b)| *a != b) {
            return Err(format!(
                "the signed entries of /{} of object {holder} were reordered",
                list_key(entry)
            ));
        }
        // New entries are judged even when old ones went missing, so both are named.
        let in_old = |x: &Obj| match x.as_ref_num() {
            Some(r) => old_refs.contains(&r),
            None => ol.contains(x),
        };
        for x in nl
            .iter()
            .filter(|x| !in_old(x))
            .cloned()
            .collect::<Vec<_>>()
        {
            self.grant(x, entry, page);
        }
        let new_refs: BTreeSet<u32> = nl.iter().filter_map(Obj::as_ref_num).collect();
        let in_new = |x: &Obj| match x.as_ref_num() {
            Some(r) => new_refs.contains(&r),
            None => nl.contains(x),
        };
        match ol.iter().find(|o| !in_new(o)) {
            Some(o) => Err(format!(
                "{} was removed from /{} of object {holder}",
                o.as_ref_num()
                    .map_or_else(|| "an entry".to_owned(), |r| format!("object {r}")),
                list_key(entry)
            )),
            None => Ok(()),
        }
    }

    /// A new /V of a signature field: a signature dictionary, allowed unless P1 forbids it.
    fn new_signature_value(&mut self, v: &Obj, field: &str) -> Result<(), String> {
        let sig = self.doc.deref_in(self.new, v);
        let ts = sig.get(b"Type").and_then(Obj::as_name) == Some(b"DocTimeStamp".as_slice())
            || sig.get(b"SubFilter").and_then(Obj::as_name) == Some(b"ETSI.RFC3161".as_slice());
        if !ts && self.mdp == Some(1) {
            return Err(format!(
                "signature field {field} was signed, which DocMDP P1 forbids (only document time-stamps)"
            ));
        }
        self.grant(v.clone(), Role::Signature, None);
        self.allow(if ts {
            "document time-stamp added"
        } else {
            "signature added"
        });
        Ok(())
    }

    /// Follows a grant: `o` is allowed as `role` if it is a new object that fits it.
    fn grant(&mut self, o: Obj, role: Role, page: Option<u32>) {
        let mut stack = vec![(o, role, page)];
        while let Some((o, role, page)) = stack.pop() {
            let (n, value) = match o {
                Obj::Ref(n, _) => {
                    if let Some(roles) = self.roles.get(&n) {
                        // A changed object that had a role is judged by it. An unchanged one
                        // newly listed as a field or annotation is shown in a new place: no
                        // writer does that when signing or commenting.
                        let listed = matches!(
                            role,
                            Role::AnnotEntry | Role::FieldEntry | Role::SigFieldEntry
                        );
                        if listed && !self.changed.contains_key(&n) {
                            let what = roles.first().map_or("an object", |r| r.noun());
                            self.bad(format!(
                                "object {n}, which was {what}, was listed again as {}",
                                role.noun()
                            ));
                        }
                        continue;
                    }
                    // A new object, or one the signed revision held but did not use (shadow
                    // "change objects usage"): judged as what the allowed change makes it.
                    let v = match self.changed.get(&n) {
                        Some(Some(v)) => v.clone(),
                        Some(None) => continue, // freed: a dangling reference is null
                        None => match self.doc.get_in(self.new, n) {
                            Some(v) => v,
                            None => continue,
                        },
                    };
                    if !self.granted.insert((n, role)) {
                        continue;
                    }
                    self.judged.insert(n);
                    (Some(n), v)
                }
                other => (None, other),
            };
            let name = n.map_or_else(|| "a direct object".to_owned(), |n| format!("object {n}"));
            match self.new_object(&name, &value, role, page) {
                Ok(more) => stack.extend(more),
                Err(why) => self.bad(why),
            }
        }
    }

    /// A new object allowed as `role`: what it refers to in allowed places, or why not.
    fn new_object(
        &mut self,
        name: &str,
        v: &Obj,
        role: Role,
        page: Option<u32>,
    ) -> Result<Vec<(Obj, Role, Option<u32>)>, String> {
        let mut next = Vec::new();
        let all = |r: Role| {
            refs_of(v)
                .into_iter()
                .map(move |n| (Obj::Ref(n, 0), r, None))
        };
        match role {
            Role::AnnotEntry => {
                if is_widget(v) || v.get(b"FT").is_some() {
                    return self.new_object(name, v, Role::FieldEntry, page);
                }
                if v.as_dict().is_none() {
                    return Err(format!(
                        "{name} was added to a page's annotations but is no annotation"
                    ));
                }
                let sub = subtype(v);
                if !MARKUP.contains(&sub.as_str()) {
                    return Err(format!(
                        "annotation {name} (/{sub}) was added; only markup annotations (comments, stamps, shapes, highlights) may be"
                    ));
                }
                if let Some(k) = action_key(v) {
                    return Err(format!(
                        "annotation {name} (/{sub}) was added with an action (/{k})"
                    ));
                }
                if !self.annotations_ok() {
                    return Err(format!(
                        "annotation {name} (/{sub}) was added, which DocMDP P{} forbids",
                        self.mdp.unwrap_or(0)
                    ));
                }
                self.overlay(name, &sub, v, page);
                self.allow("annotation added");
                for (k, r) in [
                    (b"AP".as_slice(), Role::Appearance),
                    (b"Popup", Role::AnnotEntry),
                ] {
                    if let Some(x) = v.get(k) {
                        next.push((x.clone(), r, page));
                    }
                }
            }
            Role::FieldEntry | Role::SigFieldEntry => {
                if v.as_dict().is_none() {
                    return Err(format!(
                        "{name} was added as a form field but is no dictionary"
                    ));
                }
                let sig = role == Role::SigFieldEntry
                    || field_type(self.doc, self.new, v).as_deref() == Some(b"Sig".as_slice());
                if !sig {
                    return Err(format!(
                        "form field {name} was added (only signature fields may be added)"
                    ));
                }
                if let Some(k) = action_key(v) {
                    return Err(format!(
                        "signature field {name} was added with an action (/{k})"
                    ));
                }
                if self.mdp == Some(1) && v.get(b"V").is_none() && v.get(b"Kids").is_none() {
                    return Err(format!(
                        "signature field {name} was added, which DocMDP P1 forbids"
                    ));
                }
                if let Some(x) = v.get(b"V") {
                    let x = x.clone();
                    self.new_signature_value(&x, name)?;
                }
                if is_widget(v) {
                    self.overlay(name, "Widget", v, page);
                }
                if v.get(b"V").is_none() {
                    self.allow("signature field added");
                }
                if let Some(x) = v.get(b"AP") {
                    next.push((x.clone(), Role::FieldAppearance, page));
                }
                if let Some(k) = v.get(b"Kids") {
                    let k = self.doc.deref_in(self.new, k);
                    for x in k.as_array().unwrap_or_default() {
                        next.push((x.clone(), Role::SigFieldEntry, page));
                    }
                }
                if let Some(x) = v.get(b"Lock") {
                    next.push((x.clone(), Role::Signature, page));
                }
            }
            Role::Signature => {
                if v.as_dict().is_none() {
                    return Err(format!(
                        "{name} was added as a signature value but is no dictionary"
                    ));
                }
                next.extend(all(Role::Signature));
            }
            Role::Appearance | Role::FieldAppearance => {
                if !matches!(v, Obj::Stream(..) | Obj::Dict(_)) {
                    return Err(format!("{name} was added as an appearance but is none"));
                }
                next.extend(all(Role::Appearance));
            }
            Role::Dss => {
                self.allow("validation data (DSS) added");
                next.extend(all(Role::Dss));
            }
            Role::Metadata => {
                if !is_metadata(v) {
                    return Err(format!(
                        "{name} was made the catalog's /Metadata but is no XMP metadata stream"
                    ));
                }
                self.allow("XMP metadata updated");
            }
            Role::Info => {
                if matches!(v, Obj::Stream(..)) {
                    return Err(format!(
                        "{name} was made the document information but is a stream"
                    ));
                }
                self.allow("document information updated");
                next.extend(all(Role::Info));
            }
            Role::AcroForm => {
                for (k, val) in v.as_dict().unwrap_or_default() {
                    match k.as_slice() {
                        b"Fields" => {
                            let l = self.doc.deref_in(self.new, val);
                            if let Some(Obj::Ref(a, _)) = Some(val) {
                                self.judged.insert(*a);
                            }
                            for x in l.as_array().unwrap_or_default() {
                                next.push((x.clone(), Role::FieldEntry, None));
                            }
                        }
                        b"DR" => next.push((val.clone(), Role::Appearance, None)),
                        b"SigFlags" | b"DA" => {}
                        other => {
                            return Err(format!(
                                "the new interactive form {name} has /{}",
                                String::from_utf8_lossy(other)
                            ))
                        }
                    }
                }
                self.allow("interactive form added");
            }
            other => return Err(format!("{name} was added as {}", other.noun())),
        }
        Ok(next)
    }

    /// A visible new annotation or widget draws over the signed page.
    fn overlay(&mut self, name: &str, sub: &str, v: &Obj, page: Option<u32>) {
        // A field whose widgets are its kids draws where they are: one level down (a kid
        // without its own /Rect is drawn nowhere).
        if v.get(b"Rect").is_none() {
            if let Some(kids) = v.get(b"Kids").map(|k| self.doc.deref_in(self.new, k)) {
                let widgets: Vec<Obj> = kids
                    .as_array()
                    .unwrap_or_default()
                    .iter()
                    .take(MAX_LISTED)
                    .map(|k| self.doc.deref_in(self.new, k))
                    .filter(|k| k.get(b"Rect").is_some())
                    .collect();
                for w in widgets {
                    self.overlay(name, sub, &w, page);
                }
                return;
            }
        }
        // Hidden only by a flag every reader reads the same way: a direct integer that fits 32
        // bits (poppler takes a larger one for no flags at all, so the annotation shows).
        let flags = match v.get(b"F") {
            None => 0,
            Some(Obj::Int(f)) if (0..=i64::from(i32::MAX)).contains(f) => *f,
            Some(_) => 0,
        };
        if flags & (ANNOT_HIDDEN | ANNOT_NOVIEW) != 0 {
            return;
        }
        let on = page.map_or_else(String::new, |p| format!(" on page object {p}"));
        // Exactly four numbers, indirect ones resolved as viewers resolve them; anything else
        // is an area nobody can bound, so it counts as the whole page.
        let rect = v
            .get(b"Rect")
            .map(|r| self.doc.deref_in(self.new, r))
            .and_then(|r| {
                r.as_array().map(|a| {
                    a.iter()
                        .map(|x| num(&self.doc.deref_in(self.new, x)))
                        .collect::<Option<Vec<f64>>>()
                })
            })
            .flatten();
        let msg = match rect.as_deref() {
            Some(&[x0, y0, x1, y1]) => {
                if (x1 - x0).abs() < 0.5 || (y1 - y0).abs() < 0.5 {
                    return; // zero-area: invisible signature widgets
                }
                format!(
                    "overlay: new {name} (/{sub}){on} draws over the signed page at [{x0} {y0} {x1} {y1}]"
                )
            }
            _ => format!(
                "overlay: new {name} (/{sub}){on} has a /Rect that is not four numbers: it may draw anywhere on the signed page"
            ),
        };
        if !self.out.overlays.contains(&msg) {
            self.out.overlays.push(msg);
        }
    }

    /// Step 3b: changed objects without a role must have been reached through an allowed
    /// change; object and cross-reference streams of the new state are structure.
    fn judge_new(&mut self) {
        let streams: BTreeSet<u32> = self
            .new
            .objects
            .values()
            .filter_map(|l| match l {
                Loc::InStream(s, _) => Some(*s),
                _ => None,
            })
            .collect();
        let sections: BTreeSet<usize> = self.new.sections.iter().copied().collect();
        let left: Vec<(u32, Option<Obj>)> = self
            .changed
            .iter()
            .filter(|(n, _)| !self.judged.contains(n))
            .map(|(&n, v)| (n, v.clone()))
            .collect();
        for (n, v) in left {
            let Some(v) = v else {
                // Freed and had no role in the signed revision: nothing refers to it.
                self.allow("unused object freed");
                continue;
            };
            let ty = v.get(b"Type").and_then(Obj::as_name).unwrap_or_default();
            let structural = match ty {
                b"ObjStm" => streams.contains(&n),
                b"XRef" => {
                    matches!(self.new.objects.get(&n), Some(Loc::Offset(o)) if sections.contains(o))
                }
                _ => false,
            };
            // A bare number (an indirect /Length) can only matter through a referrer, and
            // every referrer that changed is judged itself.
            // A signed one that changes (an object stream's indirect /Length) changes what its
            // referrer reads even though the referrer's entry did not change: not allowed.
            let existed = self.doc.get_in(self.old, n).is_some();
            let scalar = matches!(v, Obj::Int(_) | Obj::Real(_) | Obj::Null | Obj::Bool(_));
            if structural || (scalar && !existed) {
                continue;
            }
            if !existed && !self.doc.referenced(n) {
                // Written by the update but used by nothing (pyHanko leaves an empty form
                // XObject behind when it signs a second visible field): no reader shows it.
                self.allow("unreferenced object added (nothing in the document uses it)");
                continue;
            }
            let what = if existed { "changed" } else { "added" };
            self.bad(format!(
                "object {n} was {what} and is not part of an allowed change (a signature, form field, annotation, DSS or metadata)"
            ));
        }
    }
}

/// Resolves a transient role once the object is loaded.
fn refine(doc: &Document<'_>, rev: &Revision, role: Role, v: &Obj) -> Role {
    if matches!(v, Obj::Array(_)) {
        return role; // an indirect list: its entries are refined one by one
    }
    match role {
        Role::Kid => match v.get(b"Type").and_then(Obj::as_name) {
            Some(b"Pages") => Role::PageTree,
            _ if v.get(b"Kids").is_some() => Role::PageTree,
            _ => Role::Page,
        },
        Role::AnnotEntry if is_widget(v) || v.get(b"FT").is_some() => {
            if field_type(doc, rev, v).as_deref() == Some(b"Sig".as_slice()) {
                Role::SigField
            } else {
                Role::Field
            }
        }
        Role::AnnotEntry => Role::Annotation,
        Role::FieldEntry | Role::SigFieldEntry => {
            match (role, field_type(doc, rev, v).as_deref()) {
                (_, Some(b"Sig")) | (Role::SigFieldEntry, None) => Role::SigField,
                _ => Role::Field,
            }
        }
        other => other,
    }
}

/// What a role's object refers to, and as what.
fn children(v: &Obj, role: Role, out: &mut Vec<(Obj, Role)>) {
    let keyed = |k: &[u8]| -> Option<Role> {
        Some(match (role, k) {
            (_, b"Parent" | b"P") if role != Role::Catalog => return None,
            (Role::Catalog, b"Pages") => Role::PageTree,
            (Role::Catalog, b"AcroForm") => Role::AcroForm,
            (Role::Catalog, b"Metadata") => Role::Metadata,
            (Role::Catalog, b"DSS") => Role::Dss,
            (Role::Catalog, b"Perms") => Role::Signature,
            (Role::PageTree, b"Kids") => Role::Kid,
            (Role::PageTree | Role::Page, b"Resources") => Role::Resource,
            (Role::Page, b"Contents") => Role::Content,
            (Role::Page, b"Annots") => Role::AnnotList,
            (Role::Annotation, b"AP") => Role::Appearance,
            (Role::Annotation, b"Popup") => Role::AnnotEntry,
            (Role::AcroForm, b"Fields") => Role::FieldList,
            (Role::AcroForm, b"DR") => Role::Resource,
            (Role::Field | Role::SigField, b"AP") => Role::FieldAppearance,
            (Role::Field, b"Kids") => Role::FieldEntry,
            (Role::SigField, b"Kids") => Role::SigFieldEntry,
            (Role::SigField, b"V" | b"Lock") => Role::Signature,
            _ => Role::Structure,
        })
    };
    match (v, role) {
        (Obj::Array(a), Role::Kid | Role::AnnotEntry | Role::FieldEntry | Role::SigFieldEntry) => {
            out.extend(a.iter().map(|x| (x.clone(), role)));
        }
        (Obj::Array(a), Role::PageTree) => out.extend(a.iter().map(|x| (x.clone(), Role::Kid))),
        (Obj::Array(a), Role::AnnotList) => {
            out.extend(a.iter().map(|x| (x.clone(), Role::AnnotEntry)))
        }
        (Obj::Array(a), Role::FieldList) => {
            out.extend(a.iter().map(|x| (x.clone(), Role::FieldEntry)))
        }
        (
            Obj::Dict(_) | Obj::Stream(..),
            Role::Catalog
            | Role::PageTree
            | Role::Page
            | Role::Annotation
            | Role::AcroForm
            | Role::Field
            | Role::SigField,
        ) => {
            for (k, x) in v.as_dict().unwrap_or_default() {
                if let Some(r) = keyed(k) {
                    out.push((x.clone(), r));
                }
            }
        }
        // A signature reference dictionary's /Data names the signed object (FieldMDP: the
        // catalog); that object is not part of the signature.
        (_, Role::Signature) => out.extend(
            refs_except(v, b"Data")
                .into_iter()
                .map(|n| (Obj::Ref(n, 0), role)),
        ),
        // Everything else passes its role on to all it refers to.
        _ => out.extend(refs_of(v).into_iter().map(|n| (Obj::Ref(n, 0), role))),
    }
}

/// A field's /FT, inherited through /Parent (a few levels: field trees are shallow).
fn field_type(doc: &Document<'_>, rev: &Revision, v: &Obj) -> Option<Vec<u8>> {
    let mut cur = v.clone();
    for _ in 0..16 {
        if let Some(ft) = cur.get(b"FT").and_then(Obj::as_name) {
            return Some(ft.to_vec());
        }
        cur = doc.deref_in(rev, cur.get(b"Parent")?);
    }
    None
}

/// A field's /Ff, inherited through /Parent (ISO 32000-1 Table 220: inheritable).
fn field_flags(doc: &Document<'_>, rev: &Revision, v: &Obj) -> i64 {
    let mut cur = v.clone();
    for _ in 0..16 {
        if let Some(ff) = cur.get(b"Ff") {
            return doc.deref_in(rev, ff).as_int().unwrap_or(0);
        }
        match cur.get(b"Parent") {
            Some(p) => cur = doc.deref_in(rev, p),
            None => return 0,
        }
    }
    0
}

/// An action a new annotation or widget would run (/A, /AA): JavaScript, launch, submit.
fn action_key(v: &Obj) -> Option<&'static str> {
    [("A", b"A".as_slice()), ("AA", b"AA")]
        .into_iter()
        .find(|(_, k)| v.get(k).is_some())
        .map(|(n, _)| n)
}

fn list_key(entry: Role) -> &'static str {
    match entry {
        Role::FieldEntry => "Fields",
        _ => "Annots",
    }
}

fn is_widget(v: &Obj) -> bool {
    v.get(b"Subtype").and_then(Obj::as_name) == Some(b"Widget".as_slice())
}

fn is_metadata(v: &Obj) -> bool {
    matches!(v, Obj::Stream(..))
        && v.get(b"Type").and_then(Obj::as_name) == Some(b"Metadata".as_slice())
}

fn subtype(v: &Obj) -> String {
    v.get(b"Subtype")
        .and_then(Obj::as_name)
        .map_or_else(|| "?".into(), |s| String::from_utf8_lossy(s).into_owned())
}

fn num(o: &Obj) -> Option<f64> {
    match o {
        Obj::Int(i) => i64_to_f64(*i),
        Obj::Real(r) => Some(*r),
        _ => None,
    }
}

/// Rect coordinates are small; anything beyond f64's exact range is not a page.
fn i64_to_f64(i: i64) -> Option<f64> {
    i32::try_from(i).ok().map(f64::from)
}

fn has_refs(v: &Obj) -> bool {
    !refs_of(v).is_empty()
}

/// The object numbers `v` refers to, directly or inside its arrays and dictionaries.
pub(super) fn refs_of(v: &Obj) -> Vec<u32> {
    refs_skipping(v, None)
}

/// [`refs_of`], leaving out what is under the key `skip` at any depth.
fn refs_except(v: &Obj, skip: &[u8]) -> Vec<u32> {
    refs_skipping(v, Some(skip))
}

fn refs_skipping(v: &Obj, skip: Option<&[u8]>) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(o) = stack.pop() {
        match o {
            Obj::Ref(n, _) => out.push(*n),
            Obj::Array(a) => stack.extend(a.iter()),
            Obj::Dict(d) | Obj::Stream(d, _) => stack.extend(
                d.iter()
                    .filter(|(k, _)| skip != Some(k.as_slice()))
                    .map(|(_, x)| x),
            ),
            _ => {}
        }
    }
    out
}

/// Keys whose values differ between two dictionaries.
fn dict_diff(a: &Obj, b: &Obj) -> Vec<String> {
    let (da, db) = (
        a.as_dict().unwrap_or_default(),
        b.as_dict().unwrap_or_default(),
    );
    if a.as_dict().is_none()
        || b.as_dict().is_none()
        || matches!(a, Obj::Stream(..)) != matches!(b, Obj::Stream(..))
    {
        return vec!["(the object's kind)".into()];
    }
    let mut keys: BTreeSet<&[u8]> = da.iter().map(|(k, _)| k.as_slice()).collect();
    keys.extend(db.iter().map(|(k, _)| k.as_slice()));
    let mut out: Vec<String> = keys
        .into_iter()
        .filter(|k| a.get(k) != b.get(k))
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect();
    // A stream's data is part of it.
    if let (Obj::Stream(_, ra), Obj::Stream(_, rb)) = (a, b) {
        if ra != rb {
            out.push("(stream data)".into());
        }
    }
    out
}
