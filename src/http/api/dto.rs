//! Request and response bodies of the REST API (not the database models).

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::service::{
    Session,
    views::{ConversationView, MemberView, MessageView, UserView},
};

/// A user account.
#[derive(Debug, Clone, Object)]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Canonical (lower-case) username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Administrator.
    pub is_admin: bool,
    /// Creation time, RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
}

impl From<UserView> for User {
    fn from(u: UserView) -> Self {
        Self {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            is_admin: u.is_admin,
            created_at: u.created_at,
        }
    }
}

/// Conversation kind.
#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ConversationKind {
    /// A room.
    Room,
    /// A group.
    Group,
    /// A direct message between two users.
    Dm,
}

/// Room visibility.
#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum Visibility {
    /// Listed in the directory; anyone may join.
    Public,
    /// Unlisted; only invited users may join.
    Private,
}

/// The caller's membership.
#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum Membership {
    /// A member.
    Joined,
    /// Invited, not yet joined.
    Invited,
}

/// A conversation from the caller's point of view.
#[derive(Debug, Clone, Object)]
pub struct Conversation {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: ConversationKind,
    /// Room name; for a DM the other user's username.
    pub name: Option<String>,
    /// Topic.
    pub topic: Option<String>,
    /// Visibility (DMs are private).
    pub visibility: Visibility,
    /// Directory category.
    pub category: Option<String>,
    /// Official (server) room.
    pub official: bool,
    /// Number of joined members.
    pub member_count: i64,
    /// Sequence number of the latest message; 0 when empty.
    pub last_seq: i64,
    /// Messages after the caller's read position.
    pub unread_count: i64,
    /// The caller's membership; null when not a member.
    pub membership: Option<Membership>,
    /// The other user of a DM.
    pub peer: Option<User>,
}

impl From<ConversationView> for Conversation {
    fn from(c: ConversationView) -> Self {
        Self {
            id: c.id,
            kind: match c.kind.as_str() {
                "dm" => ConversationKind::Dm,
                "group" => ConversationKind::Group,
                _ => ConversationKind::Room,
            },
            name: c.name,
            topic: c.topic,
            visibility: if c.visibility == "private" {
                Visibility::Private
            } else {
                Visibility::Public
            },
            category: c.category,
            official: c.official,
            member_count: c.member_count,
            last_seq: c.last_seq,
            unread_count: c.unread_count,
            membership: match c.membership.as_deref() {
                Some("joined") => Some(Membership::Joined),
                Some("invited") => Some(Membership::Invited),
                _ => None,
            },
            peer: c.peer.map(User::from),
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, Object)]
pub struct Message {
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
    /// Text (1–4000 characters).
    pub body: String,
    /// The sender's idempotency key.
    pub client_id: Option<String>,
    /// Commit time, RFC 3339 UTC.
    pub created_at: DateTime<Utc>,
    /// Last edit time.
    pub edited_at: Option<DateTime<Utc>>,
}

impl From<MessageView> for Message {
    fn from(m: MessageView) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            seq: m.seq,
            sender_id: m.sender_id,
            sender_username: m.sender_username,
            body: m.body,
            client_id: m.client_id,
            created_at: m.created_at,
            edited_at: m.edited_at,
        }
    }
}

/// Presence status.
#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum Presence {
    /// Has an open connection.
    Online,
    /// No open connection.
    Offline,
}

/// Member role.
#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum Role {
    /// Created the room.
    Owner,
    /// Any other member.
    Member,
}

/// A member of a conversation.
#[derive(Debug, Clone, Object)]
pub struct Member {
    /// User id.
    pub user_id: Uuid,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Presence.
    pub status: Presence,
}

impl From<MemberView> for Member {
    fn from(m: MemberView) -> Self {
        Self {
            user_id: m.user_id,
            username: m.username,
            display_name: m.display_name,
            role: if m.role == "owner" {
                Role::Owner
            } else {
                Role::Member
            },
            status: if m.status == "online" {
                Presence::Online
            } else {
                Presence::Offline
            },
        }
    }
}

/// Tokens of a new or refreshed session. Browsers also get them as HttpOnly cookies.
#[derive(Debug, Clone, Object)]
pub struct LoginResponse {
    /// Access JWT, sent as `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque refresh token for `POST /auth/refresh`; rotated on every use.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Access token lifetime in seconds.
    pub expires_in: u64,
    /// The account.
    pub user: User,
}

impl From<Session> for LoginResponse {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            token_type: "Bearer".into(),
            expires_in: s.expires_in,
            user: s.user.into(),
        }
    }
}
