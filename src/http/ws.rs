//! `GET /api/v1/ws`: the WebSocket upgrade (RFC 6455 §4.2.2), done here rather than with poem's
//! `WebSocket` extractor so that sessions get tokio-tungstenite frames directly: text frames are
//! `Utf8Bytes`, so one encoded frame is shared by every recipient without copying, and an
//! oversized frame is recognisable (close 1009).

use poem::{
    Request, Response, handler,
    http::{StatusCode, header},
    web::Data,
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        handshake::derive_accept_key,
        protocol::{Role, WebSocketConfig},
    },
};

use super::{error::json_response, security::authenticate_request};
use crate::{
    domain::{DomainError, ErrorCode},
    realtime::connection,
    state::AppState,
};

/// Largest accepted client frame/message: 64 KiB.
pub const MAX_FRAME: usize = 64 * 1024;

/// Per-connection buffers: a 1 KiB read buffer instead of tungstenite's 128 KiB default (an idle
/// connection keeps it; client frames are small, a larger one grows it as needed), frames
/// written through at once, and at most 1 MiB buffered for a slow socket.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(Some(MAX_FRAME))
        .max_frame_size(Some(MAX_FRAME))
}

/// Upgrades an authenticated request. Errors (JSON): 400 not a WebSocket handshake,
/// 401 no valid credentials, 403 cookie from a foreign Origin, 503 shutting down.
#[handler]
pub async fn upgrade(req: &Request, Data(state): Data<&AppState>) -> Response {
    let actor = match authenticate_request(req, state).await {
        Ok(actor) => actor,
        Err(DomainError::Forbidden(code, message)) => {
            return json_response(StatusCode::FORBIDDEN, code, &message);
        }
        Err(DomainError::Unauthorized(code, message)) => {
            return json_response(StatusCode::UNAUTHORIZED, code, &message);
        }
        Err(err) => {
            tracing::error!(error = %err, "WebSocket upgrade failed");
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalError,
                "internal error",
            );
        }
    };
    if state.shutdown.is_cancelled() {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ShuttingDown,
            "the server is shutting down",
        );
    }
    let upgrade_ok = req
        .header("upgrade")
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
        && req.header("connection").is_some_and(|c| {
            c.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        })
        && req.header("sec-websocket-version") == Some("13");
    let (Some(key), true) = (req.header("sec-websocket-key"), upgrade_ok) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "expected a WebSocket upgrade (RFC 6455)",
        );
    };
    let accept = derive_accept_key(key.as_bytes());
    let Ok(on_upgrade) = req.take_upgrade() else {
        return json_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "connection cannot be upgraded",
        );
    };
    let state = state.clone();
    let handshake_timeout = state.config.http.websocket_handshake_timeout();
    state.ws_tasks.clone().spawn(async move {
        // From here to a WebSocket stream: hyper hands the socket over once the 101 is written
        // and the request is over. Bounded (`[http] websocket_handshake_timeout_secs`) so that a
        // handshake that never completes does not keep this task, which shutdown waits for.
        let handshake = async {
            let upgraded = on_upgrade.await.ok()?;
            Some(WebSocketStream::from_raw_socket(upgraded, Role::Server, Some(ws_config())).await)
        };
        let ws = match handshake_timeout {
            Some(limit) => tokio::time::timeout(limit, handshake).await.ok().flatten(),
            None => handshake.await,
        };
        match ws {
            Some(ws) => connection::serve(state, actor, ws).await,
            None => tracing::debug!(user = %actor.user, "WebSocket handshake not completed"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sockets_use_small_buffers_and_the_64_kib_frame_limit() {
        let config = super::ws_config();
        assert_eq!(
            config.read_buffer_size, 1024,
            "not tungstenite's 128 KiB default"
        );
        assert_eq!(config.max_message_size, Some(64 * 1024));
        assert_eq!(config.max_frame_size, Some(64 * 1024));
    }
}
