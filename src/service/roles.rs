//! Server roles (`/admin/roles`, `/admin/users/{id}/roles/{role}`): the built-in `admin`,
//! `moderator` and `member` (fixed, in code) and custom roles (stored), each a set of server
//! permissions. A user holds one built-in role and any number of custom roles; their effective
//! permissions are the union. Everything here needs `roles.manage`.

use super::{
    access::Access,
    admin::{change_builtin_role, permissions_in, recheck},
    uow::{UnitOfWork, Work},
    user_admin::admin_view,
};
use crate::{
    domain::{
        Actor, AdminUser, AuditAction, AuditTarget, DomainError, ErrorCode, NewAuditEntry,
        Permission, PermissionSet, RoleList, RoleName, RoleView, Scope, ServerRole, Timestamp,
        UserId, role_permissions,
    },
    events::Event,
    store::{
        Db, roles,
        users::{self, UserRecord},
    },
};

/// Longest role description, in characters.
pub const DESCRIPTION_MAX: usize = 200;

fn description(raw: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > DESCRIPTION_MAX || text.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            ErrorCode::UnprocessableEntity,
            format!(
                "a description has at most {DESCRIPTION_MAX} characters and no control characters"
            ),
        ));
    }
    Ok(Some(text.to_owned()))
}

fn builtin_description(role: ServerRole) -> &'static str {
    match role {
        ServerRole::Admin => "Runs the server: every permission.",
        ServerRole::Moderator => "Moderates rooms, accounts and reports.",
        ServerRole::Member => "An ordinary account.",
    }
}

/// Role use-cases.
#[derive(Clone)]
pub struct RoleService {
    db: Db,
    uow: UnitOfWork,
    access: Access,
}

impl RoleService {
    /// Builds the service.
    pub fn new(db: Db, uow: UnitOfWork, access: Access) -> Self {
        Self { db, uow, access }
    }

    async fn require(&self, actor: &Actor) -> Result<(), DomainError> {
        self.access
            .require(actor, Permission::RolesManage, Scope::Server)
            .await
    }

    /// Every role: the built-in ones first, then custom ones by name, with member counts.
    /// Errors: 403 (needs `roles.manage`).
    pub async fn list(&self, actor: &Actor) -> Result<RoleList, DomainError> {
        self.require(actor).await?;
        let db = &self.db.read;
        let counts = roles::member_counts(db).await?;
        let mut out = Vec::new();
        for role in ServerRole::ALL {
            out.push(RoleView {
                name: role.as_str().to_owned(),
                description: Some(builtin_description(*role).to_owned()),
                permissions: PermissionSet::of_role(*role).to_vec(),
                builtin: true,
                members: users::count_with_role(db, *role).await?,
            });
        }
        for r in roles::all(db).await? {
            out.push(RoleView {
                members: counts.get(&r.name).copied().unwrap_or_default(),
                name: r.name,
                description: r.description,
                permissions: r.permissions.to_vec(),
                builtin: false,
            });
        }
        Ok(RoleList { roles: out })
    }

    /// Creates a custom role. Errors: 403, 409 `builtin_role` / `role_exists`, 422
    /// `invalid_role_name` / `invalid_permission`.
    pub async fn create(
        &self,
        actor: &Actor,
        name: &str,
        about: Option<&str>,
        permissions: &[Permission],
    ) -> Result<RoleView, DomainError> {
        self.require(actor).await?;
        let name = RoleName::parse_custom(name)?;
        let set = role_permissions(permissions)?;
        let about = description(about)?;
        self.uow
            .run(async |work| {
                recheck(work, Some(actor), Permission::RolesManage).await?;
                let role =
                    roles::insert(work.db(), name.as_str(), about.as_deref(), set, work.now())
                        .await?;
                work.audit(
                    Some(actor),
                    AuditAction::RoleCreated,
                    None,
                    serde_json::json!({"name": role.name, "permissions": set.to_vec()}),
                )
                .await?;
                Ok(RoleView {
                    name: role.name,
                    description: role.description,
                    permissions: set.to_vec(),
                    builtin: false,
                    members: 0,
                })
            })
            .await
    }

