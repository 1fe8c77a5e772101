//! What the audit log records. Entries are append-only and written in the same transaction as the
//! action they record (see `service::uow`).

use std::net::IpAddr;

use super::{ConversationId, SessionId, UserId, kinds::text_enum};

text_enum!(
    /// An audited action. Later issues add more (moderation, settings, account changes).
    AuditAction, "audit action" {
        /// The first admin account was created with the setup token.
        SetupCompleted = "setup.completed",
        /// A user's server role changed (`details`: `from`, `to`).
        UserRoleChanged = "user.role_changed",
        /// A user deleted their account (messages kept, username freed).
        UserDeleted = "user.deleted",
        /// A room was created (`details`: `name`, `visibility`).
        RoomCreated = "room.created",
        /// A room's topic or category changed (`details`: the new values).
        RoomUpdated = "room.updated",
        /// Someone was invited to a room (`details`: `username`).
        RoomInvite = "room.invite",
        /// A session was ended by its owner (logout).
        SessionLogout = "session.logout",
        /// A session was revoked by the server (refresh-token reuse, account deletion) or by its
        /// owner from another session (`details.reason`: a `SessionEndReason`).
        SessionRevoked = "session.revoked",
        /// A session ended after `idle_timeout_minutes` without activity.
        SessionIdle = "session.idle",
        /// A user changed their password (their other sessions ended).
        PasswordChanged = "user.password_changed",
        /// A password reset link was requested for an account (`details`: `delivery`).
        PasswordResetRequested = "user.password_reset_requested",
        /// A user set a new password with a reset link (every session ended).
        PasswordReset = "user.password_reset",
        /// A reset link was given with a wrong recovery PIN (`details`: `attempts`).
        RecoveryPinFailed = "user.recovery_pin_failed",
        /// A user set, changed or removed their recovery PIN (`details`: `set`).
        RecoveryPinChanged = "user.recovery_pin_changed",
        /// A user changed their display name or e-mail (`details`: the changed fields).
        ProfileUpdated = "user.profile_updated",
        /// A user confirmed their e-mail address through the link sent to it.
        EmailVerified = "user.email_verified",
        /// A user blocked another one (target: the blocked user).
        UserBlocked = "user.blocked",
        /// A user unblocked another one (target: the unblocked user).
        UserUnblocked = "user.unblocked",
        /// A group was created (`details`: `name`).
        GroupCreated = "group.created",
        /// A group's name or topic changed (`details`: the new values).
        GroupUpdated = "group.updated",
        /// Someone was invited to a group (`details`: `user_id`, `username`).
        MemberInvited = "member.invited",
        /// An invitee accepted an invitation (room or group).
        InvitationAccepted = "invitation.accepted",
        /// An invitee declined an invitation (room or group).
        InvitationDeclined = "invitation.declined",
        /// A member's role changed (`details`: `user_id`, `from`, `to`).
        MemberRoleChanged = "member.role_changed",
        /// A group's ownership moved (`details`: `from`, `to`; the old owner is a moderator now).
        OwnershipTransferred = "conversation.ownership_transferred",
        /// A member was muted (`details`: `user_id`, `until`, `duration_secs`).
        MemberMuted = "member.muted",
        /// A member's mute was lifted (`details`: `user_id`).
        MemberUnmuted = "member.unmuted",
        /// A member was removed from a group (`details`: `user_id`).
        MemberKicked = "member.kicked",
        /// A member left a group (`details`: `last`: true when nobody is left).
        MemberLeft = "member.left",
        /// An administrator created an account (`details`: `username`, `role`, `via`: `cli` or
        /// `api`).
        UserCreated = "user.created",
        /// An administrator made a one-time password reset link for an account (`details`:
        /// `username`, `expires_at`, `via`).
        ResetLinkCreated = "user.reset_link_created",
    }
);

/// What an audit entry is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditTarget {
    /// A user account.
    User(UserId),
    /// A conversation.
    Conversation(ConversationId),
    /// A session (refresh-token family).
    Session(SessionId),
}

impl AuditTarget {
    /// `user`, `conversation` or `session`: the stored `target_type`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::Conversation(_) => "conversation",
            Self::Session(_) => "session",
        }
    }

    /// The target's id as stored in `target_id`.
    pub fn id(self) -> String {
        match self {
            Self::User(id) => id.to_string(),
            Self::Conversation(id) => id.to_string(),
            Self::Session(id) => id.to_string(),
        }
    }
}

/// A new audit entry, before it is stored.
#[derive(Clone, Debug)]
pub struct NewAuditEntry {
    /// Who did it (`None`: the server itself).
    pub actor: Option<UserId>,
    /// What.
    pub action: AuditAction,
    /// To what.
    pub target: Option<AuditTarget>,
    /// Action-specific details, a JSON object.
    pub details: serde_json::Value,
    /// The client's address, when the action came from a request.
    pub ip: Option<IpAddr>,
}

/// Which audit entries to read (`GET /admin/audit`); every given field must match.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this actor's entries.
    pub actor: Option<UserId>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only entries about this target id (a user, conversation or session id, as text).
    pub target: Option<String>,
}
