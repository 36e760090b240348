//! The shared revocation cache (issue #18) against a real `redis-server`, with PKIs made by the
//! OpenSSL CLI: what Redis may hold and what a replica does with it. Most of these began as an
//! independent review's reproductions of faults in the first version (each asserts what the
//! README promises); `tests/scale_out.rs` covers replicas behind nginx.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::loopback::{read_request, redis_server, reserve_port, respond, serve_loopback, Proc};
use support::pki::{gen_crl_by, issue_and_sign, self_signed, CA_EXTS};
use tekser::config::{Config, RawConfig};
use tekser::revocation::FetchJob;

const CA_SUBJECT: &str = "/CN=tekser review3 CA/O=tekser";

struct Lab {
    dir: PathBuf,
    crl_port: u16,
    downloads: Arc<AtomicUsize>,
    _redis: Proc,
    redis_port: u16,
}

impl Lab {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/ca.crl", self.crl_port)
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.redis_port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli");
        assert!(out.status.success(), "redis-cli {args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn set_file(&self, key: &str, file: &str) {
        let out = Command::new("redis-cli")
            .args(["-p", &self.redis_port.to_string(), "-x", "SET", key])
            .stdin(std::fs::File::open(self.dir.join(file)).expect(file))
            .output()
            .expect("redis-cli SET");
        assert!(out.status.success());
    }

