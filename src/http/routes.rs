//! Routes (CONTRACT.md "HTTP"): decode the request, run the verification on the pool, answer.

use super::decode::{b64, batch_line_id, decode_batch_line, decode_shared_job, BodyKind, Job};
use super::exec::JobError;
use super::metrics::{Snapshot, ROUTES};
use super::{full, multipart, AppState, Body, Problem};
use crate::revocation::FetchJob;
use crate::verdict::Verdict;
use crate::verify::{signer_report, RequestOptions};
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
    let r = match (req.method(), path.as_str()) {
        (&Method::POST, "/v1/verify") => verify(state, req).await,
        (&Method::POST, "/v1/verify/batch") => batch(state, req).await,
        (&Method::POST, "/v1/certificates/inspect") => inspect(state, req).await,
        (&Method::GET, "/healthz") => {
            Ok(json(StatusCode::OK, &serde_json::json!({"status": "ok"})))
        }
        (&Method::GET, "/readyz") => readyz(state),
        (&Method::GET, "/metrics") => Ok(metrics(state)),
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
        (_, "/healthz" | "/readyz" | "/metrics") => Err(method_not_allowed("GET")),
        (_, "/admin/cache") if admin => Err(method_not_allowed("GET")),
        (_, "/admin/trust/reload") if admin => Err(method_not_allowed("POST")),
        _ => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no route {path}"),
        )),
    };
    r.unwrap_or_else(|p| p.response())
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

/// The media type without parameters, lower-cased.
fn media_type(req: &Request<Incoming>) -> (String, String) {
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
    (mt, raw)
}

/// Bytes read and thrown away after a body turns out too large, so that the client (still
/// uploading) receives the 413 instead of a reset connection. Bounded: beyond it we just answer.
const DRAIN_MAX: usize = 1 << 20;

/// Most bytes reserved for a body from its Content-Length before any arrive (larger bodies
/// grow from there): 16 MiB, above the PDFs and CMS files this service sees most.
const PREALLOCATE_MAX: usize = 16 << 20;

/// Reads the body under `limit` bytes and the body-read timeout.
async fn read_body(
    state: &AppState,
    body: Incoming,
    declared: Option<u64>,
    limit: usize,
) -> Result<Bytes, Problem> {
    let too_big_declared = declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX));
    let read = async {
        let mut body = body;
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
    for pair in req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        match k {
            "at" => o.at = Some(crate::pki::time::parse_rfc3339(&v).map_err(Problem::bad_request)?),
            "revocation" => o.revocation = v.parse().map_err(Problem::bad_request)?,
            "barcodes" => o.barcodes = v.parse().map_err(Problem::bad_request)?,
            _ => {}
        }
    }
    Ok(o)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b.get(i), b.get(i + 1..i + 3)) {
            (Some(b'%'), Some(h)) => match std::str::from_utf8(h)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(x) => {
                    out.push(x);
                    i += 3;
                }
                None => {
                    out.push(b'%');
                    i += 1;
                }
            },
            (Some(c), _) => {
                out.push(*c);
                i += 1;
            }
            (None, _) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the body under the limit of its content type; decoding happens later, on the pool.
async fn read_verify_body(
    state: &AppState,
    req: Request<Incoming>,
) -> Result<(BodyKind, Bytes), Problem> {
    let (mt, raw_ct) = media_type(&req);
    let declared = content_length(&req);
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
                "Content-Type is required",
            ))
        }
        other => {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                format!("unsupported Content-Type {other}"),
            ))
        }
    };
    let body = read_body(state, req.into_body(), declared, limit).await?;
    Ok((kind, body))
}

/// Runs a job on the verifier (on a rayon thread); also returns the revocation fetches that would
/// complete it.
fn run_job(
    state: &AppState,
    job: Job,
    opts: RequestOptions,
    done: &[FetchJob],
) -> (Verdict, Vec<FetchJob>) {
    let v = state.verifier();
    let start = Instant::now();
    let (format, (verdict, jobs)) = match job {
        Job::Cms { signature, content } => (
            "cms",
            v.verify_cms_collect(&signature, content.as_deref(), &opts, done),
        ),
        Job::Xml(document) => ("xml", v.verify_xml_collect(&document, &opts, done)),
        Job::Pdf(pdf) => ("pdf", v.verify_pdf_collect(&pdf, &opts, done)),
        Job::Image(img) => (
            "barcode",
            v.verify_barcode_images_collect(&[img.as_slice()], None, &opts, done),
        ),
        Job::Barcodes { payloads, content } => {
            let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            (
                "barcode",
                v.verify_barcodes_collect(&refs, content.as_deref(), &opts, done),
            )
        }
    };
    state.metrics.verification(
        format,
        start.elapsed().as_secs_f64(),
        indication_label(&verdict),
    );
    (verdict, jobs)
}

