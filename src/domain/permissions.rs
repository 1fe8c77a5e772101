//! Permissions: what each role may do, as one pure decision function.
//!
//! Two kinds of role, both stored in the database and never read from a token claim:
//! - the **server role** of a user ([`ServerRole`]: admin, moderator, member), in `users.role`;
//! - the **conversation role** of a member ([`ConversationRole`]: owner, moderator, member), in
//!   `conversation_members.role`, together with the membership state.
//!
//! [`decide`] answers "may this user do this here" from those facts. `service::access` gathers
//! the facts (cached, kept current by domain events) and is the one function services call; the
//! HTTP layer publishes the same answers (`GET /users/me` → `permissions`, each conversation's
//! `permissions`), so the web client shows exactly what the server would allow.

use serde::{Deserialize, Serialize};

use super::{
    ConversationId, ConversationKind, ConversationRole, DomainError, ErrorCode, MembershipState,
    ServerRole, Timestamp, UserId, Visibility,
};
use crate::domain::kinds::text_enum;

text_enum!(
    /// One thing a user may be allowed to do. Server-scoped permissions come from the server
    /// role; conversation-scoped ones from the membership (and, for moderation, the server role).
    Permission, "permission" {
        /// Server: read the audit log (`GET /admin/audit`).
        AuditRead = "audit.read",
        /// Server: change users' server roles (`PUT /admin/users/{id}/role`).
        RolesManage = "roles.manage",
        /// Server: create rooms.
        RoomsCreate = "rooms.create",
        /// Server: moderate every room (edit settings of rooms one does not own; lock, read-only,
        /// slowmode, clear history; kick, ban; delete any message in a room).
        RoomsModerate = "rooms.moderate",
        /// Server: delete rooms, edit official rooms (name, official, auto-join), rename
        /// categories.
        RoomsManage = "rooms.manage",
        /// Server: the server's identity and statistics (`GET /admin/server`).
        ServerView = "server.view",
        /// Server: search users and see a user's detail (`GET /admin/users…`).
        UsersView = "users.view",
        /// Server: create users, issue password reset links, deactivate and reactivate accounts.
        UsersManage = "users.manage",
        /// Server: force logout, suspend, mute server-wide and shadowban (moderators: plain
        /// members only).
        UsersModerate = "users.moderate",
        /// Server: change live settings and manage invite links (`/admin/settings`,
        /// `/admin/invites`).
        SettingsManage = "settings.manage",
        /// Server: send announcements to everyone online (`POST /admin/broadcast`).
        BroadcastSend = "broadcast.send",
        /// Server: the moderation queue of reported messages (`/admin/reports`).
        ReportsReview = "reports.review",
        /// Conversation: see its details (public rooms: anyone; else members and invitees).
        ConversationView = "conversation.view",
        /// Conversation: join it (public rooms: anyone; private rooms: invitees).
        ConversationJoin = "conversation.join",
        /// Conversation: read history and the member list.
        ConversationRead = "conversation.read",
        /// Conversation: post messages.
        MessageSend = "message.send",
        /// Conversation: invite users (rooms: any member; groups: owner and moderators).
        MemberInvite = "member.invite",
        /// Conversation: change the topic and category (owners, moderators, server moderators;
        /// groups: the name and topic, owner and moderators).
        ConversationUpdate = "conversation.update",
        /// Group: change a member's role (owner only; not the owner's own role).
        MemberRole = "member.role",
        /// Group: mute or unmute a member (owner: anyone but themselves; moderator: members).
        MemberMute = "member.mute",
        /// Group: remove a member (owner: anyone but themselves; moderator: members).
        MemberKick = "member.kick",
        /// Group: hand the ownership to another member (owner only).
        ConversationTransfer = "conversation.transfer",
        /// Conversation: delete other people's messages (rooms: owner, moderators and holders
        /// of `rooms.moderate`; groups: owner and moderators). Everyone may delete their own.
        MessageDelete = "message.delete",
        /// Room: ban a user (and lift a ban): owner, moderators and holders of
        /// `rooms.moderate`.
        MemberBan = "member.ban",
        /// Conversation: pin and unpin messages (rooms: owner, moderators and holders of
        /// `rooms.moderate`; groups: owner and moderators; DMs: both people).
        MessagePin = "message.pin",
    }
);

