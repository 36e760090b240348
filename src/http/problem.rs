//! RFC 9457 problem responses, and the one place where failures become HTTP statuses.

use bytes::Bytes;
use hyper::{header, Response, StatusCode};

/// An error answered as `application/problem+json`.
#[derive(Debug, Clone)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code (the last segment of `type`).
    pub code: &'static str,
    /// Human-readable explanation.
    pub detail: String,
    /// Seconds for `Retry-After`, when the client should come back.
    pub retry_after: Option<u32>,
}

impl Problem {
    /// A problem with `status` and `code`.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// 400: the request is malformed (bad query, bad JSON, bad base64).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// 413: the body exceeds the limit for its content type.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("request body exceeds the limit of {limit} bytes for its content type"),
        )
    }

    /// 503 with Retry-After: the verification queue is full, or the server is stopping.
    pub fn unavailable(code: &'static str, detail: impl Into<String>, retry_after: u32) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
        }
    }

    /// 500: a bug (a panic in a verification). Never used for bad input.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error",
            "the verification failed unexpectedly; the server keeps serving",
        )
    }

    /// The JSON body.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "type": format!("https://tekser.dev/problems/{}", self.code),
            "title": self.status.canonical_reason().unwrap_or("error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        })
    }

    /// The response.
    pub fn response(&self) -> Response<super::Body> {
        let mut b = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, "application/problem+json");
        if let Some(s) = self.retry_after {
            b = b.header(header::RETRY_AFTER, s.to_string());
        }
        // The code travels with the response to the request log and metrics.
        b = b.extension(Code(self.code));
        b.body(super::full(Bytes::from(self.to_json().to_string())))
            .unwrap_or_else(|_| Response::new(super::full(Bytes::new())))
    }
}

/// A response's problem code, as a response extension (read by the request log).
#[derive(Debug, Clone, Copy)]
pub(super) struct Code(pub &'static str);
