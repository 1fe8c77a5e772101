//! WebSocket frames: JSON text with a `type` field, snake_case (docs/realtime.md).
//!
//! Every frame is a Rust type that derives serde (the encoder and the client-frame parser) and
//! poem-openapi (the schema): [`ServerFrame`] and [`ClientFrame`] are unions discriminated by
//! `type`, and their schemas, with the shared `User`, `Conversation`, `Message`… schemas of the
//! REST API, make up openapi/realtime.json (see [`super::schema`]). Frames carry the same domain
//! types the REST API returns; nothing is copied field by field.

use poem_openapi::{Object, Union};
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::domain::{
    AccountSettings, Conversation, ConversationId, ConversationRole, ErrorCode, Friend,
    FriendRequestDirection, FriendRequestEndReason, LeaveReason, Message, MissedDm, MyPresence,
    Permission, PresenceChoice, PresenceStatus, ServerInfo, Timestamp, User, UserId, UserPresence,
};

/// First frame of every connection.
#[derive(Clone, Debug, Serialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ReadyFrame {
    /// The connected account.
    pub user: User,
    /// The account's server permissions (as `GET /users/me`).
    pub permissions: Vec<Permission>,
    /// The first page of my conversations (joined and invited), as `GET /conversations`.
    pub conversations: Vec<Conversation>,
    /// Present when I have more conversations: pass it as `cursor` to `GET /conversations`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversations_cursor: Option<String>,
    /// Users whose presence I may see (friends, DM peers, fellow members of groups and private
    /// rooms) who are not offline; at most 500. The same users as `presence`, ids only.
    pub online: Vec<UserId>,
    /// The presence of the users in `online`: status (`online`, `away`, `busy`) and status text.
    pub presence: Vec<UserPresence>,
    /// My own presence (choice, what others see, status text, auto-away and invisible settings).
    pub my_presence: MyPresence,
    /// The missed-PM list: DMs where the peer wrote after my read position, newest first (as
    /// `GET /dms/missed`, at most 50 here).
    pub missed: Vec<MissedDm>,
    /// Things to tell the person once: `invisible_disabled` when my stored invisible presence
    /// was turned back to online because the server no longer allows it.
    pub notices: Vec<ReadyNotice>,
    /// The server's name, message of the day and registration mode (as `GET /server`); a
    /// `server_updated` frame tells changes.
    pub server: ServerInfo,
    /// My account settings (as `GET /users/me/settings`); a `settings_updated` frame tells
    /// changes.
    pub settings: AccountSettings,
}

crate::domain::kinds::text_enum!(
    /// Something the server tells a connecting client once, in `ready.notices`.
    ReadyNotice, "ready notice" {
        /// The server does not allow invisible any more: my presence was set to online.
        InvisibleDisabled = "invisible_disabled",
    }
);

/// A new message in a conversation I am in (also the answer to `resume`).
#[derive(Clone, Debug, Serialize, Object)]
pub struct MessageFrame {
    /// The message.
    pub message: Message,
}

/// My `send` was committed (or was a resend: the original message).
#[derive(Clone, Debug, Serialize, Object)]
pub struct AckFrame {
    /// The idempotency key of the send.
    pub client_id: String,
    /// The stored message.
    pub message: Message,
}

/// Someone else is typing.
#[derive(Clone, Debug, Serialize, Object)]
pub struct TypingFrame {
    /// Where.
    pub conversation_id: ConversationId,
    /// Who.
    pub user_id: UserId,
    /// Who, by name.
    pub username: String,
}

/// The presence of a user I may see changed: they came online, went away or busy, changed
/// their status text, or went offline (or invisible: the two look the same).
#[derive(Clone, Debug, Serialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PresenceFrame {
    /// Who.
    pub user_id: UserId,
    /// Who, by name.
    pub username: String,
    /// The new status.
    pub status: PresenceStatus,
    /// Their custom status text (≤ 128 characters); absent when none or offline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
}

/// My own presence changed (in this tab or another, or automatically away/back): what I chose
/// and what others see now.
#[derive(Clone, Debug, Serialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct MyPresenceFrame {
    /// My choice: `online`, `away`, `busy` or `invisible`.
    pub choice: PresenceChoice,
    /// What others see now.
    pub status: PresenceStatus,
    /// My custom status text, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
}