impl Permission {
    /// Whether the permission is granted server-wide (else per conversation).
    pub const fn is_server_scoped(self) -> bool {
        matches!(
            self,
            Self::AuditRead
                | Self::RolesManage
                | Self::RoomsCreate
                | Self::RoomsModerate
                | Self::RoomsManage
                | Self::ServerView
                | Self::UsersView
                | Self::UsersManage
                | Self::UsersModerate
                | Self::SettingsManage
                | Self::BroadcastSend
                | Self::ReportsReview
        )
    }

    /// Whether holding the permission opens the admin panel (every server permission but
    /// `rooms.create`): the web client shows the panel exactly when `GET /users/me` lists one.
    pub const fn opens_admin_panel(self) -> bool {
        self.is_server_scoped() && !matches!(self, Self::RoomsCreate)
    }
}

/// Where a permission is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// The whole server.
    Server,
    /// One conversation.
    Conversation(ConversationId),
}

/// The server permissions of a role.
pub fn server_permissions(role: ServerRole) -> &'static [Permission] {
    use Permission::*;
    match role {
        ServerRole::Admin => &[
            AuditRead,
            RolesManage,
            RoomsCreate,
            RoomsModerate,
            RoomsManage,
            ServerView,
            UsersView,
            UsersManage,
            UsersModerate,
            SettingsManage,
            BroadcastSend,
            ReportsReview,
        ],
        ServerRole::Moderator => &[
            RoomsCreate,
            RoomsModerate,
            UsersView,
            UsersModerate,
            ReportsReview,
        ],
        ServerRole::Member => &[RoomsCreate],
    }
}

/// A set of permissions (a bit per [`Permission`], in declaration order): the effective server
/// permissions of a user, the union of their built-in role's and their custom roles'.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PermissionSet(u64);

impl PermissionSet {
    fn bit(permission: Permission) -> u64 {
        let index = Permission::ALL
            .iter()
            .position(|p| *p == permission)
            .unwrap_or_default();
        1 << index
    }

    /// The permissions of a built-in server role.
    pub fn of_role(role: ServerRole) -> Self {
        Self::from_iter(server_permissions(role).iter().copied())
    }

    /// Whether `permission` is in the set.
    pub fn contains(self, permission: Permission) -> bool {
        self.0 & Self::bit(permission) != 0
    }

    /// Adds `permission`.
    pub fn insert(&mut self, permission: Permission) {
        self.0 |= Self::bit(permission);
    }

    /// The union of both sets.
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The permissions in the set, in declaration order.
    pub fn to_vec(self) -> Vec<Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(|p| self.contains(*p))
            .collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = Self::default();
        for permission in iter {
            set.insert(permission);
        }
        set
    }
}

/// What is known about a conversation, for a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationFacts {
    /// Room, group or DM.
    pub kind: ConversationKind,
    /// Public or private.
    pub visibility: Visibility,
    /// Rooms: nobody new may join (holders of `rooms.moderate` still may).
    pub locked: bool,
    /// Rooms: only the owner and moderators (and holders of `rooms.moderate`) may post.
    pub read_only: bool,
    /// Rooms: seconds a plain member waits between two messages (0 = off).
    pub slowmode_secs: i32,
    /// History was cleared up to this seq (0 = never): reads start after it.
    pub cleared_seq: i64,
}

impl ConversationFacts {
    /// The facts of a conversation without moderation settings (not locked, not read-only, no
    /// slowmode, never cleared).
    pub const fn plain(kind: ConversationKind, visibility: Visibility) -> Self {
        Self {
            kind,
            visibility,
            locked: false,
            read_only: false,
            slowmode_secs: 0,
            cleared_seq: 0,
        }
    }
}

/// What is known about a user's membership, for a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFacts {
    /// Whose membership (so [`decide`] can tell an action on oneself).
    pub user_id: UserId,
    /// Invited, joined, left or banned.
    pub state: MembershipState,
    /// Role inside the conversation.
    pub role: ConversationRole,
    /// Until when the member may not post; `None` (or a past time): not muted.
    pub muted_until: Option<Timestamp>,
}

