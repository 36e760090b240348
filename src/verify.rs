//! The pipeline: format → crypto → chain → revocation → policy → [`Verdict`].
//!
//! [`Verifier`] holds what does not change between requests (trust anchors, extra certificates,
//! policy, limits, caches) and is shared by the CLI, the server and the benches. It never does
//! I/O and never imports an async runtime.

mod barcode;
mod chain;
mod cms;
mod entry;
mod pdf;
mod revocation;
mod signer;
mod xml;

use crate::crypto::AlgorithmPolicy;
use crate::limits::Limits;
use crate::pki::cert::Certificate;
use crate::pki::crl::Crl;
use crate::pki::path::PathCache;
use crate::pki::trust::TrustStore;
use crate::revocation::{Fetch, FetchJob, RevocationConfig, RevocationStore};
use moka::sync::Cache;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use entry::Input;
pub use signer::signer_report;

/// What to do about revocation (CONTRACT.md `--revocation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationMode {
    /// Do not check.
    Off,
    /// Use status when it can be had; otherwise pass with a warning (default).
    #[default]
    Prefer,
    /// No fresh status → INDETERMINATE / TRY_LATER.
    Require,
}

impl std::str::FromStr for RevocationMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(Self::Off),
            "prefer" => Ok(Self::Prefer),
            "require" => Ok(Self::Require),
            other => Err(format!(
                "revocation mode must be off, prefer or require, not {other:?}"
            )),
        }
    }
}

/// What to do when a document was signed with an authentication-only key (an NCA AUTH
/// certificate: keyEncipherment / clientAuth, no nonRepudiation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthKeyPolicy {
    /// Accept, with a warning in the verdict (default: such signatures exist in the wild).
    #[default]
    Warn,
    /// INDETERMINATE / SIG_CONSTRAINTS_FAILURE.
    Refuse,
}

impl std::str::FromStr for AuthKeyPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "warn" => Ok(Self::Warn),
            "refuse" => Ok(Self::Refuse),
            other => Err(format!(
                "authentication-key policy must be warn or refuse, not {other:?}"
            )),
        }
    }
}

/// Which page images of a PDF are read for QR codes (README "Barcodes in PDFs").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BarcodeMode {
    /// Read the images of a PDF without signatures, and of a signed PDF whose pages look like
    /// an e-certificate (a QR-shaped image); hand rxing only images that show QR finder
    /// patterns (default).
    #[default]
    Auto,
    /// Hand every page image to the QR reader.
    Always,
    /// Read no images.
    Never,
}

impl std::str::FromStr for BarcodeMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            other => Err(format!(
                "barcodes must be auto, always or never, not {other:?}"
            )),
        }
    }
}

/// Per-request options.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOptions {
    /// Validation time (unix seconds); `None` = now.
    pub at: Option<i64>,
    /// Revocation mode.
    pub revocation: RevocationMode,
    /// Which PDF page images are read for QR codes.
    pub barcodes: BarcodeMode,
}

/// Static configuration of a [`Verifier`].
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Budgets.
    pub limits: Limits,
    /// Algorithm policy.
    pub policy: AlgorithmPolicy,
    /// Most validated paths kept.
    pub path_cache_capacity: u64,
    /// Longest a validated path is kept.
    pub path_cache_ttl: Duration,
    /// Most parsed certificates kept.
    pub cert_cache_capacity: u64,
    /// Revocation checking.
    pub revocation: RevocationConfig,
    /// Documents signed with authentication-only keys.
    pub auth_key_signatures: AuthKeyPolicy,
    /// Certificate policy inputs for `verify chain` (RFC 5280 §6.1.1): default any policy, no
    /// explicit policy, mapping and anyPolicy allowed.
    pub cert_policy: crate::pki::policy::PolicyInputs,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            policy: AlgorithmPolicy::default(),
            path_cache_capacity: 10_000,
            path_cache_ttl: Duration::from_secs(3600),
            cert_cache_capacity: 10_000,
            revocation: RevocationConfig::default(),
            auth_key_signatures: AuthKeyPolicy::default(),
            cert_policy: crate::pki::policy::PolicyInputs::default(),
        }
    }
}

/// Verifies signatures against a set of trust anchors. Cheap to share (`Arc`), safe to call from
/// many threads at once.
#[derive(Debug)]
pub struct Verifier {
    trust: Arc<TrustStore>,
    intermediates: Vec<Arc<Certificate>>,
    config: VerifierConfig,
    paths: PathCache,
    certs: CertCache,
    stats: Counters,
    revocation: RevocationStore,
}

