//! Queries on `messages` (reads; writes go through [`super::writer`]).

use chrono::{DateTime, Utc};
use entity::messages::{self, Column, Entity};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use std::collections::HashMap;

use crate::domain::{
    ConversationId, DomainError, Message, MessageId, PinInfo, Reaction, ReplyPreview, Timestamp,
    UserId, excerpt,
};

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
    /// The conversation's change sequence at this message's latest change.
    pub change_seq: i64,
    /// The message this one replies to.
    pub reply_to_seq: Option<i64>,
    /// Resolved mentions: (user, username).
    pub mentions: Vec<(UserId, String)>,
    /// Pinned when, by whom.
    pub pinned: Option<(DateTime<Utc>, UserId)>,
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
            change_seq: m.change_seq,
            reply_to_seq: m.reply_to_seq,
            mentions: m
                .mentions
                .as_deref()
                .map(decode_mentions)
                .unwrap_or_default(),
            pinned: m.pinned_at.zip(m.pinned_by.map(UserId)),
        }
    }
}

/// `mentions` as stored: JSON `[[user_id, username], …]`; `None` when empty.
pub fn encode_mentions(mentions: &[(UserId, String)]) -> Option<String> {
    (!mentions.is_empty()).then(|| {
        serde_json::to_string(
            &mentions
                .iter()
                .map(|(id, name)| (id.0, name.as_str()))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default()
    })
}

fn decode_mentions(text: &str) -> Vec<(UserId, String)> {
    serde_json::from_str::<Vec<(uuid::Uuid, String)>>(text)
        .map(|v| v.into_iter().map(|(id, n)| (UserId(id), n)).collect())
        .unwrap_or_default()
}

/// What a message's view needs beyond its row: looked up by [`views`] (or known by the writer).
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// The author's username.
    pub sender_username: String,
    /// The quoted message, for a reply.
    pub reply_to: Option<ReplyPreview>,
    /// Reactions, by emoji in order of first use.
    pub reactions: Vec<Reaction>,
    /// The username of whoever pinned it.
    pub pinned_by_username: Option<String>,
}

impl MessageRecord {
    /// The wire shape, given what [`views`] looked up.
    pub fn view(&self, extras: &Extras) -> Message {
        let deleted = self.deleted_at.is_some();
        Message {
            id: self.id,
            conversation_id: self.conversation_id,
            seq: self.seq,
            sender_id: self.sender_id,
            sender_username: extras.sender_username.clone(),
            body: self.body.clone(),
            client_id: self.client_id.clone(),
            created_at: Timestamp(self.created_at),
            edited_at: self.edited_at.map(Timestamp),
            shadowed: self.shadowed.then_some(true),
            deleted,
            change_seq: self.change_seq,
            html: if deleted {
                String::new()
            } else {
                crate::domain::markdown::render(&self.body, &self.mentions)
            },
            reply_to: extras.reply_to.clone(),
            mentions: (!self.mentions.is_empty())
                .then(|| self.mentions.iter().map(|(id, _)| *id).collect()),
            reactions: (!extras.reactions.is_empty()).then(|| extras.reactions.clone()),
            pinned: self.pinned.map(|(at, by)| PinInfo {
                by,
                by_username: extras
                    .pinned_by_username
                    .clone()
                    .unwrap_or_else(|| "deleted".to_owned()),
                at: Timestamp(at),
            }),
        }
    }

    /// The view of a message nobody reacted to and that quotes nothing (a new message).
    pub fn view_new(&self, sender_username: &str) -> Message {
        self.view(&Extras {
            sender_username: sender_username.to_owned(),
            ..Extras::default()
        })
    }

    /// The preview of this message when another one replies to it.
    pub fn preview(&self, sender_username: &str) -> ReplyPreview {
        ReplyPreview {
            seq: self.seq,
            sender_id: self.sender_id,
            sender_username: sender_username.to_owned(),
            excerpt: excerpt(&self.body),
            deleted: self.deleted_at.is_some(),
        }
    }
}

/// The views of `rows` (in the order given): usernames, reply previews, reactions and pins in
/// four batched queries whatever the number of rows.
pub async fn views(
    db: &impl ConnectionTrait,
    rows: &[MessageRecord],
) -> Result<Vec<Message>, DomainError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Quoted messages: one query per conversation present (usually one).
    let mut quoted: HashMap<(ConversationId, i64), MessageRecord> = HashMap::new();
    let mut wanted: HashMap<ConversationId, Vec<i64>> = HashMap::new();
    for r in rows {
        if let Some(seq) = r.reply_to_seq {
            wanted.entry(r.conversation_id).or_default().push(seq);
        }
    }
    for (conversation, seqs) in wanted {
        for q in Entity::find()
            .filter(Column::ConversationId.eq(conversation.0))
            .filter(Column::Seq.is_in(seqs))
            .all(db)
            .await?
        {
            let q = MessageRecord::from(q);
            quoted.insert((q.conversation_id, q.seq), q);
        }
    }
    let mut people: Vec<UserId> = rows.iter().map(|r| r.sender_id).collect();
    people.extend(rows.iter().filter_map(|r| r.pinned.map(|(_, by)| by)));
    people.extend(quoted.values().map(|q| q.sender_id));
    let names = super::users::usernames(db, &people).await?;
    let name = |id: &UserId| {
        names
            .get(id)
            .cloned()
            .unwrap_or_else(|| "deleted".to_owned())
    };
    let ids: Vec<MessageId> = rows.iter().map(|r| r.id).collect();
    let mut reactions = super::reactions::of_messages(db, &ids).await?;
    Ok(rows
        .iter()
        .map(|r| {
            r.view(&Extras {
                sender_username: name(&r.sender_id),
                reply_to: r
                    .reply_to_seq
                    .and_then(|seq| quoted.get(&(r.conversation_id, seq)))
                    .map(|q| q.preview(&name(&q.sender_id))),
                reactions: reactions.remove(&r.id).unwrap_or_default(),
                pinned_by_username: r.pinned.map(|(_, by)| name(&by)),
            })
        })
        .collect())
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

/// Messages with `seq` in `(floor, up_to_seq]` whose latest change is after `after_change`,
/// in change order, at most `limit`; with `viewer`, others' shadowed messages are left out.
pub async fn changed_since(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    floor: i64,
    up_to_seq: i64,
    after_change: i64,
    limit: u64,
    viewer: Option<UserId>,
) -> Result<Vec<MessageRecord>, DomainError> {
    let mut query = Entity::find()
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::ChangeSeq.gt(after_change))
        .filter(Column::Seq.gt(floor))
        .filter(Column::Seq.lte(up_to_seq));
    if let Some(viewer) = viewer {
        query = query.filter(
            sea_orm::Condition::any()
                .add(Column::Shadowed.eq(false))
                .add(Column::SenderId.eq(viewer.0)),
        );
    }
    Ok(query
        .order_by_asc(Column::ChangeSeq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(MessageRecord::from)
        .collect())
}

/// The pinned messages of `conversation` after `floor`, newest pin first (at most `limit`).
pub async fn pinned(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    floor: i64,
    limit: u64,
) -> Result<Vec<MessageRecord>, DomainError> {
    Ok(Entity::find()
        .filter(Column::ConversationId.eq(conversation.0))
        .filter(Column::PinnedAt.is_not_null())
        .filter(Column::Seq.gt(floor))
        .order_by_desc(Column::PinnedAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(MessageRecord::from)
        .collect())
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