/// Most fetch rounds per request: OCSP, then CRLs where OCSP failed, then delta CRLs.
const FETCH_ROUNDS: usize = 3;

/// Runs `work` on the verification pool; when it asks for revocation data, fetches it on the
/// blocking pool (a verification thread never waits on the network) and runs `work` again.
/// `work(last, done)` must finish when `last` is true; `done` lists the fetches already run.
async fn with_fetches<T: Send + 'static>(
    state: &Arc<AppState>,
    wait_for_pool: bool,
    work: impl Fn(bool, &[FetchJob]) -> Result<T, Vec<FetchJob>> + Send + Sync + 'static,
) -> Result<T, JobError> {
    with_fetches_sized(state, wait_for_pool, usize::MAX, work).await
}

/// [`with_fetches`] for a job over `size` input bytes: small ones may run inline
/// ([`super::Executor::try_run_sized`]).
async fn with_fetches_sized<T: Send + 'static>(
    state: &Arc<AppState>,
    wait_for_pool: bool,
    size: usize,
    work: impl Fn(bool, &[FetchJob]) -> Result<T, Vec<FetchJob>> + Send + Sync + 'static,
) -> Result<T, JobError> {
    let work = Arc::new(work);
    let mut done: Arc<Vec<FetchJob>> = Arc::new(Vec::new());
    // One revocation deadline per request (issue #13 item 6): past it the last round runs
    // with what is cached, and every fetch of the request gives up by then.
    let deadline = std::time::Instant::now() + state.verifier().config().revocation.deadline;
    // Set when a round asked only for fetches this request already ran: nothing new can come,
    // so the next run is the last (a dead responder must not buy more verification rounds).
    let mut stalled = false;
    for round in 0..=FETCH_ROUNDS {
        let (w, d) = (Arc::clone(&work), Arc::clone(&done));
        let last = stalled || round == FETCH_ROUNDS || std::time::Instant::now() >= deadline;
        let f = move || w(last, &d);
        let out = if wait_for_pool {
            state.exec.run(f).await?
        } else {
            state.exec.try_run_sized(size, f).await?
        };
        match out {
            Ok(t) => return Ok(t),
            Err(mut jobs) => {
                jobs.retain(|j| !done.iter().any(|d| d.same(j)));
                if jobs.is_empty() {
                    stalled = true;
                    continue;
                }
                let (v, fetcher) = (state.verifier(), Arc::clone(&state.fetcher));
                let ran = tokio::task::spawn_blocking(move || {
                    v.run_fetches_until(&jobs, fetcher.as_ref(), deadline);
                    jobs
                })
                .await
                .unwrap_or_default();
                let mut all = Vec::clone(&done);
                all.extend(ran);
                done = Arc::new(all);
            }
        }
    }
    Err(JobError::Panicked)
}

fn indication_label(v: &Verdict) -> &'static str {
    match v.indication() {
        crate::verdict::Indication::TOTAL_PASSED => "TOTAL_PASSED",
        crate::verdict::Indication::TOTAL_FAILED => "TOTAL_FAILED",
        crate::verdict::Indication::INDETERMINATE => "INDETERMINATE",
    }
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

