//! A small blocking HTTP/1.1 client for OCSP and CRL fetches, with the SSRF rules of issue #3:
//! only `http:` URLs from certificates that already chained to a trust anchor reach it (the
//! caller's rule); here, destinations in loopback, private, link-local and other special ranges
//! are refused unless allowed, redirects are not followed, connect/read/total time and response
//! size are capped, and each host has a concurrency limit.
//!
//! It resolves the host once and connects to the address it checked, so a DNS answer that
//! changes between check and connect (rebinding) cannot slip through.

use super::Fetch;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Network rules for fetching.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Hosts or CIDRs that may be reached even though special (`--fetch-allow`).
    pub allow: Vec<AllowRule>,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Timeout for each read.
    pub read_timeout: Duration,
    /// Whole-request deadline.
    pub total_timeout: Duration,
    /// Concurrent requests to one destination address.
    pub per_host: usize,
    /// Concurrent requests in all (issue #13 item 4: a dripping responder must not take every
    /// blocking thread of the server).
    pub max_total: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            connect_timeout: Duration::from_secs(3),
            read_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(15),
            per_host: 4,
            max_total: 64,
        }
    }
}

/// One `--fetch-allow` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowRule {
    /// An address range.
    Net(IpAddr, u8),
    /// A host name, exactly as in the URL.
    Host(String),
}

impl std::str::FromStr for AllowRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        match addr.parse::<IpAddr>() {
            Ok(ip) => {
                let max = if ip.is_ipv4() { 32 } else { 128 };
                let bits = match bits {
                    Some(b) => b
                        .parse::<u8>()
                        .ok()
                        .filter(|b| *b <= max)
                        .ok_or_else(|| format!("bad prefix length in {s:?}"))?,
                    None => max,
                };
                Ok(Self::Net(ip, bits))
            }
            Err(_) if bits.is_none() && !s.is_empty() && !s.contains(['/', ' ', ':']) => {
                Ok(Self::Host(s.to_ascii_lowercase()))
            }
            Err(_) => Err(format!(
                "{s:?} is neither a host name, an address nor a CIDR"
            )),
        }
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (a, b): (u128, u128) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a).into(), u32::from(b).into()),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.into(), b.into()),
        _ => return false,
    };
    let width = if ip.is_ipv4() { 32 } else { 128 };
    let shift = width - u32::from(bits);
    shift >= width || (a >> shift) == (b >> shift)
}

/// Loopback, private, link-local, CGNAT, documentation, multicast, unspecified and the like
/// (RFC 6890 special-purpose ranges a revocation URL has no business pointing at).
pub fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_special(IpAddr::V4(v4));
            }
            // 6to4 (2002::/16, RFC 3056) carries an IPv4 address in bits 16..48: special when
            // that address is (2002:7f00:1:: reaches 127.0.0.1 through a relay).
            if seg[0] == 0x2002 {
                let [a, b] = seg[1].to_be_bytes();
                let [c, d] = seg[2].to_be_bytes();
                return is_special(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)));
            }
            // ::/96 (IPv4-compatible, deprecated by RFC 4291 §2.5.5.1, `::127.0.0.1`) and
            // ::ffff:0:0/96 (IPv4-translated, RFC 2765 §2.1, `::ffff:0:7f00:1`): never a
            // public responder's address.
            if seg[..6] == [0; 6] || seg[..6] == [0, 0, 0, 0, 0xffff, 0] {
                return true;
            }
            // NAT64 (64:ff9b::/96 RFC 6052, 64:ff9b:1::/48 RFC 8215) and Teredo (2001::/32,
            // RFC 4380) reach IPv4 hosts through a gateway: refused whole, as a revocation
            // responder is not published at such an address.
            if (seg[0] == 0x64 && seg[1] == 0xff9b) || (seg[0] == 0x2001 && seg[1] == 0) {
                return true;
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || seg[0] == 0x2001 && seg[1] == 0x0db8
                || seg[0] == 0x64 && seg[1] == 0xff9b
        }
    }
}

