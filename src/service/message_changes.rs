//! Changing stored messages: edit, delete, react, pin — and reading reactions and pins.
//!
//! Every change is authorized here from cached facts, then queued to the group-commit writer
//! ([`crate::store::writer`]) in the same ordered path as sends: the writer re-checks what the
//! change depends on inside its transaction (author, membership, deleted, edit window, emoji
//! cap), bumps the conversation's change sequence, and hands the result to the publisher, which
//! publishes [`crate::events::Event::MessageUpdated`] / `MessageDeleted` in commit order. So
//! members see `message_updated` / `message_deleted` in order with `message` frames, and a client
//! that resumes with `after_change` gets every change it missed.

use serde_json::json;

use super::{
    access::Access,
    limits::{Limit, RateLimits},
    messages::{MessageService, resolve_mentions},
};
use crate::{
    domain::{
        Actor, AuditAction, AuditTarget, ConversationId, DomainError, Emoji, Message, MessageBody,
        NewAuditEntry, Permission, ReactionUsers, reason,
    },
    store::{
        Db, messages, reactions, users,
        writer::{ChangeKind, MessageChange, MessageWriter, Written},
    },
};

/// Most pinned messages listed.
pub const PINS_MAX: u64 = 100;

/// Edits, deletions, reactions and pins.
#[derive(Clone)]
pub struct MessageChangeService {
    db: Db,
    writer: MessageWriter,
    access: Access,
    limits: RateLimits,
    messages: MessageService,
    edit_window_secs: u64,
}

impl MessageChangeService {
    /// Builds the service; `edit_window_secs` is `[messages] edit_window_secs` (0 = no limit).
    pub fn new(
        db: Db,
        writer: MessageWriter,
        access: Access,
        limits: RateLimits,
        messages: MessageService,
        edit_window_secs: u64,
    ) -> Self {
        Self {
            db,
            writer,
            access,
            limits,
            messages,
            edit_window_secs,
        }
    }

    /// Replaces the text of my message `seq` (mentions are resolved again). Counts against the
    /// send rate. Errors: 422 `invalid_message`, 403 `not_your_message`, 403
    /// `edit_window_closed`, 409 `message_deleted`, 404 (no such message, or before a cleared
    /// history), 403/404 for non-members, 429.
    pub async fn edit(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        seq: i64,
        body: &str,
    ) -> Result<Message, DomainError> {
        self.limits
            .check(Limit::Send, &actor.user.to_string())
            .await?;
        let body = MessageBody::parse(body)?;
        self.access
            .require_in(actor, Permission::ConversationRead, conversation)
            .await?;
        let mentions = resolve_mentions(&self.db, conversation, body.as_str()).await?;
        self.apply(MessageChange {
            conversation_id: conversation,
            seq,
            actor: actor.user,
            member_required: true,
            kind: ChangeKind::Edit {
                body: body.into_inner(),
                mentions,
                window_secs: self.edit_window_secs,
            },
        })
        .await
    }

    /// Deletes message `seq`: its text, mentions, reactions and pin are erased; history shows a
    /// placeholder (`deleted: true`). Authors delete their own messages where they are members;
    /// holders of `message.delete` there (room and group owners and moderators, `rooms.moderate`
    /// in rooms) delete anyone's — audited as `message.deleted` with the old text and `reason`.
    /// Deleting a deleted message changes nothing. Errors: 404, 403 `permission_denied` /
    /// `not_a_member`, 422 `invalid_reason`, 429.
    pub async fn delete(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        seq: i64,
        why: Option<&str>,
    ) -> Result<(), DomainError> {
        self.limits
            .check(Limit::Send, &actor.user.to_string())
            .await?;
        let why = reason(why, false)?;
        let moderator = self
            .access
            .require_in(actor, Permission::MessageDelete, conversation)
            .await
            .is_ok();
        if !moderator {
            self.access
                .require_in(actor, Permission::ConversationRead, conversation)
                .await?;
        }
        let audit = moderator.then(|| NewAuditEntry {
            actor: Some(actor.user),
            action: AuditAction::MessageDeleted,
            target: Some(AuditTarget::Conversation(conversation)),
            details: json!({ "seq": seq, "own": false, "reason": why }),
            ip: actor.ip,
        });
        self.apply(MessageChange {
            conversation_id: conversation,
            seq,
            actor: actor.user,
            member_required: !moderator,
            kind: ChangeKind::Delete {
                by_moderator: moderator,
                audit,
            },
        })
        .await
        .map(drop)
    }