/// Someone joined a conversation I am in.
#[derive(Clone, Debug, Serialize, Object)]
pub struct MemberJoinedFrame {
    /// Where.
    pub conversation_id: ConversationId,
    /// Who.
    pub user: User,
    /// Their role there.
    pub role: ConversationRole,
    /// Their presence now (members of a conversation see each other in its member list).
    pub status: PresenceStatus,
}

/// Someone left a conversation I am in, or was kicked (also sent to the leaver's or kicked
/// user's own connections, which then stop getting the conversation's frames).
#[derive(Clone, Debug, Serialize, Object)]
pub struct MemberLeftFrame {
    /// Where.
    pub conversation_id: ConversationId,
    /// Who.
    pub user_id: UserId,
    /// `left` (by themselves, or a declined invitation) or `kicked`.
    pub reason: LeaveReason,
}

/// A member's role or mute changed in a conversation I am in (also sent to that member).
#[derive(Clone, Debug, Serialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct MemberUpdatedFrame {
    /// Where.
    pub conversation_id: ConversationId,
    /// Whose membership.
    pub user_id: UserId,
    /// Their role now.
    pub role: ConversationRole,
    /// Until when they may read but not post; absent when not muted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted_until: Option<Timestamp>,
}

/// A conversation appeared in my list: I joined or created it, was invited, or someone opened a
/// DM with me. From now on its frames reach this connection.
#[derive(Clone, Debug, Serialize, Object)]
pub struct ConversationAddedFrame {
    /// The conversation from my point of view.
    pub conversation: Conversation,
}

/// A conversation's shared settings changed; the fields are the new values (absent = none).
#[derive(Clone, Debug, Serialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ConversationUpdatedFrame {
    /// Which conversation.
    pub conversation_id: ConversationId,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Rooms: nobody new may join (holders of `rooms.moderate` still may).
    pub locked: bool,
    /// Rooms: only the owner and moderators may post.
    pub read_only: bool,
    /// Rooms: seconds a plain member waits between two messages (0 = off).
    pub slowmode_secs: i32,
}

/// A room's history was cleared by a moderator: drop the messages with `seq <= cleared_seq`
/// (history and `resume` start after it).
#[derive(Clone, Debug, Serialize, Object)]
pub struct HistoryClearedFrame {
    /// Which room.
    pub conversation_id: ConversationId,
    /// The last cleared sequence number.
    pub cleared_seq: i64,
}

/// A room I was in was deleted by an administrator: drop it (no more frames of it follow).
#[derive(Clone, Debug, Serialize, Object)]
pub struct ConversationDeletedFrame {
    /// Which room.
    pub conversation_id: ConversationId,
}

/// A message was deleted (by its author or a moderator): show it as deleted (history returns it
/// with `deleted: true` and an empty body). Ordered with `message` and `message_updated` frames.
#[derive(Clone, Debug, Serialize, Object)]
pub struct MessageDeletedFrame {
    /// Where.
    pub conversation_id: ConversationId,
    /// Which message.
    pub seq: i64,
    /// The conversation's change sequence of the deletion (keep the highest seen for `resume`).
    pub change_seq: i64,
}

/// A message was edited, reacted to, pinned or unpinned: the message now (replace the one held).
/// Ordered with `message` and `message_deleted` frames by the conversation's change sequence.
#[derive(Clone, Debug, Serialize, Object)]
pub struct MessageUpdatedFrame {
    /// The message now.
    pub message: Message,
}

/// Another member's shared read position moved (DMs and groups; never from members who turned
/// read receipts off or are invisible).
#[derive(Clone, Debug, Serialize, Object)]
pub struct ReadReceiptFrame {
    /// Where.
    pub conversation_id: ConversationId,
    /// Who.
    pub user_id: UserId,
    /// They have read every message up to this seq.
    pub seq: i64,
}

