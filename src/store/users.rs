//! Queries on `users`.

use chrono::{DateTime, Utc};
use entity::users::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use super::{UserRow, conflict_on_unique};
use crate::domain::DomainError;

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
    /// Administrator flag.
    pub is_admin: bool,
    /// Creation time (UTC, from Rust).
    pub now: DateTime<Utc>,
}

/// Inserts a user. Errors: `username_taken` (409).
pub async fn insert(db: &impl ConnectionTrait, new: NewUser<'_>) -> Result<UserRow, DomainError> {
    let model = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(new.username.to_owned()),
        display_name: Set(new.display_name.to_owned()),
        password_hash: Set(new.password_hash),
        email: Set(new.email),
        is_admin: Set(new.is_admin),
        created_at: Set(new.now),
    };
    Entity::insert(model)
        .exec_with_returning(db)
        .await
        .map_err(conflict_on_unique(
            "username_taken",
            "that username is taken",
        ))
}

/// The user with this canonical username.
pub async fn by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<UserRow>, DomainError> {
    Ok(Entity::find()
        .filter(Column::Username.eq(username))
        .one(db)
        .await?)
}

/// The user with this id.
pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<UserRow>, DomainError> {
    Ok(Entity::find_by_id(id).one(db).await?)
}

/// Whether any account exists (setup is done).
pub async fn any(db: &impl ConnectionTrait) -> Result<bool, DomainError> {
    Ok(Entity::find().count(db).await? > 0)
}

/// Usernames of these users, by id.
pub async fn usernames(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<std::collections::HashMap<Uuid, String>, DomainError> {
    use sea_orm::QuerySelect;
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let mut ids = ids;
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<(Uuid, String)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Username)
        .filter(Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