    /// Adds (`add`) or removes my reaction `emoji` on message `seq`; idempotent. Counts against
    /// the send rate. Errors: 422 `invalid_emoji`, 409 `too_many_reactions` (20 different emojis
    /// on one message), 409 `message_deleted`, 404, 403/404 for non-members, 429.
    pub async fn react(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        seq: i64,
        emoji: &str,
        add: bool,
    ) -> Result<Message, DomainError> {
        self.limits
            .check(Limit::Send, &actor.user.to_string())
            .await?;
        let emoji = Emoji::parse(emoji)?;
        self.access
            .require_in(actor, Permission::ConversationRead, conversation)
            .await?;
        self.apply(MessageChange {
            conversation_id: conversation,
            seq,
            actor: actor.user,
            member_required: true,
            kind: ChangeKind::React {
                emoji: emoji.as_str().to_owned(),
                add,
            },
        })
        .await
    }

    /// Pins (`pin`) or unpins message `seq`; idempotent. Who: holders of `message.pin` there
    /// (room owners and moderators and `rooms.moderate`, group owners and moderators, both people
    /// of a DM). Errors: 403 `permission_denied`, 409 `message_deleted`, 404, 429.
    pub async fn pin(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        seq: i64,
        pin: bool,
    ) -> Result<Message, DomainError> {
        self.limits
            .check(Limit::Send, &actor.user.to_string())
            .await?;
        self.access
            .require_in(actor, Permission::MessagePin, conversation)
            .await?;
        self.apply(MessageChange {
            conversation_id: conversation,
            seq,
            actor: actor.user,
            member_required: false,
            kind: ChangeKind::Pin { pin },
        })
        .await
    }

    /// Everyone who reacted to message `seq`, per emoji. Errors: as reading the message.
    pub async fn reactions(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        seq: i64,
    ) -> Result<Vec<ReactionUsers>, DomainError> {
        let message = self.messages.get(actor, conversation, seq).await?;
        let all = reactions::users_of(&self.db.read, message.id).await?;
        let ids: Vec<_> = all.iter().flat_map(|(_, u)| u.iter().copied()).collect();
        let people = users::by_ids(&self.db.read, &ids).await?;
        Ok(all
            .into_iter()
            .map(|(emoji, ids)| ReactionUsers {
                emoji,
                users: ids
                    .iter()
                    .filter_map(|id| people.get(id).map(|p| p.view()))
                    .collect(),
            })
            .collect())
    }

    /// The pinned messages of a conversation, newest pin first (at most [`PINS_MAX`]). Errors:
    /// 403/404 for non-members.
    pub async fn pins(
        &self,
        actor: &Actor,
        conversation: ConversationId,
    ) -> Result<Vec<Message>, DomainError> {
        let (floor, viewer) = self.messages.read_scope(actor, conversation).await?;
        let rows: Vec<_> = messages::pinned(&self.db.read, conversation, floor, PINS_MAX)
            .await?
            .into_iter()
            .filter(|r| !r.shadowed || viewer.is_none_or(|me| r.sender_id == me))
            .collect();
        messages::views(&self.db.read, &rows).await
    }

    /// Queues `change` and returns the message once committed.
    async fn apply(&self, change: MessageChange) -> Result<Message, DomainError> {
        let conversation = change.conversation_id;
        match self.writer.change(change).await?.outcome().await? {
            Written::Changed(record) => messages::views(&self.db.read, &[record])
                .await?
                .pop()
                .ok_or(DomainError::NotFound("message")),
            _ => Err(DomainError::NotFound("conversation")).inspect_err(|_| {
                tracing::error!(%conversation, "the writer answered a change with a send outcome")
            }),
        }
    }
}