/// My own read position moved (in this tab, another tab or another device): update the unread
/// count and the "new messages" divider.
#[derive(Clone, Debug, Serialize, Object)]
pub struct ReadPositionFrame {
    /// Where.
    pub conversation_id: ConversationId,
    /// I have read every message up to this seq.
    pub seq: i64,
    /// Messages after it.
    pub unread_count: i64,
}

/// My account changed (e.g. my server role): my permissions now.
#[derive(Clone, Debug, Serialize, Object)]
pub struct UserUpdatedFrame {
    /// The account.
    pub user: User,
    /// Its effective server permissions now; absent when the change did not touch them.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<Permission>>,
}

/// An announcement from the server's administrators, sent to every connection (show it as a
/// banner).
#[derive(Clone, Debug, Serialize, Object)]
pub struct AnnouncementFrame {
    /// The text (1–2000 characters, plain text).
    pub text: String,
    /// Who sent it.
    pub by_username: String,
    /// When (RFC 3339).
    pub at: Timestamp,
}

// --- directory frames (issue 9, mobile helper): sent to every connection ---

/// A public room appeared in the directory or its entry changed (created, renamed, topic,
/// category, official, lock…): add or replace it in the room browser. Never sent for private
/// rooms. `room` is the entry as a non-member sees it (as in `GET /rooms` for someone not in
/// it: no `membership`, `role` or unread count); a client keeps its own membership and
/// permissions for rooms it is in.
#[derive(Clone, Debug, Serialize, Object)]
pub struct RoomListedFrame {
    /// The directory entry.
    pub room: Conversation,
}

/// A public room left the directory (it was deleted): drop it from the room browser.
#[derive(Clone, Debug, Serialize, Object)]
pub struct RoomUnlistedFrame {
    /// Which room.
    pub room_id: ConversationId,
}

/// A public room's joined member count changed. Coalesced: at most one per room per second,
/// carrying the count at sending time (a join and a leave within the same second may send
/// nothing new). Never sent for private rooms.
#[derive(Clone, Debug, Serialize, Object)]
pub struct RoomStatsFrame {
    /// Which room.
    pub room_id: ConversationId,
    /// Its joined members now.
    pub member_count: i64,
}

// --- end directory frames ---

/// The answer to `watch`: presence changes of that conversation's members follow.
#[derive(Clone, Debug, Serialize, Object)]
pub struct WatchingFrame {
    /// The watched conversation.
    pub conversation_id: ConversationId,
}

/// The gap asked for by `resume` is too large: reload history over REST.
#[derive(Clone, Debug, Serialize, Object)]
pub struct ResyncRequiredFrame {
    /// Which conversation.
    pub conversation_id: ConversationId,
}

/// A frame was refused; the connection stays open.
#[derive(Clone, Debug, Serialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ErrorFrame {
    /// Stable snake_case code (the same codes as the REST API).
    pub code: ErrorCode,
    /// Human-readable text.
    pub message: String,
    /// The `client_id` of the refused `send`, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The conversation the refused frame was about (`watch`, `resume`, `read`, `typing`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
    /// With `rate_limited` (a rate limit) or `slowmode` (a room's slowmode): milliseconds to
    /// wait before the same frame would be accepted (rounded up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// The answer to `ping`.
#[derive(Clone, Debug, Serialize, Object)]
pub struct PongFrame {}

/// A friend request appeared: someone asked me (`incoming`), or I asked someone from another
/// tab (`outgoing`).
#[derive(Clone, Debug, Serialize, Object)]
pub struct FriendRequestFrame {
    /// The other user (the requester for `incoming`, the addressee for `outgoing`).
    pub user: User,
    /// Which side I am on.
    pub direction: FriendRequestDirection,
}

/// A pending friend request ended without a friendship (acceptance is `friend_added`).
#[derive(Clone, Debug, Serialize, Object)]
pub struct FriendRequestRemovedFrame {
    /// The other user of the request.
    pub user_id: UserId,
    /// Which side I was on.
    pub direction: FriendRequestDirection,
    /// `declined`, `cancelled`, or `blocked` (told only to the blocker; the blocked side is
    /// told `declined`).
    pub reason: FriendRequestEndReason,
}

/// Someone became my friend (either of us accepted).
#[derive(Clone, Debug, Serialize, Object)]
pub struct FriendAddedFrame {
    /// The new friend (the other user).
    pub friend: Friend,
}

