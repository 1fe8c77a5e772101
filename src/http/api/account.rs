//! My account settings: `PATCH /users/me/profile` (display name, e-mail), `POST /users/me/password`,
//! `PUT` and `DELETE /users/me/recovery-pin`.

use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{
    ApiTags,
    strict::{AnyText, DisplayNameRule, EmailRule, OptText, PasswordRule, PinRule, Text},
};
use crate::{
    http::{
        error::ApiResult,
        security::{Auth, link_base},
    },
    service::ProfileChange,
    state::AppState,
};

/// Body of `PATCH /users/me/profile`; absent fields stay as they are.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ProfileUpdate {
    /// New display name: 1–64 characters, no control or invisible characters.
    pub display_name: OptText<DisplayNameRule>,
    /// New e-mail address (unique whatever its case); `""` removes it. With SMTP configured a
    /// link to confirm it is sent there; until then it is unverified.
    pub email: OptText<EmailRule>,
    /// My current password: required when `email` changes (reset links go there).
    pub current_password: OptText<AnyText>,
}

/// Body of `POST /users/me/password`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    pub current_password: Text<AnyText>,
    /// The new password: 8–1024 bytes.
    pub new_password: Text<PasswordRule>,
}

/// Body of `PUT /users/me/recovery-pin`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PinSet {
    /// My password, to confirm.
    pub password: Text<AnyText>,
    /// The PIN: 4–8 digits. A password reset link then also needs it.
    pub pin: Text<PinRule>,
}

/// Body of `DELETE /users/me/recovery-pin`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PinRemove {
    /// My password, to confirm.
    pub password: Text<AnyText>,
}

/// The password changed.
#[derive(Debug, Object)]
pub struct PasswordChanged {
    /// How many of my other sessions ended (reason `password_changed`); this one stays.
    pub sessions_ended: u64,
}

/// Done.
#[derive(ApiResponse)]
pub enum Done {
    /// The change is saved.
    #[oai(status = 204)]
    NoContent,
}

/// Account settings API.
pub struct AccountApi;

#[OpenApi(prefix_path = "/users/me", tag = "ApiTags::Users")]
impl AccountApi {
    /// Changes my display name and/or e-mail address. Others see the new display name at once
    /// (`user_updated`).
    #[oai(path = "/profile", method = "patch", operation_id = "update_profile")]
    async fn update(
        &self,
        req: &Request,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<ProfileUpdate>,
    ) -> ApiResult<Done> {
        let Json(body) = body;
        let change = ProfileChange {
            display_name: body.display_name.into_inner(),
            email: body.email.into_inner(),
            current_password: body.current_password.into_inner(),
        };
        state
            .profile
            .update(auth.actor(), change, &link_base(req, &state.config))
            .await?;
        Ok(Done::NoContent)
    }

    /// Changes my password (the current one is required) and ends my other sessions.
    #[oai(path = "/password", method = "post", operation_id = "change_password")]
    async fn change_password(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<PasswordChange>,
    ) -> ApiResult<Json<PasswordChanged>> {
        let Json(body) = body;
        let ended = state
            .profile
            .change_password(auth.actor(), &body.current_password, body.new_password.0)
            .await?;
        Ok(Json(PasswordChanged {
            sessions_ended: ended as u64,
        }))
    }

    /// Sets or replaces my recovery PIN (stored as an Argon2id hash).
    #[oai(
        path = "/recovery-pin",
        method = "put",
        operation_id = "set_recovery_pin"
    )]
    async fn set_pin(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<PinSet>,
    ) -> ApiResult<Done> {
        state
            .recovery
            .set_pin(auth.actor(), &body.0.password, Some(&body.0.pin))
            .await?;
        Ok(Done::NoContent)
    }

    /// Removes my recovery PIN.
    #[oai(
        path = "/recovery-pin",
        method = "delete",
        operation_id = "remove_recovery_pin"
    )]
    async fn remove_pin(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<PinRemove>,
    ) -> ApiResult<Done> {
        state
            .recovery
            .set_pin(auth.actor(), &body.0.password, None)
            .await?;
        Ok(Done::NoContent)
    }
}
