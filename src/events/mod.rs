//! Domain events and the bus that carries them.
//!
//! Services publish an [`Event`] **after** the transaction that caused it committed (see
//! `service::uow`); nothing in `service/` talks to WebSocket connections. `realtime` subscribes and
//! turns events into frames for the connections allowed to see them; `service::access` subscribes
//! to keep its permission caches current. Events serialize (serde, tagged by `event`), so a bus
//! between several instances (`cluster::bus`, Redis pub/sub) carries them unchanged.

mod bus;

pub use bus::{EventBus, InProcessBus, Subscription};
use serde::{Deserialize, Serialize};

use crate::domain::{
    AccountSettings, Conversation, ConversationId, ConversationKind, ConversationRole,
    FriendRequestEndReason, InstanceId, LeaveReason, MembershipState, Message, PermissionSet,
    PresenceChoice, PresenceStatus, ServerInfo, SessionEndReason, SessionId, Timestamp, User,
    UserId, Visibility,
};

/// Something that happened, as told to the rest of the system after commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A message was committed. Published in `seq` order per conversation.
    MessageCreated {
        /// The stored message.
        message: Message,
    },
    /// A conversation was created (its first members follow as `MemberJoined`).
    ConversationCreated {
        /// Which.
        conversation_id: ConversationId,
        /// Room, group or DM.
        kind: ConversationKind,
        /// Public or private.
        visibility: Visibility,
        /// The creator (none for official rooms).
        created_by: Option<UserId>,
    },
    /// A conversation's shared settings changed; the fields are the new values (absent = none).
    ConversationUpdated {
        /// Which.
        conversation_id: ConversationId,
        /// Name.
        name: Option<String>,
        /// Topic.
        topic: Option<String>,
        /// Category.
        category: Option<String>,
        /// Rooms: nobody new may join.
        #[serde(default)]
        locked: bool,
        /// Rooms: only moderators may post.
        #[serde(default)]
        read_only: bool,
        /// Rooms: slowmode in seconds (0 = off).
        #[serde(default)]
        slowmode_secs: i32,
    },
    /// A user joined a conversation (created it, joined it, or a DM was opened with them).
    MemberJoined {
        /// The new member.
        user: User,
        /// Their role there.
        role: ConversationRole,
        /// The conversation as the new member sees it (for their own connections).
        view: Conversation,
    },
    /// A user was invited to a conversation.
    MemberInvited {
        /// The invitee.
        user_id: UserId,
        /// The conversation as the invitee sees it (`membership: invited`).
        view: Conversation,
    },
    /// A user declined an invitation (nobody but the user is told).
    InvitationDeclined {
        /// Where.
        conversation_id: ConversationId,
        /// Who.
        user_id: UserId,
    },
    /// A user left a conversation (or their account was deleted), or was kicked.
    MemberLeft {
        /// Where.
        conversation_id: ConversationId,
        /// Who.
        user_id: UserId,
        /// Left by themselves or kicked.
        #[serde(default = "left")]
        reason: LeaveReason,
        /// Who removed them (kicks).
        #[serde(default)]
        by: Option<UserId>,
    },
    /// A member's role or mute changed; the fields are the new values.
    MemberUpdated {
        /// Where.
        conversation_id: ConversationId,
        /// Whose membership.
        user_id: UserId,
        /// Their role now.
        role: ConversationRole,
        /// Until when they are muted (`None`: not muted).
        muted_until: Option<Timestamp>,
        /// Who changed it.
        by: UserId,
    },
    /// A session ended (logout, idle, password change, refresh-token reuse, account deletion,
    /// an administrator): its access tokens are refused and its sockets close with 1008 and the
    /// reason as the close reason.
    SessionEnded {
        /// Whose.
        user_id: UserId,
        /// Which.
        session_id: SessionId,
        /// Why.
        reason: SessionEndReason,
    },
    /// A user came online (`online`) or went offline after the grace period (`offline`):
    /// published by `realtime`, which tracks connections. What others see follows from it and
    /// the user's choice (an invisible user's connecting tells nobody).
    PresenceChanged {
        /// Who.
        user_id: UserId,
        /// Their username, for the frame.
        username: String,
        /// New status: `online` (connected there; `home.active` tells whether idle) or
        /// `offline` (no connection there any more).
        status: PresenceStatus,
        /// With several instances: which instance announces this and what the others need to
        /// show the user (absent with one instance).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        home: Option<PresenceHome>,
    },
    /// Someone is typing in a conversation (relayed at most once a second per connection; never
    /// from an invisible user). Realtime publishes it so that members on every instance see it.
    Typing {
        /// Where.
        conversation_id: ConversationId,
        /// Who.
        user_id: UserId,
        /// Their username, for the frame.
        username: String,
    },
    /// An instance (re)joined the bus and asks every instance to announce the presence of its
    /// connected users again (`PresenceChanged` with `home`).
    PresenceSyncRequested {
        /// Who asks.
        instance: InstanceId,
    },
    /// An instance has not been heard on the bus for a while (it died or lost Redis): the
    /// presence it announced is dropped. Local only: never sent to other instances.
    InstanceGone {
        /// Which.
        instance: InstanceId,
    },
    /// Events from other instances may have been missed (a gap in an instance's bus sequence, or
    /// this instance's bus subscription reconnected): caches are dropped, settings re-read, and
    /// WebSockets closed with 1012 so that clients reconnect and resume by sequence number.
    /// Local only: never sent to other instances.
    BusInterrupted {
        /// What happened, for logs.
        reason: String,
    },
    /// A user chose a presence or custom status text (stored in `users`). The realtime layer
    /// tells their connections (`my_presence`) and, when what others see changed, those who may
    /// see their presence (`presence`).
    PresenceChosen {
        /// Who.
        user_id: UserId,
        /// Their choice now.
        choice: PresenceChoice,
        /// Their custom status text now.
        status_text: Option<String>,
    },
    /// A user's account changed (server role, deletion): caches forget it, the user's own
    /// connections learn their new permissions.
    UserUpdated {
        /// The account now.
        user: User,
        /// Its effective server permissions now, when they may have changed (roles, grants);
        /// `None` when the change cannot touch them (profile edits).
        #[serde(default)]
        permissions: Option<PermissionSet>,
    },
    /// A custom role's permissions changed or it was deleted: every cached user is re-read.
    RolesChanged,
    /// An announcement to everyone online (`announcement` frame).
    Announcement {
        /// The text (1–2000 characters).
        text: String,
        /// Who sent it.
        by_username: String,
        /// When.
        at: Timestamp,
    },
    /// `from` asked `to` to be friends (not published when `to` blocked `from`: nothing is
    /// stored then).
    FriendRequested {
        /// The requester.
        from: User,
        /// The addressee.
        to: User,
    },
    /// `b` accepted `a`'s friend request (or they asked each other): they are friends.
    FriendAccepted {
        /// The requester.
        a: User,
        /// The one who accepted.
        b: User,
        /// When the friendship began.
        since: Timestamp,
    },
    /// A pending friend request from `from` to `to` ended without a friendship.
    FriendRequestEnded {
        /// The requester.
        from: UserId,
        /// The addressee.
        to: UserId,
        /// Declined (by `to`), cancelled (by `from`) or blocked (by `by`).
        reason: FriendRequestEndReason,
        /// Who ended it.
        by: UserId,
    },
    /// `a` and `b` are no longer friends: `a` removed `b`, or a block between them removed it.
    FriendRemoved {
        /// Who removed (or blocked).
        a: UserId,
        /// The other one.
        b: UserId,
    },
    /// `blocker` blocked (`blocking: true`) or unblocked `blocked`.
    BlockChanged {
        /// Who blocked or unblocked.
        blocker: UserId,
        /// Who was blocked or unblocked.
        blocked: UserId,
        /// The account of `blocked`, for the blocker's `block_changed` frame.
        user: User,
        /// True when the block was made, false when it was lifted.
        blocking: bool,
        /// Whether a block (either way round) stands between the two after this change: false
        /// only when the last one was lifted (presence shows again).
        remains: bool,
    },
    /// A room's history was cleared: reads start after `cleared_seq`.
    HistoryCleared {
        /// Which room.
        conversation_id: ConversationId,
        /// The last cleared seq (the room's `last_seq` at the time).
        cleared_seq: i64,
    },
    /// A room was deleted with its messages, members and reports.
    ConversationDeleted {
        /// Which room.
        conversation_id: ConversationId,
        /// Everyone who had a membership row (joined, invited, left, banned): caches forget
        /// them, connections drop the room.
        members: Vec<UserId>,
    },
    /// A message was deleted (body emptied, `deleted_at` set). Published in change_seq order
    /// with the conversation's other message events.
    MessageDeleted {
        /// Where.
        conversation_id: ConversationId,
        /// Which message.
        seq: i64,
        /// The conversation's change sequence of the deletion.
        change_seq: i64,
        /// Who deleted it.
        by: UserId,
        /// The author, when the message was shadowed (only they were told it exists).
        shadowed_sender: Option<UserId>,
    },
    /// A message was edited, reacted to, pinned or unpinned: the message now. Published in
    /// change_seq order with the conversation's other message events.
    MessageUpdated {
        /// The message now.
        message: Message,
    },
    /// A member's read position moved (`read`, `POST …/read`).
    ReadMoved {
        /// Where.
        conversation_id: ConversationId,
        /// Whose.
        user_id: UserId,
        /// The new read position.
        seq: i64,
        /// Messages after it (the member's unread count now).
        unread_count: i64,
        /// Whether the other members are told (a read receipt: DMs and groups only, and only
        /// while the member sends read receipts and is not invisible).
        share: bool,
    },
    /// A user was banned from a room, or the ban was lifted (no frame; caches forget the
    /// membership). A banned member's leaving is told by `MemberLeft` with reason `banned`.
    MemberBanChanged {
        /// Which room.
        conversation_id: ConversationId,
        /// Who.
        user_id: UserId,
        /// True when banned now, false when the ban was lifted.
        banned: bool,
        /// Who did it.
        by: UserId,
    },
    // --- directory (issue 9, mobile helper) ---
    /// A public room appeared in the directory or its entry changed (created, topic, category,
    /// name, official, lock, read-only or slowmode changed). Never published for private rooms.
    RoomListed {
        /// The directory entry as a user who is not a member sees it (no `membership`, `role`
        /// or unread count; `permissions` as a plain user's), like an entry of `GET /rooms`.
        room: Conversation,
    },
    /// A public room left the directory (it was deleted). Never published for private rooms.
    RoomUnlisted {
        /// Which room.
        conversation_id: ConversationId,
    },
    // --- end directory ---
    /// Live settings changed (`PATCH` / `DELETE /admin/settings`). Every instance re-reads the
    /// settings from the database; connections are told the server's name and MOTD
    /// (`server_updated`).
    SettingsChanged {
        /// The public server facts after the change.
        server: ServerInfo,
        /// The keys that changed.
        keys: Vec<String>,
    },
    /// A user changed their account settings (`PUT /users/me/settings`): all their connections
    /// get `settings_updated`.
    AccountSettingsChanged {
        /// Whose.
        user: UserId,
        /// The whole settings object now.
        settings: AccountSettings,
    },
}