/// Someone is no longer my friend (either of us removed the friendship, or blocked).
#[derive(Clone, Debug, Serialize, Object)]
pub struct FriendRemovedFrame {
    /// The former friend.
    pub user_id: UserId,
}

/// I blocked or unblocked someone (sent to my own connections only).
#[derive(Clone, Debug, Serialize, Object)]
pub struct BlockChangedFrame {
    /// The blocked or unblocked user.
    pub user: User,
    /// True when they are blocked now.
    pub blocked: bool,
}

/// The server's name or message of the day changed (an administrator changed the live
/// settings): sent to every connection.
#[derive(Clone, Debug, Serialize, Object)]
pub struct ServerUpdatedFrame {
    /// The server's facts now (as `GET /server`).
    pub server: ServerInfo,
}

/// My account settings changed (in this tab, another one or another device): the whole
/// settings object now. Sent to every connection of mine.
#[derive(Clone, Debug, Serialize, Object)]
pub struct SettingsUpdatedFrame {
    /// My settings now (as `GET /users/me/settings`).
    pub settings: AccountSettings,
}

/// Every server → client frame, discriminated by `type`.
#[derive(Clone, Debug, Serialize, Union)]
#[serde(tag = "type", rename_all = "snake_case")]
#[oai(discriminator_name = "type", one_of)]
pub enum ServerFrame {
    /// `ready`
    #[oai(mapping = "ready")]
    Ready(ReadyFrame),
    /// `message`
    #[oai(mapping = "message")]
    Message(MessageFrame),
    /// `ack`
    #[oai(mapping = "ack")]
    Ack(AckFrame),
    /// `typing`
    #[oai(mapping = "typing")]
    Typing(TypingFrame),
    /// `presence`
    #[oai(mapping = "presence")]
    Presence(PresenceFrame),
    /// `my_presence`
    #[oai(mapping = "my_presence")]
    MyPresence(MyPresenceFrame),
    /// `member_joined`
    #[oai(mapping = "member_joined")]
    MemberJoined(MemberJoinedFrame),
    /// `member_left`
    #[oai(mapping = "member_left")]
    MemberLeft(MemberLeftFrame),
    /// `member_updated`
    #[oai(mapping = "member_updated")]
    MemberUpdated(MemberUpdatedFrame),
    /// `conversation_added`
    #[oai(mapping = "conversation_added")]
    ConversationAdded(ConversationAddedFrame),
    /// `conversation_updated`
    #[oai(mapping = "conversation_updated")]
    ConversationUpdated(ConversationUpdatedFrame),
    /// `user_updated`
    #[oai(mapping = "user_updated")]
    UserUpdated(UserUpdatedFrame),
    /// `watching`
    #[oai(mapping = "watching")]
    Watching(WatchingFrame),
    /// `announcement`
    #[oai(mapping = "announcement")]
    Announcement(AnnouncementFrame),
    /// `resync_required`
    #[oai(mapping = "resync_required")]
    ResyncRequired(ResyncRequiredFrame),
    /// `error`
    #[oai(mapping = "error")]
    Error(ErrorFrame),
    /// `pong`
    #[oai(mapping = "pong")]
    Pong(PongFrame),
    /// `friend_request`
    #[oai(mapping = "friend_request")]
    FriendRequest(FriendRequestFrame),
    /// `friend_request_removed`
    #[oai(mapping = "friend_request_removed")]
    FriendRequestRemoved(FriendRequestRemovedFrame),
    /// `friend_added`
    #[oai(mapping = "friend_added")]
    FriendAdded(FriendAddedFrame),
    /// `friend_removed`
    #[oai(mapping = "friend_removed")]
    FriendRemoved(FriendRemovedFrame),
    /// `block_changed`
    #[oai(mapping = "block_changed")]
    BlockChanged(BlockChangedFrame),
    /// `history_cleared`
    #[oai(mapping = "history_cleared")]
    HistoryCleared(HistoryClearedFrame),
    /// `conversation_deleted`
    #[oai(mapping = "conversation_deleted")]
    ConversationDeleted(ConversationDeletedFrame),
    /// `message_deleted`
    #[oai(mapping = "message_deleted")]
    MessageDeleted(MessageDeletedFrame),
    /// `message_updated`
    #[oai(mapping = "message_updated")]
    MessageUpdated(MessageUpdatedFrame),
    /// `read_receipt`
    #[oai(mapping = "read_receipt")]
    ReadReceipt(ReadReceiptFrame),
    /// `read_position`
    #[oai(mapping = "read_position")]
    ReadPosition(ReadPositionFrame),
    /// `server_updated`
    #[oai(mapping = "server_updated")]
    ServerUpdated(ServerUpdatedFrame),
    /// `settings_updated`
    #[oai(mapping = "settings_updated")]
    SettingsUpdated(SettingsUpdatedFrame),
    /// `room_listed`
    #[oai(mapping = "room_listed")]
    RoomListed(RoomListedFrame),
    /// `room_unlisted`
    #[oai(mapping = "room_unlisted")]
    RoomUnlisted(RoomUnlistedFrame),
    /// `room_stats`
    #[oai(mapping = "room_stats")]
    RoomStats(RoomStatsFrame),
}

