//! Group moderation: roles, ownership, mute and kick. Each action is decided by the one
//! permission function with the target's membership (`Access::require_on`: the outranking rule
//! lives in `domain::permissions::decide`), audited in its transaction, and announced after
//! commit (`MemberUpdated`, `MemberLeft` with `reason: kicked`).

use chrono::Duration;

use super::{ConversationService, member_view};
use crate::{
    domain::{
        Actor, AuditAction, AuditTarget, Conversation, ConversationId, ConversationRole,
        DomainError, ErrorCode, LeaveReason, Member, MembershipState, Permission, Timestamp,
        UserId,
    },
    events::Event,
    service::uow::Work,
    store::{
        members::{self, MemberRecord},
        users,
    },
};

/// Longest mute: 30 days, in seconds.
pub const MUTE_MAX_SECS: i64 = 2_592_000;

impl ConversationService {
    /// One joined member of a group as `viewer` sees it listed (with `muted_until` while
    /// muted).
    async fn member_of(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        viewer: UserId,
        id: ConversationId,
        user: UserId,
    ) -> Result<Member, DomainError> {
        let membership = members::get(db, id, user)
            .await?
            .ok_or(DomainError::NotFound("member"))?;
        let account = users::by_id(db, user)
            .await?
            .ok_or(DomainError::NotFound("member"))?;
        Ok(member_view(
            &membership,
            account,
            self.presence.status(viewer, user),
            chrono::Utc::now(),
        ))
    }

    /// The joined membership of `user` in group `id`, read in the unit of work (the cached
    /// decision may be a moment old). Errors: 404.
    async fn joined(
        &self,
        work: &Work,
        id: ConversationId,
        user: UserId,
    ) -> Result<MemberRecord, DomainError> {
        self.group(work.db(), id).await?;
        members::get(work.db(), id, user)
            .await?
            .filter(|m| m.state == MembershipState::Joined)
            .ok_or(DomainError::NotFound("member"))
    }

    /// Gives `user` the role `role` (`moderator` or `member`; owner only); audited as
    /// `member.role_changed`. Errors: 404 (group or member), 403 `permission_denied`,
    /// 403 `cannot_change_owner` (the target is the owner), 422 `invalid_role` (`owner`: use
    /// the transfer).
    pub async fn set_member_role(
        &self,
        actor: &Actor,
        id: ConversationId,
        user: UserId,
        role: ConversationRole,
    ) -> Result<Member, DomainError> {
        self.require_group(id).await?;
        self.access
            .require_on(actor, Permission::MemberRole, id, user)
            .await?;
        if role == ConversationRole::Owner {
            return Err(DomainError::invalid(
                ErrorCode::InvalidRole,
                "a group has one owner: transfer the ownership instead",
            ));
        }
        self.uow
            .run(async |work| {
                let target = self.joined(work, id, user).await?;
                // Decided again on the rows read under the group's lock (the cached decision
                // may predate a concurrent transfer).
                if self.joined(work, id, actor.user).await?.role != ConversationRole::Owner {
                    return Err(denied());
                }
                if target.role == ConversationRole::Owner {
                    return Err(DomainError::forbidden(
                        ErrorCode::CannotChangeOwner,
                        "the owner's role cannot be changed; transfer the ownership instead",
                    ));
                }
                members::set_role(work.db(), id, user, role, work.now()).await?;
                work.audit(
                    Some(actor),
                    AuditAction::MemberRoleChanged,
                    Some(AuditTarget::Conversation(id)),
                    serde_json::json!({"user_id": user, "from": target.role, "to": role}),
                )
                .await?;
                work.publish(Event::MemberUpdated {
                    conversation_id: id,
                    user_id: user,
                    role,
                    muted_until: target.muted_at(work.now()).map(Timestamp),
                    by: actor.user,
                });
                self.member_of(work.db(), actor.user, id, user).await
            })
            .await
    }

    /// Hands the group to `user` (a joined member); the old owner becomes a moderator. Audited
    /// as `conversation.ownership_transferred`. Errors: 404 (group, or `user` not a joined
    /// member), 403 `permission_denied` (not the owner), 422 `cannot_target_self`.
    pub async fn transfer_group(
        &self,
        actor: &Actor,
        id: ConversationId,
        user: UserId,
    ) -> Result<Conversation, DomainError> {
        self.require_group(id).await?;
        self.access
            .require_on(actor, Permission::ConversationTransfer, id, user)
            .await?;
        self.uow
            .run(async |work| {
                let me = self.joined(work, id, actor.user).await?;
                let target = self.joined(work, id, user).await?;
                if me.role != ConversationRole::Owner {
                    return Err(DomainError::forbidden(
                        ErrorCode::PermissionDenied,
                        "only the owner can transfer the group",
                    ));
                }
                members::set_role(work.db(), id, user, ConversationRole::Owner, work.now()).await?;
                members::set_role(
                    work.db(),
                    id,
                    actor.user,
                    ConversationRole::Moderator,
                    work.now(),
                )
                .await?;
                work.audit(
                    Some(actor),
                    AuditAction::OwnershipTransferred,
                    Some(AuditTarget::Conversation(id)),
                    serde_json::json!({"from": actor.user, "to": user}),
                )
                .await?;
                for (who, role, was) in [
                    (user, ConversationRole::Owner, &target),
                    (actor.user, ConversationRole::Moderator, &me),
                ] {
                    work.publish(Event::MemberUpdated {
                        conversation_id: id,
                        user_id: who,
                        role,
                        muted_until: was.muted_at(work.now()).map(Timestamp),
                        by: actor.user,
                    });
                }
                Ok(())
            })
            .await?;
        self.view_for(actor, id).await
    }

