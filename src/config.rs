//! Configuration in two steps: [`RawConfig`] is what the user wrote (a TOML file, then
//! `TEKSER_*` environment variables, then flags, later ones winning), [`Config`] is validated
//! once: trust anchors loaded, times parsed, policy and server settings typed.

use crate::crypto::{AlgorithmPolicy, Sha1Policy};
use crate::limits::Limits;
use crate::pki::builtin::{Builtin, TrustSet};
use crate::pki::cert::Certificate;
use crate::pki::crl::Crl;
use crate::pki::time::parse_rfc3339;
use crate::pki::trust::{load_paths, LoadError, Origin, TrustStore};
use crate::revocation::fetch::{AllowRule, FetchPolicy, HttpFetcher};
use crate::revocation::redis::{RedisCache, RedisTarget};
use crate::revocation::shared::Shared;
use crate::revocation::RevocationConfig;
use crate::verify::{AuthKeyPolicy, RequestOptions, RevocationMode, Verifier, VerifierConfig};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// `[server]` settings as written. Every field has a documented default (README).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Verification threads (rayon); 0 = one per core.
    pub workers: usize,
    /// Async I/O threads (tokio); 0 = 1 (I/O is light; cores belong to verification).
    pub io_threads: usize,
    /// Verifications queued or running before `/v1/verify` answers 503.
    pub queue_capacity: usize,
    /// Bodies up to this many bytes are verified on the I/O thread that read them instead of
    /// being handed to the verification pool (0 = never; issue #15, BENCHMARKS.md).
    pub inline_max_bytes: usize,
    /// Open connections accepted at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// Largest request head (request line + headers) in bytes; larger is 431.
    pub max_header_bytes: usize,
    /// Largest body for CMS, PDF and multipart bodies.
    pub max_body_bytes: usize,
    /// Largest body for JSON, XML and text bodies (base64 inflates by 4/3).
    pub max_text_body_bytes: usize,
    /// Largest NDJSON batch body.
    pub max_batch_bytes: usize,
    /// Items of one batch verified at once.
    pub batch_in_flight: usize,
    /// Time to receive the request head (slowloris defence), milliseconds.
    pub header_read_timeout_ms: u64,
    /// Time to receive the body, milliseconds.
    pub body_read_timeout_ms: u64,
    /// Time for the whole request, milliseconds.
    pub request_deadline_ms: u64,
    /// Time in-flight requests get to finish after SIGTERM/SIGINT, milliseconds.
    pub shutdown_grace_ms: u64,
    /// Bearer token enabling `/admin/*`; without it those routes do not exist.
    pub admin_token: Option<String>,
    /// Log format: `text` or `json`.
    pub log_format: String,
    /// TLS certificate chain (PEM); with `tls_key`, the server speaks HTTPS (h2 and HTTP/1.1).
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// Browser origins (`https://portal.example.kz`, or `*`) allowed to call the API from
    /// another origin (CORS); empty = CORS off, no CORS headers at all.
    pub cors_origins: Vec<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            workers: 0,
            io_threads: 0,
            queue_capacity: 1024,
            inline_max_bytes: 0,
            max_connections: 4096,
            max_header_bytes: 16 << 10,
            max_body_bytes: 64 << 20,
            max_text_body_bytes: 96 << 20,
            max_batch_bytes: 256 << 20,
            batch_in_flight: 64,
            header_read_timeout_ms: 5_000,
            body_read_timeout_ms: 30_000,
            request_deadline_ms: 60_000,
            shutdown_grace_ms: 10_000,
            admin_token: None,
            log_format: "text".into(),
            tls_cert: None,
            tls_key: None,
            cors_origins: Vec::new(),
        }
    }
}

/// Validated server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Verification threads (resolved: never 0).
    pub workers: usize,
    /// tokio worker threads (resolved: never 0).
    pub io_threads: usize,
    /// See [`ServerSettings`].
    pub queue_capacity: usize,
    /// See [`ServerSettings`].
    pub inline_max_bytes: usize,
    /// See [`ServerSettings`].
    pub max_connections: usize,
    /// See [`ServerSettings`].
    pub max_header_bytes: usize,
    /// See [`ServerSettings`].
    pub max_body_bytes: usize,
    /// See [`ServerSettings`].
    pub max_text_body_bytes: usize,
    /// See [`ServerSettings`].
    pub max_batch_bytes: usize,
    /// See [`ServerSettings`].
    pub batch_in_flight: usize,
    /// See [`ServerSettings`].
    pub header_read_timeout: Duration,
    /// See [`ServerSettings`].
    pub body_read_timeout: Duration,
    /// See [`ServerSettings`].
    pub request_deadline: Duration,
    /// See [`ServerSettings`].
    pub shutdown_grace: Duration,
    /// See [`ServerSettings`].
    pub admin_token: Option<String>,
    /// True for JSON logs.
    pub json_logs: bool,
    /// TLS, when configured.
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    /// See [`ServerSettings`] (validated: `*` or `scheme://host[:port]`).
    pub cors_origins: Vec<String>,
}

