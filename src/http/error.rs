//! The one error response of the REST API: `{"code": "...", "message": "..."}` with the status
//! chosen by a single exhaustive match over [`DomainError`].

use poem::{Endpoint, IntoResponse, Request, Response, http::StatusCode};
use poem_openapi::{ApiResponse, Object, payload::Json};
use uuid::Uuid;

use crate::domain::DomainError;

/// Error body of every failed request.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    /// Stable snake_case code, e.g. `invalid_credentials`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

fn body(code: &str, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        code: code.to_owned(),
        message: message.into(),
    })
}

/// Every error status the API returns.
#[derive(Debug, ApiResponse)]
#[oai(bad_request_handler = "bad_request")]
pub enum ApiError {
    /// Malformed request: unparsable JSON, wrong types, bad path or query parameters.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing, invalid or expired credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// Authenticated but not allowed (also: cookie request from a foreign Origin).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource, or not visible to the caller.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// Conflicts with the current state (name taken, already set up, …).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// Request body larger than 64 KiB.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Well-formed but invalid input (username rules, message length, …).
    #[oai(status = 422)]
    UnprocessableEntity(Json<ErrorBody>),
    /// Rate limit exceeded.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>),
    /// Unexpected failure; the message carries an error id that is also logged.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The server is shutting down.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

/// Result of a REST handler.
pub type ApiResult<T> = Result<T, ApiError>;

fn bad_request(err: poem::Error) -> ApiError {
    ApiError::BadRequest(body("bad_request", err.to_string()))
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Invalid(code, message) => Self::UnprocessableEntity(body(code, message)),
            DomainError::Unauthorized(code, message) => Self::Unauthorized(body(code, message)),
            DomainError::Forbidden(code, message) => Self::Forbidden(body(code, message)),
            DomainError::NotFound(what) => {
                Self::NotFound(body("not_found", format!("{what} not found")))
            }
            DomainError::Conflict(code, message) => Self::Conflict(body(code, message)),
            DomainError::RateLimited(message) => {
                Self::TooManyRequests(body("rate_limited", message))
            }
            DomainError::ShuttingDown => {
                Self::Unavailable(body("shutting_down", "the server is shutting down"))
            }
            DomainError::Internal(inner) => {
                let id = Uuid::new_v4();
                tracing::error!(error_id = %id, error = ?inner, "internal error");
                Self::Internal(body("internal_error", format!("internal error (id {id})")))
            }
        }
    }
}

/// A JSON error response outside poem-openapi (middleware, WebSocket upgrade).
pub fn json_response(status: StatusCode, code: &str, message: &str) -> Response {
    let json = serde_json::json!({ "code": code, "message": message }).to_string();
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(json)
}

fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable_entity",
        429 => "rate_limited",
        503 => "unavailable",
        _ if status.is_server_error() => "internal_error",
        _ => "error",
    }
}

/// Middleware: every error leaves as `{code, message}` JSON, whatever produced it (routing,
/// payload parsing, security schemes).
pub async fn json_errors<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let resp = match next.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => {
            if err.status().is_server_error() && !err.is_from_response() {
                let id = Uuid::new_v4();
                tracing::error!(error_id = %id, error = %err, "unhandled error");
                return Ok(json_response(
                    err.status(),
                    "internal_error",
                    &format!("internal error (id {id})"),
                ));
            }
            err.into_response()
        }
    };
    let status = resp.status();
    let is_json = resp
        .content_type()
        .is_some_and(|c| c.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return Ok(resp);
    }
    let text = resp.into_body().into_string().await.unwrap_or_default();
    let message = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    Ok(json_response(status, code_for(status), &message))
}
