//! Canonical XML 1.0 (W3C REC-xml-c14n-20010315, with and without comments) and Exclusive XML
//! Canonicalization 1.0 (REC-xml-exc-c14n-20020718), over the node-sets XMLDSig produces: a
//! document or an element subtree, minus whole excluded subtrees (the enveloped signature).
//!
//! Because an excluded subtree is always removed whole, the parent of every output element other
//! than the apex is itself output: namespace rendering only compares with the parent, and the apex
//! renders everything it has in scope (inclusive) or uses (exclusive).

use super::{Document, Kind, NodeId, XML_NS};

/// Which canonicalization.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Method {
    /// Exclusive C14N (only visibly utilised namespaces) instead of inclusive C14N 1.0.
    pub exclusive: bool,
    /// Keep comments.
    pub comments: bool,
    /// Exclusive C14N's InclusiveNamespaces PrefixList ("#default" for the default namespace).
    pub inclusive_prefixes: Vec<String>,
}

/// Algorithm URIs.
pub mod uri {
    /// Canonical XML 1.0.
    pub const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
    /// Canonical XML 1.0 with comments.
    pub const C14N_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
    /// Exclusive C14N 1.0.
    pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
    /// Exclusive C14N 1.0 with comments.
    pub const EXC_C14N_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
}

impl Method {
    /// The method an algorithm URI names, if it is one of the four supported.
    pub fn from_uri(uri: &str) -> Option<Self> {
        let (exclusive, comments) = match uri {
            uri::C14N => (false, false),
            uri::C14N_COMMENTS => (false, true),
            uri::EXC_C14N => (true, false),
            uri::EXC_C14N_COMMENTS => (true, true),
            _ => return None,
        };
        Some(Self {
            exclusive,
            comments,
            inclusive_prefixes: Vec::new(),
        })
    }
}

/// What to canonicalize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apex {
    /// The whole document (document-level comments and PIs included per §2.1).
    Document,
    /// One element and its descendants.
    Element(NodeId),
}

/// Canonicalizes `apex` minus the subtrees rooted at `excluded`, appending to `out`.
pub fn canonicalize(
    doc: &Document,
    apex: Apex,
    excluded: &[NodeId],
    m: &Method,
    out: &mut Vec<u8>,
) {
    let mut w = Writer {
        doc,
        excluded,
        m,
        out,
    };
    match apex {
        Apex::Document => {
            let mut after_root = false;
            for &n in &doc.top {
                if n == doc.root {
                    w.subtree(n, true);
                    after_root = true;
                    continue;
                }
                let is_output = match doc.nodes.get(n).map(|x| &x.kind) {
                    Some(Kind::Comment(_)) => m.comments,
                    Some(Kind::Pi { .. }) => true,
                    _ => false,
                };
                if !is_output || excluded.contains(&n) {
                    continue;
                }
                if after_root {
                    w.out.push(b'\n');
                }
                w.leaf(n);
                if !after_root {
                    w.out.push(b'\n');
                }
            }
        }
        Apex::Element(e) => w.subtree(e, true),
    }
}

struct Writer<'a> {
    doc: &'a Document,
    excluded: &'a [NodeId],
    m: &'a Method,
    out: &'a mut Vec<u8>,
}

/// One step of the iterative walk.
enum Step {
    Enter(NodeId, bool),
    Leave(NodeId, usize),
}