    /// `cmdstat_get` calls so far.
    fn gets(&self) -> u64 {
        self.cli(&["INFO", "commandstats"])
            .lines()
            .find_map(|l| l.strip_prefix("cmdstat_get:calls="))
            .and_then(|r| r.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    fn net_out(&self) -> u64 {
        self.cli(&["INFO", "stats"])
            .lines()
            .find_map(|l| l.strip_prefix("total_net_output_bytes:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    /// An in-process replica sharing through the lab's Redis.
    fn store(&self, lock_wait_ms: u64) -> Config {
        let mut raw = RawConfig {
            trust: vec![self.dir.join("ca.crt")],
            ..Default::default()
        };
        raw.revocation_options.fetch_allow.push("127.0.0.1".into());
        raw.cache.redis_url = Some(format!("redis://127.0.0.1:{}", self.redis_port));
        raw.cache.lock_wait_ms = lock_wait_ms;
        raw.validate().expect("config")
    }

    fn job(&self) -> FetchJob {
        let (ca, _) = tekser::pki::trust::load_paths(&[self.dir.join("ca.crt")]).expect("ca");
        FetchJob::Crl {
            url: self.url(),
            issuer: Some(Arc::new(ca.into_iter().next().expect("ca"))),
        }
    }
}

fn ca_db(d: &Path, name: &str, days: u32) {
    std::fs::write(d.join(format!("{name}.index")), "").expect("index");
    std::fs::write(d.join(format!("{name}.crlnumber")), "01\n").expect("crlnumber");
    std::fs::write(
        d.join(format!("{name}.cnf")),
        format!(
            "[ca]\ndefault_ca=d\n[d]\ndatabase={db}\ncrlnumber={num}\ndefault_md=sha256\ndefault_crl_days={days}\ncrl_extensions=crl_ext\n[crl_ext]\nauthorityKeyIdentifier=keyid\n",
            db = d.join(format!("{name}.index")).display(),
            num = d.join(format!("{name}.crlnumber")).display()
        ),
    )
    .expect("cnf");
}

/// `{name}.crl` (DER), issued now by CA `name` from its (empty) database.
fn gen_crl(d: &Path, name: &str) {
    gen_crl_by(d, name, &format!("{name}.cnf"), &format!("{name}.crl"));
}

/// CA `ca` (CRL for 7 days, served at /ca.crl), a rogue CA of the same name whose CRL runs ten
/// years, a leaf of `ca` with only a CRL distribution point, and Redis.
fn build_lab(tag: &str) -> Lab {
    let dir = std::env::temp_dir().join(format!("tekser-shared-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp");
    let d = dir.as_path();
    let crl_dir = dir.clone();
    let (crl_port, downloads) = serve_loopback(move |mut s| {
        let path = read_request(&mut s);
        match std::fs::read(crl_dir.join("ca.crl")) {
            Ok(b) if path == "/ca.crl" => respond(&mut s, "200 OK", &b),
            _ => respond(&mut s, "404 Not Found", b""),
        }
    });
    std::fs::write(d.join("content.txt"), "review3\n").expect("content");
    self_signed(d, "ca", CA_SUBJECT, CA_EXTS);
    self_signed(d, "rogue", CA_SUBJECT, CA_EXTS);
    ca_db(d, "ca", 7);
    ca_db(d, "rogue", 3650);
    gen_crl(d, "ca");
    gen_crl(d, "rogue");
    std::fs::write(
        d.join("leaf.ext"),
        format!("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\ncrlDistributionPoints=URI:http://127.0.0.1:{crl_port}/ca.crl\n"),
    )
    .expect("ext");
    issue_and_sign(d, "leaf", "ca", "0x3001");

    let (redis_port, hold) = reserve_port();
    drop(hold);
    let redis = redis_server(&dir, redis_port);
    Lab {
        dir,
        crl_port,
        downloads,
        _redis: redis,
        redis_port,
    }
}

fn sh_stats(c: &Config) -> tekser::revocation::shared::SharedStats {
    c.verifier
        .revocation()
        .stats()
        .shared
        .expect("shared stats")
}

/// Finding 1. README: "a value that does not verify is counted `rejected` and fetched afresh".
/// A CRL read from Redis is only parsed: a CRL of the issuer's *name* signed by another key (ten
/// years' nextUpdate) is counted a `hit`, cached locally for its own nextUpdate, never fetched
/// afresh, and every later request gets no CRL status from this replica (until restart), even
/// after Redis is cleaned.
#[test]
fn a_crl_from_redis_that_does_not_verify_is_rejected_and_fetched_afresh() {
    let lab = build_lab("forged-crl");
    let probe = lab.store(2000);
    let key = probe
        .verifier
        .revocation()
        .shared()
        .expect("shared")
        .key(&lab.job());
    lab.set_file(&key, "rogue.crl");

    let (port, hold) = reserve_port();
    drop(hold);
    let cfg = lab.dir.join("replica.toml");
    std::fs::write(
        &cfg,
        format!(
            "trust = [\"{ca}\"]\nrevocation = \"require\"\n[revocation_options]\nfetch_allow = [\"127.0.0.1\"]\n[cache]\nredis_url = \"redis://127.0.0.1:{r}\"\n",
            ca = lab.dir.join("ca.crt").display(),
            r = lab.redis_port
        ),
    )
    .expect("config");
    let _replica = Proc(
        Command::new(env!("CARGO_BIN_EXE_tekser"))
            .args(["serve", "--config"])
            .arg(&cfg)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tekser serve"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let until = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("{base}/readyz")).call().is_err() {
        assert!(Instant::now() < until, "replica not ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    let doc = std::fs::read(lab.dir.join("leaf.p7s")).expect("p7s");
    let verify = || -> (String, String) {
        let r = match ureq::post(&format!("{base}/v1/verify"))
            .set("Content-Type", "application/pkcs7-signature")
            .send_bytes(&doc)
        {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        let v: serde_json::Value = r.into_json().expect("json");
        let s = |p: &str| {
            v.pointer(p)
                .and_then(|x| x.as_str())
                .unwrap_or("?")
                .to_owned()
        };
        (s("/indication"), s("/signatures/0/revocation/status"))
    };
    let metric = |sample: &str| -> f64 {
        let body = ureq::get(&format!("{base}/metrics"))
            .call()
            .expect("metrics")
            .into_string()
            .expect("text");
        body.lines()
            .find_map(|l| l.strip_prefix(sample)?.trim().parse().ok())
            .unwrap_or(0.0)
    };
    let first = verify();
    let hits = metric("tekser_shared_cache_operations_total{result=\"hit\"}");
    let rejected = metric("tekser_shared_cache_operations_total{result=\"rejected\"}");
    // Redis cleaned (an operator's FLUSHALL): the replica still holds the forgery.
    lab.cli(&["FLUSHALL"]);
    let second = verify();
    eprintln!(
        "forged CRL in Redis: first {first:?}, after FLUSHALL {second:?}; hit={hits} rejected={rejected}; upstream CRL downloads {}",
        lab.downloads.load(Ordering::SeqCst)
    );
    assert_eq!(
        rejected, 1.0,
        "the forged CRL is counted rejected (hit={hits})"
    );
    assert!(
        lab.downloads.load(Ordering::SeqCst) >= 1,
        "the genuine CRL is fetched afresh"
    );
    assert_eq!(first, ("TOTAL_PASSED".into(), "good".into()));
    assert_eq!(second, ("TOTAL_PASSED".into(), "good".into()));
}

/// Finding 2. README: "The background CRL refresh goes through the same path: one replica
/// downloads the new CRL, the others take it". It holds only when the replica that first
/// downloaded the CRL refreshes first: a replica that read its CRL from Redis has no issuer in
/// `crl_issuers`, so its refresh downloads and stores nothing, and the next replica downloads
/// again. (tests/scale_out.rs step 6 refreshes in the one order that works.)
#[test]
fn a_refresh_by_a_replica_that_read_its_crl_from_redis_is_shared_too() {
    let lab = build_lab("refresh-order");
    let (one, two) = (lab.store(2000), lab.store(2000));
    let job = lab.job();
    let policy = tekser::crypto::AlgorithmPolicy::default();
    let now = tekser::pki::time::now;
    for r in [&one, &two] {
        r.verifier.revocation().run(
            std::slice::from_ref(&job),
            r.fetcher.as_ref(),
            policy,
            now(),
        );
    }
    assert_eq!(
        lab.downloads.load(Ordering::SeqCst),
        1,
        "first download shared"
    );
    std::thread::sleep(Duration::from_millis(1100));
    gen_crl(&lab.dir, "ca");
    let url = lab.url();
    // The replica that read the CRL from Redis refreshes first.
    for r in [&two, &one] {
        r.verifier
            .revocation()
            .refresh_crl(&url, r.fetcher.as_ref(), policy, now());
    }
    let (s1, s2) = (sh_stats(&one), sh_stats(&two));
    eprintln!(
        "refresh, Redis-fed replica first: {} downloads of the new CRL; stores one={} two={}",
        lab.downloads.load(Ordering::SeqCst) - 1,
        s1.stores,
        s2.stores
    );
    assert_eq!(
        lab.downloads.load(Ordering::SeqCst),
        2,
        "the new CRL downloaded once"
    );
}

/// Finding 3. While another replica holds the lock, a waiting replica GETs the whole value
/// every 20 ms (`poll`) and parses it: during a CRL refresh Redis holds the previous CRL (the
/// NCA's are ~20 MB), so each waiter pulls the full CRL ~50 times a second for up to
/// `lock_wait_ms`. Bad values are also counted `rejected` once per poll, not once per lookup.
#[test]
fn a_waiting_replica_does_not_pull_the_whole_value_every_poll() {
    let lab = build_lab("poll");
    let one = lab.store(1000);
    let job = lab.job();
    let policy = tekser::crypto::AlgorithmPolicy::default();
    let now = tekser::pki::time::now;
    let s = one.verifier.revocation();
    s.run(
        std::slice::from_ref(&job),
        one.fetcher.as_ref(),
        policy,
        now(),
    );
    let key = s.shared().expect("shared").key(&job);
    let crl_len = std::fs::metadata(lab.dir.join("ca.crl"))
        .expect("crl")
        .len();
    // Another replica is refreshing (it holds the lock); the CRL in Redis is the one held here.
    lab.cli(&["SET", &format!("{key}:lock"), "1", "PX", "5000"]);
    let (gets, bytes) = (lab.gets(), lab.net_out());
    let t = Instant::now();
    s.refresh_crl(&lab.url(), one.fetcher.as_ref(), policy, now());
    let waited = t.elapsed();
    let (gets, bytes) = (lab.gets() - gets, lab.net_out() - bytes);
    eprintln!(
        "one refresh waiting {waited:?} on another replica's lock: {gets} GETs, {bytes} bytes out of Redis for a {crl_len}-byte CRL ({}x)",
        bytes / crl_len.max(1)
    );

    // A value that fails re-verification, while the lock is held elsewhere: one lookup.
    lab.cli(&["SET", &key, "not a CRL"]);
    lab.cli(&["SET", &format!("{key}:lock"), "1", "PX", "5000"]);
    let two = lab.store(1000);
    let before = sh_stats(&two).rejected;
    two.verifier.revocation().run(
        std::slice::from_ref(&job),
        two.fetcher.as_ref(),
        policy,
        now(),
    );
    let rejected = sh_stats(&two).rejected - before;
    eprintln!("one lookup of a bad value while the lock is held: rejected += {rejected}");
    assert!(gets <= 3, "{gets} GETs of the full CRL during one wait");
    assert_eq!(rejected, 1, "one bad value, one lookup");
}

/// Finding 4 (low). README: "sets `tekser_shared_cache_up` to 0" when Redis is unreachable. A
/// replica started without a reachable Redis reports 1 until a revocation lookup happens.
#[test]
fn an_unreachable_redis_shows_in_the_up_gauge_from_the_start() {
    let server = support::TestServer::start(|raw| {
        raw.cache.redis_url = Some("redis://127.0.0.1:1".into());
    });
    let m = server.call("GET", "/metrics", None, b"").body;
    let up = m
        .lines()
        .find(|l| l.starts_with("tekser_shared_cache_up "))
        .unwrap_or("absent")
        .to_owned();
    eprintln!("Redis on a closed port, before any lookup: {up}");
    assert_eq!(up, "tekser_shared_cache_up 0");
}

/// Finding 5. A CRL download slower than `lock_wait_ms` (2 s by default; the NCA's CRLs are
/// ~20 MB) is not a stuck replica, yet every waiting replica gives up and downloads it too:
/// N replicas, N downloads, the load the issue set out to remove. The holder is bounded by its
/// deadline and its lock expires on its own (deadline + 1 s), so waiting for the lock to go
/// would cost a dead holder's peers no more than that.
#[test]
fn a_slow_but_live_download_is_not_repeated_by_every_replica() {
    let lab = build_lab("slow");
    let crl = std::fs::read(lab.dir.join("ca.crl")).expect("crl");
    let (slow_port, slow_downloads) = serve_loopback(move |mut s| {
        let _ = read_request(&mut s);
        // A large CRL on an ordinary link: 2.5 s.
        std::thread::sleep(Duration::from_millis(2500));
        respond(&mut s, "200 OK", &crl);
    });
    let (ca, _) = tekser::pki::trust::load_paths(&[lab.dir.join("ca.crt")]).expect("ca");
    let job = FetchJob::Crl {
        url: format!("http://127.0.0.1:{slow_port}/ca.crl"),
        issuer: Some(Arc::new(ca.into_iter().next().expect("ca"))),
    };
    // Two replicas with the default lock_wait_ms, missing at the same moment.
    let (one, two) = (
        lab.store(tekser::config::CacheSettings::default().lock_wait_ms),
        lab.store(tekser::config::CacheSettings::default().lock_wait_ms),
    );
    let policy = tekser::crypto::AlgorithmPolicy::default();
    let t = Instant::now();
    std::thread::scope(|s| {
        for r in [&one, &two] {
            let job = &job;
            s.spawn(move || {
                r.verifier.revocation().run(
                    std::slice::from_ref(job),
                    r.fetcher.as_ref(),
                    policy,
                    tekser::pki::time::now(),
                )
            });
        }
    });
    let (s1, s2) = (sh_stats(&one), sh_stats(&two));
    eprintln!(
        "CRL taking 2.5 s, two replicas: {} downloads in {:?}; lock_timeouts {} + {}",
        slow_downloads.load(Ordering::SeqCst),
        t.elapsed(),
        s1.lock_timeouts,
        s2.lock_timeouts
    );
    assert_eq!(slow_downloads.load(Ordering::SeqCst), 1, "one download");
}

#[test]
fn a_slow_redis_cannot_hold_a_fetch_past_the_deadline() {
    let lab = build_lab("drip");
    let (drip_port, contacted) = serve_loopback(|mut s| {
        use std::io::Write;
        let mut b = [0u8; 1024];
        while let Ok(n) = s.read(&mut b) {
            if n == 0 {
                return;
            }
            let reply = format!("${}\r\n{}\r\n", 56, "x".repeat(56));
            for byte in reply.as_bytes() {
                if s.write_all(&[*byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(150));
            }
        }
    });
    let mut raw = RawConfig {
        trust: vec![lab.dir.join("ca.crt")],
        ..Default::default()
    };
    raw.revocation_options.fetch_allow.push("127.0.0.1".into());
    raw.cache.redis_url = Some(format!("redis://127.0.0.1:{drip_port}"));
    let c = raw.validate().expect("config");
    let deadline = c.verifier.revocation().config().deadline;
    let t = Instant::now();
    c.verifier.revocation().run(
        std::slice::from_ref(&lab.job()),
        c.fetcher.as_ref(),
        tekser::crypto::AlgorithmPolicy::default(),
        tekser::pki::time::now(),
    );
    let took = t.elapsed();
    eprintln!(
        "one CRL lookup against a slow Redis: {took:?} (timeout_ms 250, deadline {deadline:?})"
    );
    assert!(took < deadline + Duration::from_secs(1), "{took:?}");
    assert!(
        contacted.load(Ordering::SeqCst) >= 1,
        "the slow Redis was asked"
    );
}

/// A genuine CRL of the same CA for another distribution point, written under this URL's key
/// (what someone who can write to Redis may do with CRLs the CA really published): it verifies,
/// so it is taken, but it covers nothing here. It costs one request, not its whole validity:
/// the replica drops it, downloads the URL (not reading Redis for it) and stores the download
/// over it.
#[test]
fn a_genuine_crl_of_another_distribution_point_in_redis_costs_one_request() {
    let lab = build_lab("other-dp");
    let d = lab.dir.as_path();
    std::fs::write(
        d.join("other.cnf"),
        format!(
            "[ca]\ndefault_ca=d\n[d]\ndatabase={db}\ncrlnumber={num}\ndefault_md=sha256\ndefault_crl_days=7\ncrl_extensions=crl_ext\n[crl_ext]\nauthorityKeyIdentifier=keyid\nissuingDistributionPoint=critical,@idp\n[idp]\nfullname=URI:http://other.example/x.crl\n",
            db = d.join("ca.index").display(),
            num = d.join("ca.crlnumber").display()
        ),
    )
    .expect("cnf");
    gen_crl_by(d, "ca", "other.cnf", "other.crl");
    let mut raw = RawConfig {
        trust: vec![lab.dir.join("ca.crt")],
        revocation: Some("require".into()),
        ..Default::default()
    };
    raw.revocation_options.fetch_allow.push("127.0.0.1".into());
    raw.cache.redis_url = Some(format!("redis://127.0.0.1:{}", lab.redis_port));
    let cfg = raw.validate().expect("config");
    let key = cfg
        .verifier
        .revocation()
        .shared()
        .expect("shared")
        .key(&lab.job());
    lab.set_file(&key, "other.crl");
    let doc = std::fs::read(lab.dir.join("leaf.p7s")).expect("p7s");
    let verify = || {
        let v = cfg.verifier.verify_online(
            &tekser::verify::Input::Cms {
                signature: &doc,
                content: None,
            },
            &cfg.request,
            cfg.fetcher.as_ref(),
        );
        v.indication()
    };
    use tekser::verdict::Indication;
    assert_eq!(
        verify(),
        Indication::INDETERMINATE,
        "the first request: no status"
    );
    assert_eq!(lab.downloads.load(Ordering::SeqCst), 0);
    assert_eq!(verify(), Indication::TOTAL_PASSED, "the next one downloads");
    assert_eq!(lab.downloads.load(Ordering::SeqCst), 1);
    let stored = Command::new("redis-cli")
        .args([
            "-p",
            &lab.redis_port.to_string(),
            "--no-raw",
            "STRLEN",
            &key,
        ])
        .output()
        .expect("redis-cli");
    let len: u64 = String::from_utf8_lossy(&stored.stdout)
        .trim()
        .trim_start_matches("(integer) ")
        .parse()
        .unwrap_or(0);
    assert_eq!(
        len,
        std::fs::metadata(lab.dir.join("ca.crl"))
            .expect("crl")
            .len(),
        "the download replaced it in Redis"
    );
}

/// Not the shared cache's: a downloaded CRL that fails its check (here a look-alike CA's,
/// the same name under another key, valid ten years) is remembered as a failure for
/// `failure_ttl_secs`, not kept for the ten years it claims. Once the distribution point serves
/// the genuine CRL again, the replica sees it.
#[test]
fn a_bad_downloaded_crl_is_forgotten_after_the_failure_ttl() {
    let lab = build_lab("bad-download");
    let d = lab.dir.as_path();
    std::fs::copy(d.join("ca.crl"), d.join("genuine.crl")).expect("keep");
    std::fs::copy(d.join("rogue.crl"), d.join("ca.crl.swap")).expect("swap");
    std::fs::rename(d.join("ca.crl.swap"), d.join("ca.crl")).expect("serve the forgery");
    let mut raw = RawConfig {
        trust: vec![lab.dir.join("ca.crt")],
        revocation: Some("require".into()),
        ..Default::default()
    };
    raw.revocation_options.fetch_allow.push("127.0.0.1".into());
    raw.revocation_options.failure_ttl_secs = 1;
    let cfg = raw.validate().expect("config");
    let doc = std::fs::read(lab.dir.join("leaf.p7s")).expect("p7s");
    let verify = || {
        cfg.verifier
            .verify_online(
                &tekser::verify::Input::Cms {
                    signature: &doc,
                    content: None,
                },
                &cfg.request,
                cfg.fetcher.as_ref(),
            )
            .indication()
    };
    use tekser::verdict::Indication;
    assert_eq!(verify(), Indication::INDETERMINATE, "the forged CRL");
    std::fs::rename(d.join("genuine.crl"), d.join("ca.crl")).expect("serve the genuine CRL");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(verify(), Indication::TOTAL_PASSED, "downloaded again");
    assert_eq!(lab.downloads.load(Ordering::SeqCst), 2);
}
