//! Prometheus metrics (text format 0.0.4), kept in atomics. Labels have bounded cardinality:
//! route (a fixed list), status class, format, indication.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Routes with their own label (anything else is "other").
pub const ROUTES: &[&str] = &[
    "/v1/verify",
    "/v1/verify/batch",
    "/v1/certificates/inspect",
    "/healthz",
    "/readyz",
    "/metrics",
    "/admin/cache",
    "/admin/trust/reload",
    "other",
];
const CLASSES: &[&str] = &["2xx", "3xx", "4xx", "5xx"];
const FORMATS: &[&str] = &["cms", "chain", "xml", "barcode", "pdf"];
const INDICATIONS: &[&str] = &["TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE"];
/// Latency buckets in seconds (100 µs .. 10 s).
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 10.0,
];

struct Histogram {
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Histogram {
    fn new() -> Self {
        Self {
            buckets: BUCKETS.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
        }
    }
    fn observe(&self, secs: f64) {
        for (b, le) in self.buckets.iter().zip(BUCKETS) {
            if secs <= *le {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        // Whole nanoseconds are plenty; a negative or NaN duration cannot occur (Instant).
        let ns = (secs * 1e9).max(0.0).min(u64::MAX as f64) as u64;
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }
}

/// All counters of one server.
pub struct Metrics {
    requests: Vec<AtomicU64>, // route × class
    latency: Vec<Histogram>,  // per format
    verdicts: Vec<AtomicU64>, // per indication
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: (0..ROUTES.len() * CLASSES.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            latency: FORMATS.iter().map(|_| Histogram::new()).collect(),
            verdicts: INDICATIONS.iter().map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// Gauges and counters owned elsewhere, read at scrape time.
pub struct Snapshot {
    /// Verification jobs queued or running.
    pub queue_depth: usize,
    /// Requests refused because the queue was full.
    pub queue_rejections: u64,
    /// Verifications that panicked.
    pub panics: u64,
    /// Core cache statistics.
    pub cache: crate::verify::CacheStats,
    /// Revocation caches and fetches.
    pub revocation: crate::revocation::RevocationStats,
}

impl Metrics {
    /// Counts a response.
    pub fn request(&self, route: &str, status: u16) {
        let r = ROUTES
            .iter()
            .position(|x| *x == route)
            .unwrap_or(ROUTES.len() - 1);
        let c = usize::from(status / 100)
            .saturating_sub(2)
            .min(CLASSES.len() - 1);
        if let Some(a) = self.requests.get(r * CLASSES.len() + c) {
            a.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records one verification's latency and verdict.
    pub fn verification(&self, format: &str, secs: f64, indication: &str) {
        if let Some(h) = FORMATS
            .iter()
            .position(|f| *f == format)
            .and_then(|i| self.latency.get(i))
        {
            h.observe(secs);
        }
        if let Some(v) = INDICATIONS
            .iter()
            .position(|i| *i == indication)
            .and_then(|i| self.verdicts.get(i))
        {
            v.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Prometheus text exposition.
    pub fn render(&self, s: &Snapshot) -> String {
        let mut o = String::with_capacity(4096);
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = writeln!(
            o,
            "# HELP tekser_requests_total HTTP responses by route and status class."
        );
        let _ = writeln!(o, "# TYPE tekser_requests_total counter");
        for (ri, r) in ROUTES.iter().enumerate() {
            for (ci, c) in CLASSES.iter().enumerate() {
                if let Some(a) = self.requests.get(ri * CLASSES.len() + ci) {
                    let _ = writeln!(
                        o,
                        "tekser_requests_total{{route=\"{r}\",class=\"{c}\"}} {}",
                        l(a)
                    );
                }
            }
        }
        let _ = writeln!(o, "# HELP tekser_verification_seconds Verification latency by format (queue wait excluded).");
        let _ = writeln!(o, "# TYPE tekser_verification_seconds histogram");
        for (f, h) in FORMATS.iter().zip(&self.latency) {
            for (b, le) in h.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    o,
                    "tekser_verification_seconds_bucket{{format=\"{f}\",le=\"{le}\"}} {}",
                    l(b)
                );
            }
            let _ = writeln!(
                o,
                "tekser_verification_seconds_bucket{{format=\"{f}\",le=\"+Inf\"}} {}",
                l(&h.count)
            );
            let _ = writeln!(
                o,
                "tekser_verification_seconds_sum{{format=\"{f}\"}} {}",
                l(&h.sum_ns) as f64 / 1e9
            );
            let _ = writeln!(
                o,
                "tekser_verification_seconds_count{{format=\"{f}\"}} {}",
                l(&h.count)
            );
        }
        let _ = writeln!(o, "# HELP tekser_verdicts_total Verdicts by indication.");
        let _ = writeln!(o, "# TYPE tekser_verdicts_total counter");
        for (i, v) in INDICATIONS.iter().zip(&self.verdicts) {
            let _ = writeln!(o, "tekser_verdicts_total{{indication=\"{i}\"}} {}", l(v));
        }
        let c = &s.cache;
        let gauge = |o: &mut String, name: &str, help: &str, kind: &str, v: String| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        gauge(
            &mut o,
            "tekser_queue_depth",
            "Verification jobs queued or running.",
            "gauge",
            s.queue_depth.to_string(),
        );
        gauge(
            &mut o,
            "tekser_queue_rejections_total",
            "Requests answered 503 because the queue was full.",
            "counter",
            s.queue_rejections.to_string(),
        );
        gauge(
            &mut o,
            "tekser_verification_panics_total",
            "Verifications that panicked (answered 500).",
            "counter",
            s.panics.to_string(),
        );
        let r = &s.revocation;
        gauge(
            &mut o,
            "tekser_upstream_revocation_fetches_total",
            "OCSP and CRL fetches sent upstream.",
            "counter",
            (r.ocsp_fetches + r.crl_fetches).to_string(),
        );
        let _ = writeln!(o, "# HELP tekser_revocation_fetches_total Upstream fetches by kind.\n# TYPE tekser_revocation_fetches_total counter");
        let _ = writeln!(o, "tekser_revocation_fetches_total{{kind=\"ocsp\"}} {}\ntekser_revocation_fetches_total{{kind=\"crl\"}} {}", r.ocsp_fetches, r.crl_fetches);
        gauge(
            &mut o,
            "tekser_revocation_fetch_failures_total",
            "Fetches that failed (cached briefly).",
            "counter",
            r.fetch_failures.to_string(),
        );
        let _ = writeln!(o, "# HELP tekser_cache_hits_total Cache hits by cache.\n# TYPE tekser_cache_hits_total counter");
        let _ = writeln!(o, "tekser_cache_hits_total{{cache=\"path\"}} {}\ntekser_cache_hits_total{{cache=\"certificate\"}} {}\ntekser_cache_hits_total{{cache=\"ocsp\"}} {}\ntekser_cache_hits_total{{cache=\"crl\"}} {}", c.path_hits, c.cert_hits, r.ocsp_hits, r.crl_hits);
        let _ = writeln!(o, "# HELP tekser_cache_misses_total Cache misses by cache.\n# TYPE tekser_cache_misses_total counter");
        let _ = writeln!(o, "tekser_cache_misses_total{{cache=\"path\"}} {}\ntekser_cache_misses_total{{cache=\"certificate\"}} {}\ntekser_cache_misses_total{{cache=\"ocsp\"}} {}\ntekser_cache_misses_total{{cache=\"crl\"}} {}", c.path_misses, c.cert_misses, r.ocsp_misses, r.crl_misses);
        let _ = writeln!(
            o,
            "# HELP tekser_cache_entries Entries held by cache.\n# TYPE tekser_cache_entries gauge"
        );
        let _ = writeln!(o, "tekser_cache_entries{{cache=\"path\"}} {}\ntekser_cache_entries{{cache=\"certificate\"}} {}\ntekser_cache_entries{{cache=\"ocsp\"}} {}\ntekser_cache_entries{{cache=\"crl\"}} {}", c.path_entries, c.cert_entries, r.ocsp_entries, r.crl_entries);
        o
    }
}