impl MemberFacts {
    /// Whether the member is muted at `now`.
    pub fn muted_at(&self, now: Timestamp) -> bool {
        self.muted_until.is_some_and(|until| until > now)
    }
}

/// A block between the actor and the other user of a DM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockSide {
    /// I blocked the peer (whether or not they blocked me too).
    Mine,
    /// The peer blocked me.
    Theirs,
}

/// Everything [`decide`] looks at.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    /// The actor's effective server permissions (built-in role and custom roles).
    pub server: PermissionSet,
    /// Until when the actor is muted on the whole server (`message.send` is refused everywhere);
    /// `None` or a past time: not muted.
    pub server_muted_until: Option<Timestamp>,
    /// The conversation, when the scope is one and it exists.
    pub conversation: Option<ConversationFacts>,
    /// The actor's membership there, if any.
    pub member: Option<MemberFacts>,
    /// In a DM: a block between the actor and the peer, if any (`message.send` is refused).
    pub blocked: Option<BlockSide>,
    /// The membership acted on (`member.role`, `member.mute`, `member.kick`,
    /// `conversation.transfer`), when one is named. Without it those permissions are decided on
    /// the actor's role alone (what the client may offer at all).
    pub target: Option<MemberFacts>,
    /// The time of the decision (mutes end by themselves).
    pub now: Timestamp,
}

