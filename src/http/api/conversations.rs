//! My conversations, their members and messages.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{
    ApiTags,
    dto::{ConversationPage, MemberPage, MessagePage},
    strict::{ClientIdRule, Limit, MessageBodyRule, OptText, Text},
};
use crate::{
    domain::{Conversation, ConversationId, Message},
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// Body of `POST /conversations/{id}/messages`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// 1–4000 characters (trailing whitespace is trimmed).
    pub body: Text<MessageBodyRule>,
    /// Idempotency key (1–64 printable ASCII): a resend returns the original message.
    pub client_id: OptText<ClientIdRule>,
    /// Reply to this message of the same conversation (422 `invalid_reply` otherwise).
    pub reply_to_seq: Option<i64>,
}

/// Body of `POST /conversations/{id}/read`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ReadRequest {
    /// Mark everything up to this sequence number as read.
    pub seq: i64,
}

/// Result of a send.
#[derive(ApiResponse)]
pub enum MessageSent {
    /// Stored (committed) now.
    #[oai(status = 201)]
    Created(Json<Message>),
    /// A resend with a known `client_id`: the original message.
    #[oai(status = 200)]
    Duplicate(Json<Message>),
}

/// Read position saved.
#[derive(ApiResponse)]
pub enum ReadSaved {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// Conversations API.
pub struct ConversationsApi;

#[OpenApi(prefix_path = "/conversations", tag = "ApiTags::Conversations")]
impl ConversationsApi {
    /// My conversations (joined, plus invitations) with `last_seq` and `unread_count`, ordered by
    /// id. Paged: pass `next_cursor` back as `cursor`.
    #[oai(path = "/", method = "get", operation_id = "list_conversations")]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size.
        limit: Query<Limit<100, 200>>,
    ) -> ApiResult<Json<ConversationPage>> {
        let page = state
            .conversations
            .list(auth.actor(), cursor.0.as_deref(), limit.0.0)
            .await?;
        Ok(Json(page.into()))
    }

    /// One conversation (members, invitees, or anyone for a public room).
    #[oai(path = "/:id", method = "get", operation_id = "get_conversation")]
    async fn get(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
    ) -> ApiResult<Json<Conversation>> {
        Ok(Json(state.conversations.get(auth.actor(), id.0).await?))
    }

    /// Members with presence (members only), ordered by username. Paged: pass `next_cursor`
    /// back as `cursor`.
    #[oai(path = "/:id/members", method = "get", operation_id = "list_members")]
    async fn members(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Page size.
        limit: Query<Limit<100, 500>>,
    ) -> ApiResult<Json<MemberPage>> {
        let page = state
            .conversations
            .members(auth.actor(), id.0, cursor.0.as_deref(), limit.0.0)
            .await?;
        Ok(Json(page.into()))
    }

    /// History by sequence number (members only). `after_seq`: the first `limit` messages after
    /// it; otherwise the last `limit` before `before_seq` (or the latest).
    #[oai(path = "/:id/messages", method = "get", operation_id = "list_messages")]
    #[allow(clippy::too_many_arguments)] // one per query parameter
    async fn history(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        /// Only messages with a smaller seq.
        before_seq: Query<Option<i64>>,
        /// Only messages with a larger seq (oldest first).
        after_seq: Query<Option<i64>>,
        /// A page centred on this seq (to jump to a quoted message); `has_more` then tells
        /// whether older messages exist. Ignores `before_seq` and `after_seq`.
        around_seq: Query<Option<i64>>,
        /// Page size.
        limit: Query<Limit<50, 100>>,
    ) -> ApiResult<Json<MessagePage>> {
        let page = state
            .messages
            .history(
                auth.actor(),
                id.0,
                before_seq.0,
                after_seq.0,
                around_seq.0,
                limit.0.0,
            )
            .await?;
        Ok(Json(MessagePage {
            messages: page.messages,
            has_more: page.has_more,
        }))
    }

    /// Sends a message (members only). Answered after the message is committed; 200 with the
    /// original message when `client_id` was already used by the caller.
    #[oai(path = "/:id/messages", method = "post", operation_id = "send_message")]
    async fn send(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        body: Json<SendMessageRequest>,
    ) -> ApiResult<MessageSent> {
        let Json(req) = body;
        let sent = state
            .messages
            .send(
                auth.actor(),
                id.0,
                &req.body,
                req.client_id.as_deref(),
                req.reply_to_seq,
            )
            .await?;
        Ok(if sent.duplicate {
            MessageSent::Duplicate(Json(sent.message))
        } else {
            MessageSent::Created(Json(sent.message))
        })
    }

    /// Marks the conversation read up to `seq` (members only).
    #[oai(path = "/:id/read", method = "post", operation_id = "mark_read")]
    async fn read(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        body: Json<ReadRequest>,
    ) -> ApiResult<ReadSaved> {
        state
            .receipts
            .mark_read(auth.actor(), id.0, body.0.seq)
            .await?;
        Ok(ReadSaved::NoContent)
    }
}
