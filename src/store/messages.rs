//! Queries on `messages` (reads; writes go through [`super::writer`]).

use entity::messages::{Column, Entity};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::MessageRow;
use crate::domain::DomainError;

/// A page of history: rows ascending by seq, plus whether more exist beyond the page.
pub struct Page {
    /// Messages, ascending by seq.
    pub rows: Vec<MessageRow>,
    /// More messages exist in the direction of the query.
    pub has_more: bool,
}

/// History of `conversation`: with `after`, the first `limit` messages with seq > after; else
/// the last `limit` messages with seq < `before` (or the latest when `before` is `None`).
pub async fn page(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    before: Option<i64>,
    after: Option<i64>,
    limit: u64,
) -> Result<Page, DomainError> {
    let mut query = Entity::find().filter(Column::ConversationId.eq(conversation));
    if let Some(before) = before {
        query = query.filter(Column::Seq.lt(before));
    }
    let forward = after.is_some();
    if let Some(after) = after {
        query = query
            .filter(Column::Seq.gt(after))
            .order_by_asc(Column::Seq);
    } else {
        query = query.order_by_desc(Column::Seq);
    }
    let mut rows = query.limit(limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if !forward {
        rows.reverse();
    }
    Ok(Page { rows, has_more })
}

/// The message a sender sent earlier with this idempotency key.
pub async fn by_client_id(
    db: &impl ConnectionTrait,
    sender: Uuid,
    client_id: &str,
) -> Result<Option<MessageRow>, sea_orm::DbErr> {
    Entity::find()
        .filter(Column::SenderId.eq(sender))
        .filter(Column::ClientId.eq(client_id))
        .one(db)
        .await
}
