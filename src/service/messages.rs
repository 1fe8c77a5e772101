//! Sending and reading messages.
//!
//! A send is authorized by the permission function (from cached facts: no database read on the
//! hot path), queued to the group-commit writer (which re-checks membership inside the insert's
//! transaction), answered after COMMIT, and published as [`Event::MessageCreated`] by one
//! publisher task in commit order, so every conversation's messages reach the bus in `seq` order.

use tokio::task::JoinHandle;

use super::{
    access::Access,
    limits::{Limit, RateLimits},
    slowmode::Slowmode,
    uow::UnitOfWork,
};
use crate::{
    domain::{
        Actor, ClientId, ConversationId, DomainError, Message, MessageBody, Permission, Scope,
        UserId, slowmode_applies,
    },
    events::Event,
    store::{
        Db, conversations, members,
        messages::{self, MessageRecord},
        users,
        writer::{CommittedStream, MessageWriter, NewMessage, Pending, Written},
    },
};

/// Largest page of history.
pub const HISTORY_MAX: u64 = 100;

/// Result of a send.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The stored message.
    pub message: Message,
    /// True when this was a resend of an already stored `client_id`.
    pub duplicate: bool,
}

/// A queued send, resolved after commit.
pub struct PendingSend {
    pending: Pending,
    access: Access,
    actor: Actor,
    conversation: ConversationId,
}

impl PendingSend {
    /// The stored message once committed (or the original, for a resend). Errors: 409
    /// `client_id_reused`; 403/404 when the membership ended before the commit; 500/503.
    pub async fn outcome(self) -> Result<Sent, DomainError> {
        Ok(match self.pending.outcome().await? {
            Written::Created(row) => Sent {
                message: row.view(&self.actor.username),
                duplicate: false,
            },
            Written::Duplicate(row) => Sent {
                message: row.view(&self.actor.username),
                duplicate: true,
            },
            Written::NotMember => {
                // The cache was behind the database: learn the truth and report it.
                self.access
                    .forget_member(self.conversation, self.actor.user);
                self.access
                    .require_in(&self.actor, Permission::MessageSend, self.conversation)
                    .await?;
                return Err(DomainError::NotFound("conversation"));
            }
        })
    }
}

/// Result of a resume request.
pub enum Resume {
    /// The missing messages, ascending by seq.
    Messages(Vec<Message>),
    /// The gap is larger than the limit.
    ResyncRequired,
}

/// A page of history.
pub struct History {
    /// Messages ascending by seq.
    pub messages: Vec<Message>,
    /// More exist in the direction of the query.
    pub has_more: bool,
}

/// Message use-cases.
#[derive(Clone)]
pub struct MessageService {
    db: Db,
    writer: MessageWriter,
    access: Access,
    limits: RateLimits,
    slowmode: Slowmode,
}

impl MessageService {
    /// Builds the service; `limits` holds the per-user send rate ([`Limit::Send`]).
    pub fn new(db: Db, writer: MessageWriter, access: Access, limits: RateLimits) -> Self {
        Self {
            db,
            writer,
            access,
            limits,
            slowmode: Slowmode::new(),
        }
    }

    /// Starts the task that publishes committed messages, in commit order, as
    /// [`Event::MessageCreated`]. It ends when the writer has stopped.
    pub fn spawn_publisher(mut committed: CommittedStream, uow: UnitOfWork) -> JoinHandle<()> {
        tokio::spawn(async move {
            while let Some(batch) = committed.recv().await {
                for c in batch {
                    let message = c.record.view(&c.sender_username);
                    uow.publish(Event::MessageCreated { message }).await;
                }
            }
        })
    }

    /// Stores a message and returns it after commit. Errors: 429 `rate_limited` (the sender's
    /// `messages_per_user` rate), 429 `slowmode` (the room's slowmode; owner, moderators and
    /// holders of `rooms.moderate` are exempt), 403 `read_only` (a read-only room), 422 `invalid_message`/`invalid_client_id`, 403/404 for
    /// non-members, 409 `client_id_reused`, 503 `shutting_down`.
    pub async fn send(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        body: &str,
        client_id: Option<&str>,
    ) -> Result<Sent, DomainError> {
        self.submit(actor, conversation, body, client_id)
            .await?
            .outcome()
            .await
    }

