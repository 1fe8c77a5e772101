//! Live settings and invite links (`/admin/settings`, `/admin/invites`; needs `settings.manage`).

use std::collections::BTreeMap;

use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use serde_json::Value;

use super::ApiTags;
use crate::{
    domain::{Timestamp, UserId},
    http::{
        error::ApiResult,
        security::{Auth, link_base},
    },
    service::settings::{Invite, Setting},
    state::AppState,
};

/// One live setting.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SettingView {
    /// `general.server_name` (string, 1–64 characters), `general.motd` (string, 0–1000
    /// characters), `general.registration` (`open`, `invite_only`, `closed`),
    /// `presence.allow_invisible` (bool), or `limits.<name>` (a rate `{count, per_secs, burst}`,
    /// or a whole number for the caps and `friend_requests_per_minute`).
    pub key: String,
    /// The value in effect now.
    pub value: Value,
    /// The configuration file's value (what `DELETE` goes back to).
    pub default: Value,
    /// True when an administrator set it (the stored value overrides the default).
    pub changed: bool,
    /// When it was set (absent: never).
    pub updated_at: Option<Timestamp>,
    /// Who set it (absent: never, or that account is gone).
    pub updated_by: Option<UserId>,
}

impl From<Setting> for SettingView {
    fn from(s: Setting) -> Self {
        Self {
            key: s.key,
            value: s.value,
            default: s.default,
            changed: s.changed,
            updated_at: s.updated_at,
            updated_by: s.updated_by,
        }
    }
}

/// Every live setting, by key.
#[derive(Debug, Object)]
pub struct SettingsList {
    /// The settings.
    pub settings: Vec<SettingView>,
}

impl From<Vec<Setting>> for SettingsList {
    fn from(list: Vec<Setting>) -> Self {
        Self {
            settings: list.into_iter().map(SettingView::from).collect(),
        }
    }
}

/// Body of `POST /admin/invites`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CreateInviteRequest {
    /// How many accounts the link may create, 1–1000000 (absent or null: unlimited).
    pub max_uses: Option<u32>,
    /// Seconds until the link stops working, 60–31536000 (absent or null: never).
    pub expires_in_secs: Option<u64>,
}

/// An invite link.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct InviteView {
    /// The code (24 URL-safe characters, 144 random bits).
    pub code: String,
    /// The link to give: the register page with `?invite=CODE`.
    pub url: String,
    /// How many accounts it may create (absent: unlimited).
    pub max_uses: Option<u32>,
    /// How many accounts were created with it.
    pub uses: u32,
    /// When it stops working (absent: never).
    pub expires_at: Option<Timestamp>,
    /// Who made it (absent when that account is gone).
    pub created_by: Option<UserId>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was revoked (absent: not revoked).
    pub revoked_at: Option<Timestamp>,
    /// Whether it can create an account now (not revoked, not expired, uses left).
    pub usable: bool,
}

impl InviteView {
    fn of(invite: Invite, base: &str) -> Self {
        Self {
            url: format!("{base}/register?invite={}", invite.code),
            code: invite.code,
            max_uses: invite.max_uses,
            uses: invite.uses,
            expires_at: invite.expires_at,
            created_by: invite.created_by,
            created_at: invite.created_at,
            revoked_at: invite.revoked_at,
            usable: invite.usable,
        }
    }
}

/// Invite links, newest first.
#[derive(Debug, Object)]
pub struct InviteList {
    /// The newest 200 links, revoked and used-up ones included.
    pub invites: Vec<InviteView>,
}

/// A new invite link.
#[derive(ApiResponse)]
pub enum InviteCreated {
    /// The link.
    #[oai(status = 201)]
    Created(Json<InviteView>),
}

/// Done.
#[derive(ApiResponse)]
pub enum Revoked {
    /// The link is revoked.
    #[oai(status = 204)]
    NoContent,
}

/// Live settings and invite links API.
pub struct AdminSettingsApi;

#[OpenApi(prefix_path = "/admin", tag = "ApiTags::Admin")]
impl AdminSettingsApi {
    /// Every live setting with its value, its configuration-file default and whether it was
    /// changed (needs `settings.manage`).
    #[oai(path = "/settings", method = "get", operation_id = "list_settings")]
    async fn list(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<SettingsList>> {
        Ok(Json(state.settings.list(auth.actor()).await?.into()))
    }

    /// Changes live settings, `{"key": value, …}`; they apply at once, without a restart, on
    /// every instance (needs `settings.manage`). All or nothing: an unknown key, a value of the
    /// wrong type or out of range answers 422 `invalid_setting` naming the key, and nothing
    /// changes. Audited as `settings.changed` with the old and new values. Connections learn a
    /// new name or MOTD from a `server_updated` frame. Answers the whole list.
    #[oai(path = "/settings", method = "patch", operation_id = "update_settings")]
    async fn update(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<BTreeMap<String, Value>>,
    ) -> ApiResult<Json<SettingsList>> {
        Ok(Json(
            state.settings.update(auth.actor(), body.0).await?.into(),
        ))
    }

    /// Sets a live setting back to the configuration file's value (needs `settings.manage`);
    /// nothing happens when it was not changed. Unknown key: 422 `invalid_setting`. Answers the
    /// whole list.
    #[oai(
        path = "/settings/:key",
        method = "delete",
        operation_id = "reset_setting"
    )]
    async fn reset(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        /// The key, e.g. `general.motd`.
        key: Path<String>,
    ) -> ApiResult<Json<SettingsList>> {
        Ok(Json(
            state.settings.reset(auth.actor(), &key.0).await?.into(),
        ))
    }

    /// Makes an invite link for `general.registration = invite_only` (needs `settings.manage`).
    /// Audited as `invite.created`. Errors: 422 `unprocessable_entity` (max_uses),
    /// `invalid_duration` (expires_in_secs).
    #[oai(path = "/invites", method = "post", operation_id = "create_invite")]
    async fn create_invite(
        &self,
        req: &Request,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<CreateInviteRequest>,
    ) -> ApiResult<InviteCreated> {
        let invite = state
            .settings
            .create_invite(auth.actor(), body.0.max_uses, body.0.expires_in_secs)
            .await?;
        let base = link_base(req, &state.config);
        Ok(InviteCreated::Created(Json(InviteView::of(invite, &base))))
    }

    /// The newest 200 invite links, newest first, with their uses and whether they still work
    /// (needs `settings.manage`).
    #[oai(path = "/invites", method = "get", operation_id = "list_invites")]
    async fn list_invites(
        &self,
        req: &Request,
        auth: Auth,
        state: Data<&AppState>,
    ) -> ApiResult<Json<InviteList>> {
        let invites = state.settings.invites(auth.actor()).await?;
        let base = link_base(req, &state.config);
        Ok(Json(InviteList {
            invites: invites
                .into_iter()
                .map(|i| InviteView::of(i, &base))
                .collect(),
        }))
    }

    /// Revokes an invite link: it creates no more accounts (needs `settings.manage`). Audited as
    /// `invite.revoked`. Errors: 404 unknown code.
    #[oai(
        path = "/invites/:code",
        method = "delete",
        operation_id = "revoke_invite"
    )]
    async fn revoke_invite(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        /// The invite code.
        code: Path<String>,
    ) -> ApiResult<Revoked> {
        state.settings.revoke_invite(auth.actor(), &code.0).await?;
        Ok(Revoked::NoContent)
    }
}
