//! Account administration (`/admin/users…`): search and detail (`users.view`); creation,
//! password reset links, deactivation (`users.manage`); forced logout, suspension, server-wide
//! mute and shadowban (`users.moderate`). Every change is audited in its own transaction, with
//! the reason, and published as `UserUpdated` so caches and open pages follow at once.

use serde::{Deserialize, Serialize};

use super::{
    access::Access,
    admin::{entries, permissions_in, recheck},
    auth::AuthService,
    paging,
    sessions::end_in,
    tokens::{hash_token, random_token},
    uow::{UnitOfWork, Work},
};
use crate::{
    domain::{
        AccountModeration, Actor, AdminMembership, AdminUser, AdminUserDetail, AdminUserPage,
        AuditAction, AuditFilter, AuditTarget, DomainError, ErrorCode, ModerationDuration,
        NewAuditEntry, Permission, Reason, Scope, ServerRole, SessionEndReason, SessionInfo,
        Timestamp, TokenPurpose, UserId,
    },
    events::Event,
    store::{
        Db, audit, conversations, members, roles,
        sessions::{self, Which},
        user_admin, user_tokens,
        users::{self, UserRecord},
    },
};

/// Largest page of `GET /admin/users`.
pub const USERS_PAGE_MAX: u64 = 100;

/// How long an administrator's password reset link works: a day (it travels out of band).
pub const ADMIN_RESET_TTL: chrono::Duration = chrono::Duration::hours(24);

/// Position of a user page (by username).
#[derive(Serialize, Deserialize)]
struct UserPosition(String);

/// A moderation change to an account.
#[derive(Clone, Debug)]
pub enum AccountAction {
    /// Suspend until a time, with a reason (`users.moderate`).
    Suspend(Timestamp, Reason),
    /// Lift a suspension.
    Unsuspend,
    /// Deactivate until reactivated, with a reason (`users.manage`).
    Deactivate(Reason),
    /// Reactivate.
    Reactivate,
    /// Mute on the whole server for a duration, with a reason (`users.moderate`).
    Mute(ModerationDuration, Reason),
    /// Lift a server-wide mute.
    Unmute,
    /// Shadowban, with a reason (`users.moderate`).
    Shadowban(Reason),
    /// Lift a shadowban.
    Unshadowban,
}

impl AccountAction {
    fn permission(&self) -> Permission {
        match self {
            Self::Deactivate(_) | Self::Reactivate => Permission::UsersManage,
            _ => Permission::UsersModerate,
        }
    }

    fn audit_action(&self) -> AuditAction {
        match self {
            Self::Suspend(..) => AuditAction::UserSuspended,
            Self::Unsuspend => AuditAction::UserUnsuspended,
            Self::Deactivate(_) => AuditAction::UserDeactivated,
            Self::Reactivate => AuditAction::UserReactivated,
            Self::Mute(..) => AuditAction::UserMuted,
            Self::Unmute => AuditAction::UserUnmuted,
            Self::Shadowban(_) => AuditAction::UserShadowbanned,
            Self::Unshadowban => AuditAction::UserUnshadowbanned,
        }
    }

    /// Applies the change to `m` at `now`; returns the audit details.
    fn apply(&self, m: &mut AccountModeration, now: Timestamp) -> serde_json::Value {
        match self {
            Self::Suspend(until, reason) => {
                m.suspended_until = Some(*until);
                m.suspend_reason = Some(reason.as_str().to_owned());
                serde_json::json!({"until": until, "reason": reason.as_str()})
            }
            Self::Unsuspend => {
                m.suspended_until = None;
                m.suspend_reason = None;
                serde_json::json!({})
            }
            Self::Deactivate(reason) => {
                m.deactivated_at = Some(now);
                m.deactivate_reason = Some(reason.as_str().to_owned());
                serde_json::json!({"reason": reason.as_str()})
            }
            Self::Reactivate => {
                m.deactivated_at = None;
                m.deactivate_reason = None;
                serde_json::json!({})
            }
            Self::Mute(duration, reason) => {
                let until = duration.end_from(now);
                m.muted_until = Some(until);
                m.mute_reason = Some(reason.as_str().to_owned());
                serde_json::json!({"until": until, "reason": reason.as_str()})
            }
            Self::Unmute => {
                m.muted_until = None;
                m.mute_reason = None;
                serde_json::json!({})
            }
            Self::Shadowban(reason) => {
                m.shadowbanned_at = Some(now);
                m.shadowban_reason = Some(reason.as_str().to_owned());
                serde_json::json!({"reason": reason.as_str()})
            }
            Self::Unshadowban => {
                m.shadowbanned_at = None;
                m.shadowban_reason = None;
                serde_json::json!({})
            }
        }
    }