/// `[certificate_policy]`: the RFC 5280 §6.1.1 policy inputs of `verify chain`
/// (`--policy`, `--require-explicit-policy`, `--inhibit-policy-mapping`, `--inhibit-any-policy`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CertPolicySettings {
    /// user-initial-policy-set as dotted OIDs; empty = any policy.
    pub policies: Vec<String>,
    /// initial-explicit-policy.
    pub require_explicit_policy: bool,
    /// initial-policy-mapping-inhibit.
    pub inhibit_policy_mapping: bool,
    /// initial-any-policy-inhibit.
    pub inhibit_any_policy: bool,
}

impl CertPolicySettings {
    fn validate(&self) -> Result<crate::pki::policy::PolicyInputs, ConfigError> {
        let initial_policy_set = self
            .policies
            .iter()
            .map(|p| {
                crate::asn1::Oid::new(p).map_err(|_| {
                    ConfigError::Invalid(format!("certificate policy: not an OID: {p:?}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(crate::pki::policy::PolicyInputs {
            initial_policy_set,
            require_explicit_policy: self.require_explicit_policy,
            inhibit_policy_mapping: self.inhibit_policy_mapping,
            inhibit_any_policy: self.inhibit_any_policy,
        })
    }
}

/// `[revocation_options]`: OCSP/CRL fetching and caching.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevocationSettings {
    /// Hosts/CIDRs fetches may reach even if loopback/private (`--fetch-allow`).
    pub fetch_allow: Vec<String>,
    /// Oldest OCSP thisUpdate accepted (and longest an answer is cached), seconds.
    pub ocsp_max_age_secs: u64,
    /// Ask with a SHA-1 CertID (responders that know no SHA-256).
    pub ocsp_sha1_cert_id: bool,
    /// Send an OCSP nonce.
    pub ocsp_nonce: bool,
    /// Retry OCSP with GET when POST fails.
    pub ocsp_get_fallback: bool,
    /// Largest CRL fetched or loaded.
    pub crl_max_bytes: usize,
    /// How long a failed fetch is remembered, seconds (at most 60).
    pub failure_ttl_secs: u64,
    /// OCSP answers cached.
    pub ocsp_cache_capacity: u64,
    /// CRLs cached.
    pub crl_cache_capacity: u64,
    /// Connect timeout, milliseconds.
    pub connect_timeout_ms: u64,
    /// Read timeout, milliseconds.
    pub read_timeout_ms: u64,
    /// Whole-fetch deadline, milliseconds.
    pub total_timeout_ms: u64,
    /// Concurrent fetches per host.
    pub per_host: usize,
    /// Concurrent fetches in all.
    pub max_concurrent_fetches: usize,
    /// All revocation fetches of one verification, milliseconds.
    pub deadline_ms: u64,
}

impl Default for RevocationSettings {
    fn default() -> Self {
        let r = RevocationConfig::default();
        let f = FetchPolicy::default();
        Self {
            fetch_allow: Vec::new(),
            ocsp_max_age_secs: r.ocsp_max_age.as_secs(),
            ocsp_sha1_cert_id: r.ocsp_sha1_cert_id,
            ocsp_nonce: r.ocsp_nonce,
            ocsp_get_fallback: r.ocsp_get_fallback,
            crl_max_bytes: r.crl_max_bytes,
            failure_ttl_secs: r.failure_ttl.as_secs(),
            ocsp_cache_capacity: r.ocsp_cache_capacity,
            crl_cache_capacity: r.crl_cache_capacity,
            connect_timeout_ms: f.connect_timeout.as_millis() as u64,
            read_timeout_ms: f.read_timeout.as_millis() as u64,
            total_timeout_ms: f.total_timeout.as_millis() as u64,
            per_host: f.per_host,
            max_concurrent_fetches: f.max_total,
            deadline_ms: r.deadline.as_millis() as u64,
        }
    }
}

impl RevocationSettings {
    /// Values outside their range are refused, naming the key: silently clamping one would run
    /// the server with a setting other than the one its operator reads in the file.
    fn check(&self) -> Result<(), ConfigError> {
        let positive: [(&str, u64); 7] = [
            ("per_host", u64::try_from(self.per_host).unwrap_or(u64::MAX)),
            (
                "max_concurrent_fetches",
                u64::try_from(self.max_concurrent_fetches).unwrap_or(u64::MAX),
            ),
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("read_timeout_ms", self.read_timeout_ms),
            ("total_timeout_ms", self.total_timeout_ms),
            ("deadline_ms", self.deadline_ms),
            (
                "crl_max_bytes",
                u64::try_from(self.crl_max_bytes).unwrap_or(u64::MAX),
            ),
        ];
        for (key, v) in positive {
            if v == 0 {
                return Err(ConfigError::Invalid(format!(
                    "[revocation_options] {key} must be greater than 0"
                )));
            }
        }
        // A remembered failure blocks retries; a minute bounds how long one outage of a
        // responder keeps answering TRY_LATER after it recovered.
        if self.failure_ttl_secs > 60 {
            return Err(ConfigError::Invalid(format!(
                "[revocation_options] failure_ttl_secs must be at most 60, not {}",
                self.failure_ttl_secs
            )));
        }
        Ok(())
    }
}

/// `[cache]`: the revocation cache shared between replicas (issue #18; README "Shared
/// revocation cache").
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    /// `redis://[[user]:password@]host[:port][/db]`; none = each replica caches alone.
    pub redis_url: Option<String>,
    /// Prepended to every key (several deployments may share one Redis).
    pub key_prefix: String,
    /// Longest a replica waits for another replica fetching the same status, milliseconds.
    pub lock_wait_ms: u64,
    /// Each Redis call (connect, send, receive) gives up after this, milliseconds.
    pub timeout_ms: u64,
}

impl std::fmt::Debug for CacheSettings {
    // The URL may hold a password: shown as the client shows it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.redis_url.as_deref().map(|u| {
            RedisTarget::parse(u).map_or_else(|_| "(invalid URL)".to_owned(), |t| t.shown())
        });
        f.debug_struct("CacheSettings")
            .field("redis_url", &url)
            .field("key_prefix", &self.key_prefix)
            .field("lock_wait_ms", &self.lock_wait_ms)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            redis_url: None,
            key_prefix: "tekser:v1:".into(),
            // Most of the default revocation deadline (5 s): a live replica's download of a
            // 20 MB CRL may take seconds, and one that is not done by its own deadline fails
            // anyway; the last second is left for a waiter's own OCSP fetch when the holder is
            // stuck. (The lock itself expires with its holder's deadline.)
            lock_wait_ms: 4000,
            // Redis answers on a private network in well under a millisecond: a quarter second
            // is a fault, and an unreachable Redis must cost requests little.
            timeout_ms: 250,
        }
    }
}