impl ServerFrame {
    /// Serializes once into a shareable buffer (cloning it does not copy the bytes).
    pub fn encode(&self) -> Utf8Bytes {
        match serde_json::to_string(self) {
            Ok(json) => Utf8Bytes::from(json),
            Err(err) => {
                tracing::error!(error = %err, "cannot serialize frame");
                Utf8Bytes::from_static(
                    r#"{"type":"error","code":"internal_error","message":"internal error"}"#,
                )
            }
        }
    }

    /// An `error` frame.
    pub fn error(code: ErrorCode, message: impl Into<String>, client_id: Option<&str>) -> Self {
        Self::Error(ErrorFrame {
            code,
            message: message.into(),
            client_id: client_id.map(str::to_owned),
            conversation_id: None,
            retry_after_ms: None,
        })
    }

    /// The same frame, naming the conversation an `error` is about.
    pub fn about(mut self, conversation: ConversationId) -> Self {
        if let Self::Error(e) = &mut self {
            e.conversation_id = Some(conversation);
        }
        self
    }
}

/// Post a message.
#[derive(Clone, Debug, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct SendFrame {
    /// Target conversation.
    pub conversation_id: ConversationId,
    /// Idempotency key: 1–64 printable ASCII characters, unique among my messages.
    #[oai(validator(min_length = 1, max_length = 64, pattern = r"^[\x21-\x7E]+$"))]
    pub client_id: String,
    /// Text: 1–4000 characters after trailing whitespace is trimmed.
    #[oai(validator(min_length = 1, max_length = 4000))]
    pub body: String,
    /// Reply to this message of the same conversation (422 `invalid_reply` otherwise).
    #[serde(default)]
    pub reply_to_seq: Option<i64>,
}

/// Ask for the messages after `after_seq`.
#[derive(Clone, Debug, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct ResumeFrame {
    /// Which conversation.
    pub conversation_id: ConversationId,
    /// Highest seq the client has.
    pub after_seq: i64,
    /// Highest `change_seq` the client has seen (from `message`, `message_updated`,
    /// `message_deleted` frames and history): with it, edits, deletions, reactions and pins of
    /// older messages that came later are sent too, as `message_updated` / `message_deleted`.
    #[serde(default)]
    pub after_change: Option<i64>,
}

/// I am typing (send at most every few seconds).
#[derive(Clone, Debug, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct TypingRequestFrame {
    /// Where.
    pub conversation_id: ConversationId,
}

/// I have read up to `seq`.
#[derive(Clone, Debug, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct ReadFrame {
    /// Where.
    pub conversation_id: ConversationId,
    /// Up to which seq (inclusive).
    pub seq: i64,
}

/// Start or stop receiving presence changes of a conversation's members (while its member list
/// is on screen).
#[derive(Clone, Debug, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct WatchFrame {
    /// Which conversation (I must be a member).
    pub conversation_id: ConversationId,
}

/// Keep-alive; answered with `pong`.
#[derive(Clone, Debug, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct PingFrame {}