    /// The sessions end with this reason when the change takes effect.
    fn ends_sessions(&self) -> Option<SessionEndReason> {
        match self {
            Self::Suspend(..) => Some(SessionEndReason::Suspended),
            Self::Deactivate(_) => Some(SessionEndReason::Deactivated),
            _ => None,
        }
    }
}

/// The administrators' view of an account (`online` false: the HTTP layer knows who is).
pub fn admin_view(u: &UserRecord, custom_roles: Vec<String>, now: Timestamp) -> AdminUser {
    let m = &u.moderation;
    let suspended = m.suspended_at(now);
    let muted = m.muted_at(now);
    AdminUser {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        role: u.role,
        roles: custom_roles,
        created_at: Timestamp(u.created_at),
        deleted: u.deleted_at.is_some(),
        suspended_until: m.suspended_until.filter(|_| suspended),
        suspend_reason: m.suspend_reason.clone().filter(|_| suspended),
        deactivated_at: m.deactivated_at,
        deactivate_reason: m.deactivate_reason.clone(),
        muted_until: m.muted_until.filter(|_| muted),
        mute_reason: m.mute_reason.clone().filter(|_| muted),
        shadowbanned: m.shadowbanned(),
        shadowban_reason: m.shadowban_reason.clone(),
        online: false,
    }
}

/// Account administration use-cases.
#[derive(Clone)]
pub struct UserAdminService {
    db: Db,
    uow: UnitOfWork,
    access: Access,
    auth: AuthService,
}

impl UserAdminService {
    /// Builds the service; `auth` creates accounts with the registration rules.
    pub fn new(db: Db, uow: UnitOfWork, access: Access, auth: AuthService) -> Self {
        Self {
            db,
            uow,
            access,
            auth,
        }
    }

    async fn require(&self, actor: &Actor, permission: Permission) -> Result<(), DomainError> {
        self.access.require(actor, permission, Scope::Server).await
    }

