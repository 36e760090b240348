//! BER → DER for the outer layers of CMS.
//!
//! Real signers (NCALayer, Java's BouncyCastle, OpenSSL with `-stream`) emit SignedData with
//! indefinite lengths and the eContent OCTET STRING split into constructed chunks. DER parsers
//! refuse that, so we rewrite only what BER allows and DER forbids:
//!
//! - indefinite lengths become definite ones;
//! - a constructed OCTET STRING becomes one primitive OCTET STRING holding its chunks;
//!
//! Any element whose subtree has neither is copied byte for byte. That keeps the original bytes of
//! certificates and signed attributes (which must be DER already, RFC 5652 §5.3), so signatures
//! over them still verify.

use super::{push_length, read_header, tag, Asn1Error};
use std::borrow::Cow;

/// Budget for one normalisation: nesting depth and element count.
struct Budget {
    max_depth: usize,
    elements_left: usize,
    max_elements: usize,
}

impl Budget {
    /// Charges one element at `depth`.
    fn enter(&mut self, depth: usize) -> Result<(), Asn1Error> {
        if depth > self.max_depth {
            return Err(Asn1Error::TooDeep(self.max_depth));
        }
        self.elements_left = self
            .elements_left
            .checked_sub(1)
            .ok_or(Asn1Error::TooManyElements(self.max_elements))?;
        Ok(())
    }
}

/// A parsed BER element: where its bytes are, and whether it must be rewritten.
struct Node {
    tag: u8,
    /// The whole element, header and end-of-contents octets included.
    raw_len: usize,
    /// Children when constructed and rewritten; empty otherwise.
    children: Vec<Node>,
    /// Contents (primitive) when copied verbatim.
    start: usize,
    header_len: usize,
    content_len: usize,
    rewrite: bool,
}

/// Returns `input` unchanged when it is one definite-length element without constructed OCTET
/// STRINGs; otherwise a DER-shaped copy. Fails on malformed input, nesting deeper than `max_depth`
/// or more than `max_elements` elements.
pub fn normalize_ber(
    input: &[u8],
    max_depth: usize,
    max_elements: usize,
) -> Result<Cow<'_, [u8]>, Asn1Error> {
    let mut budget = Budget {
        max_depth,
        elements_left: max_elements,
        max_elements,
    };
    // Most input is DER already: check that without allocating, and build the tree only when
    // something must be rewritten.
    if !needs_rewrite(input, 0, &mut budget)? {
        return Ok(Cow::Borrowed(input));
    }
    budget.elements_left = max_elements;
    let node = parse(input, 0, 0, &mut budget)?;
    if node.raw_len != input.len() {
        return Err(Asn1Error::TrailingData);
    }
    if !node.rewrite {
        return Ok(Cow::Borrowed(input));
    }
    let mut out = Vec::with_capacity(input.len());
    emit(input, &node, &mut out);
    Ok(Cow::Owned(out))
}

/// True when `input` (exactly one element, checked) has an indefinite length or a constructed
/// OCTET STRING anywhere. Same budget and errors as [`parse`], no allocation.
/// The length of the first complete BER element of `input` (definite or indefinite lengths),
/// within the same budgets as [`normalize_ber`]: a PDF's /Contents holds one such element and
/// then the zero padding its writer reserved.
pub fn ber_element_len(
    input: &[u8],
    max_depth: usize,
    max_elements: usize,
) -> Result<usize, Asn1Error> {
    let mut budget = Budget {
        max_depth,
        elements_left: max_elements,
        max_elements,
    };
    Ok(parse(input, 0, 0, &mut budget)?.raw_len)
}

fn needs_rewrite(input: &[u8], depth: usize, budget: &mut Budget) -> Result<bool, Asn1Error> {
    let mut pos = 0;
    let mut first = true;
    while pos < input.len() || first {
        budget.enter(depth)?;
        let here = input.get(pos..).ok_or(Asn1Error::Truncated)?;
        let (t, header_len, len) = read_header(here)?;
        let Some(len) = len else { return Ok(true) };
        if t == tag::OCTET_STRING | 0x20 {
            return Ok(true);
        }
        let end = header_len.checked_add(len).ok_or(Asn1Error::Truncated)?;
        let value = here.get(header_len..end).ok_or(Asn1Error::Truncated)?;
        if t & 0x20 != 0 && !value.is_empty() && needs_rewrite(value, depth + 1, budget)? {
            return Ok(true);
        }
        pos += end;
        if depth == 0 {
            // The top level is a single element; trailing bytes are an error.
            return if pos == input.len() {
                Ok(false)
            } else {
                Err(Asn1Error::TrailingData)
            };
        }
        first = false;
    }
    Ok(false)
}