/// Decides a permission. Errors are the ones the caller should see:
/// - server scope: 403 `permission_denied`;
/// - conversation scope, when the caller may not even know the conversation exists (private
///   and not joined or invited, or missing): 404 `not_found`;
/// - a public room the caller has not joined: 403 `not_a_member`;
/// - a member whose role lacks the permission: 403 `permission_denied`;
/// - `message.send` in a DM with a block between the two users: 403 `blocked`.
/// - `message.send` by a muted member: 403 `muted` (the message says until when);
/// - groups: an invitee is not in the group yet, so every action but viewing and joining
///   answers 404 `not_found`;
/// - an action on a target (see [`Facts::target`]): 404 `not_found` when the target is not a
///   joined member, 422 `cannot_target_self` for kicking, muting or transferring to oneself,
///   403 `cannot_change_owner` for the owner's role, 403 `permission_denied` when the actor does
///   not outrank the target (owner > moderator > member; a moderator acts on members only).
pub fn decide(permission: Permission, facts: &Facts) -> Result<(), DomainError> {
    if permission.is_server_scoped() {
        return if facts.server.contains(permission) {
            Ok(())
        } else {
            Err(denied())
        };
    }
    let Some(conversation) = facts.conversation else {
        return Err(DomainError::NotFound("conversation"));
    };
    let state = facts.member.map(|m| m.state);
    let public_room = conversation.kind == ConversationKind::Room
        && conversation.visibility == Visibility::Public;
    match permission {
        Permission::ConversationView => {
            return match state {
                Some(MembershipState::Joined | MembershipState::Invited) => Ok(()),
                _ if public_room => Ok(()),
                _ => Err(DomainError::NotFound("conversation")),
            };
        }
        Permission::ConversationJoin => {
            let outcome = match state {
                Some(MembershipState::Banned) => Err(DomainError::forbidden(
                    ErrorCode::PermissionDenied,
                    "you were removed from this conversation",
                )),
                Some(MembershipState::Joined) => Ok(()),
                Some(MembershipState::Invited) if conversation.kind == ConversationKind::Group => {
                    Ok(())
                }
                _ if conversation.kind != ConversationKind::Room => {
                    Err(DomainError::NotFound("conversation"))
                }
                Some(MembershipState::Invited) => Ok(()),
                _ if public_room => Ok(()),
                Some(MembershipState::Left) => Err(DomainError::forbidden(
                    ErrorCode::NotInvited,
                    "this private room needs an invite",
                )),
                None => Err(DomainError::NotFound("conversation")),
            };
            return match outcome {
                Ok(())
                    if conversation.locked
                        && conversation.kind == ConversationKind::Room
                        && state != Some(MembershipState::Joined)
                        && !moderates_rooms(facts) =>
                {
                    Err(DomainError::forbidden(
                        ErrorCode::RoomLocked,
                        "this room is locked: nobody new may join",
                    ))
                }
                other => other,
            };
        }
        _ => {}
    }
    let joined = facts.member.filter(|m| m.state == MembershipState::Joined);
    let group = conversation.kind == ConversationKind::Group;
    // Holders of `rooms.moderate` moderate every room without joining it (the admin panel):
    // kick, ban and delete messages with the owner's rank. A non-member is never the target of
    // an action on a member (targets are joined), so the placeholder id below matches nobody.
    let joined = joined.or_else(|| {
        (conversation.kind == ConversationKind::Room
            && moderates_rooms(facts)
            && matches!(
                permission,
                Permission::MemberKick
                    | Permission::MemberBan
                    | Permission::MessageDelete
                    | Permission::MessagePin
            ))
        .then(|| MemberFacts {
            user_id: UserId(uuid::Uuid::nil()),
            state: MembershipState::Joined,
            role: ConversationRole::Owner,
            muted_until: None,
        })
    });
    let Some(member) = joined else {
        return Err(if state == Some(MembershipState::Invited) && !group {
            DomainError::forbidden(ErrorCode::NotAMember, "accept the invitation (join) first")
        } else if conversation.visibility == Visibility::Public {
            DomainError::forbidden(ErrorCode::NotAMember, "join this room first")
        } else {
            DomainError::NotFound("conversation")
        });
    };
    if permission == Permission::MessageSend && conversation.kind == ConversationKind::Dm {
        match facts.blocked {
            Some(BlockSide::Mine) => {
                return Err(DomainError::forbidden(
                    ErrorCode::Blocked,
                    "you blocked this user",
                ));
            }
            Some(BlockSide::Theirs) => {
                return Err(DomainError::forbidden(
                    ErrorCode::Blocked,
                    "this user does not accept your messages",
                ));
            }
            None => {}
        }
    }
    let moderates = facts.server.contains(Permission::RoomsModerate)
        && conversation.kind == ConversationKind::Room;
    let staff = member.role != ConversationRole::Member;
    let owner = member.role == ConversationRole::Owner;
    let allowed = match permission {
        Permission::ConversationView
        | Permission::ConversationJoin
        | Permission::ConversationRead => true,
        Permission::MessageSend => {
            if let Some(until) = facts.server_muted_until.filter(|u| *u > facts.now) {
                return Err(DomainError::forbidden(
                    ErrorCode::Muted,
                    format!("you are muted on this server until {}", until.to_rfc3339()),
                ));
            }
            if let Some(until) = member.muted_until.filter(|_| member.muted_at(facts.now)) {
                return Err(DomainError::forbidden(
                    ErrorCode::Muted,
                    format!("you are muted here until {}", until.to_rfc3339()),
                ));
            }
            if conversation.read_only
                && conversation.kind == ConversationKind::Room
                && !staff
                && !moderates
            {
                return Err(DomainError::forbidden(
                    ErrorCode::ReadOnly,
                    "this room is read-only: only its moderators may post",
                ));
            }
            true
        }
        Permission::MemberInvite => match conversation.kind {
            ConversationKind::Room => true,
            ConversationKind::Group => staff,
            ConversationKind::Dm => false,
        },
        Permission::ConversationUpdate => {
            conversation.kind != ConversationKind::Dm && (staff || moderates)
        }
        Permission::MemberRole | Permission::ConversationTransfer => group && owner,
        Permission::MemberMute => group && staff,
        Permission::MemberKick => {
            (group && staff)
                || (conversation.kind == ConversationKind::Room && (staff || moderates))
        }
        Permission::MessageDelete => match conversation.kind {
            ConversationKind::Room => staff || moderates,
            ConversationKind::Group => staff,
            ConversationKind::Dm => false,
        },
        Permission::MemberBan => {
            conversation.kind == ConversationKind::Room && (staff || moderates)
        }
        Permission::MessagePin => match conversation.kind {
            ConversationKind::Room => staff || moderates,
            ConversationKind::Group => staff,
            ConversationKind::Dm => true,
        },
        Permission::AuditRead
        | Permission::RolesManage
        | Permission::RoomsCreate
        | Permission::RoomsModerate
        | Permission::RoomsManage
        | Permission::ServerView
        | Permission::UsersView
        | Permission::UsersManage
        | Permission::UsersModerate
        | Permission::SettingsManage
        | Permission::BroadcastSend
        | Permission::ReportsReview => false,
    };
    if !allowed {
        return Err(denied());
    }
    match facts.target {
        Some(target) if permission.has_target() => {
            // In a room, holders of `rooms.moderate` act with the owner's rank.
            let actor = if moderates {
                MemberFacts {
                    role: ConversationRole::Owner,
                    ..member
                }
            } else {
                member
            };
            on_target(permission, &actor, &target)
        }
        _ => Ok(()),
    }
}

