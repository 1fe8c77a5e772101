//! `POST /auth/password-reset`, `POST /auth/password-reset/confirm`, `POST /auth/verify-email`.

use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{
    ApiTags,
    strict::{IdentifierRule, OptText, PasswordRule, PinRule, Text, TokenRule},
};
use crate::{
    http::{
        error::ApiResult,
        security::{client_ip, link_base, require_own_origin_if_browser},
    },
    state::AppState,
};

/// Body of `POST /auth/password-reset`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ResetRequest {
    /// My username, or my e-mail address (any case).
    pub username_or_email: Text<IdentifierRule>,
}

/// Body of `POST /auth/password-reset/confirm`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ResetConfirm {
    /// The token from the link (`#token=…`).
    pub token: Text<TokenRule>,
    /// The new password: 8–1024 bytes.
    pub new_password: Text<PasswordRule>,
    /// My recovery PIN, when I set one (4–8 digits).
    pub pin: OptText<PinRule>,
}

/// Body of `POST /auth/verify-email`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct VerifyEmail {
    /// The token from the link (`#token=…`).
    pub token: Text<TokenRule>,
}

/// A reset request was taken.
#[derive(Debug, Object)]
pub struct ResetAccepted {
    /// Always the same text, whether or not the account exists.
    pub message: String,
}

/// Accepted.
#[derive(ApiResponse)]
pub enum Accepted {
    /// The request is taken; if the account exists and has an e-mail address, a link is on its
    /// way. The answer and its timing are the same in every case.
    #[oai(status = 202)]
    Accepted(Json<ResetAccepted>),
}

/// Done.
#[derive(ApiResponse)]
pub enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// Account recovery API.
pub struct RecoveryApi;

#[OpenApi(prefix_path = "/auth", tag = "ApiTags::Auth")]
impl RecoveryApi {
    /// Asks for a password reset link by e-mail (30 minutes, single use). The answer is the same
    /// whether or not the account exists.
    #[oai(
        path = "/password-reset",
        method = "post",
        operation_id = "request_password_reset"
    )]
    async fn request(
        &self,
        req: &Request,
        state: Data<&AppState>,
        body: Json<ResetRequest>,
    ) -> ApiResult<Accepted> {
        require_own_origin_if_browser(req, &state.config)?;
        state
            .recovery
            .request_reset(
                &body.0.username_or_email,
                &link_base(req, &state.config),
                client_ip(req, &state.config),
            )
            .await?;
        Ok(Accepted::Accepted(Json(ResetAccepted {
            message:
                "If that account exists and has an e-mail address, a reset link is on its way."
                    .into(),
        })))
    }

    /// Sets a new password with the token of a reset link (and the recovery PIN when one is
    /// set). Every session of the account ends; sign in with the new password.
    #[oai(
        path = "/password-reset/confirm",
        method = "post",
        operation_id = "confirm_password_reset"
    )]
    async fn confirm(
        &self,
        req: &Request,
        state: Data<&AppState>,
        body: Json<ResetConfirm>,
    ) -> ApiResult<Done> {
        require_own_origin_if_browser(req, &state.config)?;
        let Json(body) = body;
        state
            .recovery
            .confirm_reset(
                &body.token,
                body.new_password.0,
                body.pin.into_inner().as_deref(),
                client_ip(req, &state.config),
            )
            .await?;
        Ok(Done::NoContent)
    }

    /// Confirms an e-mail address with the token of the link sent to it.
    #[oai(path = "/verify-email", method = "post", operation_id = "verify_email")]
    async fn verify(
        &self,
        req: &Request,
        state: Data<&AppState>,
        body: Json<VerifyEmail>,
    ) -> ApiResult<Done> {
        require_own_origin_if_browser(req, &state.config)?;
        state.recovery.verify_email(&body.0.token).await?;
        Ok(Done::NoContent)
    }
}
