//! Read models handed to the HTTP layer and serialized into WebSocket frames.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::store::{ConversationRow, MessageRow, UserRow};

/// A user as others see it.
#[derive(Clone, Debug, Serialize)]
pub struct UserView {
    /// Id.
    pub id: Uuid,
    /// Canonical username.
    pub username: String,
    /// Name as typed at registration.
    pub display_name: String,
    /// Administrator.
    pub is_admin: bool,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            is_admin: u.is_admin,
            created_at: u.created_at,
        }
    }
}

/// A conversation from one user's point of view.
#[derive(Clone, Debug, Serialize)]
pub struct ConversationView {
    /// Id.
    pub id: Uuid,
    /// `room`, `group` or `dm`.
    pub kind: String,
    /// Room name; for a DM the peer's username.
    pub name: Option<String>,
    /// Topic.
    pub topic: Option<String>,
    /// `public` or `private`.
    pub visibility: String,
    /// Directory category.
    pub category: Option<String>,
    /// Official (server) room.
    pub official: bool,
    /// Joined members.
    pub member_count: i64,
    /// Sequence number of the latest message (0 when empty).
    pub last_seq: i64,
    /// Messages after the caller's read position.
    pub unread_count: i64,
    /// `joined`, `invited`, or `None` when the caller is not a member.
    pub membership: Option<String>,
    /// The other user of a DM.
    pub peer: Option<UserView>,
}

impl ConversationView {
    /// Assembles a view; `member` is the caller's `(state, last_read_seq)`.
    pub fn build(
        row: &ConversationRow,
        member_count: i64,
        member: Option<(&str, i64)>,
        peer: Option<&UserRow>,
    ) -> Self {
        let unread = match member {
            Some(("joined", read)) => (row.last_seq - read).max(0),
            _ => 0,
        };
        Self {
            id: row.id,
            kind: row.kind.clone(),
            name: peer
                .map(|p| p.username.clone())
                .or_else(|| row.name.clone()),
            topic: row.topic.clone(),
            visibility: row.visibility.clone(),
            category: row.category.clone(),
            official: row.official,
            member_count,
            last_seq: row.last_seq,
            unread_count: unread,
            membership: member.map(|(state, _)| state.to_owned()),
            peer: peer.map(UserView::from),
        }
    }
}

/// A stored message.
#[derive(Clone, Debug, Serialize)]
pub struct MessageView {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// Conversation.
    pub conversation_id: Uuid,
    /// Per-conversation sequence number, gap-free from 1.
    pub seq: i64,
    /// Author id.
    pub sender_id: Uuid,
    /// Author username.
    pub sender_username: String,
    /// Text.
    pub body: String,
    /// The sender's idempotency key.
    pub client_id: Option<String>,
    /// Commit time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last edit time.
    pub edited_at: Option<DateTime<Utc>>,
}

impl MessageView {
    /// View of a row whose author's username is known.
    pub fn new(row: &MessageRow, sender_username: &str) -> Self {
        Self {
            id: row.id,
            conversation_id: row.conversation_id,
            seq: row.seq,
            sender_id: row.sender_id,
            sender_username: sender_username.to_owned(),
            body: row.body.clone(),
            client_id: row.client_id.clone(),
            created_at: row.created_at,
            edited_at: row.edited_at,
        }
    }
}

/// A member of a conversation with presence.
#[derive(Clone, Debug, Serialize)]
pub struct MemberView {
    /// User id.
    pub user_id: Uuid,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// `owner` or `member`.
    pub role: String,
    /// `online` or `offline`.
    pub status: String,
}