impl CacheSettings {
    /// The shared cache these settings describe, if any.
    fn shared(&self, crl_max_bytes: usize) -> Result<Option<Shared>, ConfigError> {
        let Some(url) = self.redis_url.as_deref() else {
            return Ok(None);
        };
        let target = RedisTarget::parse(url)
            .map_err(|e| ConfigError::Invalid(format!("[cache] redis_url: {e}")))?;
        for (key, v) in [
            ("lock_wait_ms", self.lock_wait_ms),
            ("timeout_ms", self.timeout_ms),
        ] {
            if v == 0 {
                return Err(ConfigError::Invalid(format!(
                    "[cache] {key} must be greater than 0"
                )));
            }
        }
        Ok(Some(Shared {
            cache: Arc::new(RedisCache::new(
                target,
                Duration::from_millis(self.timeout_ms),
                // The largest value is a CRL; its bound is the CRL bound.
                crl_max_bytes,
            )),
            prefix: self.key_prefix.clone(),
            lock_wait: Duration::from_millis(self.lock_wait_ms),
            poll: Duration::from_millis(20),
        }))
    }
}

/// Shortest admin bearer token accepted: 16 characters make guessing it over the network
/// hopeless even for a token of lowercase letters (26^16 ≈ 4·10^22).
const MIN_ADMIN_TOKEN: usize = 16;

