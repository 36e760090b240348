//! Routes (CONTRACT.md "HTTP"): decode the request, run the verification on the pool, answer.

use super::decode::{
    batch_line_format, batch_line_id, decode_batch_line, decode_shared_job, text_or_b64, BodyKind,
    Job,
};
use super::exec::JobError;
use super::metrics::{Snapshot, ROUTES};
use super::{full, multipart, AppState, Body, Problem};
use crate::revocation::rounds::{drive, Rounds, Step};
use crate::verdict::Verdict;
use crate::verify::{signer_report, Input, RequestOptions, RevocationMode};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper::{header, Method, Request, Response, StatusCode};
use serde::Deserialize;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::sync::{mpsc, Semaphore};

/// The metrics label for a path (bounded set).
pub fn route_label(path: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|r| **r == path)
        .copied()
        .unwrap_or("other")
}

pub(super) async fn dispatch(state: &Arc<AppState>, req: Request<Incoming>) -> Response<Body> {
    let admin = state.cfg.admin_token.is_some();
    let path = req.uri().path().to_owned();
    let hold = Hold::default();
    let r = match (req.method(), path.as_str()) {
        (&Method::POST, "/v1/verify") => verify(state, req, &hold).await,
        (&Method::POST, "/v1/verify/batch") => batch(state, req, &hold).await,
        (&Method::POST, "/v1/certificates/inspect") => inspect(state, req, &hold).await,
        // HEAD as well as GET on the probes: load balancers and uptime checkers send either
        // (hyper sends the head of the GET answer without its body).
        (&Method::GET | &Method::HEAD, "/healthz") => {
            Ok(json(StatusCode::OK, &serde_json::json!({"status": "ok"})))
        }
        (&Method::GET | &Method::HEAD, "/readyz") => readyz(state),
        (&Method::GET, "/metrics") => Ok(metrics(state)),
        (&Method::GET, "/openapi.yaml") => Ok(super::ops::openapi()),
        (&Method::GET, "/version") => Ok(json(StatusCode::OK, &super::ops::version())),
        (&Method::GET, "/admin/cache") if admin => {
            authorized(state, &req).map(|()| admin_cache(state))
        }
        (&Method::POST, "/admin/trust/reload") if admin => match authorized(state, &req) {
            Ok(()) => reload(state).await,
            Err(p) => Err(p),
        },
        (_, "/v1/verify" | "/v1/verify/batch" | "/v1/certificates/inspect") => {
            Err(method_not_allowed("POST"))
        }
        (_, "/healthz" | "/readyz") => Err(method_not_allowed("GET, HEAD")),
        (_, "/metrics" | "/openapi.yaml" | "/version") => Err(method_not_allowed("GET")),
        // The page for people (issue #17): src/http/page.rs.
        (&Method::GET | &Method::HEAD, p) if super::page::has(p) => Ok(super::page::serve(p)),
        (_, p) if super::page::has(p) => Err(method_not_allowed("GET")),
        (_, "/admin/cache") if admin => Err(method_not_allowed("GET")),
        (_, "/admin/trust/reload") if admin => Err(method_not_allowed("POST")),
        _ => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no route {path}"),
        )),
    };
    let response = r.unwrap_or_else(|p| p.response());
    hold.attach(response, state.cfg.body_read_timeout)
}

/// An HTTP/2 request body left unread (it went over its limit), kept until the answer has been
/// sent and then drained in the background. Why: an h2 stream whose request body is dropped
/// while the client still uploads is reset (CANCEL before the response, NO_ERROR after it), and
/// curl (7.88) reports a stream error instead of the 413 either way. Read to its end after the
/// 413 has gone out, the stream closes normally and the client reads the answer. The draining is
/// bounded by [`H2_DRAIN_MAX`] bytes and the body-read timeout; past either the stream is reset
/// (NO_ERROR, as RFC 9113 §8.1 allows after a complete response).
#[derive(Default)]
struct Hold(std::sync::Mutex<Option<Incoming>>);

/// Bytes of an over-limit HTTP/2 body read and discarded after the 413. 64 MiB lets a client
/// that uploads a typical oversized document (tens of MB) finish and read the 413; beyond it the
/// stream is reset instead of reading on.
const H2_DRAIN_MAX: usize = 64 << 20;

