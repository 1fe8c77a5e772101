//! Cross-cutting HTTP middleware: request body limit and security headers.

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{Method, StatusCode},
};

use super::error::json_response;
use crate::domain::ErrorCode;

/// Largest accepted request body: 64 KiB.
pub const MAX_BODY: usize = 64 * 1024;

/// Content-Security-Policy of the web client: no inline script, nothing from other origins.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

fn too_large() -> Response {
    json_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        "request body is larger than 64 KiB",
    )
}

/// Refuses bodies over [`MAX_BODY`] with 413: at once when `Content-Length` says so, and in any
/// case by reading at most the limit. The read does not depend on headers: HTTP/2 bodies carry
/// neither `Content-Length` nor `Transfer-Encoding`, and a header-based check would let them
/// through unbounded.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    if let Some(len) = req.header("content-length") {
        match len.trim().parse::<u64>() {
            Ok(n) if n > MAX_BODY as u64 => return Ok(too_large()),
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
    let bodiless = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !bodiless {
        match req.take_body().into_bytes_limit(MAX_BODY).await {
            Ok(bytes) => req.set_body(bytes),
            Err(poem::error::ReadBodyError::PayloadTooLarge) => return Ok(too_large()),
            Err(_) => {
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

/// Adds security headers; the strict CSP applies everywhere except the API docs page.
pub async fn security_headers<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let docs = req.uri().path().starts_with("/api/docs");
    let mut resp = next.call(req).await?.into_response();
    let headers = resp.headers_mut();
    let set = |h: &mut poem::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, poem::http::HeaderValue::from_static(v));
    };
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "x-frame-options", "DENY");
    if !docs {
        set(headers, "content-security-policy", CSP);
    }
    Ok(resp)
}
