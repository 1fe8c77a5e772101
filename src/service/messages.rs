//! Sending and reading messages.

use std::sync::Arc;

use uuid::Uuid;

use super::{AuthUser, ConversationService, views::MessageView};
use crate::{
    domain::{ClientId, DomainError, MessageBody},
    realtime::{Hub, protocol::ServerFrame},
    store::{
        Db, MessageRow, members, messages,
        writer::{CommitHook, MessageWriter, NewMessage, Written},
    },
};

/// Result of a send.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The stored message.
    pub message: MessageView,
    /// True when this was a resend of an already stored `client_id`.
    pub duplicate: bool,
}

/// A queued send, resolved after commit.
pub struct PendingSend {
    pending: crate::store::writer::Pending,
    username: String,
}

impl PendingSend {
    /// The stored message once committed (or the original, for a resend).
    pub async fn outcome(self) -> Result<Sent, DomainError> {
        Ok(match self.pending.outcome().await? {
            Written::Created(row) => Sent {
                message: MessageView::new(&row, &self.username),
                duplicate: false,
            },
            Written::Duplicate(row) => Sent {
                message: MessageView::new(&row, &self.username),
                duplicate: true,
            },
        })
    }
}

/// Result of a resume request.
pub enum Resume {
    /// The missing messages, ascending by seq.
    Messages(Vec<MessageView>),
    /// The gap is larger than the limit.
    ResyncRequired,
}

/// A page of history.
pub struct History {
    /// Messages ascending by seq.
    pub messages: Vec<MessageView>,
    /// More exist in the direction of the query.
    pub has_more: bool,
}

/// Message use-cases.
#[derive(Clone)]
pub struct MessageService {
    db: Db,
    writer: MessageWriter,
    conversations: ConversationService,
}

/// The commit hook that fans committed messages out through `hub`, encoding each once.
pub fn fan_out_hook(hub: Hub) -> CommitHook {
    Arc::new(move |row: &MessageRow, username: &str| {
        let view = MessageView::new(row, username);
        hub.publish(
            row.conversation_id,
            &ServerFrame::Message { message: &view }.encode(),
            None,
        );
    })
}

impl MessageService {
    /// Builds the service.
    pub fn new(db: Db, writer: MessageWriter, conversations: ConversationService) -> Self {
        Self {
            db,
            writer,
            conversations,
        }
    }

    /// Stores a message and returns it after commit (fan-out has been queued by then).
    /// Errors: 422 `invalid_message`/`invalid_client_id`, 403/404 for non-members,
    /// 409 `client_id_reused`, 503 `shutting_down`.
    pub async fn send(
        &self,
        me: &AuthUser,
        conversation: Uuid,
        body: &str,
        client_id: Option<&str>,
    ) -> Result<Sent, DomainError> {
        self.submit(me, conversation, body, client_id)
            .await?
            .outcome()
            .await
    }

    /// Validates, authorizes and queues a message to the writer; the returned handle resolves
    /// after commit. Calls made one after another are committed in that order.
    pub async fn submit(
        &self,
        me: &AuthUser,
        conversation: Uuid,
        body: &str,
        client_id: Option<&str>,
    ) -> Result<PendingSend, DomainError> {
        let body = MessageBody::parse(body)?;
        let client_id = client_id.map(ClientId::parse).transpose()?;
        self.conversations.require_member(me, conversation).await?;
        let pending = self
            .writer
            .enqueue(NewMessage {
                conversation_id: conversation,
                sender_id: me.id.0,
                sender_username: me.username.clone(),
                body: body.into_inner(),
                client_id: client_id.map(|c| c.as_str().to_owned()),
            })
            .await?;
        Ok(PendingSend {
            pending,
            username: me.username.clone(),
        })
    }

    /// History by sequence number; `limit` 1–100. Errors: 422 `invalid_limit`, 403/404.
    pub async fn history(
        &self,
        me: &AuthUser,
        conversation: Uuid,
        before: Option<i64>,
        after: Option<i64>,
        limit: u64,
    ) -> Result<History, DomainError> {
        if !(1..=100).contains(&limit) {
            return Err(DomainError::invalid(
                "invalid_limit",
                "limit must be between 1 and 100",
            ));
        }
        self.conversations.require_member(me, conversation).await?;
        let page = messages::page(&self.db.read, conversation, before, after, limit).await?;
        Ok(History {
            messages: self.with_usernames(page.rows).await?,
            has_more: page.has_more,
        })
    }

    /// The messages after `after_seq`, or `ResyncRequired` when more than `max` are missing.
    pub async fn resume(
        &self,
        me: &AuthUser,
        conversation: Uuid,
        after_seq: i64,
        max: u64,
    ) -> Result<Resume, DomainError> {
        self.conversations.require_member(me, conversation).await?;
        let page = messages::page(
            &self.db.read,
            conversation,
            None,
            Some(after_seq.max(0)),
            max.max(1),
        )
        .await?;
        if page.has_more {
            return Ok(Resume::ResyncRequired);
        }
        Ok(Resume::Messages(self.with_usernames(page.rows).await?))
    }

    /// Moves my read position to `seq`. Errors: 403/404 for non-members.
    pub async fn mark_read(
        &self,
        me: &AuthUser,
        conversation: Uuid,
        seq: i64,
    ) -> Result<(), DomainError> {
        let row = self.conversations.require_member(me, conversation).await?;
        members::mark_read(
            &self.db.write,
            conversation,
            me.id.0,
            seq.clamp(0, row.last_seq),
        )
        .await
    }

    async fn with_usernames(&self, rows: Vec<MessageRow>) -> Result<Vec<MessageView>, DomainError> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.sender_id).collect();
        let names = crate::store::users::usernames(&self.db.read, ids).await?;
        Ok(rows
            .iter()
            .map(|r| {
                MessageView::new(
                    r,
                    names
                        .get(&r.sender_id)
                        .map(String::as_str)
                        .unwrap_or("deleted"),
                )
            })
            .collect())
    }
}
