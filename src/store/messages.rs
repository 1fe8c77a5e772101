//! Queries on `messages` (reads; writes go through [`super::writer`]).

use chrono::{DateTime, Utc};
use entity::messages::{self, Column, Entity};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::{ConversationId, DomainError, Message, MessageId, Timestamp, UserId};

/// A stored message.
#[derive(Clone, Debug)]
pub struct MessageRecord {
    /// Id (UUIDv7).
    pub id: MessageId,
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Per-conversation sequence number.
    pub seq: i64,
    /// Author.
    pub sender_id: UserId,
    /// Text.
    pub body: String,
    /// The sender's idempotency key.
    pub client_id: Option<String>,
    /// Commit time.
    pub created_at: DateTime<Utc>,
    /// Last edit.
    pub edited_at: Option<DateTime<Utc>>,
    /// Sent while the sender was shadowbanned.
    pub shadowed: bool,
    /// When it was deleted (the body is empty then).
    pub deleted_at: Option<DateTime<Utc>>,
}

impl From<messages::Model> for MessageRecord {
    fn from(m: messages::Model) -> Self {
        Self {
            id: MessageId(m.id),
            conversation_id: ConversationId(m.conversation_id),
            seq: m.seq,
            sender_id: UserId(m.sender_id),
            body: m.body,
            client_id: m.client_id,
            created_at: m.created_at,
            edited_at: m.edited_at,
            shadowed: m.shadowed,
            deleted_at: m.deleted_at,
        }
    }
}

impl MessageRecord {
    /// The wire shape, given the author's username.
    pub fn view(&self, sender_username: &str) -> Message {
        Message {
            id: self.id,
            conversation_id: self.conversation_id,
            seq: self.seq,
            sender_id: self.sender_id,
            sender_username: sender_username.to_owned(),
            body: self.body.clone(),
            client_id: self.client_id.clone(),
            created_at: Timestamp(self.created_at),
            edited_at: self.edited_at.map(Timestamp),
            shadowed: self.shadowed.then_some(true),
            deleted: self.deleted_at.is_some(),
        }
    }
}

/// A page of history: rows ascending by seq, plus whether more exist beyond the page.
pub struct Page {
    /// Messages, ascending by seq.
    pub rows: Vec<MessageRecord>,
    /// More messages exist in the direction of the query.
    pub has_more: bool,
}

/// History of `conversation`: with `after`, the first `limit` messages with seq > after; else
/// the last `limit` messages with seq < `before` (or the latest when `before` is `None`).
/// With `viewer`, shadowed messages of other senders are left out (`None`: a moderator sees
/// them all).
pub async fn page(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    floor: i64,
    before: Option<i64>,
    after: Option<i64>,
    limit: u64,
    viewer: Option<UserId>,
) -> Result<Page, DomainError> {
    let mut query = Entity::find()
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::Seq.gt(floor));
    if let Some(viewer) = viewer {
        query = query.filter(
            sea_orm::Condition::any()
                .add(Column::Shadowed.eq(false))
                .add(Column::SenderId.eq(viewer.0)),
        );
    }
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
    let mut rows: Vec<MessageRecord> = query
        .limit(limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(MessageRecord::from)
        .collect();
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if !forward {
        rows.reverse();
    }
    Ok(Page { rows, has_more })
}

/// The messages senders sent earlier with these idempotency keys `(sender, client_id)`: one
/// query for a whole batch (by the unique index on `(sender_id, client_id)`).
pub async fn by_client_ids(
    db: &impl ConnectionTrait,
    keys: &[(UserId, &str)],
) -> Result<Vec<MessageRecord>, sea_orm::DbErr> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut senders: Vec<uuid::Uuid> = keys.iter().map(|(s, _)| s.0).collect();
    senders.sort_unstable();
    senders.dedup();
    let mut ids: Vec<&str> = keys.iter().map(|(_, c)| *c).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = Entity::find()
        .filter(Column::SenderId.is_in(senders))
        .filter(Column::ClientId.is_in(ids))
        .all(db)
        .await?;
    // The IN lists cross senders with keys: keep the exact pairs.
    Ok(rows
        .into_iter()
        .map(MessageRecord::from)
        .filter(|r| {
            keys.iter()
                .any(|(s, c)| *s == r.sender_id && r.client_id.as_deref() == Some(*c))
        })
        .collect())
}

/// Per conversation, the messages not sent by `me` after a read position: `(conversation,
/// count, highest seq, newest commit time)`, for the conversations given as `(conversation,
/// last read seq)`. Conversations without such messages are left out.
pub async fn unread_from_others(
    db: &impl ConnectionTrait,
    me: UserId,
    positions: &[(ConversationId, i64)],
) -> Result<Vec<(ConversationId, i64, i64, DateTime<Utc>)>, DomainError> {
    use sea_orm::Condition;
    let mut out = Vec::new();
    // A few hundred conversations per statement keeps far below every bind-parameter limit.
    for chunk in positions.chunks(300) {
        let mut unread = Condition::any();
        for (conversation, after) in chunk {
            unread = unread.add(
                Condition::all()
                    .add(Column::ConversationId.eq(conversation.0))
                    .add(Column::Seq.gt(*after)),
            );
        }
        let rows: Vec<(uuid::Uuid, i64, i64, DateTime<Utc>)> = Entity::find()
            .select_only()
            .column(Column::ConversationId)
            .column_as(Column::Seq.count(), "n")
            .column_as(Column::Seq.max(), "last_seq")
            .column_as(Column::CreatedAt.max(), "latest")
            .filter(unread)
            .filter(Column::SenderId.ne(me.0))
            .filter(Column::DeletedAt.is_null())
            .group_by(Column::ConversationId)
            .into_tuple()
            .all(db)
            .await?;
        out.extend(
            rows.into_iter()
                .map(|(c, n, last, at)| (ConversationId(c), n, last, at)),
        );
    }
    Ok(out)
}

/// The message `seq` of `conversation`.
pub async fn by_seq(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    seq: i64,
) -> Result<Option<MessageRecord>, DomainError> {
    Ok(Entity::find()
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::Seq.eq(seq))
        .one(db)
        .await?
        .map(MessageRecord::from))
}

/// The messages with these ids.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[MessageId],
) -> Result<Vec<MessageRecord>, DomainError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<uuid::Uuid> = ids.iter().map(|i| i.0).collect();
    Ok(Entity::find()
        .filter(Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(MessageRecord::from)
        .collect())
}

/// Soft-deletes a message: the body is emptied and `deleted_at` set.
pub async fn soft_delete(
    db: &impl ConnectionTrait,
    id: MessageId,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    use sea_orm::sea_query::Expr;
    Entity::update_many()
        .col_expr(Column::Body, Expr::value(""))
        .col_expr(Column::DeletedAt, Expr::value(Some(now)))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes every message of a conversation; returns how many.
pub async fn delete_all(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
) -> Result<u64, DomainError> {
    Ok(Entity::delete_many()
        .filter(Column::ConversationId.eq(conversation.0))
        .exec(db)
        .await?
        .rows_affected)
}
