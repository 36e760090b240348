//! The revocation cache shared between replicas (issue #18): what the store needs from a shared
//! key-value service ([`SharedCache`], implemented for Redis by [`super::redis::RedisCache`]),
//! its keys and its counters.
//!
//! Trust: the shared service is not trusted to vouch for anything. A replica stores only what it
//! verified itself (an OCSP response validated against the issuer and CertID, a CRL whose
//! signature verified under the issuer of the certificate that pointed to it), and a replica
//! that reads a value checks it exactly as if it had just fetched it from the network. Someone
//! who can write to Redis can therefore do what a network attacker between tekser and the NCA
//! can (withhold data, replay an older *genuine* response that is still within its validity
//! rules) and nothing more: no forged status is ever accepted.
//!
//! Failure: any error of the shared service makes the store go on alone (fetch upstream as
//! without it); it is counted and reported, never an error for the request.

use super::FetchJob;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Why the shared cache could not answer (it is then ignored for this lookup).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shared cache: {0}")]
pub struct SharedError(pub String);

/// A shared key-value service with expiry and a simple lock. Calls block (they run on the
/// fetch threads, where [`super::Fetch`] blocks too) and must give up quickly on their own: an
/// implementation bounds every call by a short timeout.
pub trait SharedCache: Send + Sync {
    /// The value stored under `key`, if any; one over `max` bytes (no replica stores such a
    /// value) comes back empty, unread.
    fn get(&self, key: &str, max: usize) -> Result<Option<Vec<u8>>, SharedError>;
    /// Stores `value` under `key` for `ttl`.
    fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), SharedError>;
    /// Takes the lock `key` for at most `ttl` (it expires on its own if the holder dies):
    /// `Some(token)` when taken, `None` when someone else holds it.
    fn try_lock(&self, key: &str, ttl: Duration) -> Result<Option<u64>, SharedError>;
    /// Releases the lock `key` if it is still the one `token` took.
    fn unlock(&self, key: &str, token: u64);
    /// Whether the last call reached the service (for the `up` gauge).
    fn up(&self) -> bool;
    /// Where it is, for logs (no secrets).
    fn describe(&self) -> String;
    /// Checks that the service answers (at start-up: the `up` gauge and the log say so from
    /// the beginning, not from the first lookup).
    fn ping(&self) -> Result<(), SharedError>;
    /// A value under `key` failed re-verification (`why`): worth a line in the log, since it
    /// may be tampering.
    fn rejected(&self, key: &str, why: &str);
}

/// How a store uses its shared cache.
#[derive(Clone)]
pub struct Shared {
    /// The service.
    pub cache: std::sync::Arc<dyn SharedCache>,
    /// Prepended to every key (several deployments may share one Redis).
    pub prefix: String,
    /// Longest a replica waits for another replica's fetch of the same key before fetching
    /// itself (bounded by the request's revocation deadline too).
    pub lock_wait: Duration,
    /// How often a waiting replica looks again.
    pub poll: Duration,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("prefix", &self.prefix)
            .field("lock_wait", &self.lock_wait)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The key of the data `job` fetches: an OCSP answer by CertID (the local cache's key), a
    /// CRL by its URL (hashed: keys stay short whatever a certificate names).
    pub fn key(&self, job: &FetchJob) -> String {
        match job {
            FetchJob::Ocsp { id, .. } => format!(
                "{}ocsp:{}:{}:{}:{}",
                self.prefix,
                id.hash.name(),
                crate::asn1::hex(&id.name_hash),
                crate::asn1::hex(&id.key_hash),
                crate::asn1::hex(&id.serial)
            ),
            FetchJob::Crl { url, .. } => format!(
                "{}crl:{}",
                self.prefix,
                crate::asn1::hex(
                    ring::digest::digest(&ring::digest::SHA256, url.as_bytes()).as_ref()
                )
            ),
        }
    }
}

/// A fetch job's local cache key, to remember which values came from the shared cache.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Marker {
    Ocsp(crate::pki::ocsp::CertId),
    Crl(String),
}

impl Marker {
    pub fn of(job: &FetchJob) -> Self {
        match job {
            FetchJob::Ocsp { id, .. } => Self::Ocsp(id.clone()),
            FetchJob::Crl { url, .. } => Self::Crl(url.clone()),
        }
    }
}

/// Counters of the shared cache (for /metrics).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct SharedStats {
    /// Whether the service answered its last call.
    pub up: bool,
    /// Lookups answered from the shared cache (after re-verification).
    pub hits: u64,
    /// Lookups that found nothing there.
    pub misses: u64,
    /// Values a replica verified and stored.
    pub stores: u64,
    /// Values read that failed re-verification (then fetched upstream).
    pub rejected: u64,
    /// Lookups that found another replica fetching the same key and waited for it.
    pub lock_waits: u64,
    /// Waits that ended without the other replica's answer (then fetched upstream).
    pub lock_timeouts: u64,
    /// Calls that failed (service down or misbehaving): the replica went on alone.
    pub errors: u64,
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub stores: AtomicU64,
    pub rejected: AtomicU64,
    pub lock_waits: AtomicU64,
    pub lock_timeouts: AtomicU64,
    pub errors: AtomicU64,
}

impl Counters {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stats(&self, up: bool) -> SharedStats {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SharedStats {
            up,
            hits: l(&self.hits),
            misses: l(&self.misses),
            stores: l(&self.stores),
            rejected: l(&self.rejected),
            lock_waits: l(&self.lock_waits),
            lock_timeouts: l(&self.lock_timeouts),
            errors: l(&self.errors),
        }
    }
}
