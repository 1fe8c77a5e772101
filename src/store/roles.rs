//! Queries on `roles` (custom server roles) and `user_roles` (who holds them).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{roles, user_roles};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::OnConflict,
};

use super::conflict_on_unique;
use crate::domain::{DomainError, ErrorCode, Permission, PermissionSet, UserId};

/// A stored custom role.
#[derive(Clone, Debug)]
pub struct RoleRecord {
    /// Lower-case name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// The server permissions it grants (unknown names in the row are skipped: a newer
    /// server's permission is not granted by an older one).
    pub permissions: PermissionSet,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

fn record(m: roles::Model) -> RoleRecord {
    let names: Vec<String> = serde_json::from_str(&m.permissions).unwrap_or_default();
    RoleRecord {
        name: m.name,
        description: m.description,
        permissions: names
            .iter()
            .filter_map(|n| n.parse::<Permission>().ok())
            .collect(),
        created_at: m.created_at,
    }
}

fn encode(permissions: PermissionSet) -> String {
    let names: Vec<&str> = permissions.to_vec().iter().map(|p| p.as_str()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned())
}

/// Every custom role, by name.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<RoleRecord>, DomainError> {
    Ok(roles::Entity::find()
        .order_by_asc(roles::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(record)
        .collect())
}

/// The custom role `name`.
pub async fn get(db: &impl ConnectionTrait, name: &str) -> Result<Option<RoleRecord>, DomainError> {
    Ok(roles::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .map(record))
}

/// Creates a custom role. Errors: 409 `role_exists`.
pub async fn insert(
    db: &impl ConnectionTrait,
    name: &str,
    description: Option<&str>,
    permissions: PermissionSet,
    now: DateTime<Utc>,
) -> Result<RoleRecord, DomainError> {
    let model = roles::ActiveModel {
        name: Set(name.to_owned()),
        description: Set(description.map(str::to_owned)),
        permissions: Set(encode(permissions)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    roles::Entity::insert(model)
        .exec_without_returning(db)
        .await
        .map_err(conflict_on_unique(
            ErrorCode::RoleExists,
            "a role with that name exists",
        ))?;
    Ok(RoleRecord {
        name: name.to_owned(),
        description: description.map(str::to_owned),
        permissions,
        created_at: now,
    })
}

/// Replaces a custom role's description and permissions.
pub async fn update(
    db: &impl ConnectionTrait,
    name: &str,
    description: Option<&str>,
    permissions: PermissionSet,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    roles::Entity::update_many()
        .col_expr(
            roles::Column::Description,
            sea_orm::sea_query::Expr::value(description.map(str::to_owned)),
        )
        .col_expr(
            roles::Column::Permissions,
            sea_orm::sea_query::Expr::value(encode(permissions)),
        )
        .col_expr(
            roles::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(roles::Column::Name.eq(name))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes a custom role and every grant of it; returns how many users held it.
pub async fn delete(db: &impl ConnectionTrait, name: &str) -> Result<u64, DomainError> {
    let holders = user_roles::Entity::delete_many()
        .filter(user_roles::Column::RoleName.eq(name))
        .exec(db)
        .await?
        .rows_affected;
    roles::Entity::delete_by_id(name.to_owned())
        .exec(db)
        .await?;
    Ok(holders)
}

/// The custom roles `user` holds, by name.
pub async fn of_user(
    db: &impl ConnectionTrait,
    user: UserId,
) -> Result<Vec<RoleRecord>, DomainError> {
    let names: Vec<String> = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::RoleName)
        .filter(user_roles::Column::UserId.eq(user.0))
        .into_tuple()
        .all(db)
        .await?;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    Ok(roles::Entity::find()
        .filter(roles::Column::Name.is_in(names))
        .order_by_asc(roles::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(record)
        .collect())
}

/// The custom role names of each of `users` (users without any are absent).
pub async fn names_of_users(
    db: &impl ConnectionTrait,
    users: &[UserId],
) -> Result<HashMap<UserId, Vec<String>>, DomainError> {
    if users.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(uuid::Uuid, String)> = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::UserId)
        .column(user_roles::Column::RoleName)
        .filter(user_roles::Column::UserId.is_in(users.iter().map(|u| u.0)))
        .order_by_asc(user_roles::Column::RoleName)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<UserId, Vec<String>> = HashMap::new();
    for (user, role) in rows {
        out.entry(UserId(user)).or_default().push(role);
    }
    Ok(out)
}

/// How many users hold each custom role.
pub async fn member_counts(db: &impl ConnectionTrait) -> Result<HashMap<String, u64>, DomainError> {
    let rows: Vec<(String, i64)> = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::RoleName)
        .column_as(user_roles::Column::UserId.count(), "n")
        .group_by(user_roles::Column::RoleName)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(name, n)| (name, u64::try_from(n).unwrap_or_default()))
        .collect())
}

/// Grants `role` to `user` (no-op when held). Returns whether it was new.
pub async fn grant(
    db: &impl ConnectionTrait,
    user: UserId,
    role: &str,
    by: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    let held = user_roles::Entity::find_by_id((user.0, role.to_owned()))
        .count(db)
        .await?
        > 0;
    if held {
        return Ok(false);
    }
    user_roles::Entity::insert(user_roles::ActiveModel {
        user_id: Set(user.0),
        role_name: Set(role.to_owned()),
        granted_by: Set(by.map(|b| b.0)),
        granted_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([user_roles::Column::UserId, user_roles::Column::RoleName])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(true)
}

/// Takes `role` from `user`. Returns whether they held it.
pub async fn revoke(
    db: &impl ConnectionTrait,
    user: UserId,
    role: &str,
) -> Result<bool, DomainError> {
    Ok(user_roles::Entity::delete_many()
        .filter(user_roles::Column::UserId.eq(user.0))
        .filter(user_roles::Column::RoleName.eq(role))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}
