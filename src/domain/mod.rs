//! Pure types and rules shared by every layer: identifiers, kinds and roles, validated inputs,
//! permissions, the wire shapes of users/conversations/members/messages, and the error type.
//!
//! The wire shapes derive `poem_openapi::Object` as well as serde: the derive only describes a
//! schema (no HTTP), and it is what lets REST, WebSocket frames and events share ONE type per
//! concept (see docs/architecture.md, "One representation per concept").

mod account;
mod actor;
mod audit;
mod error;
mod ids;
mod inputs;
pub(crate) mod kinds;
mod permissions;
mod social;
mod time;
mod views;

pub use account::{DisplayName, Email, RecoveryPin, SessionEndReason, TokenPurpose};
pub use actor::Actor;
pub use audit::{AuditAction, AuditFilter, AuditTarget, NewAuditEntry};
pub use error::{DomainError, ErrorCode};
pub use ids::{AuditId, ConversationId, MessageId, SessionId, UserId};
pub use inputs::{
    ClientId, MessageBody, Password, RoomName, STATUS_TEXT_MAX_CHARS, Username, no_control_chars,
    optional_text, skeleton_of, status_text,
};
pub use kinds::{
    ConversationKind, ConversationRole, LeaveReason, MembershipState, PresenceChoice,
    PresenceStatus, ServerRole, UnknownValue, Visibility,
};
pub use permissions::{
    BlockSide, ConversationFacts, Facts, MemberFacts, Permission, Scope, conversation_permissions,
    decide, server_permissions,
};
pub use social::{
    BlockedUser, Friend, FriendList, FriendRequest, FriendRequestDirection, FriendRequestEndReason,
    FriendRequestOutcome, FriendshipState,
};
pub use time::Timestamp;
pub use views::{
    AuditEntry, Conversation, DatabaseBackend, DatabaseIdentity, Invitation, Member, Message,
    MissedDm, MyPresence, SessionInfo, User, UserPresence,
};