/// The blocking fetcher.
pub struct HttpFetcher {
    policy: FetchPolicy,
    /// Fetches in flight per destination address, and in all.
    busy: Mutex<Busy>,
    freed: Condvar,
}

#[derive(Default)]
struct Busy {
    per: HashMap<IpAddr, usize>,
    total: usize,
}

impl std::fmt::Debug for HttpFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HttpFetcher({:?})", self.policy)
    }
}

struct Url<'a> {
    host: &'a str,
    port: u16,
    path: &'a str,
}

/// The destination a fetch of `url` goes to, as `host:port` with the host lower-cased and the
/// port explicit (`http://A/`, `http://a:80/x` are one destination); `None` for a URL the
/// fetcher refuses anyway.
pub fn destination(url: &str) -> Option<String> {
    let u = parse_url(url).ok()?;
    Some(format!("{}:{}", u.host.to_ascii_lowercase(), u.port))
}

fn parse_url(url: &str) -> Result<Url<'_>, String> {
    let rest = match url.get(..7) {
        Some(s) if s.eq_ignore_ascii_case("http://") => &url[7..],
        _ => {
            return Err(if url.to_ascii_lowercase().starts_with("https://") {
                format!("{url}: https fetching is not supported (revocation data is signed; use the http URL)")
            } else {
                format!("{url}: only http URLs are fetched")
            })
        }
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.contains('@') || path.contains([' ', '\r', '\n']) {
        return Err(format!("{url}: unsupported URL form"));
    }
    let (host, port) = if let Some(h) = authority.strip_prefix('[') {
        let (h, p) = h
            .split_once(']')
            .ok_or_else(|| format!("{url}: bad host"))?;
        (h, p.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().map_err(|_| format!("{url}: bad port"))?,
        None => 80,
    };
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok(Url { host, port, path })
}

impl HttpFetcher {
    /// A fetcher under `policy`.
    pub fn new(policy: FetchPolicy) -> Self {
        Self {
            policy,
            busy: Mutex::new(Busy::default()),
            freed: Condvar::new(),
        }
    }

    /// The rules this fetcher runs under (the server sizes its admission gate by them).
    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// The address to connect to, after the SSRF rules.
    fn destination(&self, u: &Url<'_>, deadline: Instant) -> Result<SocketAddr, String> {
        let host_allowed = self
            .policy
            .allow
            .iter()
            .any(|r| matches!(r, AllowRule::Host(h) if h.eq_ignore_ascii_case(u.host)));
        let addrs = resolve(u.host, u.port, deadline)?;
        let mut refused = None;
        for a in addrs {
            let ip = a.ip();
            let allowed = host_allowed
                || self
                    .policy
                    .allow
                    .iter()
                    .any(|r| matches!(r, AllowRule::Net(n, b) if in_net(ip, *n, *b)));
            if !is_special(ip) || allowed {
                return Ok(a);
            }
            refused = Some(ip);
        }
        Err(match refused {
            Some(ip) => format!(
                "refusing to fetch from {} ({ip}): special-purpose address (allow it with --fetch-allow)",
                u.host
            ),
            None => format!("{} has no address", u.host),
        })
    }

    /// Takes one of the `per_host` slots of `key` (the resolved address, so `127.1`,
    /// `2130706433` and `0x7f000001` share the slots of 127.0.0.1), waiting until `deadline`.
    /// The slot is returned when the guard drops, also when the fetch panics or errs.
    fn acquire(&self, key: IpAddr, deadline: Instant) -> Result<Slot<'_>, String> {
        let mut busy = self.busy.lock().map_err(|_| "fetcher poisoned")?;
        loop {
            let host_full = busy.per.get(&key).copied().unwrap_or(0) >= self.policy.per_host;
            if !host_full && busy.total < self.policy.max_total {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(if host_full {
                    format!("too many concurrent fetches to {key}")
                } else {
                    "too many concurrent revocation fetches".into()
                });
            }
            busy = self
                .freed
                .wait_timeout(busy, left)
                .map_err(|_| "fetcher poisoned")?
                .0;
        }
        let n = busy.per.entry(key).or_insert(0);
        *n = n.saturating_add(1);
        busy.total = busy.total.saturating_add(1);
        Ok(Slot { fetcher: self, key })
    }

    fn request(
        &self,
        method: &str,
        url: &str,
        body: Option<(&str, &[u8])>,
        max: usize,
        until: Option<Instant>,
    ) -> Result<Vec<u8>, String> {
        let u = parse_url(url)?;
        // The fetch's own limit, or the verification's deadline when that comes first: a fetch
        // never outlives the request that wanted it (its name lookup included).
        let own = Instant::now() + self.policy.total_timeout;
        let deadline = until.map_or(own, |u| u.min(own));
        let addr = self.destination(&u, deadline)?;
        let _slot = self
            .acquire(addr.ip(), deadline)
            .map_err(|e| format!("{url}: {e}"))?;
        self.exchange(&u, addr, method, body, max, deadline)
            .map_err(|e| format!("{url}: {e}"))
    }

    fn exchange(
        &self,
        u: &Url<'_>,
        addr: SocketAddr,
        method: &str,
        body: Option<(&str, &[u8])>,
        max: usize,
        deadline: Instant,
    ) -> Result<Vec<u8>, String> {
        let connect = self
            .policy
            .connect_timeout
            .min(deadline.saturating_duration_since(Instant::now()));
        if connect.is_zero() {
            return Err("fetch deadline passed".into());
        }
        let stream =
            TcpStream::connect_timeout(&addr, connect).map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(self.policy.read_timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.policy.read_timeout)))
            .map_err(|e| e.to_string())?;
        let host = if u.port == 80 {
            u.host.to_owned()
        } else {
            format!("{}:{}", u.host, u.port)
        };
        let mut req = format!(
            "{method} {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: tekser/{}\r\nAccept: */*\r\nConnection: close\r\n",
            u.path,
            env!("CARGO_PKG_VERSION")
        );
        if let Some((ct, b)) = body {
            req.push_str(&format!(
                "Content-Type: {ct}\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        req.push_str("\r\n");
        let mut w = &stream;
        w.write_all(req.as_bytes())
            .map_err(|e| format!("send: {e}"))?;
        if let Some((_, b)) = body {
            w.write_all(b).map_err(|e| format!("send: {e}"))?;
        }
        let mut out = Vec::new();
        read_response(
            TimedRead {
                s: &stream,
                deadline,
            },
            max,
            &mut out,
        )?;
        Ok(out)
    }
}

/// Name lookups running at once; each runs on a thread of its own (see [`resolve`]).
static RESOLVING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Most name lookups at once: a lookup that outlives its deadline keeps its thread until the
/// system resolver gives up, so a resolver that never answers must not gather threads.
const MAX_RESOLVING: usize = 16;

/// The addresses of `host`, by `deadline`. An address literal is parsed in place; a name is
/// looked up by the system resolver on a thread of its own, because `getaddrinfo` cannot be
/// given a timeout and a stalled DNS server would otherwise hold the fetch past its deadline.
pub(crate) fn resolve(host: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, String> {
    use std::sync::atomic::Ordering;
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if Instant::now() >= deadline {
        return Err(format!("cannot resolve {host}: the deadline has passed"));
    }
    if RESOLVING.fetch_add(1, Ordering::SeqCst) >= MAX_RESOLVING {
        RESOLVING.fetch_sub(1, Ordering::SeqCst);
        return Err(format!(
            "cannot resolve {host}: too many name lookups in flight"
        ));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_owned();
    let spawned = std::thread::Builder::new()
        .name("tekser-resolve".into())
        .spawn(move || {
            let r = (name.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.take(64).collect::<Vec<_>>());
            RESOLVING.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(r);
        });
    if let Err(e) = spawned {
        RESOLVING.fetch_sub(1, Ordering::SeqCst);
        return Err(format!("cannot resolve {host}: {e}"));
    }
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(e)) => Err(format!("cannot resolve {host}: {e}")),
        Err(_) => Err(format!("cannot resolve {host}: no answer by the deadline")),
    }
}

/// The slot of one fetch to one address; returned on drop (issue #13 item 1: a panicking or
/// failing fetch must not keep it).
struct Slot<'a> {
    fetcher: &'a HttpFetcher,
    key: IpAddr,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        // A poisoned lock still holds a consistent map (every update is one statement).
        let mut busy = match self.fetcher.busy.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        if let Some(n) = busy.per.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.per.remove(&self.key);
            }
        }
        busy.total = busy.total.saturating_sub(1);
        drop(busy);
        self.fetcher.freed.notify_all();
    }
}