impl Hold {
    fn keep(&self, body: Incoming) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(body);
        }
    }

    /// The response, carrying the kept body (if any) until its own body has been sent.
    fn attach(self, response: Response<Body>, drain_for: std::time::Duration) -> Response<Body> {
        match self.0.into_inner().ok().flatten() {
            Some(request_body) => response.map(|inner| {
                HeldBody {
                    inner,
                    request_body: std::sync::Mutex::new(Some(request_body)),
                    drain_for,
                }
                .boxed()
            }),
            None => response,
        }
    }
}

/// A response body that keeps the request body alive until it is dropped itself, then drains it
/// (a `Mutex` only to make the pair `Sync`, as the boxed response body type requires).
struct HeldBody {
    inner: Body,
    request_body: std::sync::Mutex<Option<Incoming>>,
    drain_for: std::time::Duration,
}

impl Drop for HeldBody {
    fn drop(&mut self) {
        let body = self.request_body.get_mut().ok().and_then(Option::take);
        // Dropped by hyper's connection task, on the runtime; without one the body just drops.
        if let (Some(mut body), Ok(rt)) = (body, tokio::runtime::Handle::try_current()) {
            let drain_for = self.drain_for;
            rt.spawn(async move {
                let drain = async {
                    let mut read = 0usize;
                    while let Some(Ok(frame)) = body.frame().await {
                        read = read.saturating_add(frame.data_ref().map_or(0, Bytes::len));
                        if read > H2_DRAIN_MAX {
                            break;
                        }
                    }
                };
                let _ = tokio::time::timeout(drain_for, drain).await;
            });
        }
    }
}

impl hyper::body::Body for HeldBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

fn method_not_allowed(allow: &'static str) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("use {allow}"),
    )
}

fn json(status: StatusCode, v: &serde_json::Value) -> Response<Body> {
    response(status, "application/json", v.to_string())
}

fn response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(full(body))
        .unwrap_or_else(|_| Response::new(full(Bytes::new())))
}

/// The media type without parameters, lower-cased, and the header as sent. A request with two
/// Content-Type headers is refused: which one applies is not the request's to leave open (a
/// proxy in front may have read the other one).
fn media_type(req: &Request<Incoming>) -> Result<(String, String), Problem> {
    if req
        .headers()
        .get_all(header::CONTENT_TYPE)
        .iter()
        .nth(1)
        .is_some()
    {
        return Err(Problem::bad_request(
            "more than one Content-Type header: send exactly one",
        ));
    }
    let raw = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mt = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    Ok((mt, raw))
}

/// Bytes read and thrown away after a body turns out too large, so that the client (still
/// uploading) receives the 413 instead of a reset connection. Bounded: beyond it we just answer.
const DRAIN_MAX: usize = 1 << 20;

/// Most bytes reserved for a body from its Content-Length before any arrive (larger bodies
/// grow from there): 16 MiB, above the PDFs and CMS files this service sees most.
const PREALLOCATE_MAX: usize = 16 << 20;

