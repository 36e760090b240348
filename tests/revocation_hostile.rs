//! The revocation fetcher against a hostile network (issue #13): small loopback servers, each a
//! `std::net::TcpListener` thread writing crafted bytes, played against the real fetcher.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tekser::revocation::fetch::{AllowRule, FetchPolicy, HttpFetcher};
use tekser::revocation::Fetch;

/// Accepts connections on a loopback port and hands each to `handle` on its own thread.
fn serve(handle: impl Fn(TcpStream, &str) + Send + Sync + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let h = Arc::new(handle);
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let h = Arc::clone(&h);
            std::thread::spawn(move || {
                let path = read_head(&mut s);
                h(s, &path)
            });
        }
    });
    port
}

/// Reads a request head; returns its path.
fn read_head(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut b = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&b[..n]),
        }
    }
    String::from_utf8_lossy(&buf)
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_owned()
}

fn fetcher(per_host: usize, total: Duration) -> HttpFetcher {
    HttpFetcher::new(FetchPolicy {
        allow: vec![AllowRule::Net("127.0.0.0".parse().expect("ip"), 8)],
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        total_timeout: total,
        per_host,
        max_total: 64,
    })
}

#[test]
fn wrapping_chunk_size_fails_cleanly_and_the_host_stays_usable() {
    // Issue #13 item 1: chunk size 1 then ffffffffffffffff made the size sum wrap; the fetcher
    // panicked and never returned its per-host slot.
    let port = serve(|mut s, path| {
        let reply: &[u8] = if path == "/evil" {
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\nffffffffffffffff\r\nbbbb"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ngood"
        };
        let _ = s.write_all(reply);
    });
    let f = fetcher(4, Duration::from_secs(3));
    for _ in 0..4 {
        // Caught so that the pre-fix panic is counted as a failure, not the end of the test.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            f.get(&format!("http://127.0.0.1:{port}/evil"), 1 << 20)
        }));
        assert!(matches!(r, Ok(Err(_))), "a clean error, not a panic: {r:?}");
    }
    // Five genuine fetches to the same host (per_host is 4): every slot came back.
    let t = Instant::now();
    for i in 0..5 {
        let r = f.get(&format!("http://127.0.0.1:{port}/good"), 1 << 20);
        assert_eq!(r.as_deref(), Ok(&b"good"[..]), "genuine fetch {i}");
    }
    eprintln!("five genuine fetches after the attack: {:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn announced_content_length_with_a_drip_ends_at_the_deadline() {
    // Issue #13 item 5: 64 MiB announced, one byte every 50 ms. The buffer grows with what
    // arrives (the parser's unit test asserts the capacity); here the fetch ends at its deadline.
    let port = serve(|mut s, _| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 67108864\r\n\r\n");
        for _ in 0..200 {
            if s.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let f = fetcher(4, Duration::from_millis(1000));
    let t = Instant::now();
    let r = f.get(&format!("http://127.0.0.1:{port}/big.crl"), 64 << 20);
    eprintln!(
        "dripping 64 MiB announcement ended after {:?}: {r:?}",
        t.elapsed()
    );
    assert!(r.is_err());
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[test]
fn per_host_slots_are_keyed_on_the_resolved_address() {
    // Issue #13 item 5: 127.1, 2130706433, 0x7f000001 and 0177.0.0.1 are all 127.0.0.1 and
    // share its slots. With per_host = 1 the server never sees two connections at once.
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (n2, p2) = (Arc::clone(&now), Arc::clone(&peak));
    let port = serve(move |mut s, _| {
        let n = n2.fetch_add(1, Ordering::SeqCst) + 1;
        p2.fetch_max(n, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(150));
        n2.fetch_sub(1, Ordering::SeqCst);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    let f = Arc::new(fetcher(1, Duration::from_secs(10)));
    let hosts = [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
    ];
    let threads: Vec<_> = hosts
        .iter()
        .map(|h| {
            let (f, url) = (Arc::clone(&f), format!("http://{h}:{port}/x"));
            std::thread::spawn(move || f.get(&url, 100))
        })
        .collect();
    for (t, h) in threads.into_iter().zip(hosts) {
        let r = t.join().expect("thread");
        assert_eq!(r.as_deref(), Ok(&b"ok"[..]), "{h}");
    }
    assert_eq!(
        peak.load(Ordering::SeqCst),
        1,
        "concurrent connections to 127.0.0.1"
    );
}

#[test]
fn interim_responses_and_obs_text_headers_are_accepted() {
    // Issue #13 item 10: a compliant responder may send 1xx first and non-UTF-8 header bytes.
    let port = serve(|mut s, _| {
        let _ = s.write_all(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nServer: \xe4\xf6\xfc\r\nContent-Length: 2\r\n\r\nok",
        );
    });
    let r = fetcher(4, Duration::from_secs(3)).get(&format!("http://127.0.0.1:{port}/"), 100);
    assert_eq!(r.as_deref(), Ok(&b"ok"[..]));
}

#[test]
fn global_fetch_cap_bounds_concurrency() {
    // Issue #13 item 4: beside the per-host limit, a cap on fetches in all. per_host is large
    // here, max_total 2: six concurrent fetches never hold more than two connections.
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (n2, p2) = (Arc::clone(&now), Arc::clone(&peak));
    let port = serve(move |mut s, _| {
        let n = n2.fetch_add(1, Ordering::SeqCst) + 1;
        p2.fetch_max(n, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(150));
        n2.fetch_sub(1, Ordering::SeqCst);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    let f = Arc::new(HttpFetcher::new(FetchPolicy {
        allow: vec![AllowRule::Net("127.0.0.0".parse().expect("ip"), 8)],
        per_host: 100,
        max_total: 2,
        ..FetchPolicy::default()
    }));
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (f, url) = (Arc::clone(&f), format!("http://127.0.0.1:{port}/x"));
            std::thread::spawn(move || f.get(&url, 100))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("thread").as_deref(), Ok(&b"ok"[..]));
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2, "concurrent connections");
}
