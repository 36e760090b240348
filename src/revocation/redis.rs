//! A small Redis client for the shared revocation cache (issue #18): RESP2 over plain TCP, the
//! five commands the cache needs (AUTH, SELECT, GET, SET with PX/NX, EVAL for a safe unlock).
//!
//! Why not the `redis` crate: the cache needs blocking calls with a hard time bound on each and
//! no reconnection logic of its own (an unreachable Redis must cost a request nothing), which is
//! a hundred lines over `std::net`; the crate would bring its own connection manager, URL rules
//! and an async runtime feature matrix to configure away.
//!
//! Every call is bounded by `timeout` (connect, write and read each). After a failure the client
//! stops trying for `retry_after`, so a dead Redis costs one timeout per period, not one per
//! lookup; the first call after it tries again. Replies are read under a size limit: a value
//! larger than `max_value` is an error, not an allocation.

use super::shared::{SharedCache, SharedError};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// [`RedisCache`]'s states.
const UNKNOWN: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// Idle connections kept for reuse.
const MAX_IDLE: usize = 16;

/// Releases the lock only if it still holds this replica's token (another replica may have
/// taken it after ours expired).
const UNLOCK: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// Where and how to reach Redis, from `redis://[[user]:password@]host[:port][/db]`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisTarget {
    /// Host name or address.
    pub host: String,
    /// Port (6379 when not given).
    pub port: u16,
    /// ACL user name (Redis 6+), if any.
    pub user: Option<String>,
    /// Password, if any.
    pub password: Option<String>,
    /// Database number.
    pub db: u32,
}

impl std::fmt::Debug for RedisTarget {
    // The password never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.shown())
    }
}

impl RedisTarget {
    /// Parses a `redis://` URL. `rediss://` (TLS) is refused by name rather than used in clear.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = match url.split_once("://") {
            Some(("redis", rest)) => rest,
            Some(("rediss", _)) => {
                return Err("rediss:// (Redis over TLS) is not supported; use redis:// on a private network or a TLS sidecar".into())
            }
            // Not echoed: the URL may hold a password.
            _ => return Err("the Redis URL must start with redis://".into()),
        };
        let (auth, hostpart) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (hostport, db) = match hostpart.split_once('/') {
            Some((h, "")) => (h, 0),
            Some((h, d)) => (
                h,
                // Not echoed (nor below): a mistyped URL may have its password there.
                d.parse::<u32>()
                    .map_err(|_| "the database in the Redis URL is not a number".to_string())?,
            ),
            None => (hostpart, 0),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, p) = v6
                .split_once(']')
                .ok_or_else(|| "unclosed [ in the Redis URL".to_string())?;
            (h, p.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err("the Redis URL names no host".into());
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| "the port in the Redis URL is not a port number".to_string())?,
            None => 6379,
        };
        // RFC 3986: reserved characters of a user or password are percent-encoded.
        let dec = |v: &str| {
            crate::input::percent_decode(v)
                .ok_or("bad %-escape in the Redis URL's user or password")
        };
        let (user, password) = match auth {
            None => (None, None),
            Some(a) => match a.split_once(':') {
                Some((u, p)) => ((!u.is_empty()).then(|| dec(u)).transpose()?, Some(dec(p)?)),
                // `redis://secret@host`: a lone value is the password, as redis-cli reads it.
                None => (None, Some(dec(a)?)),
            },
        };
        Ok(Self {
            host: host.to_owned(),
            port,
            user,
            password,
            db,
        })
    }

    /// The URL without its password, for logs.
    pub fn shown(&self) -> String {
        let auth = if self.password.is_some() {
            format!("{}:***@", self.user.as_deref().unwrap_or(""))
        } else {
            String::new()
        };
        format!("redis://{auth}{}:{}/{}", self.host, self.port, self.db)
    }
}

/// A reply, as far as the cache needs one.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Simple(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    /// A bulk reply larger than the call accepts, left unread (its connection is dropped).
    TooLarge,
}