/// Reads the body under `limit` bytes and the body-read timeout.
///
/// Over the limit, an HTTP/1.1 body is drained (bounded) so that the client, still uploading,
/// reads the 413 instead of a reset connection; an HTTP/2 body is left unread and kept in `hold`
/// until the 413 has been sent (flow control stops the client; see [`Hold`]).
async fn read_body(
    state: &AppState,
    req: Request<Incoming>,
    limit: usize,
    hold: &Hold,
) -> Result<Bytes, Problem> {
    let declared = content_length(&req);
    let h2 = req.version() == hyper::Version::HTTP_2;
    let too_big_declared = declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX));
    if h2 && too_big_declared {
        hold.keep(req.into_body());
        return Err(Problem::too_large(limit));
    }
    let read = async {
        let mut body = req.into_body();
        // One allocation for a body of declared length (a 5 MB PDF grew through ~20 doublings,
        // copying ~10 MB; issue #15). Capped: a client that declares much and sends little
        // gets at most PREALLOCATE_MAX reserved, and pages are only touched as data arrives.
        let reserve = declared
            .and_then(|n| usize::try_from(n).ok())
            .filter(|_| !too_big_declared)
            .map_or(0, |n| n.min(limit).min(PREALLOCATE_MAX));
        let mut buf = bytes::BytesMut::with_capacity(reserve);
        let mut over = too_big_declared;
        let mut drained = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|e| Problem::bad_request(format!("cannot read the request body: {e}")))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if over {
                drained += data.len();
                if drained > DRAIN_MAX {
                    break;
                }
            } else if buf.len() + data.len() > limit {
                if h2 {
                    hold.keep(body);
                    return Err(Problem::too_large(limit));
                }
                over = true;
                drained = data.len();
                buf = bytes::BytesMut::new();
            } else {
                buf.extend_from_slice(&data);
            }
        }
        if over {
            Err(Problem::too_large(limit))
        } else {
            Ok(buf.freeze())
        }
    };
    match tokio::time::timeout(state.cfg.body_read_timeout, read).await {
        Ok(r) => r,
        Err(_) if too_big_declared => Err(Problem::too_large(limit)),
        Err(_) => Err(Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "body-timeout",
            "the request body did not arrive within the body-read timeout",
        )),
    }
}

fn content_length(req: &Request<Incoming>) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// `at`, `revocation` and `barcodes` from the query string override the server defaults.
fn request_options(state: &AppState, req: &Request<Incoming>) -> Result<RequestOptions, Problem> {
    let mut o = state.defaults;
    let mut seen: Vec<&str> = Vec::with_capacity(3);
    for pair in req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        // Given twice, which one applies is not the request's to leave open (a proxy or a
        // log may have read the other, as with two Content-Type headers).
        if matches!(k, "at" | "revocation" | "barcodes") {
            if seen.contains(&k) {
                return Err(Problem::bad_request(format!(
                    "query parameter {k} given more than once"
                )));
            }
            seen.push(k);
        }
        let v = crate::input::percent_decode(v)
            .ok_or_else(|| Problem::bad_request(format!("query parameter {k}: bad %-escape")))?;
        match k {
            "at" => o.at = Some(crate::pki::time::parse_rfc3339(&v).map_err(Problem::bad_request)?),
            "revocation" => o.revocation = v.parse().map_err(Problem::bad_request)?,
            "barcodes" => o.barcodes = v.parse().map_err(Problem::bad_request)?,
            _ => {}
        }
    }
    Ok(o)
}

/// The media types `POST /v1/verify` accepts, as a 415 lists them (kept beside the match in
/// [`read_verify_body`]).
const VERIFY_TYPES: &str = "application/pkcs7-signature, application/pkcs7-mime, application/cms, \
    application/octet-stream (CMS), multipart/form-data (parts signature, content), \
    application/json, application/pdf, application/xml, text/xml, image/png, image/jpeg, \
    text/plain (barcode payloads, one a line)";

/// Reads the body under the limit of its content type; decoding happens later, on the pool.
async fn read_verify_body(
    state: &AppState,
    req: Request<Incoming>,
    hold: &Hold,
) -> Result<(BodyKind, Bytes), Problem> {
    let (mt, raw_ct) = media_type(&req)?;
    let cfg = &state.cfg;
    let (kind, limit) = match mt.as_str() {
        "application/pkcs7-signature"
        | "application/pkcs7-mime"
        | "application/cms"
        | "application/octet-stream" => (BodyKind::Der, cfg.max_body_bytes),
        "multipart/form-data" => {
            let boundary = multipart::boundary(&raw_ct)
                .ok_or_else(|| Problem::bad_request("multipart without boundary"))?;
            (BodyKind::Multipart(boundary), cfg.max_body_bytes)
        }
        "application/json" => (BodyKind::Json, cfg.max_text_body_bytes),
        "application/pdf" => (BodyKind::Pdf, cfg.max_body_bytes),
        "image/png" | "image/jpeg" => (BodyKind::Image, cfg.max_body_bytes),
        "application/xml" | "text/xml" => (BodyKind::Xml, cfg.max_body_bytes),
        "text/plain" => (BodyKind::Text, cfg.max_text_body_bytes),
        "" => {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                format!("Content-Type is required; accepted: {VERIFY_TYPES}"),
            ))
        }
        other => {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                format!("unsupported Content-Type {other}; accepted: {VERIFY_TYPES}"),
            ))
        }
    };
    let body = read_body(state, req, limit, hold).await?;
    Ok((kind, body))
}

