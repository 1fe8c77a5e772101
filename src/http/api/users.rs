//! `GET /users/me`, `DELETE /users/me`.

use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{
    ApiTags,
    dto::Me,
    strict::{PasswordRule, Text},
};
use crate::{
    http::{cookies, error::ApiResult, security::Auth},
    state::AppState,
};

/// Body of `DELETE /users/me`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The account's password, to confirm.
    pub password: Text<PasswordRule>,
}

/// Account deleted.
#[derive(ApiResponse)]
pub enum AccountDeleted {
    /// The account is gone: its sessions ended, its memberships too; its messages stay.
    #[oai(status = 204)]
    NoContent,
}

/// Users API.
pub struct UsersApi;

#[OpenApi(prefix_path = "/users", tag = "ApiTags::Users")]
impl UsersApi {
    /// The signed-in account and its server permissions.
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn me(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<Me>> {
        let me = state.users.me(auth.actor()).await?;
        Ok(Json(Me {
            user: me.user,
            permissions: me.permissions,
            email: me.email,
            email_verified: me.email_verified,
            recovery_pin_set: me.recovery_pin_set,
            idle_timeout_secs: state.sessions.idle_timeout().map(|d| d.as_secs()),
            smtp_configured: state.recovery.mailer().is_smtp(),
        }))
    }

    /// Deletes the signed-in account (password required). Its messages stay, shown with a
    /// `deleted-…` username; every session and membership ends; the username becomes free.
    #[oai(path = "/me", method = "delete", operation_id = "delete_me")]
    async fn delete(
        &self,
        req: &Request,
        auth: Auth,
        state: Data<&AppState>,
        jar: &CookieJar,
        body: Json<DeleteAccountRequest>,
    ) -> ApiResult<AccountDeleted> {
        state
            .users
            .delete_account(auth.actor(), &body.0.password)
            .await?;
        cookies::clear_session(jar, req, &state.config);
        Ok(AccountDeleted::NoContent)
    }
}
