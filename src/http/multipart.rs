//! A minimal `multipart/form-data` reader (RFC 7578) for the detached-CMS form: parts named
//! `signature` and `content`. The body is already bounded in size when it arrives here.

/// One part: its `name` and its bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Part<'a> {
    /// `Content-Disposition: form-data; name="…"`
    pub name: String,
    /// The part body.
    pub data: &'a [u8],
}

/// Most parts read from one body (the form has two).
const MAX_PARTS: usize = 16;

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("boundary")).then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Splits `body` into parts. Errors say what is malformed.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, String> {
    if boundary.is_empty() || boundary.len() > 70 {
        return Err("multipart boundary missing or longer than 70 characters".into());
    }
    let delim = format!("--{boundary}");
    let mut pos =
        find(body, delim.as_bytes(), 0).ok_or("multipart body without its boundary")? + delim.len();
    let mut parts = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Ok(parts);
        }
        if parts.len() >= MAX_PARTS {
            return Err(format!("more than {MAX_PARTS} multipart parts"));
        }
        // CRLF after the delimiter, then headers up to an empty line.
        pos = find(body, b"\r\n", pos).ok_or("truncated multipart part")? + 2;
        let head_end = find(body, b"\r\n\r\n", pos).ok_or("multipart part without a header end")?;
        let head =
            String::from_utf8_lossy(body.get(pos..head_end).unwrap_or_default()).into_owned();
        let name = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .and_then(|l| {
                l.split(';').find_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    (k.trim() == "name").then(|| v.trim().trim_matches('"').to_owned())
                })
            })
            .ok_or("multipart part without Content-Disposition name")?;
        // Two parts of one name would let the form mean two things (which signature, which
        // content?): refused (a 400), not resolved by taking the first. At most MAX_PARTS
        // names are compared.
        if parts.iter().any(|p: &Part<'_>| p.name == name) {
            return Err(format!("duplicate multipart part {name:?}"));
        }
        let data_start = head_end + 4;
        let close = format!("\r\n{delim}");
        let data_end = find(body, close.as_bytes(), data_start)
            .ok_or("multipart part without a closing boundary")?;
        parts.push(Part {
            name,
            data: body.get(data_start..data_end).unwrap_or_default(),
        });
        pos = data_end + close.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_two_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"s.p7s\"\r\nContent-Type: application/pkcs7-signature\r\n\r\n\x30\x03\x02\x01\x05\r\n--XyZ\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nhello\r\n--XyZ--\r\n";
        let parts = parse(body, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "signature");
        assert_eq!(parts[0].data, b"\x30\x03\x02\x01\x05");
        assert_eq!(parts[1].data, b"hello");
        assert_eq!(
            boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(),
            Some("XyZ")
        );
        assert!(parse(b"--XyZ\r\nno end", "XyZ").is_err());
        let twice = b"--XyZ\r\nContent-Disposition: form-data; name=\"signature\"\r\n\r\nA\r\n--XyZ\r\nContent-Disposition: form-data; name=\"signature\"\r\n\r\nB\r\n--XyZ--\r\n";
        assert_eq!(
            parse(twice, "XyZ").unwrap_err(),
            "duplicate multipart part \"signature\""
        );
        assert!(parse(b"garbage", "XyZ").is_err());
    }
}
