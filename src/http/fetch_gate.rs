//! Admission of a request's revocation fetch round to the blocking pool (issue #13 item 4).
//!
//! A fetch round runs on a blocking thread, and a fetch to a slow responder holds that thread
//! until the request's revocation deadline; requests that share one fetch wait for it inside
//! the cache, each on a thread of its own. Without a gate, 600 requests naming a dripping
//! responder took 532 threads and queued every other request's fetches behind them. Here a
//! round first takes permits asynchronously, so a request waiting for revocation data holds
//! no thread: one permit per destination named by its jobs (at most `per_host` rounds per
//! destination at once) and one per thread the round may use out of `max_total` in all. A
//! round that cannot be admitted before the request's deadline is not run; the request
//! finishes with what is cached (TRY_LATER under `require`, a warning under `prefer`).
//!
//! The per-destination key is the URL's host and port as written: the fetcher's own slots,
//! keyed on the resolved address, still bound connections when one host is spelt many ways,
//! and `max_total` bounds the threads whatever the spelling.

use crate::revocation::FetchJob;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Entries kept for idle destinations before they are swept.
const MAX_IDLE_HOSTS: usize = 1024;

/// The gate; one per server.
#[derive(Debug)]
pub struct FetchGate {
    total: Arc<Semaphore>,
    total_permits: usize,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Permits of one admitted round; released on drop.
#[derive(Debug)]
pub struct Admitted {
    _permits: Vec<OwnedSemaphorePermit>,
}

impl FetchGate {
    /// A gate admitting `per_host` rounds per destination and `max_total` fetch threads in all.
    pub fn new(per_host: usize, max_total: usize) -> Self {
        let total_permits = max_total.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            total: Arc::new(Semaphore::new(total_permits)),
            total_permits,
            per_host: per_host.clamp(1, Semaphore::MAX_PERMITS),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until the round of `jobs` may run, or `deadline` passes (`None`).
    pub async fn admit(&self, jobs: &[FetchJob], deadline: std::time::Instant) -> Option<Admitted> {
        let mut dests: Vec<String> = jobs.iter().map(|j| destination(job_url(j))).collect();
        // Taken in one order by every request, so two rounds never wait on each other's hosts.
        dests.sort_unstable();
        dests.dedup();
        let threads = jobs
            .len()
            .clamp(1, crate::revocation::PARALLEL_FETCHES)
            .min(self.total_permits);
        let sems = self.semaphores(&dests);
        let deadline = tokio::time::Instant::from_std(deadline);
        let acquire = async {
            let mut permits = Vec::with_capacity(sems.len() + 1);
            for s in sems {
                permits.push(s.acquire_owned().await.ok()?);
            }
            // u32: `threads` ≤ PARALLEL_FETCHES, a small constant.
            let n = u32::try_from(threads).ok()?;
            permits.push(Arc::clone(&self.total).acquire_many_owned(n).await.ok()?);
            Some(Admitted { _permits: permits })
        };
        tokio::time::timeout_at(deadline, acquire)
            .await
            .ok()
            .flatten()
    }

    /// The semaphores of `dests`, created on first use; idle ones are swept when many.
    fn semaphores(&self, dests: &[String]) -> Vec<Arc<Semaphore>> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if hosts.len() > MAX_IDLE_HOSTS {
            let full = self.per_host;
            hosts.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < full);
        }
        dests
            .iter()
            .map(|d| {
                Arc::clone(
                    hosts
                        .entry(d.clone())
                        .or_insert_with(|| Arc::new(Semaphore::new(self.per_host))),
                )
            })
            .collect()
    }

    /// Fetch threads in use now.
    #[cfg(test)]
    fn threads_in_use(&self) -> usize {
        self.total_permits - self.total.available_permits()
    }
}

fn job_url(j: &FetchJob) -> &str {
    match j {
        FetchJob::Ocsp { url, .. } | FetchJob::Crl { url, .. } => url,
    }
}

/// The fetcher's own notion of where `url` goes (`http://a/` and `http://A:80/x` are one
/// destination); a URL it refuses is its own entry (it fails at once in the fetcher).
fn destination(url: &str) -> String {
    crate::revocation::fetch::destination(url).unwrap_or_else(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        assert_eq!(
            destination("http://OCSP.pki.gov.kz/x"),
            "ocsp.pki.gov.kz:80"
        );
        // Spellings of one destination share one entry (one per_host budget).
        for u in ["http://a/", "HTTP://A:80/x", "http://a:80"] {
            assert_eq!(destination(u), "a:80", "{u}");
        }
        assert_eq!(destination("HTTP://127.0.0.1:8080/q"), "127.0.0.1:8080");
        assert_eq!(destination("ftp://x/y"), "ftp://x/y");
    }

    #[tokio::test]
    async fn a_full_destination_waits_until_the_deadline_and_others_pass() {
        let gate = FetchGate::new(1, 8);
        let crl = |u: &str| FetchJob::Crl {
            url: u.into(),
            issuer: None,
        };
        let soon = || std::time::Instant::now() + std::time::Duration::from_millis(200);
        let held = gate.admit(&[crl("http://a/1")], soon()).await;
        assert!(held.is_some());
        // Same destination, another spelling of the path: waits, then gives up.
        let t = std::time::Instant::now();
        assert!(gate.admit(&[crl("http://A/2")], soon()).await.is_none());
        assert!(t.elapsed() >= std::time::Duration::from_millis(150));
        // Another destination is admitted at once.
        assert!(gate.admit(&[crl("http://b/1")], soon()).await.is_some());
        drop(held);
        assert!(gate.admit(&[crl("http://a/1")], soon()).await.is_some());
        assert_eq!(gate.threads_in_use(), 0);
    }
}
