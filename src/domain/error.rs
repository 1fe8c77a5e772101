//! The one error type of the service layer, and the closed set of error codes clients branch on.
//! `http::error` maps every [`DomainError`] variant to a status in a single exhaustive match; the
//! realtime layer sends the same [`ErrorCode`] in `error` frames.

use super::kinds::{UnknownValue, text_enum};

text_enum!(
    /// Stable snake_case error codes, the `code` of every REST error body and WebSocket `error`
    /// frame. Match on the code; the `message` next to it is for people and may change.
    ErrorCode, "error code" {
        /// Malformed request: unparsable JSON, wrong types, bad path or query parameters (400).
        BadRequest = "bad_request",
        /// No valid access token (401).
        Unauthorized = "unauthorized",
        /// Wrong username or password (401).
        InvalidCredentials = "invalid_credentials",
        /// The refresh token is unknown, used, revoked or expired (401).
        InvalidRefreshToken = "invalid_refresh_token",
        /// The session of this token ended; the body's `reason` says why (401).
        SessionEnded = "session_ended",
        /// The password reset or verification link is wrong, used or expired (403).
        InvalidToken = "invalid_token",
        /// The recovery PIN is missing or wrong (403); after 5 wrong PINs the link dies.
        InvalidPin = "invalid_pin",
        /// A cookie-authenticated request came from a foreign `Origin` (403).
        OriginMismatch = "origin_mismatch",
        /// Registration is closed on this server (403).
        RegistrationClosed = "registration_closed",
        /// The admin account must be created first (403).
        SetupRequired = "setup_required",
        /// The setup token is wrong, used or expired (403).
        InvalidSetupToken = "invalid_setup_token",
        /// A private room that needs an invite (403).
        NotInvited = "not_invited",
        /// A public room the caller has not joined (403).
        NotAMember = "not_a_member",
        /// The caller's role does not grant this action (403).
        PermissionDenied = "permission_denied",
        /// The caller is muted in this group until the time the message names (403).
        Muted = "muted",
        /// The owner's role cannot be changed; transfer the ownership instead (403).
        CannotChangeOwner = "cannot_change_owner",
        /// No such resource, or not visible to the caller (404).
        NotFound = "not_found",
        /// The path exists but not with this method; see the `Allow` header (405).
        MethodNotAllowed = "method_not_allowed",
        /// The request body did not arrive in time (408).
        RequestTimeout = "request_timeout",
        /// The admin account already exists (409).
        AlreadySetUp = "already_set_up",
        /// The username is taken (409).
        UsernameTaken = "username_taken",
        /// A room with that name (or a confusable one) exists (409).
        RoomNameTaken = "room_name_taken",
        /// Another account uses that e-mail address (409).
        EmailTaken = "email_taken",
        /// The user is already a member (409).
        AlreadyMember = "already_member",
        /// The `client_id` was already used for a different message (409).
        ClientIdReused = "client_id_reused",
        /// The change would leave the server without an admin (409).
        LastAdmin = "last_admin",
        /// The recipient already has as many pending invitations as the server allows (409).
        TooManyPendingInvites = "too_many_pending_invites",
        /// The owner cannot leave a group while others are in it: transfer the ownership first
        /// (409).
        OwnerMustTransfer = "owner_must_transfer",
        /// The request body is larger than 64 KiB (413).
        PayloadTooLarge = "payload_too_large",
        /// The request body is not `application/json` (415).
        UnsupportedMediaType = "unsupported_media_type",
        /// Username rules: 3–32 of `a-z 0-9 _ . -` (422).
        InvalidUsername = "invalid_username",
        /// Password rules: 8–1024 bytes (422).
        InvalidPassword = "invalid_password",
        /// Not an e-mail address (422).
        InvalidEmail = "invalid_email",
        /// Display name rules: 1–64 characters, no control or invisible characters (422).
        InvalidDisplayName = "invalid_display_name",
        /// Recovery PIN rules: 4–8 digits (422).
        InvalidPinFormat = "invalid_pin_format",
        /// Room name rules: 1–64 characters, no invisible or control characters (422).
        InvalidRoomName = "invalid_room_name",
        /// Topic rules: at most 512 characters, no control characters (422).
        InvalidTopic = "invalid_topic",
        /// Category rules: at most 64 characters, no control characters (422).
        InvalidCategory = "invalid_category",
        /// Custom status text rules: at most 128 characters, no control, line-separator or
        /// bidirectional-formatting characters (422).
        InvalidStatusText = "invalid_status_text",
        /// The server does not allow the invisible presence (`[presence] allow_invisible = false`)
        /// (403).
        InvisibleDisabled = "invisible_disabled",
        /// Message rules: 1–4000 characters, no control characters but newline and tab (422).
        InvalidMessage = "invalid_message",
        /// `client_id` rules: 1–64 printable ASCII characters (422).
        InvalidClientId = "invalid_client_id",
        /// `limit` is out of its documented range (422).
        InvalidLimit = "invalid_limit",
        /// A search query is too long or has control characters (422).
        InvalidQuery = "invalid_query",
        /// A paging cursor that this server did not hand out (422).
        InvalidCursor = "invalid_cursor",
        /// A member role that cannot be given this way (`owner`: transfer the ownership) (422).
        InvalidRole = "invalid_role",
        /// A mute duration outside 1–2592000 seconds (422).
        InvalidDuration = "invalid_duration",
        /// The action cannot target yourself (kick, mute, transfer to yourself) (422).
        CannotTargetSelf = "cannot_target_self",
        /// Any other well-formed but invalid input (422).
        UnprocessableEntity = "unprocessable_entity",
        /// Too many requests; slow down (429).
        RateLimited = "rate_limited",
        /// An unexpected failure; the message carries an error id that is also logged (500).
        InternalError = "internal_error",
        /// The server is shutting down and did not take the request (503).
        ShuttingDown = "shutting_down",
        /// A dependency (the database) cannot be reached (503).
        Unavailable = "unavailable",
        /// The server is at its connection limit (503).
        TooManyConnections = "too_many_connections",
        /// WebSocket: the frame is not valid JSON or lacks a field.
        InvalidFrame = "invalid_frame",
        /// WebSocket: the frame's `type` is not a client frame type.
        UnknownType = "unknown_type",
        /// A block between the two users forbids this (a DM with them) (403).
        Blocked = "blocked",
        /// A friend request to yourself (422).
        CannotBefriendSelf = "cannot_befriend_self",
        /// Blocking yourself (422).
        CannotBlockSelf = "cannot_block_self",
        /// You are friends already (409).
        AlreadyFriends = "already_friends",
        /// You already asked this user (409).
        RequestPending = "request_pending",
        /// You have as many pending outgoing friend requests as the server allows (409).
        TooManyPendingRequests = "too_many_pending_requests",
        /// The account is suspended; the message gives until when and why (403).
        Suspended = "suspended",
        /// The account was deactivated by an administrator (403).
        Deactivated = "deactivated",
        /// Role name rules: 2–32 of `a-z 0-9 _ -`, starting with a letter (422).
        InvalidRoleName = "invalid_role_name",
        /// A permission a role cannot hold (conversation permissions) (422).
        InvalidPermission = "invalid_permission",
        /// Built-in roles (`admin`, `moderator`, `member`) cannot be created, renamed or deleted
        /// (409).
        BuiltinRole = "builtin_role",
        /// A custom role with that name exists (409).
        RoleExists = "role_exists",
        /// The room is locked: nobody new may join (403).
        RoomLocked = "room_locked",
        /// The room is read-only: only its owner and moderators may post (403).
        ReadOnly = "read_only",
        /// The room's slowmode: wait before posting again (429 with `Retry-After`; WebSocket
        /// `retry_after_ms`).
        Slowmode = "slowmode",
        /// A moderation reason or report reason must be 1–500 characters without control
        /// characters but newline and tab (422).
        InvalidReason = "invalid_reason",
        /// `slowmode_secs` must be 0 (off) to 21600 (6 hours) (422).
        InvalidSlowmode = "invalid_slowmode",
        /// A live setting that does not exist, or a value of the wrong type or out of range; the
        /// message names the key (422).
        InvalidSetting = "invalid_setting",
        /// Registration is by invitation only and no invite code was given (403).
        InviteRequired = "invite_required",
        /// The invite code is unknown, revoked, expired or used up (403).
        InvalidInvite = "invalid_invite",
        /// A reaction must be exactly one Unicode emoji (422).
        InvalidEmoji = "invalid_emoji",
        /// A message already carries the most distinct emojis allowed (20) (409).
        TooManyReactions = "too_many_reactions",
        /// `reply_to_seq` names no readable message of the same conversation (422).
        InvalidReply = "invalid_reply",
        /// Only the author may edit a message (403).
        NotYourMessage = "not_your_message",
        /// The edit window (`[messages] edit_window_secs`) of this message has passed (403).
        EditWindowClosed = "edit_window_closed",
        /// The message was deleted: it cannot be edited, reacted to or pinned (409).
        MessageDeleted = "message_deleted",
        /// Account settings (`PUT /users/me/settings`): an unknown key, a `null`, a value of the
        /// wrong type or out of its set, or an accent that is not `#rrggbb`; the message names
        /// the key (422).
        InvalidSettings = "invalid_settings",
    }
);

