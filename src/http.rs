//! The HTTP edge (`tekser serve`): transport only. Accepts connections (HTTP/1.1 with keep-alive,
//! h2c), bounds and times every read, hands verification to the rayon pool and maps outcomes to
//! responses. The verification core underneath never sees hyper or tokio.

pub mod decode;
mod exec;
mod fetch_gate;
pub mod logging;
mod metrics;
pub mod multipart;
mod ops;
mod page;
mod problem;
mod routes;

pub use exec::Executor;
pub use ops::{BuildInfo, BUILD};
pub use problem::Problem;

use crate::config::{RawConfig, ServerConfig};
use crate::verify::{RequestOptions, Verifier};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Response body type: a whole buffer or a stream (batch).
pub type Body = BoxBody<Bytes, Infallible>;

/// A complete body.
pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).boxed()
}

/// Everything a request handler needs, shared by all connections.
pub struct AppState {
    verifier: RwLock<Arc<Verifier>>,
    raw: RawConfig,
    defaults: RequestOptions,
    cfg: ServerConfig,
    exec: Executor,
    metrics: metrics::Metrics,
    ready: AtomicBool,
    next_id: AtomicU64,
    fetcher: Arc<crate::revocation::fetch::HttpFetcher>,
    /// Admits fetch rounds to the blocking pool (issue #13 item 4).
    fetch_gate: fetch_gate::FetchGate,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("cfg", &self.cfg).finish()
    }
}

impl AppState {
    /// Builds the state from a validated configuration (`raw` is kept for `/admin/trust/reload`).
    pub fn new(raw: RawConfig, config: crate::config::Config) -> std::io::Result<Arc<Self>> {
        let exec = Executor::new(config.server.workers, config.server.queue_capacity)?
            .with_inline_max_bytes(config.server.inline_max_bytes);
        Ok(Arc::new(Self {
            verifier: RwLock::new(Arc::new(config.verifier)),
            raw,
            defaults: config.request,
            cfg: config.server,
            exec,
            metrics: metrics::Metrics::default(),
            ready: AtomicBool::new(true),
            next_id: AtomicU64::new(1),
            fetch_gate: fetch_gate::FetchGate::new(
                config.fetcher.policy().per_host,
                config.fetcher.policy().max_total,
            ),
            fetcher: config.fetcher,
        }))
    }

