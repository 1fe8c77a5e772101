//! The wire shapes of users, conversations, members and messages: ONE type per concept, returned
//! by the REST API, carried by the WebSocket frames and by domain events.
//!
//! Each type derives both `poem_openapi::Object` (the REST encoder and the schema in
//! openapi/openapi.json and openapi/realtime.json) and serde (the WebSocket encoder and the event
//! bus). The two encoders agree: optional fields are omitted when absent (never `null`), and a
//! unit test compares both encodings of every type.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use super::{
    AuditAction, AuditId, ConversationId, ConversationKind, ConversationRole, MembershipState,
    MessageId, Permission, PresenceChoice, PresenceStatus, RegistrationMode, ServerRole, SessionId,
    Timestamp, UserId, Visibility,
};

/// A user account as others see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct User {
    /// The account's id.
    pub id: UserId,
    /// Canonical (lower-case) username, 3–32 of `a-z 0-9 _ . -`; `deleted-<8 hex>` once the
    /// account was deleted.
    pub username: String,
    /// Name as typed at registration; `Deleted user` once the account was deleted.
    pub display_name: String,
    /// Server role.
    pub role: ServerRole,
    /// True once the account was deleted: it cannot sign in, its messages stay.
    pub deleted: bool,
    /// Creation time (RFC 3339, UTC).
    pub created_at: Timestamp,
}

/// A conversation (room, group or DM) from one user's point of view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Conversation {
    /// The conversation's id.
    pub id: ConversationId,
    /// Room, group or DM.
    pub kind: ConversationKind,
    /// Room name (1–64 characters); for a DM the other user's username. Absent for unnamed groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Topic line (≤ 512 characters); absent when none is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Public or private (DMs and groups are private).
    pub visibility: Visibility,
    /// Directory category (≤ 64 characters); absent when none is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// An official (server) room.
    pub official: bool,
    /// Rooms: nobody new may join (holders of `rooms.moderate` still may).
    #[serde(default)]
    pub locked: bool,
    /// Rooms: only the owner and moderators (and holders of `rooms.moderate`) may post.
    #[serde(default)]
    pub read_only: bool,
    /// Rooms: seconds a plain member must wait between two messages (0 = off, at most 21600).
    #[serde(default)]
    pub slowmode_secs: i32,
    /// Number of joined members.
    pub member_count: i64,
    /// Sequence number of the latest message; 0 when empty.
    pub last_seq: i64,
    /// Messages after the caller's read position (0 unless joined).
    pub unread_count: i64,
    /// The change sequence: the highest `change_seq` of the conversation's messages (bumped by
    /// every send, edit, deletion, reaction and pin).
    #[serde(default)]
    pub last_change: i64,
    /// The caller's read position: every message up to this seq is read (0 unless joined).
    #[serde(default)]
    pub read_seq: i64,
    /// The caller's notification level here (`all`, `mentions`, `none` = muted); `all` unless
    /// joined.
    #[serde(default = "super::depth::default_notify")]
    pub notify: super::NotifyLevel,
    /// The caller's membership: `joined` or `invited`; absent when the caller is not a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<MembershipState>,
    /// The caller's role here, when joined or invited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<ConversationRole>,
    /// What the caller may do here (from the one permission function of the server).
    pub permissions: Vec<Permission>,
    /// The other user of a DM; absent for rooms and groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<User>,
    /// Who invited the caller, while `membership` is `invited` (absent when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<User>,
}

/// A member of a conversation, with presence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Member {
    /// The member's user id.
    pub user_id: UserId,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role inside the conversation.
    pub role: ConversationRole,
    /// The member's server role.
    pub server_role: ServerRole,
    /// Presence as the caller may see it.
    pub status: PresenceStatus,
    /// Until when the member may read but not post (groups); absent when not muted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_until: Option<Timestamp>,
}

