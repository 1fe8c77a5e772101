//! Account administration (`/admin/users…`): search, detail, creation, reset links, forced
//! logout, suspension, deactivation, server-wide mute and shadowban. Each route needs the
//! permission its description names; every change is audited with its reason.

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{ApiTags, strict::Limit};
use crate::{
    domain::{
        AdminUser, AdminUserDetail, AdminUserPage, DomainError, ErrorCode, ModerationDuration,
        Reason, ServerRole, Timestamp, UserId,
    },
    http::{
        error::ApiResult,
        security::{Auth, link_base},
    },
    service::AccountAction,
    state::AppState,
};

/// Body of `POST /admin/users`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AdminCreateUserRequest {
    /// 3–32 of `a-z 0-9 _ . -` (lower-cased).
    pub username: String,
    /// 8–1024 bytes.
    pub password: String,
    /// 1–64 characters; the username when absent.
    pub display_name: Option<String>,
    /// An e-mail address (unverified).
    pub email: Option<String>,
    /// The built-in role; `member` when absent (others need `roles.manage`).
    pub role: Option<ServerRole>,
}

/// The answer of `POST /admin/users/{id}/reset-link`.
#[derive(Debug, Object)]
pub struct ResetLink {
    /// Give this to the user out of band: it opens the page that sets a new password (once).
    pub url: String,
    /// When the link stops working (24 hours).
    pub expires_at: Timestamp,
}

/// Body of `POST /admin/users/{id}/logout`.
#[derive(Debug, Object, Default)]
#[oai(deny_unknown_fields)]
pub struct AdminLogoutRequest {
    /// Why (optional, 1–500 characters; audited).
    pub reason: Option<String>,
}

/// The answer of `POST /admin/users/{id}/logout`.
#[derive(Debug, Object)]
pub struct LoggedOutSessions {
    /// How many live sessions ended.
    pub ended: u64,
}

/// Body of `PUT /admin/users/{id}/suspension`: give `until` or `duration_secs`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AdminSuspendRequest {
    /// The end of the suspension (RFC 3339; at most ten years away).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Or its length in seconds (1 to ten years).
    pub duration_secs: Option<i64>,
    /// Why (1–500 characters): shown to the user at login and audited.
    pub reason: String,
}

/// Body of `PUT /admin/users/{id}/mute`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AdminMuteRequest {
    /// How long, in seconds (1 to ten years).
    pub duration_secs: i64,
    /// Why (1–500 characters; audited).
    pub reason: String,
}

/// Body of `PUT /admin/users/{id}/deactivation` and `PUT /admin/users/{id}/shadowban`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AdminReasonRequest {
    /// Why (1–500 characters; audited).
    pub reason: String,
}

/// `POST /admin/users` answers.
#[derive(ApiResponse)]
pub enum CreatedUser {
    /// The new account.
    #[oai(status = 201)]
    Created(Json<AdminUser>),
}

/// Account administration API.
pub struct AdminUsersApi;

impl AdminUsersApi {
    async fn moderate(
        auth: &Auth,
        state: &AppState,
        id: UserId,
        action: AccountAction,
    ) -> ApiResult<Json<AdminUser>> {
        let mut user = state.user_admin.moderate(auth.actor(), id, action).await?;
        user.online = state.hub.is_online(user.id);
        Ok(Json(user))
    }
}

#[OpenApi(prefix_path = "/admin/users", tag = "ApiTags::Admin")]
impl AdminUsersApi {
    /// Accounts whose username starts with `q` (needs `users.view`), by username, deleted ones
    /// included. Paged: pass `next_cursor` back as `cursor`.
    #[oai(path = "/", method = "get", operation_id = "admin_search_users")]
    async fn search(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        /// Username prefix (case-insensitive, at most 32 characters); all accounts when empty.
        q: Query<Option<String>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size.
        limit: Query<Limit<50, 100>>,
    ) -> ApiResult<Json<AdminUserPage>> {
        let mut page = state
            .user_admin
            .search(
                auth.actor(),
                q.0.as_deref().unwrap_or(""),
                cursor.0.as_deref(),
                limit.0.0,
            )
            .await?;
        for user in &mut page.users {
            user.online = state.hub.is_online(user.id);
        }
        Ok(Json(page))
    }