    /// The current verifier (replaced as a whole by a trust reload).
    pub fn verifier(&self) -> Arc<Verifier> {
        match self.verifier.read() {
            Ok(v) => Arc::clone(&v),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace_verifier(&self, v: Verifier) {
        match self.verifier.write() {
            Ok(mut g) => *g = Arc::new(v),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(v),
        }
    }

    /// The server settings.
    pub fn config(&self) -> &ServerConfig {
        &self.cfg
    }
}

/// Serves `listener` until `shutdown` resolves, then stops accepting and gives in-flight requests
/// `shutdown_grace` to finish.
pub async fn serve(
    state: Arc<AppState>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let cfg = state.cfg.clone();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(cfg.header_read_timeout)
        .max_buf_size(cfg.max_header_bytes)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(256)
        .max_header_list_size(u32::try_from(cfg.max_header_bytes).unwrap_or(u32::MAX));
    // Connections accepted while draining serve one request each (the readiness probes that keep
    // coming until the load balancer notices) and are not waited for.
    let mut probe_builder = builder.clone();
    probe_builder.http1().keep_alive(false);
    let tls = cfg.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let refresher = tokio::spawn(refresh_crls(Arc::clone(&state)));
    // The shared revocation cache is asked once at start, so that an unreachable Redis shows
    // in the log and in `tekser_shared_cache_up` from the beginning, not at the first lookup.
    // Serving does not wait for it: without Redis a replica works alone.
    if let Some(shared) = state.verifier().revocation().shared() {
        let cache = Arc::clone(&shared.cache);
        drop(tokio::task::spawn_blocking(move || cache.ping()));
    }
    let mut graceful = Some(GracefulShutdown::new());
    // Set once `shutdown` resolved: the drain of the connections accepted before it.
    let mut drain: Option<tokio::task::JoinHandle<Result<(), tokio::time::error::Elapsed>>> = None;
    let connections = Arc::new(Semaphore::new(cfg.max_connections));
    tokio::pin!(shutdown);
    loop {
        // The accept loop only accepts and spawns: the handshake and every read happen in the
        // connection's own task. After `shutdown` it keeps accepting until the drain ends, so
        // that `/readyz` answers 503 (rather than connection refused) while in-flight requests
        // finish; new verification requests get 503 shutting-down.
        let permit = tokio::select! {
            p = Arc::clone(&connections).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = &mut shutdown, if drain.is_none() => {
                // `graceful` is taken once: this branch is off once `drain` is set.
                match graceful.take() {
                    Some(g) => drain = Some(start_drain(&state, g)),
                    None => break,
                }
                continue;
            }
            r = drained(&mut drain), if drain.is_some() => { drain_ended(r); break }
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown, if drain.is_none() => {
                // `graceful` is taken once: this branch is off once `drain` is set.
                match graceful.take() {
                    Some(g) => drain = Some(start_drain(&state, g)),
                    None => break,
                }
                continue;
            }
            r = drained(&mut drain), if drain.is_some() => { drain_ended(r); break }
        };
        let _ = stream.set_nodelay(true);
        let st = Arc::clone(&state);
        let svc = service_fn(move |req| handle(Arc::clone(&st), req, peer));
        let watcher = graceful.as_ref().map(GracefulShutdown::watcher);
        let builder = if watcher.is_some() {
            builder.clone()
        } else {
            probe_builder.clone()
        };
        let tls = tls.clone();
        let handshake_timeout = cfg.header_read_timeout;
        tokio::spawn(async move {
            let result = match tls {
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), svc);
                    match watcher {
                        Some(w) => w.watch(conn).await,
                        None => conn.await,
                    }
                }
                Some(acceptor) => {
                    // The TLS handshake happens here, in the connection's task, under the same
                    // timeout as a request head.
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => {
                            let conn = builder.serve_connection(TokioIo::new(s), svc);
                            match watcher {
                                Some(w) => w.watch(conn).await,
                                None => conn.await,
                            }
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "TLS handshake failed");
                            Ok(())
                        }
                        Err(_) => Ok(()),
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    refresher.abort();
    Ok(())
}

/// Marks the server not ready and starts draining the connections `graceful` watches, under
/// the grace period.
fn start_drain(
    state: &AppState,
    graceful: GracefulShutdown,
) -> tokio::task::JoinHandle<Result<(), tokio::time::error::Elapsed>> {
    state.ready.store(false, Ordering::SeqCst);
    let grace = state.cfg.shutdown_grace;
    tracing::info!(
        grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
        "shutting down: draining in-flight requests; /readyz answers 503 meanwhile"
    );
    tokio::spawn(tokio::time::timeout(grace, graceful.shutdown()))
}

/// Resolves when the drain started by [`start_drain`] ends (never while there is none).
async fn drained(
    drain: &mut Option<tokio::task::JoinHandle<Result<(), tokio::time::error::Elapsed>>>,
) -> bool {
    match drain.as_mut() {
        // Timed out, or the drain task itself failed: either way connections were left open.
        Some(h) => matches!(h.await, Ok(Ok(()))),
        None => std::future::pending().await,
    }
}

fn drain_ended(clean: bool) {
    if !clean {
        tracing::warn!("shutdown grace period over; closing remaining connections");
    }
}

async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
    peer: std::net::SocketAddr,
) -> Result<Response<Body>, Infallible> {
    let start = Instant::now();
    let id = request_id(&state, &req);
    let route = routes::route_label(req.uri().path());
    let method = req.method().clone();
    let bytes_in = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    // CORS needs the request's Origin after the request itself is consumed: keep it only when
    // CORS is on (a clone of one header, not of the request).
    let cors = &state.cfg.cors_origins;
    let cors_headers = if cors.is_empty() {
        hyper::HeaderMap::new()
    } else {
        let mut h = hyper::HeaderMap::new();
        if let Some(o) = req.headers().get(hyper::header::ORIGIN) {
            h.insert(hyper::header::ORIGIN, o.clone());
        }
        h
    };
    let mut resp = match ops::preflight(cors, &method, req.headers()) {
        Some(r) => r,
        None => {
            match tokio::time::timeout(state.cfg.request_deadline, routes::dispatch(&state, req))
                .await
            {
                Ok(r) => r,
                Err(_) => Problem::unavailable(
                    "deadline-exceeded",
                    "the request did not finish within its deadline",
                    1,
                )
                .response(),
            }
        }
    };
    ops::decorate(cors, &cors_headers, &mut resp);
    if let Ok(v) = hyper::header::HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let status = resp.status().as_u16();
    let secs = start.elapsed().as_secs_f64();
    let problem = resp.extensions().get::<problem::Code>().map(|c| c.0);
    let outcome = resp.extensions().get::<metrics::Outcome>().copied();
    state.metrics.request(route, status, secs);
    // Never the document, never its contents: what was asked, how it ended, how long it took.
    tracing::info!(
        request_id = %id,
        %method,
        route,
        status,
        problem,
        format = outcome.map(|o| o.format),
        indication = outcome.map(|o| o.indication),
        sub_indication = outcome.and_then(|o| o.sub_indication),
        bytes_in,
        bytes_out = http_body::Body::size_hint(resp.body()).exact(),
        duration_ms = secs * 1e3,
        client = %peer,
        "request"
    );
    Ok(resp)
}

/// The caller's `x-request-id` when it is short and printable, else a fresh one.
fn request_id(state: &AppState, req: &Request<Incoming>) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("tk-{:x}", state.next_id.fetch_add(1, Ordering::Relaxed)))
}

/// Refetches cached CRLs shortly before their nextUpdate, so requests keep finding a current CRL
/// instead of waiting for a 20 MB download. Fetches run on the blocking pool.
async fn refresh_crls(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let v = state.verifier();
        for url in v.revocation().due_for_refresh(crate::pki::time::now()) {
            let (v, f) = (Arc::clone(&v), Arc::clone(&state.fetcher));
            let _ = tokio::task::spawn_blocking(move || {
                v.revocation().refresh_crl(
                    &url,
                    f.as_ref(),
                    v.config().policy,
                    crate::pki::time::now(),
                )
            })
            .await;
        }
    }
}
