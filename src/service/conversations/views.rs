//! How a conversation looks to one user: their membership, unread count and permissions, and
//! for a DM the peer.

use std::collections::HashMap;

use super::ConversationService;
use crate::{
    domain::{
        Actor, BlockSide, Conversation, ConversationId, ConversationKind, DomainError, Facts,
        MembershipState, PermissionSet, ServerRole, Timestamp, UserId, conversation_permissions,
    },
    store::{
        conversations::{self, ConversationRecord},
        members::{self, MemberRecord},
        users::{self, UserRecord},
    },
};

/// The caller's side of a conversation view.
pub(super) struct Caller<'a> {
    /// The caller's built-in server role (custom roles are not applied to conversation views).
    pub(super) role: ServerRole,
    pub(super) member: Option<&'a MemberRecord>,
    /// Who invited the caller (shown while the caller is invited).
    pub(super) inviter: Option<&'a UserRecord>,
}

/// Assembles the view of `row` as `caller` sees it.
pub(super) fn view_of(
    row: &ConversationRecord,
    member_count: i64,
    caller: &Caller<'_>,
    peer: Option<&UserRecord>,
) -> Conversation {
    view_with_block(row, member_count, caller, peer, None)
}

/// [`view_of`] for a DM with a block between the caller and the peer (`message.send` is not
/// among its permissions then).
fn view_with_block(
    row: &ConversationRecord,
    member_count: i64,
    caller: &Caller<'_>,
    peer: Option<&UserRecord>,
    blocked: Option<BlockSide>,
) -> Conversation {
    let member = caller
        .member
        .filter(|m| matches!(m.state, MembershipState::Joined | MembershipState::Invited));
    let unread = match member {
        Some(m) if m.state == MembershipState::Joined => {
            (row.last_seq - m.last_read_seq.max(row.cleared_seq)).max(0)
        }
        _ => 0,
    };
    let facts = Facts {
        server: PermissionSet::of_role(caller.role),
        server_muted_until: None,
        conversation: Some(row.facts()),
        member: caller.member.map(MemberRecord::facts),
        blocked,
        target: None,
        now: Timestamp::now(),
    };
    let invited = member.is_some_and(|m| m.state == MembershipState::Invited);
    Conversation {
        id: row.id,
        kind: row.kind,
        name: peer
            .map(|p| p.username.clone())
            .or_else(|| row.name.clone()),
        topic: row.topic.clone(),
        visibility: row.visibility,
        category: row.category.clone(),
        official: row.official,
        locked: row.locked,
        read_only: row.read_only,
        slowmode_secs: row.slowmode_secs,
        member_count,
        last_seq: row.last_seq,
        unread_count: unread,
        last_change: row.last_change,
        read_seq: member
            .filter(|m| m.state == MembershipState::Joined)
            .map_or(0, |m| m.last_read_seq),
        notify: member.map_or(crate::domain::NotifyLevel::All, |m| m.notify),
        membership: member.map(|m| m.state),
        role: member.map(|m| m.role),
        permissions: conversation_permissions(&facts),
        peer: peer.map(UserRecord::view),
        invited_by: caller.inviter.filter(|_| invited).map(UserRecord::view),
    }
}

impl ConversationService {
    pub(super) async fn count(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        id: ConversationId,
    ) -> Result<i64, DomainError> {
        Ok(members::joined_counts(db, &[id])
            .await?
            .get(&id)
            .copied()
            .unwrap_or(0))
    }

    pub(super) async fn view_for(
        &self,
        actor: &Actor,
        id: ConversationId,
    ) -> Result<Conversation, DomainError> {
        let row = conversations::by_id(&self.db.read, id)
            .await?
            .ok_or(DomainError::NotFound("conversation"))?;
        self.views(actor, vec![row])
            .await?
            .pop()
            .ok_or(DomainError::NotFound("conversation"))
    }

    /// Views of `rows` as `actor` sees them (in the order given).
    pub(super) async fn views(
        &self,
        actor: &Actor,
        rows: Vec<ConversationRecord>,
    ) -> Result<Vec<Conversation>, DomainError> {
        let user = self.access.active_user(actor.user).await?;
        let ids: Vec<ConversationId> = rows.iter().map(|r| r.id).collect();
        let dms: Vec<ConversationId> = rows
            .iter()
            .filter(|r| r.kind == ConversationKind::Dm)
            .map(|r| r.id)
            .collect();
        let (counts, peers, mine) = tokio::try_join!(
            members::joined_counts(&self.db.read, &ids),
            members::dm_peers(&self.db.read, &dms, actor.user),
            self.memberships(actor.user, &ids),
        )?;
        let mut blocked = HashMap::new();
        for (dm, peer) in &peers {
            if let Some(side) = self.access.block_side(actor.user, peer.id).await? {
                blocked.insert(*dm, side);
            }
        }
        let inviters: Vec<UserId> = mine
            .values()
            .filter(|m| m.state == MembershipState::Invited)
            .filter_map(|m| m.invited_by)
            .collect();
        let inviters = users::by_ids(&self.db.read, &inviters).await?;
        Ok(rows
            .iter()
            .map(|row| {
                let member = mine.get(&row.id);
                let caller = Caller {
                    role: user.role,
                    member,
                    inviter: member
                        .and_then(|m| m.invited_by)
                        .and_then(|id| inviters.get(&id)),
                };
                view_with_block(
                    row,
                    counts.get(&row.id).copied().unwrap_or(0),
                    &caller,
                    peers.get(&row.id),
                    blocked.get(&row.id).copied(),
                )
            })
            .collect())
    }

    pub(super) async fn memberships(
        &self,
        user: UserId,
        ids: &[ConversationId],
    ) -> Result<HashMap<ConversationId, MemberRecord>, DomainError> {
        Ok(members::of_user_in(&self.db.read, user, ids)
            .await?
            .into_iter()
            .map(|m| (m.conversation_id, m))
            .collect())
    }
}
