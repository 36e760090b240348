//! Every byte after a signed revision accounted for.
//!
//! A signature covers its revision; what a viewer shows is decided by the bytes after it. Those
//! bytes are read here as a strict viewer reads an incremental update (ISO 32000-1 §7.5.6):
//! objects (`N G obj … endobj`), cross-reference sections, trailers, `startxref`, comments and
//! whitespace, each update closed by `%%EOF`. Anything else — bytes no structure explains, an
//! update without its `%%EOF`, an object its revision's cross-reference does not list (a viewer
//! that rebuilds the cross-reference would use it), an entry that points where no such object
//! starts, a `startxref` too far from its `%%EOF` for viewers to find — is reported, so the
//! signature cannot pass on bytes nobody judged.

use super::{Document, Lexer, Loc, Obj};
use std::collections::{BTreeMap, BTreeSet};

/// How far before `%%EOF` viewers look for `startxref` (poppler and pdf.js read the last 1024
/// bytes); an update whose `startxref` is further away is read differently by different readers.
const STARTXREF_WINDOW: usize = 1024;

/// Bytes after a signed revision that no revision explains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unaccounted {
    /// Where the problem starts (the start of the update it is in).
    pub at: usize,
    /// What is wrong, for the verdict.
    pub what: String,
}

/// What one update (the bytes between two `%%EOF`s) was seen to contain.
#[derive(Default)]
struct Update {
    start: usize,
    /// (number, byte offset) of each object defined.
    objects: Vec<(u32, usize)>,
    /// Offsets of object streams defined.
    objstms: Vec<usize>,
    /// (position of the keyword, value) of `startxref`.
    startxref: Option<(usize, usize)>,
    /// Anything read at all (an empty tail of whitespace and comments is fine).
    any: bool,
}

