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
        Db, members,
        messages::{self, MessageRecord},
        writer::{Committed, CommittedStream, MessageWriter, NewMessage, Pending, Written},
    },
};

/// The view of one committed message (usernames, reply preview, reactions, pin); `None` (logged)
/// when the database cannot be read: clients then catch up by `resume`.
async fn full_view(db: &Db, record: MessageRecord) -> Option<Message> {
    match messages::views(&db.read, std::slice::from_ref(&record)).await {
        Ok(mut views) => views.pop(),
        Err(err) => {
            tracing::error!(error = %err, conversation = %record.conversation_id, seq = record.seq,
                "cannot read a committed message back; its event is lost (clients resume)");
            None
        }
    }
}

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
    db: Db,
    access: Access,
    actor: Actor,
    conversation: ConversationId,
}

impl PendingSend {
    /// The stored message once committed (or the original, for a resend). Errors: 409
    /// `client_id_reused`, 422 `invalid_reply`; 403/404 when the membership ended before the
    /// commit; 500/503.
    pub async fn outcome(self) -> Result<Sent, DomainError> {
        let view = async |row: MessageRecord| -> Result<Message, DomainError> {
            messages::views(&self.db.read, std::slice::from_ref(&row))
                .await?
                .pop()
                .ok_or(DomainError::NotFound("message"))
        };
        Ok(match self.pending.outcome().await? {
            Written::Created(row) if row.reply_to_seq.is_none() => Sent {
                message: row.view_new(&self.actor.username),
                duplicate: false,
            },
            Written::Created(row) => Sent {
                message: view(row).await?,
                duplicate: false,
            },
            Written::Duplicate(row) | Written::Changed(row) => Sent {
                message: view(row).await?,
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
    /// What the client missed.
    Messages {
        /// The missing messages, ascending by seq.
        messages: Vec<Message>,
        /// Older messages changed since `after_change`, in change order (deleted ones have
        /// `deleted: true`).
        changed: Vec<Message>,
    },
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
    /// The slowmode marks are shared through the cluster's Redis that `limits` uses.
    pub fn new(db: Db, writer: MessageWriter, access: Access, limits: RateLimits) -> Self {
        let slowmode = Slowmode::new(limits.cluster().clone());
        Self {
            db,
            writer,
            access,
            limits,
            slowmode,
        }
    }

    /// Starts the task that publishes what the writer committed, in commit order:
    /// [`Event::MessageCreated`], [`Event::MessageUpdated`] and [`Event::MessageDeleted`]. It ends
    /// when the writer has stopped. A new message that quotes nothing is published without a
    /// database read; the others are read back once (their reply preview, reactions, pin).
    pub fn spawn_publisher(
        db: Db,
        mut committed: CommittedStream,
        uow: UnitOfWork,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            while let Some(batch) = committed.recv().await {
                for c in batch {
                    let event = match c {
                        Committed::Created {
                            record,
                            sender_username,
                        } if record.reply_to_seq.is_none() => Event::MessageCreated {
                            message: record.view_new(&sender_username),
                        },
                        Committed::Created { record, .. } => match full_view(&db, record).await {
                            Some(message) => Event::MessageCreated { message },
                            None => continue,
                        },
                        Committed::Updated { record } => match full_view(&db, record).await {
                            Some(message) => Event::MessageUpdated { message },
                            None => continue,
                        },
                        Committed::Deleted { record, by } => Event::MessageDeleted {
                            conversation_id: record.conversation_id,
                            seq: record.seq,
                            change_seq: record.change_seq,
                            by,
                            shadowed_sender: record.shadowed.then_some(record.sender_id),
                        },
                    };
                    uow.publish(event).await;
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
        reply_to_seq: Option<i64>,
    ) -> Result<Sent, DomainError> {
        self.submit(actor, conversation, body, client_id, reply_to_seq)
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
        reply_to_seq: Option<i64>,
    ) -> Result<PendingSend, DomainError> {
        self.limits
            .check(Limit::Send, &actor.user.to_string())
            .await?;
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
            self.slowmode.check(conversation, actor.user, secs).await?;
        }
        let shadowed = self
            .access
            .active_user(actor.user)
            .await?
            .moderation
            .shadowbanned();
        let mentions = resolve_mentions(&self.db, conversation, body.as_str()).await?;
        let pending = self
            .writer
            .enqueue(NewMessage {
                conversation_id: conversation,
                sender_id: actor.user,
                sender_username: actor.username.clone(),
                body: body.into_inner(),
                client_id: client_id.map(|c| c.as_str().to_owned()),
                shadowed,
                reply_to_seq,
                mentions,
            })
            .await?;
        Ok(PendingSend {
            pending,
            db: self.db.clone(),
            access: self.access.clone(),
            actor: actor.clone(),
            conversation,
        })
    }

    /// History by sequence number; `limit` 1–100 (default 50). With `around`, a page centred on
    /// that seq (the jump to a quoted message): `has_more` then tells whether older messages
    /// exist. Errors: 422 `invalid_limit`, 403/404.
    pub async fn history(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        before: Option<i64>,
        after: Option<i64>,
        around: Option<i64>,
        limit: Option<u64>,
    ) -> Result<History, DomainError> {
        let limit = super::paging::limit(limit, 50, HISTORY_MAX)?;
        let Some(around) = around else {
            return self.page(actor, conversation, before, after, limit).await;
        };
        let older = self
            .page(
                actor,
                conversation,
                Some(around.saturating_add(1)),
                None,
                limit.div_ceil(2),
            )
            .await?;
        let newer = self
            .page(actor, conversation, None, Some(around), limit / 2)
            .await?;
        let mut messages = older.messages;
        messages.extend(newer.messages);
        Ok(History {
            messages,
            has_more: older.has_more,
        })
    }

    /// One message (members; others' shadowed messages only for `users.moderate`). Errors: 404
    /// (also before a cleared history), 403/404 for non-members.
    pub async fn get(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        seq: i64,
    ) -> Result<Message, DomainError> {
        let page = self
            .page(actor, conversation, Some(seq.saturating_add(1)), None, 1)
            .await?;
        page.messages
            .into_iter()
            .find(|m| m.seq == seq)
            .ok_or(DomainError::NotFound("message"))
    }

    /// The messages after `after_seq`, or `ResyncRequired` when more than `max` are missing.
    /// With `after_change`, also the later changes (edits, deletions, reactions, pins) of the
    /// messages up to `after_seq`, in change order.
    pub async fn resume(
        &self,
        actor: &Actor,
        conversation: ConversationId,
        after_seq: i64,
        after_change: Option<i64>,
        max: u64,
    ) -> Result<Resume, DomainError> {
        let max = max.max(1);
        let page = self
            .page(actor, conversation, None, Some(after_seq.max(0)), max)
            .await?;
        if page.has_more {
            return Ok(Resume::ResyncRequired);
        }
        let Some(after_change) = after_change else {
            return Ok(Resume::Messages {
                changed: Vec::new(),
                messages: page.messages,
            });
        };
        let room = max - page.messages.len() as u64;
        let (floor, viewer) = self.read_scope(actor, conversation).await?;
        let changed = messages::changed_since(
            &self.db.read,
            conversation,
            floor,
            after_seq,
            after_change,
            room + 1,
            viewer,
        )
        .await?;
        if changed.len() as u64 > room {
            return Ok(Resume::ResyncRequired);
        }
        Ok(Resume::Messages {
            changed: messages::views(&self.db.read, &changed).await?,
            messages: page.messages,
        })
    }

    /// The cleared-history floor and the shadow filter of `actor` in `conversation`
    /// (`conversation.read` required).
    pub(super) async fn read_scope(
        &self,
        actor: &Actor,
        conversation: ConversationId,
    ) -> Result<(i64, Option<UserId>), DomainError> {
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
        Ok((floor, viewer))
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
        let (floor, viewer) = self.read_scope(actor, conversation).await?;
        if limit == 0 {
            return Ok(History {
                messages: Vec::new(),
                has_more: false,
            });
        }
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
            messages: messages::views(&self.db.read, &page.rows).await?,
            has_more: page.has_more,
        })
    }
}

/// The `@username` mentions of `body` that name joined members of `conversation` (at most
/// [`crate::domain::MAX_MENTIONS`]), as `(user, username)`.
pub(super) async fn resolve_mentions(
    db: &Db,
    conversation: ConversationId,
    body: &str,
) -> Result<Vec<(UserId, String)>, DomainError> {
    let mut names = crate::domain::markdown::mention_candidates(body);
    names.truncate(crate::domain::MAX_MENTIONS);
    members::joined_named(&db.read, conversation, &names).await
}