/// Most interim (1xx) responses skipped before the final one.
const MAX_INTERIM: usize = 8;
/// Most bytes of a status line plus headers (one response head).
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most bytes of one line (status, header, chunk size).
const MAX_LINE_BYTES: usize = 8 * 1024;

/// Reads an HTTP/1.1 response from `r` and appends its body (at most `max` bytes) to `out`.
///
/// The parser of the fetcher, apart from the socket so it can be fuzzed and tested with any
/// reader (fuzz target `fetch_response`). Header lines are bytes (obs-text allowed, RFC 9110
/// §5.5); interim `1xx` responses are skipped; only 200 is accepted. The body buffer grows with
/// the bytes received, never from a size the peer announced (issue #13 item 5); chunk sizes are
/// added with `checked_add` (item 1).
pub fn read_response(r: impl Read, max: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let mut r = BufReader::new(r);
    let mut line = Vec::new();
    let mut interim = 0usize;
    let (status, length, chunked) = loop {
        let head = read_head(&mut r, &mut line)?;
        if (100..200).contains(&head.0) && head.0 != 101 {
            interim += 1;
            if interim > MAX_INTERIM {
                return Err("too many interim responses".into());
            }
            continue;
        }
        break head;
    };
    if (300..400).contains(&status) {
        return Err(format!("HTTP {status}: redirects are not followed"));
    }
    if status != 200 {
        return Err(format!("HTTP {status}"));
    }
    let too_big = || format!("response exceeds the limit of {max} bytes");
    if chunked {
        let mut total: usize = 0;
        loop {
            read_line(&mut r, &mut line)?;
            let size = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| l.trim().split(';').next())
                .map(str::trim)
                .filter(|s| !s.is_empty() && s.len() <= 16)
                .and_then(|s| usize::from_str_radix(s, 16).ok())
                .ok_or("bad chunk size")?;
            if size == 0 {
                break;
            }
            total = total
                .checked_add(size)
                .filter(|t| *t <= max)
                .ok_or_else(too_big)?;
            read_exactly(&mut r, size, out)?;
            read_line(&mut r, &mut line)?;
        }
    } else if let Some(l) = length {
        if l > max {
            return Err(format!("response of {l} bytes exceeds the limit of {max}"));
        }
        read_exactly(&mut r, l, out)?;
    } else {
        let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
        (&mut r)
            .take(limit)
            .read_to_end(out)
            .map_err(|e| format!("read: {e}"))?;
        if out.len() > max {
            return Err(too_big());
        }
    }
    Ok(())
}

