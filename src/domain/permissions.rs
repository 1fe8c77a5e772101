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
    ServerRole, Visibility,
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
        /// Server: moderate every room (edit settings of rooms one does not own).
        RoomsModerate = "rooms.moderate",
        /// Conversation: see its details (public rooms: anyone; else members and invitees).
        ConversationView = "conversation.view",
        /// Conversation: join it (public rooms: anyone; private rooms: invitees).
        ConversationJoin = "conversation.join",
        /// Conversation: read history and the member list.
        ConversationRead = "conversation.read",
        /// Conversation: post messages.
        MessageSend = "message.send",
        /// Conversation: invite users (rooms).
        MemberInvite = "member.invite",
        /// Conversation: change the topic and category (owners, moderators, server moderators).
        ConversationUpdate = "conversation.update",
    }
);

impl Permission {
    /// Whether the permission is granted server-wide (else per conversation).
    pub const fn is_server_scoped(self) -> bool {
        matches!(
            self,
            Self::AuditRead | Self::RolesManage | Self::RoomsCreate | Self::RoomsModerate
        )
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
        ServerRole::Admin => &[AuditRead, RolesManage, RoomsCreate, RoomsModerate],
        ServerRole::Moderator => &[RoomsCreate, RoomsModerate],
        ServerRole::Member => &[RoomsCreate],
    }
}

/// What is known about a conversation, for a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationFacts {
    /// Room, group or DM.
    pub kind: ConversationKind,
    /// Public or private.
    pub visibility: Visibility,
}

/// What is known about a user's membership, for a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberFacts {
    /// Invited, joined, left or banned.
    pub state: MembershipState,
    /// Role inside the conversation.
    pub role: ConversationRole,
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
    /// The actor's server role.
    pub server_role: ServerRole,
    /// The conversation, when the scope is one and it exists.
    pub conversation: Option<ConversationFacts>,
    /// The actor's membership there, if any.
    pub member: Option<MemberFacts>,
    /// In a DM: a block between the actor and the peer, if any (`message.send` is refused).
    pub blocked: Option<BlockSide>,
}

/// Decides a permission. Errors are the ones the caller should see:
/// - server scope: 403 `permission_denied`;
/// - conversation scope, when the caller may not even know the conversation exists (private
///   and not joined or invited, or missing): 404 `not_found`;
/// - a public room the caller has not joined: 403 `not_a_member`;
/// - a member whose role lacks the permission: 403 `permission_denied`;
/// - `message.send` in a DM with a block between the two users: 403 `blocked`.
pub fn decide(permission: Permission, facts: &Facts) -> Result<(), DomainError> {
    if permission.is_server_scoped() {
        return if server_permissions(facts.server_role).contains(&permission) {
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
            return match state {
                Some(MembershipState::Banned) => Err(DomainError::forbidden(
                    ErrorCode::PermissionDenied,
                    "you were removed from this conversation",
                )),
                Some(MembershipState::Joined) => Ok(()),
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
        }
        _ => {}
    }
    let joined = facts.member.filter(|m| m.state == MembershipState::Joined);
    let Some(member) = joined else {
        return Err(if state == Some(MembershipState::Invited) {
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
    let moderates = server_permissions(facts.server_role).contains(&Permission::RoomsModerate);
    let allowed = match permission {
        Permission::ConversationView
        | Permission::ConversationJoin
        | Permission::ConversationRead
        | Permission::MessageSend => true,
        Permission::MemberInvite => conversation.kind != ConversationKind::Dm,
        Permission::ConversationUpdate => {
            conversation.kind != ConversationKind::Dm
                && (member.role != ConversationRole::Member || moderates)
        }
        Permission::AuditRead
        | Permission::RolesManage
        | Permission::RoomsCreate
        | Permission::RoomsModerate => false,
    };
    if allowed { Ok(()) } else { Err(denied()) }
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
            server_role,
            conversation: Some(ConversationFacts { kind, visibility }),
            member: member.map(|(state, role)| MemberFacts { state, role }),
            blocked: None,
        }
    }

    #[test]
    fn server_permissions_follow_the_role() {
        let f = |role| Facts {
            server_role: role,
            conversation: None,
            member: None,
            blocked: None,
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
}
