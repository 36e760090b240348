//! The revocation fetcher's HTTP/1.1 response parser, apart from the socket (issue #12).
//! Invariants: never panics; an accepted body is at most `max` bytes; the buffer never grows far
//! past the bytes the input held (a peer's Content-Length or chunk size is not an allocation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tekser::revocation::fetch::read_response;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the limit, so small limits are exercised too.
    let (max, input) = match data.split_first() {
        Some((m, rest)) => (usize::from(*m) * 64, rest),
        None => (0, data),
    };
    let mut out = Vec::new();
    let r = read_response(input, max, &mut out);
    if r.is_ok() {
        assert!(
            out.len() <= max,
            "accepted {} bytes over a limit of {max}",
            out.len()
        );
    }
    assert!(out.len() <= input.len(), "body longer than the input");
    assert!(
        out.capacity() <= 2 * input.len() + 64 * 1024,
        "buffer of {} for {} input bytes",
        out.capacity(),
        input.len()
    );
});