/// Appends exactly `n` bytes from `r` to `out`, growing `out` only as they arrive.
fn read_exactly(r: &mut impl Read, n: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let before = out.len();
    let want = u64::try_from(n).map_err(|_| "bad length")?;
    r.take(want)
        .read_to_end(out)
        .map_err(|e| format!("read: {e}"))?;
    if out.len().saturating_sub(before) != n {
        return Err("connection closed early".into());
    }
    Ok(())
}

/// One response head: (status, Content-Length, chunked).
fn read_head(
    r: &mut impl BufRead,
    line: &mut Vec<u8>,
) -> Result<(u16, Option<usize>, bool), String> {
    read_line(r, line)?;
    let mut head_bytes = line.len();
    let status: u16 = line
        .trim_ascii_end()
        .split(|b| *b == b' ')
        .filter(|w| !w.is_empty())
        .nth(1)
        .filter(|_| line.starts_with(b"HTTP/"))
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            format!(
                "not an HTTP response: {:?}",
                String::from_utf8_lossy(line.trim_ascii_end())
            )
        })?;
    let mut length = None;
    let mut chunked = false;
    loop {
        read_line(r, line)?;
        head_bytes = head_bytes.saturating_add(line.len());
        if head_bytes > MAX_HEAD_BYTES {
            return Err("response headers too large".into());
        }
        let l = line.trim_ascii_end();
        if l.is_empty() {
            break;
        }
        let mut kv = l.splitn(2, |b| *b == b':');
        let (Some(k), Some(v)) = (kv.next(), kv.next()) else {
            continue;
        };
        let v = v.trim_ascii();
        if k.eq_ignore_ascii_case(b"content-length") {
            let n = std::str::from_utf8(v)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .ok_or("bad Content-Length")?;
            if length.is_some_and(|l| l != n) {
                return Err("conflicting Content-Length".into());
            }
            length = Some(n);
        } else if k.eq_ignore_ascii_case(b"transfer-encoding") {
            // Only `chunked` is understood; any other coding is refused rather than misread.
            if v.eq_ignore_ascii_case(b"chunked") {
                chunked = true;
            } else if !v.eq_ignore_ascii_case(b"identity") {
                return Err("unsupported Transfer-Encoding".into());
            }
        }
    }
    Ok((status, length, chunked))
}

