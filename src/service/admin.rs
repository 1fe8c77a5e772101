//! Server administration: built-in server roles, the audit log and "who am I". Account
//! moderation lives in `user_admin`, custom roles in `roles`, announcements in `broadcast`.

use serde::{Deserialize, Serialize};

use super::{
    access::Access,
    paging::{self, Page},
    uow::{UnitOfWork, Work},
};
use crate::{
    domain::{
        Actor, AuditAction, AuditEntry, AuditFilter, AuditId, AuditTarget, ClusterStatus,
        DomainError, ErrorCode, NewAuditEntry, Permission, PermissionSet, PermissionSource,
        ServerCounts, ServerRole, ServerStatus, Timestamp, User, UserId, WhoAmI,
    },
    events::Event,
    store::{
        Db,
        audit::{self, AuditRecord},
        identity, roles, user_admin,
        users::{self, UserRecord},
    },
};

/// Largest page of the audit log.
pub const AUDIT_PAGE_MAX: u64 = 200;

/// Position of an audit page (newest first, by id).
#[derive(Serialize, Deserialize)]
struct AuditPosition(AuditId);

/// Administration use-cases.
#[derive(Clone)]
pub struct AdminService {
    db: Db,
    uow: UnitOfWork,
    access: Access,
}

/// The effective server permissions of `user` (built-in `role` plus custom roles), read inside
/// `work` so that a decision and its change see the same rows.
pub(crate) async fn permissions_in(
    work: &mut Work,
    user: UserId,
    role: ServerRole,
) -> Result<PermissionSet, DomainError> {
    Ok(roles::of_user(work.db(), user)
        .await?
        .iter()
        .fold(PermissionSet::of_role(role), |set, r| {
            set.union(r.permissions)
        }))
}

/// Checks inside `work`, from the database, that `actor` (when one: `None` is the command line)
/// still holds `permission`: a right revoked while the request was on its way does not let it
/// complete. Errors: 403 `permission_denied`; 401 when the actor's account is gone.
pub(crate) async fn recheck(
    work: &mut Work,
    actor: Option<&Actor>,
    permission: Permission,
) -> Result<(), DomainError> {
    let Some(actor) = actor else { return Ok(()) };
    let me = users::by_id(work.db(), actor.user)
        .await?
        .filter(UserRecord::is_active)
        .ok_or_else(|| {
            DomainError::unauthorized(ErrorCode::Unauthorized, "the account no longer exists")
        })?;
    if permissions_in(work, me.id, me.role)
        .await?
        .contains(permission)
    {
        Ok(())
    } else {
        Err(DomainError::forbidden(
            ErrorCode::PermissionDenied,
            "your role does not allow this",
        ))
    }
}

/// Sets `target`'s built-in server role inside `work`, with every admin row locked, so the last
/// admin cannot be demoted (not even by two requests at once); audited as `user.role_changed`
/// and published as `UserUpdated` with the new permissions. `by`: the acting account (`None`:
/// the command line), whose `roles.manage` is checked again here. Errors: 403, 404 unknown or
/// deleted user, 409 `last_admin`.
pub(crate) async fn change_builtin_role(
    work: &mut Work,
    by: Option<&Actor>,
    target: UserId,
    role: ServerRole,
) -> Result<UserRecord, DomainError> {
    let admins = users::ids_with_role_locked(work.db(), ServerRole::Admin).await?;
    recheck(work, by, Permission::RolesManage).await?;
    let before = users::by_id(work.db(), target)
        .await?
        .filter(UserRecord::is_active)
        .ok_or(DomainError::NotFound("user"))?;
    if before.role == role {
        return Ok(before);
    }
    if before.role == ServerRole::Admin && admins.len() <= 1 {
        return Err(DomainError::conflict(
            ErrorCode::LastAdmin,
            format!(
                "{} is the last admin: the server needs at least one (make another account \
                 admin first)",
                before.username
            ),
        ));
    }
    users::set_role(work.db(), target, role).await?;
    work.record(NewAuditEntry {
        actor: by.map(|a| a.user),
        action: AuditAction::UserRoleChanged,
        target: Some(AuditTarget::User(target)),
        details: serde_json::json!({
            "username": before.username, "from": before.role, "to": role,
            "via": if by.is_some() { "api" } else { "cli" },
        }),
        ip: by.and_then(|a| a.ip),
    })
    .await?;
    let after = UserRecord { role, ..before };
    let permissions = permissions_in(work, target, role).await?;
    work.publish(Event::UserUpdated {
        user: after.view(),
        permissions: Some(permissions),
    });
    Ok(after)
}

impl AdminService {
    /// Builds the service.
    pub fn new(db: Db, uow: UnitOfWork, access: Access) -> Self {
        Self { db, uow, access }
    }

