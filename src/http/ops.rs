//! Operator- and integrator-facing routes that carry no document: the OpenAPI description
//! (`GET /openapi.yaml`), the build (`GET /version`), and CORS for browser clients of other
//! origins (off unless `[server] cors_origins` lists them).

use super::{full, Body};
use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};

/// The OpenAPI document, compiled in so that the served file is the one the tests validated.
const OPENAPI: &str = include_str!("../../docs/openapi.yaml");

/// `GET /openapi.yaml`. `application/yaml` is the media type RFC 9512 registers.
pub(super) fn openapi() -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/yaml")
        .body(full(Bytes::from_static(OPENAPI.as_bytes())))
        .unwrap_or_else(|_| Response::new(full(Bytes::new())))
}

/// What `GET /version` and `tekser_build_info` report: fixed at compile time.
#[derive(Debug, Clone, Copy)]
pub struct BuildInfo {
    /// The crate version.
    pub version: &'static str,
    /// `TEKSER_GIT_COMMIT` at build time (`TEKSER_GIT_COMMIT=$(git rev-parse HEAD) cargo build`);
    /// `None` when the builder did not say. Not computed by a build script: one that runs git
    /// would rebuild the library on every commit for every developer.
    pub git_commit: Option<&'static str>,
    /// `release` or `debug` (debug assertions on).
    pub profile: &'static str,
    /// Target architecture and OS.
    pub target: (&'static str, &'static str),
}

/// This binary's build.
pub const BUILD: BuildInfo = BuildInfo {
    version: env!("CARGO_PKG_VERSION"),
    git_commit: option_env!("TEKSER_GIT_COMMIT"),
    profile: if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    },
    target: (std::env::consts::ARCH, std::env::consts::OS),
};

/// `GET /version`.
pub(super) fn version() -> serde_json::Value {
    serde_json::json!({
        "name": "tekser",
        "version": BUILD.version,
        "git_commit": BUILD.git_commit,
        "build": {
            "profile": BUILD.profile,
            "target_arch": BUILD.target.0,
            "target_os": BUILD.target.1,
        },
    })
}

/// Request headers a cross-origin browser client may send: the ones the API reads.
const ALLOW_HEADERS: &str = "content-type, authorization, x-request-id";
/// Response headers a cross-origin script may read beside the CORS-safelisted ones.
const EXPOSE_HEADERS: &str = "x-request-id, retry-after";
/// How long a browser may cache a preflight answer, seconds (10 minutes: Chromium's cap is 2 h,
/// and a shorter time lets an operator's change of `cors_origins` reach browsers soon).
const MAX_AGE: &str = "600";

/// The configured origin that `headers`' `Origin` matches, if any. `*` matches every origin;
/// otherwise the match is exact (scheme, host and port), as the Fetch standard compares them.
pub(super) fn allowed_origin(origins: &[String], headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let o = origin.to_str().ok()?;
    origins
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(o))
        .then(|| origin.clone())
}

/// The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) when CORS is
/// on; `None` when the request is not a preflight or CORS is off (it then gets the route's own
/// answer, a 405 for `OPTIONS`).
pub(super) fn preflight(
    origins: &[String],
    method: &Method,
    headers: &HeaderMap,
) -> Option<Response<Body>> {
    if origins.is_empty()
        || method != Method::OPTIONS
        || !headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return None;
    }
    let mut b = Response::builder().status(StatusCode::NO_CONTENT);
    if let Some(o) = allowed_origin(origins, headers) {
        b = b
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, o)
            .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, POST")
            .header(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS)
            .header(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE);
    }
    // An origin not listed gets the 204 without the allow headers: the browser then refuses.
    Some(
        b.header(header::VARY, "origin")
            .body(full(Bytes::new()))
            .unwrap_or_else(|_| Response::new(full(Bytes::new()))),
    )
}

/// Adds `Access-Control-Allow-Origin` to an actual response when the request's origin is allowed.
pub(super) fn decorate(origins: &[String], req: &HeaderMap, resp: &mut Response<Body>) {
    if origins.is_empty() {
        return;
    }
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("origin"));
    if let Some(o) = allowed_origin(origins, req) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly_or_by_wildcard() {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_static("https://a.kz"));
        let list = vec!["https://a.kz".to_owned()];
        assert!(allowed_origin(&list, &h).is_some());
        assert!(allowed_origin(&["https://a.kz:8443".to_owned()], &h).is_none());
        assert!(allowed_origin(&["*".to_owned()], &h).is_some());
        assert!(allowed_origin(&[], &h).is_none());
        assert!(allowed_origin(&list, &HeaderMap::new()).is_none());
    }
}