/// A pending invitation to a room or a group (`GET /invitations`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Invitation {
    /// The conversation as the invitee sees it (`membership: invited`).
    pub conversation: Conversation,
    /// Who sent it; absent when unknown (invitations from before groups existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<User>,
    /// When it was sent (RFC 3339, UTC).
    pub invited_at: Timestamp,
}

/// A user's presence as I may see it (`ready.presence`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UserPresence {
    /// Who.
    pub user_id: UserId,
    /// `online`, `away` or `busy` (offline users are not listed).
    pub status: PresenceStatus,
    /// Their custom status text (≤ 128 characters), when they set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
}

/// My presence: what I chose and what others see (`GET /presence`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct MyPresence {
    /// What I chose: `online`, `away`, `busy` or `invisible`.
    pub choice: PresenceChoice,
    /// What others see now: `online`, `away` (chosen, or automatic after `auto_away_secs`
    /// without activity), `busy`, or `offline` (invisible, or not connected).
    pub status: PresenceStatus,
    /// My custom status text (≤ 128 characters), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
    /// Seconds without activity after which `online` shows as `away`; 0 = never. Clients report
    /// activity with the `activity` frame, at most about every 30 s.
    pub auto_away_secs: u64,
    /// Whether this server allows the `invisible` choice.
    pub allow_invisible: bool,
}

/// A stored message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Message {
    /// The message's id (UUIDv7).
    pub id: MessageId,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Per-conversation sequence number, gap-free from 1.
    pub seq: i64,
    /// The author's id (a deleted account keeps its id).
    pub sender_id: UserId,
    /// The author's username (`deleted-<8 hex>` for a deleted account).
    pub sender_username: String,
    /// Text: 1–4000 characters.
    pub body: String,
    /// The sender's idempotency key, when the send had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Commit time (RFC 3339, UTC).
    pub created_at: Timestamp,
    /// Last edit time; absent when never edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Timestamp>,
    /// `true` when the sender was shadowbanned: the message is shown to its sender and to
    /// holders of `users.moderate` only; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadowed: Option<bool>,
    /// True once the message was deleted (by its author or a moderator): `body` is empty then.
    #[serde(default)]
    pub deleted: bool,
    /// The conversation's change sequence at this message's latest change (its creation, an
    /// edit, its deletion, a reaction or a pin). Clients keep the highest they saw and pass it
    /// as `after_change` to `resume`.
    #[serde(default)]
    pub change_seq: i64,
    /// `body` rendered from the markdown subset (bold, italic, strikethrough, code, code blocks,
    /// links, block quotes, mentions) and sanitized: safe to insert as HTML. Empty when deleted.
    #[serde(default)]
    pub html: String,
    /// The message this one replies to; absent when it is not a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<super::ReplyPreview>,
    /// The users mentioned with `@username` who could read the conversation when it was sent;
    /// absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<Vec<UserId>>,
    /// Reactions, by emoji in order of first use; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactions: Option<Vec<super::Reaction>>,
    /// Who pinned the message and when; absent when not pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<super::PinInfo>,
}

/// One entry of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditEntry {
    /// The entry's id (UUIDv7: newest entries have the largest ids).
    pub id: AuditId,
    /// Who did it; absent for the server itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<UserId>,
    /// The actor's username at the time of reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_username: Option<String>,
    /// What happened.
    pub action: AuditAction,
    /// What it happened to: `user`, `conversation` or `session`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// The target's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// Action-specific details (a JSON object), e.g. `{"from": "admin", "to": "member"}`.
    pub details: serde_json::Value,
    /// The client's IP address, when the action came from a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// When (RFC 3339, UTC).
    pub created_at: Timestamp,
}

/// One of my sessions (a login on a device), as listed by `GET /sessions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SessionInfo {
    /// The session's id (the `sid` of its access tokens).
    pub id: SessionId,
    /// Device label from the User-Agent at login, e.g. `Firefox 133 on Linux`; `Unknown device`
    /// when the client sent none.
    pub device: String,
    /// Client address at the latest recorded activity (IPv4 or IPv6 text); absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Login time (RFC 3339, UTC).
    pub created_at: Timestamp,
    /// Latest recorded activity (RFC 3339, UTC), updated at most once a minute.
    pub last_active_at: Timestamp,
    /// True for the session that made this request.
    pub current: bool,
}

