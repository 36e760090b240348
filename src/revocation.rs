//! Revocation status of every certificate on a validated path: OCSP (RFC 6960) and CRLs
//! (RFC 5280), from data embedded in the signature, given offline, cached, or fetched.
//!
//! The check itself never does I/O. It answers from what it has and lists the fetches that would
//! answer the rest ([`FetchJob`]); the caller runs them ([`RevocationStore::run`] with a
//! [`Fetch`] implementation, on a thread that may block) and checks again. Fetched results land
//! in moka caches: OCSP by CertID until min(nextUpdate, max age), CRLs by URL until nextUpdate,
//! failures for a short while. Concurrent misses for one key share one fetch (`get_with`).

pub mod fetch;
pub mod redis;
pub mod rounds;
pub mod shared;

use crate::crypto::{AlgorithmPolicy, DigestAlgorithm};
use crate::pki::cert::Certificate;
use crate::pki::crl::{Crl, REASON_REMOVE_FROM_CRL};
use crate::pki::ocsp::{self, CertId, CertStatus, Freshness, OcspCheck};
use crate::pki::path::{build_path_within, LeafUsage, PathOptions};
use crate::pki::trust::TrustStore;
use crate::pki::work::Work;
use moka::sync::Cache;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Certificates tried as the signer of a CRL that its issuer did not sign (RFC 5280 §6.3.3
/// (f)): each try hashes the whole CRL, and the candidates may come from a signature's unsigned
/// certificate bag. Real CAs have one or two CRL signing keys at a time.
const MAX_CRL_SIGNER_CANDIDATES: usize = 4;

/// Fetches bytes over the network. Implemented by [`fetch::HttpFetcher`]; tests may use it
/// directly against loopback servers.
pub trait Fetch: Send + Sync {
    /// GET `url`, at most `max` bytes of body.
    fn get(&self, url: &str, max: usize) -> Result<Vec<u8>, String>;
    /// POST `body` as `content_type` to `url`, at most `max` bytes back.
    fn post(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
        max: usize,
    ) -> Result<Vec<u8>, String>;
    /// [`Fetch::get`] that gives up at `deadline` (the verification's revocation deadline).
    /// The default ignores the deadline: implementations that can block should override it.
    fn get_until(&self, url: &str, max: usize, deadline: Instant) -> Result<Vec<u8>, String> {
        let _ = deadline;
        self.get(url, max)
    }
    /// [`Fetch::post`] that gives up at `deadline`.
    fn post_until(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
        max: usize,
        deadline: Instant,
    ) -> Result<Vec<u8>, String> {
        let _ = deadline;
        self.post(url, content_type, body, max)
    }
}

/// Revocation settings (config `[revocation]`).
#[derive(Debug, Clone)]
pub struct RevocationConfig {
    /// Oldest OCSP thisUpdate accepted, relative to the validation time; also the longest an
    /// OCSP answer is cached.
    pub ocsp_max_age: Duration,
    /// Ask with a SHA-1 CertID instead of SHA-256 (for responders that know no better).
    pub ocsp_sha1_cert_id: bool,
    /// Send a nonce (then responses cannot be shared between requests by HTTP caches).
    pub ocsp_nonce: bool,
    /// Retry with GET (RFC 6960 Appendix A.1) when POST fails.
    pub ocsp_get_fallback: bool,
    /// Largest CRL fetched or loaded.
    pub crl_max_bytes: usize,
    /// How long a failed fetch is remembered (at most 60 s, so a dead responder is not hammered
    /// but a revived one is used soon).
    pub failure_ttl: Duration,
    /// Most OCSP answers cached.
    pub ocsp_cache_capacity: u64,
    /// Most CRLs cached (each may be tens of MB).
    pub crl_cache_capacity: u64,
    /// Clock skew tolerated on thisUpdate/nextUpdate.
    pub skew: Duration,
    /// Refresh a cached CRL this long before its nextUpdate.
    pub crl_refresh_margin: Duration,
    /// Time all the revocation fetches of one verification may take together (issue #13
    /// item 6); past it the verification goes on with what it has.
    pub deadline: Duration,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        Self {
            ocsp_max_age: Duration::from_secs(7 * 24 * 3600),
            ocsp_sha1_cert_id: false,
            ocsp_nonce: false,
            ocsp_get_fallback: true,
            crl_max_bytes: 64 << 20,
            failure_ttl: Duration::from_secs(30),
            ocsp_cache_capacity: 100_000,
            crl_cache_capacity: 64,
            skew: Duration::from_secs(300),
            crl_refresh_margin: Duration::from_secs(600),
            // A few seconds: a live OCSP answer takes well under one; a dripping or dead
            // responder must not hold a request (or a CLI run) for minutes.
            deadline: Duration::from_secs(5),
        }
    }
}

/// Where a status came from (CONTRACT.md `revocation.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Fetched from an OCSP responder for this request.
    Ocsp,
    /// From a CRL fetched for this request, or given with `--crl`.
    Crl,
    /// Carried inside the signature.
    Embedded,
    /// From a status fetched earlier.
    Cache,
}

impl Source {
    /// The CONTRACT name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ocsp => "ocsp",
            Self::Crl => "crl",
            Self::Embedded => "embedded",
            Self::Cache => "cache",
        }
    }
}

/// The status of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// good / revoked / unknown.
    pub status: CertStatus,
    /// Where it came from.
    pub source: Source,
    /// OCSP producedAt or CRL thisUpdate.
    pub produced_at: i64,
    /// nextUpdate.
    pub next_update: Option<i64>,
}

/// A fetch that would answer a missing status.
#[derive(Debug, Clone)]
pub enum FetchJob {
    /// Ask an OCSP responder.
    Ocsp {
        /// Responder URL (from the certificate's authorityInfoAccess).
        url: String,
        /// What to ask about.
        id: CertId,
        /// The issuer (validates the answer).
        issuer: Arc<Certificate>,
    },
    /// Download a CRL.
    Crl {
        /// Distribution point URL.
        url: String,
        /// The issuer of the certificate that points to it: a CRL whose signature verifies
        /// under it may be shared with other replicas ([`shared`]); one signed otherwise is
        /// used here (checked at use) but not shared.
        issuer: Option<Arc<Certificate>>,
    },
}

impl FetchJob {
    /// Whether `self` and `other` fetch the same thing (a job run once in a request is not run
    /// again in a later round of it, even if its result fell out of the cache).
    pub fn same(&self, other: &FetchJob) -> bool {
        match (self, other) {
            (Self::Ocsp { url: a, id: i, .. }, Self::Ocsp { url: b, id: j, .. }) => {
                a == b && i == j
            }
            (Self::Crl { url: a, .. }, Self::Crl { url: b, .. }) => a == b,
            _ => false,
        }
    }
}

/// Most fetches of one [`RevocationStore::run_until`] call in flight at once: a certificate's
/// `MAX_CRL_URLS` CRLs together. It bounds the threads one verification adds (at most three
/// beside its own; a round with one job adds none), so that many concurrent requests against
/// slow responders cannot multiply the server's threads; the deadline bounds the rest.
pub const PARALLEL_FETCHES: usize = MAX_CRL_URLS;

/// The fetches of one request: those already run for it (their results are reported with their
/// own source, not as "cache") and those it still wants.
#[derive(Debug)]
pub struct Fetches<'a> {
    /// Run earlier in this request.
    pub done: &'a [FetchJob],
    /// Wanted now.
    pub wanted: Vec<FetchJob>,
    /// The request's signature operations (one budget for every layer; see [`Work`]).
    pub work: Arc<Work>,
}

/// Where one verification run of a request starts: the fetches already run for the request and
/// the request's work budget (one for all its runs: a request with fetch rounds verifies up to
/// four times, and the budget covers them together).
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// Fetches already run for this request.
    pub done: &'a [FetchJob],
    /// The request's work budget.
    pub work: &'a Arc<Work>,
}

impl<'a> Fetches<'a> {
    /// The state of one verification run of a request.
    pub fn new(run: Run<'a>) -> Self {
        Self {
            done: run.done,
            wanted: Vec::new(),
            work: Arc::clone(run.work),
        }
    }