/// Slowest transfer rate a call is allowed beyond its `timeout`: a large value (a 20 MB CRL)
/// gets time in proportion to its size, a Redis that drips a byte at a time does not get more.
const MIN_BYTES_PER_SEC: u64 = 25 << 20;

/// A connection whose every read and write gives up at one deadline for the whole call: a
/// per-read timeout alone would let a server dripping a byte per read hold a call forever.
struct Timed {
    s: TcpStream,
    until: Instant,
}

impl Timed {
    fn remaining(&self) -> std::io::Result<Duration> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "Redis call took longer than its time limit",
            ));
        }
        Ok(left)
    }

    /// More time for `bytes` more bytes, at [`MIN_BYTES_PER_SEC`].
    fn allow(&mut self, bytes: usize) {
        let extra = Duration::from_millis(
            u64::try_from(bytes)
                .unwrap_or(u64::MAX)
                .saturating_mul(1000)
                / MIN_BYTES_PER_SEC,
        );
        self.until += extra;
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.remaining()?;
        self.s.set_read_timeout(Some(left))?;
        self.s.read(buf)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let left = self.remaining()?;
        self.s.set_write_timeout(Some(left))?;
        self.s.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.s.flush()
    }
}

/// What [`read_reply`] reads from: a timed connection, or plain bytes in the unit tests.
trait Source: BufRead {
    /// More time for a bulk reply of `bytes` bytes.
    fn allow(&mut self, bytes: usize);
}

impl Source for BufReader<Timed> {
    fn allow(&mut self, bytes: usize) {
        self.get_mut().allow(bytes);
    }
}

impl Source for &[u8] {
    fn allow(&mut self, _: usize) {}
}

struct Conn {
    r: BufReader<Timed>,
}

/// The Redis-backed [`SharedCache`].
pub struct RedisCache {
    target: RedisTarget,
    timeout: Duration,
    retry_after: Duration,
    max_value: usize,
    idle: Mutex<Vec<Conn>>,
    /// Until when calls fail at once after a failure (None: try).
    down_until: Mutex<Option<Instant>>,
    /// [`UNKNOWN`] until the first call, then [`UP`] or [`DOWN`]: the gauge says 1 only once
    /// Redis answered (the start-up PING), never before it was asked.
    state: AtomicU8,
    last_rejection_log: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisCache({})", self.target.shown())
    }
}

impl RedisCache {
    /// A client for `target`; nothing is connected until the first call. `max_value` bounds
    /// what one GET may return (the largest CRL accepted).
    pub fn new(target: RedisTarget, timeout: Duration, max_value: usize) -> Self {
        Self {
            target,
            timeout,
            retry_after: Duration::from_secs(5),
            max_value,
            idle: Mutex::new(Vec::new()),
            down_until: Mutex::new(None),
            state: AtomicU8::new(UNKNOWN),
            last_rejection_log: Mutex::new(None),
        }
    }

    /// Sends one command and reads its reply, on a pooled connection or a new one.
    fn call(&self, args: &[&[u8]]) -> Result<Reply, SharedError> {
        self.call_with(args, 64).map(|(r, _)| r)
    }