/// Runs a job on the verifier (on a rayon thread): one verification round of `rounds`.
fn run_job<T>(
    state: &AppState,
    job: &Job,
    opts: RequestOptions,
    rounds: &Rounds,
    finish: impl FnOnce(Verdict) -> T,
) -> Step<T> {
    let v = state.verifier();
    let start = Instant::now();
    let refs: Vec<&[u8]>;
    let input = match job {
        Job::Cms { signature, content } => Input::Cms {
            signature,
            content: content.as_deref(),
        },
        Job::Xml(document) => Input::Xml(document),
        Job::Pdf(pdf) => Input::Pdf(pdf),
        Job::Image(img) => {
            refs = vec![img.as_slice()];
            Input::BarcodeImages {
                images: &refs,
                content: None,
            }
        }
        Job::Barcodes { payloads, content } => {
            refs = payloads.iter().map(Vec::as_slice).collect();
            Input::Barcodes {
                payloads: &refs,
                content: content.as_deref(),
            }
        }
    };
    let (verdict, jobs) = v.verify_collect(&input, &opts, rounds.run());
    let secs = start.elapsed().as_secs_f64();
    // Counted once per request, for the verdict that is answered: a round's verdict that the
    // next round replaces is not a verdict.
    rounds.step((verdict, jobs), |verdict| {
        state.metrics.verification(secs, &verdict);
        finish(verdict)
    })
}

/// Runs `work` on the verification pool through the fetch-round driver: when it asks for
/// revocation data, the data is fetched on the blocking pool (a verification thread never waits
/// on the network) and `work` runs again. `work(rounds)` answers with `rounds.step(...)`.
async fn with_fetches<T: Send + 'static>(
    state: &Arc<AppState>,
    wait_for_pool: bool,
    mode: RevocationMode,
    work: impl Fn(&Rounds) -> Step<T> + Send + Sync + 'static,
) -> Result<T, JobError> {
    with_fetches_sized(state, wait_for_pool, usize::MAX, mode, work).await
}

/// [`with_fetches`] for a job over `size` input bytes: small ones may run inline
/// ([`super::Executor::try_run_sized`]).
async fn with_fetches_sized<T: Send + 'static>(
    state: &Arc<AppState>,
    wait_for_pool: bool,
    size: usize,
    mode: RevocationMode,
    work: impl Fn(&Rounds) -> Step<T> + Send + Sync + 'static,
) -> Result<T, JobError> {
    let work = Arc::new(work);
    // One revocation deadline per request (issue #13 item 6): past it the last round runs
    // with what is cached, and every fetch of the request gives up by then.
    let v = state.verifier();
    let rounds = Rounds::new(v.config().revocation.deadline, mode, v.new_work());
    drive(
        rounds,
        |r| {
            let (w, r, st) = (Arc::clone(&work), r.clone(), Arc::clone(state));
            async move {
                let f = move || w(&r);
                if wait_for_pool {
                    st.exec.run(f).await
                } else {
                    st.exec.try_run_sized(size, f).await
                }
            }
        },
        |jobs, deadline| {
            let (v, fetcher, st) = (
                state.verifier(),
                Arc::clone(&state.fetcher),
                Arc::clone(state),
            );
            async move {
                // Wait for admission without a thread (issue #13 item 4); not admitted by the
                // deadline, nothing ran and the next verification is the last.
                let Some(admitted) = st.fetch_gate.admit(&jobs, deadline).await else {
                    return Vec::new();
                };
                tokio::task::spawn_blocking(move || {
                    let _admitted = admitted;
                    v.run_fetches_until(&jobs, fetcher.as_ref(), deadline);
                    jobs
                })
                .await
                .unwrap_or_default()
            }
        },
    )
    .await
}

fn job_error(e: JobError) -> Problem {
    match e {
        JobError::Busy => Problem::unavailable(
            "queue-full",
            "the verification queue is full; retry shortly",
            1,
        ),
        JobError::Panicked => Problem::internal(),
    }
}

