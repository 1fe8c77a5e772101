//! Account administration shared by the command line (`echochat admin …`, no actor: whoever can
//! read the data folder is the operator) and the admin API (an [`Actor`] whose permission is
//! checked with [`Access::require`]): roles, account creation, reset links, the user list and
//! the audit log's tail. Every change is audited in its own transaction; the command line's
//! entries have no actor and `details.via = "cli"`.

use std::{sync::Arc, time::Duration};

use super::{
    access::Access,
    conversations::ConversationService,
    passwords::PasswordHasher,
    roles::RoleService,
    tokens::{hash_token, random_token},
    uow::{UnitOfWork, Work},
};
use crate::{
    domain::{
        Actor, AuditAction, AuditEntry, AuditFilter, AuditTarget, DisplayName, DomainError, Email,
        ErrorCode, Password, Permission, Scope, ServerRole, Timestamp, TokenPurpose, User, UserId,
        Username,
    },
    store::{
        Db, audit, roles, user_tokens,
        users::{self, UserRecord},
    },
};

/// How long a reset link made by an administrator works: 24 hours (the person may not read it
/// at once; a self-service link works 30 minutes).
pub const ADMIN_RESET_LINK_TTL: Duration = Duration::from_secs(24 * 3600);

/// Most entries `audit_tail` returns.
pub const AUDIT_TAIL_MAX: u64 = 10_000;

/// One account as an administrator sees it (`echochat admin status` / `list`).
#[derive(Clone, Debug)]
pub struct AccountStatus {
    /// The public view (id, username, display name, role, deleted, created).
    pub user: User,
    /// Every role the account has: today its one built-in role.
    pub roles: Vec<String>,
    /// E-mail address, when one is set.
    pub email: Option<String>,
    /// When the address was confirmed through a link.
    pub email_verified_at: Option<Timestamp>,
    /// Whether a recovery PIN guards password resets.
    pub recovery_pin: bool,
    /// When the account was deleted.
    pub deleted_at: Option<Timestamp>,
}

impl From<UserRecord> for AccountStatus {
    fn from(record: UserRecord) -> Self {
        Self {
            roles: vec![record.role.as_str().to_owned()],
            email: record.email.clone(),
            email_verified_at: record.email_verified_at.map(Timestamp),
            recovery_pin: record.recovery_pin_hash.is_some(),
            deleted_at: record.deleted_at.map(Timestamp),
            user: record.view(),
        }
    }
}

/// A new account made by an administrator.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// Username as typed (validated like registration).
    pub username: String,
    /// Password (validated like registration).
    pub password: String,
    /// Display name; the username as typed when absent.
    pub display_name: Option<String>,
    /// E-mail address (not verified).
    pub email: Option<String>,
    /// Built-in role; `member` when absent.
    pub role: ServerRole,
}

/// A one-time password reset link.
#[derive(Clone, Debug)]
pub struct ResetLink {
    /// `<base>/reset-password#token=…`.
    pub url: String,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// The outcome of a grant or revoke.
#[derive(Clone, Debug)]
pub struct RoleChange {
    /// The account afterwards.
    pub account: AccountStatus,
    /// False when the account already had (grant) or did not have (revoke) the role.
    pub changed: bool,
}

/// Account administration use cases. Cheap to clone.
#[derive(Clone)]
pub struct SystemActions {
    db: Db,
    uow: UnitOfWork,
    access: Access,
    hasher: PasswordHasher,
    conversations: ConversationService,
    roles: RoleService,
}

fn via(actor: Option<&Actor>) -> &'static str {
    if actor.is_some() { "api" } else { "cli" }
}

/// A built-in role by name. Errors: 422 `invalid_role`.
fn builtin_role(name: &str) -> Result<ServerRole, DomainError> {
    name.trim().to_ascii_lowercase().parse().map_err(|_| {
        DomainError::invalid(
            ErrorCode::InvalidRole,
            format!("unknown role {name:?}: the roles are admin, moderator and member"),
        )
    })
}

impl SystemActions {
    /// Builds the service. `conversations` joins new accounts to the auto-join rooms.
    pub fn new(
        db: Db,
        uow: UnitOfWork,
        access: Access,
        hasher: PasswordHasher,
        conversations: ConversationService,
    ) -> Self {
        Self {
            roles: RoleService::new(db.clone(), uow.clone(), access.clone()),
            db,
            uow,
            access,
            hasher,
            conversations,
        }
    }