#[derive(Debug, Default)]
struct Counters {
    path_hits: AtomicU64,
    path_misses: AtomicU64,
    cert_hits: AtomicU64,
    cert_misses: AtomicU64,
}

/// Cache sizes and hit/miss counts since this verifier was built.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct CacheStats {
    /// Validated paths held.
    pub path_entries: u64,
    /// Path cache hits.
    pub path_hits: u64,
    /// Path cache misses (a path was built).
    pub path_misses: u64,
    /// Parsed certificates held.
    pub cert_entries: u64,
    /// Certificate cache hits.
    pub cert_hits: u64,
    /// Certificate cache misses (a certificate was parsed).
    pub cert_misses: u64,
}

/// Parsed certificates keyed by issuer and serial number; a hit counts only when the DER is
/// byte-identical, so a forged certificate reusing a real issuer/serial never stands in for the
/// real one (it just misses). Cheaper than hashing every certificate of every request.
#[derive(Clone)]
struct CertCache(Cache<Vec<u8>, Arc<Certificate>>);

impl std::fmt::Debug for CertCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertCache({})", self.0.entry_count())
    }
}

impl Verifier {
    /// A verifier over `trust`, with `intermediates` as extra path candidates.
    pub fn new(trust: TrustStore, intermediates: Vec<Certificate>, config: VerifierConfig) -> Self {
        Self::with_crls(trust, intermediates, config, Vec::new())
    }

    /// Like [`Verifier::new`], with CRLs for offline use (`--crl`).
    pub fn with_crls(
        trust: TrustStore,
        intermediates: Vec<Certificate>,
        config: VerifierConfig,
        crls: Vec<Crl>,
    ) -> Self {
        Self {
            revocation: RevocationStore::new(config.revocation.clone(), crls),
            trust: Arc::new(trust),
            intermediates: intermediates.into_iter().map(Arc::new).collect(),
            paths: PathCache::new(config.path_cache_capacity, config.path_cache_ttl),
            certs: CertCache(
                Cache::builder()
                    .max_capacity(config.cert_cache_capacity)
                    .build(),
            ),
            stats: Counters::default(),
            config,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    /// The trust anchors.
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// Number of validated paths cached.
    pub fn cached_paths(&self) -> u64 {
        self.paths.len()
    }

    /// Cache sizes and hit/miss counters.
    pub fn cache_stats(&self) -> CacheStats {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CacheStats {
            path_entries: self.paths.len(),
            path_hits: l(&self.stats.path_hits),
            path_misses: l(&self.stats.path_misses),
            cert_entries: self.certs.0.entry_count(),
            cert_hits: l(&self.stats.cert_hits),
            cert_misses: l(&self.stats.cert_misses),
        }
    }

    /// The configuration this verifier was built with.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Revocation caches and counters.
    pub fn revocation(&self) -> &RevocationStore {
        &self.revocation
    }

    /// Runs fetches a verification asked for (blocking: call it off the CPU pool), so that the
    /// next verification of the same document finds the statuses cached.
    pub fn run_fetches(&self, jobs: &[FetchJob], fetcher: &dyn Fetch) {
        self.revocation
            .run(jobs, fetcher, self.config.policy, crate::pki::time::now());
    }

    /// [`Verifier::run_fetches`] under a verification's revocation `deadline`.
    pub fn run_fetches_until(
        &self,
        jobs: &[FetchJob],
        fetcher: &dyn Fetch,
        deadline: std::time::Instant,
    ) {
        self.revocation.run_until(
            jobs,
            fetcher,
            self.config.policy,
            crate::pki::time::now(),
            deadline,
        );
    }

    /// The configured extra intermediates.
    pub fn intermediates(&self) -> &[Arc<Certificate>] {
        &self.intermediates
    }

    /// Parses a certificate, from the cache when seen before.
    fn certificate(&self, der: &[u8]) -> Result<Arc<Certificate>, crate::asn1::Asn1Error> {
        let (issuer, serial) = crate::pki::cert::issuer_and_serial(der)?;
        let mut key = Vec::with_capacity(issuer.len() + serial.len());
        key.extend_from_slice(issuer);
        key.extend_from_slice(serial);
        if let Some(c) = self.certs.0.get(&key) {
            if c.der == der {
                self.stats.cert_hits.fetch_add(1, Ordering::Relaxed);
                return Ok(c);
            }
        }
        self.stats.cert_misses.fetch_add(1, Ordering::Relaxed);
        let c = Arc::new(Certificate::from_der(der)?);
        self.certs.0.insert(key, Arc::clone(&c));
        Ok(c)
    }
}

fn validation_time(opts: &RequestOptions) -> i64 {
    opts.at.unwrap_or_else(crate::pki::time::now)
}
