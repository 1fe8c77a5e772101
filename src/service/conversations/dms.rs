//! Direct messages: one conversation per pair of users, opened by either of them.

use super::{
    ConversationService,
    views::{Caller, view_of},
};
use crate::{
    domain::{
        Actor, BlockSide, Conversation, ConversationRole, DomainError, ErrorCode, MembershipState,
        Username,
    },
    events::Event,
    store::{
        conversations,
        members::{self, MemberRecord},
        users::{self, UserRecord},
    },
};

impl ConversationService {
    /// Opens (or gets) the DM with `username`. Returns the view and whether it was created.
    /// The DM and both memberships commit together: a racing request either finds all of it or
    /// loses the unique-key race and reads the winner's rows. Errors: 404 unknown user,
    /// 422 `invalid_username` for yourself, 403 `blocked` when either of us blocked the other
    /// (an existing DM stays readable through `GET /conversations/{id}/messages`).
    pub async fn open_dm(
        &self,
        actor: &Actor,
        username: &str,
    ) -> Result<(Conversation, bool), DomainError> {
        let name = Username::parse(username).map_err(|_| DomainError::NotFound("user"))?;
        let peer = users::by_username(&self.db.read, name.as_str())
            .await?
            .filter(UserRecord::is_active)
            .ok_or(DomainError::NotFound("user"))?;
        if peer.id == actor.user {
            return Err(DomainError::invalid(
                ErrorCode::InvalidUsername,
                "you cannot open a direct message with yourself",
            ));
        }
        match self.access.block_side(actor.user, peer.id).await? {
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
        if let Some(row) = conversations::dm_of(&self.db.read, actor.user, peer.id).await? {
            return Ok((self.view_for(actor, row.id).await?, false));
        }
        let created = self
            .uow
            .run(async |work| {
                let me = crate::service::active_account(work.db(), actor.user).await?;
                let Some(row) =
                    conversations::insert_dm(work.db(), actor.user, peer.id, work.now()).await?
                else {
                    return Ok(None);
                };
                let mut mine = None;
                work.publish(Event::ConversationCreated {
                    conversation_id: row.id,
                    kind: row.kind,
                    visibility: row.visibility,
                    created_by: Some(actor.user),
                });
                for (user, other) in [(&me, &peer), (&peer, &me)] {
                    let membership = MemberRecord {
                        conversation_id: row.id,
                        user_id: user.id,
                        role: ConversationRole::Member,
                        state: MembershipState::Joined,
                        last_read_seq: 0,
                        updated_at: work.now(),
                        muted_until: None,
                        invited_by: None,
                        receipt_seq: 0,
                        notify: crate::domain::NotifyLevel::All,
                    };
                    members::upsert(work.db(), &membership).await?;
                    let caller = Caller {
                        role: user.role,
                        member: Some(&membership),
                        inviter: None,
                    };
                    let view = view_of(&row, 2, &caller, Some(other));
                    if user.id == actor.user {
                        mine = Some(view.clone());
                    }
                    work.publish(Event::MemberJoined {
                        user: user.view(),
                        role: ConversationRole::Member,
                        view,
                    });
                }
                Ok(mine)
            })
            .await?;
        match created {
            Some(view) => Ok((view, true)),
            None => {
                let row = conversations::dm_of(&self.db.write, actor.user, peer.id)
                    .await?
                    .ok_or(DomainError::NotFound("conversation"))?;
                Ok((self.view_for(actor, row.id).await?, false))
            }
        }
    }
}