async fn verify(
    state: &Arc<AppState>,
    req: Request<Incoming>,
    hold: &Hold,
) -> Result<Response<Body>, Problem> {
    if !state.ready.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(Problem::unavailable(
            "shutting-down",
            "the server is shutting down",
            5,
        ));
    }
    let opts = request_options(state, &req)?;
    let (kind, body) = read_verify_body(state, req, hold).await?;
    let st = Arc::clone(state);
    // Decoding, verification and serialisation all run on the pool; the I/O thread only moves bytes.
    let size = body.len();
    // Decoded once, on the pool, at the first run, and kept for the request's later fetch
    // rounds (JSON, base64 and multipart are not parsed again per round), as inspect does.
    let decoded: Arc<std::sync::OnceLock<Result<Job, Problem>>> = Arc::default();
    let json = with_fetches_sized(
        state,
        false,
        size,
        opts.revocation,
        move |rounds| match decoded.get_or_init(|| decode_shared_job(kind.clone(), &body)) {
            Ok(job) => run_job(&st, job, opts, rounds, |v| {
                Ok((v.to_json_compact(), super::metrics::Outcome::of(&v)))
            }),
            Err(p) => rounds.step(((), Vec::new()), |()| Err(p.clone())),
        },
    )
    .await
    .map_err(job_error)??;
    let (json, outcome) = json;
    let mut resp = response(StatusCode::OK, "application/json", json);
    // The verdict's labels travel with the response to the request log.
    resp.extensions_mut().insert(outcome);
    Ok(resp)
}

/// A response body fed by a channel: each batch line is sent as soon as its item is done.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

/// One NDJSON output line: the verdict with the request's `id` first, then its `line` number
/// (from 1), so that a line sent without an `id` can still be matched to its answer.
fn batch_line(id: &serde_json::Value, n: usize, verdict: &Verdict) -> Bytes {
    let v = verdict.to_json_compact();
    let id = serde_json::to_string(id).unwrap_or_else(|_| "null".into());
    let line = n.saturating_add(1);
    // A verdict serialises as an object: splice `"id": …` in after its opening brace.
    let rest = v.strip_prefix('{').unwrap_or("}");
    Bytes::from(format!("{{\"id\":{id},\"line\":{line},{rest}\n"))
}

/// Everything one batch line needs, done on the pool: parse, decode, verify, serialise; or the
/// revocation fetches it needs first.
fn batch_item(
    state: &AppState,
    n: usize,
    line: &[u8],
    opts: RequestOptions,
    rounds: &Rounds,
) -> Step<Bytes> {
    let (id, job) = decode_batch_line(n, line);
    match job {
        Ok(job) => run_job(state, &job, opts, rounds, |v| batch_line(&id, n, &v)),
        Err((format, p)) => {
            let v = Verdict::format_failure(format, p.code, p.detail);
            rounds.step(((), Vec::new()), |()| batch_line(&id, n, &v))
        }
    }
}

async fn batch(
    state: &Arc<AppState>,
    req: Request<Incoming>,
    hold: &Hold,
) -> Result<Response<Body>, Problem> {
    let opts = request_options(state, &req)?;
    let (mt, _) = media_type(&req)?;
    if !matches!(
        mt.as_str(),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/json"
    ) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "the batch body is NDJSON, one request object a line; accepted: application/x-ndjson, \
             application/ndjson, application/jsonl, application/json",
        ));
    }
    let body = read_body(state, req, state.cfg.max_batch_bytes, hold).await?;
    if body.trim_ascii().is_empty() {
        return Err(Problem::bad_request("the batch body is empty"));
    }
    let (tx, rx) = mpsc::channel::<Bytes>(state.cfg.batch_in_flight * 2);
    let st = Arc::clone(state);
    tokio::spawn(async move {
        let in_flight = Arc::new(Semaphore::new(st.cfg.batch_in_flight));
        let mut tasks = tokio::task::JoinSet::new();
        let mut offset = 0;
        for (n, raw_line) in body.split(|b| *b == b'\n').enumerate() {
            // A zero-copy slice of the body: cheap to hand to the pool and to keep for the id.
            let line = body.slice(offset..offset + raw_line.len());
            offset += raw_line.len() + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
                break;
            };
            let (st, tx) = (Arc::clone(&st), tx.clone());
            tasks.spawn(async move {
                let (st2, input) = (Arc::clone(&st), line.clone());
                let work = move |rounds: &Rounds| batch_item(&st2, n, &input, opts, rounds);
                let out = match with_fetches(&st, true, opts.revocation, work).await {
                    Ok(b) => b,
                    Err(e) => {
                        // The item's verification panicked: still answer for its id.
                        let id = batch_line_id(&line);
                        let v = Verdict::format_failure(
                            batch_line_format(&line),
                            job_error(e).code,
                            "verification failed unexpectedly",
                        );
                        batch_line(&id, n, &v)
                    }
                };
                let _ = tx.send(out).await;
                drop(permit);
            });
            // Reap finished tasks as we go so the set stays small.
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(ChannelBody(rx).boxed())
        .unwrap_or_else(|_| Response::new(full(Bytes::new()))))
}