/// Top-level keys of [`FileConfig`], for "did you mean" hints.
const FILE_KEYS: &[&str] = &[
    "listen",
    "trust",
    "intermediates",
    "revocation",
    "danger_allow_sha1",
    "auth_key_signatures",
    "limits",
    "server",
    "crls",
    "revocation_options",
    "certificate_policy",
    "cache",
];

/// Names people reach for first, with where the setting lives.
const GUESSES: &[(&str, &str)] = &[
    ("revocation", "[revocation_options] (OCSP/CRL fetching and caching; top-level `revocation = \"prefer\"` sets the mode)"),
    ("http", "[server]"),
    ("tls", "[server] tls_cert and tls_key"),
    ("log", "[server] log_format"),
    ("logging", "[server] log_format"),
    ("cors", "[server] cors_origins"),
    ("admin", "[server] admin_token"),
    ("ocsp", "[revocation_options]"),
    ("crl", "[revocation_options], or top-level `crls = [...]` for offline CRL files"),
    ("policy", "[certificate_policy]"),
    ("budgets", "[limits]"),
    ("redis", "[cache] redis_url"),
    ("redis_url", "[cache] redis_url"),
];

/// A hint for a key the file puts where tekser does not look: a table named like a setting
/// (`[revocation]` for `[revocation_options]`) or an unknown top-level key close to a known one.
fn misplaced_key_hint(table: &toml::Table) -> Option<String> {
    for (key, value) in table {
        let is_table = value.is_table();
        let known = FILE_KEYS.contains(&key.as_str());
        let known_table = matches!(
            key.as_str(),
            "limits" | "server" | "revocation_options" | "certificate_policy" | "cache"
        );
        if known && is_table == known_table {
            continue;
        }
        let written = if is_table {
            format!("[{key}]")
        } else {
            format!("`{key}`")
        };
        if let Some((_, place)) = GUESSES.iter().find(|(g, _)| *g == key) {
            return Some(format!(
                "{written} is not a tekser setting; did you mean {place}?"
            ));
        }
        if !known {
            if let Some(close) = FILE_KEYS
                .iter()
                .filter(|k| edit_distance(k, key) <= 2)
                .min_by_key(|k| edit_distance(k, key))
            {
                return Some(format!(
                    "{written} is not a tekser setting; did you mean `{close}`?"
                ));
            }
        }
    }
    None
}

/// Levenshtein distance, for typo hints on short key names (bounded: keys over 64 bytes are
/// simply "far").
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = sub.min(del).min(ins);
            }
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// The TOML file as written (`tekser serve --config FILE`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    /// `listen = "127.0.0.1:8080"`
    pub listen: Option<String>,
    /// Trust anchor files or directories.
    pub trust: Vec<PathBuf>,
    /// Extra intermediates.
    pub intermediates: Vec<PathBuf>,
    /// Default revocation mode.
    pub revocation: Option<String>,
    /// SHA-1 legacy knob.
    pub danger_allow_sha1: bool,
    /// Documents signed with authentication-only keys: "warn" (default) or "refuse".
    pub auth_key_signatures: AuthKeyPolicy,
    /// Budgets.
    pub limits: Limits,
    /// Server settings.
    pub server: ServerSettings,
    /// CRL files for offline use.
    pub crls: Vec<PathBuf>,
    /// Revocation fetching and caching.
    pub revocation_options: RevocationSettings,
    /// Certificate policy inputs.
    pub certificate_policy: CertPolicySettings,
    /// The revocation cache shared between replicas.
    pub cache: CacheSettings,
}

/// What the user asked for, unvalidated.
#[derive(Debug, Clone, Default)]
pub struct RawConfig {
    /// Listen address (server only).
    pub listen: Option<String>,
    /// Server settings.
    pub server: ServerSettings,
    /// Add the built-in `demo` trust set (`tekser serve --demo`); with no other `trust`, the
    /// default `kz-nca` set is then left out.
    pub demo: bool,
    /// `--trust` files, directories or built-in set names (`kz-nca`, `demo`); empty = `kz-nca`.
    pub trust: Vec<PathBuf>,
    /// `--intermediate` files.
    pub intermediates: Vec<PathBuf>,
    /// `--crl` files.
    pub crls: Vec<PathBuf>,
    /// `--at`
    pub at: Option<String>,
    /// `--revocation`
    pub revocation: Option<String>,
    /// `--barcodes`: which PDF page images are read for QR codes (default auto).
    pub barcodes: crate::verify::BarcodeMode,
    /// `--danger-allow-sha1`
    pub danger_allow_sha1: bool,
    /// `--auth-key-signatures`
    pub auth_key_signatures: AuthKeyPolicy,
    /// Budgets.
    pub limits: Limits,
    /// Revocation fetching and caching (`--fetch-allow` adds to `fetch_allow`).
    pub revocation_options: RevocationSettings,
    /// Certificate policy inputs (`verify chain --policy …`).
    pub certificate_policy: CertPolicySettings,
    /// The revocation cache shared between replicas (`TEKSER_REDIS_URL` sets `redis_url`).
    pub cache: CacheSettings,
}

