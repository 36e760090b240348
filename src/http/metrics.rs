//! Prometheus metrics (text format 0.0.4), kept in atomics. Labels have bounded cardinality:
//! route (a fixed list), status code (a fixed list), and the verdict JSON's own vocabulary for
//! format, indication and sub-indication. Process metrics use the standard `process_*` names
//! that client libraries export, read from /proc at scrape time.

use crate::verdict::{Format, Indication, SubIndication, Verdict};
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
    "/openapi.yaml",
    "/version",
    "/admin/cache",
    "/admin/trust/reload",
    "other",
];
/// Status codes the server answers with, each its own `code` label value so that 503 load
/// shedding is told from 500 bugs; anything else is counted under its class ("4xx", "5xx").
const CODES: &[u16] = &[
    200, 204, 400, 401, 404, 405, 408, 413, 415, 422, 431, 500, 503,
];
const CLASSES: &[&str] = &["1xx", "2xx", "3xx", "4xx", "5xx"];
/// The verdict JSON's `format` values, in [`Format`]'s order.
const FORMATS: &[&str] = &[
    "cms",
    "chain",
    "xmldsig",
    "egov-barcode",
    "ddc-barcode",
    "hc1",
    "pdf",
];
/// Every sub-indication; with "none" for null (a passed verdict) they are the
/// `sub_indication` label values, spelled as the verdict JSON spells them.
const SUBS: &[SubIndication] = &SubIndication::ALL;
/// Label slots: "none", then [`SUBS`].
const SUB_SLOTS: usize = SUBS.len() + 1;
/// Latency buckets in seconds (100 µs .. 60 s: the default request deadline).
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0, 60.0,
];

/// A verdict's labels, attached to the HTTP response (extension) for the request log.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// The verdict's `format`.
    pub format: &'static str,
    /// The verdict's `indication`.
    pub indication: &'static str,
    /// The verdict's `sub_indication`, `None` for null.
    pub sub_indication: Option<&'static str>,
}

impl Outcome {
    /// The labels of `v`, spelled as its JSON spells them.
    pub fn of(v: &Verdict) -> Self {
        Self {
            format: format_label(v.format),
            indication: indication_label(v.indication()),
            sub_indication: v.sub_indication().map(sub_label),
        }
    }
}

fn format_label(f: Format) -> &'static str {
    f.name()
}

fn sub_label(s: SubIndication) -> &'static str {
    s.name()
}

/// The label slot of a sub-indication: 0 for none.
fn sub_slot(s: Option<SubIndication>) -> usize {
    s.and_then(|s| SUBS.iter().position(|x| *x == s))
        .map_or(0, |i| i + 1)
}

fn indication_label(i: Indication) -> &'static str {
    match i {
        Indication::TOTAL_PASSED => "TOTAL_PASSED",
        Indication::TOTAL_FAILED => "TOTAL_FAILED",
        Indication::INDETERMINATE => "INDETERMINATE",
    }
}

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

    fn render(&self, o: &mut String, name: &str, labels: &str) {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        for (b, le) in self.buckets.iter().zip(BUCKETS) {
            let _ = writeln!(o, "{name}_bucket{{{labels},le=\"{le}\"}} {}", l(b));
        }
        let count = l(&self.count);
        let _ = writeln!(o, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
        let sum = l(&self.sum_ns) as f64 / 1e9;
        let _ = writeln!(o, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(o, "{name}_count{{{labels}}} {count}");
    }
}

/// All counters of one server.
pub struct Metrics {
    requests: Vec<AtomicU64>,     // route × (codes, then classes)
    http_latency: Vec<Histogram>, // per route
    latency: Vec<Histogram>,      // per format
    verdicts: Vec<AtomicU64>,     // format × sub-indication
    started: std::time::SystemTime,
}

const CODE_SLOTS: usize = CODES.len() + CLASSES.len();

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: (0..ROUTES.len() * CODE_SLOTS)
                .map(|_| AtomicU64::new(0))
                .collect(),
            http_latency: ROUTES.iter().map(|_| Histogram::new()).collect(),
            latency: FORMATS.iter().map(|_| Histogram::new()).collect(),
            verdicts: (0..FORMATS.len() * SUB_SLOTS)
                .map(|_| AtomicU64::new(0))
                .collect(),
            started: std::time::SystemTime::now(),
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
    /// Trust anchors loaded.
    pub trust_anchors: usize,
    /// The earliest notAfter of the trust anchors (Unix seconds).
    pub trust_anchor_earliest_expiry: Option<i64>,
}

