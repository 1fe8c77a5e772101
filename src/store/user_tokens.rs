//! Queries on `user_tokens`: single-use e-mailed tokens, stored as hex SHA-256 hashes.

use chrono::{DateTime, Utc};
use entity::user_tokens::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use crate::domain::{DomainError, TokenPurpose, UserId};

/// A stored token.
#[derive(Clone, Debug)]
pub struct UserToken {
    /// Row id.
    pub id: Uuid,
    /// Whose.
    pub user_id: UserId,
    /// What for.
    pub purpose: TokenPurpose,
    /// The address being verified (`email_verify`).
    pub email: Option<String>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Set once used (or killed by too many wrong PINs).
    pub used_at: Option<DateTime<Utc>>,
    /// Wrong PINs given with it so far.
    pub failed_attempts: i32,
}

impl TryFrom<user_tokens::Model> for UserToken {
    type Error = DomainError;

    fn try_from(m: user_tokens::Model) -> Result<Self, DomainError> {
        Ok(Self {
            id: m.id,
            user_id: UserId(m.user_id),
            purpose: m.purpose.parse()?,
            email: m.email,
            expires_at: m.expires_at,
            used_at: m.used_at,
            failed_attempts: m.failed_attempts,
        })
    }
}

/// Stores a new token (its hash) and ends the user's earlier unused tokens of the same purpose:
/// only the latest link works.
pub async fn insert(
    db: &impl ConnectionTrait,
    user: UserId,
    purpose: TokenPurpose,
    token_hash: String,
    email: Option<String>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DomainError> {
    Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::UserId.eq(user.0))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .filter(Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Entity::insert(user_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.0),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(token_hash),
        email: Set(email),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        failed_attempts: Set(0),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The token with this hash and purpose.
pub async fn by_hash(
    db: &impl ConnectionTrait,
    purpose: TokenPurpose,
    hash: &str,
) -> Result<Option<UserToken>, DomainError> {
    Entity::find()
        .filter(Column::TokenHash.eq(hash))
        .filter(Column::Purpose.eq(purpose.as_str()))
        .one(db)
        .await?
        .map(UserToken::try_from)
        .transpose()
}

/// Marks the token used if it still is unused; false when another request used it first.
pub async fn consume(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    let result = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Counts a wrong PIN; at `max` wrong PINs the token is used up. Returns the new count.
pub async fn fail_attempt(
    db: &impl ConnectionTrait,
    token: &UserToken,
    max: i32,
    now: DateTime<Utc>,
) -> Result<i32, DomainError> {
    let attempts = token.failed_attempts + 1;
    let mut update = Entity::update_many().col_expr(Column::FailedAttempts, Expr::value(attempts));
    if attempts >= max {
        update = update.col_expr(Column::UsedAt, Expr::value(now));
    }
    update
        .filter(Column::Id.eq(token.id))
        .filter(Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(attempts)
}

/// Deletes the one-time tokens (used or not) whose expiry passed before `now`: an expired token
/// is refused whatever its state, so nothing reads it any more. Used tokens that have not
/// expired are kept. Returns how many were deleted.
pub async fn delete_expired(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<u64, DomainError> {
    let result = Entity::delete_many()
        .filter(Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
