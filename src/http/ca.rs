//! `GET /ca.crt`: the local CA certificate for people to download and trust (the `/ca` page,
//! assets/ca.html, explains how). Only in `[tls] mode = "self-signed"`.

use poem::{Request, Response, handler, http::StatusCode};

use super::error::json_response;
use crate::{domain::ErrorCode, state::AppState};

/// The local CA certificate (PEM) as a download: `application/x-x509-ca-cert`, attachment
/// `echochat-ca.crt`. 404 `not_found` (JSON) when there is no local CA (`files` or `off` mode).
#[handler]
pub fn certificate(req: &Request) -> Response {
    let pem = req
        .data::<AppState>()
        .and_then(|s| s.tls.as_ref())
        .and_then(|t| t.ca_pem.clone());
    match pem {
        Some(pem) => Response::builder()
            .content_type("application/x-x509-ca-cert")
            .header(
                "content-disposition",
                "attachment; filename=\"echochat-ca.crt\"",
            )
            .header("cache-control", "no-cache")
            .body(pem),
        None => json_response(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "this server has no local CA: its certificate comes from the operator (or HTTPS is off)",
        ),
    }
}