    /// Accounts whose username starts with `prefix` (case-insensitive), by username, deleted
    /// ones included. Errors: 403 (needs `users.view`), 422 `invalid_limit` / `invalid_cursor`
    /// / `invalid_query` (a prefix over 32 characters).
    pub async fn search(
        &self,
        actor: &Actor,
        prefix: &str,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<AdminUserPage, DomainError> {
        self.require(actor, Permission::UsersView).await?;
        let prefix = prefix.trim().to_lowercase();
        if prefix.chars().count() > 32 {
            return Err(DomainError::invalid(
                ErrorCode::InvalidQuery,
                "a username prefix has at most 32 characters",
            ));
        }
        let limit = paging::limit(limit, 50, USERS_PAGE_MAX)?;
        let after = cursor
            .map(paging::decode::<UserPosition>)
            .transpose()?
            .map(|p| p.0);
        let rows = user_admin::search(&self.db.read, &prefix, after.as_deref(), limit + 1).await?;
        let page = paging::page(rows, limit, |u: &UserRecord| {
            UserPosition(u.username.clone())
        });
        let ids: Vec<UserId> = page.items.iter().map(|u| u.id).collect();
        let mut custom = roles::names_of_users(&self.db.read, &ids).await?;
        let now = Timestamp::now();
        Ok(AdminUserPage {
            users: page
                .items
                .iter()
                .map(|u| admin_view(u, custom.remove(&u.id).unwrap_or_default(), now))
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// One account with its live sessions, conversations and latest audit entries. Errors: 403
    /// (needs `users.view`), 404 unknown user.
    pub async fn detail(&self, actor: &Actor, id: UserId) -> Result<AdminUserDetail, DomainError> {
        self.require(actor, Permission::UsersView).await?;
        let db = &self.db.read;
        let user = users::by_id(db, id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        let custom = roles::of_user(db, id).await?;
        let live = sessions::live_of(db, id).await?;
        let memberships = members::for_user(db, id, None, Some(200)).await?;
        let ids: Vec<_> = memberships.iter().map(|m| m.conversation_id).collect();
        let rooms = conversations::by_ids(db, &ids).await?;
        let about = AuditFilter {
            target: Some(id.to_string()),
            ..Default::default()
        };
        let by = AuditFilter {
            actor: Some(id),
            ..Default::default()
        };
        let mut rows = audit::page(db, &about, None, 20).await?;
        rows.extend(audit::page(db, &by, None, 20).await?);
        rows.sort_by_key(|r| std::cmp::Reverse(r.id.0));
        rows.dedup_by(|a, b| a.id == b.id);
        rows.truncate(20);
        Ok(AdminUserDetail {
            user: admin_view(
                &user,
                custom.into_iter().map(|r| r.name).collect(),
                Timestamp::now(),
            ),
            sessions: live
                .into_iter()
                .map(|s| SessionInfo {
                    current: false,
                    id: s.id,
                    device: s.device,
                    ip: s.ip,
                    created_at: Timestamp(s.created_at),
                    last_active_at: Timestamp(s.last_active_at),
                })
                .collect(),
            conversations: memberships
                .iter()
                .filter_map(|m| {
                    rooms
                        .iter()
                        .find(|c| c.id == m.conversation_id)
                        .map(|c| AdminMembership {
                            id: c.id,
                            kind: c.kind,
                            name: c.name.clone(),
                            role: m.role,
                        })
                })
                .collect(),
            audit: entries(&self.db, rows).await?,
        })
    }

    /// Creates an account (registration rules apply; `role` admin needs `roles.manage` too).
    /// Errors: 403, 409 `username_taken` / `email_taken`, 422 for bad input.
    pub async fn create(
        &self,
        actor: &Actor,
        username: &str,
        password: String,
        display_name: Option<&str>,
        email: Option<&str>,
        role: ServerRole,
    ) -> Result<AdminUser, DomainError> {
        self.require(actor, Permission::UsersManage).await?;
        if role != ServerRole::Member {
            self.require(actor, Permission::RolesManage).await?;
        }
        let user = self
            .auth
            .create_account(Some(actor), username, password, display_name, email, role)
            .await?;
        Ok(admin_view(&user, Vec::new(), Timestamp::now()))
    }

    /// Issues a one-time password reset link token for an account (valid 24 hours; earlier
    /// links die); returns the token and its expiry. The account's recovery PIN, if set, is
    /// still asked. Errors: 403 (needs `users.manage`), 404 unknown or deleted user.
    pub async fn reset_token(
        &self,
        actor: Option<&Actor>,
        id: UserId,
    ) -> Result<(String, Timestamp), DomainError> {
        if let Some(actor) = actor {
            self.require(actor, Permission::UsersManage).await?;
        }
        let token = random_token();
        let expires = self
            .uow
            .run(async |work| {
                recheck(work, actor, Permission::UsersManage).await?;
                let user = users::by_id(work.db(), id)
                    .await?
                    .filter(UserRecord::is_active)
                    .ok_or(DomainError::NotFound("user"))?;
                let expires = work.now() + ADMIN_RESET_TTL;
                user_tokens::insert(
                    work.db(),
                    user.id,
                    TokenPurpose::PasswordReset,
                    hash_token(&token),
                    None,
                    work.now(),
                    expires,
                )
                .await?;
                work.record(NewAuditEntry {
                    actor: actor.map(|a| a.user),
                    action: AuditAction::ResetLinkIssued,
                    target: Some(AuditTarget::User(user.id)),
                    details: serde_json::json!({
                        "username": user.username, "expires_at": Timestamp(expires),
                        "via": if actor.is_some() { "api" } else { "cli" },
                    }),
                    ip: actor.and_then(|a| a.ip),
                })
                .await?;
                Ok(Timestamp(expires))
            })
            .await?;
        Ok((token, expires))
    }

    /// Ends every live session of an account (its sockets close within a second, reason
    /// `revoked_by_admin`); returns how many ended. Errors: 403 (needs `users.moderate` and to
    /// outrank the account), 404, 422 `cannot_target_self` / `invalid_reason`.
    pub async fn logout(
        &self,
        actor: &Actor,
        id: UserId,
        reason: Option<&str>,
    ) -> Result<usize, DomainError> {
        self.require(actor, Permission::UsersModerate).await?;
        let reason = Reason::parse_optional(reason)?;
        self.uow
            .run(async |work| {
                let target = self
                    .target(work, actor, id, Permission::UsersModerate)
                    .await?;
                let ended = end_in(
                    work,
                    target.id,
                    Which::All,
                    SessionEndReason::RevokedByAdmin,
                    Some(actor),
                    None,
                )
                .await?;
                work.audit(
                    Some(actor),
                    AuditAction::UserLoggedOut,
                    Some(AuditTarget::User(target.id)),
                    serde_json::json!({
                        "username": target.username,
                        "sessions": ended.len(),
                        "reason": reason.as_ref().map(Reason::as_str),
                    }),
                )
                .await?;
                Ok(ended.len())
            })
            .await
    }

    /// Applies a moderation change to an account, audited with its reason; a suspension or
    /// deactivation also ends every session (`suspended` / `deactivated`: the open pages land on
    /// the login page, which shows why). Errors: 403 (the action's permission, and outranking:
    /// moderators act on plain members only), 404 unknown or deleted user, 422
    /// `cannot_target_self`.
    pub async fn moderate(
        &self,
        actor: &Actor,
        id: UserId,
        action: AccountAction,
    ) -> Result<AdminUser, DomainError> {
        let permission = action.permission();
        self.require(actor, permission).await?;
        self.uow
            .run(async |work| {
                let target = self.target(work, actor, id, permission).await?;
                let now = Timestamp(work.now());
                let mut moderation = target.moderation.clone();
                let details = action.apply(&mut moderation, now);
                user_admin::set_moderation(work.db(), target.id, &moderation).await?;
                if let Some(reason) = action.ends_sessions() {
                    end_in(work, target.id, Which::All, reason, Some(actor), None).await?;
                }
                let mut details = details;
                details["username"] = serde_json::json!(target.username);
                work.audit(
                    Some(actor),
                    action.audit_action(),
                    Some(AuditTarget::User(target.id)),
                    details,
                )
                .await?;
                let after = UserRecord {
                    moderation,
                    ..target
                };
                work.publish(Event::UserUpdated {
                    user: after.view(),
                    permissions: None,
                });
                let custom = roles::of_user(work.db(), after.id).await?;
                Ok(admin_view(
                    &after,
                    custom.into_iter().map(|r| r.name).collect(),
                    now,
                ))
            })
            .await
    }

    /// The account `id` that `actor` may act on with `permission`, read inside `work`: not
    /// oneself (422 `cannot_target_self`), existing and not deleted (404), and outranked —
    /// holders of `roles.manage` act on anyone else; others only on accounts that hold neither
    /// `users.moderate` nor `roles.manage` (403 `permission_denied`).
    async fn target(
        &self,
        work: &mut Work,
        actor: &Actor,
        id: UserId,
        permission: Permission,
    ) -> Result<UserRecord, DomainError> {
        recheck(work, Some(actor), permission).await?;
        if id == actor.user {
            return Err(DomainError::invalid(
                ErrorCode::CannotTargetSelf,
                "you cannot do this to your own account",
            ));
        }
        let target = users::by_id(work.db(), id)
            .await?
            .filter(UserRecord::is_active)
            .ok_or(DomainError::NotFound("user"))?;
        let me = users::by_id(work.db(), actor.user)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        let mine = permissions_in(work, me.id, me.role).await?;
        if !mine.contains(Permission::RolesManage) {
            let theirs = permissions_in(work, target.id, target.role).await?;
            if theirs.contains(Permission::UsersModerate)
                || theirs.contains(Permission::RolesManage)
            {
                return Err(DomainError::forbidden(
                    ErrorCode::PermissionDenied,
                    "moderators can only act on accounts without moderation rights",
                ));
            }
        }
        Ok(target)
    }
}
