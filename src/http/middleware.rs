//! Cross-cutting HTTP middleware: request body limits (size and time) and security headers.

use std::time::Duration;

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{Method, StatusCode, Version, header},
};

use super::error::json_response;
use crate::{domain::ErrorCode, state::AppState};

/// Largest accepted request body: 64 KiB.
pub const MAX_BODY: usize = 64 * 1024;
/// After a body went over the limit, at most this much more of it is read and thrown away (for
/// at most [`DRAIN_TIME`]) before the 413 is sent, so that a client still writing a modestly
/// oversized body reads the answer instead of a connection reset (closing a socket with unread
/// data makes the kernel send RST).
const DRAIN_MAX: usize = 1024 * 1024;
/// How long the rest of an oversized body is drained at most.
const DRAIN_TIME: Duration = Duration::from_secs(1);

/// Content-Security-Policy of the web client: no inline script, nothing from other origins.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Content-Security-Policy of the API docs page (`/api/docs`): poem-openapi's Swagger UI is one
/// self-contained page with inline script and style, so those are allowed there, and nothing
/// else: no other origin, no plugins, no framing, no form posts.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
frame-ancestors 'none'; form-action 'none'";

fn too_large() -> Response {
    json_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        "request body is larger than 64 KiB",
    )
}

/// Why a body could not be read.
enum BodyError {
    TooLarge,
    Unreadable,
}

/// Reads at most [`MAX_BODY`] bytes of `body`. Over the limit, drains a bounded rest (see
/// [`DRAIN_MAX`]) and fails with `TooLarge`.
async fn read_limited(body: poem::Body) -> Result<bytes::Bytes, BodyError> {
    use futures_util::StreamExt;
    let mut stream = std::pin::pin!(body.into_bytes_stream());
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if buf.len() + chunk.len() > MAX_BODY {
            let deadline = tokio::time::Instant::now() + DRAIN_TIME;
            let mut drained = chunk.len();
            while drained < DRAIN_MAX {
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(Some(Ok(more))) => drained += more.len(),
                    _ => break,
                }
            }
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// 408 for a body that did not arrive in time; on HTTP/1 the connection is closed after it (the
/// rest of the body is still on its way).
fn body_timed_out(version: Version) -> Response {
    let mut resp = json_response(
        StatusCode::REQUEST_TIMEOUT,
        ErrorCode::RequestTimeout,
        "the request body did not arrive in time",
    );
    if version < Version::HTTP_2 {
        resp.headers_mut().insert(
            header::CONNECTION,
            poem::http::HeaderValue::from_static("close"),
        );
    }
    resp
}

/// Refuses bodies over [`MAX_BODY`] with 413: at once when `Content-Length` says so, and in any
/// case by reading at most the limit. The read does not depend on headers: HTTP/2 bodies carry
/// neither `Content-Length` nor `Transfer-Encoding`, and a header-based check would let them
/// through unbounded. A body that takes longer than `read_timeout` (`[http]
/// body_read_timeout_secs`, default 30 s; `None` = no limit) to arrive in full gets 408
/// `request_timeout`.
pub async fn limit_body<E: Endpoint>(
    next: E,
    mut req: Request,
    read_timeout: Option<Duration>,
) -> poem::Result<Response> {
    // GET, HEAD and OPTIONS requests carry no body here: whatever they send is not read, and
    // their declared length does not matter.
    let bodiless = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !bodiless {
        if let Some(len) = req.header("content-length") {
            match len.trim().parse::<u64>() {
                // Far too large: answer at once. A modest excess is read (and drained) below, so
                // the client can finish writing and read the 413.
                Ok(n) if n > DRAIN_MAX as u64 => return Ok(too_large()),
                Ok(_) => {}
                Err(_) => {
                    return Ok(json_response(
                        StatusCode::BAD_REQUEST,
                        ErrorCode::BadRequest,
                        "invalid Content-Length",
                    ));
                }
            }
        }

        let read = read_limited(req.take_body());
        let read = match read_timeout {
            Some(limit) => match tokio::time::timeout(limit, read).await {
                Ok(read) => read,
                Err(_) => return Ok(body_timed_out(req.version())),
            },
            None => read.await,
        };
        match read {
            Ok(bytes) => req.set_body(bytes),
            Err(BodyError::TooLarge) => return Ok(too_large()),
            Err(BodyError::Unreadable) => {
                return Ok(json_response(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    "cannot read request body",
                ));
            }
        }
    }
    Ok(next.call(req).await?.into_response())
}

/// Adds security headers: the strict CSP everywhere but the API docs page (which gets
/// [`DOCS_CSP`]), and `Cache-Control: no-store` on every `/api/v1` answer that does not set its
/// own, so no browser or proxy cache keeps account data (RFC 9111 §5.2.2.5). On HTTPS in
/// `[tls] mode = "files"`, also `Strict-Transport-Security` (RFC 6797; never over plain HTTP,
/// §7.2, and never for the local CA, whose trust is per device: see docs/https.md).
pub async fn security_headers<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let path = req.uri().path();
    let docs = path.starts_with("/api/docs");
    let api = path.starts_with("/api/v1/");
    let hsts = if super::security::is_https(&req) {
        req.data::<AppState>()
            .and_then(|s| s.tls.as_ref())
            .and_then(|t| t.hsts.as_deref())
            .and_then(|v| poem::http::HeaderValue::from_str(v).ok())
    } else {
        None
    };
    let mut resp = next.call(req).await?.into_response();
    let headers = resp.headers_mut();
    if let Some(hsts) = hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts);
    }
    let set = |h: &mut poem::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, poem::http::HeaderValue::from_static(v));
    };
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "x-frame-options", "DENY");
    set(
        headers,
        "content-security-policy",
        if docs { DOCS_CSP } else { CSP },
    );
    if api && !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, "cache-control", "no-store");
    }
    Ok(resp)
}
