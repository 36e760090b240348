//! PDF object syntax (ISO 32000-1 §7.2–7.3): a cursor over the file that reads one object at a
//! time, with a depth budget for arrays and dictionaries.

use super::PdfError;
use std::ops::Range;

/// A PDF object. Streams keep the byte range of their raw data in the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Obj {
    /// null
    Null,
    /// true / false
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A real number.
    Real(f64),
    /// /Name (escapes resolved).
    Name(Vec<u8>),
    /// (literal) or <hex> string, decoded.
    Str(Vec<u8>),
    /// [ … ]
    Array(Vec<Obj>),
    /// << … >> in file order.
    Dict(Vec<(Vec<u8>, Obj)>),
    /// N G R
    Ref(u32, u16),
    /// A stream: its dictionary and the raw data's range in the file.
    Stream(Vec<(Vec<u8>, Obj)>, Range<usize>),
}

impl Obj {
    /// A dictionary entry (also of a stream's dictionary). A key written twice has its last
    /// value, as poppler and MuPDF read it; [`Obj::duplicate_key`] finds such dictionaries,
    /// which an update may not bring in.
    pub fn get(&self, key: &[u8]) -> Option<&Obj> {
        match self {
            Obj::Dict(d) | Obj::Stream(d, _) => {
                d.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// A key that one of the dictionaries in this object (itself, nested or a stream's) has
    /// twice: readers disagree on which value counts (the first, the last), so the object has
    /// no single meaning.
    pub fn duplicate_key(&self) -> Option<Vec<u8>> {
        let mut stack = vec![self];
        while let Some(o) = stack.pop() {
            match o {
                Obj::Array(a) => stack.extend(a.iter()),
                Obj::Dict(d) | Obj::Stream(d, _) => {
                    // Dictionaries are small; a sorted copy of the keys keeps this linear-log.
                    let mut keys: Vec<&[u8]> = d.iter().map(|(k, _)| k.as_slice()).collect();
                    keys.sort_unstable();
                    if let Some(w) = keys.windows(2).find(|w| w.first() == w.get(1)) {
                        return w.first().map(|k| k.to_vec());
                    }
                    stack.extend(d.iter().map(|(_, v)| v));
                }
                _ => {}
            }
        }
        None
    }

    /// The integer value.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Obj::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The name's bytes.
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Obj::Name(n) => Some(n),
            _ => None,
        }
    }

    /// The string's bytes.
    pub fn as_str(&self) -> Option<&[u8]> {
        match self {
            Obj::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The array's items.
    pub fn as_array(&self) -> Option<&[Obj]> {
        match self {
            Obj::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The dictionary's entries (also of a stream).
    pub fn as_dict(&self) -> Option<&[(Vec<u8>, Obj)]> {
        match self {
            Obj::Dict(d) | Obj::Stream(d, _) => Some(d),
            _ => None,
        }
    }

    /// The reference's object number.
    pub fn as_ref_num(&self) -> Option<u32> {
        match self {
            Obj::Ref(n, _) => Some(*n),
            _ => None,
        }
    }
}

/// A cursor.
pub struct Lexer<'a> {
    data: &'a [u8],
    /// Current byte offset.
    pub pos: usize,
    max_depth: usize,
}

fn is_ws(c: u8) -> bool {
    matches!(c, 0 | b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

fn is_delim(c: u8) -> bool {
    matches!(
        c,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn syntax(what: &str, at: usize) -> PdfError {
    PdfError::Structure(format!("{what} at byte {at}"))
}

impl<'a> Lexer<'a> {
    /// A cursor at `pos`.
    pub fn new(data: &'a [u8], pos: usize, max_depth: usize) -> Self {
        Self {
            data,
            pos,
            max_depth,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Skips whitespace and comments.
    pub fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if is_ws(c) {
                self.pos += 1;
            } else if c == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Consumes `kw` (after whitespace) when it is there as a whole token.
    pub fn keyword(&mut self, kw: &[u8]) -> bool {
        let save = self.pos;
        self.skip_ws();
        let end = self.pos + kw.len();
        if self.data.get(self.pos..end) == Some(kw)
            && self.data.get(end).is_none_or(|&c| is_ws(c) || is_delim(c))
        {
            self.pos = end;
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// An unsigned decimal integer token (after whitespace), without sign or fraction.
    pub fn unsigned(&mut self) -> Option<u64> {
        self.skip_ws();
        let start = self.pos;
        let mut v: u64 = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.pos += 1;
        }
        let ends = self.peek().is_none_or(|c| is_ws(c) || is_delim(c));
        (self.pos > start && ends).then_some(v)
    }

    /// The next `n` raw bytes.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }

    /// Reads one object (an `N G R` reference is recognised after an integer).
    pub fn object(&mut self) -> Result<Obj, PdfError> {
        self.object_at_depth(0)
    }

    fn object_at_depth(&mut self, depth: usize) -> Result<Obj, PdfError> {
        if depth > self.max_depth {
            return Err(PdfError::Budget(format!(
                "objects nested deeper than {}",
                self.max_depth
            )));
        }
        self.skip_ws();
        let at = self.pos;
        let c = self
            .peek()
            .ok_or_else(|| syntax("unexpected end of file", at))?;
        match c {
            b'/' => {
                self.pos += 1;
                Ok(Obj::Name(self.name_body()))
            }
            b'(' => self.literal_string(),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                let mut d = Vec::new();
                loop {
                    self.skip_ws();
                    if self.data.get(self.pos..self.pos + 2) == Some(b">>") {
                        self.pos += 2;
                        return Ok(Obj::Dict(d));
                    }
                    if self.peek() != Some(b'/') {
                        return Err(syntax("dictionary key is not a name", self.pos));
                    }
                    self.pos += 1;
                    let k = self.name_body();
                    let v = self.object_at_depth(depth + 1)?;
                    d.push((k, v));
                }
            }
            b'<' => self.hex_string(),
            b'[' => {
                self.pos += 1;
                let mut a = Vec::new();
                loop {
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        return Ok(Obj::Array(a));
                    }
                    a.push(self.object_at_depth(depth + 1)?);
                }
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => {
                let n = self.number()?;
                // "N G R": a reference.
                if let Obj::Int(num) = n {
                    let save = self.pos;
                    self.skip_ws();
                    if let Some(b'0'..=b'9') = self.peek() {
                        if let Ok(Obj::Int(gen)) = self.number() {
                            if self.keyword(b"R") {
                                if let (Ok(num), Ok(gen)) = (u32::try_from(num), u16::try_from(gen))
                                {
                                    return Ok(Obj::Ref(num, gen));
                                }
                            }
                        }
                    }
                    self.pos = save;
                }
                Ok(n)
            }
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(|c| !is_ws(c) && !is_delim(c)) {
                    self.pos += 1;
                }
                match self.data.get(start..self.pos).unwrap_or_default() {
                    b"true" => Ok(Obj::Bool(true)),
                    b"false" => Ok(Obj::Bool(false)),
                    b"null" => Ok(Obj::Null),
                    _ => Err(syntax("unexpected token", start)),
                }
            }
        }
    }

    fn name_body(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            if is_ws(c) || is_delim(c) {
                break;
            }
            self.pos += 1;
            if c == b'#' {
                let hex = self
                    .data
                    .get(self.pos..self.pos + 2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    self.pos += 2;
                    continue;
                }
            }
            out.push(c);
        }
        out
    }

    fn number(&mut self) -> Result<Obj, PdfError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| matches!(c, b'+' | b'-' | b'.' | b'0'..=b'9'))
        {
            self.pos += 1;
        }
        let s = std::str::from_utf8(self.data.get(start..self.pos).unwrap_or_default())
            .map_err(|_| syntax("number", start))?;
        if let Ok(i) = s.parse::<i64>() {
            return Ok(Obj::Int(i));
        }
        s.parse::<f64>()
            .map(Obj::Real)
            .map_err(|_| syntax("number", start))
    }

    fn literal_string(&mut self) -> Result<Obj, PdfError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut depth = 1usize;
        loop {
            let c = self
                .peek()
                .ok_or_else(|| syntax("unterminated string", start))?;
            self.pos += 1;
            match c {
                b'(' => {
                    depth += 1;
                    out.push(c);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(Obj::Str(out));
                    }
                    out.push(c);
                }
                b'\\' => {
                    let e = self
                        .peek()
                        .ok_or_else(|| syntax("unterminated string", start))?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xFF) as u8);
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(c),
            }
        }
    }

    fn hex_string(&mut self) -> Result<Obj, PdfError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let c = self
                .peek()
                .ok_or_else(|| syntax("unterminated hex string", start))?;
            self.pos += 1;
            let v = match c {
                b'>' => {
                    if let Some(h) = high {
                        out.push(h << 4);
                    }
                    return Ok(Obj::Str(out));
                }
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                c if is_ws(c) => continue,
                _ => return Err(syntax("bad hex string", start)),
            };
            match high.take() {
                Some(h) => out.push((h << 4) | v),
                None => high = Some(v),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Obj, PdfError> {
        Lexer::new(s.as_bytes(), 0, 16).object()
    }

    #[test]
    fn reads_the_object_syntax() {
        let o =
            parse("<< /A 1 /B [2 0 R (x\\(y\\)\\101) <41 4> /N#41me] /C 3.5 /D true /E null >>")
                .unwrap();
        assert_eq!(o.get(b"A"), Some(&Obj::Int(1)));
        let b = o.get(b"B").and_then(Obj::as_array).unwrap();
        assert_eq!(b[0], Obj::Ref(2, 0));
        assert_eq!(b[1], Obj::Str(b"x(y)A".to_vec()));
        assert_eq!(b[2], Obj::Str(vec![0x41, 0x40]));
        assert_eq!(b[3], Obj::Name(b"NAme".to_vec()));
        assert_eq!(o.get(b"C"), Some(&Obj::Real(3.5)));
        assert_eq!(o.get(b"D"), Some(&Obj::Bool(true)));
        // Deep nesting is a budget error, not a stack overflow.
        let deep = "[".repeat(100_000);
        assert!(matches!(parse(&deep), Err(PdfError::Budget(_))));
        assert!(parse("(unterminated").is_err());
        assert!(parse("<< /A >>").is_err());
    }
}