/// The person is active (typing, clicking, scrolling) in this tab: resets their session's idle
/// timer (see `idle_timeout_secs` of `GET /users/me`) and their auto-away timer (see
/// `auto_away_secs` of `GET /presence`; an automatic `away` ends at once). Clients send it on
/// input at most about every 30 s; no answer.
#[derive(Clone, Debug, Deserialize, Object)]
#[serde(deny_unknown_fields)]
#[oai(deny_unknown_fields)]
pub struct ActivityFrame {}

/// Every client → server frame, discriminated by `type`.
#[derive(Clone, Debug, Deserialize, Union)]
#[serde(tag = "type", rename_all = "snake_case")]
#[oai(discriminator_name = "type", one_of)]
pub enum ClientFrame {
    /// `send`
    #[oai(mapping = "send")]
    Send(SendFrame),
    /// `resume`
    #[oai(mapping = "resume")]
    Resume(ResumeFrame),
    /// `typing`
    #[oai(mapping = "typing")]
    Typing(TypingRequestFrame),
    /// `read`
    #[oai(mapping = "read")]
    Read(ReadFrame),
    /// `watch`
    #[oai(mapping = "watch")]
    Watch(WatchFrame),
    /// `unwatch`
    #[oai(mapping = "unwatch")]
    Unwatch(WatchFrame),
    /// `ping`
    #[oai(mapping = "ping")]
    Ping(PingFrame),
    /// `activity`
    #[oai(mapping = "activity")]
    Activity(ActivityFrame),
}

/// The frame types a client may send.
pub const CLIENT_TYPES: [&str; 8] = [
    "send", "resume", "typing", "read", "watch", "unwatch", "ping", "activity",
];

/// Why a client frame was refused: `(code, message)`.
pub type FrameError = (ErrorCode, String);

/// Parses a client text frame. Errors: `invalid_frame` (not JSON, missing or wrong fields) or
/// `unknown_type`.
pub fn parse_client_frame(text: &str) -> Result<ClientFrame, FrameError> {
    // The common case, a valid frame, is parsed once; only a refused one is looked at again to
    // say what is wrong with it.
    serde_json::from_str(text).or_else(|_| explain(text))
}

/// Parses `text` step by step (JSON, then `type`, then the fields) to name the first problem.
fn explain(text: &str) -> Result<ClientFrame, FrameError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        (
            ErrorCode::InvalidFrame,
            format!("frame is not valid JSON: {e}"),
        )
    })?;
    let kind = value
        .get("type")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            (
                ErrorCode::InvalidFrame,
                "frame has no string field \"type\"".to_owned(),
            )
        })?;
    if !CLIENT_TYPES.contains(&kind.as_str()) {
        return Err((
            ErrorCode::UnknownType,
            format!("unknown frame type {kind:?}"),
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        (
            ErrorCode::InvalidFrame,
            format!("invalid {kind} frame: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_tagged_and_unknown_fields_refused() {
        let pong = ServerFrame::Pong(PongFrame {}).encode();
        assert_eq!(pong.as_str(), r#"{"type":"pong"}"#);
        let id = ConversationId::new();
        let frame = parse_client_frame(&format!(r#"{{"type":"watch","conversation_id":"{id}"}}"#));
        assert!(matches!(frame, Ok(ClientFrame::Watch(w)) if w.conversation_id == id));
        let extra = parse_client_frame(r#"{"type":"ping","x":1}"#);
        assert!(
            matches!(extra, Err((ErrorCode::InvalidFrame, _))),
            "{extra:?}"
        );
        assert!(matches!(
            parse_client_frame(r#"{"type":"dance"}"#),
            Err((ErrorCode::UnknownType, _))
        ));
    }

    #[test]
    fn client_types_are_the_client_frame_union() {
        let mut registry = poem_openapi::registry::Registry::new();
        <ClientFrame as poem_openapi::types::Type>::register(&mut registry);
        let mapping: Vec<String> = registry
            .schemas
            .get("ClientFrame")
            .and_then(|s| s.discriminator.as_ref())
            .map(|d| d.mapping.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        assert_eq!(mapping, CLIENT_TYPES);
    }
}