    /// Changes a custom role's description and/or permissions; its holders' permissions change
    /// at once. Errors: 403, 404 unknown role, 409 `builtin_role`, 422 `invalid_permission`.
    pub async fn update(
        &self,
        actor: &Actor,
        name: &str,
        about: Option<Option<&str>>,
        permissions: Option<&[Permission]>,
    ) -> Result<RoleView, DomainError> {
        self.require(actor).await?;
        let name = custom_name(name)?;
        let set = permissions.map(role_permissions).transpose()?;
        let about = about.map(description).transpose()?;
        self.uow
            .run(async |work| {
                recheck(work, Some(actor), Permission::RolesManage).await?;
                let before = roles::get(work.db(), name.as_str())
                    .await?
                    .ok_or(DomainError::NotFound("role"))?;
                let new_set = set.unwrap_or(before.permissions);
                let new_about = about.clone().unwrap_or(before.description.clone());
                roles::update(
                    work.db(),
                    name.as_str(),
                    new_about.as_deref(),
                    new_set,
                    work.now(),
                )
                .await?;
                work.audit(
                    Some(actor),
                    AuditAction::RoleUpdated,
                    None,
                    serde_json::json!({
                        "name": before.name,
                        "from": {"description": before.description, "permissions": before.permissions.to_vec()},
                        "to": {"description": new_about, "permissions": new_set.to_vec()},
                    }),
                )
                .await?;
                let members = self.tell_holders(work, name.as_str()).await?;
                Ok(RoleView {
                    name: before.name,
                    description: new_about,
                    permissions: new_set.to_vec(),
                    builtin: false,
                    members,
                })
            })
            .await
    }

    /// Deletes a custom role (its holders lose it). Errors: 403, 404, 409 `builtin_role`.
    pub async fn delete(&self, actor: &Actor, name: &str) -> Result<(), DomainError> {
        self.require(actor).await?;
        let name = custom_name(name)?;
        self.uow
            .run(async |work| {
                recheck(work, Some(actor), Permission::RolesManage).await?;
                let role = roles::get(work.db(), name.as_str())
                    .await?
                    .ok_or(DomainError::NotFound("role"))?;
                let holders = users::holders_of(work.db(), name.as_str()).await?;
                let members = roles::delete(work.db(), name.as_str()).await?;
                work.audit(
                    Some(actor),
                    AuditAction::RoleDeleted,
                    None,
                    serde_json::json!({"name": role.name, "members": members, "permissions": role.permissions.to_vec()}),
                )
                .await?;
                work.publish(Event::RolesChanged);
                for user in holders {
                    publish_user(work, &user).await?;
                }
                Ok(())
            })
            .await
    }

    /// Grants a role: a built-in name sets the built-in role (`admin`, `moderator`, `member`),
    /// a custom name adds it. `by`: `None` for the command line. Errors: 403, 404 unknown user or
    /// role, 409 `last_admin` (granting `member` to the last admin).
    pub async fn grant(
        &self,
        by: Option<&Actor>,
        user: UserId,
        role: &str,
    ) -> Result<AdminUser, DomainError> {
        if let Some(actor) = by {
            self.require(actor).await?;
        }
        let role = role.trim().to_lowercase();
        self.uow
            .run(async |work| {
                if let Ok(builtin) = role.parse::<ServerRole>() {
                    let after = change_builtin_role(work, by, user, builtin).await?;
                    return view(work, &after).await;
                }
                recheck(work, by, Permission::RolesManage).await?;
                let target = active(work, user).await?;
                roles::get(work.db(), &role)
                    .await?
                    .ok_or(DomainError::NotFound("role"))?;
                if roles::grant(work.db(), user, &role, by.map(|a| a.user), work.now()).await? {
                    audit_grant(work, by, &target, &role, AuditAction::RoleGranted).await?;
                    publish_user(work, &target).await?;
                }
                view(work, &target).await
            })
            .await
    }

