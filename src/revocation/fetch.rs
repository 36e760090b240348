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
    /// Concurrent requests to one host.
    pub per_host: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            connect_timeout: Duration::from_secs(3),
            read_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(15),
            per_host: 4,
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
    busy: Mutex<HashMap<String, usize>>,
    freed: Condvar,
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
            busy: Mutex::new(HashMap::new()),
            freed: Condvar::new(),
        }
    }

    /// The address to connect to, after the SSRF rules.
    fn destination(&self, u: &Url<'_>) -> Result<SocketAddr, String> {
        let host_allowed = self
            .policy
            .allow
            .iter()
            .any(|r| matches!(r, AllowRule::Host(h) if h.eq_ignore_ascii_case(u.host)));
        let addrs: Vec<SocketAddr> = (u.host, u.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", u.host))?
            .collect();
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

    fn acquire(&self, host: &str) -> Result<(), String> {
        let mut busy = self.busy.lock().map_err(|_| "fetcher poisoned")?;
        let deadline = Instant::now() + self.policy.total_timeout;
        while busy.get(host).copied().unwrap_or(0) >= self.policy.per_host {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("too many concurrent fetches to {host}"));
            }
            busy = self
                .freed
                .wait_timeout(busy, left)
                .map_err(|_| "fetcher poisoned")?
                .0;
        }
        *busy.entry(host.to_owned()).or_insert(0) += 1;
        Ok(())
    }

    fn release(&self, host: &str) {
        if let Ok(mut busy) = self.busy.lock() {
            if let Some(n) = busy.get_mut(host) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    busy.remove(host);
                }
            }
        }
        self.freed.notify_all();
    }

    fn request(
        &self,
        method: &str,
        url: &str,
        body: Option<(&str, &[u8])>,
        max: usize,
    ) -> Result<Vec<u8>, String> {
        let u = parse_url(url)?;
        let addr = self.destination(&u)?;
        self.acquire(u.host)?;
        let r = self.exchange(&u, addr, method, body, max);
        self.release(u.host);
        r.map_err(|e| format!("{url}: {e}"))
    }

    fn exchange(
        &self,
        u: &Url<'_>,
        addr: SocketAddr,
        method: &str,
        body: Option<(&str, &[u8])>,
        max: usize,
    ) -> Result<Vec<u8>, String> {
        let deadline = Instant::now() + self.policy.total_timeout;
        let stream = TcpStream::connect_timeout(&addr, self.policy.connect_timeout)
            .map_err(|e| format!("connect: {e}"))?;
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
        let mut r = BufReader::new(TimedRead {
            s: &stream,
            deadline,
        });
        let mut line = String::new();
        read_line(&mut r, &mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("not an HTTP response: {:?}", line.trim_end()))?;
        let mut length = None;
        let mut chunked = false;
        let mut header_bytes = 0usize;
        loop {
            line.clear();
            read_line(&mut r, &mut line)?;
            header_bytes += line.len();
            if header_bytes > 16 * 1024 {
                return Err("response headers too large".into());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let v = v.trim();
                if k.eq_ignore_ascii_case("content-length") {
                    length = Some(v.parse::<usize>().map_err(|_| "bad Content-Length")?);
                } else if k.eq_ignore_ascii_case("transfer-encoding")
                    && v.eq_ignore_ascii_case("chunked")
                {
                    chunked = true;
                }
            }
        }
        if (300..400).contains(&status) {
            return Err(format!("HTTP {status}: redirects are not followed"));
        }
        if status != 200 {
            return Err(format!("HTTP {status}"));
        }
        if length.is_some_and(|l| l > max) {
            return Err(format!(
                "response of {} bytes exceeds the limit of {max}",
                length.unwrap_or(0)
            ));
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                read_line(&mut r, &mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| "bad chunk size")?;
                if size == 0 {
                    break;
                }
                if out.len() + size > max {
                    return Err(format!("response exceeds the limit of {max} bytes"));
                }
                let start = out.len();
                out.resize(start + size, 0);
                r.read_exact(&mut out[start..])
                    .map_err(|e| format!("read: {e}"))?;
                line.clear();
                read_line(&mut r, &mut line)?;
            }
        } else if let Some(l) = length {
            out.resize(l, 0);
            r.read_exact(&mut out).map_err(|e| format!("read: {e}"))?;
        } else {
            (&mut r)
                .take(max as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| format!("read: {e}"))?;
            if out.len() > max {
                return Err(format!("response exceeds the limit of {max} bytes"));
            }
        }
        Ok(out)
    }
}

fn read_line(r: &mut impl BufRead, line: &mut String) -> Result<(), String> {
    let n = r
        .by_ref()
        .take(8 * 1024)
        .read_line(line)
        .map_err(|e| format!("read: {e}"))?;
    if n == 0 {
        return Err("connection closed early".into());
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
        if Instant::now() >= self.deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "fetch deadline passed",
            ));
        }
        let mut s = self.s;
        s.read(buf)
    }
}

impl Fetch for HttpFetcher {
    fn get(&self, url: &str, max: usize) -> Result<Vec<u8>, String> {
        self.request("GET", url, None, max)
    }

    fn post(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
        max: usize,
    ) -> Result<Vec<u8>, String> {
        self.request("POST", url, Some((content_type, body)), max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert!(is_special(s.parse().unwrap()), "{s}");
        }
        for s in ["8.8.8.8", "2a00:1450::1"] {
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
}