#[derive(Debug, Deserialize)]
struct InspectJson {
    cert: String,
}

async fn inspect(
    state: &Arc<AppState>,
    req: Request<Incoming>,
    hold: &Hold,
) -> Result<Response<Body>, Problem> {
    let opts = request_options(state, &req)?;
    let (mt, _) = media_type(&req)?;
    let body = read_body(state, req, state.cfg.max_text_body_bytes, hold).await?;
    let json_body = mt == "application/json";
    let st = Arc::clone(state);
    // Decoded and parsed once, on the pool (JSON and base64 of up to max_text_body_bytes are CPU
    // work for no tokio thread), and kept for the request's later fetch rounds.
    type Parsed = Result<
        (
            Arc<crate::pki::cert::Certificate>,
            Vec<Arc<crate::pki::cert::Certificate>>,
        ),
        Problem,
    >;
    let parsed: Arc<std::sync::OnceLock<Parsed>> = Arc::default();
    let out = with_fetches(state, false, opts.revocation, move |rounds: &Rounds| {
        let r = (|| -> Result<Step<Result<serde_json::Value, Problem>>, Problem> {
            let v = st.verifier();
            let (leaf, extra) = parsed
                .get_or_init(|| {
                    let der = if json_body {
                        let r: InspectJson = serde_json::from_slice(&body)
                            .map_err(|e| Problem::bad_request(format!("invalid JSON: {e}")))?;
                        text_or_b64("cert", &r.cert)?
                    } else {
                        body.to_vec()
                    };
                    // The certificate-count budget `verify chain` has, applied while reading.
                    let max = v.limits().max_certificates;
                    let mut certs =
                        crate::pki::trust::parse_bundle_at_most(&der, max).map_err(|e| {
                            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "not-a-certificate", e)
                        })?;
                    if certs.is_empty() {
                        return Err(Problem::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "not-a-certificate",
                            "no certificate",
                        ));
                    }
                    let leaf = Arc::new(certs.remove(0));
                    Ok((leaf, certs.into_iter().map(Arc::new).collect()))
                })
                .clone()?;
            let input = Input::Certificate {
                leaf: &leaf,
                extra: &extra,
                max_depth: None,
            };
            let collected = v.verify_collect(&input, &opts, rounds.run());
            Ok(rounds.step(collected, |verdict| {
                let ku = leaf.ext.key_usage.map(key_usage_names);
                Ok(serde_json::json!({
                "certificate": {
                    "signer": signer_report(&leaf),
                    "not_before": leaf.validity_text.0,
                    "not_after": leaf.validity_text.1,
                    "key_usage": ku,
                    "is_ca": matches!(leaf.ext.basic_constraints, Some((true, _))),
                    "sha256": crate::asn1::hex(&leaf.fingerprint),
                },
                "verdict": verdict,
                }))
            }))
        })();
        r.unwrap_or_else(|p| rounds.step(((), Vec::new()), |()| Err(p)))
    })
    .await
    .map_err(job_error)??;
    Ok(json(StatusCode::OK, &out))
}