/// What other instances need to show a user connected to the announcing instance: published with
/// each of that instance's presence announcements (`PresenceChanged`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresenceHome {
    /// The announcing instance.
    pub instance: InstanceId,
    /// Whether the user was active there (not idle for `[presence] auto_away_minutes`).
    pub active: bool,
    /// Their chosen presence.
    pub choice: PresenceChoice,
    /// Their custom status text.
    pub status_text: Option<String>,
    /// Their friends (who see their presence).
    pub friends: Vec<UserId>,
    /// Users with a block between them and this user (either way).
    pub blocked: Vec<UserId>,
    /// The conversations they are a member of, each with whether its members see each other's
    /// presence (DMs, groups, private rooms) or only those watching its member list.
    pub conversations: Vec<(ConversationId, bool)>,
}

/// The default reason of a `MemberLeft` from before reasons existed.
fn left() -> LeaveReason {
    LeaveReason::Left
}

impl Event {
    /// The event for `user_id` ending a membership that was in state `was`: a member's leaving
    /// is `MemberLeft` (the room is told), an invitee's is `InvitationDeclined` (only they are).
    pub fn departure(
        conversation_id: ConversationId,
        user_id: UserId,
        was: MembershipState,
    ) -> Self {
        if was == MembershipState::Invited {
            Self::InvitationDeclined {
                conversation_id,
                user_id,
            }
        } else {
            Self::MemberLeft {
                conversation_id,
                user_id,
                reason: LeaveReason::Left,
                by: None,
            }
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MessageCreated { .. } => "message_created",
            Self::ConversationCreated { .. } => "conversation_created",
            Self::ConversationUpdated { .. } => "conversation_updated",
            Self::MemberJoined { .. } => "member_joined",
            Self::MemberInvited { .. } => "member_invited",
            Self::InvitationDeclined { .. } => "invitation_declined",
            Self::MemberLeft { .. } => "member_left",
            Self::MemberUpdated { .. } => "member_updated",
            Self::SessionEnded { .. } => "session_ended",
            Self::PresenceChanged { .. } => "presence_changed",
            Self::PresenceChosen { .. } => "presence_chosen",
            Self::UserUpdated { .. } => "user_updated",
            Self::FriendRequested { .. } => "friend_requested",
            Self::FriendAccepted { .. } => "friend_accepted",
            Self::FriendRequestEnded { .. } => "friend_request_ended",
            Self::FriendRemoved { .. } => "friend_removed",
            Self::BlockChanged { .. } => "block_changed",
            Self::RolesChanged => "roles_changed",
            Self::Announcement { .. } => "announcement",
            Self::HistoryCleared { .. } => "history_cleared",
            Self::ConversationDeleted { .. } => "conversation_deleted",
            Self::MessageDeleted { .. } => "message_deleted",
            Self::MessageUpdated { .. } => "message_updated",
            Self::ReadMoved { .. } => "read_moved",
            Self::MemberBanChanged { .. } => "member_ban_changed",
            Self::SettingsChanged { .. } => "settings_changed",
            Self::AccountSettingsChanged { .. } => "account_settings_changed",
            Self::RoomListed { .. } => "room_listed",
            Self::RoomUnlisted { .. } => "room_unlisted",
            Self::Typing { .. } => "typing",
            Self::PresenceSyncRequested { .. } => "presence_sync_requested",
            Self::InstanceGone { .. } => "instance_gone",
            Self::BusInterrupted { .. } => "bus_interrupted",
        }
    }

    /// Whether the event concerns this instance only and never travels to other instances.
    pub fn is_local_only(&self) -> bool {
        matches!(
            self,
            Self::InstanceGone { .. } | Self::BusInterrupted { .. }
        )
    }
}
