//! The one error type of the service layer. `http::error` maps every variant to a status
//! in a single exhaustive match.

/// What went wrong, in domain terms. The `&'static str` is a stable snake_case code that
/// clients can branch on; the `String` is a human-readable message.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input that is well-formed JSON but breaks a rule (HTTP 422).
    #[error("{1}")]
    Invalid(&'static str, String),
    /// Missing or bad credentials (HTTP 401).
    #[error("{1}")]
    Unauthorized(&'static str, String),
    /// Authenticated but not allowed (HTTP 403).
    #[error("{1}")]
    Forbidden(&'static str, String),
    /// The thing does not exist or the caller may not know it exists (HTTP 404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (HTTP 409).
    #[error("{1}")]
    Conflict(&'static str, String),
    /// Too many requests (HTTP 429).
    #[error("{0}")]
    RateLimited(String),
    /// The server is shutting down and refuses new work (HTTP 503).
    #[error("the server is shutting down")]
    ShuttingDown,
    /// Anything else: logged with an error id, never shown to clients (HTTP 500).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError {
    /// Shorthand for [`DomainError::Invalid`].
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(code, message.into())
    }

    /// Shorthand for [`DomainError::Forbidden`].
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden(code, message.into())
    }

    /// Shorthand for [`DomainError::Conflict`].
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict(code, message.into())
    }

    /// The stable snake_case code sent to clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(code, _)
            | Self::Unauthorized(code, _)
            | Self::Forbidden(code, _)
            | Self::Conflict(code, _) => code,
            Self::NotFound(_) => "not_found",
            Self::RateLimited(_) => "rate_limited",
            Self::ShuttingDown => "shutting_down",
            Self::Internal(_) => "internal_error",
        }
    }
}

impl From<sea_orm::DbErr> for DomainError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(err.into())
    }
}
