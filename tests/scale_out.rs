//! Scale-out on loopback (issue #18), every part real: Redis (Debian's `redis-server`), two
//! pairs of `tekser serve` processes behind nginx (Debian's `nginx`, the repository's example
//! configuration `deploy/nginx/tekser.conf` with the ports filled in), a real `openssl ocsp`
//! responder behind connection-counting proxies and a small CRL server, the PKI and signatures
//! made by the OpenSSL CLI. One pair shares revocation data through Redis, the other does not.
//!
//! What it shows: 200 concurrent verifications spread over both replicas cost the responder one
//! request with Redis (two without: one per replica); a CRL is downloaded once; a forged "good"
//! written into Redis is refused and the revoked signer stays revoked; Redis killed mid-run
//! loses no request (the replicas go on alone, and share again once it is back); a replica
//! killed mid-run loses no request (nginx retries it on the other).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::loopback::{
    counting_proxy, read_request, redis_server, reserve_port, respond, serve_loopback, tool,
    wait_for_line, Proc,
};
use support::nginx::{nginx_cmd, render, Nginx};
use support::pki::{gen_crl, issue, issue_and_sign, openssl, self_signed, CA_EXTS};

/// One HTTP/1.1 exchange (`Connection: close`): status and body.
fn http(port: u16, method: &str, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/pkcs7-signature\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(body).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).map_err(|e| e.to_string())?;
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no response head in {} bytes", out.len()))?;
    let head = String::from_utf8_lossy(&out[..end]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad status line: {head}"))?;
    let mut body = out[end + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(p) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..p]).trim(), 16).unwrap_or(0);
        if n == 0 || b.len() < p + 2 + n {
            break;
        }
        out.extend_from_slice(&b[p + 2..p + 2 + n]);
        b = &b[(p + 4 + n).min(b.len())..];
    }
    out
}

/// A verification through `port`: the verdict's indication and the first signature's
/// revocation status ("?" where absent), or why the request was lost.
fn verify(port: u16, doc: &[u8]) -> Result<(String, String), String> {
    let (status, body) = http(port, "POST", "/v1/verify", doc)?;
    let v: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| format!("{status}: {e}: {}", String::from_utf8_lossy(&body)))?;
    if status != 200 {
        return Err(format!("{status}: {v}"));
    }
    let s = |p: &str| {
        v.pointer(p)
            .and_then(|x| x.as_str())
            .unwrap_or("?")
            .to_owned()
    };
    Ok((s("/indication"), s("/signatures/0/revocation/status")))
}

/// The first signature's revocation source of a verification through `port`.
fn revocation_source(port: u16, doc: &[u8]) -> String {
    let (status, body) = http(port, "POST", "/v1/verify", doc).expect("verify");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    v.pointer("/signatures/0/revocation/source")
        .and_then(|x| x.as_str())
        .unwrap_or("?")
        .to_owned()
}

/// A Prometheus sample of a replica (`name{labels}` exactly as rendered), 0 when absent.
fn metric(port: u16, sample: &str) -> f64 {
    let (_, body) = http(port, "GET", "/metrics", b"").expect("metrics");
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| {
            l.strip_prefix(sample)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

/// The lab: CA, delegated OCSP responder, leaves per scenario, responder and CRL server.
struct Lab {
    dir: PathBuf,
    _procs: Vec<Proc>,
    /// Upstream connections per counting proxy, by name.
    counts: Vec<(&'static str, Arc<AtomicUsize>)>,
    /// The CRL server (serves `ca.crl` as it is on disk at each request).
    crl_port: u16,
}

impl Lab {
    fn count(&self, name: &str) -> usize {
        self.counts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, c)| c.load(Ordering::SeqCst))
    }

    fn doc(&self, leaf: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(format!("{leaf}.p7s"))).expect("cms")
    }
}

/// The OCSP door of each group of leaves (each its own counting proxy), and the CRL-only leaf.
const OCSP_GROUPS: [(&str, &[&str]); 5] = [
    ("shared", &["shared"]),
    ("alone", &["alone"]),
    ("revoked", &["revoked"]),
    (
        "redisdown",
        &[
            "m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "after", "back", "seq",
        ],
    ),
    ("crl-ocsp", &[]),
];