    async fn require(
        &self,
        actor: Option<&Actor>,
        permission: Permission,
    ) -> Result<(), DomainError> {
        match actor {
            Some(actor) => self.access.require(actor, permission, Scope::Server).await,
            None => Ok(()),
        }
    }

    /// The account named `who`: a username (any case) or an account id. Errors: 404 `user`.
    pub async fn find(
        &self,
        actor: Option<&Actor>,
        who: &str,
    ) -> Result<AccountStatus, DomainError> {
        self.require(actor, Permission::UsersView).await?;
        let record = self.record(who).await?;
        self.status(record).await
    }

    async fn record(&self, who: &str) -> Result<UserRecord, DomainError> {
        let who = who.trim();
        let found = match uuid::Uuid::parse_str(who) {
            Ok(id) => users::by_id(&self.db.read, UserId(id)).await?,
            Err(_) => match Username::parse(who) {
                Ok(name) => users::by_username(&self.db.read, name.as_str()).await?,
                Err(_) => None,
            },
        };
        found.ok_or(DomainError::NotFound("user"))
    }

    /// Every account (deleted ones included), optionally only those with the role `role`, in
    /// username order. Errors: 422 `invalid_role`.
    pub async fn list(
        &self,
        actor: Option<&Actor>,
        role: Option<&str>,
    ) -> Result<Vec<AccountStatus>, DomainError> {
        self.require(actor, Permission::UsersView).await?;
        let role = role.map(builtin_role).transpose()?;
        Ok(users::list(&self.db.read, role, false)
            .await?
            .into_iter()
            .map(AccountStatus::from)
            .collect())
    }

    /// How many active admins the server has.
    pub async fn admin_count(&self) -> Result<usize, DomainError> {
        Ok(users::list(&self.db.read, Some(ServerRole::Admin), true)
            .await?
            .len())
    }

    /// Gives the account `target` the role `role` (see [`RoleService::grant`]: a built-in name
    /// sets the built-in role, another name adds that custom role). Errors: as
    /// [`RoleService::grant`]; 404 `role` for an unknown custom role.
    pub async fn grant_role(
        &self,
        actor: Option<&Actor>,
        target: UserId,
        role: &str,
    ) -> Result<RoleChange, DomainError> {
        let before = self.roles_of(target).await?;
        self.roles.grant(actor, target, role).await?;
        self.change(target, before).await
    }

    /// Takes the role `role` from `target` (see [`RoleService::revoke`]: `admin` or `moderator`
    /// makes the account a member; the last admin stays). Errors: as [`RoleService::revoke`].
    pub async fn revoke_role(
        &self,
        actor: Option<&Actor>,
        target: UserId,
        role: &str,
    ) -> Result<RoleChange, DomainError> {
        let before = self.roles_of(target).await?;
        self.roles.revoke(actor, target, role).await?;
        self.change(target, before).await
    }

    async fn roles_of(&self, user: UserId) -> Result<Vec<String>, DomainError> {
        let record = users::by_id(&self.db.write, user)
            .await?
            .filter(UserRecord::is_active)
            .ok_or(DomainError::NotFound("user"))?;
        self.status(record).await.map(|s| s.roles)
    }

    async fn change(&self, user: UserId, before: Vec<String>) -> Result<RoleChange, DomainError> {
        let record = users::by_id(&self.db.write, user)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        let account = self.status(record).await?;
        Ok(RoleChange {
            changed: account.roles != before,
            account,
        })
    }

    /// An account with its custom roles after the built-in one.
    async fn status(&self, record: UserRecord) -> Result<AccountStatus, DomainError> {
        let custom = roles::of_user(&self.db.write, record.id).await?;
        let mut status = AccountStatus::from(record);
        status.roles.extend(custom.into_iter().map(|r| r.name));
        Ok(status)
    }

