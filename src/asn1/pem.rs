//! PEM (RFC 7468) and bare base64 decoding, bounded by the input it is given.

use base64::Engine;

/// True when `data` looks like PEM text (a `-----BEGIN ` line near the start).
pub fn is_pem(data: &[u8]) -> bool {
    let head = data.get(..1024).unwrap_or(data);
    head.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Every PEM block in `text` whose label is accepted by `want`, decoded. Blocks with bad base64
/// are returned as errors so a caller can say which one was broken.
pub fn decode_blocks(text: &[u8], want: impl Fn(&str) -> bool) -> Vec<Result<Vec<u8>, String>> {
    decode_blocks_at_most(text, want, usize::MAX).0
}

/// [`decode_blocks`] that stops after `max` accepted blocks, before decoding another; the flag
/// says whether one more accepted block followed (so a bundle over a count budget is refused
/// without decoding the rest).
pub fn decode_blocks_at_most(
    text: &[u8],
    want: impl Fn(&str) -> bool,
    max: usize,
) -> (Vec<Result<Vec<u8>, String>>, bool) {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after[..label_end].to_owned();
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_start.find(&end_marker) else {
            out.push(Err(format!("PEM block {label} has no END line")));
            break;
        };
        if want(&label) {
            if out.len() >= max {
                return (out, true);
            }
            out.push(
                decode_base64(&body_start[..body_end])
                    .map_err(|e| format!("PEM block {label}: {e}")),
            );
        }
        rest = &body_start[body_end + end_marker.len()..];
    }
    (out, false)
}

/// Decodes base64 ignoring whitespace (and PEM headers such as `Proc-Type:` are not supported).
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let clean: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean.as_bytes())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_blocks_by_label() {
        let pem = b"junk\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n-----BEGIN X-----\nBA==\n-----END X-----\n";
        assert!(is_pem(pem));
        let got = decode_blocks(pem, |l| l == "CERTIFICATE");
        assert_eq!(got, vec![Ok(vec![1, 2, 3])]);
        assert_eq!(decode_blocks(b"-----BEGIN A-----\nAQID", |_| true).len(), 1);
    }
}
