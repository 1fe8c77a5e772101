//! The one error response of the REST API: `{"code": "...", "message": "..."}` with the status
//! chosen by a single exhaustive match over [`DomainError`].

use poem::{Endpoint, IntoResponse, Request, Response, http::StatusCode};
use poem_openapi::{ApiResponse, Object, payload::Json};
use uuid::Uuid;

use crate::domain::{DomainError, ErrorCode, SessionEndReason};

/// Error body of every failed request.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ErrorBody {
    /// Stable snake_case code, e.g. `invalid_credentials`.
    pub code: ErrorCode,
    /// Human-readable explanation (may change; match on `code`).
    pub message: String,
    /// With `session_ended` only: why the session ended (the login page tells the person).
    pub reason: Option<SessionEndReason>,
}

fn body(code: ErrorCode, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        code,
        message: message.into(),
        reason: None,
    })
}

/// Every error status the API returns. Each operation's entry in the spec lists only the
/// statuses it can return (see `http::spec`).
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
    /// The path exists, but not with this method; the `Allow` header lists the methods.
    #[oai(status = 405)]
    MethodNotAllowed(Json<ErrorBody>),
    /// The request body did not arrive in time.
    #[oai(status = 408)]
    RequestTimeout(Json<ErrorBody>),
    /// Request body larger than 64 KiB.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The request body is not `application/json` (or the `Content-Type` header is missing).
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Well-formed but invalid input (username rules, message length, …).
    #[oai(status = 422)]
    UnprocessableEntity(Json<ErrorBody>),
    /// Rate limit exceeded (`rate_limited`) or a room's slowmode (`slowmode`); retry after the
    /// `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(
        Json<ErrorBody>,
        /// Seconds to wait before the same request would be allowed (RFC 9110 §10.2.3).
        #[oai(header = "Retry-After")]
        u64,
    ),
    /// Unexpected failure; the message carries an error id that is also logged.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The server is shutting down, or its database cannot be reached.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

/// Result of a REST handler.
pub type ApiResult<T> = Result<T, ApiError>;

fn bad_request(err: poem::Error) -> ApiError {
    if err.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return ApiError::UnsupportedMediaType(body(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    ApiError::BadRequest(body(ErrorCode::BadRequest, err.to_string()))
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Invalid(code, message) => Self::UnprocessableEntity(body(code, message)),
            DomainError::Unauthorized(code, message) => Self::Unauthorized(body(code, message)),
            DomainError::Forbidden(code, message) => Self::Forbidden(body(code, message)),
            DomainError::NotFound(what) => {
                Self::NotFound(body(ErrorCode::NotFound, format!("{what} not found")))
            }
            DomainError::Conflict(code, message) => Self::Conflict(body(code, message)),
            DomainError::SessionEnded(reason) => Self::Unauthorized(Json(ErrorBody {
                code: ErrorCode::SessionEnded,
                message: format!("this session has ended ({reason}): sign in again"),
                reason: Some(reason),
            })),
            DomainError::SessionEndedWith { reason, message } => {
                Self::Unauthorized(Json(ErrorBody {
                    code: ErrorCode::SessionEnded,
                    message,
                    reason: Some(reason),
                }))
            }
            DomainError::RateLimited {
                code,
                message,
                retry_after,
            } => Self::TooManyRequests(body(code, message), retry_after_secs(retry_after)),
            DomainError::ShuttingDown => {
                Self::Unavailable(body(ErrorCode::ShuttingDown, "the server is shutting down"))
            }
            DomainError::Unavailable(message) => {
                Self::Unavailable(body(ErrorCode::Unavailable, message))
            }
            DomainError::Internal(inner) => {
                let id = Uuid::new_v4();
                tracing::error!(error_id = %id, error = ?inner, "internal error");
                Self::Internal(body(
                    ErrorCode::InternalError,
                    format!("internal error (id {id})"),
                ))
            }
        }
    }
}

/// `Retry-After` in whole seconds, rounded up (a refused request never says 0).
pub fn retry_after_secs(wait: std::time::Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// A JSON error response outside poem-openapi (middleware, WebSocket upgrade).
pub fn json_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let json = serde_json::json!({ "code": code, "message": message }).to_string();
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(json)
}

fn code_for(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::PermissionDenied,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        408 => ErrorCode::RequestTimeout,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        422 => ErrorCode::UnprocessableEntity,
        429 => ErrorCode::RateLimited,
        503 => ErrorCode::Unavailable,
        _ if status.is_server_error() => ErrorCode::InternalError,
        _ => ErrorCode::BadRequest,
    }
}

/// Middleware: every error leaves as `{code, message}` JSON, whatever produced it (routing,
/// payload parsing, security schemes).
pub async fn json_errors<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let refusal = super::security::BearerRefusal::default();
    req.extensions_mut().insert(refusal.clone());
    let mut resp = match next.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => {
            if err.status().is_server_error() && !err.is_from_response() {
                let id = Uuid::new_v4();
                tracing::error!(error_id = %id, error = %err, "unhandled error");
                return Ok(json_response(
                    err.status(),
                    ErrorCode::InternalError,
                    &format!("internal error (id {id})"),
                ));
            }
            err.into_response()
        }
    };
    let status = resp.status();
    if status == StatusCode::UNAUTHORIZED
        && let Some(err) = refusal.take()
    {
        return Ok(ApiError::from(err).into_response());
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        // RFC 9110 §15.5.6: a 405 lists the methods the resource supports.
        if let Some(allow) = super::spec::allowed_methods(&path) {
            resp.headers_mut().insert(
                poem::http::header::ALLOW,
                poem::http::HeaderValue::from_static(allow),
            );
        }
    }
    let is_json = resp
        .content_type()
        .is_some_and(|c| c.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return Ok(resp);
    }
    let resp_allow = resp.headers().get(poem::http::header::ALLOW).cloned();
    let text = resp.into_body().into_string().await.unwrap_or_default();
    let message = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let mut json = json_response(status, code_for(status), &message);
    if let Some(allow) = resp_allow {
        json.headers_mut().insert(poem::http::header::ALLOW, allow);
    }
    Ok(json)
}
