//! A small, strict XML 1.0 + Namespaces parser for signed documents, and Canonical XML.
//!
//! Signed XML is parsed into a tree once; C14N ([`c14n`]) walks that tree. The parser refuses
//! what a signature verifier has no business processing: any DTD (so no entities besides the five
//! predefined ones and character references, no external resources, no billion laughs), encodings
//! other than UTF-8, unbound namespace prefixes, duplicate attributes. Budgets: input size, element
//! depth and node count (`Limits::max_xml_*`). The parser is iterative: depth is bounded by the
//! budget, never by the stack.

pub mod c14n;

use std::collections::{HashMap, HashSet};

/// The namespace the `xml` prefix is bound to by definition (Namespaces in XML §3).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// Larger than the input budget.
    #[error("XML document of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// Deeper than the nesting budget.
    #[error("XML elements nested deeper than {0}")]
    TooDeep(usize),
    /// More nodes than the node budget.
    #[error("XML document has more than {0} nodes")]
    TooManyNodes(usize),
    /// More attributes (namespace declarations included) on one element than
    /// [`crate::limits::MAX_XML_ATTRIBUTES`].
    #[error("XML element has more than {0} attributes")]
    TooManyAttributes(usize),
    /// A document type declaration (refused: no DTD processing at all, so no entity expansion).
    #[error("DTDs are not accepted (no entity expansion, no external resources)")]
    Dtd,
    /// Not UTF-8, or an XML declaration naming another encoding.
    #[error("encoding: {0}")]
    Encoding(String),
    /// A reference to an entity other than the five predefined ones.
    #[error("undeclared entity &{0}; (no DTD processing)")]
    Entity(String),
    /// A prefix without an in-scope declaration.
    #[error("namespace prefix {0:?} is not declared")]
    UnboundPrefix(String),
    /// Anything else that is not well-formed, with the byte offset.
    #[error("not well-formed XML at byte {at}: {what}")]
    Syntax {
        /// Byte offset (after line-end normalisation).
        at: usize,
        /// What was wrong.
        what: &'static str,
    },
}

/// Index of a node in [`Document::nodes`].
pub type NodeId = usize;

/// A parsed document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Every node; children refer to each other by index.
    pub nodes: Vec<Node>,
    /// Document-level nodes in order (comments and PIs around the root element, and the root).
    pub top: Vec<NodeId>,
    /// The document element.
    pub root: NodeId,
}

/// One node.
#[derive(Debug, Clone)]
pub struct Node {
    /// The enclosing element (`None` at document level).
    pub parent: Option<NodeId>,
    /// What it is.
    pub kind: Kind,
}

/// Node kinds (the XPath data model minus attribute and namespace nodes, which live on elements).
#[derive(Debug, Clone)]
pub enum Kind {
    /// An element.
    Element(Element),
    /// Character data (references resolved, CDATA merged in).
    Text(String),
    /// A comment's text.
    Comment(String),
    /// A processing instruction.
    Pi {
        /// Target name.
        target: String,
        /// Everything after the target and its whitespace.
        data: String,
    },
}

/// An element with resolved namespaces.
#[derive(Debug, Clone, Default)]
pub struct Element {
    /// Prefix as written ("" for none).
    pub prefix: String,
    /// Local name.
    pub local: String,
    /// Namespace URI ("" for none).
    pub ns: String,
    /// Namespace declarations on this element: (prefix, URI), "" prefix = default namespace.
    pub ns_decls: Vec<(String, String)>,
    /// Attributes other than namespace declarations.
    pub attrs: Vec<Attr>,
    /// Child nodes in order.
    pub children: Vec<NodeId>,
}

/// An attribute.
#[derive(Debug, Clone, Default)]
pub struct Attr {
    /// Prefix as written.
    pub prefix: String,
    /// Local name.
    pub local: String,
    /// Namespace URI ("" for unprefixed attributes).
    pub ns: String,
    /// Normalised value (XML 1.0 §3.3.3 for CDATA attributes).
    pub value: String,
}

/// Parser budgets.
#[derive(Debug, Clone, Copy)]
pub struct XmlLimits {
    /// Largest input in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most nodes (elements, text, comments, PIs).
    pub max_nodes: usize,
}