    /// [`RedisCache::call`] accepting a bulk reply of at most `max` bytes; also says whether
    /// the command was sent twice (a pooled connection failed and a fresh one was used: the
    /// first may have been carried out).
    fn call_with(&self, args: &[&[u8]], max: usize) -> Result<(Reply, bool), SharedError> {
        if let Ok(d) = self.down_until.lock() {
            if d.is_some_and(|t| Instant::now() < t) {
                return Err(SharedError(format!(
                    "{} unusable (trying again a few seconds after the last failure)",
                    self.target.shown()
                )));
            }
        }
        let max = max.min(self.max_value);
        // One deadline for the whole call: name lookup, connect, AUTH, SELECT, the command and
        // its reply, a retry included (the reply's size may add time: `Timed::allow`).
        let until = Instant::now() + self.timeout;
        let pooled = self.idle.lock().ok().and_then(|mut v| v.pop());
        let fresh = |retried: bool| {
            self.connect(until)
                .and_then(|mut c| c.roundtrip(args, max, until).map(|r| (c, r, retried)))
        };
        let result = match pooled {
            // A pooled connection may have been closed by Redis (idle timeout, restart): that
            // fails at once, and earns one retry on a fresh connection before calling Redis
            // down. A pooled call that used up its time limit earns none (one limit per call).
            Some(mut c) => {
                let start = Instant::now();
                match c.roundtrip(args, max, until) {
                    Ok(r) => Ok((c, r, false)),
                    Err(e) if start.elapsed() >= self.timeout / 4 => Err(e),
                    Err(_) => fresh(true),
                }
            }
            None => fresh(false),
        };
        let failed = match result {
            // Redis refusing the command (NOAUTH, READONLY, scripting off, …): reachable, but
            // sharing does not work: said once, like an unreachable Redis.
            Ok((_, Reply::Simple(s), _)) if s.starts_with('-') && !s.starts_with("-WRONGTYPE") => {
                format!("Redis answered {}", &s[1..])
            }
            Ok((c, reply, retried)) => {
                // A connection left in the middle of a value it did not read is not reused.
                if reply != Reply::TooLarge {
                    if let Ok(mut v) = self.idle.lock() {
                        if v.len() < MAX_IDLE {
                            v.push(c);
                        }
                    }
                }
                if let Ok(mut d) = self.down_until.lock() {
                    *d = None;
                }
                match self.state.swap(UP, Ordering::Relaxed) {
                    DOWN => {
                        tracing::info!(redis = %self.target.shown(), "shared revocation cache usable again")
                    }
                    UNKNOWN => {
                        tracing::info!(redis = %self.target.shown(), "shared revocation cache usable")
                    }
                    _ => {}
                }
                return Ok((reply, retried));
            }
            Err(e) => e,
        };
        Err(self.unusable(failed))
    }

    /// Redis failed or answered what it should not: not tried for `retry_after`, its pooled
    /// connections dropped, the gauge down, one warning.
    fn unusable(&self, failed: String) -> SharedError {
        if let Ok(mut d) = self.down_until.lock() {
            *d = Some(Instant::now() + self.retry_after);
        }
        if let Ok(mut v) = self.idle.lock() {
            v.clear();
        }
        if self.state.swap(DOWN, Ordering::Relaxed) != DOWN {
            tracing::warn!(redis = %self.target.shown(), error = %failed, "shared revocation cache unusable: this replica goes on with its own cache and fetches");
        }
        SharedError(failed)
    }

    fn connect(&self, until: Instant) -> Result<Conn, String> {
        let t = &self.target;
        // getaddrinfo takes no timeout: resolved on a thread of its own under the call's limit
        // (the fetcher's resolver, with its cap on lookups in flight).
        let addrs: Vec<SocketAddr> = super::fetch::resolve(&t.host, t.port, until)
            .map_err(|e| format!("{}: {e}", t.shown()))?
            .into_iter()
            .take(4)
            .collect();
        let mut last = format!("{}: no address", t.shown());
        for a in addrs {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match TcpStream::connect_timeout(&a, left) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    let mut c = Conn {
                        r: BufReader::new(Timed {
                            s,
                            until: Instant::now(),
                        }),
                    };
                    if let Some(p) = &t.password {
                        let r = match &t.user {
                            Some(u) => {
                                c.roundtrip(&[b"AUTH", u.as_bytes(), p.as_bytes()], 64, until)?
                            }
                            None => c.roundtrip(&[b"AUTH", p.as_bytes()], 64, until)?,
                        };
                        expect_ok(r, "AUTH")?;
                    }
                    if t.db != 0 {
                        let db = t.db.to_string();
                        expect_ok(
                            c.roundtrip(&[b"SELECT", db.as_bytes()], 64, until)?,
                            "SELECT",
                        )?;
                    }
                    return Ok(c);
                }
                Err(e) => last = format!("{}: {e}", t.shown()),
            }
        }
        Err(last)
    }
}

