//! Accounts and sessions: register, login, refresh, logout.

use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{
    ApiTags,
    dto::LoginResponse,
    strict::{AnyText, EmailRule, OptText, PasswordRule, Text, TokenRule, UsernameRule},
};
use crate::{
    domain::{DomainError, ErrorCode, User},
    http::{
        cookies,
        error::ApiResult,
        security::{
            REFRESH_COOKIE, authenticate_request, client_info, client_ip, require_own_origin,
            require_own_origin_if_browser,
        },
    },
    state::AppState,
};

/// Body of `POST /auth/register`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3–32 characters of `a-z 0-9 _ . -` (upper case is folded to lower case).
    pub username: Text<UsernameRule>,
    /// 8–1024 bytes.
    pub password: Text<PasswordRule>,
    /// Optional e-mail address.
    pub email: OptText<EmailRule>,
    /// The code of an invite link (`/register?invite=CODE`): required when the server's
    /// registration is `invite_only` (403 `invite_required`, `invalid_invite`), ignored when it
    /// is `open`.
    pub invite: OptText<TokenRule>,
}

/// Body of `POST /auth/login`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username (any case).
    pub username: Text<AnyText>,
    /// Password.
    pub password: Text<AnyText>,
}

/// Body of `POST /auth/refresh` and `POST /auth/logout`; browsers send `{}` and use the cookie.
#[derive(Debug, Object, Default)]
#[oai(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token; when absent, the `echochat_refresh` cookie is used.
    pub refresh_token: OptText<TokenRule>,
}

/// Registration succeeded.
#[derive(ApiResponse)]
pub enum Registered {
    /// The new account.
    #[oai(status = 201)]
    Created(Json<User>),
}

/// Logout done.
#[derive(ApiResponse)]
pub enum LoggedOut {
    /// The session is revoked and the cookies are cleared.
    #[oai(status = 204)]
    NoContent,
}

/// Auth API.
pub struct AuthApi;

fn refresh_token_of(req: &Request, body: Option<RefreshRequest>) -> Option<String> {
    body.and_then(|b| b.refresh_token.into_inner())
        .or_else(|| {
            req.cookie()
                .get(REFRESH_COOKIE)
                .map(|c| c.value_str().to_owned())
        })
        .filter(|t| !t.is_empty())
}

/// A refresh token taken from the cookie is ambient authority: require our own Origin.
fn check_cookie_origin(
    req: &Request,
    state: &AppState,
    from_body: bool,
) -> Result<(), DomainError> {
    if from_body {
        Ok(())
    } else {
        require_own_origin(req, &state.config)
    }
}

#[OpenApi(prefix_path = "/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Creates an account (once setup is done) as the live registration mode allows: `open`,
    /// `invite_only` (with `invite`; 403 `invite_required` / `invalid_invite`) or `closed` (403
    /// `registration_closed`). See `GET /server` for the mode.
    #[oai(path = "/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        req: &Request,
        state: Data<&AppState>,
        body: Json<RegisterRequest>,
    ) -> ApiResult<Registered> {
        require_own_origin_if_browser(req, &state.config)?;
        let ip = client_ip(req, &state.config);
        let Json(req) = body;
        let user = state
            .auth
            .register(
                &req.username,
                req.password.0,
                req.email.into_inner(),
                req.invite.as_deref(),
                ip,
            )
            .await?;
        Ok(Registered::Created(Json(user)))
    }

    /// Signs in. Unknown user and wrong password give the same 401 `invalid_credentials`.
    /// Sets the HttpOnly session cookies for browsers.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        req: &Request,
        state: Data<&AppState>,
        jar: &CookieJar,
        body: Json<LoginRequest>,
    ) -> ApiResult<Json<LoginResponse>> {
        require_own_origin_if_browser(req, &state.config)?;
        let client = client_info(req, &state.config);
        let session = state
            .auth
            .login(&body.0.username, &body.0.password, &client)
            .await?;
        cookies::set_session(jar, req, &state.config, &session);
        Ok(Json(session.into()))
    }

    /// Rotates a refresh token (body or cookie) and returns new tokens. Reusing a rotated token
    /// after the grace window revokes the whole session (RFC 9700 §4.14.2).
    #[oai(path = "/refresh", method = "post", operation_id = "refresh_session")]
    async fn refresh(
        &self,
        req: &Request,
        state: Data<&AppState>,
        jar: &CookieJar,
        body: Json<RefreshRequest>,
    ) -> ApiResult<Json<LoginResponse>> {
        let from_body = body.0.refresh_token.is_some();
        check_cookie_origin(req, &state, from_body)?;
        let Some(token) = refresh_token_of(req, Some(body.0)) else {
            return Err(DomainError::unauthorized(
                ErrorCode::InvalidRefreshToken,
                "no refresh token given",
            )
            .into());
        };
        let session = state
            .auth
            .refresh(&token, client_ip(req, &state.config))
            .await?;
        cookies::set_session(jar, req, &state.config, &session);
        Ok(Json(session.into()))
    }

    /// Ends a session and clears the cookies: the session of the given (body or cookie) refresh
    /// token, else the one of the access token (`Authorization: Bearer` alone is enough).
    #[oai(path = "/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        req: &Request,
        state: Data<&AppState>,
        jar: &CookieJar,
        body: Json<RefreshRequest>,
    ) -> ApiResult<LoggedOut> {
        let from_body = body.0.refresh_token.is_some();
        check_cookie_origin(
            req,
            &state,
            from_body || req.cookie().get(REFRESH_COOKIE).is_none(),
        )?;
        // Optional: a valid access token (Bearer, or cookie from our Origin) names the session
        // when no refresh token is given.
        let actor = authenticate_request(req, &state).await.ok();
        let ip = client_ip(req, &state.config);
        state
            .auth
            .logout(
                refresh_token_of(req, Some(body.0)).as_deref(),
                actor.as_ref(),
                ip,
            )
            .await?;
        cookies::clear_session(jar, req, &state.config);
        Ok(LoggedOut::NoContent)
    }
}