    /// A run outside any request (a time-stamp token checked on its own): a fresh budget.
    pub fn standalone(limits: &crate::limits::Limits) -> Fetches<'static> {
        Fetches {
            done: &[],
            wanted: Vec::new(),
            work: Arc::new(Work::new(limits.max_request_signature_checks)),
        }
    }

    /// A run that fetches nothing (a second look at another time) within the same request:
    /// it spends the same work budget.
    pub fn offline_sharing(&self) -> Fetches<'static> {
        Fetches {
            done: &[],
            wanted: Vec::new(),
            work: Arc::clone(&self.work),
        }
    }
}

/// Data inside the signature (RFC 5940 RevocationInfoChoices, CAdES revocation-values).
#[derive(Debug, Default)]
pub struct Embedded {
    /// Parsed CRLs.
    pub crls: Vec<Arc<Crl>>,
    /// OCSPResponse DER.
    pub ocsp: Vec<Vec<u8>>,
}

/// Outcome for one certificate of the path.
#[derive(Debug, Clone)]
pub enum CertOutcome {
    /// A status was established.
    Known(Finding),
    /// No status: why (no source, fetch failed, stale, …).
    Missing(String),
    /// The certificate is exempt (id-pkix-ocsp-nocheck) or carries no revocation pointers.
    Exempt,
}

#[derive(Debug, Clone)]
enum Cached<T> {
    Ok(T, Duration),
    Failed(String, Duration),
}

impl<T> Cached<T> {
    fn ttl(&self) -> Duration {
        match self {
            Self::Ok(_, d) | Self::Failed(_, d) => *d,
        }
    }
}

struct PerEntry;

impl<K, T> moka::Expiry<K, Arc<Cached<T>>> for PerEntry {
    fn expire_after_create(&self, _: &K, v: &Arc<Cached<T>>, _: Instant) -> Option<Duration> {
        Some(v.ttl())
    }

    // A replaced entry (a refreshed CRL, a bad download turned failure) lives by its own time,
    // not by what was left of the one it replaced (moka's default keeps that).
    fn expire_after_update(
        &self,
        _: &K,
        v: &Arc<Cached<T>>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(v.ttl())
    }
}

/// Counters for /metrics.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct RevocationStats {
    /// OCSP answers held.
    pub ocsp_entries: u64,
    /// Lookups answered from the OCSP cache.
    pub ocsp_hits: u64,
    /// Lookups that found nothing cached.
    pub ocsp_misses: u64,
    /// Requests sent to OCSP responders.
    pub ocsp_fetches: u64,
    /// CRLs held.
    pub crl_entries: u64,
    /// CRL lookups answered from the cache.
    pub crl_hits: u64,
    /// CRL lookups that found nothing cached.
    pub crl_misses: u64,
    /// CRL downloads.
    pub crl_fetches: u64,
    /// Fetches that failed.
    pub fetch_failures: u64,
    /// Verified CRL signatures remembered.
    pub crl_signature_entries: u64,
    /// The earliest nextUpdate (Unix seconds) of the CRLs held, fetched or configured offline;
    /// `None` when none is held or none has a nextUpdate. Operators alert on it: past it, a CRL
    /// that was not refreshed answers nothing.
    pub crl_earliest_next_update: Option<i64>,
    /// The shared cache's counters, when one is configured.
    pub shared: Option<shared::SharedStats>,
}

#[derive(Debug, Default)]
struct Counters {
    ocsp_hits: AtomicU64,
    ocsp_misses: AtomicU64,
    ocsp_fetches: AtomicU64,
    crl_hits: AtomicU64,
    crl_misses: AtomicU64,
    crl_fetches: AtomicU64,
    fetch_failures: AtomicU64,
}

/// Offline CRLs, caches and counters; one per [`crate::verify::Verifier`].
pub struct RevocationStore {
    config: RevocationConfig,
    offline: Vec<Arc<Crl>>,
    ocsp: Cache<CertId, Arc<Cached<ocsp::OcspStatus>>>,
    crls: Cache<String, Arc<Cached<Arc<Crl>>>>,
    /// (CRL fingerprint, signer fingerprint) pairs whose signature verified: a 20 MB CRL is
    /// hashed once, not per request.
    crl_signatures: Cache<([u8; 32], [u8; 32]), bool>,
    counters: Counters,
    /// The cache shared with other replicas, when configured (issue #18).
    shared: std::sync::OnceLock<shared::Shared>,
    /// The certificate whose signature a shared CRL verified under, by URL: the background
    /// refresh stores what it downloads only once it verified under it too.
    crl_issuers: Cache<String, Arc<Certificate>>,
    /// The keys whose cached value was read from the shared cache, not fetched here (reported
    /// as source "cache").
    from_shared: Cache<shared::Marker, ()>,
    /// CRL URLs whose shared value gave no answer ([`RevocationStore::distrust_shared_crls`]):
    /// downloaded, not read from the shared cache, for ten minutes.
    shared_distrusted: Cache<String, ()>,
    shared_counters: shared::Counters,
}

impl std::fmt::Debug for RevocationStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RevocationStore({:?})", self.stats())
    }
}

/// What one check needs from the verifier.
pub struct Context<'a> {
    /// Validation time.
    pub at: i64,
    /// Real current time.
    pub now: i64,
    /// Algorithms.
    pub policy: AlgorithmPolicy,
    /// Anchors (CRL signers other than the issuer must chain to one).
    pub anchors: &'a TrustStore,
    /// Certificates for CRL-signer paths.
    pub pool: &'a [Arc<Certificate>],
    /// Data from the signature.
    pub embedded: &'a Embedded,
    /// Limits for CRL-signer path building.
    pub limits: &'a crate::limits::Limits,
    /// The request's budget: CRL and OCSP signatures and CRL-signer paths are charged to it.
    pub work: &'a Work,
}

const ALL_REASONS: u16 = 0x01FE;
/// ReasonFlags bit of certificateHold (RFC 5280 §4.2.1.13: bit n is reason code n).
const HOLD_BIT: u16 = 1 << 6;

impl RevocationStore {
    /// A store with `offline` CRLs (from `--crl`).
    pub fn new(mut config: RevocationConfig, offline: Vec<Crl>) -> Self {
        // A remembered failure blocks retries: at most a minute, whoever built the config (the
        // file's loader refuses more; here for library callers), bounded once for every use.
        config.failure_ttl = config.failure_ttl.min(Duration::from_secs(60));
        Self {
            ocsp: Cache::builder()
                .max_capacity(config.ocsp_cache_capacity)
                .expire_after(PerEntry)
                .build(),
            crls: Cache::builder()
                .max_capacity(config.crl_cache_capacity)
                .expire_after(PerEntry)
                .build(),
            crl_signatures: Cache::builder().max_capacity(1024).build(),
            offline: offline.into_iter().map(Arc::new).collect(),
            counters: Counters::default(),
            shared: std::sync::OnceLock::new(),
            crl_issuers: Cache::new(config.crl_cache_capacity),
            from_shared: Cache::new(
                config
                    .ocsp_cache_capacity
                    .saturating_add(config.crl_cache_capacity),
            ),
            shared_distrusted: Cache::builder()
                .max_capacity(config.crl_cache_capacity)
                .time_to_live(Duration::from_secs(600))
                .build(),
            shared_counters: shared::Counters::default(),
            config,
        }
    }

    /// Shares fetched revocation data with other replicas through `shared` (once; a second
    /// call is ignored). See [`shared`] for what is stored and how it is trusted.
    pub fn attach_shared(&self, shared: shared::Shared) {
        let _ = self.shared.set(shared);
    }

    /// The shared cache in use, if any.
    pub fn shared(&self) -> Option<&shared::Shared> {
        self.shared.get()
    }

