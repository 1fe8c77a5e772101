//! Invitations to rooms and groups: list them (with who sent each), accept, decline. An
//! invitation is a membership in state `invited`; accepting makes it `joined`, declining `left`.

use super::{
    ConversationService,
    views::{Caller, view_of},
};
use crate::{
    domain::{
        Actor, AuditAction, AuditTarget, Conversation, ConversationId, ConversationKind,
        DomainError, Invitation, MembershipState, Permission, Timestamp,
    },
    events::Event,
    service::uow::Work,
    store::{
        conversations::{self, ConversationRecord},
        members::{self, MemberRecord},
    },
};

/// A refusal to join or view is, here, simply "no invitation for you there" (404).
fn no_invitation(err: DomainError) -> DomainError {
    match err {
        DomainError::Forbidden(..) | DomainError::NotFound(_) => {
            DomainError::NotFound("invitation")
        }
        other => other,
    }
}

impl ConversationService {
    /// My pending invitations to rooms and groups, newest first.
    pub async fn invitations(&self, actor: &Actor) -> Result<Vec<Invitation>, DomainError> {
        let pending = members::invitations_of(&self.db.read, actor.user).await?;
        let ids: Vec<ConversationId> = pending.iter().map(|m| m.conversation_id).collect();
        let rows = conversations::by_ids(&self.db.read, &ids).await?;
        let mut by_id: std::collections::HashMap<ConversationId, ConversationRecord> =
            rows.into_iter().map(|r| (r.id, r)).collect();
        let ordered: Vec<ConversationRecord> = pending
            .iter()
            .filter_map(|m| by_id.remove(&m.conversation_id))
            .filter(|r| r.kind != ConversationKind::Dm)
            .collect();
        let views = self.views(actor, ordered).await?;
        let sent: std::collections::HashMap<ConversationId, Timestamp> = pending
            .iter()
            .map(|m| (m.conversation_id, Timestamp(m.updated_at)))
            .collect();
        Ok(views
            .into_iter()
            .filter_map(|conversation| {
                let invited_at = *sent.get(&conversation.id)?;
                Some(Invitation {
                    invited_by: conversation.invited_by.clone(),
                    conversation,
                    invited_at,
                })
            })
            .collect())
    }

    /// My pending invitation to `id`, read in the unit of work. Errors: 404 when there is none.
    async fn pending(
        &self,
        work: &Work,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<(ConversationRecord, MemberRecord), DomainError> {
        let conversation = conversations::by_id_locked(work.db(), id)
            .await?
            .filter(|c| c.kind != ConversationKind::Dm)
            .ok_or(DomainError::NotFound("invitation"))?;
        let membership = members::get(work.db(), id, actor.user)
            .await?
            .filter(|m| m.state == MembershipState::Invited)
            .ok_or(DomainError::NotFound("invitation"))?;
        Ok((conversation, membership))
    }

    /// Accepts my invitation to a room or group: I join with the role it offered (audited as
    /// `invitation.accepted`; members get `member_joined`). Errors: 404 when there is no
    /// pending invitation for me there.
    pub async fn accept_invitation(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<Conversation, DomainError> {
        self.access
            .require_in(actor, Permission::ConversationJoin, id)
            .await
            .map_err(no_invitation)?;
        self.uow
            .run(async |work| {
                let (conversation, invitation) = self.pending(work, actor, id).await?;
                let user = crate::service::active_account(work.db(), actor.user).await?;
                let membership = MemberRecord {
                    state: MembershipState::Joined,
                    last_read_seq: conversation.last_seq,
                    updated_at: work.now(),
                    invited_by: None,
                    receipt_seq: 0,
                    notify: crate::domain::NotifyLevel::All,
                    ..invitation.clone()
                };
                let membership = members::upsert(work.db(), &membership).await?;
                work.audit(
                    Some(actor),
                    AuditAction::InvitationAccepted,
                    Some(AuditTarget::Conversation(id)),
                    serde_json::json!({"invited_by": invitation.invited_by}),
                )
                .await?;
                let count = self.count(work.db(), id).await?;
                let caller = Caller {
                    role: user.role,
                    member: Some(&membership),
                    inviter: None,
                };
                let view = view_of(&conversation, count, &caller, None);
                work.publish(Event::MemberJoined {
                    user: user.view(),
                    role: membership.role,
                    view: view.clone(),
                });
                Ok(view)
            })
            .await
    }

    /// Declines my invitation to a room or group (membership `left`; only my own connections
    /// are told). Audited as `invitation.declined`. Errors: 404 when there is no pending
    /// invitation for me there.
    pub async fn decline_invitation(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<(), DomainError> {
        self.access
            .require_in(actor, Permission::ConversationView, id)
            .await
            .map_err(no_invitation)?;
        self.uow
            .run(async |work| {
                let (_, invitation) = self.pending(work, actor, id).await?;
                members::set_state(work.db(), id, actor.user, MembershipState::Left, work.now())
                    .await?;
                work.audit(
                    Some(actor),
                    AuditAction::InvitationDeclined,
                    Some(AuditTarget::Conversation(id)),
                    serde_json::json!({"invited_by": invitation.invited_by}),
                )
                .await?;
                work.publish(Event::departure(id, actor.user, MembershipState::Invited));
                Ok(())
            })
            .await
    }
}
