//! My conversations, their members and messages.

use super::strict::Text;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{
    ApiTags,
    dto::{Conversation, Member, Message},
};
use crate::{
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// Body of `POST /conversations/{id}/messages`.
#[derive(Debug, Object)]
pub struct SendMessageRequest {
    /// 1–4000 characters (trailing whitespace is trimmed).
    pub body: Text,
    /// Idempotency key (1–64 printable ASCII): a resend returns the original message.
    pub client_id: Option<Text>,
}

/// Body of `POST /conversations/{id}/read`.
#[derive(Debug, Object)]
pub struct ReadRequest {
    /// Mark everything up to this sequence number as read.
    pub seq: i64,
}

/// A page of history.
#[derive(Debug, Object)]
pub struct MessagePage {
    /// Messages ascending by seq.
    pub messages: Vec<Message>,
    /// More messages exist beyond this page (older for `before_seq`/latest, newer for `after_seq`).
    pub has_more: bool,
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
    /// My conversations (joined, plus invitations) with `last_seq` and `unread_count`.
    #[oai(path = "/", method = "get", operation_id = "list_conversations")]
    async fn list(&self, auth: Auth, state: Data<&AppState>) -> ApiResult<Json<Vec<Conversation>>> {
        let list = state.conversations.list(auth.user().id.0).await?;
        Ok(Json(list.into_iter().map(Into::into).collect()))
    }

    /// One conversation (members, invitees, or anyone for a public room).
    #[oai(path = "/:id", method = "get", operation_id = "get_conversation")]
    async fn get(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Conversation>> {
        Ok(Json(
            state.conversations.get(auth.user(), id.0).await?.into(),
        ))
    }

    /// Members with presence (members only).
    #[oai(path = "/:id/members", method = "get", operation_id = "list_members")]
    async fn members(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<Member>>> {
        let list = state.conversations.members(auth.user(), id.0).await?;
        Ok(Json(list.into_iter().map(Into::into).collect()))
    }

    /// History by sequence number (members only). `after_seq`: the first `limit` messages after
    /// it; otherwise the last `limit` before `before_seq` (or the latest). `limit` 1–100, default 50.
    #[oai(path = "/:id/messages", method = "get", operation_id = "list_messages")]
    async fn history(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        before_seq: Query<Option<i64>>,
        after_seq: Query<Option<i64>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<MessagePage>> {
        let page = state
            .messages
            .history(
                auth.user(),
                id.0,
                before_seq.0,
                after_seq.0,
                limit.0.unwrap_or(50),
            )
            .await?;
        Ok(Json(MessagePage {
            messages: page.messages.into_iter().map(Into::into).collect(),
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
        id: Path<Uuid>,
        body: Json<SendMessageRequest>,
    ) -> ApiResult<MessageSent> {
        let Json(req) = body;
        let sent = state
            .messages
            .send(
                auth.user(),
                id.0,
                &req.body,
                req.client_id.as_ref().map(|c| c.as_str()),
            )
            .await?;
        Ok(if sent.duplicate {
            MessageSent::Duplicate(Json(sent.message.into()))
        } else {
            MessageSent::Created(Json(sent.message.into()))
        })
    }

    /// Marks the conversation read up to `seq` (members only).
    #[oai(path = "/:id/read", method = "post", operation_id = "mark_read")]
    async fn read(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        body: Json<ReadRequest>,
    ) -> ApiResult<ReadSaved> {
        state
            .messages
            .mark_read(auth.user(), id.0, body.0.seq)
            .await?;
        Ok(ReadSaved::NoContent)
    }
}