    /// Takes a role away: `admin` or `moderator` makes the user a `member` (when they held it),
    /// a custom name removes it. Errors: 403, 404, 409 `last_admin`, 422 `invalid_role`
    /// (`member` cannot be revoked: every account has a built-in role).
    pub async fn revoke(
        &self,
        by: Option<&Actor>,
        user: UserId,
        role: &str,
    ) -> Result<AdminUser, DomainError> {
        if let Some(actor) = by {
            self.require(actor).await?;
        }
        let role = role.trim().to_lowercase();
        self.uow
            .run(async |work| {
                if let Ok(builtin) = role.parse::<ServerRole>() {
                    if builtin == ServerRole::Member {
                        return Err(DomainError::invalid(
                            ErrorCode::InvalidRole,
                            "every account has a built-in role: grant another one instead",
                        ));
                    }
                    let target = active(work, user).await?;
                    let after = if target.role == builtin {
                        change_builtin_role(work, by, user, ServerRole::Member).await?
                    } else {
                        recheck(work, by, Permission::RolesManage).await?;
                        target
                    };
                    return view(work, &after).await;
                }
                recheck(work, by, Permission::RolesManage).await?;
                let target = active(work, user).await?;
                if roles::revoke(work.db(), user, &role).await? {
                    audit_grant(work, by, &target, &role, AuditAction::RoleRevoked).await?;
                    publish_user(work, &target).await?;
                } else if roles::get(work.db(), &role).await?.is_none() {
                    return Err(DomainError::NotFound("role"));
                }
                view(work, &target).await
            })
            .await
    }

    /// Publishes every holder of `role` with their new permissions; returns how many.
    async fn tell_holders(&self, work: &mut Work, role: &str) -> Result<u64, DomainError> {
        work.publish(Event::RolesChanged);
        let holders = users::holders_of(work.db(), role).await?;
        for user in &holders {
            publish_user(work, user).await?;
        }
        Ok(holders.len() as u64)
    }
}

/// A custom role name from a path: built-in names answer 409 `builtin_role`.
fn custom_name(raw: &str) -> Result<RoleName, DomainError> {
    match RoleName::parse_custom(raw) {
        Err(err) if err.code() == ErrorCode::InvalidRoleName => Err(DomainError::NotFound("role")),
        other => other,
    }
}

async fn active(work: &mut Work, user: UserId) -> Result<UserRecord, DomainError> {
    users::by_id(work.db(), user)
        .await?
        .filter(UserRecord::is_active)
        .ok_or(DomainError::NotFound("user"))
}

async fn view(work: &mut Work, user: &UserRecord) -> Result<AdminUser, DomainError> {
    let custom = roles::of_user(work.db(), user.id).await?;
    Ok(admin_view(
        user,
        custom.into_iter().map(|r| r.name).collect(),
        Timestamp(work.now()),
    ))
}

async fn publish_user(work: &mut Work, user: &UserRecord) -> Result<(), DomainError> {
    let permissions = permissions_in(work, user.id, user.role).await?;
    work.publish(Event::UserUpdated {
        user: user.view(),
        permissions: Some(permissions),
    });
    Ok(())
}

async fn audit_grant(
    work: &mut Work,
    by: Option<&Actor>,
    target: &UserRecord,
    role: &str,
    action: AuditAction,
) -> Result<(), DomainError> {
    work.record(NewAuditEntry {
        actor: by.map(|a| a.user),
        action,
        target: Some(AuditTarget::User(target.id)),
        details: serde_json::json!({
            "username": target.username, "role": role,
            "via": if by.is_some() { "api" } else { "cli" },
        }),
        ip: by.and_then(|a| a.ip),
    })
    .await
}
