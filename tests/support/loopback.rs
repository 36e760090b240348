//! Loopback plumbing for the tests that run real servers: reserved ports, child processes
//! killed on drop, a minimal HTTP/1.1 server, a connection-counting TCP proxy (upstream
//! requests are counted at the responder's door this way) (see also [`super::pki`]).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A port reserved by holding a listener on it until the real server is about to bind: Linux
/// hands a just-released port straight to the next `bind(0)`, so releasing early would let
/// another test listener take it.
pub fn reserve_port() -> (u16, TcpListener) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    (l.local_addr().expect("addr").port(), l)
}

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Accepts connections on a loopback port and hands each to `handle` on a thread; counts them.
pub fn serve_loopback(
    handle: impl Fn(TcpStream) + Send + Sync + 'static,
) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let count = Arc::new(AtomicUsize::new(0));
    let (c, h) = (Arc::clone(&count), Arc::new(handle));
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            c.fetch_add(1, Ordering::SeqCst);
            let h = Arc::clone(&h);
            std::thread::spawn(move || h(s));
        }
    });
    (port, count)
}

/// Reads one HTTP request (head and Content-Length body); returns the path.
pub fn read_request(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut b = [0u8; 4096];
    let head_end = loop {
        let n = s.read(&mut b).unwrap_or(0);
        if n == 0 {
            return String::new();
        }
        buf.extend_from_slice(&b[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = s.read(&mut b).unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&b[..n]);
    }
    head.split_whitespace().nth(1).unwrap_or("").to_owned()
}

pub fn respond(s: &mut TcpStream, status: &str, body: &[u8]) {
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(body);
}

/// A TCP proxy to `target` that counts connections (the coalescing test counts upstream
/// requests at the responder this way).
pub fn counting_proxy(target: u16) -> (u16, Arc<AtomicUsize>) {
    serve_loopback(move |mut client| {
        let Ok(mut up) = TcpStream::connect(("127.0.0.1", target)) else {
            return;
        };
        let (mut c2, mut u2) = (
            client.try_clone().expect("clone"),
            up.try_clone().expect("clone"),
        );
        let t = std::thread::spawn(move || {
            let _ = std::io::copy(&mut c2, &mut u2);
            let _ = u2.shutdown(std::net::Shutdown::Write);
        });
        let _ = std::io::copy(&mut up, &mut client);
        let _ = client.shutdown(std::net::Shutdown::Write);
        let _ = t.join();
    })
}

/// A tool the test needs: missing, the test fails naming the package (`.ci/run` installs it).
pub fn tool(name: &str, package: &str) -> std::path::PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let p = std::path::Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} not found: install Debian's {package} (.ci/run does)");
}

/// Waits for `line` on a child's stderr or stdout (read on a thread), at most 20 s.
pub fn wait_for_line(r: impl std::io::Read + Send + 'static, line: &'static str, what: &str) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufRead::lines(std::io::BufReader::new(r)).map_while(Result::ok) {
            if l.contains(line) {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(std::time::Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what} did not start"));
}

/// Debian's `redis-server` on 127.0.0.1:`port`, a cache only (nothing saved), its working
/// directory `dir`; returns once it accepts connections.
pub fn redis_server(dir: &std::path::Path, port: u16) -> Proc {
    let mut child = std::process::Command::new(tool("redis-server", "redis-server"))
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
        ])
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let out = child.stdout.take().expect("stdout");
    wait_for_line(out, "Ready to accept connections", "redis-server");
    Proc(child)
}