fn expect_ok(r: Reply, what: &str) -> Result<(), String> {
    match r {
        Reply::Simple(s) if s == "OK" => Ok(()),
        Reply::Simple(s) => Err(format!("{what}: {}", s.trim_start_matches('-'))),
        other => Err(format!("{what}: unexpected reply {other:?}")),
    }
}

impl Conn {
    /// One command and its reply within the call's time limit (more for large values).
    fn roundtrip(
        &mut self,
        args: &[&[u8]],
        max_value: usize,
        until: Instant,
    ) -> Result<Reply, String> {
        let timed = self.r.get_mut();
        timed.until = until;
        timed.allow(args.iter().map(|a| a.len()).sum());
        let mut out = Vec::with_capacity(32 + args.iter().map(|a| a.len() + 16).sum::<usize>());
        out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.r
            .get_mut()
            .write_all(&out)
            .map_err(|e| format!("write: {e}"))?;
        read_reply(&mut self.r, max_value)
    }
}

/// Longest status line read (errors and simple strings are short).
const MAX_LINE: u64 = 4096;

fn read_line(r: &mut impl Source) -> Result<String, String> {
    let mut line = Vec::new();
    r.by_ref()
        .take(MAX_LINE)
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("read: {e}"))?;
    if line.is_empty() {
        return Err("connection closed".into());
    }
    if !line.ends_with(b"\r\n") {
        return Err("reply line too long or cut short".into());
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|_| "reply line is not text".into())
}

fn read_reply(r: &mut impl Source, max_value: usize) -> Result<Reply, String> {
    let line = read_line(r)?;
    let (kind, rest) = line.split_at(line.len().min(1));
    match kind {
        "+" => Ok(Reply::Simple(rest.to_owned())),
        // Kept as a Simple with its sign, so that `call` turns it into an error in one place.
        "-" => Ok(Reply::Simple(line)),
        ":" => rest
            .parse()
            .map(Reply::Int)
            .map_err(|_| format!("bad integer reply {rest:?}")),
        "$" => {
            let n: i64 = rest
                .parse()
                .map_err(|_| format!("bad bulk length {rest:?}"))?;
            if n < 0 {
                return Ok(Reply::Bulk(None));
            }
            let n = usize::try_from(n).map_err(|_| "bulk length out of range".to_string())?;
            // Checked before allocating: Redis is not trusted with our memory either. Not an
            // error of Redis: a value no replica would have stored, unusable like any other.
            if n > max_value {
                return Ok(Reply::TooLarge);
            }
            r.allow(n);
            let mut buf = vec![0u8; n + 2];
            r.read_exact(&mut buf).map_err(|e| format!("read: {e}"))?;
            if !buf.ends_with(b"\r\n") {
                return Err("bulk reply not terminated".into());
            }
            buf.truncate(n);
            Ok(Reply::Bulk(Some(buf)))
        }
        _ => Err(format!(
            "unexpected reply {:?}",
            line.chars().take(32).collect::<String>()
        )),
    }
}

impl SharedCache for RedisCache {
    fn get(&self, key: &str, max: usize) -> Result<Option<Vec<u8>>, SharedError> {
        match self.call_with(&[b"GET", key.as_bytes()], max)?.0 {
            Reply::Bulk(v) => Ok(v),
            // Too large, or not a string (someone else's type under our key): a value that
            // cannot be what a replica stored. Handed on empty, it fails its check like any
            // unusable value and the next store replaces it.
            Reply::TooLarge => Ok(Some(Vec::new())),
            Reply::Simple(s) if s.starts_with("-WRONGTYPE") => Ok(Some(Vec::new())),
            other => Err(self.unusable(format!("GET: unexpected reply {other:?}"))),
        }
    }

    fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SharedError> {
        let ms = ttl.as_millis().max(1).to_string();
        match self.call(&[b"SET", key.as_bytes(), value, b"PX", ms.as_bytes()])? {
            Reply::Simple(s) if s == "OK" => Ok(()),
            other => Err(self.unusable(format!("SET: unexpected reply {other:?}"))),
        }
    }

    fn try_lock(&self, key: &str, ttl: Duration) -> Result<Option<u64>, SharedError> {
        let mut t = [0u8; 8];
        // The token only has to differ between replicas' attempts.
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut t);
        let token = u64::from_le_bytes(t);
        let (tok, ms) = (token.to_string(), ttl.as_millis().max(1).to_string());
        match self.call_with(
            &[
                b"SET",
                key.as_bytes(),
                tok.as_bytes(),
                b"NX",
                b"PX",
                ms.as_bytes(),
            ],
            64,
        )? {
            (Reply::Simple(s), _) if s == "OK" => Ok(Some(token)),
            (Reply::Bulk(None), false) => Ok(None),
            // Held, and the command went out twice: the first may have set it and lost its
            // reply, and then the lock is ours (else this replica would wait for itself).
            (Reply::Bulk(None), true) => match self.call(&[b"GET", key.as_bytes()])? {
                Reply::Bulk(Some(v)) if v == tok.as_bytes() => Ok(Some(token)),
                _ => Ok(None),
            },
            (other, _) => Err(self.unusable(format!("SET NX: unexpected reply {other:?}"))),
        }
    }

    fn unlock(&self, key: &str, token: u64) {
        let tok = token.to_string();
        // A failure leaves the lock to expire on its own.
        let _ = self.call(&[
            b"EVAL",
            UNLOCK.as_bytes(),
            b"1",
            key.as_bytes(),
            tok.as_bytes(),
        ]);
    }

    fn up(&self) -> bool {
        self.state.load(Ordering::Relaxed) == UP
    }

    fn describe(&self) -> String {
        self.target.shown()
    }

    fn ping(&self) -> Result<(), SharedError> {
        match self.call(&[b"PING"])? {
            Reply::Simple(s) if s == "PONG" => Ok(()),
            other => Err(self.unusable(format!("PING: unexpected reply {other:?}"))),
        }
    }

    fn rejected(&self, key: &str, why: &str) {
        // At most one line a minute: a poisoned Redis must not flood the log either.
        let now = Instant::now();
        if let Ok(mut last) = self.last_rejection_log.lock() {
            if last.is_some_and(|t| now.duration_since(t) < Duration::from_secs(60)) {
                return;
            }
            *last = Some(now);
        }
        tracing::warn!(redis = %self.target.shown(), key, reason = why, "a value in the shared revocation cache failed verification and was not used (fetched afresh); if this repeats, something other than tekser writes to this Redis");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = RedisTarget::parse("redis://tekser-redis:6380/2").expect("url");
        assert_eq!(
            (t.host.as_str(), t.port, t.db, t.password.as_deref()),
            ("tekser-redis", 6380, 2, None)
        );
        let t = RedisTarget::parse("redis://:s3cret@127.0.0.1").expect("url");
        assert_eq!(
            (t.port, t.password.as_deref(), t.user.as_deref()),
            (6379, Some("s3cret"), None)
        );
        assert_eq!(t.shown(), "redis://:***@127.0.0.1:6379/0");
        assert!(!format!("{t:?}").contains("s3cret"));
        let t = RedisTarget::parse("redis://:p%40ss%2Fw%3Ard%231@h").expect("url");
        assert_eq!(t.password.as_deref(), Some("p@ss/w:rd#1"));
        assert!(RedisTarget::parse("redis://:p%4@h").is_err());
        let t = RedisTarget::parse("redis://app:pw@[::1]:7000").expect("url");
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_deref()),
            ("::1", 7000, Some("app"))
        );
        for bad in [
            "rediss://h",
            "http://h",
            "redis://",
            "redis://h:0",
            "redis://h:99999",
            "redis://h/x",
            "redis//:pw@h",
        ] {
            let e = RedisTarget::parse(bad).expect_err(bad);
            assert!(!e.contains("pw"), "{e}");
        }
    }

    #[test]
    fn replies_are_bounded_before_allocation() {
        let mut r = &b"$1000000000\r\n"[..];
        assert_eq!(read_reply(&mut r, 1 << 20), Ok(Reply::TooLarge));
        let mut r = &b"$3\r\nabc\r\n$-1\r\n:7\r\n+OK\r\n-ERR no\r\n"[..];
        assert_eq!(
            read_reply(&mut r, 8),
            Ok(Reply::Bulk(Some(b"abc".to_vec())))
        );
        assert_eq!(read_reply(&mut r, 8), Ok(Reply::Bulk(None)));
        assert_eq!(read_reply(&mut r, 8), Ok(Reply::Int(7)));
        assert_eq!(read_reply(&mut r, 8), Ok(Reply::Simple("OK".into())));
        assert_eq!(read_reply(&mut r, 8), Ok(Reply::Simple("-ERR no".into())));
        let mut r = &b"$3\r\nabcd\r\n"[..];
        assert!(read_reply(&mut r, 8).is_err());
        let mut r = &b"*2\r\n"[..];
        assert!(read_reply(&mut r, 8).is_err());
        let long = vec![b'+'; 10_000];
        assert!(read_reply(&mut &long[..], 8).is_err());
    }

    /// A server that answers a byte every 50 ms, forever: each read would succeed within a
    /// per-read timeout; the call's own limit ends it.
    #[test]
    fn a_dripping_redis_costs_one_time_limit_then_nothing() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut b = [0u8; 256];
                    let _ = s.read(&mut b);
                    let _ = s.write_all(b"$100000\r\n");
                    for _ in 0..400 {
                        std::thread::sleep(Duration::from_millis(50));
                        if s.write_all(b"x").is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let target = RedisTarget::parse(&format!("redis://127.0.0.1:{port}")).expect("url");
        let c = RedisCache::new(target, Duration::from_millis(300), 1 << 20);
        let t = Instant::now();
        assert!(c.get("k", 1 << 20).is_err());
        let took = t.elapsed();
        // 300 ms plus 100,000 bytes at 25 MiB/s (4 ms), and scheduling.
        assert!(took < Duration::from_secs(2), "{took:?}");
        assert!(!c.up());
        // Down for a while: the next call fails at once, without a connection.
        let t = Instant::now();
        assert!(c.get("k", 1 << 20).is_err());
        assert!(t.elapsed() < Duration::from_millis(50));
    }

    /// AUTH, SELECT and the command share the call's one limit: each answered in just under
    /// it, they make a call three times as long, which is refused.
    #[test]
    fn connection_set_up_counts_against_the_call_limit() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut b = [0u8; 256];
                    for reply in [&b"+OK\r\n"[..], b"+OK\r\n", b"$-1\r\n"] {
                        if matches!(s.read(&mut b), Ok(0) | Err(_)) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(280));
                        let _ = s.write_all(reply);
                    }
                });
            }
        });
        let url = format!("redis://:pw@127.0.0.1:{port}/3");
        let c = RedisCache::new(
            RedisTarget::parse(&url).expect("url"),
            Duration::from_millis(300),
            1 << 20,
        );
        let t = Instant::now();
        assert!(c.get("k", 1 << 20).is_err(), "840 ms of answers within 300");
        assert!(
            t.elapsed() < Duration::from_millis(800),
            "{:?}",
            t.elapsed()
        );
    }
}
