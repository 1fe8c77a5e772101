//! Server administration (the start of it; the admin-panel issue adds the rest): server roles
//! and the audit log.

use serde::{Deserialize, Serialize};

use super::{
    access::Access,
    paging::{self, Page},
    uow::UnitOfWork,
};
use crate::{
    domain::{
        Actor, AuditAction, AuditEntry, AuditFilter, AuditId, AuditTarget, DomainError, ErrorCode,
        Facts, Permission, Scope, ServerRole, Timestamp, User, UserId, decide,
    },
    events::Event,
    store::{
        Db,
        audit::{self, AuditRecord},
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

impl AdminService {
    /// Builds the service.
    pub fn new(db: Db, uow: UnitOfWork, access: Access) -> Self {
        Self { db, uow, access }
    }

    /// Changes a user's server role; takes effect on that user's next request (also on an open
    /// WebSocket). Audited as `user.role_changed`. Errors: 403 `permission_denied` (needs
    /// `roles.manage`), 404 unknown or deleted user, 409 `last_admin` (the last admin cannot be
    /// demoted).
    pub async fn set_role(
        &self,
        actor: &Actor,
        target: UserId,
        role: ServerRole,
    ) -> Result<User, DomainError> {
        self.access
            .require(actor, Permission::RolesManage, Scope::Server)
            .await?;
        self.uow
            .run(async |work| {
                // Again inside the transaction, from the database, with every admin row locked:
                // an admin demoted while this request was on its way must not complete it, and
                // the last admin cannot be demoted by two requests at once.
                let admins = users::ids_with_role_locked(work.db(), ServerRole::Admin).await?;
                let me = if admins.contains(&actor.user) {
                    ServerRole::Admin
                } else {
                    users::by_id(work.db(), actor.user)
                        .await?
                        .filter(UserRecord::is_active)
                        .map_or(ServerRole::Member, |u| u.role)
                };
                decide(
                    Permission::RolesManage,
                    &Facts {
                        server_role: me,
                        conversation: None,
                        member: None,
                        blocked: None,
                        target: None,
                        now: crate::domain::Timestamp::now(),
                    },
                )?;
                let before = users::by_id(work.db(), target)
                    .await?
                    .filter(UserRecord::is_active)
                    .ok_or(DomainError::NotFound("user"))?;
                if before.role == role {
                    return Ok(before.view());
                }
                if before.role == ServerRole::Admin && admins.len() <= 1 {
                    return Err(DomainError::conflict(
                        ErrorCode::LastAdmin,
                        "the server needs at least one admin",
                    ));
                }
                users::set_role(work.db(), target, role).await?;
                work.audit(
                    Some(actor),
                    AuditAction::UserRoleChanged,
                    Some(AuditTarget::User(target)),
                    serde_json::json!({"username": before.username, "from": before.role, "to": role}),
                )
                .await?;
                let after = UserRecord { role, ..before };
                let view = after.view();
                work.publish(Event::UserUpdated { user: view.clone() });
                Ok(view)
            })
            .await
    }

    /// One page of the audit log, newest first, filtered by actor, action and target id.
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
            .require(actor, Permission::AuditRead, Scope::Server)
            .await?;
        let limit = paging::limit(limit, 50, AUDIT_PAGE_MAX)?;
        let before = cursor
            .map(paging::decode::<AuditPosition>)
            .transpose()?
            .map(|p| p.0);
        let rows = audit::page(&self.db.read, &filter, before, limit).await?;
        let page = paging::page(rows, limit, |r: &AuditRecord| AuditPosition(r.id));
        let actors: Vec<UserId> = page.items.iter().filter_map(|r| r.actor_id).collect();
        let names = users::usernames(&self.db.read, &actors).await?;
        Ok(page.map(|r| AuditEntry {
            id: r.id,
            actor_username: r.actor_id.and_then(|a| names.get(&a).cloned()),
            actor_id: r.actor_id,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            details: r.details,
            ip: r.ip,
            created_at: Timestamp(r.created_at),
        }))
    }
}