/// A configuration that is known to be usable.
#[derive(Debug)]
pub struct Config {
    /// The verifier built from it.
    pub verifier: Verifier,
    /// Default request options.
    pub request: RequestOptions,
    /// Things the user should know (skipped files in trust directories).
    pub warnings: Vec<String>,
    /// Server settings (used by `serve`).
    pub server: ServerConfig,
    /// True when the built-in demo trust set is in use.
    pub demo_trust: bool,
    /// Fetches OCSP responses and CRLs under the SSRF rules.
    pub fetcher: Arc<HttpFetcher>,
}

/// Why a configuration is unusable.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A named file is missing (CLI exit 66).
    #[error(transparent)]
    Missing(LoadError),
    /// A value is wrong (CLI exit 64).
    #[error("{0}")]
    Invalid(String),
}

impl RawConfig {
    /// Starts from a TOML file. Relative paths in it are taken relative to the file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = read_file(path, crate::limits::MAX_CONFIG_FILE_BYTES)?;
        let text = String::from_utf8(text)
            .map_err(|_| ConfigError::Invalid(format!("{}: not UTF-8 text", path.display())))?;
        let shown = path.display();
        // What the user wrote is checked against the table names first, so that a natural guess
        // (`[revocation]`, `[http]`) gets the right name instead of serde's type error.
        if let Ok(table) = text.parse::<toml::Table>() {
            if let Some(hint) = misplaced_key_hint(&table) {
                return Err(ConfigError::Invalid(format!("{shown}: {hint}")));
            }
        }
        let f: FileConfig =
            toml::from_str(&text).map_err(|e| ConfigError::Invalid(format!("{shown}: {e}")))?;
        for a in &f.revocation_options.fetch_allow {
            a.parse::<AllowRule>().map_err(|e| {
                ConfigError::Invalid(format!(
                    "{shown}: [revocation_options] fetch_allow: {a:?}: {e}"
                ))
            })?;
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let rel = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
        let mut server = f.server;
        server.tls_cert = server.tls_cert.map(rel);
        server.tls_key = server.tls_key.map(rel);
        Ok(Self {
            listen: f.listen,
            server,
            // A built-in set's name is a name, not a path relative to the file.
            trust: f
                .trust
                .into_iter()
                .map(|p| match p.to_str().map(str::parse::<TrustSet>) {
                    Some(Ok(_)) => p,
                    _ => rel(p),
                })
                .collect(),
            intermediates: f.intermediates.into_iter().map(rel).collect(),
            crls: f.crls.into_iter().map(rel).collect(),
            revocation_options: f.revocation_options,
            certificate_policy: f.certificate_policy,
            cache: f.cache,
            revocation: f.revocation,
            danger_allow_sha1: f.danger_allow_sha1,
            auth_key_signatures: f.auth_key_signatures,
            limits: f.limits,
            ..Self::default()
        })
    }

