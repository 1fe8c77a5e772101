//! Rooms: creating, joining, leaving, invitations and settings (the public directory is in
//! `directory`).

use super::{
    ConversationService, NewRoomInput, RoomSettingsInput,
    views::{Caller, view_of},
};
use crate::service::{limits::Limit, uow::Work};
use crate::{
    domain::{
        Actor, AuditAction, AuditTarget, Conversation, ConversationId, ConversationKind,
        ConversationRole, DomainError, ErrorCode, MembershipState, Permission, RoomName, Scope,
        User, UserId, Username, optional_text,
    },
    events::Event,
    store::{
        conversations::{self, ConversationRecord},
        members::{self, MemberRecord},
        users::{self, UserRecord},
    },
};

/// Longest topic, in characters.
pub const TOPIC_MAX_CHARS: usize = 512;
/// Longest category, in characters.
pub const CATEGORY_MAX_CHARS: usize = 64;
/// Longest directory search, in characters.
pub const QUERY_MAX_CHARS: usize = 64;

impl ConversationService {
    /// Joins a new account to the auto-join rooms, inside the registration's unit of work.
    pub async fn auto_join(&self, work: &mut Work, user: &UserRecord) -> Result<(), DomainError> {
        for room in conversations::auto_join(work.db()).await? {
            let membership = MemberRecord {
                conversation_id: room.id,
                user_id: user.id,
                role: ConversationRole::Member,
                state: MembershipState::Joined,
                last_read_seq: room.last_seq,
                updated_at: work.now(),
                muted_until: None,
                invited_by: None,
                receipt_seq: 0,
                notify: crate::domain::NotifyLevel::All,
            };
            members::upsert(work.db(), &membership).await?;
            let count = self.count(work.db(), room.id).await?;
            let caller = Caller {
                role: user.role,
                member: Some(&membership),
                inviter: None,
            };
            work.publish(Event::MemberJoined {
                user: user.view(),
                role: membership.role,
                view: view_of(&room, count, &caller, None),
            });
        }
        Ok(())
    }

    /// Creates a room; the creator joins as owner. One unit of work: the room, the owner's
    /// membership and the audit record commit together. Errors: 403 `permission_denied`,
    /// 429 `rate_limited` (`rooms_per_user`, every attempt counts), 422
    /// `invalid_room_name`/`invalid_topic`/`invalid_category`, 409 `room_name_taken` (also for a
    /// name that looks like an official room's).
    pub async fn create_room(
        &self,
        actor: &Actor,
        input: NewRoomInput,
    ) -> Result<Conversation, DomainError> {
        self.access
            .require(actor, Permission::RoomsCreate, Scope::Server)
            .await?;
        self.limits
            .check(Limit::RoomCreate, &actor.user.to_string())
            .await?;
        let name = RoomName::parse(&input.name)?;
        let topic = optional_text(input.topic, TOPIC_MAX_CHARS, ErrorCode::InvalidTopic)?;
        let category = optional_text(
            input.category,
            CATEGORY_MAX_CHARS,
            ErrorCode::InvalidCategory,
        )?;
        let skeleton = name.skeleton();
        if let Some((_, official)) = self.official.iter().find(|(s, _)| *s == skeleton) {
            return Err(DomainError::conflict(
                ErrorCode::RoomNameTaken,
                format!("the name is too similar to the official room {official:?}"),
            ));
        }
        self.uow
            .run(async |work| {
                let owner = crate::service::active_account(work.db(), actor.user).await?;
                let room = conversations::insert_room(
                    work.db(),
                    conversations::NewRoom {
                        name: &name,
                        visibility: input.visibility,
                        topic,
                        category,
                        created_by: actor.user,
                        now: work.now(),
                    },
                )
                .await?;
                let view = self
                    .start_with_owner(
                        work,
                        actor,
                        &owner,
                        &room,
                        AuditAction::RoomCreated,
                        serde_json::json!({"name": name.as_str(), "visibility": input.visibility}),
                    )
                    .await?;
                // A public room shows up in everyone's directory (`room_listed`).
                self.publish_listing(work, room.id).await?;
                Ok(view)
            })
            .await
    }

    /// The rest of creating a room or group, in its unit of work: the creator's owner
    /// membership, the audit record (`action` with `details`), and the events
    /// (`ConversationCreated`, then the owner's `MemberJoined`). Returns the owner's view.
    pub(super) async fn start_with_owner(
        &self,
        work: &mut Work,
        actor: &Actor,
        owner: &UserRecord,
        row: &ConversationRecord,
        action: AuditAction,
        details: serde_json::Value,
    ) -> Result<Conversation, DomainError> {
        let membership = MemberRecord {
            conversation_id: row.id,
            user_id: actor.user,
            role: ConversationRole::Owner,
            state: MembershipState::Joined,
            last_read_seq: 0,
            updated_at: work.now(),
            muted_until: None,
            invited_by: None,
            receipt_seq: 0,
            notify: crate::domain::NotifyLevel::All,
        };
        members::upsert(work.db(), &membership).await?;
        work.audit(
            Some(actor),
            action,
            Some(AuditTarget::Conversation(row.id)),
            details,
        )
        .await?;
        let caller = Caller {
            role: owner.role,
            member: Some(&membership),
            inviter: None,
        };
        let view = view_of(row, 1, &caller, None);
        work.publish(Event::ConversationCreated {
            conversation_id: row.id,
            kind: row.kind,
            visibility: row.visibility,
            created_by: Some(actor.user),
        });
        work.publish(Event::MemberJoined {
            user: owner.view(),
            role: ConversationRole::Owner,
            view: view.clone(),
        });
        Ok(view)
    }

