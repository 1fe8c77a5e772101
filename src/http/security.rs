//! Authentication of REST calls: `Authorization: Bearer <JWT>` (API clients) or the HttpOnly
//! `echochat_access` cookie (browsers). Cookie-authenticated state-changing requests must carry an
//! `Origin` that is the server's own (CSRF defence; OWASP "Verifying Origin With Standard Headers").

use poem::{Request, http::Method};
use poem_openapi::{
    SecurityScheme,
    auth::{ApiKey, Bearer},
};

use super::error::ApiError;
use crate::{config::Config, domain::DomainError, service::AuthUser, state::AppState};

/// Name of the access-token cookie.
pub const ACCESS_COOKIE: &str = "echochat_access";
/// Name of the refresh-token cookie.
pub const REFRESH_COOKIE: &str = "echochat_refresh";

fn state(req: &Request) -> poem::Result<&AppState> {
    req.data::<AppState>().ok_or_else(|| {
        ApiError::from(DomainError::Internal(anyhow::anyhow!("state missing"))).into()
    })
}

/// Bearer access token (RFC 6750).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_bearer")]
pub struct BearerAuth(AuthUser);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<AuthUser> {
    state(req)?
        .auth
        .authenticate(&bearer.token)
        .map_err(|e| ApiError::from(e).into())
}

/// Access token in the `echochat_access` cookie (browsers).
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "echochat_access",
    key_in = "cookie",
    checker = "check_cookie"
)]
pub struct CookieAuth(AuthUser);

async fn check_cookie(req: &Request, key: ApiKey) -> poem::Result<AuthUser> {
    let state = state(req)?;
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        require_own_origin(req, &state.config).map_err(ApiError::from)?;
    }
    state
        .auth
        .authenticate(&key.key)
        .map_err(|e| ApiError::from(e).into())
}

/// Either way of authenticating; Bearer is tried first.
#[derive(SecurityScheme)]
pub enum Auth {
    /// `Authorization: Bearer`.
    Bearer(BearerAuth),
    /// `echochat_access` cookie.
    Cookie(CookieAuth),
}

impl Auth {
    /// The authenticated caller.
    pub fn user(&self) -> &AuthUser {
        match self {
            Self::Bearer(b) => &b.0,
            Self::Cookie(c) => &c.0,
        }
    }
}

/// Refuses a request whose `Origin` is not this server. Errors: 403 `origin_mismatch`.
pub fn require_own_origin(req: &Request, config: &Config) -> Result<(), DomainError> {
    if origin_allowed(req, config) {
        Ok(())
    } else {
        Err(DomainError::forbidden(
            "origin_mismatch",
            "request Origin is not this server",
        ))
    }
}

/// Whether the request's `Origin` is this server: `<scheme>://<Host header>`, where the scheme is
/// `X-Forwarded-Proto` when a TLS proxy sets it and `http` otherwise (this server speaks plain
/// HTTP); or `public_url`'s origin; or one of `allowed_origins`. A missing or `null` Origin fails.
/// Scheme, host and port must all match (RFC 6454 §5).
pub fn origin_allowed(req: &Request, config: &Config) -> bool {
    let Some(origin) = req.header("origin").map(|o| o.trim_end_matches('/')) else {
        return false;
    };
    let same = |allowed: &str| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin);
    let scheme = req
        .header("x-forwarded-proto")
        .map(str::trim)
        .unwrap_or("http");
    if let Some(host) = req.header("host")
        && same(&format!("{scheme}://{host}"))
    {
        return true;
    }
    config
        .public_url
        .as_deref()
        .is_some_and(|u| same(&origin_of(u)))
        || config.allowed_origins.iter().any(|o| same(o))
}

fn origin_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_owned())
}

/// Authenticates a non-OpenAPI request (the WebSocket upgrade) the same way: Bearer header, else
/// cookie with the Origin check. Errors: 401 `unauthorized`, 403 `origin_mismatch`.
pub fn authenticate_request(req: &Request, state: &AppState) -> Result<AuthUser, DomainError> {
    if let Some(token) = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
    {
        return state.auth.authenticate(token.trim());
    }
    let cookie = req
        .cookie()
        .get(ACCESS_COOKIE)
        .map(|c| c.value_str().to_owned());
    let Some(token) = cookie else {
        return Err(DomainError::Unauthorized(
            "unauthorized",
            "sign in first".into(),
        ));
    };
    require_own_origin(req, &state.config)?;
    state.auth.authenticate(&token)
}