impl Document {
    /// The element data of `id`, if it is an element.
    pub fn element(&self, id: NodeId) -> Option<&Element> {
        match &self.nodes.get(id)?.kind {
            Kind::Element(e) => Some(e),
            _ => None,
        }
    }

    /// Child elements of `id`.
    pub fn child_elements(&self, id: NodeId) -> impl Iterator<Item = (NodeId, &Element)> + '_ {
        self.element(id)
            .map(|e| e.children.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|&c| self.element(c).map(|e| (c, e)))
    }

    /// The first child element of `id` with this namespace and local name.
    pub fn child(&self, id: NodeId, ns: &str, local: &str) -> Option<(NodeId, &Element)> {
        self.child_elements(id)
            .find(|(_, e)| e.ns == ns && e.local == local)
    }

    /// The concatenated text of `id`'s direct text children.
    pub fn text(&self, id: NodeId) -> String {
        let mut s = String::new();
        for &c in self
            .element(id)
            .map(|e| e.children.as_slice())
            .unwrap_or_default()
        {
            if let Some(Node {
                kind: Kind::Text(t),
                ..
            }) = self.nodes.get(c)
            {
                s.push_str(t);
            }
        }
        s
    }

    /// Every element in document order, the root first.
    pub fn elements(&self) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack = vec![self.root];
        while let Some(id) = stack.pop() {
            if let Some(e) = self.element(id) {
                out.push(id);
                stack.extend(e.children.iter().rev().copied());
            }
        }
        out
    }

    /// Is `node` inside (or equal to) `ancestor`?
    pub fn is_within(&self, mut node: NodeId, ancestor: NodeId) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match self.nodes.get(node).and_then(|n| n.parent) {
                Some(p) => node = p,
                None => return false,
            }
        }
    }

    /// The namespace declarations in scope at `id` (innermost wins), from its ancestors and itself.
    pub fn in_scope_namespaces(&self, id: NodeId) -> Vec<(String, String)> {
        let mut chain = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            chain.push(c);
            cur = self.nodes.get(c).and_then(|n| n.parent);
        }
        let mut scope: Vec<(String, String)> = Vec::new();
        for &c in chain.iter().rev() {
            for (p, u) in self
                .element(c)
                .map(|e| e.ns_decls.as_slice())
                .unwrap_or_default()
            {
                match scope.iter_mut().find(|(q, _)| q == p) {
                    Some(slot) => slot.1.clone_from(u),
                    None => scope.push((p.clone(), u.clone())),
                }
            }
        }
        scope
    }
}

impl Element {
    /// The value of the unqualified attribute `local`.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.local == local)
            .map(|a| a.value.as_str())
    }
}