    /// Rate-limits, validates, authorizes and queues a message to the writer; the returned handle
    /// resolves after commit. Calls made one after another are committed in that order. Every
    /// send counts against the sender's [`Limit::Send`] rate, REST and WebSocket alike (this is
    /// the one path both take). Errors: as [`Self::send`].
    pub async fn submit(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        body: &str,
        client_id: Option<&str>,
    ) -> Result<PendingSend, DomainError> {
        self.limits.check(Limit::Send, &actor.user.to_string())?;
        let body = MessageBody::parse(body)?;
        let client_id = client_id.map(ClientId::parse).transpose()?;
        let facts = self
            .access
            .require_with_facts(
                actor,
                Permission::MessageSend,
                Scope::Conversation(conversation),
            )
            .await?;
        if let Some(secs) = slowmode_applies(&facts) {
            self.slowmode.check(conversation, actor.user, secs)?;
        }
        let shadowed = self
            .access
            .active_user(actor.user)
            .await?
            .moderation
            .shadowbanned();
        let pending = self
            .writer
            .enqueue(NewMessage {
                conversation_id: conversation,
                sender_id: actor.user,
                sender_username: actor.username.clone(),
                body: body.into_inner(),
                client_id: client_id.map(|c| c.as_str().to_owned()),
                shadowed,
            })
            .await?;
        Ok(PendingSend {
            pending,
            access: self.access.clone(),
            actor: actor.clone(),
            conversation,
        })
    }

    /// History by sequence number; `limit` 1–100 (default 50). Errors: 422 `invalid_limit`,
    /// 403/404.
    pub async fn history(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        before: Option<i64>,
        after: Option<i64>,
        limit: Option<u64>,
    ) -> Result<History, DomainError> {
        let limit = super::paging::limit(limit, 50, HISTORY_MAX)?;
        self.page(actor, conversation, before, after, limit).await
    }

    /// The messages after `after_seq`, or `ResyncRequired` when more than `max` are missing.
    pub async fn resume(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        after_seq: i64,
        max: u64,
    ) -> Result<Resume, DomainError> {
        let page = self
            .page(
                actor,
                conversation,
                None,
                Some(after_seq.max(0)),
                max.max(1),
            )
            .await?;
        Ok(if page.has_more {
            Resume::ResyncRequired
        } else {
            Resume::Messages(page.messages)
        })
    }

    /// A page of history, for members (`conversation.read`).
    async fn page(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        before: Option<i64>,
        after: Option<i64>,
        limit: u64,
    ) -> Result<History, DomainError> {
        let facts = self
            .access
            .require_with_facts(
                actor,
                Permission::ConversationRead,
                Scope::Conversation(conversation),
            )
            .await?;
        let floor = facts.conversation.map_or(0, |c| c.cleared_seq);
        // Holders of `users.moderate` see shadowed messages (flagged); others only their own.
        let viewer = (!facts.server.contains(Permission::UsersModerate)).then_some(actor.user);
        let page = messages::page(
            &self.db.read,
            conversation,
            floor,
            before,
            after,
            limit,
            viewer,
        )
        .await?;
        Ok(History {
            messages: self.with_usernames(page.rows).await?,
            has_more: page.has_more,
        })
    }

    /// Moves my read position to `seq` (clamped to the conversation's last seq). Errors: 403/404
    /// for non-members.
    pub async fn mark_read(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        seq: i64,
    ) -> Result<(), DomainError> {
        self.access
            .require_in(actor, Permission::ConversationRead, conversation)
            .await?;
        let last = conversations::by_id(&self.db.read, conversation)
            .await?
            .map_or(0, |c| c.last_seq);
        members::mark_read(&self.db.write, conversation, actor.user, seq.clamp(0, last)).await
    }

    async fn with_usernames(&self, rows: Vec<MessageRecord>) -> Result<Vec<Message>, DomainError> {
        let ids: Vec<UserId> = rows.iter().map(|r| r.sender_id).collect();
        let names = users::usernames(&self.db.read, &ids).await?;
        Ok(rows
            .iter()
            .map(|r| {
                r.view(
                    names
                        .get(&r.sender_id)
                        .map(String::as_str)
                        .unwrap_or("deleted"),
                )
            })
            .collect())
    }
}