/// Whether the actor holds the server permission `rooms.moderate` (moderates every room: lock,
/// read-only, slowmode, kick, ban, delete messages; exempt from read-only and slowmode).
pub fn moderates_rooms(facts: &Facts) -> bool {
    facts.server.contains(Permission::RoomsModerate)
}

/// Whether slowmode applies to the actor's sends: a room with slowmode, and the actor is neither
/// its owner or moderator nor a holder of `rooms.moderate`.
pub fn slowmode_applies(facts: &Facts) -> Option<u32> {
    let conversation = facts.conversation?;
    if conversation.kind != ConversationKind::Room || conversation.slowmode_secs <= 0 {
        return None;
    }
    let staff = facts
        .member
        .is_some_and(|m| m.role != ConversationRole::Member);
    if staff || moderates_rooms(facts) {
        return None;
    }
    u32::try_from(conversation.slowmode_secs).ok()
}

impl Permission {
    /// Whether the permission acts on another member ([`Facts::target`]).
    pub const fn has_target(self) -> bool {
        matches!(
            self,
            Self::MemberRole | Self::MemberMute | Self::MemberKick | Self::ConversationTransfer
        )
    }
}

/// The outranking rule, once the actor's role allows `permission` at all.
fn on_target(
    permission: Permission,
    actor: &MemberFacts,
    target: &MemberFacts,
) -> Result<(), DomainError> {
    if target.state != MembershipState::Joined {
        return Err(DomainError::NotFound("member"));
    }
    let myself = target.user_id == actor.user_id;
    match permission {
        Permission::MemberRole if target.role == ConversationRole::Owner => {
            Err(DomainError::forbidden(
                ErrorCode::CannotChangeOwner,
                "the owner's role cannot be changed; transfer the ownership instead",
            ))
        }
        Permission::MemberRole => Ok(()),
        _ if myself => Err(DomainError::invalid(
            ErrorCode::CannotTargetSelf,
            match permission {
                Permission::MemberKick => "you cannot kick yourself; leave instead",
                Permission::MemberMute => "you cannot mute yourself",
                _ => "you already own this group",
            },
        )),
        Permission::ConversationTransfer => Ok(()),
        _ => {
            let outranks = match actor.role {
                ConversationRole::Owner => true,
                ConversationRole::Moderator => target.role == ConversationRole::Member,
                ConversationRole::Member => false,
            };
            if outranks {
                Ok(())
            } else {
                Err(DomainError::forbidden(
                    ErrorCode::PermissionDenied,
                    "you can only do this to members below your role",
                ))
            }
        }
    }
}

/// The conversation permissions `facts` grant (what the web client may offer there).
/// `conversation.join` is listed only when joining would change something (joining again is an
/// allowed no-op, but not an action to offer).
pub fn conversation_permissions(facts: &Facts) -> Vec<Permission> {
    let joined = facts
        .member
        .is_some_and(|m| m.state == MembershipState::Joined);
    Permission::ALL
        .iter()
        .copied()
        .filter(|p| !p.is_server_scoped() && decide(*p, facts).is_ok())
        .filter(|p| !(joined && *p == Permission::ConversationJoin))
        .collect()
}

