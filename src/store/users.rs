//! Queries on `users`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::users::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, sea_query::Expr,
};

use super::conflict_on_unique;
use crate::domain::{DomainError, ErrorCode, ServerRole, Timestamp, User, UserId};

/// A stored account.
#[derive(Clone, Debug)]
pub struct UserRecord {
    /// Id.
    pub id: UserId,
    /// Canonical (lower-case) username.
    pub username: String,
    /// Name as typed.
    pub display_name: String,
    /// PHC-format Argon2id hash (`!` once the account was deleted: matches no password).
    pub password_hash: String,
    /// Optional e-mail address.
    pub email: Option<String>,
    /// Server role.
    pub role: ServerRole,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Deletion time (the row stays so that messages keep their sender).
    pub deleted_at: Option<DateTime<Utc>>,
}

impl TryFrom<users::Model> for UserRecord {
    type Error = DomainError;

    fn try_from(m: users::Model) -> Result<Self, DomainError> {
        Ok(Self {
            id: UserId(m.id),
            username: m.username,
            display_name: m.display_name,
            password_hash: m.password_hash,
            email: m.email,
            role: m.role.parse()?,
            created_at: m.created_at,
            deleted_at: m.deleted_at,
        })
    }
}

impl UserRecord {
    /// The account as others see it.
    pub fn view(&self) -> User {
        User {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            deleted: self.deleted_at.is_some(),
            created_at: Timestamp(self.created_at),
        }
    }

    /// Whether the account can sign in and act.
    pub fn is_active(&self) -> bool {
        self.deleted_at.is_none()
    }
}

fn records(rows: Vec<users::Model>) -> Result<Vec<UserRecord>, DomainError> {
    rows.into_iter().map(UserRecord::try_from).collect()
}

/// Fields of a new account.
pub struct NewUser<'a> {
    /// Canonical (lower-case) username.
    pub username: &'a str,
    /// Name as typed.
    pub display_name: &'a str,
    /// PHC-format Argon2id hash.
    pub password_hash: String,
    /// Optional e-mail address.
    pub email: Option<String>,
    /// Server role.
    pub role: ServerRole,
    /// Creation time (UTC, from Rust).
    pub now: DateTime<Utc>,
}

/// Inserts a user. Errors: `username_taken` (409).
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewUser<'_>,
) -> Result<UserRecord, DomainError> {
    let model = users::ActiveModel {
        id: Set(UserId::new().0),
        username: Set(new.username.to_owned()),
        display_name: Set(new.display_name.to_owned()),
        password_hash: Set(new.password_hash),
        email: Set(new.email),
        role: Set(new.role.as_str().to_owned()),
        created_at: Set(new.now),
        deleted_at: Set(None),
    };
    Entity::insert(model)
        .exec_with_returning(db)
        .await
        .map_err(conflict_on_unique(
            ErrorCode::UsernameTaken,
            "that username is taken",
        ))?
        .try_into()
}

/// The user with this canonical username.
pub async fn by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<UserRecord>, DomainError> {
    Entity::find()
        .filter(Column::Username.eq(username))
        .one(db)
        .await?
        .map(UserRecord::try_from)
        .transpose()
}

/// The user with this id.
pub async fn by_id(
    db: &impl ConnectionTrait,
    id: UserId,
) -> Result<Option<UserRecord>, DomainError> {
    Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(UserRecord::try_from)
        .transpose()
}

/// These users, by id (unknown ids are skipped).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[UserId],
) -> Result<HashMap<UserId, UserRecord>, DomainError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ids: Vec<_> = ids.iter().map(|i| i.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = Entity::find().filter(Column::Id.is_in(ids)).all(db).await?;
    Ok(records(rows)?.into_iter().map(|u| (u.id, u)).collect())
}

/// Whether any account exists (setup is done).
pub async fn any(db: &impl ConnectionTrait) -> Result<bool, DomainError> {
    Ok(Entity::find().count(db).await? > 0)
}

/// Usernames of these users, by id.
pub async fn usernames(
    db: &impl ConnectionTrait,
    ids: &[UserId],
) -> Result<HashMap<UserId, String>, DomainError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ids: Vec<_> = ids.iter().map(|i| i.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<(uuid::Uuid, String)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Username)
        .filter(Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| (UserId(id), name))
        .collect())
}

/// Sets a user's server role.
pub async fn set_role(
    db: &impl ConnectionTrait,
    id: UserId,
    role: ServerRole,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::Role, Expr::value(role.as_str()))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// The active (not deleted) accounts with this role, in id order, their rows locked until the
/// transaction ends (`FOR UPDATE` on PostgreSQL, always in the same order so that two such
/// transactions cannot deadlock; SQLite serializes writers anyway). Two concurrent demotions
/// therefore cannot both see another admin left.
pub async fn ids_with_role_locked(
    db: &impl ConnectionTrait,
    role: ServerRole,
) -> Result<Vec<UserId>, DomainError> {
    use sea_orm::QueryOrder;
    let ids: Vec<uuid::Uuid> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Role.eq(role.as_str()))
        .filter(Column::DeletedAt.is_null())
        .order_by_asc(Column::Id)
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// Deletes an account softly: the row stays (its messages keep their sender), but the username
/// is freed (`deleted-<first 8 hex of the id>`), the display name becomes `Deleted user`, the
/// password hash matches nothing, the e-mail is dropped and the role is `member`.
pub async fn soft_delete(
    db: &impl ConnectionTrait,
    id: UserId,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let placeholder = format!("deleted-{}", &id.0.simple().to_string()[..8]);
    let placeholder = match by_username(db, &placeholder).await? {
        Some(other) if other.id != id => {
            format!("deleted-{}", &id.0.simple().to_string()[..24])
        }
        _ => placeholder,
    };
    Entity::update_many()
        .col_expr(Column::Username, Expr::value(placeholder))
        .col_expr(Column::DisplayName, Expr::value("Deleted user"))
        .col_expr(Column::PasswordHash, Expr::value("!"))
        .col_expr(Column::Email, Expr::value(Option::<String>::None))
        .col_expr(Column::Role, Expr::value(ServerRole::Member.as_str()))
        .col_expr(Column::DeletedAt, Expr::value(now))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}