fn parse(
    input: &[u8],
    offset: usize,
    depth: usize,
    budget: &mut Budget,
) -> Result<Node, Asn1Error> {
    budget.enter(depth)?;
    let here = input.get(offset..).ok_or(Asn1Error::Truncated)?;
    let (t, header_len, len) = read_header(here)?;
    let constructed = t & 0x20 != 0;
    let start = offset + header_len;
    match len {
        Some(len) => {
            let end = start.checked_add(len).ok_or(Asn1Error::Truncated)?;
            if end > input.len() {
                return Err(Asn1Error::Truncated);
            }
            let mut node = Node {
                tag: t,
                raw_len: header_len + len,
                children: Vec::new(),
                start,
                header_len,
                content_len: len,
                rewrite: t == tag::OCTET_STRING | 0x20,
            };
            if constructed {
                let mut pos = start;
                let mut children = Vec::new();
                while pos < end {
                    let bounded = input.get(..end).ok_or(Asn1Error::Truncated)?;
                    let child = parse(bounded, pos, depth + 1, budget)?;
                    pos += child.raw_len;
                    node.rewrite |= child.rewrite;
                    children.push(child);
                }
                if node.rewrite {
                    node.children = children;
                }
            }
            Ok(node)
        }
        None => {
            if !constructed {
                return Err(Asn1Error::Invalid(
                    "indefinite length on a primitive element",
                ));
            }
            let mut pos = start;
            let mut children = Vec::new();
            loop {
                match input.get(pos..pos + 2) {
                    Some([0, 0]) => {
                        pos += 2;
                        break;
                    }
                    Some(_) => {
                        let child = parse(input, pos, depth + 1, budget)?;
                        pos += child.raw_len;
                        children.push(child);
                    }
                    None => return Err(Asn1Error::Truncated),
                }
            }
            Ok(Node {
                tag: t,
                raw_len: pos - offset,
                children,
                start,
                header_len,
                content_len: 0,
                rewrite: true,
            })
        }
    }
}

fn emit(input: &[u8], node: &Node, out: &mut Vec<u8>) {
    // Every range below was bounds-checked by `parse`; `get` keeps that from being load-bearing.
    if !node.rewrite {
        let begin = node.start - node.header_len;
        out.extend_from_slice(
            input
                .get(begin..node.start + node.content_len)
                .unwrap_or_default(),
        );
        return;
    }
    if node.tag == tag::OCTET_STRING | 0x20 {
        // Flatten the chunks (themselves possibly constructed) into one primitive OCTET STRING.
        let mut content = Vec::new();
        collect_octets(input, node, &mut content);
        out.push(tag::OCTET_STRING);
        push_length(out, content.len());
        out.extend_from_slice(&content);
        return;
    }
    let mut content = Vec::new();
    for child in &node.children {
        emit(input, child, &mut content);
    }
    out.push(node.tag);
    push_length(out, content.len());
    out.extend_from_slice(&content);
}

fn collect_octets(input: &[u8], node: &Node, out: &mut Vec<u8>) {
    if node.tag & 0x20 == 0 {
        out.extend_from_slice(
            input
                .get(node.start..node.start + node.content_len)
                .unwrap_or_default(),
        );
    } else {
        for c in &node.children {
            collect_octets(input, c, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_input_is_borrowed() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        assert!(matches!(
            normalize_ber(&der, 8, 100).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn indefinite_and_chunked_octets_become_der() {
        // SEQUENCE (indef) { [0] (indef) { OCTET STRING constructed (indef) { 04 01 'a', 04 02 'bc' } } }
        let ber = [
            0x30, 0x80, 0xA0, 0x80, 0x24, 0x80, 0x04, 0x01, b'a', 0x04, 0x02, b'b', b'c', 0, 0, 0,
            0, 0, 0,
        ];
        let der = normalize_ber(&ber, 8, 100).unwrap();
        assert_eq!(
            der.as_ref(),
            &[0x30, 0x07, 0xA0, 0x05, 0x04, 0x03, b'a', b'b', b'c']
        );
    }

    #[test]
    fn depth_and_count_limits_hold() {
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(&[0x30, 0x80]);
        }
        deep.extend(std::iter::repeat_n(0, 200));
        assert_eq!(
            normalize_ber(&deep, 32, 10_000),
            Err(Asn1Error::TooDeep(32))
        );
        assert!(matches!(
            normalize_ber(&deep, 1000, 10),
            Err(Asn1Error::TooManyElements(10))
        ));
        assert_eq!(
            normalize_ber(&[0x30, 0x80, 0x05], 8, 10),
            Err(Asn1Error::Truncated)
        );
    }
}