/// The `code` label slot of `status`.
fn code_slot(status: u16) -> usize {
    CODES.iter().position(|c| *c == status).unwrap_or_else(|| {
        CODES.len()
            + usize::from(status / 100)
                .saturating_sub(1)
                .min(CLASSES.len() - 1)
    })
}

fn code_label(slot: usize) -> String {
    match CODES.get(slot) {
        Some(c) => c.to_string(),
        None => CLASSES
            .get(slot - CODES.len())
            .copied()
            .unwrap_or("5xx")
            .to_owned(),
    }
}

impl Metrics {
    /// Counts a response and its latency from the request's arrival (queue wait included).
    pub fn request(&self, route: &str, status: u16, secs: f64) {
        let r = ROUTES
            .iter()
            .position(|x| *x == route)
            .unwrap_or(ROUTES.len() - 1);
        if let Some(a) = self.requests.get(r * CODE_SLOTS + code_slot(status)) {
            a.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(h) = self.http_latency.get(r) {
            h.observe(secs);
        }
    }

    /// Records one verification's latency (on the pool, queue wait excluded) and its verdict.
    pub fn verification(&self, secs: f64, verdict: &Verdict) {
        let o = Outcome::of(verdict);
        let f = FORMATS.iter().position(|x| *x == o.format);
        let s = sub_slot(verdict.sub_indication());
        if let Some(h) = f.and_then(|i| self.latency.get(i)) {
            h.observe(secs);
        }
        if let Some(v) = f.and_then(|f| self.verdicts.get(f * SUB_SLOTS + s)) {
            v.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Prometheus text exposition.
    pub fn render(&self, s: &Snapshot) -> String {
        let mut o = String::with_capacity(32 << 10);
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let head = |o: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        head(
            &mut o,
            "tekser_http_requests_total",
            "counter",
            "HTTP responses by route and status code (statuses outside the usual set by class).",
        );
        for (ri, r) in ROUTES.iter().enumerate() {
            for slot in 0..CODE_SLOTS {
                if let Some(a) = self.requests.get(ri * CODE_SLOTS + slot) {
                    let _ = writeln!(
                        o,
                        "tekser_http_requests_total{{route=\"{r}\",code=\"{}\"}} {}",
                        code_label(slot),
                        l(a)
                    );
                }
            }
        }
        head(
            &mut o,
            "tekser_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its response head, queue wait and revocation fetches included.",
        );
        for (r, h) in ROUTES.iter().zip(&self.http_latency) {
            h.render(
                &mut o,
                "tekser_http_request_duration_seconds",
                &format!("route=\"{r}\""),
            );
        }
        head(
            &mut o,
            "tekser_verification_seconds",
            "histogram",
            "Verification time on the pool by the verdict's format (queue wait excluded).",
        );
        for (f, h) in FORMATS.iter().zip(&self.latency) {
            h.render(
                &mut o,
                "tekser_verification_seconds",
                &format!("format=\"{f}\""),
            );
        }
        head(
            &mut o,
            "tekser_verdicts_total",
            "counter",
            "Verdicts by format, indication and sub-indication, spelled as in the verdict JSON (sub_indication=\"none\": null).",
        );
        for (fi, f) in FORMATS.iter().enumerate() {
            for si in 0..SUB_SLOTS {
                let sub_var = si.checked_sub(1).and_then(|i| SUBS.get(i)).copied();
                let (ind, sub) = match sub_var {
                    None => ("TOTAL_PASSED", "none"),
                    Some(x) => (indication_label(x.indication()), sub_label(x)),
                };
                if let Some(v) = self.verdicts.get(fi * SUB_SLOTS + si) {
                    let _ = writeln!(
                        o,
                        "tekser_verdicts_total{{format=\"{f}\",indication=\"{ind}\",sub_indication=\"{sub}\"}} {}",
                        l(v)
                    );
                }
            }
        }
        let mut gauge = |name: &str, kind: &str, help: &str, v: String| {
            head(&mut o, name, kind, help);
            let _ = writeln!(o, "{name} {v}");
        };
        gauge(
            "tekser_queue_depth",
            "gauge",
            "Verification jobs queued or running.",
            s.queue_depth.to_string(),
        );
        gauge(
            "tekser_queue_rejections_total",
            "counter",
            "Requests answered 503 because the queue was full.",
            s.queue_rejections.to_string(),
        );
        gauge(
            "tekser_verification_panics_total",
            "counter",
            "Verifications that panicked (answered 500).",
            s.panics.to_string(),
        );
        let r = &s.revocation;
        gauge(
            "tekser_upstream_revocation_fetches_total",
            "counter",
            "OCSP and CRL fetches sent upstream.",
            (r.ocsp_fetches + r.crl_fetches).to_string(),
        );
        gauge(
            "tekser_revocation_fetch_failures_total",
            "counter",
            "Fetches that failed (cached briefly).",
            r.fetch_failures.to_string(),
        );
        gauge(
            "tekser_trust_anchors",
            "gauge",
            "Trust anchors loaded.",
            s.trust_anchors.to_string(),
        );
        if let Some(t) = s.trust_anchor_earliest_expiry {
            gauge(
                "tekser_trust_anchor_earliest_expiry_timestamp_seconds",
                "gauge",
                "The earliest notAfter among the trust anchors (Unix time).",
                t.to_string(),
            );
        }
        if let Some(sh) = &r.shared {
            gauge(
                "tekser_shared_cache_up",
                "gauge",
                "1 when the shared revocation cache (Redis) answered its last call; 0 before its first answer or after a failure: this replica caches and fetches alone.",
                u8::from(sh.up).to_string(),
            );
            gauge(
                "tekser_shared_cache_lock_waits_total",
                "counter",
                "Lookups that waited for another replica fetching the same status.",
                sh.lock_waits.to_string(),
            );
            gauge(
                "tekser_shared_cache_lock_timeouts_total",
                "counter",
                "Waits that ended without the other replica's answer (then fetched here).",
                sh.lock_timeouts.to_string(),
            );
        }
        if let Some(t) = r.crl_earliest_next_update {
            gauge(
                "tekser_crl_cache_earliest_next_update_timestamp_seconds",
                "gauge",
                "The earliest nextUpdate among the CRLs held (Unix time); past it that CRL answers nothing until refreshed.",
                t.to_string(),
            );
        }
        if let Some(sh) = &r.shared {
            head(
                &mut o,
                "tekser_shared_cache_operations_total",
                "counter",
                "Shared revocation cache lookups and stores by result (rejected: failed re-verification; error: Redis unreachable or misbehaving).",
            );
            for (result, n) in [
                ("hit", sh.hits),
                ("miss", sh.misses),
                ("store", sh.stores),
                ("rejected", sh.rejected),
                ("error", sh.errors),
            ] {
                let _ = writeln!(
                    o,
                    "tekser_shared_cache_operations_total{{result=\"{result}\"}} {n}"
                );
            }
        }
        let c = &s.cache;
        head(
            &mut o,
            "tekser_revocation_fetches_total",
            "counter",
            "Upstream fetches by kind.",
        );
        let _ = writeln!(o, "tekser_revocation_fetches_total{{kind=\"ocsp\"}} {}\ntekser_revocation_fetches_total{{kind=\"crl\"}} {}", r.ocsp_fetches, r.crl_fetches);
        head(
            &mut o,
            "tekser_cache_hits_total",
            "counter",
            "Cache hits by cache.",
        );
        let _ = writeln!(o, "tekser_cache_hits_total{{cache=\"path\"}} {}\ntekser_cache_hits_total{{cache=\"certificate\"}} {}\ntekser_cache_hits_total{{cache=\"ocsp\"}} {}\ntekser_cache_hits_total{{cache=\"crl\"}} {}", c.path_hits, c.cert_hits, r.ocsp_hits, r.crl_hits);
        head(
            &mut o,
            "tekser_cache_misses_total",
            "counter",
            "Cache misses by cache.",
        );
        let _ = writeln!(o, "tekser_cache_misses_total{{cache=\"path\"}} {}\ntekser_cache_misses_total{{cache=\"certificate\"}} {}\ntekser_cache_misses_total{{cache=\"ocsp\"}} {}\ntekser_cache_misses_total{{cache=\"crl\"}} {}", c.path_misses, c.cert_misses, r.ocsp_misses, r.crl_misses);
        head(
            &mut o,
            "tekser_cache_entries",
            "gauge",
            "Entries held by cache.",
        );
        let _ = writeln!(o, "tekser_cache_entries{{cache=\"path\"}} {}\ntekser_cache_entries{{cache=\"certificate\"}} {}\ntekser_cache_entries{{cache=\"ocsp\"}} {}\ntekser_cache_entries{{cache=\"crl\"}} {}\ntekser_cache_entries{{cache=\"crl_signature\"}} {}", c.path_entries, c.cert_entries, r.ocsp_entries, r.crl_entries, r.crl_signature_entries);
        let b = super::ops::BUILD;
        head(
            &mut o,
            "tekser_build_info",
            "gauge",
            "Always 1; the build in its labels (git_commit \"unknown\" when the build did not say).",
        );
        let _ = writeln!(
            o,
            "tekser_build_info{{version=\"{}\",git_commit=\"{}\",profile=\"{}\"}} 1",
            b.version,
            b.git_commit.unwrap_or("unknown").escape_default(),
            b.profile
        );
        let started = self
            .started
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        process_metrics(&mut o, started);
        o
    }
}

/// `process_*` as the Prometheus client libraries name them. Linux: from /proc/self; elsewhere
/// only the start time (the others are left out rather than reported as 0).
fn process_metrics(o: &mut String, started: f64) {
    let mut gauge = |name: &str, kind: &str, help: &str, v: String| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
    };
    gauge(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since the Unix epoch, seconds.",
        format!("{started}"),
    );
    let Some(p) = read_proc() else {
        return;
    };
    gauge(
        "process_cpu_seconds_total",
        "counter",
        "User and system CPU time spent, seconds.",
        format!("{}", p.cpu_seconds),
    );
    gauge(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size, bytes.",
        p.rss_bytes.to_string(),
    );
    gauge(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size, bytes.",
        p.vsize_bytes.to_string(),
    );
    if let Some(n) = p.open_fds {
        gauge(
            "process_open_fds",
            "gauge",
            "Open file descriptors.",
            n.to_string(),
        );
    }
}

struct ProcStats {
    cpu_seconds: f64,
    rss_bytes: u64,
    vsize_bytes: u64,
    open_fds: Option<usize>,
}

/// /proc/self/stat fields 14-15 (utime, stime, clock ticks), 23 (vsize, bytes) and 24 (rss,
/// pages), proc(5). Clock ticks and page size are taken as Linux's usual 100 Hz and 4 KiB:
/// reading them needs sysconf (libc, unsafe); on other page sizes RSS is off by that factor.
fn read_proc() -> Option<ProcStats> {
    const TICKS_PER_SEC: f64 = 100.0;
    const PAGE: u64 = 4096;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is parenthesised and may contain spaces: split after it.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3, so field n is f[n - 3].
    let num = |n: usize| f.get(n - 3).and_then(|x| x.parse::<u64>().ok());
    let ticks = num(14)?.saturating_add(num(15)?);
    // The fd directory has one entry per descriptor (the one read_dir holds open included).
    let open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count().saturating_sub(1));
    Some(ProcStats {
        cpu_seconds: ticks as f64 / TICKS_PER_SEC,
        rss_bytes: num(24)?.saturating_mul(PAGE),
        vsize_bytes: num(23)?,
        open_fds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant maps to its own label: a new variant without a label fails here, not in
    /// production as "other".
    #[test]
    fn labels_cover_the_verdict_vocabulary() {
        use Format::*;
        for f in [Cms, Chain, Xmldsig, EgovBarcode, DdcBarcode, Hc1, Pdf] {
            // Exhaustive: a new Format variant breaks this match.
            match f {
                Cms | Chain | Xmldsig | EgovBarcode | DdcBarcode | Hc1 | Pdf => {}
            }
            assert_ne!(format_label(f), "other", "{f:?}");
        }
        assert_eq!(code_label(code_slot(503)), "503");
        assert_eq!(code_label(code_slot(418)), "4xx");
        assert_eq!(code_label(code_slot(502)), "5xx");
    }

    #[test]
    fn proc_stats_are_read() {
        if cfg!(target_os = "linux") {
            let p = read_proc().expect("/proc/self/stat parses");
            assert!(p.rss_bytes > 0 && p.open_fds.is_some_and(|n| n >= 3));
        }
    }

    #[test]
    fn format_labels_are_every_format_in_order() {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(FORMATS, names.as_slice());
    }
}