/// What went wrong, in domain terms: a stable [`ErrorCode`] that clients can branch on and, where
/// the variant has one, a human-readable message.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input that is well-formed JSON but breaks a rule (HTTP 422).
    #[error("{1}")]
    Invalid(ErrorCode, String),
    /// Missing or bad credentials (HTTP 401).
    #[error("{1}")]
    Unauthorized(ErrorCode, String),
    /// Authenticated but not allowed (HTTP 403).
    #[error("{1}")]
    Forbidden(ErrorCode, String),
    /// The thing does not exist or the caller may not know it exists (HTTP 404). The text names
    /// the kind of thing (`conversation`, `user`).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (HTTP 409).
    #[error("{1}")]
    Conflict(ErrorCode, String),
    /// The access or refresh token belongs to a session that ended (HTTP 401, code
    /// `session_ended`, with the reason).
    #[error("this session has ended ({0})")]
    SessionEnded(super::SessionEndReason),
    /// [`Self::SessionEnded`] with a message for the person: a suspension's end and reason, a
    /// deactivation's reason (HTTP 401, code `session_ended`, with the reason).
    #[error("{message}")]
    SessionEndedWith {
        /// Why the session ended.
        reason: super::SessionEndReason,
        /// Until when and why, for the login page.
        message: String,
    },
    /// Too many requests (HTTP 429 with `Retry-After`; WebSocket `retry_after_ms`), with the code
    /// `rate_limited` (a rate of `[limits]`) or `slowmode` (a room's slowmode).
    #[error("{message}")]
    RateLimited {
        /// `rate_limited` or `slowmode`.
        code: ErrorCode,
        /// What was limited, for people.
        message: String,
        /// How long until the same request would be allowed (zero when unknown).
        retry_after: std::time::Duration,
    },
    /// The server is shutting down and refuses new work (HTTP 503).
    #[error("the server is shutting down")]
    ShuttingDown,
    /// A dependency (the database) cannot be reached (HTTP 503).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else: logged with an error id, never shown to clients (HTTP 500).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError {
    /// Shorthand for [`DomainError::Invalid`].
    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Invalid(code, message.into())
    }

    /// Shorthand for [`DomainError::Forbidden`].
    pub fn forbidden(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Forbidden(code, message.into())
    }

    /// Shorthand for [`DomainError::Conflict`].
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Conflict(code, message.into())
    }

    /// Shorthand for [`DomainError::Unauthorized`].
    pub fn unauthorized(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Unauthorized(code, message.into())
    }

    /// Shorthand for [`DomainError::RateLimited`]: `retry_after` is the wait until the same
    /// request would be allowed.
    pub fn rate_limited(message: impl Into<String>, retry_after: std::time::Duration) -> Self {
        Self::RateLimited {
            code: ErrorCode::RateLimited,
            message: message.into(),
            retry_after,
        }
    }

    /// A room's slowmode refused a message: 429 `slowmode`, "slowmode: wait N s", with the
    /// wait as `retry_after`.
    pub fn slowmode(retry_after: std::time::Duration) -> Self {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        Self::RateLimited {
            code: ErrorCode::Slowmode,
            message: format!("slowmode: wait {} s", secs.max(1)),
            retry_after,
        }
    }

    /// An internal error with a message (logged, never shown).
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::Internal(anyhow::anyhow!("{message}"))
    }

    /// The stable code sent to clients.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(code, _)
            | Self::Unauthorized(code, _)
            | Self::Forbidden(code, _)
            | Self::Conflict(code, _) => *code,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::SessionEnded(_) | Self::SessionEndedWith { .. } => ErrorCode::SessionEnded,
            Self::RateLimited { code, .. } => *code,
            Self::ShuttingDown => ErrorCode::ShuttingDown,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::InternalError,
        }
    }
}

impl From<sea_orm::DbErr> for DomainError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(err.into())
    }
}

impl From<UnknownValue> for DomainError {
    /// An unknown enum text can only come from the database (inputs are parsed by typed
    /// deserializers), so it is an internal error: a corrupt or newer database.
    fn from(err: UnknownValue) -> Self {
        Self::Internal(anyhow::anyhow!("database holds an {err}"))
    }
}