    /// Creates an account, validated like registration (whatever the registration policy), and
    /// joins it to the auto-join rooms. Audited as `user.created` (`details`: `username`, `role`,
    /// `via`). Errors: 403 `permission_denied` (needs `users.manage`; `roles.manage` too for a
    /// role other than member), 422 `invalid_username` / `invalid_password` /
    /// `invalid_display_name` / `invalid_email`, 409 `username_taken` / `email_taken`.
    pub async fn create_user(
        &self,
        actor: Option<&Actor>,
        new: NewAccount,
    ) -> Result<AccountStatus, DomainError> {
        self.require(actor, Permission::UsersManage).await?;
        if new.role != ServerRole::Member {
            self.require(actor, Permission::RolesManage).await?;
        }
        let username = Username::parse(&new.username)?;
        let password = Password::parse(new.password)?;
        let display_name = match &new.display_name {
            Some(name) => DisplayName::parse(name)?.as_str().to_owned(),
            None => new.username.trim().to_owned(),
        };
        let email = new
            .email
            .filter(|e| !e.trim().is_empty())
            .map(|e| Email::parse(&e))
            .transpose()?
            .map(|e| e.as_str().to_owned());
        if users::by_username(&self.db.read, username.as_str())
            .await?
            .is_some()
        {
            return Err(DomainError::conflict(
                ErrorCode::UsernameTaken,
                "that username is taken",
            ));
        }
        let password_hash = self.hasher.hash(&password).await?;
        let role = new.role;
        self.uow
            .run(async |work: &mut Work| {
                let user = users::insert(
                    work.db(),
                    users::NewUser {
                        username: username.as_str(),
                        display_name: &display_name,
                        password_hash,
                        email,
                        role,
                        now: work.now(),
                    },
                )
                .await?;
                work.audit(
                    actor,
                    AuditAction::UserCreated,
                    Some(AuditTarget::User(user.id)),
                    serde_json::json!({"username": user.username, "role": role,
                        "via": via(actor)}),
                )
                .await?;
                self.conversations.auto_join(work, &user).await?;
                Ok(AccountStatus::from(user))
            })
            .await
    }

    /// Makes a one-time password reset link for the account `target` (it ends the account's
    /// earlier links; works for [`ADMIN_RESET_LINK_TTL`]; when the account has a recovery PIN,
    /// the reset asks for it too). `link_base` is the server's public base URL. Audited as
    /// `user.reset_link_issued` (`details`: `username`, `expires_at`, `via`). Errors: 403
    /// `permission_denied` (needs `users.manage`), 404 `user` (unknown or deleted).
    pub async fn reset_link(
        &self,
        actor: Option<&Actor>,
        target: UserId,
        link_base: &str,
    ) -> Result<ResetLink, DomainError> {
        self.require(actor, Permission::UsersManage).await?;
        let token = random_token();
        let link_base: Arc<str> = link_base.trim_end_matches('/').into();
        self.uow
            .run(async |work| {
                let user = users::by_id(work.db(), target)
                    .await?
                    .filter(UserRecord::is_active)
                    .ok_or(DomainError::NotFound("user"))?;
                let now = work.now();
                let expires_at =
                    now + chrono::Duration::from_std(ADMIN_RESET_LINK_TTL).unwrap_or_default();
                user_tokens::insert(
                    work.db(),
                    user.id,
                    TokenPurpose::PasswordReset,
                    hash_token(&token),
                    None,
                    now,
                    expires_at,
                )
                .await?;
                let expires_at = Timestamp(expires_at);
                work.audit(
                    actor,
                    AuditAction::ResetLinkIssued,
                    Some(AuditTarget::User(user.id)),
                    serde_json::json!({"username": user.username, "expires_at": expires_at,
                        "via": via(actor)}),
                )
                .await?;
                Ok(ResetLink {
                    url: format!("{link_base}/reset-password#token={token}"),
                    expires_at,
                })
            })
            .await
    }

    /// The latest `n` audit entries (at most [`AUDIT_TAIL_MAX`]), oldest first. Errors: 403
    /// `permission_denied` (needs `audit.read`).
    pub async fn audit_tail(
        &self,
        actor: Option<&Actor>,
        n: u64,
    ) -> Result<Vec<AuditEntry>, DomainError> {
        self.require(actor, Permission::AuditRead).await?;
        let n = n.min(AUDIT_TAIL_MAX);
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut rows = audit::page(&self.db.read, &AuditFilter::default(), None, n).await?;
        rows.truncate(usize::try_from(n).unwrap_or(usize::MAX));
        rows.reverse();
        let actors: Vec<UserId> = rows.iter().filter_map(|r| r.actor_id).collect();
        let names = users::usernames(&self.db.read, &actors).await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                actor_username: r.actor_id.and_then(|a| names.get(&a).cloned()),
                actor_id: r.actor_id,
                action: r.action,
                target_type: r.target_type,
                target_id: r.target_id,
                details: r.details,
                ip: r.ip,
                created_at: Timestamp(r.created_at),
            })
            .collect())
    }
}
