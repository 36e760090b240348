//! Open-loop HTTP/1.1 load generator for scripts/load.sh: sends POST requests at a fixed total
//! rate over keep-alive connections and reports latency percentiles measured from each request's
//! *scheduled* time (so a stalled server cannot hide its queueing: no coordinated omission).
//!
//! `loadgen HOST:PORT PATH CONTENT_TYPE BODY_FILE RATE_PER_SEC SECONDS CONNECTIONS`
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One request and its response; false on any error or a non-200 status.
fn exchange(w: &mut TcpStream, r: &mut BufReader<TcpStream>, req: &[u8]) -> bool {
    if w.write_all(req).is_err() {
        return false;
    }
    let mut status = String::new();
    let ok = r.read_line(&mut status).is_ok() && status.starts_with("HTTP/1.1 200");
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut b = vec![0u8; len];
    ok && r.read_exact(&mut b).is_ok()
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 8 {
        eprintln!("usage: loadgen HOST:PORT PATH CONTENT_TYPE BODY_FILE RATE SECONDS CONNECTIONS");
        std::process::exit(64);
    }
    let (addr, path, ct) = (a[1].clone(), a[2].clone(), a[3].clone());
    let body = std::fs::read(&a[4]).expect("body file");
    let rate: f64 = a[5].parse().expect("rate");
    let secs: f64 = a[6].parse().expect("seconds");
    let conns: usize = a[7].parse().expect("connections");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut req = head.into_bytes();
    req.extend_from_slice(&body);
    let per_conn = rate / conns as f64;
    // Every connection is opened and warmed up (a few unscheduled requests) before the common
    // start, so connection setup never shows up as latency.
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(conns + 1));
    let start_at = std::sync::Arc::new(std::sync::OnceLock::<Instant>::new());
    let handles: Vec<_> = (0..conns)
        .map(|c| {
            let (addr, req) = (addr.clone(), req.clone());
            let (barrier, start_at) = (barrier.clone(), start_at.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let s = TcpStream::connect(&addr).expect("connect");
                s.set_nodelay(true).ok();
                let mut w = s.try_clone().expect("clone");
                let mut r = BufReader::new(s);
                for _ in 0..5 {
                    if !exchange(&mut w, &mut r, &req) {
                        errors += 1;
                    }
                }
                barrier.wait();
                let start = *start_at.get().expect("start set before the barrier opens");
                let n = (per_conn * secs) as u64;
                // Stagger connections so their schedules interleave.
                let offset = Duration::from_secs_f64(c as f64 / rate);
                for i in 0..n {
                    let due = start + offset + Duration::from_secs_f64(i as f64 / per_conn);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    if !exchange(&mut w, &mut r, &req) {
                        errors += 1;
                    }
                    lat.push(due.elapsed().as_secs_f64());
                }
                (lat, errors)
            })
        })
        .collect();
    let _ = start_at.set(Instant::now() + Duration::from_millis(20));
    barrier.wait();
    let mut all = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h.join().expect("thread");
        all.extend(l);
        errors += e;
    }
    all.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
            * 1e3
    };
    println!(
        "requests={} errors={errors} achieved_rps={:.0} p50_ms={:.3} p90_ms={:.3} p99_ms={:.3} max_ms={:.3}",
        all.len(),
        all.len() as f64 / secs,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        all.last().copied().unwrap_or(0.0) * 1e3
    );
}
