//! Read positions, read receipts and per-conversation notification levels.
//!
//! Each membership keeps two read positions: `last_read_seq`, the member's own (unread counts
//! and the "new messages" divider on every device), and `receipt_seq`, the one other members may
//! see. A `read` moves the first always, and the second only in DMs and groups, while the member
//! sends read receipts (account setting `send_read_receipts`) and is not invisible. The move is
//! published as [`Event::ReadMoved`]: the member's own connections get `read_position`, the other
//! members `read_receipt` when it is shared.

use super::{access::Access, uow::UnitOfWork};
use crate::{
    domain::{
        Actor, ConversationId, ConversationKind, DomainError, NotifyLevel, Permission,
        PresenceChoice, Receipt, Scope,
    },
    events::Event,
    store::{Db, conversations, members, messages, users},
};

/// Read positions, receipts and notification levels.
#[derive(Clone)]
pub struct ReceiptService {
    db: Db,
    uow: UnitOfWork,
    access: Access,
}

impl ReceiptService {
    /// Builds the service.
    pub fn new(db: Db, uow: UnitOfWork, access: Access) -> Self {
        Self { db, uow, access }
    }

    /// Moves my read position to `seq` (clamped to the conversation's last seq; never backwards)
    /// and tells my other connections (`read_position`) and, when shared, the other members
    /// (`read_receipt`). Errors: 403/404 for non-members.
    pub async fn mark_read(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        seq: i64,
    ) -> Result<(), DomainError> {
        let facts = self
            .access
            .require_with_facts(
                actor,
                Permission::ConversationRead,
                Scope::Conversation(conversation),
            )
            .await?;
        let kind = facts.conversation.map(|c| c.kind);
        let Some(row) = conversations::by_id(&self.db.read, conversation).await? else {
            return Err(DomainError::NotFound("conversation"));
        };
        let seq = seq.clamp(0, row.last_seq);
        let share = kind.is_some_and(|k| k != ConversationKind::Room)
            && self.shares_receipts(actor).await?;
        let before = members::get(&self.db.read, conversation, actor.user).await?;
        let moved = before.as_ref().is_some_and(|m| m.last_read_seq < seq);
        let receipt_moved = share && before.as_ref().is_some_and(|m| m.receipt_seq < seq);
        if !moved && !receipt_moved {
            return Ok(());
        }
        let floor = seq.max(row.cleared_seq);
        self.uow
            .run(async |work| {
                members::mark_read(work.db(), conversation, actor.user, seq).await?;
                if receipt_moved {
                    members::share_read(work.db(), conversation, actor.user, seq).await?;
                }
                let unread =
                    messages::unread_from_others(work.db(), actor.user, &[(conversation, floor)])
                        .await?
                        .first()
                        .map_or(0, |(_, n, _, _)| *n);
                work.publish(Event::ReadMoved {
                    conversation_id: conversation,
                    user_id: actor.user,
                    seq,
                    unread_count: unread,
                    share: receipt_moved,
                });
                Ok(())
            })
            .await
    }

    /// The other members' shared read positions (DMs and groups; empty for rooms). Errors:
    /// 403/404 for non-members.
    pub async fn receipts(
        &self,
        actor: &Actor,
        conversation: ConversationId,
    ) -> Result<Vec<Receipt>, DomainError> {
        let facts = self
            .access
            .require_with_facts(
                actor,
                Permission::ConversationRead,
                Scope::Conversation(conversation),
            )
            .await?;
        if facts
            .conversation
            .is_none_or(|c| c.kind == ConversationKind::Room)
        {
            return Ok(Vec::new());
        }
        let positions: Vec<_> = members::receipts(&self.db.read, conversation)
            .await?
            .into_iter()
            .filter(|(u, _)| *u != actor.user)
            .collect();
        let ids: Vec<_> = positions.iter().map(|(u, _)| *u).collect();
        let names = users::usernames(&self.db.read, &ids).await?;
        Ok(positions
            .into_iter()
            .filter_map(|(user_id, seq)| {
                names.get(&user_id).map(|username| Receipt {
                    user_id,
                    username: username.clone(),
                    seq,
                })
            })
            .collect())
    }

    /// Sets my notification level in a conversation I joined. Errors: 403/404 for non-members.
    pub async fn set_notify(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        level: NotifyLevel,
    ) -> Result<(), DomainError> {
        self.access
            .require_in(actor, Permission::ConversationRead, conversation)
            .await?;
        members::set_notify(&self.db.write, conversation, actor.user, level).await
    }

    /// Whether `actor`'s read position may be shown to others: receipts on and not invisible.
    async fn shares_receipts(&self, actor: &Actor) -> Result<bool, DomainError> {
        let invisible = users::presence(&self.db.read, actor.user)
            .await?
            .is_some_and(|(choice, _)| choice == PresenceChoice::Invisible);
        if invisible {
            return Ok(false);
        }
        Ok(
            crate::store::account_settings::load(&self.db.read, actor.user)
                .await?
                .send_read_receipts,
        )
    }
}