    /// Applies `TEKSER_*` environment overrides: `TEKSER_LISTEN`, `TEKSER_TRUST` (paths separated
    /// by `:`), `TEKSER_REVOCATION`, `TEKSER_WORKERS`, `TEKSER_QUEUE_CAPACITY`,
    /// `TEKSER_ADMIN_TOKEN`, `TEKSER_LOG_FORMAT`, `TEKSER_REDIS_URL` (a Kubernetes Secret keeps
    /// the password out of the ConfigMap).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let num = |k: &str, v: String| {
            v.parse::<usize>()
                .map_err(|_| ConfigError::Invalid(format!("{k}: not a number: {v:?}")))
        };
        // Each value is checked here, where its source is known, so the error names the variable.
        if let Some(v) = get("TEKSER_LISTEN") {
            v.parse::<SocketAddr>().map_err(|_| {
                ConfigError::Invalid(format!(
                    "TEKSER_LISTEN: not an address:port (e.g. 127.0.0.1:8080): {v:?}"
                ))
            })?;
            self.listen = Some(v);
        }
        if let Some(v) = get("TEKSER_TRUST") {
            self.trust = v
                .split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect();
        }
        if let Some(v) = get("TEKSER_REVOCATION") {
            v.parse::<RevocationMode>()
                .map_err(|e| ConfigError::Invalid(format!("TEKSER_REVOCATION: {e}")))?;
            self.revocation = Some(v);
        }
        if let Some(v) = get("TEKSER_REDIS_URL") {
            if !v.is_empty() {
                RedisTarget::parse(&v)
                    .map_err(|e| ConfigError::Invalid(format!("TEKSER_REDIS_URL: {e}")))?;
            }
            self.cache.redis_url = (!v.is_empty()).then_some(v);
        }
        if let Some(v) = get("TEKSER_INLINE_MAX_BYTES") {
            self.server.inline_max_bytes = num("TEKSER_INLINE_MAX_BYTES", v)?;
        }
        if let Some(v) = get("TEKSER_WORKERS") {
            self.server.workers = num("TEKSER_WORKERS", v)?;
        }
        if let Some(v) = get("TEKSER_QUEUE_CAPACITY") {
            self.server.queue_capacity = num("TEKSER_QUEUE_CAPACITY", v)?;
        }
        if let Some(v) = get("TEKSER_ADMIN_TOKEN") {
            if v.len() < MIN_ADMIN_TOKEN {
                return Err(ConfigError::Invalid(format!(
                    "TEKSER_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN} characters"
                )));
            }
            self.server.admin_token = Some(v);
        }
        if let Some(v) = get("TEKSER_LOG_FORMAT") {
            if !matches!(v.as_str(), "text" | "json") {
                return Err(ConfigError::Invalid(format!(
                    "TEKSER_LOG_FORMAT must be text or json, not {v:?}"
                )));
            }
            self.server.log_format = v;
        }
        Ok(())
    }

    /// Validates and loads everything once.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let load = |paths: &[PathBuf]| {
            load_paths(paths).map_err(|e| {
                if e.is_missing() {
                    ConfigError::Missing(e)
                } else {
                    ConfigError::Invalid(e.to_string())
                }
            })
        };
        let trust = resolve_trust(&self.trust, self.demo)?;
        let mut warnings = trust.warnings;
        let (mut intermediates, w2) = load(&self.intermediates)?;
        warnings.extend(w2);
        intermediates.extend(trust.intermediates);
        let demo_trust = trust
            .anchors
            .iter()
            .any(|(c, o)| o.demo || crate::pki::builtin::is_demo_root(&c.fingerprint));
        if demo_trust {
            warnings.push(
                "the demo trust anchors are in use: the test roots of fixtures/pki, whose private keys are public (never for production)".into(),
            );
        }
        if trust.anchors.is_empty() {
            warnings.push(
                "no trust anchors configured (--trust): no certificate chain can be validated"
                    .into(),
            );
        }
        let at = self
            .at
            .as_deref()
            .map(parse_rfc3339)
            .transpose()
            .map_err(ConfigError::Invalid)?;
        let revocation = self
            .revocation
            .as_deref()
            .map(str::parse::<RevocationMode>)
            .transpose()
            .map_err(ConfigError::Invalid)?
            .unwrap_or_default();
        let policy = AlgorithmPolicy {
            sha1: if self.danger_allow_sha1 {
                Sha1Policy::DangerAllowLegacy
            } else {
                Sha1Policy::Refuse
            },
            ..AlgorithmPolicy::default()
        };
        let ro = &self.revocation_options;
        let revocation_config = RevocationConfig {
            ocsp_max_age: Duration::from_secs(ro.ocsp_max_age_secs),
            ocsp_sha1_cert_id: ro.ocsp_sha1_cert_id,
            ocsp_nonce: ro.ocsp_nonce,
            ocsp_get_fallback: ro.ocsp_get_fallback,
            crl_max_bytes: ro.crl_max_bytes,
            failure_ttl: Duration::from_secs(ro.failure_ttl_secs),
            ocsp_cache_capacity: ro.ocsp_cache_capacity,
            crl_cache_capacity: ro.crl_cache_capacity,
            deadline: Duration::from_millis(ro.deadline_ms),
            ..RevocationConfig::default()
        };
        let mut crls = Vec::new();
        for p in &self.crls {
            let data = read_file(p, ro.crl_max_bytes)?;
            crls.push(
                Crl::parse(&data, ro.crl_max_bytes)
                    .map_err(|e| ConfigError::Invalid(format!("{}: {e}", p.display())))?,
            );
        }
        let allow = ro
            .fetch_allow
            .iter()
            .map(|a| a.parse::<AllowRule>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConfigError::Invalid(format!("--fetch-allow: {e}")))?;
        ro.check()?;
        let fetcher = Arc::new(HttpFetcher::new(FetchPolicy {
            allow,
            connect_timeout: Duration::from_millis(ro.connect_timeout_ms),
            read_timeout: Duration::from_millis(ro.read_timeout_ms),
            total_timeout: Duration::from_millis(ro.total_timeout_ms),
            per_host: ro.per_host,
            max_total: ro.max_concurrent_fetches,
        }));
        let cert_policy = self.certificate_policy.validate()?;
        let shared = self.cache.shared(ro.crl_max_bytes)?;
        let verifier = Verifier::with_crls(
            TrustStore::with_origins(trust.anchors),
            intermediates,
            VerifierConfig {
                limits: self.limits,
                policy,
                revocation: revocation_config,
                auth_key_signatures: self.auth_key_signatures,
                cert_policy,
                ..VerifierConfig::default()
            },
            crls,
        );
        if let Some(shared) = shared {
            verifier.revocation().attach_shared(shared);
        }
        let server = validate_server(self.listen.as_deref(), &self.server)?;
        Ok(Config {
            verifier,
            request: RequestOptions {
                at,
                revocation,
                barcodes: self.barcodes,
            },
            warnings,
            server,
            demo_trust,
            fetcher,
        })
    }
}