    /// Settings.
    pub fn config(&self) -> &RevocationConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> RevocationStats {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let c = &self.counters;
        RevocationStats {
            ocsp_entries: self.ocsp.entry_count(),
            ocsp_hits: l(&c.ocsp_hits),
            ocsp_misses: l(&c.ocsp_misses),
            ocsp_fetches: l(&c.ocsp_fetches),
            crl_entries: self.crls.entry_count(),
            crl_hits: l(&c.crl_hits),
            crl_misses: l(&c.crl_misses),
            crl_fetches: l(&c.crl_fetches),
            fetch_failures: l(&c.fetch_failures),
            crl_signature_entries: self.crl_signatures.entry_count(),
            // One pass over at most `crl_cache_capacity` entries, at scrape time only.
            crl_earliest_next_update: self
                .crls
                .iter()
                .filter_map(|(_, v)| match v.as_ref() {
                    Cached::Ok(c, _) => c.next_update,
                    Cached::Failed(..) => None,
                })
                .chain(self.offline.iter().filter_map(|c| c.next_update))
                .min(),
            shared: self
                .shared
                .get()
                .map(|s| self.shared_counters.stats(s.cache.up())),
        }
    }

    fn freshness(&self, cx: &Context<'_>, max_age: Option<Duration>) -> Freshness {
        Freshness {
            at: cx.at,
            now: cx.now,
            max_age: max_age.map(|d| d.as_secs() as i64),
            skew: self.config.skew.as_secs() as i64,
        }
    }

    fn cert_id(&self, cert: &Certificate, issuer: &Certificate) -> Option<CertId> {
        let hash = if self.config.ocsp_sha1_cert_id {
            DigestAlgorithm::Sha1
        } else {
            DigestAlgorithm::Sha256
        };
        CertId::new(cert, issuer, hash).ok()
    }