impl Writer<'_> {
    fn leaf(&mut self, n: NodeId) {
        match self.doc.nodes.get(n).map(|x| &x.kind) {
            Some(Kind::Text(t)) => escape_text(t, self.out),
            Some(Kind::Comment(c)) if self.m.comments => {
                self.out.extend_from_slice(b"<!--");
                self.out.extend_from_slice(c.as_bytes());
                self.out.extend_from_slice(b"-->");
            }
            Some(Kind::Pi { target, data }) => {
                self.out.extend_from_slice(b"<?");
                self.out.extend_from_slice(target.as_bytes());
                if !data.is_empty() {
                    self.out.push(b' ');
                    self.out.extend_from_slice(data.as_bytes());
                }
                self.out.extend_from_slice(b"?>");
            }
            _ => {}
        }
    }

    /// Walks a subtree without recursion. `rendered` holds the namespace declarations in effect
    /// in the output (innermost last); each element records how many it pushed.
    fn subtree(&mut self, start: NodeId, apex: bool) {
        let mut rendered: Vec<(String, String)> = Vec::new();
        let mut stack = vec![Step::Enter(start, apex)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Leave(n, pushed) => {
                    if let Some(e) = self.doc.element(n) {
                        self.out.extend_from_slice(b"</");
                        write_qname(&e.prefix, &e.local, self.out);
                        self.out.push(b'>');
                    }
                    rendered.truncate(rendered.len().saturating_sub(pushed));
                }
                Step::Enter(n, is_apex) => {
                    if self.excluded.contains(&n) {
                        continue;
                    }
                    let Some(e) = self.doc.element(n) else {
                        self.leaf(n);
                        continue;
                    };
                    let doc = self.doc;
                    let decls = self.namespaces(n, is_apex, &rendered);
                    self.out.push(b'<');
                    write_qname(&e.prefix, &e.local, self.out);
                    for (p, u) in &decls {
                        self.out.extend_from_slice(if p.is_empty() {
                            b" xmlns"
                        } else {
                            b" xmlns:"
                        });
                        self.out.extend_from_slice(p.as_bytes());
                        self.out.extend_from_slice(b"=\"");
                        escape_attr(u, self.out);
                        self.out.push(b'"');
                    }
                    let mut attrs: Vec<(&str, &str, &str, &str)> = e
                        .attrs
                        .iter()
                        .map(|a| {
                            (
                                a.ns.as_str(),
                                a.local.as_str(),
                                a.prefix.as_str(),
                                a.value.as_str(),
                            )
                        })
                        .collect();
                    if is_apex && !self.m.exclusive {
                        // C14N 1.0 §2.4: the apex inherits xml:* attributes of its ancestors.
                        for (local, value) in inherited_xml_attrs(doc, n) {
                            if !attrs.iter().any(|a| a.0 == XML_NS && a.1 == local) {
                                attrs.push((XML_NS, local, "xml", value));
                            }
                        }
                    }
                    attrs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
                    for (_, local, prefix, value) in attrs {
                        self.out.push(b' ');
                        write_qname(prefix, local, self.out);
                        self.out.extend_from_slice(b"=\"");
                        escape_attr(value, self.out);
                        self.out.push(b'"');
                    }
                    self.out.push(b'>');
                    let pushed = decls.len();
                    rendered.extend(decls);
                    stack.push(Step::Leave(n, pushed));
                    stack.extend(e.children.iter().rev().map(|&c| Step::Enter(c, false)));
                }
            }
        }
    }

    /// The namespace declarations to write on element `n`, sorted by prefix (default first).
    fn namespaces(
        &self,
        n: NodeId,
        apex: bool,
        rendered: &[(String, String)],
    ) -> Vec<(String, String)> {
        let Some(e) = self.doc.element(n) else {
            return Vec::new();
        };
        let in_scope: Vec<(String, String)> = if apex {
            self.doc.in_scope_namespaces(n)
        } else {
            e.ns_decls.clone()
        };
        let rendered_value = |p: &str| {
            rendered
                .iter()
                .rev()
                .find(|(q, _)| q == p)
                .map_or("", |(_, u)| u.as_str())
        };
        let mut out: Vec<(String, String)> = Vec::new();
        if self.m.exclusive {
            let scope = if apex {
                in_scope
            } else {
                self.doc.in_scope_namespaces(n)
            };
            let in_scope_value =
                |p: &str| scope.iter().find(|(q, _)| q == p).map(|(_, u)| u.clone());
            // Exc-C14N §3: prefixes visibly utilised by the element and its attributes, plus the
            // InclusiveNamespaces list, when the output ancestors have not rendered them already.
            let mut used: Vec<&str> = vec![e.prefix.as_str()];
            used.extend(
                e.attrs
                    .iter()
                    .filter(|a| !a.prefix.is_empty())
                    .map(|a| a.prefix.as_str()),
            );
            for p in &self.m.inclusive_prefixes {
                used.push(if p == "#default" { "" } else { p.as_str() });
            }
            for p in used {
                if p == "xml" || out.iter().any(|(q, _)| q == p) {
                    continue;
                }
                let Some(value) = in_scope_value(p).or_else(|| p.is_empty().then(String::new))
                else {
                    continue;
                };
                if rendered_value(p) != value {
                    out.push((p.to_owned(), value));
                }
            }
        } else {
            for (p, u) in in_scope {
                if p == "xml" {
                    continue;
                }
                // An empty default namespace is only written to undo a rendered non-empty one.
                if rendered_value(&p) != u {
                    out.push((p, u));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// xml:* attributes of the ancestors, nearest first wins.
fn inherited_xml_attrs(doc: &Document, n: NodeId) -> Vec<(&str, &str)> {
    let mut found: Vec<(&str, &str)> = Vec::new();
    let mut cur = doc.nodes.get(n).and_then(|x| x.parent);
    while let Some(c) = cur {
        for a in doc
            .element(c)
            .map(|e| e.attrs.as_slice())
            .unwrap_or_default()
        {
            if a.ns == XML_NS && !found.iter().any(|(l, _)| *l == a.local) {
                found.push((a.local.as_str(), a.value.as_str()));
            }
        }
        cur = doc.nodes.get(c).and_then(|x| x.parent);
    }
    found
}

fn write_qname(prefix: &str, local: &str, out: &mut Vec<u8>) {
    if !prefix.is_empty() {
        out.extend_from_slice(prefix.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(local.as_bytes());
}

/// C14N §2.3 text nodes: &, <, > and CR escaped.
fn escape_text(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            _ => out.push(b),
        }
    }
}

/// C14N §2.3 attribute values: &, <, ", TAB, LF and CR escaped.
fn escape_attr(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\t' => out.extend_from_slice(b"&#x9;"),
            b'\n' => out.extend_from_slice(b"&#xA;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, tests::LIMITS};
    use super::*;

    fn c14n(xml: &str, m: &Method) -> String {
        let d = parse(xml.as_bytes(), &LIMITS).unwrap();
        let mut out = Vec::new();
        canonicalize(&d, Apex::Document, &[], m, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// The examples of the C14N 1.0 recommendation, §3 (inputs without DTDs).
    #[test]
    fn w3c_c14n_examples() {
        // §3.1 PIs, comments, and outside of the document element.
        let input = "<?xml version=\"1.0\"?>\n\n<?xml-stylesheet   href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n\n<doc>Hello, world!<!-- Comment 1 --></doc>\n\n<?pi-without-data     ?>\n\n<!-- Comment 2 -->\n\n<!-- Comment 3 -->";
        assert_eq!(
            c14n(input, &Method::default()),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!</doc>\n<?pi-without-data?>"
        );
        let with = Method {
            comments: true,
            ..Method::default()
        };
        assert_eq!(
            c14n(input, &with),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!<!-- Comment 1 --></doc>\n<?pi-without-data?>\n<!-- Comment 2 -->\n<!-- Comment 3 -->"
        );
        // §3.3 start and end tags (the parts without DTD defaults).
        let input = "<doc>\n   <e1   />\n   <e2   ></e2>\n   <e3   name = \"elem3\"   id=\"elem3\"   />\n   <e5 a:attr=\"out\" b:attr=\"sorted\" attr2=\"all\" attr=\"I'm\"\n      xmlns:b=\"http://www.ietf.org\"\n      xmlns:a=\"http://www.w3.org\"\n      xmlns=\"http://example.org\"/>\n   <e6 xmlns=\"\" xmlns:a=\"http://www.w3.org\">\n      <e7 xmlns=\"http://www.ietf.org\">\n         <e8 xmlns=\"\" xmlns:a=\"http://www.w3.org\">\n            <e9 xmlns=\"\" xmlns:a=\"http://www.ietf.org\"/>\n         </e8>\n      </e7>\n   </e6>\n</doc>";
        assert_eq!(
            c14n(input, &Method::default()),
            "<doc>\n   <e1></e1>\n   <e2></e2>\n   <e3 id=\"elem3\" name=\"elem3\"></e3>\n   <e5 xmlns=\"http://example.org\" xmlns:a=\"http://www.w3.org\" xmlns:b=\"http://www.ietf.org\" attr=\"I'm\" attr2=\"all\" b:attr=\"sorted\" a:attr=\"out\"></e5>\n   <e6 xmlns:a=\"http://www.w3.org\">\n      <e7 xmlns=\"http://www.ietf.org\">\n         <e8 xmlns=\"\">\n            <e9 xmlns:a=\"http://www.ietf.org\"></e9>\n         </e8>\n      </e7>\n   </e6>\n</doc>"
        );
        // §3.4 character modifications and character references (no DTD part).
        let input = "<doc>\n   <text>First line&#x0d;&#10;Second line</text>\n   <value>&#x32;</value>\n   <compute><![CDATA[value>\"0\" && value<\"10\" ?\"valid\":\"error\"]]></compute>\n   <compute expr='value>\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"'>valid</compute>\n   <norm attr=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>\n</doc>";
        assert_eq!(
            c14n(input, &Method::default()),
            "<doc>\n   <text>First line&#xD;\nSecond line</text>\n   <value>2</value>\n   <compute>value&gt;\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"</compute>\n   <compute expr=\"value>&quot;0&quot; &amp;&amp; value&lt;&quot;10&quot; ?&quot;valid&quot;:&quot;error&quot;\">valid</compute>\n   <norm attr=\" '    &#xD;&#xA;&#x9;   ' \"></norm>\n</doc>"
        );
    }

    #[test]
    fn subtree_apex_renders_inherited_namespaces() {
        let xml = "<r xmlns=\"urn:d\" xmlns:p=\"urn:p\" xml:lang=\"kk\"><p:s><t>x</t></p:s></r>";
        let d = parse(xml.as_bytes(), &LIMITS).unwrap();
        let (s, _) = d.child_elements(d.root).next().unwrap();
        let mut inc = Vec::new();
        canonicalize(&d, Apex::Element(s), &[], &Method::default(), &mut inc);
        assert_eq!(
            String::from_utf8(inc).unwrap(),
            "<p:s xmlns=\"urn:d\" xmlns:p=\"urn:p\" xml:lang=\"kk\"><t>x</t></p:s>"
        );
        let mut exc = Vec::new();
        let m = Method::from_uri(uri::EXC_C14N).unwrap();
        canonicalize(&d, Apex::Element(s), &[], &m, &mut exc);
        assert_eq!(
            String::from_utf8(exc).unwrap(),
            "<p:s xmlns:p=\"urn:p\"><t xmlns=\"urn:d\">x</t></p:s>"
        );
    }
}
