//! What a viewer would show if it did not read the cross-reference as given.
//!
//! poppler and MuPDF rebuild the cross-reference by scanning the file whenever they find it
//! damaged, and there the last `N G obj` they find wins (where they look differs); a linearized file whose
//! `/L` equals the file's length is read from its first-page table, ignoring later updates. An
//! attacker who can make a viewer do either shows objects the signed cross-reference never
//! named. So a signed document with later revisions must read the same both ways.

use super::{Document, Loc, Obj, Revision};
use std::collections::BTreeMap;

impl Document<'_> {
    /// Object number → byte of its last `N G obj` anywhere in the file (what a rebuilding
    /// reader may find), at most `max_objects` numbers.
    fn scanned_definitions(&self, rev: &Revision) -> BTreeMap<u32, usize> {
        let data = self.data;
        let mut out = BTreeMap::new();
        for at in memchr::memmem::find_iter(data, b"obj") {
            // "obj" as a whole keyword.
            let after = data.get(at + 3).copied();
            if after.is_some_and(|c| c.is_ascii_alphanumeric()) {
                continue;
            }
            let Some((num, start)) = definition_start(data, at) else {
                continue;
            };
            // Only numbers the revision uses matter (so the map is bounded by its object
            // table, and padding with other numbers cannot stop the scan).
            if rev.objects.contains_key(&num) {
                out.insert(num, start);
            }
        }
        out
    }

    /// Objects of the current revision whose definition named by the cross-reference is
    /// followed, later in the file, by another `N G obj` of the same number: a viewer
    /// rebuilding the cross-reference shows the later one.
    pub(super) fn shadowed_definitions(&self) -> &[String] {
        self.shadowed.get_or_init(|| match self.current() {
            Some(rev) => self.shadowed_in(rev),
            None => Vec::new(),
        })
    }

    fn shadowed_in(&self, rev: &Revision) -> Vec<String> {
        let scanned = self.scanned_definitions(rev);
        let mut out = Vec::new();
        for (n, loc) in &rev.objects {
            let Loc::Offset(off) = loc else { continue };
            let named = skip_ws(self.data, *off);
            if let Some(&last) = scanned.get(n) {
                if last > named {
                    out.push(format!(
                        "object {n} is defined again at byte {last}, after the definition its cross-reference names (byte {named}): a viewer that rebuilds the cross-reference shows that one"
                    ));
                }
            }
        }
        out
    }

    /// True when the file opens with a linearization dictionary whose `/L` is the whole file's
    /// length: linear readers then take the first-page cross-reference and its chain, not the
    /// updates appended after it.
    pub(super) fn linearized_as_is(&self) -> bool {
        let head = self
            .data
            .get(..1024.min(self.data.len()))
            .unwrap_or_default();
        let Some(at) = memchr::memmem::find(head, b"obj") else {
            return false;
        };
        let Some((_, start)) = definition_start(self.data, at) else {
            return false;
        };
        let Ok((_, _, first)) = self.indirect_at(start) else {
            return false;
        };
        first.get(b"Linearized").is_some()
            && first
                .get(b"L")
                .and_then(Obj::as_int)
                .and_then(|l| usize::try_from(l).ok())
                == Some(self.data.len())
    }
}

/// For an `obj` keyword at `at`: the object number and the byte where `N G obj` starts,
/// wherever it is. Readers that rebuild a cross-reference do not agree on where a definition may
/// start (poppler reads lines in 255-byte pieces and stops at NUL; MuPDF lexes on from the
/// first `endstream`), so any `N G obj` counts, inside strings and streams too.
fn definition_start(data: &[u8], at: usize) -> Option<(u32, usize)> {
    let mut i = at;
    let back_ws = |i: &mut usize| {
        while *i > 0
            && data
                .get(*i - 1)
                .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0 | 0x0c))
        {
            *i -= 1;
        }
    };
    let back_digits = |i: &mut usize| -> Option<usize> {
        let end = *i;
        while *i > 0 && data.get(*i - 1).is_some_and(u8::is_ascii_digit) {
            *i -= 1;
        }
        (*i < end && end - *i <= 10).then_some(end)
    };
    back_ws(&mut i);
    back_digits(&mut i)?; // generation
    let before_gen = i;
    back_ws(&mut i);
    if i == before_gen {
        return None; // "N Gobj" needs white space between the numbers
    }
    let num_end = back_digits(&mut i)?;
    let start = i;
    let num = std::str::from_utf8(data.get(start..num_end)?)
        .ok()?
        .parse()
        .ok()?;
    Some((num, start))
}

fn skip_ws(data: &[u8], mut i: usize) -> usize {
    while data
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0 | 0x0c))
    {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_start_lines() {
        let d = b"%PDF-1.7\n4 0 obj\n<<>>\nendobj\n  12 3 obj<<>>endobj (x) 5 0 obj";
        let at = memchr::memmem::find(d, b"obj").unwrap();
        assert_eq!(definition_start(d, at), Some((4, 9)));
        let at2 = memchr::memmem::find_iter(d, b"obj").nth(2).unwrap();
        assert_eq!(definition_start(d, at2).map(|x| x.0), Some(12));
        let last = memchr::memmem::rfind(d, b"obj").unwrap();
        assert_eq!(
            definition_start(d, last),
            Some((5, 54)),
            "inside a line too"
        );
        let hidden = b"(xxxx4 0 obj) 3\x001\x00obj";
        let at = memchr::memmem::find(hidden, b"obj").unwrap();
        assert_eq!(definition_start(hidden, at), Some((4, 5)));
        let at = memchr::memmem::rfind(hidden, b"obj").unwrap();
        assert_eq!(definition_start(hidden, at), Some((3, 14)));
    }
}

impl Document<'_> {
    /// True when anything in the current revision (its trailer or any object) refers to `n`,
    /// or when an object of it cannot be read (it might refer to anything).
    pub(super) fn referenced(&self, n: u32) -> bool {
        let used = self.used.get_or_init(|| {
            let rev = self.current()?;
            let mut used: std::collections::BTreeSet<u32> =
                super::changes::refs_of(&rev.trailer).into_iter().collect();
            for (&m, &loc) in rev.objects.iter().take(self.limits.max_objects) {
                if loc == Loc::Free {
                    continue;
                }
                let v = self.load_in(rev, loc).ok()?;
                used.extend(super::changes::refs_of(&v).into_iter().filter(|r| *r != m));
            }
            Some(used)
        });
        used.as_ref().is_none_or(|u| u.contains(&n))
    }
}
