//! Conversations in depth: one message, edits, reactions, pins, read receipts and my
//! notification level. (Sending and history are in `conversations.rs`; deleting is in
//! `moderation.rs`.)

use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};

use super::{
    ApiTags,
    strict::{MessageBodyRule, Text},
};
use crate::{
    domain::{Conversation, ConversationId, Message, NotifyLevel, ReactionUsers, Receipt},
    http::{error::ApiResult, security::Auth},
    state::AppState,
};

/// Body of `PATCH /conversations/{id}/messages/{seq}`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct EditMessageRequest {
    /// The new text: 1–4000 characters (trailing whitespace is trimmed).
    pub body: Text<MessageBodyRule>,
}

/// Body of `PUT /conversations/{id}/notifications`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NotifyRequest {
    /// `all`, `mentions` (only messages that mention me) or `none` (muted; mentions of me still
    /// notify).
    pub level: NotifyLevel,
}

/// Answer of `GET /conversations/{id}/messages/{seq}/reactions`.
#[derive(Debug, Object)]
pub struct ReactionList {
    /// Per emoji, in order of first use, everyone who reacted with it.
    pub reactions: Vec<ReactionUsers>,
}

/// Answer of `GET /conversations/{id}/pins`.
#[derive(Debug, Object)]
pub struct PinnedMessages {
    /// The pinned messages, newest pin first (at most 100).
    pub messages: Vec<Message>,
}

/// Answer of `GET /conversations/{id}/receipts`.
#[derive(Debug, Object)]
pub struct ReceiptList {
    /// The other members' shared read positions (DMs and groups; empty for rooms, and without
    /// members who turned read receipts off or never read anything).
    pub receipts: Vec<Receipt>,
}

/// Message actions API.
pub struct MessageActionsApi;

#[OpenApi(prefix_path = "/conversations", tag = "ApiTags::Conversations")]
impl MessageActionsApi {
    /// One message (members only; for a reply's quoted message, a link, a pin).
    #[oai(
        path = "/:id/messages/:seq",
        method = "get",
        operation_id = "get_message"
    )]
    async fn get(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        seq: Path<i64>,
    ) -> ApiResult<Json<Message>> {
        Ok(Json(state.messages.get(auth.actor(), id.0, seq.0).await?))
    }

    /// Edits my message (its author only, while a member, within `[messages]
    /// edit_window_secs`; mentions are resolved again). Members get `message_updated` in order
    /// with new messages; history shows `edited_at`. Counts against the send rate.
    #[oai(
        path = "/:id/messages/:seq",
        method = "patch",
        operation_id = "edit_message"
    )]
    async fn edit(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        seq: Path<i64>,
        body: Json<EditMessageRequest>,
    ) -> ApiResult<Json<Message>> {
        Ok(Json(
            state
                .message_changes
                .edit(auth.actor(), id.0, seq.0, body.0.body.as_str())
                .await?,
        ))
    }

    /// Adds my reaction (one Unicode emoji, URL-encoded in the path); idempotent. At most 20
    /// different emojis per message. Members get `message_updated`.
    #[oai(
        path = "/:id/messages/:seq/reactions/:emoji",
        method = "put",
        operation_id = "add_reaction"
    )]
    async fn react(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        seq: Path<i64>,
        emoji: Path<String>,
    ) -> ApiResult<Json<Message>> {
        Ok(Json(
            state
                .message_changes
                .react(auth.actor(), id.0, seq.0, &emoji.0, true)
                .await?,
        ))
    }

    /// Removes my reaction; idempotent. Members get `message_updated`.
    #[oai(
        path = "/:id/messages/:seq/reactions/:emoji",
        method = "delete",
        operation_id = "remove_reaction"
    )]
    async fn unreact(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        seq: Path<i64>,
        emoji: Path<String>,
    ) -> ApiResult<Json<Message>> {
        Ok(Json(
            state
                .message_changes
                .react(auth.actor(), id.0, seq.0, &emoji.0, false)
                .await?,
        ))
    }

    /// Everyone who reacted to a message, per emoji (the message's `reactions` lists at most 50
    /// users per emoji).
    #[oai(
        path = "/:id/messages/:seq/reactions",
        method = "get",
        operation_id = "list_reactions"
    )]
    async fn reactions(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        seq: Path<i64>,
    ) -> ApiResult<Json<ReactionList>> {
        Ok(Json(ReactionList {
            reactions: state
                .message_changes
                .reactions(auth.actor(), id.0, seq.0)
                .await?,
        }))
    }

    /// The pinned messages, newest pin first (members only).
    #[oai(path = "/:id/pins", method = "get", operation_id = "list_pins")]
    async fn pins(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
    ) -> ApiResult<Json<PinnedMessages>> {
        Ok(Json(PinnedMessages {
            messages: state.message_changes.pins(auth.actor(), id.0).await?,
        }))
    }

    /// Pins a message (`message.pin`: room owners and moderators, `rooms.moderate`, group
    /// owners and moderators, both people of a DM); idempotent. Members get `message_updated`.
    #[oai(path = "/:id/pins/:seq", method = "put", operation_id = "pin_message")]
    async fn pin(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        seq: Path<i64>,
    ) -> ApiResult<Json<Message>> {
        Ok(Json(
            state
                .message_changes
                .pin(auth.actor(), id.0, seq.0, true)
                .await?,
        ))
    }

    /// Unpins a message (`message.pin`); idempotent. Members get `message_updated`.
    #[oai(
        path = "/:id/pins/:seq",
        method = "delete",
        operation_id = "unpin_message"
    )]
    async fn unpin(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        seq: Path<i64>,
    ) -> ApiResult<Json<Message>> {
        Ok(Json(
            state
                .message_changes
                .pin(auth.actor(), id.0, seq.0, false)
                .await?,
        ))
    }

    /// The other members' read positions (read receipts): DMs and groups; empty for rooms.
    /// `read_receipt` frames tell changes.
    #[oai(path = "/:id/receipts", method = "get", operation_id = "list_receipts")]
    async fn receipts(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
    ) -> ApiResult<Json<ReceiptList>> {
        Ok(Json(ReceiptList {
            receipts: state.receipts.receipts(auth.actor(), id.0).await?,
        }))
    }

    /// Sets my notification level here (it follows me to every device); answers the
    /// conversation with its new `notify`.
    #[oai(
        path = "/:id/notifications",
        method = "put",
        operation_id = "set_notification_level"
    )]
    async fn notify(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<ConversationId>,
        body: Json<NotifyRequest>,
    ) -> ApiResult<Json<Conversation>> {
        state
            .receipts
            .set_notify(auth.actor(), id.0, body.0.level)
            .await?;
        Ok(Json(state.conversations.get(auth.actor(), id.0).await?))
    }
}