/// A direct message with messages from the peer that I have not read yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct MissedDm {
    /// The DM.
    pub conversation_id: ConversationId,
    /// The other user of the DM (the sender of the missed messages).
    pub peer: User,
    /// How many of the peer's messages came after my read position (capped at 999).
    pub count: i64,
    /// Sequence number of the DM's latest message from the peer: send `read` up to it (or
    /// later) to clear the entry.
    pub last_seq: i64,
}

/// The public facts of the server: its name, message of the day and registration mode
/// (`GET /server`; `name` and `motd` also in `ready.server` and `server_updated`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct ServerInfo {
    /// The server's name (`general.server_name`, 1–64 characters).
    pub name: String,
    /// The message of the day (`general.motd`, 0–1000 characters; empty: none).
    pub motd: String,
    /// Who may create an account (`general.registration`).
    pub registration: RegistrationMode,
}

crate::domain::kinds::text_enum!(
    /// The database engine a server runs on.
    DatabaseBackend, "database backend" {
        /// An embedded SQLite file in the data folder (or where `database_url` says).
        Sqlite = "sqlite",
        /// A PostgreSQL server.
        Postgres = "postgres",
    }
);

/// What database a server (or the `echochat` command line) is connected to: shown by
/// `GET /admin/server`, `echochat admin …` and `echochat doctor`. Never contains a password.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct DatabaseIdentity {
    /// `sqlite` or `postgres`.
    pub backend: DatabaseBackend,
    /// PostgreSQL: `host:port` from the database URL (the socket folder for a Unix socket);
    /// absent for SQLite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// PostgreSQL: `current_database()`; SQLite: the file name (`echochat.db`).
    pub name: String,
    /// PostgreSQL: `version()` (e.g. `PostgreSQL 16.4 on x86_64-pc-linux-gnu, …`); SQLite:
    /// `sqlite_version()` (e.g. `3.46.0`).
    pub server_version: String,
    /// SQLite: the absolute path of the database file; absent for PostgreSQL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[cfg(test)]
mod tests {
    //! The REST encoder (poem-openapi `ToJSON`) and the WebSocket/bus encoder (serde) must
    //! produce the same JSON for every shared type.
    use poem_openapi::types::ToJSON;
    use serde::Serialize;

    use super::*;

    fn same<T: ToJSON + Serialize>(value: &T) {
        let rest = value.to_json();
        let ws = serde_json::to_value(value).ok();
        assert_eq!(rest, ws, "REST and WebSocket encodings differ");
    }

    fn user() -> User {
        User {
            id: UserId::new(),
            username: "ada".into(),
            display_name: "Ada".into(),
            role: ServerRole::Admin,
            deleted: false,
            created_at: Timestamp::now(),
        }
    }