    /// Creates an account (needs `users.manage`; a role other than `member` also needs
    /// `roles.manage`). Registration rules apply; audited as `user.created`.
    #[oai(path = "/", method = "post", operation_id = "admin_create_user")]
    async fn create(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        body: Json<AdminCreateUserRequest>,
    ) -> ApiResult<CreatedUser> {
        let b = body.0;
        let user = state
            .user_admin
            .create(
                auth.actor(),
                &b.username,
                b.password,
                b.display_name.as_deref(),
                b.email.as_deref(),
                b.role.unwrap_or(ServerRole::Member),
            )
            .await?;
        Ok(CreatedUser::Created(Json(user)))
    }

    /// One account with its live sessions, conversations and latest audit entries (needs
    /// `users.view`).
    #[oai(path = "/:id", method = "get", operation_id = "admin_get_user")]
    async fn detail(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
    ) -> ApiResult<Json<AdminUserDetail>> {
        let mut detail = state.user_admin.detail(auth.actor(), id.0).await?;
        detail.user.online = state.hub.is_online(detail.user.id);
        Ok(Json(detail))
    }

    /// A one-time password reset link for the account, valid 24 hours (needs `users.manage`);
    /// earlier links stop working. Audited as `user.reset_link_issued`.
    #[oai(
        path = "/:id/reset-link",
        method = "post",
        operation_id = "admin_reset_link"
    )]
    async fn reset_link(
        &self,
        req: &Request,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
    ) -> ApiResult<Json<ResetLink>> {
        let (token, expires_at) = state
            .user_admin
            .reset_token(Some(auth.actor()), id.0)
            .await?;
        Ok(Json(ResetLink {
            url: format!(
                "{}/reset-password#token={token}",
                link_base(req, &state.config)
            ),
            expires_at,
        }))
    }

    /// Ends every session of the account (needs `users.moderate`); its open pages close within
    /// a second with reason `revoked_by_admin`. Audited as `user.logged_out`.
    #[oai(
        path = "/:id/logout",
        method = "post",
        operation_id = "admin_logout_user"
    )]
    async fn logout(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
        body: Json<AdminLogoutRequest>,
    ) -> ApiResult<Json<LoggedOutSessions>> {
        let reason = body.0.reason;
        let ended = state
            .user_admin
            .logout(auth.actor(), id.0, reason.as_deref())
            .await?;
        Ok(Json(LoggedOutSessions {
            ended: ended as u64,
        }))
    }

    /// Suspends the account until a time (needs `users.moderate`): every session ends (reason
    /// `suspended`) and login answers 403 `suspended` with the end and the reason.
    #[oai(
        path = "/:id/suspension",
        method = "put",
        operation_id = "admin_suspend_user"
    )]
    async fn suspend(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
        body: Json<AdminSuspendRequest>,
    ) -> ApiResult<Json<AdminUser>> {
        let b = body.0;
        let reason = Reason::parse(&b.reason)?;
        let now = Timestamp::now();
        let until = match (b.until, b.duration_secs) {
            (Some(until), None) => ModerationDuration::until(Timestamp(until), now)?,
            (None, Some(secs)) => ModerationDuration::from_secs(secs)?.end_from(now),
            _ => {
                return Err(DomainError::invalid(
                    ErrorCode::InvalidDuration,
                    "give either until or duration_secs",
                )
                .into());
            }
        };
        Self::moderate(&auth, &state, id.0, AccountAction::Suspend(until, reason)).await
    }

    /// Lifts a suspension (needs `users.moderate`).
    #[oai(
        path = "/:id/suspension",
        method = "delete",
        operation_id = "admin_unsuspend_user"
    )]
    async fn unsuspend(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
    ) -> ApiResult<Json<AdminUser>> {
        Self::moderate(&auth, &state, id.0, AccountAction::Unsuspend).await
    }

    /// Deactivates the account until reactivated (needs `users.manage`): every session ends
    /// (reason `deactivated`) and login answers 403 `deactivated`.
    #[oai(
        path = "/:id/deactivation",
        method = "put",
        operation_id = "admin_deactivate_user"
    )]
    async fn deactivate(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
        body: Json<AdminReasonRequest>,
    ) -> ApiResult<Json<AdminUser>> {
        let reason = Reason::parse(&body.0.reason)?;
        Self::moderate(&auth, &state, id.0, AccountAction::Deactivate(reason)).await
    }

    /// Reactivates a deactivated account (needs `users.manage`).
    #[oai(
        path = "/:id/deactivation",
        method = "delete",
        operation_id = "admin_reactivate_user"
    )]
    async fn reactivate(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
    ) -> ApiResult<Json<AdminUser>> {
        Self::moderate(&auth, &state, id.0, AccountAction::Reactivate).await
    }

    /// Mutes the account on the whole server for a duration (needs `users.moderate`): sends
    /// anywhere answer 403 `muted` with the end.
    #[oai(path = "/:id/mute", method = "put", operation_id = "admin_mute_user")]
    async fn mute(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
        body: Json<AdminMuteRequest>,
    ) -> ApiResult<Json<AdminUser>> {
        let reason = Reason::parse(&body.0.reason)?;
        let duration = ModerationDuration::from_secs(body.0.duration_secs)?;
        Self::moderate(&auth, &state, id.0, AccountAction::Mute(duration, reason)).await
    }

    /// Lifts a server-wide mute (needs `users.moderate`).
    #[oai(
        path = "/:id/mute",
        method = "delete",
        operation_id = "admin_unmute_user"
    )]
    async fn unmute(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
    ) -> ApiResult<Json<AdminUser>> {
        Self::moderate(&auth, &state, id.0, AccountAction::Unmute).await
    }

    /// Shadowbans the account (needs `users.moderate`; a reason is required): its new
    /// messages are stored and shown to it (and, flagged `shadowed`, to moderators) only.
    #[oai(
        path = "/:id/shadowban",
        method = "put",
        operation_id = "admin_shadowban_user"
    )]
    async fn shadowban(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
        body: Json<AdminReasonRequest>,
    ) -> ApiResult<Json<AdminUser>> {
        let reason = Reason::parse(&body.0.reason)?;
        Self::moderate(&auth, &state, id.0, AccountAction::Shadowban(reason)).await
    }

    /// Lifts a shadowban (needs `users.moderate`); messages sent meanwhile stay hidden.
    #[oai(
        path = "/:id/shadowban",
        method = "delete",
        operation_id = "admin_unshadowban_user"
    )]
    async fn unshadowban(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
    ) -> ApiResult<Json<AdminUser>> {
        Self::moderate(&auth, &state, id.0, AccountAction::Unshadowban).await
    }

    /// Grants a role (needs `roles.manage`): `admin`, `moderator` or `member` sets the built-in
    /// role; another name adds that custom role.
    #[oai(
        path = "/:id/roles/:role",
        method = "put",
        operation_id = "admin_grant_role"
    )]
    async fn grant(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
        role: Path<String>,
    ) -> ApiResult<Json<AdminUser>> {
        let mut user = state.roles.grant(Some(auth.actor()), id.0, &role.0).await?;
        user.online = state.hub.is_online(user.id);
        Ok(Json(user))
    }

    /// Takes a role away (needs `roles.manage`): `admin` or `moderator` makes the account a
    /// `member`; the last admin cannot be demoted (409 `last_admin`).
    #[oai(
        path = "/:id/roles/:role",
        method = "delete",
        operation_id = "admin_revoke_role"
    )]
    async fn revoke(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<UserId>,
        role: Path<String>,
    ) -> ApiResult<Json<AdminUser>> {
        let mut user = state
            .roles
            .revoke(Some(auth.actor()), id.0, &role.0)
            .await?;
        user.online = state.hub.is_online(user.id);
        Ok(Json(user))
    }
}