/// Parses a document. Line ends are normalised first (XML 1.0 §2.11), a UTF-8 BOM is skipped.
pub fn parse(input: &[u8], limits: &XmlLimits) -> Result<Document, XmlError> {
    if input.len() > limits.max_bytes {
        return Err(XmlError::TooLarge(input.len()));
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text =
        std::str::from_utf8(input).map_err(|e| XmlError::Encoding(format!("not UTF-8 ({e})")))?;
    let text = normalize_line_ends(text);
    Parser {
        s: &text,
        pos: 0,
        limits,
        nodes: Vec::new(),
        top: Vec::new(),
        scope: Vec::new(),
        bound: HashMap::from([
            (String::new(), vec![String::new()]),
            ("xml".into(), vec![XML_NS.into()]),
        ]),
    }
    .document()
}

fn normalize_line_ends(s: &str) -> String {
    if !s.contains('\r') {
        return s.to_owned();
    }
    s.replace("\r\n", "\n").replace('\r', "\n")
}

struct Parser<'a, 'l> {
    s: &'a str,
    pos: usize,
    limits: &'l XmlLimits,
    nodes: Vec<Node>,
    top: Vec<NodeId>,
    /// Prefixes declared by the open elements, innermost last (what to unbind when they close).
    scope: Vec<String>,
    /// Each prefix's bindings, innermost last: a lookup costs one hash, however many
    /// declarations the open elements carry (a linear scan over them made many prefixed
    /// attributes under many declarations quadratic).
    bound: HashMap<String, Vec<String>>,
}

/// An element being built: its node, and how many bindings it pushed on the scope.
struct Open {
    id: NodeId,
    qname: String,
    pushed: usize,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_name_byte(c: u8) -> bool {
    !is_space(c) && !b"<>/=\"'&;!?[]()$%{}|^`,@*+#\\".contains(&c)
}

/// XML 1.0 §2.2 Char.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

impl<'a> Parser<'a, '_> {
    fn err(&self, what: &'static str) -> XmlError {
        XmlError::Syntax { at: self.pos, what }
    }

    fn rest(&self) -> &'a str {
        let s: &'a str = self.s;
        s.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.rest().starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn skip_space(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Everything up to `end` (consumed), which must appear.
    fn until(&mut self, end: &str, what: &'static str) -> Result<&'a str, XmlError> {
        let rest = self.rest();
        let Some(i) = rest.find(end) else {
            return Err(self.err(what));
        };
        let s = self.s;
        let out = s.get(self.pos..self.pos + i).unwrap_or("");
        self.pos += i + end.len();
        Ok(out)
    }

    fn name(&mut self) -> Result<&'a str, XmlError> {
        let start = self.pos;
        while self.peek().is_some_and(is_name_byte) {
            self.pos += 1;
        }
        let s: &'a str = self.s;
        let name = s.get(start..self.pos).unwrap_or("");
        match name.bytes().next() {
            None => Err(self.err("a name was expected")),
            Some(b'-' | b'.' | b'0'..=b'9' | b':') => Err(self.err("a name cannot start so")),
            Some(_) => Ok(name),
        }
    }

    fn push(&mut self, parent: Option<NodeId>, kind: Kind) -> Result<NodeId, XmlError> {
        if self.nodes.len() >= self.limits.max_nodes {
            return Err(XmlError::TooManyNodes(self.limits.max_nodes));
        }
        let id = self.nodes.len();
        self.nodes.push(Node { parent, kind });
        if let Some(p) = parent {
            if let Some(Node {
                kind: Kind::Element(e),
                ..
            }) = self.nodes.get_mut(p)
            {
                e.children.push(id);
            }
        } else {
            self.top.push(id);
        }
        Ok(id)
    }

    fn document(mut self) -> Result<Document, XmlError> {
        if self.rest().starts_with("<?xml")
            && self.rest().as_bytes().get(5).is_some_and(|&c| is_space(c))
        {
            self.pos += 5;
            let decl = self.until("?>", "unterminated XML declaration")?;
            check_declaration(decl)?;
        }
        let mut root = None;
        let mut stack: Vec<Open> = Vec::new();
        loop {
            let parent = stack.last().map(|o| o.id);
            if self.pos >= self.s.len() {
                break;
            }
            if self.eat("<!--") {
                let c = self.until("-->", "unterminated comment")?.to_owned();
                if c.contains("--") || c.ends_with('-') {
                    return Err(self.err("'--' inside a comment"));
                }
                self.push(parent, Kind::Comment(c))?;
            } else if self.eat("<?") {
                let target = self.name()?.to_owned();
                if target.eq_ignore_ascii_case("xml") {
                    return Err(self.err("misplaced XML declaration"));
                }
                let had_space = self.skip_space();
                let data = self.until("?>", "unterminated processing instruction")?;
                if !had_space && !data.is_empty() {
                    return Err(
                        self.err("processing instruction target must be followed by a space")
                    );
                }
                let data = data.to_owned();
                self.push(parent, Kind::Pi { target, data })?;
            } else if self.rest().starts_with("<!DOCTYPE") || self.rest().starts_with("<!ENTITY") {
                return Err(XmlError::Dtd);
            } else if self.eat("<![CDATA[") {
                let Some(p) = parent else {
                    return Err(self.err("CDATA outside the document element"));
                };
                let t = self.until("]]>", "unterminated CDATA section")?.to_owned();
                check_chars(&t).map_err(|_| self.err("character not allowed in XML"))?;
                self.text(p, t)?;
            } else if self.eat("</") {
                let name = self.name()?.to_owned();
                self.skip_space();
                if !self.eat(">") {
                    return Err(self.err("'>' expected"));
                }
                let Some(open) = stack.pop() else {
                    return Err(self.err("end tag without a start tag"));
                };
                if open.qname != name {
                    return Err(self.err("end tag does not match the start tag"));
                }
                self.unbind(open.pushed);
            } else if self.rest().starts_with("<!") {
                return Err(self.err("unsupported markup declaration"));
            } else if self.eat("<") {
                if parent.is_none() && root.is_some() {
                    return Err(self.err("more than one document element"));
                }
                if stack.len() >= self.limits.max_depth {
                    return Err(XmlError::TooDeep(self.limits.max_depth));
                }
                let (open, empty) = self.start_tag(parent)?;
                if parent.is_none() {
                    root = Some(open.id);
                }
                if empty {
                    self.unbind(open.pushed);
                } else {
                    stack.push(open);
                }
            } else {
                let end = self.rest().find('<').map_or(self.s.len(), |i| self.pos + i);
                let raw = self.s.get(self.pos..end).unwrap_or("");
                let t = self.unescape(raw, false)?;
                self.pos = end;
                match parent {
                    Some(p) => self.text(p, t)?,
                    None if t.bytes().all(is_space) && !raw.contains('&') => {}
                    None => return Err(self.err("text outside the document element")),
                }
            }
        }
        if !stack.is_empty() {
            return Err(self.err("unclosed element at end of input"));
        }
        let root = root.ok_or_else(|| self.err("no document element"))?;
        Ok(Document {
            nodes: self.nodes,
            top: self.top,
            root,
        })
    }

    /// Appends text to `parent`, merging with a preceding text node.
    fn text(&mut self, parent: NodeId, t: String) -> Result<(), XmlError> {
        if t.is_empty() {
            return Ok(());
        }
        let last = match &self.nodes.get(parent).map(|n| &n.kind) {
            Some(Kind::Element(e)) => e.children.last().copied(),
            _ => None,
        };
        if let Some(Node {
            kind: Kind::Text(prev),
            ..
        }) = last.and_then(|l| self.nodes.get_mut(l))
        {
            prev.push_str(&t);
            return Ok(());
        }
        self.push(Some(parent), Kind::Text(t)).map(|_| ())
    }

    /// Resolves references; in attribute values also normalises whitespace (XML 1.0 §3.3.3).
    fn unescape(&self, raw: &str, attribute: bool) -> Result<String, XmlError> {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find(['&', '<', '\t', '\n', ']']) {
            let (head, tail) = rest.split_at(i);
            out.push_str(head);
            let c = tail.as_bytes().first().copied().unwrap_or(0);
            match c {
                b'&' => {
                    let end = tail
                        .find(';')
                        .ok_or_else(|| self.err("unterminated reference"))?;
                    let name = tail.get(1..end).unwrap_or("");
                    out.push(resolve_reference(name)?);
                    rest = tail.get(end + 1..).unwrap_or("");
                    continue;
                }
                b'<' => return Err(self.err("'<' in an attribute value")),
                b'\t' | b'\n' => out.push(if attribute { ' ' } else { c as char }),
                _ => {
                    if !attribute && tail.starts_with("]]>") {
                        return Err(self.err("']]>' in text"));
                    }
                    out.push(']');
                }
            }
            rest = tail.get(1..).unwrap_or("");
        }
        out.push_str(rest);
        check_chars(&out).map_err(|_| self.err("character not allowed in XML"))?;
        Ok(out)
    }

    fn lookup(&self, prefix: &str) -> Option<&str> {
        self.bound
            .get(prefix)
            .and_then(|uris| uris.last())
            .map(String::as_str)
    }

    /// Removes the `n` innermost declarations (those of the element being closed).
    fn unbind(&mut self, n: usize) {
        for _ in 0..n {
            let Some(prefix) = self.scope.pop() else {
                return;
            };
            if let Some(uris) = self.bound.get_mut(&prefix) {
                uris.pop();
            }
        }
    }

    fn start_tag(&mut self, parent: Option<NodeId>) -> Result<(Open, bool), XmlError> {
        let qname = self.name()?.to_owned();
        let mut raw_attrs: Vec<(String, String)> = Vec::new();
        // Duplicate raw names, found in one hash each: the old scan over the attributes read so
        // far was quadratic (100,000 attributes took 23 s).
        let mut names: HashSet<String> = HashSet::new();
        let empty = loop {
            let spaced = self.skip_space();
            if self.eat("/>") {
                break true;
            }
            if self.eat(">") {
                break false;
            }
            if !spaced {
                return Err(self.err("whitespace expected between attributes"));
            }
            // The budget before the work: the count is checked before the attribute is read.
            if raw_attrs.len() >= crate::limits::MAX_XML_ATTRIBUTES {
                return Err(XmlError::TooManyAttributes(
                    crate::limits::MAX_XML_ATTRIBUTES,
                ));
            }
            let name = self.name()?.to_owned();
            self.skip_space();
            if !self.eat("=") {
                return Err(self.err("'=' expected"));
            }
            self.skip_space();
            let quote = match self.peek() {
                Some(q @ (b'"' | b'\'')) => q as char,
                _ => return Err(self.err("quoted attribute value expected")),
            };
            self.pos += 1;
            let raw = self.until(
                if quote == '"' { "\"" } else { "'" },
                "unterminated attribute value",
            )?;
            let value = self.unescape(raw, true)?;
            if !names.insert(name.clone()) {
                return Err(self.err("duplicate attribute"));
            }
            raw_attrs.push((name, value));
        };
        let mut el = Element::default();
        let mut others = Vec::new();
        for (name, value) in raw_attrs {
            if name == "xmlns" {
                el.ns_decls.push((String::new(), value));
            } else if let Some(p) = name.strip_prefix("xmlns:") {
                if value.is_empty() || p == "xmlns" || (p == "xml") != (value == XML_NS) {
                    return Err(self.err("illegal namespace declaration"));
                }
                el.ns_decls.push((p.to_owned(), value));
            } else {
                others.push((name, value));
            }
        }
        let pushed = el.ns_decls.len();
        for (p, u) in &el.ns_decls {
            self.scope.push(p.clone());
            self.bound.entry(p.clone()).or_default().push(u.clone());
        }
        let (prefix, local) = split_qname(&qname).ok_or_else(|| self.err("bad qualified name"))?;
        el.ns = self
            .lookup(prefix)
            .ok_or_else(|| XmlError::UnboundPrefix(prefix.to_owned()))?
            .to_owned();
        el.prefix = prefix.to_owned();
        el.local = local.to_owned();
        let mut seen = HashSet::new();
        for (name, value) in others {
            let (prefix, local) =
                split_qname(&name).ok_or_else(|| self.err("bad qualified name"))?;
            let ns = if prefix.is_empty() {
                String::new()
            } else {
                self.lookup(prefix)
                    .ok_or_else(|| XmlError::UnboundPrefix(prefix.to_owned()))?
                    .to_owned()
            };
            // Namespaces in XML §6.3: no two attributes with the same expanded name.
            if !seen.insert((ns.clone(), local.to_owned())) {
                return Err(self.err("duplicate attribute"));
            }
            el.attrs.push(Attr {
                prefix: prefix.to_owned(),
                local: local.to_owned(),
                ns,
                value,
            });
        }
        let id = self.push(parent, Kind::Element(el))?;
        Ok((Open { id, qname, pushed }, empty))
    }
}

/// `prefix:local` or `local` ("" prefix); None for more than one colon or an empty part.
fn split_qname(q: &str) -> Option<(&str, &str)> {
    match q.split_once(':') {
        None => Some(("", q)),
        Some((p, l)) if !p.is_empty() && !l.is_empty() && !l.contains(':') => Some((p, l)),
        _ => None,
    }
}

fn check_chars(s: &str) -> Result<(), ()> {
    if s.chars().all(is_xml_char) {
        Ok(())
    } else {
        Err(())
    }
}

fn resolve_reference(name: &str) -> Result<char, XmlError> {
    let code = if let Some(hex) = name.strip_prefix("#x") {
        u32::from_str_radix(hex, 16).ok()
    } else if let Some(dec) = name.strip_prefix('#') {
        dec.parse::<u32>().ok()
    } else {
        return match name {
            "lt" => Ok('<'),
            "gt" => Ok('>'),
            "amp" => Ok('&'),
            "apos" => Ok('\''),
            "quot" => Ok('"'),
            other => Err(XmlError::Entity(other.chars().take(64).collect())),
        };
    };
    code.and_then(char::from_u32)
        .filter(|&c| is_xml_char(c))
        .ok_or(XmlError::Syntax {
            at: 0,
            what: "character reference to a character not allowed in XML",
        })
}

/// The XML declaration after `<?xml` (XML 1.0 §2.8 `XMLDecl`): `version`, then optionally
/// `encoding`, then optionally `standalone`, in that order, each once, quoted, with the values
/// the grammar allows. Anything else is refused: libxml2 (xmlsec1) refuses it too, and a
/// declaration two readers parse differently is a document they read differently. Only UTF-8
/// (or no encoding) is accepted.
fn check_declaration(decl: &str) -> Result<(), XmlError> {
    // The declaration starts the document: its offsets are small, 5 is where it begins.
    let bad = |what: &'static str| XmlError::Syntax { at: 5, what };
    let mut rest = decl;
    let mut seen = Vec::with_capacity(3);
    for name in ["version", "encoding", "standalone"] {
        let after_space = rest.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
        if after_space.len() == rest.len() {
            break;
        }
        let Some(after_name) = after_space.strip_prefix(name) else {
            continue;
        };
        let after_eq = after_name
            .trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8))
            .strip_prefix('=')
            .ok_or_else(|| bad("malformed XML declaration: a pseudo-attribute without '='"))?
            .trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
        let quote = after_eq
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .ok_or_else(|| bad("malformed XML declaration: a value not quoted"))?;
        let body = &after_eq[1..];
        let close = body
            .find(quote)
            .ok_or_else(|| bad("malformed XML declaration: a value not closed"))?;
        let value = &body[..close];
        let ok = match name {
            "version" => value
                .strip_prefix("1.")
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())),
            "encoding" => {
                let mut b = value.bytes();
                b.next().is_some_and(|c| c.is_ascii_alphabetic())
                    && b.all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c))
            }
            _ => value == "yes" || value == "no",
        };
        if !ok {
            return Err(bad(
                "malformed XML declaration: a version, encoding or standalone value out of grammar",
            ));
        }
        if name == "encoding"
            && !value.eq_ignore_ascii_case("utf-8")
            && !value.eq_ignore_ascii_case("utf8")
        {
            return Err(XmlError::Encoding(format!(
                "the document declares {value:?}; only UTF-8 is accepted"
            )));
        }
        seen.push(name);
        rest = &body[close + 1..];
    }
    if seen.first() != Some(&"version") {
        return Err(bad("malformed XML declaration: version must come first"));
    }
    if !rest.bytes().all(|c| is_space(c)) {
        return Err(bad(
            "malformed XML declaration: only version, encoding and standalone, once each, in order",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const LIMITS: XmlLimits = XmlLimits {
        max_bytes: 1 << 20,
        max_depth: 64,
        max_nodes: 10_000,
    };

    #[test]
    fn parses_namespaces_text_and_references() {
        let d = parse(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<a xmlns=\"urn:a\" xmlns:b=\"urn:b\"><b:c b:x=\"1&#9;2\n3\">x &amp; &#x41;<![CDATA[<y>]]></b:c></a>",
            &LIMITS,
        )
        .unwrap();
        let a = d.element(d.root).unwrap();
        assert_eq!((a.ns.as_str(), a.local.as_str()), ("urn:a", "a"));
        let (c, ce) = d.child(d.root, "urn:b", "c").unwrap();
        assert_eq!(ce.attrs[0].ns, "urn:b");
        // A literal newline in an attribute becomes a space; a character reference stays.
        assert_eq!(ce.attrs[0].value, "1\t2 3");
        assert_eq!(d.text(c), "x & A<y>");
    }

    #[test]
    fn refuses_dtds_entities_and_bad_input() {
        let cases: &[&[u8]] = &[
            b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            b"<!DOCTYPE a SYSTEM \"http://127.0.0.1/x.dtd\"><a/>",
            b"<a>&x;</a>",
            b"<a><b></a>",
            b"<a/><b/>",
            b"<a x='1' x='2'/>",
            b"<p:a/>",
            b"<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>",
            b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>",
            // Malformed declarations (libxml2 refuses each).
            b"<?xml encoding='UTF-8'?><a/>",
            b"<?xml version='2.0'?><a/>",
            b"<?xml version='1.0' encoding='UTF-8' version='1.0'?><a/>",
            b"<?xml version='1.0' standalone='yes' encoding='UTF-8'?><a/>",
            b"<?xml version='1.0' foo='bar'?><a/>",
            b"<?xml version=1.0?><a/>",
            b"<?xml version='1.0' standalone='maybe'?><a/>",
            b"<?xml version='1.0'encoding='UTF-8'?><a/>",
            b"\xff<a/>",
            b"<a>&#0;</a>",
            b"",
            b"text",
        ];
        for c in cases {
            assert!(parse(c, &LIMITS).is_err(), "{}", String::from_utf8_lossy(c));
        }
        // What the grammar allows (expat and libxml2 accept these too).
        for ok in [
            &b"<?xml version = '1.0'  encoding = \"utf-8\" standalone='no' ?><a/>"[..],
            b"<?xml version=\"1.0\"?><a/>",
            b"<?xml version='1.1' standalone=\"yes\"?><a/>",
        ] {
            assert!(
                parse(ok, &LIMITS).is_ok(),
                "{}",
                String::from_utf8_lossy(ok)
            );
        }
        assert_eq!(
            parse(b"<!DOCTYPE a><a/>", &LIMITS).unwrap_err(),
            XmlError::Dtd
        );
    }

    #[test]
    fn attributes_are_capped_per_element_and_checked_in_linear_time() {
        let cap = crate::limits::MAX_XML_ATTRIBUTES;
        let attrs = |n: usize| (0..n).map(|i| format!(" a{i}='{i}'")).collect::<String>();
        let at_cap = format!("<e{}/>", attrs(cap));
        let d = parse(at_cap.as_bytes(), &LIMITS).expect("at the cap parses");
        assert_eq!(d.element(d.root).unwrap().attrs.len(), cap);
        let over = format!("<e{}/>", attrs(cap + 1));
        assert_eq!(
            parse(over.as_bytes(), &LIMITS).unwrap_err(),
            XmlError::TooManyAttributes(cap)
        );
        // A duplicate is still found, last of the cap.
        let dup = format!("<e{} a0='x'/>", attrs(cap - 1));
        assert!(matches!(
            parse(dup.as_bytes(), &LIMITS).unwrap_err(),
            XmlError::Syntax {
                what: "duplicate attribute",
                ..
            }
        ));
        // Prefixes resolve through the innermost declaration and fall back when it closes.
        let d = parse(
            b"<a xmlns:p='u1'><b xmlns:p='u2' p:x='1'/><c p:y='2'/></a>",
            &LIMITS,
        )
        .unwrap();
        let (_, b) = d.child_elements(d.root).next().unwrap();
        let (_, c) = d.child_elements(d.root).nth(1).unwrap();
        assert_eq!(
            (b.attrs[0].ns.as_str(), c.attrs[0].ns.as_str()),
            ("u2", "u1")
        );
    }

    #[test]
    fn budgets_hold_without_recursion() {
        let deep = "<a>".repeat(100_000);
        assert_eq!(
            parse(deep.as_bytes(), &LIMITS).unwrap_err(),
            XmlError::TooDeep(64)
        );
        let wide = format!("<a>{}</a>", "<b/>".repeat(20_000));
        assert_eq!(
            parse(wide.as_bytes(), &LIMITS).unwrap_err(),
            XmlError::TooManyNodes(10_000)
        );
    }
}
