//! Pure types and rules shared by every layer: identifiers, kinds and roles, validated inputs,
//! permissions, the wire shapes of users/conversations/members/messages, and the error type.
//!
//! The wire shapes derive `poem_openapi::Object` as well as serde: the derive only describes a
//! schema (no HTTP), and it is what lets REST, WebSocket frames and events share ONE type per
//! concept (see docs/architecture.md, "One representation per concept").

mod account;
mod account_settings;
mod actor;
mod admin_views;
mod audit;
mod depth;
mod error;
mod ids;
mod inputs;
pub(crate) mod kinds;
pub mod markdown;
mod moderation;
mod permissions;
mod room_moderation;
mod search;
mod social;
mod time;
mod views;

pub use account::{DisplayName, Email, RecoveryPin, SessionEndReason, TokenPurpose};
pub use account_settings::{
    AccountSettings, AccountSettingsPatch, DEFAULT_ACCENT, StatusDisplay, TextSize, Theme,
    parse_accent,
};
pub use actor::Actor;
pub use admin_views::{
    AdminMembership, AdminUser, AdminUserDetail, AdminUserPage, BroadcastOutcome, ClusterStatus,
    InstanceInfo, PermissionSource, RoleList, RoleView, ServerCounts, ServerStatus, WhoAmI,
};
pub use audit::{AuditAction, AuditFilter, AuditTarget, NewAuditEntry};
pub use depth::{
    EXCERPT_CHARS, Emoji, MAX_EMOJIS_PER_MESSAGE, MAX_MENTIONS, NotifyLevel, PinInfo,
    REACTION_USERS_SHOWN, Reaction, ReactionUsers, Receipt, ReplyPreview, excerpt,
};
pub use error::{DomainError, ErrorCode};
pub use ids::{AuditId, ConversationId, InstanceId, MessageId, ReportId, SessionId, UserId};
pub use inputs::{
    ClientId, MessageBody, Password, REASON_MAX_CHARS, RoomName, STATUS_TEXT_MAX_CHARS, Username,
    no_control_chars, optional_text, reason, skeleton_of, status_text,
};
pub use kinds::{
    ConversationKind, ConversationRole, DirectorySort, LeaveReason, MembershipState,
    PresenceChoice, PresenceStatus, RegistrationMode, ReportStatus, RoomFilter, ServerRole,
    UnknownValue, Visibility,
};
pub use moderation::{
    AccountModeration, DURATION_MAX_SECS, ModerationDuration, REASON_MAX, Reason, RoleName,
    role_permissions,
};
pub use permissions::{
    BlockSide, ConversationFacts, Facts, MemberFacts, Permission, PermissionSet, Scope,
    conversation_permissions, decide, moderates_rooms, server_permissions, slowmode_applies,
};
pub use room_moderation::{AdminRoom, Report, ReportConversation, ReportMessage, UserRef};
pub use search::SearchTerms;
pub use social::{
    BlockedUser, Friend, FriendList, FriendRequest, FriendRequestDirection, FriendRequestEndReason,
    FriendRequestOutcome, FriendshipState,
};
pub use time::Timestamp;
pub use views::{
    AuditEntry, Conversation, DatabaseBackend, DatabaseIdentity, Invitation, Member, Message,
    MissedDm, MyPresence, ServerInfo, SessionInfo, User, UserPresence,
};