/// One line (up to and including LF) into `line`, at most `MAX_LINE_BYTES`.
fn read_line(r: &mut impl BufRead, line: &mut Vec<u8>) -> Result<(), String> {
    line.clear();
    let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX);
    let n = r
        .by_ref()
        .take(limit)
        .read_until(b'\n', line)
        .map_err(|e| format!("read: {e}"))?;
    if n == 0 {
        return Err("connection closed early".into());
    }
    if line.last() != Some(&b'\n') {
        return Err("line too long or connection closed early".into());
    }
    Ok(())
}

/// A reader that gives up at the whole-request deadline (a slow-drip server cannot hold a fetch
/// longer than `total_timeout`).
struct TimedRead<'a> {
    s: &'a TcpStream,
    deadline: Instant,
}

impl Read for TimedRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "fetch deadline passed",
            ));
        }
        // Each read waits at most until the deadline, not a whole read timeout past it.
        if let Ok(Some(t)) = self.s.read_timeout() {
            if left < t {
                self.s.set_read_timeout(Some(left))?;
            }
        }
        let mut s = self.s;
        s.read(buf)
    }
}

impl Fetch for HttpFetcher {
    fn get(&self, url: &str, max: usize) -> Result<Vec<u8>, String> {
        self.request("GET", url, None, max, None)
    }

    fn get_until(&self, url: &str, max: usize, deadline: Instant) -> Result<Vec<u8>, String> {
        self.request("GET", url, None, max, Some(deadline))
    }

    fn post_until(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
        max: usize,
        deadline: Instant,
    ) -> Result<Vec<u8>, String> {
        self.request("POST", url, Some((content_type, body)), max, Some(deadline))
    }

