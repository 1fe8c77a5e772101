//! Groups: private conversations with an owner, moderators and members. Creating, listing,
//! renaming, inviting and leaving; moderation (roles, ownership, mute, kick) is in
//! `moderation`, accepting and declining invitations in `invitations`.

use super::{ConversationService, GroupSettingsInput, NewGroupInput, TOPIC_MAX_CHARS};
use crate::{
    domain::{
        Actor, AuditAction, AuditTarget, Conversation, ConversationId, ConversationKind,
        ConversationRole, DomainError, ErrorCode, LeaveReason, MembershipState, Permission,
        RoomName, Scope, User, optional_text,
    },
    events::Event,
    service::limits::Limit,
    store::{
        conversations::{self, ConversationRecord},
        members,
    },
};

impl ConversationService {
    /// Creates a group; the creator joins as owner. The group, the membership and the audit
    /// record (`group.created`) commit together. Errors: 422 `invalid_room_name` (1–64 visible
    /// characters), `invalid_topic` (≤ 512 characters); 429 `rate_limited` (the room creation
    /// limit, `rooms_per_user`: groups count as rooms).
    pub async fn create_group(
        &self,
        actor: &Actor,
        input: NewGroupInput,
    ) -> Result<Conversation, DomainError> {
        self.access
            .require(actor, Permission::RoomsCreate, Scope::Server)
            .await?;
        let name = RoomName::parse(&input.name)?;
        let topic = optional_text(input.topic, TOPIC_MAX_CHARS, ErrorCode::InvalidTopic)?;
        self.limits
            .check(Limit::RoomCreate, &actor.user.to_string())
            .await?;
        self.uow
            .run(async |work| {
                let owner = crate::service::active_account(work.db(), actor.user).await?;
                let group =
                    conversations::insert_group(work.db(), &name, topic, actor.user, work.now())
                        .await?;
                self.start_with_owner(
                    work,
                    actor,
                    &owner,
                    &group,
                    AuditAction::GroupCreated,
                    serde_json::json!({"name": name.as_str()}),
                )
                .await
            })
            .await
    }

    /// My groups: the joined ones and the pending invitations, ordered by id.
    pub async fn list_groups(&self, actor: &Actor) -> Result<Vec<Conversation>, DomainError> {
        let mine = members::for_user(&self.db.read, actor.user, None, None).await?;
        let ids: Vec<ConversationId> = mine.iter().map(|m| m.conversation_id).collect();
        let mut rows: Vec<ConversationRecord> = conversations::by_ids(&self.db.read, &ids)
            .await?
            .into_iter()
            .filter(|r| r.kind == ConversationKind::Group)
            .collect();
        rows.sort_by_key(|r| r.id);
        self.views(actor, rows).await
    }

    /// 404 unless `id` is a group (from the permission caches): the routes under `/groups`
    /// take groups only, and a room id there is as unknown as a missing one.
    pub(super) async fn require_group(&self, id: ConversationId) -> Result<(), DomainError> {
        match self.access.conversation(id).await? {
            Some(facts) if facts.kind == ConversationKind::Group => Ok(()),
            _ => Err(DomainError::NotFound("conversation")),
        }
    }

    /// The group `id`, when it is one (else 404: the routes under `/groups` take groups only).
    pub(super) async fn group(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        id: ConversationId,
    ) -> Result<ConversationRecord, DomainError> {
        conversations::by_id_locked(db, id)
            .await?
            .filter(|c| c.kind == ConversationKind::Group)
            .ok_or(DomainError::NotFound("conversation"))
    }

    /// Renames a group or changes its topic (owner and moderators); audited as
    /// `group.updated`. Errors: 404 (not a group I am in), 403 `permission_denied`, 422
    /// `invalid_room_name`, `invalid_topic`.
    pub async fn update_group(
        &self,
        actor: &Actor,
        id: ConversationId,
        input: GroupSettingsInput,
    ) -> Result<Conversation, DomainError> {
        self.require_group(id).await?;
        self.access
            .require_in(actor, Permission::ConversationUpdate, id)
            .await?;
        self.group(&self.db.read, id).await?;
        let name = input.name.as_deref().map(RoomName::parse).transpose()?;
        let topic = input
            .topic
            .map(|t| optional_text(Some(t), TOPIC_MAX_CHARS, ErrorCode::InvalidTopic))
            .transpose()?;
        self.uow
            .run(async |work| {
                let group = self.group(work.db(), id).await?;
                let name = name
                    .as_ref()
                    .map(|n| n.as_str().to_owned())
                    .or(group.name.clone())
                    .unwrap_or_default();
                let topic = topic.unwrap_or(group.topic.clone());
                conversations::update_group(work.db(), id, &name, topic.clone()).await?;
                let mut details = serde_json::Map::new();
                details.insert("name".into(), name.clone().into());
                if let Some(topic) = &topic {
                    details.insert("topic".into(), topic.clone().into());
                }
                work.audit(
                    Some(actor),
                    AuditAction::GroupUpdated,
                    Some(AuditTarget::Conversation(id)),
                    details.into(),
                )
                .await?;
                work.publish(Event::ConversationUpdated {
                    conversation_id: id,
                    name: Some(name),
                    topic,
                    category: None,
                    locked: false,
                    read_only: false,
                    slowmode_secs: 0,
                });
                Ok(())
            })
            .await?;
        self.view_for(actor, id).await
    }

    /// Invites `username` to a group (owner and moderators); audited as `member.invited`.
    /// Errors: as [`Self::invite`] (404 also when `id` is not a group).
    pub async fn invite_to_group(
        &self,
        actor: &Actor,
        id: ConversationId,
        username: &str,
    ) -> Result<User, DomainError> {
        self.require_group(id).await?;
        self.invite_to(actor, id, username, ConversationKind::Group)
            .await
    }

    /// Leaves a group; audited as `member.left`. The owner must transfer the ownership first,
    /// unless they are the last member: then the group is left empty (conversation and
    /// messages are kept) and its pending invitations are withdrawn. Errors: 404 (not a group I am in), 409 `owner_must_transfer`.
    pub async fn leave_group(&self, actor: &Actor, id: ConversationId) -> Result<(), DomainError> {
        self.require_group(id).await?;
        self.access
            .require_in(actor, Permission::ConversationRead, id)
            .await?;
        self.uow
            .run(async |work| {
                self.group(work.db(), id).await?;
                let me = members::get(work.db(), id, actor.user)
                    .await?
                    .filter(|m| m.state == MembershipState::Joined)
                    .ok_or(DomainError::NotFound("conversation"))?;
                let count = self.count(work.db(), id).await?;
                if me.role == ConversationRole::Owner && count > 1 {
                    return Err(DomainError::conflict(
                        ErrorCode::OwnerMustTransfer,
                        "transfer the ownership to another member before leaving",
                    ));
                }
                members::set_state(work.db(), id, actor.user, MembershipState::Left, work.now())
                    .await?;
                if count <= 1 {
                    // Nobody is left: pending invitations go too (an invitee must not reopen
                    // an ownerless group and read its history).
                    for invitee in members::withdraw_invitations(work.db(), id, work.now()).await? {
                        work.publish(Event::departure(id, invitee, MembershipState::Invited));
                    }
                }
                work.audit(
                    Some(actor),
                    AuditAction::MemberLeft,
                    Some(AuditTarget::Conversation(id)),
                    serde_json::json!({"last": count <= 1}),
                )
                .await?;
                work.publish(Event::MemberLeft {
                    conversation_id: id,
                    user_id: actor.user,
                    reason: LeaveReason::Left,
                    by: None,
                });
                Ok(())
            })
            .await
    }
}