/// The trust configuration resolved: anchors with their origin, the built-in sets' CAs.
struct ResolvedTrust {
    anchors: Vec<(Certificate, Origin)>,
    intermediates: Vec<Certificate>,
    warnings: Vec<String>,
}

/// Built-in set names and files/directories, in the order given; nothing given means `kz-nca`
/// (or `demo` alone when `demo` is asked for).
fn resolve_trust(entries: &[PathBuf], demo: bool) -> Result<ResolvedTrust, ConfigError> {
    let mut out = ResolvedTrust {
        anchors: Vec::new(),
        intermediates: Vec::new(),
        warnings: Vec::new(),
    };
    let mut sets: Vec<TrustSet> = Vec::new();
    let mut files = Vec::new();
    for e in entries {
        match e.to_str().map(str::parse::<TrustSet>) {
            Some(Ok(set)) => sets.push(set),
            _ => files.push(e),
        }
    }
    if demo {
        sets.push(TrustSet::Demo);
    }
    if sets.is_empty() && files.is_empty() {
        sets.push(TrustSet::KzNca);
    }
    let mut unique: Vec<TrustSet> = Vec::new();
    for set in sets {
        if !unique.contains(&set) {
            unique.push(set);
        }
    }
    let sets = unique;
    for set in sets {
        let origin = |b: &Builtin| Origin {
            source: format!("{}: {}", set.name(), b.file),
            demo: set.is_demo(),
        };
        let parse = |b: &Builtin| {
            crate::pki::trust::parse_bundle(b.bytes).map_err(|e| {
                ConfigError::Invalid(format!(
                    "built-in trust set {}: {}: {e}",
                    set.name(),
                    b.file
                ))
            })
        };
        for b in set.anchors() {
            out.anchors
                .extend(parse(b)?.into_iter().map(|c| (c, origin(b))));
        }
        for b in set.intermediates() {
            out.intermediates.extend(parse(b)?);
        }
    }
    for f in files {
        let (certs, w) = load_paths(std::slice::from_ref(f)).map_err(|e| {
            if e.is_missing() {
                ConfigError::Missing(e)
            } else {
                ConfigError::Invalid(e.to_string())
            }
        })?;
        out.warnings.extend(w);
        let origin = Origin::file(f);
        out.anchors
            .extend(certs.into_iter().map(|c| (c, origin.clone())));
    }
    Ok(out)
}