fn build_lab() -> Lab {
    let dir = std::env::temp_dir().join(format!("tekser-scale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp");
    let d = dir.as_path();
    let w = |name: &str, text: &str| std::fs::write(d.join(name), text).expect("write");
    w("content.txt", "tekser scale-out test document\n");

    let (ocsp_port, ocsp_hold) = reserve_port();
    let mut counts = Vec::new();
    let mut door = Vec::new();
    for (group, _) in OCSP_GROUPS {
        let (port, count) = counting_proxy(ocsp_port);
        counts.push((group, count));
        door.push((group, port));
    }
    let crl_dir = dir.clone();
    let (crl_port, crl_count) = serve_loopback(move |mut s| {
        let path = read_request(&mut s);
        match std::fs::read(crl_dir.join("ca.crl")) {
            Ok(b) if path == "/ca.crl" => respond(&mut s, "200 OK", &b),
            _ => respond(&mut s, "404 Not Found", b""),
        }
    });
    counts.push(("crl", crl_count));

    self_signed(d, "ca", "/CN=tekser scale-out test CA/O=tekser", CA_EXTS);
    self_signed(
        d,
        "rogue",
        "/CN=rogue responder",
        &["extendedKeyUsage=OCSPSigning"],
    );
    w("resp.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
    issue(d, "resp", "ca", "0x7001");
    let leaf_ext = |name: &str, tail: &str| {
        w(
            &format!("{name}.ext"),
            &format!("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n{tail}"),
        )
    };
    let mut index = String::new();
    let mut serial = 0x2001u32;
    for (group, leaves) in OCSP_GROUPS {
        let port = door
            .iter()
            .find(|(g, _)| *g == group)
            .map_or(0, |(_, p)| *p);
        for leaf in leaves {
            leaf_ext(
                leaf,
                &format!("authorityInfoAccess=OCSP;URI:http://127.0.0.1:{port}/\n"),
            );
            issue_and_sign(d, leaf, "ca", &format!("0x{serial:04X}"));
            let state = if *leaf == "revoked" {
                "R\t491231235959Z\t240101000000Z,keyCompromise"
            } else {
                "V\t491231235959Z\t"
            };
            index.push_str(&format!(
                "{state}\t{serial:04X}\tunknown\t/CN=tekser live {leaf}\n"
            ));
            serial += 1;
        }
    }
    // A leaf with a CRL distribution point only.
    leaf_ext(
        "crlonly",
        &format!("crlDistributionPoints=URI:http://127.0.0.1:{crl_port}/ca.crl\n"),
    );
    issue_and_sign(d, "crlonly", "ca", &format!("0x{serial:04X}"));
    index.push_str(&format!(
        "V\t491231235959Z\t\t{serial:04X}\tunknown\t/CN=tekser live crlonly\n"
    ));
    w("index.txt", &index);
    w("index.txt.attr", "unique_subject = no\n");
    w("crlnumber", "01\n");
    w("ca.cnf", &format!(
        "[ca]\ndefault_ca=d\n[d]\ndatabase={db}\ncrlnumber={num}\ndefault_md=sha256\ndefault_crl_days=7\ncrl_extensions=crl_ext\n[crl_ext]\nauthorityKeyIdentifier=keyid\n",
        db = d.join("index.txt").display(),
        num = d.join("crlnumber").display()
    ));
    gen_crl(d, "ca.cnf", "ca.crl");

    drop(ocsp_hold);
    let mut responder = Command::new("openssl")
        .args([
            "ocsp",
            "-index",
            "index.txt",
            "-rsigner",
            "resp.crt",
            "-rkey",
            "resp.key",
            "-CA",
            "ca.crt",
            "-ndays",
            "1",
            "-ignore_err",
            "-port",
        ])
        .arg(ocsp_port.to_string())
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl ocsp starts");
    // Ready when it says so (an empty probe connection would wedge OpenSSL 3.0's
    // single-threaded responder).
    let err = responder.stderr.take().expect("stderr");
    wait_for_line(err, "waiting for OCSP client connections", "openssl ocsp");
    Lab {
        dir,
        _procs: vec![Proc(responder)],
        counts,
        crl_port,
    }
}

/// A `tekser serve` process trusting the lab CA, revocation required, fetching from loopback;
/// sharing through Redis when `redis` is given.
fn start_replica(lab: &Lab, name: &str, port: u16, redis: Option<u16>) -> Proc {
    let cache = redis.map_or_else(String::new, |p| {
        format!("[cache]\nredis_url = \"redis://127.0.0.1:{p}\"\n")
    });
    let cfg = lab.dir.join(format!("{name}.toml"));
    std::fs::write(
        &cfg,
        format!(
            "trust = [\"{ca}\"]\nrevocation = \"require\"\n[revocation_options]\nfetch_allow = [\"127.0.0.1\"]\n{cache}",
            ca = lab.dir.join("ca.crt").display()
        ),
    )
    .expect("config");
    let log = std::fs::File::create(lab.dir.join(format!("{name}.log"))).expect("log");
    let child = Command::new(env!("CARGO_BIN_EXE_tekser"))
        .args(["serve", "--config"])
        .arg(&cfg)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("TEKSER_WORKERS", "2")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("tekser serve starts");
    let until = Instant::now() + Duration::from_secs(20);
    while !matches!(http(port, "GET", "/readyz", b""), Ok((200, _))) {
        assert!(
            Instant::now() < until,
            "replica {name} did not become ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Proc(child)
}

/// nginx running the repository's example configuration (`deploy/nginx/tekser.conf`, as an
/// operator installs it in nginx's http context) in front of replicas `a` and `b`, on `front`.
fn start_nginx(lab: &Lab, name: &str, front: u16, [a, b]: [u16; 2]) -> Nginx {
    let dir = lab.dir.join(name);
    std::fs::create_dir_all(&dir).expect("nginx dir");
    let replicas: Vec<std::net::SocketAddr> = [a, b]
        .iter()
        .map(|p| std::net::SocketAddr::from(([127, 0, 0, 1], *p)))
        .collect();
    let conf = render(&dir, front, Some(&replicas));
    let check = nginx_cmd(&dir, &conf).arg("-t").output().expect("nginx -t");
    assert!(
        check.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let proc = Nginx(
        nginx_cmd(&dir, &conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts"),
    );
    let until = Instant::now() + Duration::from_secs(20);
    while !matches!(http(front, "GET", "/healthz", b""), Ok((200, _))) {
        assert!(Instant::now() < until, "nginx on {front} did not answer");
        std::thread::sleep(Duration::from_millis(50));
    }
    proc
}

/// `n` verifications of `doc` through `port` at once (all start together): every result.
fn concurrently(port: u16, doc: &[u8], n: usize) -> Vec<Result<(String, String), String>> {
    let (doc, start) = (Arc::new(doc.to_vec()), Arc::new(std::sync::Barrier::new(n)));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (doc, start) = (Arc::clone(&doc), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                verify(port, &doc)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| {
            t.join()
                .unwrap_or_else(|_| Err("client thread panicked".into()))
        })
        .collect()
}

/// `clients` threads each sending `each` requests one after another; `during(done)` is called
/// once from the main thread when `at` responses have arrived. Every result, in no order.
fn stream(
    port: u16,
    docs: Arc<Vec<Vec<u8>>>,
    clients: usize,
    each: usize,
    at: usize,
    during: impl FnOnce(),
) -> Vec<Result<(String, String), String>> {
    let done = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (docs, done) = (Arc::clone(&docs), Arc::clone(&done));
            std::thread::spawn(move || {
                (0..each)
                    .map(|i| {
                        // Request i of every client asks about document i * len / each: new
                        // documents (new certificates to check) keep coming during the run.
                        let r = verify(port, &docs[i * docs.len() / each]);
                        done.fetch_add(1, Ordering::SeqCst);
                        r
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let until = Instant::now() + Duration::from_secs(120);
    while done.load(Ordering::SeqCst) < at && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(2));
    }
    during();
    threads
        .into_iter()
        .flat_map(|t| t.join().unwrap_or_default())
        .collect()
}

fn all_passed(phase: &str, results: &[Result<(String, String), String>]) {
    let lost: Vec<_> = results
        .iter()
        .filter(|r| !matches!(r, Ok((i, s)) if i == "TOTAL_PASSED" && s == "good"))
        .take(5)
        .collect();
    assert!(
        lost.is_empty(),
        "{phase}: {} of {} requests not TOTAL_PASSED/good, e.g. {lost:?}",
        results
            .iter()
            .filter(|r| !matches!(r, Ok((i, _)) if i == "TOTAL_PASSED"))
            .count(),
        results.len()
    );
}

fn kill(p: &mut Proc) {
    let _ = p.0.kill();
    let _ = p.0.wait();
}

#[test]
fn two_replicas_behind_nginx_share_revocation_through_redis() {
    let lab = build_lab();
    let (redis_port, hold) = reserve_port();
    drop(hold);
    let mut redis = redis_server(&lab.dir, redis_port);
    // Each port is held until its server is about to bind it: a port released early is the
    // next `bind(0)`'s, and the next reservation would get it again.
    let mut holds: Vec<_> = (0..6).map(|_| reserve_port()).collect();
    let [a, b, c, dd, front, front_alone] = [0, 1, 2, 3, 4, 5].map(|i| holds[i].0);
    let mut take = |p: u16| holds.retain(|(q, _)| *q != p);
    take(a);
    let mut replica_a = start_replica(&lab, "a", a, Some(redis_port));
    take(b);
    let _replica_b = start_replica(&lab, "b", b, Some(redis_port));
    take(c);
    let _replica_c = start_replica(&lab, "c", c, None);
    take(dd);
    let _replica_d = start_replica(&lab, "d", dd, None);
    take(front);
    let _nginx = start_nginx(&lab, "nginx", front, [a, b]);
    take(front_alone);
    let _nginx_alone = start_nginx(&lab, "nginx-alone", front_alone, [c, dd]);

    // 1. 200 at once over both replicas: with Redis one upstream request, without two.
    let t = Instant::now();
    let shared = concurrently(front, &lab.doc("shared"), 200);
    let with_redis_ms = t.elapsed().as_millis();
    all_passed("200 concurrent, Redis", &shared);
    let served = |port: u16| {
        metric(
            port,
            "tekser_http_requests_total{route=\"/v1/verify\",code=\"200\"}",
        )
    };
    let (on_a, on_b) = (served(a), served(b));
    assert!(
        on_a > 0.0 && on_b > 0.0,
        "nginx spread the requests: {on_a} on a, {on_b} on b"
    );
    assert_eq!(lab.count("shared"), 1, "upstream OCSP requests with Redis");
    let stores = |p: u16| metric(p, "tekser_shared_cache_operations_total{result=\"store\"}");
    let hits = |p: u16| metric(p, "tekser_shared_cache_operations_total{result=\"hit\"}");
    assert_eq!(stores(a) + stores(b), 1.0, "one replica stored the answer");
    assert_eq!(hits(a) + hits(b), 1.0, "the other read it");
    let t = Instant::now();
    let alone = concurrently(front_alone, &lab.doc("alone"), 200);
    let without_redis_ms = t.elapsed().as_millis();
    all_passed("200 concurrent, no Redis", &alone);
    assert_eq!(
        lab.count("alone"),
        2,
        "upstream OCSP requests without Redis"
    );
    eprintln!(
        "200 concurrent verifications over two replicas: with Redis {} upstream request ({with_redis_ms} ms; {on_a} on a, {on_b} on b), without {} ({without_redis_ms} ms)",
        lab.count("shared"),
        lab.count("alone")
    );

    // 2. A CRL is downloaded once for both replicas.
    let crl = concurrently(front, &lab.doc("crlonly"), 200);
    all_passed("CRL, Redis", &crl);
    assert_eq!(lab.count("crl"), 1, "CRL downloads with Redis");

    // 3. Redis is not trusted: a "good" for the revoked signer, signed by a rogue responder and
    //    written over every OCSP answer in Redis, is refused; the signer stays revoked.
    let revoked = lab.doc("revoked");
    let r = verify(a, &revoked).expect("revoked on a");
    assert_eq!(r, ("TOTAL_FAILED".into(), "revoked".into()));
    let d = lab.dir.as_path();
    openssl(
        d,
        &[
            "ocsp",
            "-issuer",
            "ca.crt",
            "-cert",
            "revoked.crt",
            "-no_nonce",
            "-reqout",
            "revoked.req",
        ],
    );
    std::fs::write(
        d.join("forged-index.txt"),
        std::fs::read_to_string(d.join("index.txt"))
            .expect("index")
            .replace(
                "R\t491231235959Z\t240101000000Z,keyCompromise",
                "V\t491231235959Z\t",
            ),
    )
    .expect("forged index");
    openssl(
        d,
        &[
            "ocsp",
            "-index",
            "forged-index.txt",
            "-rsigner",
            "rogue.crt",
            "-rkey",
            "rogue.key",
            "-CA",
            "ca.crt",
            "-reqin",
            "revoked.req",
            "-respout",
            "forged.der",
            "-ndays",
            "1",
        ],
    );
    // The oracle: OpenSSL reads the forgery as a "good" for the revoked certificate.
    let text = Command::new("openssl")
        .args(["ocsp", "-respin", "forged.der", "-resp_text", "-noverify"])
        .current_dir(d)
        .output()
        .expect("openssl ocsp -respin");
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("Cert Status: good"),
        "the forgery claims good"
    );
    let cli = tool("redis-cli", "redis-tools");
    let keys = Command::new(&cli)
        .args([
            "-p",
            &redis_port.to_string(),
            "--scan",
            "--pattern",
            "tekser:v1:ocsp:*",
        ])
        .output()
        .expect("redis-cli --scan");
    let keys: Vec<String> = String::from_utf8_lossy(&keys.stdout)
        .lines()
        .filter(|k| !k.ends_with(":lock"))
        .map(str::to_owned)
        .collect();
    assert!(keys.len() >= 2, "OCSP answers in Redis: {keys:?}");
    for k in &keys {
        let set = Command::new(&cli)
            .args(["-p", &redis_port.to_string(), "-x", "SET", k])
            .stdin(std::fs::File::open(d.join("forged.der")).expect("forged"))
            .output()
            .expect("redis-cli SET");
        assert!(set.status.success());
    }
    let before = lab.count("revoked");
    let r = verify(b, &revoked).expect("revoked on b");
    assert_eq!(
        r,
        ("TOTAL_FAILED".into(), "revoked".into()),
        "a forged good from Redis"
    );
    assert!(
        metric(
            b,
            "tekser_shared_cache_operations_total{result=\"rejected\"}"
        ) >= 1.0,
        "b refused what it read"
    );
    assert_eq!(
        lab.count("revoked"),
        before + 1,
        "b asked the responder itself"
    );

    // 4. Redis killed mid-run: no request lost; the replicas go on alone.
    let docs: Arc<Vec<Vec<u8>>> = Arc::new((0..8).map(|i| lab.doc(&format!("m{i}"))).collect());
    let results = stream(front, docs, 16, 16, 40, || kill(&mut redis));
    all_passed("Redis killed mid-run", &results);
    assert_eq!(results.len(), 256);
    let after = lab.doc("after");
    for port in [a, b] {
        assert_eq!(
            verify(port, &after).expect("after"),
            ("TOTAL_PASSED".into(), "good".into())
        );
        assert_eq!(metric(port, "tekser_shared_cache_up"), 0.0, "up gauge");
        assert!(
            metric(
                port,
                "tekser_shared_cache_operations_total{result=\"error\"}"
            ) >= 1.0
        );
    }
    // Alone, each replica asks once per signer: at most two requests for each of the nine.
    let redisdown = lab.count("redisdown");
    assert!(
        redisdown <= 18,
        "{redisdown} upstream requests for nine signers"
    );
    eprintln!("Redis killed after 40 of 256 requests: all answered; nine new signers cost {redisdown} upstream requests");
    // A replica started while Redis is unreachable serves too.
    let (e, hold) = reserve_port();
    drop(hold);
    let _replica_e = start_replica(&lab, "e", e, Some(1));
    assert_eq!(
        verify(e, &after).expect("after on e"),
        ("TOTAL_PASSED".into(), "good".into())
    );
    assert_eq!(metric(e, "tekser_shared_cache_up"), 0.0);

    // Redis back: sharing resumes once the replicas try again (5 s after the failure).
    let _redis = redis_server(&lab.dir, redis_port);
    std::thread::sleep(Duration::from_millis(5500));
    let before = lab.count("redisdown");
    let back = concurrently(front, &lab.doc("back"), 50);
    all_passed("Redis back", &back);
    assert_eq!(
        lab.count("redisdown"),
        before + 1,
        "one upstream request again"
    );
    assert_eq!(metric(a, "tekser_shared_cache_up"), 1.0);
    // A status another replica fetched is reported as "cache", not as fetched for this request.
    let seq = lab.doc("seq");
    assert_eq!(revocation_source(a, &seq), "ocsp");
    assert_eq!(revocation_source(b, &seq), "cache");
    assert_eq!(lab.count("redisdown"), before + 2, "b read it from Redis");

    // 5. A replica killed mid-run: nginx retries what it sent there on the other.
    let docs = Arc::new(vec![lab.doc("shared")]);
    let results = stream(front, docs, 16, 16, 60, || kill(&mut replica_a));
    all_passed("replica killed mid-run", &results);
    assert_eq!(results.len(), 256);

    // 6. The background CRL refresh is shared too: two stores (as two replicas' would be) hold
    //    the CRL; a newer one is published; one store downloads it, the other takes it from
    //    Redis. (In-process: the server's refresher runs once a minute.)
    let replica = |name: &str| {
        let mut raw = tekser::config::RawConfig {
            trust: vec![lab.dir.join("ca.crt")],
            ..Default::default()
        };
        raw.revocation_options.fetch_allow.push("127.0.0.1".into());
        raw.cache.redis_url = Some(format!("redis://127.0.0.1:{redis_port}"));
        raw.cache.key_prefix = format!("tekser:refresh-test:{name}:");
        raw.validate().expect("config")
    };
    let (one, two) = (replica("x"), replica("x"));
    let (ca, _) = tekser::pki::trust::load_paths(&[lab.dir.join("ca.crt")]).expect("ca");
    let job = tekser::revocation::FetchJob::Crl {
        url: format!("http://127.0.0.1:{}/ca.crl", lab.crl_port),
        issuer: Some(Arc::new(ca.into_iter().next().expect("ca"))),
    };
    let policy = tekser::crypto::AlgorithmPolicy::default();
    let now = || tekser::pki::time::now();
    let downloads = lab.count("crl");
    for r in [&one, &two] {
        let s = r.verifier.revocation();
        s.run(
            std::slice::from_ref(&job),
            r.fetcher.as_ref(),
            policy,
            now(),
        );
    }
    assert_eq!(lab.count("crl"), downloads + 1, "the CRL downloaded once");
    // A CRL issued a second later (thisUpdate has one-second resolution).
    std::thread::sleep(Duration::from_millis(1100));
    gen_crl(&lab.dir, "ca.cnf", "ca.crl");
    let url = format!("http://127.0.0.1:{}/ca.crl", lab.crl_port);
    for r in [&one, &two] {
        r.verifier
            .revocation()
            .refresh_crl(&url, r.fetcher.as_ref(), policy, now());
    }
    assert_eq!(
        lab.count("crl"),
        downloads + 2,
        "the new CRL downloaded once"
    );
    let s = two.verifier.revocation().stats();
    let sh = s.shared.expect("shared stats");
    assert_eq!(
        (sh.hits, sh.stores),
        (2, 0),
        "the second store read both CRLs"
    );
}