    #[test]
    fn rest_and_websocket_encodings_agree() {
        same(&user());
        same(&MissedDm {
            conversation_id: ConversationId::new(),
            peer: user(),
            count: 3,
            last_seq: 9,
        });
        let friend = crate::domain::Friend {
            user: user(),
            since: Timestamp::now(),
        };
        same(&friend);
        same(&crate::domain::FriendList {
            friends: vec![friend],
            incoming: vec![crate::domain::FriendRequest {
                user: user(),
                created_at: Timestamp::now(),
            }],
            outgoing: vec![],
        });
        same(&crate::domain::BlockedUser {
            user: user(),
            created_at: Timestamp::now(),
        });
        let mut session = SessionInfo {
            id: SessionId::new(),
            device: "Firefox 133 on Linux".into(),
            ip: None,
            created_at: Timestamp::now(),
            last_active_at: Timestamp::now(),
            current: true,
        };
        same(&session);
        session.ip = Some("::1".into());
        same(&session);
        let mut conversation = Conversation {
            id: ConversationId::new(),
            kind: ConversationKind::Dm,
            name: None,
            topic: None,
            visibility: Visibility::Private,
            category: None,
            official: false,
            locked: false,
            read_only: true,
            slowmode_secs: 30,
            member_count: 2,
            last_seq: 7,
            unread_count: 1,
            last_change: 9,
            read_seq: 6,
            notify: crate::domain::NotifyLevel::Mentions,
            membership: None,
            role: None,
            permissions: vec![],
            peer: None,
            invited_by: None,
        };
        same(&conversation);
        conversation.name = Some("x".into());
        conversation.topic = Some("t".into());
        conversation.category = Some("c".into());
        conversation.membership = Some(MembershipState::Joined);
        conversation.role = Some(ConversationRole::Owner);
        conversation.permissions = vec![Permission::MessageSend];
        conversation.peer = Some(user());
        conversation.invited_by = Some(user());
        same(&conversation);
        let mut message = Message {
            id: MessageId::new(),
            conversation_id: ConversationId::new(),
            seq: 1,
            sender_id: UserId::new(),
            sender_username: "ada".into(),
            body: "hi".into(),
            client_id: None,
            created_at: Timestamp::now(),
            edited_at: None,
            shadowed: None,
            deleted: false,
            change_seq: 1,
            html: "<p>hi</p>".into(),
            reply_to: None,
            mentions: None,
            reactions: None,
            pinned: None,
        };
        same(&message);
        message.reply_to = Some(crate::domain::ReplyPreview {
            seq: 1,
            sender_id: UserId::new(),
            sender_username: "bob".into(),
            excerpt: "yo".into(),
            deleted: false,
        });
        message.mentions = Some(vec![UserId::new()]);
        message.reactions = Some(vec![crate::domain::Reaction {
            emoji: "👍".into(),
            count: 1,
            user_ids: vec![UserId::new()],
        }]);
        message.pinned = Some(crate::domain::PinInfo {
            by: UserId::new(),
            by_username: "bob".into(),
            at: Timestamp::now(),
        });
        message.client_id = Some("c1".into());
        message.edited_at = Some(Timestamp::now());
        message.shadowed = Some(true);
        message.deleted = true;
        same(&message);
        same(&Member {
            user_id: UserId::new(),
            username: "bob".into(),
            display_name: "Bob".into(),
            role: ConversationRole::Member,
            server_role: ServerRole::Member,
            status: PresenceStatus::Online,
            muted_until: None,
        });
        same(&Member {
            user_id: UserId::new(),
            username: "bob".into(),
            display_name: "Bob".into(),
            role: ConversationRole::Member,
            server_role: ServerRole::Member,
            status: PresenceStatus::Online,
            muted_until: Some(Timestamp::now()),
        });
        let mut presence = UserPresence {
            user_id: UserId::new(),
            status: PresenceStatus::Busy,
            status_text: None,
        };
        same(&presence);
        presence.status_text = Some("lunch".into());
        same(&presence);
        same(&MyPresence {
            choice: PresenceChoice::Invisible,
            status: PresenceStatus::Offline,
            status_text: Some("x".into()),
            auto_away_secs: 600,
            allow_invisible: true,
        });
        same(&AuditEntry {
            id: AuditId::new(),
            actor_id: None,
            actor_username: None,
            action: AuditAction::RoomCreated,
            target_type: Some("conversation".into()),
            target_id: Some("x".into()),
            details: serde_json::json!({"name": "x"}),
            ip: None,
            created_at: Timestamp::now(),
        });
        let mut database = DatabaseIdentity {
            backend: DatabaseBackend::Sqlite,
            host: None,
            name: "echochat.db".into(),
            server_version: "3.46.0".into(),
            path: Some("/var/lib/echochat/echochat.db".into()),
        };
        same(&database);
        database.backend = DatabaseBackend::Postgres;
        database.host = Some("db:5432".into());
        database.path = None;
        same(&database);
    }
}