    /// Mutes `user` for `duration_secs` seconds (1–2592000): they read but cannot post.
    /// Muting again replaces the end. Audited as `member.muted`. Errors: 404 (group or
    /// member), 403 `permission_denied` (outranking rule), 422 `cannot_target_self`,
    /// `invalid_duration`.
    pub async fn mute_member(
        &self,
        actor: &Actor,
        id: ConversationId,
        user: UserId,
        duration_secs: Option<i64>,
    ) -> Result<Member, DomainError> {
        self.require_group(id).await?;
        self.access
            .require_on(actor, Permission::MemberMute, id, user)
            .await?;
        let secs = duration_secs
            .filter(|s| (1..=MUTE_MAX_SECS).contains(s))
            .ok_or_else(|| {
                DomainError::invalid(
                    ErrorCode::InvalidDuration,
                    format!("duration_secs must be 1 to {MUTE_MAX_SECS} seconds (30 days)"),
                )
            })?;
        self.set_mute(actor, id, user, Some(Duration::seconds(secs)))
            .await
    }

    /// Lifts `user`'s mute (a no-op when not muted). Audited as `member.unmuted`. Errors: as
    /// [`Self::mute_member`] without `invalid_duration`.
    pub async fn unmute_member(
        &self,
        actor: &Actor,
        id: ConversationId,
        user: UserId,
    ) -> Result<Member, DomainError> {
        self.require_group(id).await?;
        self.access
            .require_on(actor, Permission::MemberMute, id, user)
            .await?;
        self.set_mute(actor, id, user, None).await
    }

    async fn set_mute(
        &self,
        actor: &Actor,
        id: ConversationId,
        user: UserId,
        duration: Option<Duration>,
    ) -> Result<Member, DomainError> {
        self.uow
            .run(async |work| {
                let target = self.joined(work, id, user).await?;
                if !outranks(self.joined(work, id, actor.user).await?.role, target.role) {
                    return Err(denied());
                }
                let until = duration.map(|d| work.now() + d);
                members::set_muted(work.db(), id, user, until, work.now()).await?;
                let (action, details) = match (until, duration) {
                    (Some(until), Some(d)) => (
                        AuditAction::MemberMuted,
                        serde_json::json!({
                            "user_id": user,
                            "until": Timestamp(until),
                            "duration_secs": d.num_seconds(),
                        }),
                    ),
                    _ => (
                        AuditAction::MemberUnmuted,
                        serde_json::json!({"user_id": user}),
                    ),
                };
                work.audit(
                    Some(actor),
                    action,
                    Some(AuditTarget::Conversation(id)),
                    details,
                )
                .await?;
                work.publish(Event::MemberUpdated {
                    conversation_id: id,
                    user_id: user,
                    role: target.role,
                    muted_until: until.map(Timestamp),
                    by: actor.user,
                });
                self.member_of(work.db(), actor.user, id, user).await
            })
            .await
    }

    /// Removes `user` from the group (membership `left`; they may be invited again). Audited
    /// as `member.kicked`; members (and the kicked user) get `member_left` with `reason:
    /// kicked`. Errors: 404 (group or member), 403 `permission_denied` (outranking rule), 422
    /// `cannot_target_self`.
    pub async fn kick_member(
        &self,
        actor: &Actor,
        id: ConversationId,
        user: UserId,
    ) -> Result<(), DomainError> {
        self.require_group(id).await?;
        self.access
            .require_on(actor, Permission::MemberKick, id, user)
            .await?;
        self.uow
            .run(async |work| {
                let target = self.joined(work, id, user).await?;
                if !outranks(self.joined(work, id, actor.user).await?.role, target.role) {
                    return Err(denied());
                }
                members::set_state(work.db(), id, user, MembershipState::Left, work.now()).await?;
                work.audit(
                    Some(actor),
                    AuditAction::MemberKicked,
                    Some(AuditTarget::Conversation(id)),
                    serde_json::json!({"user_id": user}),
                )
                .await?;
                work.publish(Event::MemberLeft {
                    conversation_id: id,
                    user_id: user,
                    reason: LeaveReason::Kicked,
                    by: Some(actor.user),
                });
                Ok(())
            })
            .await
    }
}

/// Whether a member with role `actor` may moderate one with role `target` (owner > moderator >
/// member; members moderate nobody): the rule of `decide`, applied again inside the unit of work.
pub(super) fn outranks(actor: ConversationRole, target: ConversationRole) -> bool {
    let rank = |r| match r {
        ConversationRole::Owner => 2,
        ConversationRole::Moderator => 1,
        ConversationRole::Member => 0,
    };
    actor != ConversationRole::Member && rank(actor) > rank(target)
}

fn denied() -> DomainError {
    DomainError::forbidden(ErrorCode::PermissionDenied, "your role does not allow this")
}