fn validate_server(listen: Option<&str>, s: &ServerSettings) -> Result<ServerConfig, ConfigError> {
    let bad = |m: String| ConfigError::Invalid(m);
    let listen = listen.unwrap_or("127.0.0.1:8080");
    let listen: SocketAddr = listen
        .parse()
        .map_err(|_| bad(format!("listen: not an address:port: {listen:?}")))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if s.queue_capacity == 0 || s.max_connections == 0 || s.batch_in_flight == 0 {
        return Err(bad(
            "server: queue_capacity, max_connections and batch_in_flight must be > 0".into(),
        ));
    }
    // hyper's HTTP/1 reader needs at least 8 KiB of buffer.
    if s.max_header_bytes < 8192 {
        return Err(bad("server: max_header_bytes must be at least 8192".into()));
    }
    let json_logs = match s.log_format.as_str() {
        "text" => false,
        "json" => true,
        other => {
            return Err(bad(format!(
                "server.log_format must be text or json, not {other:?}"
            )))
        }
    };
    if s.admin_token
        .as_ref()
        .is_some_and(|t| t.len() < MIN_ADMIN_TOKEN)
    {
        return Err(bad(format!(
            "server.admin_token must be at least {MIN_ADMIN_TOKEN} characters"
        )));
    }
    // Zero would mean "refuse everything" or "time out at once": refused instead of clamped.
    for (key, v) in [
        ("header_read_timeout_ms", s.header_read_timeout_ms),
        ("body_read_timeout_ms", s.body_read_timeout_ms),
        ("request_deadline_ms", s.request_deadline_ms),
        (
            "max_body_bytes",
            u64::try_from(s.max_body_bytes).unwrap_or(u64::MAX),
        ),
        (
            "max_text_body_bytes",
            u64::try_from(s.max_text_body_bytes).unwrap_or(u64::MAX),
        ),
        (
            "max_batch_bytes",
            u64::try_from(s.max_batch_bytes).unwrap_or(u64::MAX),
        ),
    ] {
        if v == 0 {
            return Err(bad(format!("server.{key} must be greater than 0")));
        }
    }
    let tls = match (&s.tls_cert, &s.tls_key) {
        (Some(c), Some(k)) => Some(tls_config(c, k)?),
        (None, None) => None,
        _ => return Err(bad("server: tls_cert and tls_key go together".into())),
    };
    for o in &s.cors_origins {
        // An origin is scheme://host[:port] with nothing after (RFC 6454 §6.1): a trailing
        // slash or a path never equals what a browser sends, so it would silently match nothing.
        let ok = o == "*"
            || o.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https")
                    && !rest.is_empty()
                    && !rest.contains(['/', '?', '#', ' ', ','])
            });
        if !ok {
            return Err(bad(format!(
                "server.cors_origins: {o:?} is not an origin (scheme://host[:port], or \"*\")"
            )));
        }
    }
    let ms = Duration::from_millis;
    Ok(ServerConfig {
        listen,
        workers: if s.workers == 0 { cores } else { s.workers },
        io_threads: s.io_threads.max(1),
        queue_capacity: s.queue_capacity,
        inline_max_bytes: s.inline_max_bytes,
        max_connections: s.max_connections,
        max_header_bytes: s.max_header_bytes,
        max_body_bytes: s.max_body_bytes,
        max_text_body_bytes: s.max_text_body_bytes,
        max_batch_bytes: s.max_batch_bytes,
        batch_in_flight: s.batch_in_flight,
        header_read_timeout: ms(s.header_read_timeout_ms),
        body_read_timeout: ms(s.body_read_timeout_ms),
        request_deadline: ms(s.request_deadline_ms),
        shutdown_grace: ms(s.shutdown_grace_ms),
        admin_token: s.admin_token.clone(),
        json_logs,
        tls,
        cors_origins: s.cors_origins.clone(),
    })
}

/// Reads a named file through the bounded reader ([`crate::input`]): unreadable is exit 66 (as
/// before), too large or stalled a usage error naming the file.
fn read_file(path: &Path, limit: usize) -> Result<Vec<u8>, ConfigError> {
    crate::pki::trust::read_file(path, limit).map_err(|e| match e {
        e @ LoadError::Io { .. } => ConfigError::Missing(e),
        other => ConfigError::Invalid(other.to_string()),
    })
}

/// rustls with ring as its provider (already our signature backend), ALPN h2 then HTTP/1.1.
fn tls_config(
    cert: &Path,
    key: &Path,
) -> Result<Arc<tokio_rustls::rustls::ServerConfig>, ConfigError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let cert_pem = read_file(cert, crate::limits::MAX_BUNDLE_FILE_BYTES)?;
    let key_pem = read_file(key, crate::limits::MAX_BUNDLE_FILE_BYTES)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| ConfigError::Invalid(format!("{}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "{}: no certificate",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| ConfigError::Invalid(format!("{}: {e}", key.display())))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ConfigError::Invalid(format!("TLS: {e}")))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| ConfigError::Invalid(format!("TLS certificate/key: {e}")))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
