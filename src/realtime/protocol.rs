//! WebSocket frames: JSON text with a `type` field, snake_case (docs/realtime.md).

use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Utf8Bytes;
use uuid::Uuid;

use crate::service::views::{ConversationView, MessageView, UserView};

/// Server → client frames.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    /// First frame of every connection.
    Ready {
        /// The connected account.
        user: &'a UserView,
        /// My conversations (joined and invited).
        conversations: &'a [ConversationView],
        /// Users sharing a conversation with me who are online.
        online: &'a [Uuid],
    },
    /// A new message in a conversation I am in.
    Message {
        /// The message.
        message: &'a MessageView,
    },
    /// My `send` was committed (or was a resend: the original message).
    Ack {
        /// The idempotency key of the send.
        client_id: &'a str,
        /// The stored message.
        message: &'a MessageView,
    },
    /// Someone is typing.
    Typing {
        /// Where.
        conversation_id: Uuid,
        /// Who.
        user_id: Uuid,
        /// Who, by name.
        username: &'a str,
    },
    /// A user went online or offline.
    Presence {
        /// Who.
        user_id: Uuid,
        /// Who, by name.
        username: &'a str,
        /// `online` or `offline`.
        status: &'a str,
    },
    /// A user joined a conversation I am in.
    MemberJoined {
        /// Where.
        conversation_id: Uuid,
        /// Who.
        user: &'a UserView,
    },
    /// A user left a conversation I am in.
    MemberLeft {
        /// Where.
        conversation_id: Uuid,
        /// Who.
        user_id: Uuid,
    },
    /// I joined, was invited to, or was messaged in a new conversation.
    ConversationAdded {
        /// The conversation from my point of view.
        conversation: &'a ConversationView,
    },
    /// The gap asked for by `resume` is too large: reload history over REST.
    ResyncRequired {
        /// Which conversation.
        conversation_id: Uuid,
    },
    /// A frame was refused.
    Error {
        /// Stable snake_case code.
        code: &'a str,
        /// Human-readable text.
        message: &'a str,
        /// The `client_id` of the refused `send`, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<&'a str>,
    },
    /// Reply to `ping`.
    Pong,
}

impl ServerFrame<'_> {
    /// Serializes once into a shareable buffer (cloning it does not copy the bytes).
    pub fn encode(&self) -> Utf8Bytes {
        match serde_json::to_string(self) {
            Ok(json) => Utf8Bytes::from(json),
            Err(err) => {
                tracing::error!(error = %err, "cannot serialize frame");
                Utf8Bytes::from_static(
                    r#"{"type":"error","code":"internal_error","message":"internal error"}"#,
                )
            }
        }
    }
}

/// Client → server frames.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Post a message.
    Send {
        /// Target conversation.
        conversation_id: Uuid,
        /// Idempotency key (1–64 printable ASCII).
        client_id: String,
        /// Text, 1–4000 characters.
        body: String,
    },
    /// Ask for the messages after `after_seq`.
    Resume {
        /// Which conversation.
        conversation_id: Uuid,
        /// Last seq the client has.
        after_seq: i64,
    },
    /// I am typing.
    Typing {
        /// Where.
        conversation_id: Uuid,
    },
    /// I have read up to `seq`.
    Read {
        /// Where.
        conversation_id: Uuid,
        /// Up to which seq.
        seq: i64,
    },
    /// Keep-alive; answered with `pong`.
    Ping,
}

/// The frame types a client may send.
pub const CLIENT_TYPES: [&str; 5] = ["send", "resume", "typing", "read", "ping"];

/// Why a client frame was refused: `(code, message)`.
pub type FrameError = (&'static str, String);

/// Parses a client text frame. Errors: `invalid_frame` (not JSON, missing or wrong fields) or
/// `unknown_type`.
pub fn parse_client_frame(text: &str) -> Result<ClientFrame, FrameError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ("invalid_frame", format!("frame is not valid JSON: {e}")))?;
    let kind = value
        .get("type")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            (
                "invalid_frame",
                "frame has no string field \"type\"".to_owned(),
            )
        })?;
    if !CLIENT_TYPES.contains(&kind.as_str()) {
        return Err(("unknown_type", format!("unknown frame type {kind:?}")));
    }
    serde_json::from_value(value)
        .map_err(|e| ("invalid_frame", format!("invalid {kind} frame: {e}")))
}