    /// The status of `path[i]` (issued by `path[i + 1]`), or what to fetch.
    ///
    /// Every verified local source is consulted (embedded OCSP, embedded and offline CRLs,
    /// cached OCSP, cached CRLs) and their answers combined by [`decide`]: a revocation in force
    /// at the validation time beats any "good" that was produced no later than it (so a stale
    /// "good" carried in a signature cannot hide a revocation published since), otherwise the
    /// freshest answer wins. `unknown` is no answer: the search goes on to the CRLs. Only when
    /// no local source answers are fetches asked for: OCSP first, CRLs when OCSP is absent,
    /// failed or does not know the certificate.
    pub fn check(
        &self,
        path: &[Arc<Certificate>],
        i: usize,
        cx: &Context<'_>,
        fx: &mut Fetches<'_>,
    ) -> CertOutcome {
        let jobs = &mut fx.wanted;
        let done = fx.done;
        let (Some(cert), Some(issuer)) = (path.get(i), path.get(i + 1)) else {
            return CertOutcome::Exempt;
        };
        if cert.ext.ocsp_no_check {
            return CertOutcome::Exempt;
        }
        let id = self.cert_id(cert, issuer);
        let ocsp_fresh = self.freshness(cx, Some(self.config.ocsp_max_age));
        let mut why: Vec<String> = Vec::new();
        // Verified answers for this certificate, `unknown` included (kept to report it when
        // nothing else answers).
        let mut found: Vec<Finding> = Vec::new();

        // 1. Embedded OCSP responses.
        for der in &cx.embedded.ocsp {
            // Checking a response verifies its signature: charged to the request.
            if cx.work.charge().is_err() {
                break;
            }
            let check = OcspCheck {
                id: id.as_ref(),
                nonce: None,
                freshness: Some(self.freshness(cx, None)),
                at: cx.at,
                policy: cx.policy,
            };
            match ocsp::validate(der, issuer, &check) {
                // An answer without nextUpdate (on-demand responders) is current only within
                // ocsp_max_age of the validation time, embedded or fetched: a signer could
                // otherwise keep an old "good" and sign after the revocation.
                Ok(s)
                    if s.next_update.is_none()
                        && s.this_update.saturating_add(
                            i64::try_from(self.config.ocsp_max_age.as_secs()).unwrap_or(i64::MAX),
                        ) < cx.at =>
                {
                    why.push(
                        "embedded OCSP response has no nextUpdate and is older than ocsp_max_age"
                            .into(),
                    );
                }
                Ok(s) => found.push(finding(&s, Source::Embedded)),
                Err(ocsp::OcspError::CertIdMismatch) => {}
                Err(e) => why.push(format!("embedded OCSP response: {e}")),
            }
        }
        // 2. Embedded, then offline CRLs (with the embedded ones, for deltas).
        if !cx.embedded.crls.is_empty() {
            match self.status_from_crls(cert, issuer, &cx.embedded.crls, cx) {
                Ok(Some(mut f)) => {
                    f.source = Source::Embedded;
                    found.push(f);
                }
                Ok(None) => {}
                Err(e) => why.push(format!("embedded {e}")),
            }
        }
        if !self.offline.is_empty() {
            let local: Vec<Arc<Crl>> = cx
                .embedded
                .crls
                .iter()
                .chain(self.offline.iter())
                .cloned()
                .collect();
            match self.status_from_crls(cert, issuer, &local, cx) {
                Ok(Some(f)) => found.push(f),
                Ok(None) => {}
                Err(e) => why.push(e),
            }
        }
        // 3. Cached OCSP. `ocsp_failed`: no OCSP answer will come from fetching (failed, stale
        // or `unknown`), so the CRLs are wanted.
        let mut ocsp_failed = false;
        if let Some(id) = &id {
            match self.ocsp.get(id).as_deref() {
                Some(Cached::Ok(s, _)) => {
                    if ocsp_fresh.check(s.this_update, s.next_update).is_ok() {
                        self.counters.ocsp_hits.fetch_add(1, Ordering::Relaxed);
                        // Read from the shared cache, it was fetched earlier (by another
                        // replica): "cache", not "ocsp", even in the request that looked.
                        let fresh = done
                            .iter()
                            .any(|j| matches!(j, FetchJob::Ocsp { id: d, .. } if d == id))
                            && !self.came_from_shared(|| shared::Marker::Ocsp(id.clone()));
                        let source = if fresh { Source::Ocsp } else { Source::Cache };
                        found.push(finding(s, source));
                        ocsp_failed = s.status == CertStatus::Unknown;
                    } else {
                        why.push(
                            "cached OCSP answer is not current for the validation time".into(),
                        );
                        ocsp_failed = true;
                    }
                }
                Some(Cached::Failed(e, _)) => {
                    self.counters.ocsp_hits.fetch_add(1, Ordering::Relaxed);
                    why.push(e.clone());
                    ocsp_failed = true;
                }
                None => {
                    if !cert.ext.ocsp_urls.is_empty() {
                        self.counters.ocsp_misses.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        // 4. Cached CRLs from the distribution points (at most `MAX_CRL_URLS` of them).
        let urls: Vec<&str> = cert
            .ext
            .crl_distribution_points
            .iter()
            .flat_map(|dp| dp.urls())
            .filter(|u| is_fetchable(u))
            .take(MAX_CRL_URLS)
            .collect();
        let mut cached_crls = Vec::new();
        // Where each of them came from (base and delta URLs).
        let mut cached_from: Vec<String> = Vec::new();
        let mut crl_missing = Vec::new();
        // Delta CRLs named by a verified base that could not be fetched: the base alone may
        // miss recent revocations, so its "good" is no answer (issue #13 item 3).
        let mut delta_failed: Vec<String> = Vec::new();
        for u in &urls {
            match self.crls.get(*u).as_deref() {
                Some(Cached::Ok(c, _)) => {
                    self.counters.crl_hits.fetch_add(1, Ordering::Relaxed);
                    cached_crls.push(Arc::clone(c));
                    cached_from.push((*u).to_owned());
                    // Delta CRLs named by the CRL itself: followed only once the CRL's signature
                    // verified, so a tampered download cannot point the fetcher anywhere.
                    let signed = self.crl_signed(c, issuer, &[], cx, 0).is_ok();
                    for d in c
                        .freshest
                        .iter()
                        .filter(|_| signed)
                        .flat_map(|dp| dp.urls())
                        .filter(|d| is_fetchable(d))
                        .take(MAX_CRL_URLS)
                    {
                        match self.crls.get(d).as_deref() {
                            Some(Cached::Ok(dc, _)) => {
                                cached_crls.push(Arc::clone(dc));
                                cached_from.push(d.to_owned());
                            }
                            Some(Cached::Failed(e, _)) => {
                                delta_failed.push(format!("delta CRL unavailable: {e}"));
                            }
                            None => crl_missing.push(d.to_owned()),
                        }
                    }
                }
                Some(Cached::Failed(e, _)) => why.push(e.clone()),
                None => {
                    self.counters.crl_misses.fetch_add(1, Ordering::Relaxed);
                    crl_missing.push((*u).to_owned());
                }
            }
        }
        if !cached_crls.is_empty() {
            match self.status_from_crls(cert, issuer, &cached_crls, cx) {
                Ok(Some(mut f)) => {
                    let fresh = done.iter().any(|j| {
                        matches!(j, FetchJob::Crl { url, .. } if urls.contains(&url.as_str())
                            && !self.came_from_shared(|| shared::Marker::Crl(url.clone())))
                    });
                    f.source = if fresh { Source::Crl } else { Source::Cache };
                    // A revocation stands on its own; a "good" needs the complete picture
                    // (every delta the base names).
                    if f.status != CertStatus::Good
                        || (crl_missing.is_empty() && delta_failed.is_empty())
                    {
                        found.push(f);
                    }
                }
                Ok(None) => {
                    why.push("no cached CRL covers the certificate".into());
                    crl_missing.extend(self.distrust_shared_crls(&cached_from));
                }
                Err(e) => {
                    // (A check cut short by the request's budget says nothing of the CRLs.)
                    if !cx.work.refused() {
                        crl_missing.extend(self.distrust_shared_crls(&cached_from));
                        self.forget_bad_downloads(&cached_from, issuer, &cached_crls, cx);
                    }
                    why.push(e);
                }
            }
        }
        why.append(&mut delta_failed);
        if let Some(f) = decide(&found, cx.at) {
            return CertOutcome::Known(f);
        }
        // 5. What to fetch: OCSP first; CRLs when OCSP is absent, failed or said `unknown`.
        let ocsp_url = cert.ext.ocsp_urls.iter().find(|u| is_fetchable(u));
        match (&id, ocsp_url, ocsp_failed) {
            (Some(id), Some(url), false) => {
                jobs.push(FetchJob::Ocsp {
                    url: url.clone(),
                    id: id.clone(),
                    issuer: Arc::clone(issuer),
                });
                return CertOutcome::Missing("OCSP status not fetched yet".into());
            }
            _ => {
                for u in crl_missing {
                    jobs.push(FetchJob::Crl {
                        url: u,
                        issuer: Some(Arc::clone(issuer)),
                    });
                }
            }
        }
        // Nothing but `unknown`: reported as such (a warning under prefer, TRY_LATER under
        // require) once the CRLs have had their chance.
        if let Some(f) = found.into_iter().find(|f| f.status == CertStatus::Unknown) {
            if why.is_empty() {
                return CertOutcome::Known(f);
            }
            why.push(format!(
                "the {} source does not know the certificate",
                f.source.as_str()
            ));
        }
        if cert.ext.ocsp_urls.is_empty() && urls.is_empty() && why.is_empty() {
            // The caller prefixes the certificate's subject: naming it here too repeated it.
            return CertOutcome::Missing(
                "it names no OCSP responder or CRL distribution point, and no CRL given covers it"
                    .into(),
            );
        }
        CertOutcome::Missing(if why.is_empty() {
            "no revocation source answered".into()
        } else {
            why.join("; ")
        })
    }

    /// Status from complete CRLs (plus matching deltas) among `crls` that cover `cert`.
    /// `Ok(None)`: none covers it (for all reasons); `Err`: a covering CRL was unusable.
    fn status_from_crls(
        &self,
        cert: &Certificate,
        issuer: &Arc<Certificate>,
        crls: &[Arc<Crl>],
        cx: &Context<'_>,
    ) -> Result<Option<Finding>, String> {
        self.status_from_crls_at(cert, issuer, crls, cx, 0)
    }

    fn status_from_crls_at(
        &self,
        cert: &Certificate,
        issuer: &Arc<Certificate>,
        crls: &[Arc<Crl>],
        cx: &Context<'_>,
        depth: u8,
    ) -> Result<Option<Finding>, String> {
        let fresh = self.freshness(cx, None);
        let mut covered: u16 = 0;
        let mut errors = Vec::new();
        let mut best: Option<Finding> = None;
        let mut holds: Vec<Finding> = Vec::new();
        let mut hold_lifter: Option<Finding> = None;
        for (c, dp_reasons) in crls
            .iter()
            .filter(|c| c.delta_base.is_none())
            .filter_map(|c| c.scope(cert).map(|r| (c, r)))
        {
            if let Err(e) = fresh.check(c.this_update, c.next_update) {
                errors.push(format!("CRL of {}: {e}", c.issuer));
                continue;
            }
            if let Err(e) = self.crl_signed(c, issuer, crls, cx, depth) {
                errors.push(format!("CRL of {}: {e}", c.issuer));
                continue;
            }
            let reasons = c
                .idp
                .as_ref()
                .and_then(|i| i.point.reasons)
                .unwrap_or(ALL_REASONS)
                & dp_reasons;
            // A delta CRL for this base: same issuer and scope, newer, based on this or older.
            let delta = crls.iter().find(|d| {
                d.delta_base.as_deref().is_some_and(|b| {
                    c.crl_number.as_deref().is_some_and(|n| {
                        num_le(b, n) && d.crl_number.as_deref().is_some_and(|dn| !num_le(dn, n))
                    })
                }) && d.issuer_norm == c.issuer_norm
                    && d.idp == c.idp
                    && fresh.check(d.this_update, d.next_update).is_ok()
                    && self.crl_signed(d, issuer, crls, cx, depth).is_ok()
            });
            // A base that names delta CRLs (freshestCRL) says "good" only together with the
            // current delta: alone it would hide every revocation since its thisUpdate. This
            // holds for embedded and offline CRLs as for fetched ones (a revocation on the base
            // still counts).
            let needs_delta = delta.is_none() && !c.freshest.is_empty();
            let mut status = CertStatus::Good;
            let mut from = c;
            if let Some(d) = delta {
                from = d;
                if let Some(e) = d.lookup(&cert.serial, &cert.issuer_norm) {
                    if e.reason != Some(REASON_REMOVE_FROM_CRL) {
                        status = CertStatus::Revoked {
                            at: e.revoked_at,
                            reason: e.reason,
                        };
                    }
                } else if let Some(e) = c.lookup(&cert.serial, &cert.issuer_norm) {
                    status = CertStatus::Revoked {
                        at: e.revoked_at,
                        reason: e.reason,
                    };
                }
            } else if let Some(e) = c.lookup(&cert.serial, &cert.issuer_norm) {
                if e.reason == Some(REASON_REMOVE_FROM_CRL) {
                    // RFC 5280 §5.3.1: removeFromCRL belongs in delta CRLs only. A complete CRL
                    // that lists the certificate so says nothing usable about it.
                    errors.push(format!(
                        "CRL of {} lists the certificate with removeFromCRL, which only a delta CRL may",
                        c.issuer
                    ));
                    continue;
                }
                status = CertStatus::Revoked {
                    at: e.revoked_at,
                    reason: e.reason,
                };
            }
            let f = Finding {
                status,
                source: Source::Crl,
                produced_at: from.this_update,
                next_update: from.next_update,
            };
            match status {
                // A hold may be lifted by a newer CRL that no longer lists the certificate:
                // weighed against the "good"s below (README, "Combining sources").
                CertStatus::Revoked {
                    reason: Some(REASON_CERTIFICATE_HOLD),
                    ..
                } => holds.push(f),
                CertStatus::Revoked { .. } => return Ok(Some(f)),
                _ if needs_delta => errors.push(format!(
                    "CRL of {} names a delta CRL that is not available, so its \"good\" is no answer",
                    c.issuer
                )),
                _ => {
                    covered |= reasons;
                    // Only a CRL whose scope includes certificateHold can say a hold was lifted
                    // (one partitioned by reasons elsewhere says nothing about holds).
                    if reasons & HOLD_BIT != 0
                        && hold_lifter
                            .as_ref()
                            .is_none_or(|b: &Finding| f.produced_at > b.produced_at)
                    {
                        hold_lifter = Some(f.clone());
                    }
                    if best.as_ref().is_none_or(|b| f.produced_at > b.produced_at) {
                        best = Some(f);
                    }
                }
            }
        }
        if covered & ALL_REASONS == ALL_REASONS {
            if holds.is_empty() {
                return Ok(best);
            }
            holds.extend(hold_lifter);
            return Ok(decide(&holds, cx.at));
        }
        if !holds.is_empty() {
            return Ok(decide(&holds, cx.at));
        }
        if errors.is_empty() {
            Ok(None)
        } else {
            Err(errors.join("; "))
        }
    }

    /// The CRL is signed by the issuer, or by another certificate of the CRL issuer's name with
    /// cRLSign that chains to a trust anchor (RFC 5280 §6.3.3 (f)).
    fn crl_signed(
        &self,
        crl: &Crl,
        issuer: &Arc<Certificate>,
        crls: &[Arc<Crl>],
        cx: &Context<'_>,
        depth: u8,
    ) -> Result<(), String> {
        let memo = |signer: &Certificate| (crl.fingerprint, signer.fingerprint);
        // Why the issuer's own signature check failed (a SHA-1 CRL says so, not "no signer").
        let mut by_issuer = None;
        if crl.issuer_norm == issuer.subject_norm {
            let charge = || cx.work.charge().map_err(|e| e.to_string());
            match self.crl_signature(crl, issuer, cx.policy, charge)? {
                Ok(()) => return Ok(()),
                Err(e) => by_issuer = Some(format!("CRL signature by its issuer: {e}")),
            }
        }
        // Another signer must itself validate, and (one level deep) not be revoked.
        if depth > 1 {
            return Err(by_issuer.unwrap_or_else(|| "CRL not signed by the issuer".into()));
        }
        let mut last = by_issuer
            .unwrap_or_else(|| "no certificate of the CRL issuer verifies its signature".into());
        // The pool includes the unsigned `certificates` of a CMS, and each signature check
        // hashes the whole CRL: at most this many candidates are tried.
        let mut tries = 0usize;
        for cand in cx.pool.iter().filter(|c| {
            c.subject_norm == crl.issuer_norm
                && c.fingerprint != issuer.fingerprint
                && c.ext
                    .key_usage
                    .is_none_or(|ku| ku & crate::pki::cert::key_usage::CRL_SIGN != 0)
        }) {
            // The memo records only that the signature verified under this key (bytes and key
            // decide that); the signer's path and revocation depend on the validation time and
            // the anchors, so they are checked every time.
            if self.crl_signatures.get(&memo(cand)) != Some(true) {
                if tries >= MAX_CRL_SIGNER_CANDIDATES {
                    last = format!(
                        "{last} (stopped after {MAX_CRL_SIGNER_CANDIDATES} candidate signers)"
                    );
                    break;
                }
                tries += 1;
                cx.work.charge().map_err(|e| e.to_string())?;
                if let Err(e) = crl.verify_signed_by(cand, &cx.policy) {
                    last = e.to_string();
                    continue;
                }
                self.crl_signatures.insert(memo(cand), true);
            }
            let opts = PathOptions::new(cx.at, cx.policy, LeafUsage::Any, cx.limits);
            match build_path_within(cand, cx.anchors, cx.pool, &opts, cx.work) {
                Ok(p) => {
                    let certs = p.certs();
                    let checked = if depth == 0 {
                        certs.len().saturating_sub(1)
                    } else {
                        0
                    };
                    // Each certificate with its issuer (the next one), the anchor excluded.
                    let revoked = certs.windows(2).take(checked).find_map(|pair| {
                        let [c, issuer] = pair else { return None };
                        match self.status_from_crls_at(c, issuer, crls, cx, depth + 1) {
                            Ok(Some(Finding {
                                status: CertStatus::Good,
                                ..
                            })) => None,
                            Ok(Some(_)) => {
                                Some(format!("CRL signer {} is revoked", c.subject.rfc4514))
                            }
                            _ => Some(format!(
                                "no revocation status for CRL signer {}",
                                c.subject.rfc4514
                            )),
                        }
                    });
                    if let Some(why) = revoked {
                        last = why;
                        continue;
                    }
                    return Ok(());
                }
                Err(e) => last = format!("CRL signer certificate does not validate: {e}"),
            }
        }
        Err(last)
    }

    /// Runs `jobs` (deduplicated), caching results; concurrent callers with the same key wait
    /// for one fetch. Call it where blocking is allowed (not on a CPU pool thread). Gives up
    /// after the configured revocation deadline.
    pub fn run(&self, jobs: &[FetchJob], fetcher: &dyn Fetch, policy: AlgorithmPolicy, now: i64) {
        let deadline = Instant::now() + self.config.deadline;
        self.run_until(jobs, fetcher, policy, now, deadline);
    }

    /// [`RevocationStore::run`] under the verification's own `deadline`: the jobs run
    /// concurrently (at most `PARALLEL_FETCHES` at once) and each fetch gives up at the
    /// deadline. A failure caused by the deadline is not cached (it says nothing about the
    /// responder, and another request may have more time).
    pub fn run_until(
        &self,
        jobs: &[FetchJob],
        fetcher: &dyn Fetch,
        policy: AlgorithmPolicy,
        now: i64,
        deadline: Instant,
    ) {
        let mut unique: Vec<&FetchJob> = Vec::new();
        for j in jobs {
            if !unique.iter().any(|u| u.same(j)) {
                unique.push(j);
            }
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let worker = || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = unique.get(i) else {
                return;
            };
            if Instant::now() >= deadline {
                return;
            }
            self.run_one(job, fetcher, policy, now, deadline);
        };
        let workers = unique.len().min(PARALLEL_FETCHES);
        if workers <= 1 {
            worker();
            return;
        }
        std::thread::scope(|s| {
            for _ in 1..workers {
                s.spawn(worker);
            }
            worker();
        });
    }

    fn run_one(
        &self,
        job: &FetchJob,
        fetcher: &dyn Fetch,
        policy: AlgorithmPolicy,
        now: i64,
        deadline: Instant,
    ) {
        // A key already cached (by an earlier job, or by another request) is returned as is;
        // concurrent misses share one fetch, and with a shared cache one replica's fetch serves
        // the others.
        let keep = |failed: bool| !(failed && Instant::now() >= deadline);
        match job {
            FetchJob::Ocsp { url, id, issuer } => {
                self.ocsp.optionally_get_with_by_ref(id, || {
                    let fetch = || self.fetch_ocsp(url, id, issuer, fetcher, policy, now, deadline);
                    // A response to our nonce answers only us: nothing to share.
                    let r = if self.config.ocsp_nonce {
                        fetch().0
                    } else {
                        let check = |der: &[u8]| {
                            self.validated_ocsp(der, issuer, id, None, policy, now)
                                .map(Some)
                                .map_err(|e| e.to_string())
                        };
                        self.through_shared(job, deadline, true, check, fetch)
                    };
                    keep(matches!(r, Cached::Failed(..))).then(|| Arc::new(r))
                });
            }
            FetchJob::Crl { url, issuer } => {
                self.crls.optionally_get_with_by_ref(url, || {
                    let fetch =
                        || self.fetch_crl_to_share(url, issuer, fetcher, policy, now, deadline);
                    let check = |der: &[u8]| self.shared_crl(url, issuer, der, None, policy, now);
                    let read = !self.shared_distrusted.contains_key(url);
                    let r = self.through_shared(job, deadline, read, check, fetch);
                    keep(matches!(r, Cached::Failed(..))).then(|| Arc::new(r))
                });
            }
        }
    }

    /// Downloads a CRL; with it, its DER when it may be shared (its signature verified under
    /// the issuer of the certificate that pointed to it). That issuer is remembered for the
    /// background refresh, which stores what it downloads too.
    fn fetch_crl_to_share(
        &self,
        url: &str,
        issuer: &Option<Arc<Certificate>>,
        fetcher: &dyn Fetch,
        policy: AlgorithmPolicy,
        now: i64,
        deadline: Instant,
    ) -> (Cached<Arc<Crl>>, Option<Vec<u8>>) {
        let r = self.fetch_crl(url, fetcher, now, deadline);
        // Without a shared cache nothing is verified here: the check verifies (and charges to
        // the request's budget) what it uses.
        if self.shared.get().is_none() {
            return (r, None);
        }
        let share = match (&r, issuer) {
            (Cached::Ok(c, _), Some(i)) if self.crl_verified_by(c, i, policy) => {
                self.crl_issuers.insert(url.to_owned(), Arc::clone(i));
                Some(c.der().to_vec())
            }
            _ => None,
        };
        (r, share)
    }

    /// Answers one fetch job, through the shared cache when one is configured (else `fetch`
    /// alone). A value found there (looked for when `read`) is re-verified by `check` as if
    /// just downloaded (`Ok(None)`: genuine but not wanted). When there is none, one replica takes the key's lock and
    /// fetches upstream while the others wait for it (at most `lock_wait`, then they fetch
    /// themselves). What a replica fetched and verified is stored: `fetch` returns the bytes
    /// to store only when they verified. Any failure of the shared cache means fetching
    /// alone, as without it.
    fn through_shared<T>(
        &self,
        job: &FetchJob,
        deadline: Instant,
        read: bool,
        check: impl Fn(&[u8]) -> Result<Option<(T, Duration)>, String>,
        fetch: impl FnOnce() -> (Cached<T>, Option<Vec<u8>>),
    ) -> Cached<T> {
        let Some(sh) = self.shared.get() else {
            return fetch().0;
        };
        // Whether the answer came from the shared cache, for the source reported.
        let marker = shared::Marker::of(job);
        let r = self.through_shared_inner(sh, job, deadline, read, check, fetch);
        match &r {
            (Cached::Ok(..), true) => self.from_shared.insert(marker, ()),
            _ => self.from_shared.invalidate(&marker),
        }
        r.0
    }

    /// [`RevocationStore::through_shared`] with the shared cache `sh`; also says whether the
    /// answer came from it.
    fn through_shared_inner<T>(
        &self,
        sh: &shared::Shared,
        job: &FetchJob,
        deadline: Instant,
        read: bool,
        check: impl Fn(&[u8]) -> Result<Option<(T, Duration)>, String>,
        fetch: impl FnOnce() -> (Cached<T>, Option<Vec<u8>>),
    ) -> (Cached<T>, bool) {
        use shared::Counters as C;
        /// What one look found.
        enum Look<T> {
            Hit(Cached<T>),
            /// Nothing under the key.
            Absent,
            /// A value that failed `check` or is not wanted: looking again soon is no use.
            Unusable,
            /// The shared cache did not answer.
            Down,
        }
        let c = &self.shared_counters;
        let key = sh.key(job);
        let lock_key = format!("{key}:lock");
        // The most a value of this kind can be: what a fetch of it accepts.
        let max = match job {
            FetchJob::Ocsp { .. } => ocsp::MAX_RESPONSE_BYTES,
            FetchJob::Crl { .. } => self.config.crl_max_bytes,
        };
        let look = || match sh.cache.get(&key, max) {
            Ok(Some(der)) => match check(&der) {
                Ok(Some((t, ttl))) => {
                    C::bump(&c.hits);
                    Look::Hit(Cached::Ok(t, ttl))
                }
                // Genuine but not what is wanted (a refresh finds the CRL it has).
                Ok(None) => Look::Unusable,
                Err(why) => {
                    // Not what it claims (or no longer valid): fetched afresh, and the fresh
                    // value replaces it. Said in the log: it may be tampering.
                    C::bump(&c.rejected);
                    sh.cache.rejected(&key, &why);
                    Look::Unusable
                }
            },
            Ok(None) => Look::Absent,
            Err(_) => {
                C::bump(&c.errors);
                Look::Down
            }
        };
        let store = |r: Cached<T>, share: Option<Vec<u8>>| {
            if let (Cached::Ok(_, ttl), Some(der)) = (&r, share) {
                match sh.cache.put(&key, &der, *ttl) {
                    Ok(()) => C::bump(&c.stores),
                    Err(_) => C::bump(&c.errors),
                }
            }
            (r, false)
        };
        // Not read (a value there proved useless): fetched under the lock, and stored over it.
        let first = match if read { look() } else { Look::Unusable } {
            Look::Hit(hit) => return (hit, true),
            Look::Down => return (fetch().0, false),
            Look::Absent => {
                C::bump(&c.misses);
                Look::Absent
            }
            other => other,
        };
        // The lock lives as long as the holder's fetch may (its deadline), plus a second;
        // a holder that dies leaves it to expire.
        let hold = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
        let until = deadline.min(Instant::now() + sh.lock_wait);
        let mut waited = false;
        loop {
            match sh.cache.try_lock(&lock_key, hold) {
                Ok(Some(token)) => {
                    // Look once more where the value may have changed since the first look:
                    // another replica stored it and let go of the lock (we waited for it, or it
                    // happened between our first look and the lock). One GET costs Redis a
                    // round trip, a second fetch would cost the responder. A value already
                    // found unusable and not waited on is not pulled again.
                    let again = read && (waited || matches!(first, Look::Absent));
                    let r = match again.then(look) {
                        Some(Look::Hit(hit)) => (hit, true),
                        _ => {
                            let (r, share) = fetch();
                            store(r, share)
                        }
                    };
                    sh.cache.unlock(&lock_key, token);
                    return r;
                }
                // Another replica is fetching. Waiting polls only the small lock key: the
                // value (a CRL may be 20 MB) is read once, after the lock is free.
                Ok(None) => {
                    if !waited {
                        C::bump(&c.lock_waits);
                        waited = true;
                    }
                }
                Err(_) => {
                    C::bump(&c.errors);
                    return (fetch().0, false);
                }
            }
            if Instant::now() + sh.poll >= until {
                // The other replica did not finish in time: fetch alone (and share the result).
                C::bump(&c.lock_timeouts);
                let (r, share) = fetch();
                return store(r, share);
            }
            std::thread::sleep(sh.poll);
        }
    }

    /// Whether the cached value under `marker` was read from the shared cache (no key is built
    /// without one).
    fn came_from_shared(&self, marker: impl FnOnce() -> shared::Marker) -> bool {
        self.shared.get().is_some() && self.from_shared.contains_key(&marker())
    }

    /// CRLs read from the shared cache that gave no answer for a certificate their URL is
    /// for: genuine (they verified under the issuer) but not what that URL serves (another
    /// distribution point's, a delta under a base's key, one that lost a revocation... put
    /// there by whoever can write to Redis). Each is dropped here, and its URL downloaded
    /// (Redis not read) for a while: the download is stored over it. Returns the URLs to
    /// fetch. Without this, such a CRL would stand in for a download until its nextUpdate.
    fn distrust_shared_crls(&self, urls: &[String]) -> Vec<String> {
        let mut refetch = Vec::new();
        if self.shared.get().is_none() {
            return refetch;
        }
        for u in urls {
            let marker = shared::Marker::Crl(u.clone());
            if self.from_shared.contains_key(&marker) {
                self.crls.invalidate(u);
                self.from_shared.invalidate(&marker);
                self.shared_distrusted.insert(u.clone(), ());
                refetch.push(u.clone());
            }
        }
        refetch
    }

    /// Downloaded CRLs that are bad in themselves (past their nextUpdate, or not signed as
    /// they must be: a tampered download) are remembered as a failure for `failure_ttl`, not
    /// kept until the nextUpdate they claim: one bad download must not blind the replica to
    /// revocation for as long as its forger chose. A CRL that only lacks its delta, or does not
    /// cover the certificate, is kept. (Read from the shared cache, they were already dropped.)
    fn forget_bad_downloads(
        &self,
        urls: &[String],
        issuer: &Arc<Certificate>,
        crls: &[Arc<Crl>],
        cx: &Context<'_>,
    ) {
        for u in urls {
            if self.came_from_shared(|| shared::Marker::Crl(u.clone())) {
                continue;
            }
            let Some(Cached::Ok(c, _)) = self.crls.get(u).as_deref().cloned() else {
                continue;
            };
            let why = if c.next_update.is_some_and(|n| n <= cx.now) {
                "its nextUpdate has passed".to_owned()
            } else {
                // Memoised for a CRL that verified: only a bad one costs a signature check.
                match self.crl_signed(&c, issuer, crls, cx, 0) {
                    Ok(()) => continue,
                    // A check cut short by the budget says nothing of the CRL.
                    Err(_) if cx.work.refused() => return,
                    Err(e) => e,
                }
            };
            self.crls.insert(
                u.clone(),
                Arc::new(Cached::Failed(
                    format!("CRL {u}: {why}"),
                    self.config.failure_ttl,
                )),
            );
        }
    }

    /// A CRL read from the shared cache for `url`, checked as a download is and more: it must
    /// parse and verify under `issuer` (what a replica stores verified so; Redis vouches for
    /// nothing), and, for a refresh, be issued after the one `held` (its thisUpdate). A CRL that
    /// verifies but is not newer is `Ok(None)`: genuine, just not wanted. Its issuer is
    /// remembered for the background refresh, as a downloader's is.
    fn shared_crl(
        &self,
        url: &str,
        issuer: &Option<Arc<Certificate>>,
        der: &[u8],
        held: Option<i64>,
        policy: AlgorithmPolicy,
        now: i64,
    ) -> Result<Option<(Arc<Crl>, Duration)>, String> {
        let issuer = issuer
            .as_ref()
            .ok_or("no issuer known to verify it under")?;
        let c = Crl::parse(der, self.config.crl_max_bytes).map_err(|e| e.to_string())?;
        if !self.crl_verified_by(&c, issuer, policy) {
            return Err(format!(
                "CRL does not verify under {}",
                issuer.subject.rfc4514
            ));
        }
        // What is no longer (or not yet) current is no use to anyone here, and a download may
        // bring a current one. (Kept, it would stand in the way of that download until the
        // local entry expired.)
        let skew = i64::try_from(self.config.skew.as_secs()).unwrap_or(0);
        if c.next_update.is_some_and(|n| n <= now) || c.this_update > now.saturating_add(skew) {
            return Err("CRL not current".into());
        }
        self.crl_issuers.insert(url.to_owned(), Arc::clone(issuer));
        if held.is_some_and(|t| c.this_update <= t) {
            return Ok(None);
        }
        Ok(Some(self.crl_entry(c, now)))
    }

    /// Whether `crl` verifies under `issuer` (the direct-CRL case, the only one shared);
    /// remembered like the check's own verification.
    fn crl_verified_by(&self, crl: &Crl, issuer: &Certificate, policy: AlgorithmPolicy) -> bool {
        crl.issuer_norm == issuer.subject_norm
            && matches!(
                self.crl_signature(crl, issuer, policy, || Ok(())),
                Ok(Ok(()))
            )
    }

    /// Whether `crl`'s signature verifies under `signer`, remembered when it does (a 20 MB
    /// CRL is hashed once, not per request); `charge` is called before a check the memo does
    /// not answer, and its error (the request's budget spent) is the outer one.
    fn crl_signature(
        &self,
        crl: &Crl,
        signer: &Certificate,
        policy: AlgorithmPolicy,
        charge: impl FnOnce() -> Result<(), String>,
    ) -> Result<Result<(), String>, String> {
        let memo = (crl.fingerprint, signer.fingerprint);
        if self.crl_signatures.get(&memo) == Some(true) {
            return Ok(Ok(()));
        }
        charge()?;
        Ok(crl
            .verify_signed_by(signer, &policy)
            .map(|()| {
                self.crl_signatures.insert(memo, true);
            })
            .map_err(|e| e.to_string()))
    }

    /// An OCSP response for `id` from `issuer`, validated now (as fetched, read from the shared
    /// cache or given by an operator: the same rules for all three), with how long to cache it.
    fn validated_ocsp(
        &self,
        der: &[u8],
        issuer: &Certificate,
        id: &CertId,
        nonce: Option<&[u8]>,
        policy: AlgorithmPolicy,
        now: i64,
    ) -> Result<(ocsp::OcspStatus, Duration), ocsp::OcspError> {
        let check = OcspCheck {
            id: Some(id),
            nonce,
            freshness: Some(self.freshness_now(now)),
            at: now,
            policy,
        };
        let s = ocsp::validate(der, issuer, &check)?;
        let ttl = self.ocsp_ttl(&s, now);
        Ok((s, ttl))
    }

    /// A parsed CRL as cached: kept until nextUpdate (refreshed before by
    /// `due_for_refresh`), at most a day when the CRL names no nextUpdate.
    fn crl_entry(&self, c: Crl, now: i64) -> (Arc<Crl>, Duration) {
        let until = c.next_update.unwrap_or(now + 86_400);
        let ttl = Duration::from_secs(until.saturating_sub(now).max(1) as u64);
        (Arc::new(c), ttl)
    }

    #[allow(clippy::too_many_arguments)] // one fetch's inputs; a struct would only rename them
    fn fetch_ocsp(
        &self,
        url: &str,
        id: &CertId,
        issuer: &Certificate,
        fetcher: &dyn Fetch,
        policy: AlgorithmPolicy,
        now: i64,
        deadline: Instant,
    ) -> (Cached<ocsp::OcspStatus>, Option<Vec<u8>>) {
        self.counters.ocsp_fetches.fetch_add(1, Ordering::Relaxed);
        let nonce = self.config.ocsp_nonce.then(|| {
            let mut n = [0u8; 16];
            // The nonce only has to be unpredictable to a replaying attacker.
            let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut n);
            n
        });
        let req = ocsp::build_request(id, nonce.as_ref().map(|n| &n[..]));
        let mut body = fetcher.post_until(
            url,
            "application/ocsp-request",
            &req,
            ocsp::MAX_RESPONSE_BYTES,
            deadline,
        );
        if body.is_err() && self.config.ocsp_get_fallback {
            let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &req);
            let enc = b64
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D");
            let get_url = format!("{}/{}", url.trim_end_matches('/'), enc);
            if let Ok(b) = fetcher.get_until(&get_url, ocsp::MAX_RESPONSE_BYTES, deadline) {
                body = Ok(b);
            }
        }
        let fail = |e: String| {
            self.counters.fetch_failures.fetch_add(1, Ordering::Relaxed);
            Cached::Failed(format!("OCSP {url}: {e}"), self.config.failure_ttl)
        };
        let body = match body {
            Ok(b) => b,
            Err(e) => return (fail(e), None),
        };
        match self.validated_ocsp(
            &body,
            issuer,
            id,
            nonce.as_ref().map(|n| &n[..]),
            policy,
            now,
        ) {
            // The validated response is what may be shared (issue #18).
            Ok((s, ttl)) => (Cached::Ok(s, ttl), Some(body)),
            Err(e) => (fail(e.to_string()), None),
        }
    }

    fn fetch_crl(
        &self,
        url: &str,
        fetcher: &dyn Fetch,
        now: i64,
        deadline: Instant,
    ) -> Cached<Arc<Crl>> {
        self.counters.crl_fetches.fetch_add(1, Ordering::Relaxed);
        let fail = |e: String| {
            self.counters.fetch_failures.fetch_add(1, Ordering::Relaxed);
            Cached::Failed(format!("CRL {url}: {e}"), self.config.failure_ttl)
        };
        let body = match fetcher.get_until(url, self.config.crl_max_bytes, deadline) {
            Ok(b) => b,
            Err(e) => return fail(e),
        };
        match Crl::parse(&body, self.config.crl_max_bytes) {
            Ok(c) => {
                let (c, ttl) = self.crl_entry(c, now);
                Cached::Ok(c, ttl)
            }
            Err(e) => fail(e.to_string()),
        }
    }

    /// Validates an OCSP response obtained elsewhere (stapled, pushed by an operator) for `cert`
    /// issued by `issuer` and caches it as if fetched.
    pub fn add_ocsp_response(
        &self,
        der: &[u8],
        cert: &Certificate,
        issuer: &Certificate,
        policy: AlgorithmPolicy,
        now: i64,
    ) -> Result<(), ocsp::OcspError> {
        let id = self
            .cert_id(cert, issuer)
            .ok_or(ocsp::OcspError::CertIdMismatch)?;
        let (s, ttl) = self.validated_ocsp(der, issuer, &id, None, policy, now)?;
        self.ocsp.insert(id, Arc::new(Cached::Ok(s, ttl)));
        Ok(())
    }

    fn freshness_now(&self, now: i64) -> Freshness {
        Freshness {
            at: now,
            now,
            max_age: Some(self.config.ocsp_max_age.as_secs() as i64),
            skew: self.config.skew.as_secs() as i64,
        }
    }

    /// How long an OCSP answer is kept: until its nextUpdate, and never past the moment it is
    /// `ocsp_max_age` old (counted from its thisUpdate, as the freshness check counts: kept
    /// longer, a cached answer too old to use would stand in the way of a fetch).
    fn ocsp_ttl(&self, s: &ocsp::OcspStatus, now: i64) -> Duration {
        let max_age = i64::try_from(self.config.ocsp_max_age.as_secs()).unwrap_or(i64::MAX);
        let too_old = s.this_update.saturating_add(max_age);
        let until = s.next_update.map_or(too_old, |n| n.min(too_old));
        Duration::from_secs(until.saturating_sub(now).max(1) as u64).min(self.config.ocsp_max_age)
    }

    /// CRLs whose nextUpdate is within the refresh margin: the server refetches them in the
    /// background so requests keep hitting a current CRL.
    pub fn due_for_refresh(&self, now: i64) -> Vec<String> {
        let margin = self.config.crl_refresh_margin.as_secs() as i64;
        self.crls
            .iter()
            .filter_map(|(url, v)| match v.as_ref() {
                Cached::Ok(c, _) if c.next_update.is_some_and(|n| n - margin <= now) => {
                    Some((*url).clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Refetches `url` and replaces the cached CRL when the new one parses. With a shared
    /// cache, one replica downloads while the others wait and take its CRL (only one issued
    /// after the CRL they hold counts).
    pub fn refresh_crl(&self, url: &str, fetcher: &dyn Fetch, policy: AlgorithmPolicy, now: i64) {
        let deadline = Instant::now() + self.config.deadline;
        let held = match self.crls.get(url).as_deref() {
            Some(Cached::Ok(c, _)) => Some(c.this_update),
            _ => None,
        };
        // A CRL shared is one verified under its issuer: without the issuer (a CRL this
        // replica did not get through the shared cache), refreshed alone.
        let Some(issuer) = self.crl_issuers.get(url) else {
            if let Cached::Ok(c, ttl) = self.fetch_crl(url, fetcher, now, deadline) {
                self.crls
                    .insert(url.to_owned(), Arc::new(Cached::Ok(c, ttl)));
            }
            return;
        };
        let issuer = Some(issuer);
        let job = FetchJob::Crl {
            url: url.to_owned(),
            issuer: issuer.clone(),
        };
        let fetch = || self.fetch_crl_to_share(url, &issuer, fetcher, policy, now, deadline);
        let check = |der: &[u8]| self.shared_crl(url, &issuer, der, held, policy, now);
        let read = !self.shared_distrusted.contains_key(url);
        if let Cached::Ok(c, ttl) = self.through_shared(&job, deadline, read, check, fetch) {
            self.crls
                .insert(url.to_owned(), Arc::new(Cached::Ok(c, ttl)));
        }
    }
}

/// CRLReason certificateHold (RFC 5280 §5.3.1): the only revocation that may be lifted.
const REASON_CERTIFICATE_HOLD: u8 = 6;

/// Most CRL distribution point URLs (and most delta URLs per CRL) consulted for one
/// certificate; OCSP uses the first fetchable responder only. A certificate may name hundreds
/// (issue #13 item 6), real ones name one to three.
pub const MAX_CRL_URLS: usize = 4;

/// Combines the verified answers for one certificate (README, "Combining sources").
///
/// `unknown` is no answer. A revocation in force at the validation time `at` wins over every
/// "good" produced no later than it: a "good" cannot speak for a revocation published after
/// it. A permanent revocation (any reason but certificateHold; RFC 5280 §3.3: only a hold may
/// be lifted) wins over later "good"s too. Otherwise the freshest answer (latest producedAt /
/// thisUpdate) wins, a revocation on a tie. The finding returned names the deciding source.
fn decide(found: &[Finding], at: i64) -> Option<Finding> {
    let in_force = |f: &Finding| matches!(f.status, CertStatus::Revoked { at: t, .. } if t <= at);
    let permanent = |f: &&Finding| {
        in_force(f)
            && !matches!(
                f.status,
                CertStatus::Revoked {
                    reason: Some(REASON_CERTIFICATE_HOLD),
                    ..
                }
            )
    };
    if let Some(f) = found.iter().filter(permanent).max_by_key(|f| f.produced_at) {
        return Some(f.clone());
    }
    found
        .iter()
        .filter(|f| f.status != CertStatus::Unknown)
        .max_by_key(|f| (f.produced_at, in_force(f)))
        .cloned()
}

fn finding(s: &ocsp::OcspStatus, source: Source) -> Finding {
    Finding {
        status: s.status,
        source,
        produced_at: s.produced_at,
        next_update: s.next_update,
    }
}

/// `a <= b` for unsigned big-endian integers without leading zeros.
fn num_le(a: &[u8], b: &[u8]) -> bool {
    let strip = |x: &[u8]| {
        let n = x.iter().take_while(|v| **v == 0).count();
        x.get(n..).unwrap_or_default().to_vec()
    };
    let (a, b) = (strip(a), strip(b));
    (a.len(), &a) <= (b.len(), &b)
}

/// Only http(s) URLs are ever fetched (issue #3 §6); https is refused by the fetcher for now.
fn is_fetchable(url: &str) -> bool {
    let l = url.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(status: CertStatus, produced_at: i64, source: Source) -> Finding {
        Finding {
            status,
            source,
            produced_at,
            next_update: None,
        }
    }

    fn revoked(at: i64, reason: Option<u8>) -> CertStatus {
        CertStatus::Revoked { at, reason }
    }

    #[test]
    fn decide_combines_sources() {
        let good1 = f(CertStatus::Good, 100, Source::Embedded);
        let crl2 = f(revoked(200, Some(1)), 200, Source::Crl);
        // A later revocation in force beats the stale good; unknown is no answer.
        let unknown = f(CertStatus::Unknown, 500, Source::Ocsp);
        assert_eq!(
            decide(&[good1.clone(), unknown.clone(), crl2.clone()], 300),
            Some(crl2.clone())
        );
        assert_eq!(decide(std::slice::from_ref(&unknown), 300), None);
        // A tie goes to the revocation.
        let good2 = f(CertStatus::Good, 200, Source::Ocsp);
        assert_eq!(
            decide(&[good2.clone(), crl2.clone()], 300),
            Some(crl2.clone())
        );
        // A permanent revocation beats even a later good; a hold is lifted by one.
        let good3 = f(CertStatus::Good, 300, Source::Ocsp);
        assert_eq!(
            decide(&[good3.clone(), crl2.clone()], 400),
            Some(crl2.clone())
        );
        let hold = f(
            revoked(150, Some(REASON_CERTIFICATE_HOLD)),
            160,
            Source::Crl,
        );
        assert_eq!(
            decide(&[hold.clone(), good3.clone()], 400),
            Some(good3.clone())
        );
        assert_eq!(decide(&[hold.clone(), good1.clone()], 400), Some(hold));
        // A revocation after the validation time is not in force: the freshest answer wins.
        assert_eq!(decide(&[good1.clone(), crl2.clone()], 150), Some(crl2));
        assert_eq!(decide(std::slice::from_ref(&good1), 150), Some(good1));
    }
}
