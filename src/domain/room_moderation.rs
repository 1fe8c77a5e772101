//! The wire shapes of room moderation and reports: a room as the admin panel lists it
//! ([`AdminRoom`]) and a reported message in the moderation queue ([`Report`]). REST only.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use super::{
    ConversationId, ConversationKind, ReportId, ReportStatus, Timestamp, UserId, Visibility,
};

/// A room as the admin panel lists it (`GET /admin/rooms`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AdminRoom {
    /// The room's id.
    pub id: ConversationId,
    /// Name (1–64 characters).
    pub name: String,
    /// Topic line; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Directory category; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Public or private.
    pub visibility: Visibility,
    /// An official (server) room.
    pub official: bool,
    /// Every new account joins it.
    pub auto_join: bool,
    /// Nobody new may join.
    pub locked: bool,
    /// Only the owner and moderators may post.
    pub read_only: bool,
    /// Seconds between two messages of a plain member (0 = off).
    pub slowmode_secs: i32,
    /// Joined members.
    pub member_count: i64,
    /// Sequence number of the latest message.
    pub last_seq: i64,
    /// History was cleared up to this seq (0 = never).
    pub cleared_seq: i64,
    /// Creation time (RFC 3339, UTC).
    pub created_at: Timestamp,
}

/// A user named in a report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct UserRef {
    /// The user's id.
    pub id: UserId,
    /// Their username now (`deleted` when the account is gone).
    pub username: String,
}

/// The conversation of a reported message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ReportConversation {
    /// Its id.
    pub id: ConversationId,
    /// Its name (absent for DMs and unnamed groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Room, group or DM.
    pub kind: ConversationKind,
}

/// A reported message as it is now (a deleted message has an empty body and `deleted: true`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
pub struct ReportMessage {
    /// Its sequence number in the conversation.
    pub seq: i64,
    /// Its text now (empty once deleted).
    pub body: String,
    /// Whether it was deleted.
    pub deleted: bool,
    /// Its author.
    pub sender: UserRef,
    /// When it was sent (RFC 3339, UTC).
    pub created_at: Timestamp,
}

/// A reported message in the moderation queue (`GET /admin/reports`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Report {
    /// The report's id.
    pub id: ReportId,
    /// `open`, `resolved` or `dismissed`.
    pub status: ReportStatus,
    /// Why the reporter reported it (1–500 characters).
    pub reason: String,
    /// Who reported it.
    pub reporter: UserRef,
    /// Where.
    pub conversation: ReportConversation,
    /// The message.
    pub message: ReportMessage,
    /// When it was reported (RFC 3339, UTC).
    pub created_at: Timestamp,
    /// Who resolved or dismissed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<UserRef>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    /// The moderator's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}
