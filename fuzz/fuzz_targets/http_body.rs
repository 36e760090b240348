//! HTTP body decoding exactly as `/v1/verify` and `/v1/verify/batch` run it
//! (`tekser::http::decode`, apart from hyper). The first byte picks the form: a multipart form
//! (boundary `B42`), a JSON request, an NDJSON batch, or payload lines; the rest is the body.
//! Invariants: never panics; multipart parts are slices of the body with distinct names and
//! the form's job carries exactly the `signature` part; a JSON request decodes to the same job
//! as the same object as a batch line, and a batch line's id is read the same both ways;
//! payload lines are non-empty and hold no line end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tekser::http::decode::{batch_line_id, decode_batch_line, decode_job, BodyKind, Job};
use tekser::http::multipart;

fn within(body: &[u8], part: &[u8]) -> bool {
    let (b, p) = (body.as_ptr_range(), part.as_ptr_range());
    p.start >= b.start && p.end <= b.end
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    match sel % 4 {
        0 => {
            let job = decode_job(BodyKind::Multipart("B42".into()), body);
            let Ok(parts) = multipart::parse(body, "B42") else {
                assert!(job.is_err(), "a form that does not parse made a job");
                return;
            };
            for (i, p) in parts.iter().enumerate() {
                assert!(within(body, p.data), "part data outside the body");
                assert!(
                    parts.iter().take(i).all(|q| q.name != p.name),
                    "two parts named {:?} accepted",
                    p.name
                );
            }
            let sig = parts.iter().find(|p| p.name == "signature").map(|p| p.data);
            match (job, sig) {
                (Ok(Job::Cms { signature, .. }), Some(s)) => assert_eq!(signature, s),
                (Err(_), None) => {}
                // Refused with a signature part: a part under another name, a signature part
                // that is recognisably another format, or an empty body.
                (Err(p), Some(_))
                    if parts
                        .iter()
                        .any(|q| q.name != "signature" && q.name != "content")
                        || p.code == "format-mismatch"
                        || body.trim_ascii().is_empty() => {}
                (job, sig) => panic!("form {sig:?} decoded to {job:?}"),
            }
        }
        1 => {
            let job = decode_job(BodyKind::Json, body);
            if body.contains(&b'\n') {
                return;
            }
            let (id, line_job) = decode_batch_line(0, body);
            if let Ok(j) = &job {
                assert_eq!(Some(j), line_job.as_ref().ok(), "JSON and batch line disagree");
            }
            assert_eq!(id, batch_line_id(body), "batch line id read two ways");
        }
        2 => {
            for (n, line) in body.split(|b| *b == b'\n').enumerate() {
                let (id, _) = decode_batch_line(n, line);
                if !id.is_null() {
                    assert_eq!(id, batch_line_id(line));
                }
            }
        }
        _ => match decode_job(BodyKind::Text, body) {
            Ok(Job::Barcodes { payloads, content }) => {
                assert!(content.is_none());
                for p in payloads {
                    assert!(!p.trim_ascii().is_empty() && !p.contains(&b'\n'));
                }
            }
            // An empty body, or one recognisably another format (a PDF sent as text), is
            // refused with a problem; any other body becomes payload lines.
            Err(p) => assert!(
                p.code == "bad-request" && body.trim_ascii().is_empty()
                    || p.code == "format-mismatch",
                "payload lines refused with {p:?}"
            ),
            other => panic!("payload lines decoded to {other:?}"),
        },
    }
});
