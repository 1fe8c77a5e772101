//! Queries on `users` for administration: prefix search, moderation state, counts.

use chrono::{DateTime, Utc};
use entity::users::{Column, Entity};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};

use super::users::UserRecord;
use crate::domain::{AccountModeration, DomainError, UserId};

/// Up to `limit` accounts (deleted ones included) whose username starts with `prefix` (lower
/// case; `%`, `_` and `\` are matched literally), after the username `after`, by username.
pub async fn search(
    db: &impl ConnectionTrait,
    prefix: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<UserRecord>, DomainError> {
    let mut query = Entity::find().order_by_asc(Column::Username).limit(limit);
    if !prefix.is_empty() {
        let escaped: String = prefix
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        query = query.filter(
            Column::Username
                .like(sea_orm::sea_query::LikeExpr::new(format!("{escaped}%")).escape('\\')),
        );
    }
    if let Some(after) = after {
        query = query.filter(Column::Username.gt(after));
    }
    query
        .all(db)
        .await?
        .into_iter()
        .map(UserRecord::try_from)
        .collect()
}

/// Writes an account's whole moderation state.
pub async fn set_moderation(
    db: &impl ConnectionTrait,
    id: UserId,
    m: &AccountModeration,
) -> Result<(), DomainError> {
    let time = |t: Option<crate::domain::Timestamp>| Expr::value(t.map(|t| t.0));
    let text = |t: &Option<String>| Expr::value(t.clone());
    Entity::update_many()
        .col_expr(Column::SuspendedUntil, time(m.suspended_until))
        .col_expr(Column::SuspendReason, text(&m.suspend_reason))
        .col_expr(Column::DeactivatedAt, time(m.deactivated_at))
        .col_expr(Column::DeactivateReason, text(&m.deactivate_reason))
        .col_expr(Column::MutedUntil, time(m.muted_until))
        .col_expr(Column::MuteReason, text(&m.mute_reason))
        .col_expr(Column::ShadowbannedAt, time(m.shadowbanned_at))
        .col_expr(Column::ShadowbanReason, text(&m.shadowban_reason))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Accounts that are not deleted.
pub async fn count_active(db: &impl ConnectionTrait) -> Result<u64, DomainError> {
    Ok(Entity::find()
        .filter(Column::DeletedAt.is_null())
        .count(db)
        .await?)
}

/// Messages committed since `since`, on the whole server.
pub async fn messages_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<u64, DomainError> {
    Ok(entity::messages::Entity::find()
        .filter(entity::messages::Column::CreatedAt.gte(since))
        .count(db)
        .await?)
}

/// Conversations of each kind: `(rooms, groups, dms)`.
pub async fn conversation_counts(
    db: &impl ConnectionTrait,
) -> Result<(u64, u64, u64), DomainError> {
    use entity::conversations::{Column as C, Entity as E};
    let count = |kind: &'static str| E::find().filter(C::Kind.eq(kind)).count(db);
    Ok((
        count("room").await?,
        count("group").await?,
        count("dm").await?,
    ))
}