impl Document<'_> {
    /// Problems with the bytes after each of `signed_ends` (ends of signed revisions), in file
    /// order; a signature ending at `e` is concerned by the problems at or after `e`.
    pub fn unaccounted(&self, signed_ends: &[usize]) -> Vec<Unaccounted> {
        let ends: BTreeSet<usize> = signed_ends.iter().copied().collect();
        let mut out = Vec::new();
        let mut next = ends.first().copied();
        while let Some(from) = next {
            let stopped = self.walk(from, &mut out);
            // A walk that could not go on resumes at the next signed end beyond the trouble,
            // so a later signature is still judged on its own tail.
            next = stopped.and_then(|x| ends.range(x + 1..).next().copied());
        }
        out
    }

    /// Walks from `from` to the end of the file; returns where it had to stop, if it did.
    fn walk(&self, from: usize, out: &mut Vec<Unaccounted>) -> Option<usize> {
        let data = self.data;
        let mut up = Update {
            start: from,
            ..Update::default()
        };
        let mut pos = from;
        loop {
            while data.get(pos).is_some_and(|&c| is_ws(c)) {
                pos += 1;
            }
            let Some(&c) = data.get(pos) else { break };
            let mut lx = Lexer::new(data, pos, self.limits.max_depth);
            if c == b'%' {
                if data.get(pos..pos + 5) == Some(b"%%EOF") {
                    let mut end = pos + 5;
                    if data.get(end) == Some(&b'\r') {
                        end += 1;
                    }
                    if data.get(end) == Some(&b'\n') {
                        end += 1;
                    }
                    self.close(&up, pos, end, out);
                    up = Update {
                        start: end,
                        ..Update::default()
                    };
                    pos = end;
                } else {
                    while data.get(pos).is_some_and(|&c| c != b'\n' && c != b'\r') {
                        pos += 1;
                    }
                }
                continue;
            }
            up.any = true;
            if lx.keyword(b"xref") {
                match self.xref_section(pos) {
                    Ok((_, after)) => pos = after,
                    Err(e) => {
                        return self.stop(pos, format!("unreadable cross-reference: {e}"), out)
                    }
                }
                continue;
            }
            if lx.keyword(b"startxref") {
                // Only white space between the keyword and its offset: poppler and MuPDF read
                // the line after `startxref`, and a comment there makes them rebuild the
                // cross-reference by scanning the file instead of reading this one.
                let gap = data.get(lx.pos..).unwrap_or_default();
                let digits = gap.iter().position(|c| !is_ws(*c)).unwrap_or(gap.len());
                if !gap.get(digits).is_some_and(u8::is_ascii_digit) {
                    return self.stop(
                        pos,
                        "startxref not followed by its offset on the next line".into(),
                        out,
                    );
                }
                match lx.unsigned().and_then(|v| usize::try_from(v).ok()) {
                    Some(v) => up.startxref = Some((pos, v)),
                    None => return self.stop(pos, "startxref without an offset".into(), out),
                }
                pos = lx.pos;
                continue;
            }
            if c.is_ascii_digit() {
                match self.indirect_span(pos) {
                    Ok((num, _, obj, after)) => {
                        let mut end = Lexer::new(data, after, 1);
                        if !end.keyword(b"endobj") {
                            return self.stop(pos, format!("object {num} without endobj"), out);
                        }
                        if obj.get(b"Type").and_then(Obj::as_name) == Some(b"ObjStm".as_slice()) {
                            up.objstms.push(pos);
                        }
                        up.objects.push((num, pos));
                        pos = end.pos;
                    }
                    Err(e) => return self.stop(pos, format!("unreadable object: {e}"), out),
                }
                continue;
            }
            return self.stop(
                pos,
                "bytes that are no object, cross-reference, trailer or comment".into(),
                out,
            );
        }
        if up.any {
            out.push(Unaccounted {
                at: up.start,
                what: format!(
                    "an update at byte {} has no %%EOF: a viewer may apply it, this reader did not",
                    up.start
                ),
            });
        }
        None
    }

    fn stop(&self, at: usize, why: String, out: &mut Vec<Unaccounted>) -> Option<usize> {
        out.push(Unaccounted {
            at,
            what: format!("bytes from {at} on could not be read ({why})"),
        });
        Some(at)
    }

    /// Checks one update that ends with the `%%EOF` at `eof` (its end of line at `end`).
    fn close(&self, up: &Update, eof: usize, end: usize, out: &mut Vec<Unaccounted>) {
        let mut problem = |what: String| out.push(Unaccounted { at: up.start, what });
        let Some((sx_at, sx)) = up.startxref else {
            problem(format!("the update ending at byte {end} has no startxref"));
            return;
        };
        if eof.saturating_sub(sx_at) > STARTXREF_WINDOW {
            problem(format!(
                "the update ending at byte {end} has its startxref {} bytes before %%EOF, where viewers do not look for it",
                eof - sx_at
            ));
        }
        let Some(rev) = self
            .revision_ending_at(end)
            .and_then(|k| self.revisions.get(k))
        else {
            problem(format!(
                "the update ending at byte {end} has no readable cross-reference"
            ));
            return;
        };
        if sx < up.start {
            problem(format!(
                "the update ending at byte {end} points its startxref back into an earlier revision (byte {sx})"
            ));
        }
        // Entries of this update's own sections (those within its bytes).
        let mut at_offset: BTreeMap<usize, u32> = BTreeMap::new();
        let mut in_stream: BTreeSet<(u32, u32)> = BTreeSet::new();
        let own: Vec<usize> = rev
            .sections
            .iter()
            .copied()
            .filter(|&s| s >= up.start && s < end)
            .collect();
        for &s in &own {
            let Ok((_, entries)) = self.cached_section(s) else {
                continue;
            };
            for (num, loc, _) in entries {
                match loc {
                    Loc::Offset(o) if o >= up.start => {
                        if let Some(prev) = at_offset.insert(o, num) {
                            if prev != num {
                                problem(format!(
                                    "objects {prev} and {num} share the offset {o} in one cross-reference"
                                ));
                            }
                        }
                    }
                    Loc::InStream(stm, i) => {
                        in_stream.insert((stm, i));
                    }
                    _ => {}
                }
            }
        }
        let defined: BTreeMap<usize, u32> = up.objects.iter().map(|&(n, o)| (o, n)).collect();
        for &(num, off) in &up.objects {
            if own.contains(&off) {
                continue; // a cross-reference stream
            }
            if at_offset.get(&off) != Some(&num) {
                problem(format!(
                    "object {num} at byte {off} is not in its update's cross-reference (a viewer that rebuilds the cross-reference would use it)"
                ));
            }
        }
        for (&off, &num) in &at_offset {
            if off < end && defined.get(&off) != Some(&num) {
                problem(format!(
                    "the cross-reference entry of object {num} points at byte {off}, where no object {num} starts"
                ));
            }
        }
        // Objects inside a new object stream are objects of this update too.
        for &off in &up.objstms {
            let Some(&stm_num) = defined.get(&off) else {
                continue;
            };
            if let Ok(stm) = self.object_stream(off) {
                for (i, num) in stm.numbers.iter().enumerate() {
                    let i = u32::try_from(i).unwrap_or(u32::MAX);
                    let listed = in_stream.contains(&(stm_num, i))
                        && rev.objects.get(num) == Some(&Loc::InStream(stm_num, i));
                    if !listed {
                        problem(format!(
                            "object {num} in object stream {stm_num} is not in the cross-reference"
                        ));
                    }
                }
            }
        }
    }
}

/// PDF white-space characters (ISO 32000-1 Table 1).
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}