async fn verify(state: &Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, Problem> {
    if !state.ready.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(Problem::unavailable(
            "shutting-down",
            "the server is shutting down",
            5,
        ));
    }
    let opts = request_options(state, &req)?;
    let (kind, body) = read_verify_body(state, req).await?;
    let st = Arc::clone(state);
    // Decoding, verification and serialisation all run on the pool; the I/O thread only moves bytes.
    let size = body.len();
    let json = with_fetches_sized(state, false, size, move |last, done| {
        let job = match decode_shared_job(kind.clone(), &body) {
            Ok(j) => j,
            Err(p) => return Ok(Err(p)),
        };
        match run_job(&st, job, opts, done) {
            (_, jobs) if !jobs.is_empty() && !last => Err(jobs),
            (v, _) => Ok(Ok(v.to_json_compact())),
        }
    })
    .await
    .map_err(job_error)??;
    Ok(response(StatusCode::OK, "application/json", json))
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

/// One NDJSON output line: the verdict with the request's `id` first.
fn batch_line(id: &serde_json::Value, verdict: &Verdict) -> Bytes {
    let v = verdict.to_json_compact();
    let id = serde_json::to_string(id).unwrap_or_else(|_| "null".into());
    // A verdict serialises as an object: splice `"id": …` in after its opening brace.
    let rest = v.strip_prefix('{').unwrap_or("}");
    Bytes::from(format!("{{\"id\":{id},{rest}\n"))
}

/// Everything one batch line needs, done on the pool: parse, decode, verify, serialise; or the
/// revocation fetches it needs first (unless `last`).
fn batch_item(
    state: &AppState,
    n: usize,
    line: &[u8],
    opts: RequestOptions,
    last: bool,
    done: &[FetchJob],
) -> Result<Bytes, Vec<FetchJob>> {
    let (id, job) = decode_batch_line(n, line);
    let verdict = match job {
        Ok(job) => match run_job(state, job, opts, done) {
            (_, jobs) if !jobs.is_empty() && !last => return Err(jobs),
            (v, _) => v,
        },
        Err(p) => Verdict::format_failure(crate::verdict::Format::Cms, p.code, p.detail),
    };
    Ok(batch_line(&id, &verdict))
}

async fn batch(state: &Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, Problem> {
    let opts = request_options(state, &req)?;
    let (mt, _) = media_type(&req);
    if !matches!(
        mt.as_str(),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/json"
    ) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "the batch body is NDJSON (application/x-ndjson): one request object a line",
        ));
    }
    let declared = content_length(&req);
    let body = read_body(state, req.into_body(), declared, state.cfg.max_batch_bytes).await?;
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
                let work =
                    move |last, done: &[FetchJob]| batch_item(&st2, n, &input, opts, last, done);
                let out = match with_fetches(&st, true, work).await {
                    Ok(b) => b,
                    Err(e) => {
                        // The item's verification panicked: still answer for its id.
                        let id = batch_line_id(&line);
                        let v = Verdict::format_failure(
                            crate::verdict::Format::Cms,
                            job_error(e).code,
                            "verification failed unexpectedly",
                        );
                        batch_line(&id, &v)
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

async fn inspect(state: &Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, Problem> {
    let opts = request_options(state, &req)?;
    let (mt, _) = media_type(&req);
    let declared = content_length(&req);
    let body = read_body(
        state,
        req.into_body(),
        declared,
        state.cfg.max_text_body_bytes,
    )
    .await?;
    let der = if mt == "application/json" {
        let r: InspectJson = serde_json::from_slice(&body)
            .map_err(|e| Problem::bad_request(format!("invalid JSON: {e}")))?;
        b64("cert", &r.cert)?
    } else {
        body.to_vec()
    };
    let st = Arc::clone(state);
    let out = with_fetches(state, false, move |last, done: &[FetchJob]| {
        let r = (|| -> Result<Result<serde_json::Value, Vec<FetchJob>>, Problem> {
            let v = st.verifier();
            // The certificate-count budget `verify chain` has, applied while reading.
            let max = v.limits().max_certificates;
            let mut certs = crate::pki::trust::parse_bundle_at_most(&der, max).map_err(|e| {
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
            let extra: Vec<_> = certs.into_iter().map(Arc::new).collect();
            let verdict = match v.verify_certificate_collect(&leaf, &extra, None, &opts, done) {
                (_, jobs) if !jobs.is_empty() && !last => return Ok(Err(jobs)),
                (verdict, _) => verdict,
            };
            let ku = leaf.ext.key_usage.map(key_usage_names);
            Ok(Ok(serde_json::json!({
                "certificate": {
                    "signer": signer_report(&leaf),
                    "not_before": leaf.validity_text.0,
                    "not_after": leaf.validity_text.1,
                    "key_usage": ku,
                    "is_ca": matches!(leaf.ext.basic_constraints, Some((true, _))),
                    "sha256": crate::asn1::hex(&leaf.fingerprint),
                },
                "verdict": verdict,
            })))
        })();
        match r {
            Ok(Ok(v)) => Ok(Ok(v)),
            Ok(Err(jobs)) => Err(jobs),
            Err(p) => Ok(Err(p)),
        }
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
    let c = s.cache;
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
        assert_eq!(
            percent_decode("2025-06-01T00%3A00%3A00%2B06%3A00"),
            "2025-06-01T00:00:00+06:00"
        );
        assert_eq!(percent_decode("a%zz"), "a%zz");
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