    /// Joins a room: public rooms are open, private rooms need an invite. Joining again is a
    /// no-op (and is not counted). Errors: 404 `not_found`, 403 `not_invited`, 429
    /// `rate_limited` (`joins_per_user`).
    pub async fn join(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<Conversation, DomainError> {
        self.access
            .require_in(actor, Permission::ConversationJoin, id)
            .await?;
        // Group invitations are accepted under /invitations (audited there), not here.
        if self
            .access
            .conversation(id)
            .await?
            .is_some_and(|c| c.kind == ConversationKind::Group)
        {
            return Err(DomainError::NotFound("conversation"));
        }
        let member = members::get(&self.db.read, id, actor.user).await?;
        if member
            .as_ref()
            .is_some_and(|m| m.state == MembershipState::Joined)
        {
            return self.view_for(actor, id).await;
        }
        self.limits
            .check(Limit::Join, &actor.user.to_string())
            .await?;
        let role = member.map_or(ConversationRole::Member, |m| m.role);
        self.uow
            .run(async |work| {
                let room = conversations::by_id(work.db(), id)
                    .await?
                    .ok_or(DomainError::NotFound("conversation"))?;
                let user = crate::service::active_account(work.db(), actor.user).await?;
                let membership = MemberRecord {
                    conversation_id: id,
                    user_id: actor.user,
                    role,
                    state: MembershipState::Joined,
                    last_read_seq: room.last_seq,
                    updated_at: work.now(),
                    muted_until: None,
                    invited_by: None,
                    receipt_seq: 0,
                    notify: crate::domain::NotifyLevel::All,
                };
                // A re-join keeps the old read position: the stored row has it.
                let membership = members::upsert(work.db(), &membership).await?;
                let count = self.count(work.db(), id).await?;
                let caller = Caller {
                    role: user.role,
                    member: Some(&membership),
                    inviter: None,
                };
                let view = view_of(&room, count, &caller, None);
                work.publish(Event::MemberJoined {
                    user: user.view(),
                    role,
                    view: view.clone(),
                });
                Ok(view)
            })
            .await
    }

    /// Leaves a room (or declines an invitation). Errors: 404 when not a member of a room.
    pub async fn leave(&self, actor: &Actor, id: ConversationId) -> Result<(), DomainError> {
        self.uow
            .run(async |work| {
                let room = conversations::by_id(work.db(), id).await?;
                let state = members::get(work.db(), id, actor.user)
                    .await?
                    .map(|m| m.state);
                let is_room = room.is_some_and(|r| r.kind == ConversationKind::Room);
                let was = match state {
                    Some(s @ (MembershipState::Joined | MembershipState::Invited)) if is_room => s,
                    _ => return Err(DomainError::NotFound("conversation")),
                };
                members::set_state(work.db(), id, actor.user, MembershipState::Left, work.now())
                    .await?;
                work.publish(Event::departure(id, actor.user, was));
                Ok(())
            })
            .await
    }

    /// Invites `username` to a room the caller is in; returns the invitee's id. Inviting someone
    /// already invited sends the invitation again. Errors: 404 (room or user), 403
    /// `permission_denied`, 409 `already_member`, 409 `too_many_pending_invites` (the recipient
    /// already has `max_pending_invites_per_recipient` pending invitations), 429 `rate_limited`
    /// (`invites_per_user`, every attempt counts). An invitation between users with a block
    /// between them (either direction) answers like a success but stores nothing and tells
    /// nobody.
    pub async fn invite(
        &self,
        actor: &Actor,
        id: ConversationId,
        username: &str,
    ) -> Result<User, DomainError> {
        self.invite_to(actor, id, username, ConversationKind::Room)
            .await
    }

    /// Invites `username` to the conversation `id` of kind `kind` (room or group; another kind
    /// is 404). The invitation remembers who sent it (`invited_by`). Errors: as [`Self::invite`].
    pub(super) async fn invite_to(
        &self,
        actor: &Actor,
        id: ConversationId,
        username: &str,
        kind: ConversationKind,
    ) -> Result<User, DomainError> {
        self.access
            .require_in(actor, Permission::MemberInvite, id)
            .await?;
        self.limits
            .check(Limit::Invite, &actor.user.to_string())
            .await?;
        let name = Username::parse(username).map_err(|_| DomainError::NotFound("user"))?;
        let target = users::by_username(&self.db.read, name.as_str())
            .await?
            .filter(UserRecord::is_active)
            .ok_or(DomainError::NotFound("user"))?;
        if self.access.blocked_between(actor.user, target.id).await? {
            // Answered like a stored invitation, so the block is not revealed; nothing is
            // stored and nobody is told.
            return Ok(target.view());
        }
        self.uow
            .run(async |work| {
                let room = conversations::by_id(work.db(), id)
                    .await?
                    .filter(|r| r.kind == kind)
                    .ok_or(DomainError::NotFound("conversation"))?;
                let inviter = crate::service::active_account(work.db(), actor.user).await?;
                let existing = members::get(work.db(), id, target.id).await?;
                let membership = match existing {
                    Some(m) if m.state == MembershipState::Joined => {
                        return Err(DomainError::conflict(
                            ErrorCode::AlreadyMember,
                            "that user is already a member",
                        ));
                    }
                    Some(m) if m.state == MembershipState::Invited => m,
                    Some(m) if m.state == MembershipState::Banned => {
                        return Err(DomainError::forbidden(
                            ErrorCode::PermissionDenied,
                            "that user is banned from this room; a moderator must lift the ban first",
                        ));
                    }
                    _ => {
                        self.check_pending_invites(work, target.id).await?;
                        let m = MemberRecord {
                            conversation_id: id,
                            user_id: target.id,
                            role: ConversationRole::Member,
                            state: MembershipState::Invited,
                            last_read_seq: room.last_seq,
                            updated_at: work.now(),
                            muted_until: None,
                            invited_by: Some(actor.user),
                            receipt_seq: 0,
                            notify: crate::domain::NotifyLevel::All,
                        };
                        members::upsert(work.db(), &m).await?;
                        m
                    }
                };
                let action = if kind == ConversationKind::Group {
                    AuditAction::MemberInvited
                } else {
                    AuditAction::RoomInvite
                };
                work.audit(
                    Some(actor),
                    action,
                    Some(AuditTarget::Conversation(id)),
                    serde_json::json!({"user_id": target.id, "username": target.username}),
                )
                .await?;
                let count = self.count(work.db(), id).await?;
                let shown_inviter = membership
                    .invited_by
                    .filter(|by| *by == inviter.id)
                    .map(|_| &inviter);
                let caller = Caller {
                    role: target.role,
                    member: Some(&membership),
                    inviter: shown_inviter,
                };
                work.publish(Event::MemberInvited {
                    user_id: target.id,
                    view: view_of(&room, count, &caller, None),
                });
                Ok(target.view())
            })
            .await
    }

    /// Refuses a new invitation for `user` when they already have the most pending ones
    /// allowed. There are no contacts yet, so the cap applies to every inviter. Errors: 409
    /// `too_many_pending_invites`.
    async fn check_pending_invites(&self, work: &Work, user: UserId) -> Result<(), DomainError> {
        let max = u64::from(self.limits.caps().max_pending_invites_per_recipient);
        if max > 0 && members::pending_invites(work.db(), user).await? >= max {
            return Err(DomainError::conflict(
                ErrorCode::TooManyPendingInvites,
                format!("that user already has {max} pending invitations"),
            ));
        }
        Ok(())
    }

    /// Changes a room's topic and category. Errors: 404, 403 `not_a_member`/`permission_denied`,
    /// 422 `invalid_topic`/`invalid_category`.
    pub async fn update_room(
        &self,
        actor: &Actor,
        id: ConversationId,
        input: RoomSettingsInput,
    ) -> Result<Conversation, DomainError> {
        self.access
            .require_in(actor, Permission::ConversationUpdate, id)
            .await?;
        let topic = input
            .topic
            .map(|t| optional_text(Some(t), TOPIC_MAX_CHARS, ErrorCode::InvalidTopic))
            .transpose()?;
        let category = input
            .category
            .map(|c| optional_text(Some(c), CATEGORY_MAX_CHARS, ErrorCode::InvalidCategory))
            .transpose()?;
        self.uow
            .run(async |work| {
                // Groups have their own settings route (`PATCH /groups/{id}`, audited as such).
                let room = conversations::by_id(work.db(), id)
                    .await?
                    .filter(|r| r.kind == ConversationKind::Room)
                    .ok_or(DomainError::NotFound("conversation"))?;
                let topic = topic.unwrap_or(room.topic.clone());
                let category = category.unwrap_or(room.category.clone());
                conversations::update_settings(work.db(), id, topic.clone(), category.clone())
                    .await?;
                let mut details = serde_json::Map::new();
                for (key, value) in [("topic", &topic), ("category", &category)] {
                    if let Some(value) = value {
                        details.insert(key.into(), value.clone().into());
                    }
                }
                work.audit(
                    Some(actor),
                    AuditAction::RoomUpdated,
                    Some(AuditTarget::Conversation(id)),
                    details.into(),
                )
                .await?;
                work.publish(Event::ConversationUpdated {
                    conversation_id: id,
                    name: room.name.clone(),
                    topic,
                    category,
                    locked: room.locked,
                    read_only: room.read_only,
                    slowmode_secs: room.slowmode_secs,
                });
                self.publish_listing(work, id).await?;
                Ok(())
            })
            .await?;
        self.view_for(actor, id).await
    }
}