    fn post(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
        max: usize,
    ) -> Result<Vec<u8>, String> {
        self.request("POST", url, Some((content_type, body)), max, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_looked_up_under_the_deadline_and_literals_in_place() {
        let soon = Instant::now() + Duration::from_secs(5);
        let a = resolve("127.0.0.1", 80, soon).expect("literal");
        assert_eq!(a, vec![SocketAddr::from(([127, 0, 0, 1], 80))]);
        // /etc/hosts names `localhost`: the lookup thread answers and is accounted for.
        let a = resolve("localhost", 8080, soon).expect("localhost");
        assert!(
            a.iter().all(|s| s.ip().is_loopback() && s.port() == 8080),
            "{a:?}"
        );
        assert_eq!(RESOLVING.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[test]
    fn special_ranges_and_rules() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "0.0.0.0",
            "::ffff:127.0.0.1",
            // Issue #13 item 10: IPv4-compatible, IPv4-translated, 6to4 of special addresses.
            "::127.0.0.1",
            "::8.8.8.8",
            "::ffff:0:7f00:1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::a00:1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "::ffff:0:808:808",
            "2002:7f00:1::",
            "2002:a00:1::1",
        ] {
            assert!(is_special(s.parse().unwrap()), "{s}");
        }
        for s in ["8.8.8.8", "2a00:1450::1", "2002:808:808::1"] {
            assert!(!is_special(s.parse().unwrap()), "{s}");
        }
        let r: AllowRule = "127.0.0.0/8".parse().unwrap();
        assert!(matches!(r, AllowRule::Net(n, 8) if in_net("127.9.9.9".parse().unwrap(), n, 8)));
        assert!("10.0.0.0/33".parse::<AllowRule>().is_err());
        assert!(parse_url("https://x/").is_err());
        assert!(parse_url("ftp://x/").is_err());
        let u = parse_url("http://ocsp.pki.gov.kz").unwrap();
        assert_eq!((u.host, u.port, u.path), ("ocsp.pki.gov.kz", 80, "/"));
    }

    fn parse(bytes: &[u8], max: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        read_response(bytes, max, &mut out).map(|()| out)
    }

    #[test]
    fn interim_responses_obs_text_and_chunks() {
        let ok = parse(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n\
              HTTP/1.1 200 OK\r\nServer: \xd0\xa2\xff\xfe\r\nContent-Length: 3\r\n\r\nabc",
            10,
        );
        assert_eq!(ok.as_deref(), Ok(&b"abc"[..]));
        let chunked = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            10,
        );
        assert_eq!(chunked.as_deref(), Ok(&b"abcde"[..]));
        // Issue #13 item 1: the size sum must not wrap (it panicked, or wrapped to 0).
        for size in ["ffffffffffffffff", "fffffffffffffffff", "10000000000000000"] {
            let r = parse(
                format!(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n{size}\r\nb"
                )
                .as_bytes(),
                1 << 20,
            );
            assert!(r.is_err(), "{size}: {r:?}");
        }
        // No reason phrase, bare LF line ends, an HTTP/1.0 body up to the close.
        assert_eq!(
            parse(b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", 10).as_deref(),
            Ok(&b"ok"[..])
        );
        assert_eq!(
            parse(b"HTTP/1.0 200 OK\n\nok", 10).as_deref(),
            Ok(&b"ok"[..])
        );
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nabc", 100).is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", 100).is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\n\r\n0123456789", 5).is_err());
        assert!(parse(b"HTTP/1.1 101 Switching\r\n\r\n", 5).is_err());
        assert!(parse(&b"HTTP/1.1 100 Continue\r\n\r\n".repeat(20), 5).is_err());
        assert!(
            parse(b"HTTP/1.1 302 Found\r\nLocation: http://x/\r\n\r\n", 5)
                .is_err_and(|e| e.contains("redirect"))
        );
    }

    /// Gives `head`, then `body` bytes of `b'x'` in 100-byte reads, then a timeout.
    struct Drip {
        head: Vec<u8>,
        body: usize,
    }

    impl Read for Drip {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if !self.head.is_empty() {
                let n = self.head.len().min(buf.len());
                buf[..n].copy_from_slice(&self.head[..n]);
                self.head.drain(..n);
                return Ok(n);
            }
            if self.body == 0 {
                return Err(std::io::ErrorKind::TimedOut.into());
            }
            let n = self.body.min(100).min(buf.len());
            buf[..n].fill(b'x');
            self.body -= n;
            Ok(n)
        }
    }

    #[test]
    fn announced_length_is_not_allocated_up_front() {
        // Issue #13 item 5: Content-Length 64 MiB, 10,000 bytes dripped, then the deadline.
        let mut out = Vec::new();
        let r = read_response(
            Drip {
                head: b"HTTP/1.1 200 OK\r\nContent-Length: 67108864\r\n\r\n".to_vec(),
                body: 10_000,
            },
            64 << 20,
            &mut out,
        );
        assert!(r.is_err(), "{r:?}");
        assert_eq!(out.len(), 10_000);
        // Growth by doubling from what arrived: far below the announced 64 MiB.
        assert!(
            out.capacity() <= 2 * 10_000 + 64 * 1024,
            "{}",
            out.capacity()
        );
    }
}