fn denied() -> DomainError {
    DomainError::forbidden(ErrorCode::PermissionDenied, "your role does not allow this")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(
        server_role: ServerRole,
        kind: ConversationKind,
        visibility: Visibility,
        member: Option<(MembershipState, ConversationRole)>,
    ) -> Facts {
        Facts {
            server: PermissionSet::of_role(server_role),
            server_muted_until: None,
            conversation: Some(ConversationFacts::plain(kind, visibility)),
            blocked: None,
            member: member.map(|(state, role)| MemberFacts {
                user_id: UserId::new(),
                state,
                role,
                muted_until: None,
            }),
            target: None,
            now: Timestamp::now(),
        }
    }

    #[test]
    fn server_permissions_follow_the_role() {
        let f = |role| Facts {
            server: PermissionSet::of_role(role),
            server_muted_until: None,
            conversation: None,
            member: None,
            blocked: None,
            target: None,
            now: Timestamp::now(),
        };
        assert!(decide(Permission::AuditRead, &f(ServerRole::Admin)).is_ok());
        assert!(decide(Permission::AuditRead, &f(ServerRole::Moderator)).is_err());
        assert!(decide(Permission::RolesManage, &f(ServerRole::Member)).is_err());
        assert!(decide(Permission::RoomsCreate, &f(ServerRole::Member)).is_ok());
    }

    #[test]
    fn non_members_learn_only_what_they_may_know() {
        use ConversationKind::*;
        use MembershipState::*;
        let public = facts(ServerRole::Member, Room, Visibility::Public, None);
        assert!(decide(Permission::ConversationView, &public).is_ok());
        assert!(decide(Permission::ConversationJoin, &public).is_ok());
        let private = facts(ServerRole::Member, Room, Visibility::Private, None);
        let invited = facts(
            ServerRole::Member,
            Room,
            Visibility::Private,
            Some((Invited, ConversationRole::Member)),
        );
        let left = facts(
            ServerRole::Admin,
            Room,
            Visibility::Private,
            Some((Left, ConversationRole::Owner)),
        );
        let code = |f: &Facts| decide(Permission::MessageSend, f).err().map(|e| e.code());
        assert_eq!(code(&public), Some(ErrorCode::NotAMember));
        assert_eq!(code(&private), Some(ErrorCode::NotFound));
        assert_eq!(code(&invited), Some(ErrorCode::NotAMember));
        assert_eq!(code(&left), Some(ErrorCode::NotFound));
        let join = |f: &Facts| {
            decide(Permission::ConversationJoin, f)
                .err()
                .map(|e| e.code())
        };
        assert_eq!(join(&private), Some(ErrorCode::NotFound));
        assert_eq!(join(&invited), None);
        assert_eq!(join(&left), Some(ErrorCode::NotInvited));
    }

    #[test]
    fn settings_need_a_role_members_need_nothing_more_to_talk() {
        use ConversationKind::*;
        let member = |server, role| {
            facts(
                server,
                Room,
                Visibility::Public,
                Some((MembershipState::Joined, role)),
            )
        };
        let plain = member(ServerRole::Member, ConversationRole::Member);
        assert!(decide(Permission::MessageSend, &plain).is_ok());
        assert!(decide(Permission::MemberInvite, &plain).is_ok());
        assert!(decide(Permission::ConversationUpdate, &plain).is_err());
        let owner = member(ServerRole::Member, ConversationRole::Owner);
        assert!(decide(Permission::ConversationUpdate, &owner).is_ok());
        let server_mod = member(ServerRole::Moderator, ConversationRole::Member);
        assert!(decide(Permission::ConversationUpdate, &server_mod).is_ok());
        let dm = facts(
            ServerRole::Admin,
            Dm,
            Visibility::Private,
            Some((MembershipState::Joined, ConversationRole::Member)),
        );
        assert!(decide(Permission::MemberInvite, &dm).is_err());
        assert!(decide(Permission::MessageSend, &dm).is_ok());
        for side in [BlockSide::Mine, BlockSide::Theirs] {
            let blocked = Facts {
                blocked: Some(side),
                ..dm
            };
            let err = decide(Permission::MessageSend, &blocked).err();
            assert_eq!(err.map(|e| e.code()), Some(ErrorCode::Blocked));
            assert!(decide(Permission::ConversationRead, &blocked).is_ok());
        }
        assert_eq!(
            conversation_permissions(&plain),
            vec![
                Permission::ConversationView,
                Permission::ConversationRead,
                Permission::MessageSend,
                Permission::MemberInvite
            ]
        );
    }

    /// Who acts in a group, for the role × action table.
    #[derive(Clone, Copy, Debug)]
    enum Who {
        Owner,
        Moderator,
        Member,
        Invited,
        Stranger,
    }

    fn group_member(who: Who) -> Option<MemberFacts> {
        let (state, role) = match who {
            Who::Owner => (MembershipState::Joined, ConversationRole::Owner),
            Who::Moderator => (MembershipState::Joined, ConversationRole::Moderator),
            Who::Member => (MembershipState::Joined, ConversationRole::Member),
            Who::Invited => (MembershipState::Invited, ConversationRole::Member),
            Who::Stranger => return None,
        };
        Some(MemberFacts {
            user_id: UserId::new(),
            state,
            role,
            muted_until: None,
        })
    }

    fn in_group(actor: Option<MemberFacts>, target: Option<MemberFacts>) -> Facts {
        Facts {
            server: PermissionSet::of_role(ServerRole::Admin),
            server_muted_until: None,
            conversation: Some(ConversationFacts::plain(
                ConversationKind::Group,
                Visibility::Private,
            )),
            member: actor,
            blocked: None,
            target,
            now: Timestamp::now(),
        }
    }

    fn outcome(permission: Permission, facts: &Facts) -> &'static str {
        match decide(permission, facts) {
            Ok(()) => "ok",
            Err(e) => e.code().as_str(),
        }
    }

    #[test]
    fn group_actions_without_a_target_follow_the_role() {
        use Permission::*;
        use Who::*;
        let actions = [
            ConversationView,
            ConversationRead,
            MessageSend,
            MemberInvite,
            ConversationUpdate,
            MemberRole,
            MemberMute,
            MemberKick,
            ConversationTransfer,
        ];
        // One row per actor, one column per action above (a server admin changes nothing).
        let table: [(Who, [&str; 9]); 5] = [
            (
                Owner,
                ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"],
            ),
            (
                Moderator,
                [
                    "ok",
                    "ok",
                    "ok",
                    "ok",
                    "ok",
                    "permission_denied",
                    "ok",
                    "ok",
                    "permission_denied",
                ],
            ),
            (
                Member,
                [
                    "ok",
                    "ok",
                    "ok",
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                ],
            ),
            (
                Invited,
                [
                    "ok",
                    "not_found",
                    "not_found",
                    "not_found",
                    "not_found",
                    "not_found",
                    "not_found",
                    "not_found",
                    "not_found",
                ],
            ),
            (
                Stranger,
                [
                    "not_found",
                    "not_found",
                    "not_found",
                    "not_found",
                    "not_found",
                    "not_found",
                    "not_found",
                    "not_found",
                    "not_found",
                ],
            ),
        ];
        for (who, row) in table {
            let facts = in_group(group_member(who), None);
            for (action, expected) in actions.iter().zip(row) {
                assert_eq!(outcome(*action, &facts), expected, "{who:?} {action:?}");
            }
        }
    }

    #[test]
    fn outranking_decides_actions_on_members() {
        use Permission::*;
        use Who::*;
        // (actor, target, [member.role, member.mute, member.kick, conversation.transfer])
        let table: [(Who, Who, [&str; 4]); 9] = [
            (Owner, Moderator, ["ok", "ok", "ok", "ok"]),
            (Owner, Member, ["ok", "ok", "ok", "ok"]),
            (
                Moderator,
                Member,
                ["permission_denied", "ok", "ok", "permission_denied"],
            ),
            (
                Moderator,
                Moderator,
                [
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                ],
            ),
            (
                Moderator,
                Owner,
                [
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                ],
            ),
            (
                Member,
                Member,
                [
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                ],
            ),
            (
                Member,
                Owner,
                [
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                    "permission_denied",
                ],
            ),
            (
                Owner,
                Invited,
                ["not_found", "not_found", "not_found", "not_found"],
            ),
            (
                Moderator,
                Invited,
                [
                    "permission_denied",
                    "not_found",
                    "not_found",
                    "permission_denied",
                ],
            ),
        ];
        for (actor, target, row) in table {
            let facts = in_group(group_member(actor), group_member(target));
            for (action, expected) in [MemberRole, MemberMute, MemberKick, ConversationTransfer]
                .iter()
                .zip(row)
            {
                assert_eq!(
                    outcome(*action, &facts),
                    expected,
                    "{actor:?} {action:?} on {target:?}"
                );
            }
        }
    }

    #[test]
    fn nobody_acts_on_themselves_and_the_owner_keeps_the_role() {
        use Permission::*;
        for who in [Who::Owner, Who::Moderator] {
            let me = group_member(who);
            let facts = in_group(me, me);
            assert_eq!(outcome(MemberKick, &facts), "cannot_target_self", "{who:?}");
            assert_eq!(outcome(MemberMute, &facts), "cannot_target_self", "{who:?}");
        }
        let owner = group_member(Who::Owner);
        let facts = in_group(owner, owner);
        assert_eq!(outcome(MemberRole, &facts), "cannot_change_owner");
        assert_eq!(outcome(ConversationTransfer, &facts), "cannot_target_self");
    }

    #[test]
    fn a_muted_member_reads_but_does_not_post_until_the_mute_ends() {
        let now = Timestamp::now();
        let mut member = group_member(Who::Member);
        if let Some(m) = member.as_mut() {
            m.muted_until = Some(Timestamp(now.0 + chrono::Duration::seconds(60)));
        }
        let mut facts = in_group(member, None);
        facts.now = now;
        let err = decide(Permission::MessageSend, &facts).err();
        assert_eq!(err.as_ref().map(DomainError::code), Some(ErrorCode::Muted));
        assert!(err.is_some_and(|e| e.to_string().contains("until")));
        assert!(decide(Permission::ConversationRead, &facts).is_ok());
        assert!(!conversation_permissions(&facts).contains(&Permission::MessageSend));
        facts.now = Timestamp(now.0 + chrono::Duration::seconds(61));
        assert!(decide(Permission::MessageSend, &facts).is_ok());
    }

    #[test]
    fn rooms_keep_their_rules() {
        let room = facts(
            ServerRole::Moderator,
            ConversationKind::Room,
            Visibility::Private,
            Some((MembershipState::Joined, ConversationRole::Member)),
        );
        assert!(decide(Permission::MemberInvite, &room).is_ok());
        assert!(decide(Permission::ConversationUpdate, &room).is_ok());
        assert!(
            decide(Permission::MemberKick, &room).is_ok(),
            "rooms.moderate kicks in rooms"
        );
        assert!(decide(Permission::MemberBan, &room).is_ok());
        assert!(decide(Permission::MessageDelete, &room).is_ok());
        assert!(decide(Permission::ConversationTransfer, &room).is_err());
    }

    #[test]
    fn locked_read_only_and_slowmode_spare_moderators() {
        let room = |server, state: Option<MembershipState>, role| {
            let mut f = facts(
                server,
                ConversationKind::Room,
                Visibility::Public,
                state.map(|s| (s, role)),
            );
            f.conversation = f.conversation.map(|c| ConversationFacts {
                locked: true,
                read_only: true,
                slowmode_secs: 30,
                ..c
            });
            f
        };
        let code = |p, f: &Facts| decide(p, f).err().map(|e| e.code());
        let stranger = room(ServerRole::Member, None, ConversationRole::Member);
        assert_eq!(
            code(Permission::ConversationJoin, &stranger),
            Some(ErrorCode::RoomLocked)
        );
        let server_mod = room(ServerRole::Moderator, None, ConversationRole::Member);
        assert_eq!(code(Permission::ConversationJoin, &server_mod), None);
        let member = room(
            ServerRole::Member,
            Some(MembershipState::Joined),
            ConversationRole::Member,
        );
        assert_eq!(code(Permission::ConversationJoin, &member), None);
        assert_eq!(
            code(Permission::MessageSend, &member),
            Some(ErrorCode::ReadOnly)
        );
        assert_eq!(slowmode_applies(&member), Some(30));
        assert_eq!(
            code(Permission::MemberKick, &member),
            Some(ErrorCode::PermissionDenied)
        );
        let owner = room(
            ServerRole::Member,
            Some(MembershipState::Joined),
            ConversationRole::Owner,
        );
        assert_eq!(code(Permission::MessageSend, &owner), None);
        assert_eq!(slowmode_applies(&owner), None);
        let joined_mod = room(
            ServerRole::Moderator,
            Some(MembershipState::Joined),
            ConversationRole::Member,
        );
        assert_eq!(code(Permission::MessageSend, &joined_mod), None);
        assert_eq!(slowmode_applies(&joined_mod), None);
    }
}
