//! Queries on `refresh_tokens`.

use chrono::{DateTime, Utc};
use entity::refresh_tokens::{self, Column, Entity};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use super::RefreshTokenRow;
use crate::domain::{DomainError, SessionId, UserId};

/// Stores a new refresh token (its SHA-256 hash, hex).
pub async fn insert(
    db: &impl ConnectionTrait,
    family_id: SessionId,
    user_id: UserId,
    token_hash: String,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DomainError> {
    let model = refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(family_id.0),
        user_id: Set(user_id.0),
        token_hash: Set(token_hash),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
    };
    Entity::insert(model).exec(db).await?;
    Ok(())
}

/// The token row with this hash.
pub async fn by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<RefreshTokenRow>, DomainError> {
    Ok(Entity::find()
        .filter(Column::TokenHash.eq(hash))
        .one(db)
        .await?)
}

/// Whether any token of the family was revoked: the family (session) is dead. Checked on every
/// refresh, so a token minted by a refresh that raced a logout is dead too.
pub async fn family_revoked(
    db: &impl ConnectionTrait,
    family_id: SessionId,
) -> Result<bool, DomainError> {
    use sea_orm::PaginatorTrait;
    let revoked = Entity::find()
        .filter(Column::FamilyId.eq(family_id.0))
        .filter(Column::RevokedAt.is_not_null())
        .count(db)
        .await?;
    Ok(revoked > 0)
}

/// Marks the token used if it was unused and not revoked. Returns false when another request used it first.
pub async fn mark_used(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    let result = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::UsedAt.is_null())
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every token of a family (logout, or reuse detected: RFC 9700 §4.14.2). Returns how
/// many tokens were still unrevoked (0: the session had already ended).
pub async fn revoke_family(
    db: &impl ConnectionTrait,
    family_id: SessionId,
    now: DateTime<Utc>,
) -> Result<u64, DomainError> {
    let result = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::FamilyId.eq(family_id.0))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes the refresh tokens whose expiry passed before `now` and that nothing needs any more;
/// returns how many. An expired token is refused before anything else looks at it, so reuse
/// detection never needs one (a used token presented again counts as reuse only while it has
/// not expired). What is kept: an expired *revoked* token of a family that still has an
/// unexpired token, because [`family_revoked`] is how a token minted by a refresh that raced a
/// logout is known to be dead. The session list reads `sessions`, not this table.
pub async fn delete_expired(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<u64, DomainError> {
    use sea_orm::{Condition, sea_query::Query};
    let live_families = Query::select()
        .column(Column::FamilyId)
        .from(Entity)
        .and_where(Column::ExpiresAt.gte(now))
        .to_owned();
    let result = Entity::delete_many()
        .filter(Column::ExpiresAt.lt(now))
        .filter(
            Condition::any()
                .add(Column::RevokedAt.is_null())
                .add(Column::FamilyId.not_in_subquery(live_families)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