    /// Changes a user's built-in server role; takes effect on that user's next request (also
    /// on an open WebSocket). Audited as `user.role_changed`. Errors: 403 `permission_denied`
    /// (needs `roles.manage`), 404 unknown or deleted user, 409 `last_admin` (the last admin
    /// cannot be demoted).
    pub async fn set_role(
        &self,
        actor: &Actor,
        target: UserId,
        role: ServerRole,
    ) -> Result<User, DomainError> {
        self.access
            .require(actor, Permission::RolesManage, crate::domain::Scope::Server)
            .await?;
        self.uow
            .run(async |work| {
                Ok(change_builtin_role(work, Some(actor), target, role)
                    .await?
                    .view())
            })
            .await
    }

    /// The server's identity and statistics (`online` is 0: the HTTP layer knows who is
    /// connected). Errors: 403 (needs `server.view`).
    pub async fn server_status(
        &self,
        actor: &Actor,
        config: &crate::config::Config,
        started_at: Timestamp,
    ) -> Result<ServerStatus, DomainError> {
        self.access
            .require(actor, Permission::ServerView, crate::domain::Scope::Server)
            .await?;
        let db = &self.db.read;
        let database = identity::database_identity(&self.db, config).await?;
        let (rooms, groups, dms) = user_admin::conversation_counts(db).await?;
        let now = Timestamp::now();
        let midnight = now
            .0
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(now.0, |t| t.and_utc());
        let data_dir = config
            .data_dir
            .canonicalize()
            .unwrap_or(config.data_dir.clone());
        Ok(ServerStatus {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at,
            uptime_secs: u64::try_from((now.0 - started_at.0).num_seconds()).unwrap_or_default(),
            database,
            data_dir: data_dir.display().to_string(),
            config_sources: config.sources.clone(),
            counts: ServerCounts {
                users: user_admin::count_active(db).await?,
                online: 0,
                rooms,
                groups,
                dms,
                messages_today: user_admin::messages_since(db, midnight).await?,
            },
            cluster: ClusterStatus::default(),
        })
    }

    /// The caller's roles and effective server permissions with the roles granting each (any
    /// signed-in user may ask: it explains a missing admin panel). Errors: 401.
    pub async fn whoami(&self, actor: &Actor) -> Result<WhoAmI, DomainError> {
        let me = self.access.active_user(actor.user).await?;
        let custom = roles::of_user(&self.db.read, actor.user).await?;
        let builtin = PermissionSet::of_role(me.role);
        let permissions: Vec<PermissionSource> = me
            .permissions
            .to_vec()
            .into_iter()
            .map(|permission| PermissionSource {
                permission,
                sources: builtin
                    .contains(permission)
                    .then(|| me.role.as_str().to_owned())
                    .into_iter()
                    .chain(
                        custom
                            .iter()
                            .filter(|r| r.permissions.contains(permission))
                            .map(|r| r.name.clone()),
                    )
                    .collect(),
            })
            .collect();
        Ok(WhoAmI {
            user_id: actor.user,
            username: me.username.clone(),
            roles: std::iter::once(me.role.as_str().to_owned())
                .chain(custom.into_iter().map(|r| r.name))
                .collect(),
            admin_panel: permissions.iter().any(|p| p.permission.opens_admin_panel()),
            permissions,
        })
    }

    /// One page of the audit log, newest first, filtered by actor, action, target id and time.
    /// Errors: 403 `permission_denied` (needs `audit.read`), 422 `invalid_limit`,
    /// `invalid_cursor`.
    pub async fn audit(
        &self,
        actor: &Actor,
        filter: AuditFilter,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<AuditEntry>, DomainError> {
        self.access
            .require(actor, Permission::AuditRead, crate::domain::Scope::Server)
            .await?;
        let limit = paging::limit(limit, 50, AUDIT_PAGE_MAX)?;
        let before = cursor
            .map(paging::decode::<AuditPosition>)
            .transpose()?
            .map(|p| p.0);
        let rows = audit::page(&self.db.read, &filter, before, limit).await?;
        let page = paging::page(rows, limit, |r: &AuditRecord| AuditPosition(r.id));
        Ok(Page {
            items: entries(&self.db, page.items).await?,
            next_cursor: page.next_cursor,
        })
    }
}

/// Audit rows as entries, with the actors' usernames.
pub(crate) async fn entries(
    db: &Db,
    rows: Vec<AuditRecord>,
) -> Result<Vec<AuditEntry>, DomainError> {
    let actors: Vec<UserId> = rows.iter().filter_map(|r| r.actor_id).collect();
    let names = users::usernames(&db.read, &actors).await?;
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