fn key_usage_names(bits: u16) -> Vec<&'static str> {
    const NAMES: [&str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

fn readyz(state: &AppState) -> Result<Response<Body>, Problem> {
    if state.ready.load(std::sync::atomic::Ordering::SeqCst) {
        Ok(json(
            StatusCode::OK,
            &serde_json::json!({"status": "ready", "trust_anchors": state.verifier().trust().len()}),
        ))
    } else {
        Err(Problem::unavailable(
            "shutting-down",
            "the server is shutting down",
            5,
        ))
    }
}

fn snapshot(state: &AppState) -> Snapshot {
    Snapshot {
        queue_depth: state.exec.depth(),
        queue_rejections: state.exec.rejected(),
        panics: state.exec.panics(),
        cache: state.verifier().cache_stats(),
        revocation: state.verifier().revocation().stats(),
        trust_anchors: state.verifier().trust().len(),
        trust_anchor_earliest_expiry: state
            .verifier()
            .trust()
            .entries()
            .map(|(c, _)| c.not_after)
            .min(),
    }
}

fn metrics(state: &AppState) -> Response<Body> {
    response(
        StatusCode::OK,
        "text/plain; version=0.0.4",
        state.metrics.render(&snapshot(state)),
    )
}

/// `Authorization: Bearer <token>`, compared in constant time.
fn authorized(state: &AppState, req: &Request<Incoming>) -> Result<(), Problem> {
    let want = state.cfg.admin_token.as_deref().unwrap_or("").as_bytes();
    let got = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .as_bytes();
    if !want.is_empty() && constant_time_eq(want, got) {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "admin routes need the configured bearer token",
        ))
    }
}

/// Equal-length comparison without early exit; the length itself is not secret.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn admin_cache(state: &AppState) -> Response<Body> {
    let s = snapshot(state);
    let (c, r) = (&s.cache, &s.revocation);
    let rate = |h: u64, m: u64| {
        if h + m == 0 {
            0.0
        } else {
            h as f64 / (h + m) as f64
        }
    };
    json(
        StatusCode::OK,
        &serde_json::json!({
            "path_cache": {"entries": c.path_entries, "hits": c.path_hits, "misses": c.path_misses, "hit_rate": rate(c.path_hits, c.path_misses)},
            "certificate_cache": {"entries": c.cert_entries, "hits": c.cert_hits, "misses": c.cert_misses, "hit_rate": rate(c.cert_hits, c.cert_misses)},
            "ocsp_cache": {"entries": r.ocsp_entries, "hits": r.ocsp_hits, "misses": r.ocsp_misses, "hit_rate": rate(r.ocsp_hits, r.ocsp_misses)},
            "crl_cache": {"entries": r.crl_entries, "hits": r.crl_hits, "misses": r.crl_misses, "hit_rate": rate(r.crl_hits, r.crl_misses), "earliest_next_update": r.crl_earliest_next_update},
            "crl_signature_cache": {"entries": r.crl_signature_entries},
            "queue": {"depth": s.queue_depth, "rejections": s.queue_rejections, "workers": state.exec.threads()},
        }),
    )
}

async fn reload(state: &Arc<AppState>) -> Result<Response<Body>, Problem> {
    let raw = state.raw.clone();
    // File reads and certificate parsing: off the async threads.
    let loaded = tokio::task::spawn_blocking(move || raw.validate())
        .await
        .map_err(|_| Problem::internal())?
        .map_err(|e| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reload-failed",
                e.to_string(),
            )
        })?;
    let anchors = loaded.verifier.trust().len();
    let version = loaded.verifier.trust().version();
    state.replace_verifier(loaded.verifier);
    tracing::info!(anchors, "trust store reloaded");
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({"reloaded": true, "trust_anchors": anchors, "trust_version": format!("{version:016x}")}),
    ))
}

/// The status a job failure maps to (for tests of the mapping).
#[cfg(test)]
pub(super) fn job_error_status(e: JobError) -> u16 {
    job_error(e).status.as_u16()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!(
            key_usage_names(0b11),
            vec!["digitalSignature", "nonRepudiation"]
        );
        assert_eq!(route_label("/v1/verify"), "/v1/verify");
        assert_eq!(route_label("/etc/passwd"), "other");
    }
}
