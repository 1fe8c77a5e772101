//! One WebSocket session: sends `ready`, forwards the hub's frames, and handles client frames.
//!
//! Two loops: the writer owns the socket's sink and drains the connection's bounded queue; the
//! reader parses client frames. `send` frames run concurrently (at most [`MAX_IN_FLIGHT`] per
//! connection) so one client can pipeline. On exit the reader waits for its in-flight sends, so
//! every accepted `send` is answered (ack or error) before the close frame: on server shutdown
//! (1001), a too-slow consumer (1013), or an oversized frame (1009).

use std::{collections::HashMap, time::Duration};

use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use poem::Upgraded;
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinSet,
    time::Instant,
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        Error as WsError, Message, Utf8Bytes,
        protocol::{CloseFrame, frame::coding::CloseCode},
    },
};
use uuid::Uuid;

use super::protocol::{ClientFrame, ServerFrame, parse_client_frame};
use crate::{
    domain::DomainError,
    service::{AuthUser, messages::Resume},
    state::AppState,
};

/// Most `send` frames one connection may have waiting for their commit.
pub const MAX_IN_FLIGHT: usize = 64;
/// Server ping interval; a connection silent for 3 intervals is dropped.
const PING_EVERY: Duration = Duration::from_secs(30);
/// How long a close handshake may wait for a client that does not read.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long, at shutdown, frames already sent by the client are read so their sends can be refused.
const DRAIN_AT_SHUTDOWN: Duration = Duration::from_millis(200);
/// Minimum interval between relayed typing frames per conversation.
const TYPING_EVERY: Duration = Duration::from_secs(1);

type Sink = SplitSink<WebSocketStream<Upgraded>, Message>;

/// Serves one authenticated WebSocket until it closes.
pub async fn serve(state: AppState, user: AuthUser, mut ws: WebSocketStream<Upgraded>) {
    let uid = user.id.0;
    // Register first, then load and subscribe: a join racing this start is not lost.
    let reg = state.hub.register(uid, user.session);
    let (me, conversations) =
        match tokio::try_join!(state.auth.me(&user), state.conversations.list(uid)) {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(error = %err, user = %uid, "cannot start WebSocket session");
                state.hub.unregister(reg.id);
                let _ = ws
                    .close(Some(close(CloseCode::Policy, "session unavailable")))
                    .await;
                return;
            }
        };
    for c in conversations
        .iter()
        .filter(|c| c.membership.as_deref() == Some("joined"))
    {
        state.hub.subscribe(uid, c.id);
    }
    if reg.first {
        let frame = ServerFrame::Presence {
            user_id: uid,
            username: &user.username,
            status: "online",
        }
        .encode();
        state.hub.publish_to_peers(uid, &frame, None);
    }
    let online = state.hub.online_peers(uid);
    let ready = ServerFrame::Ready {
        user: &me,
        conversations: &conversations,
        online: &online,
    }
    .encode();

    let (mut sink, mut stream) = ws.split();
    let (close_tx, close_rx) = oneshot::channel::<CloseFrame>();
    let ready_sent = sink.send(Message::Text(ready)).await.is_ok();
    let mut open = ready_sent;
    let writer = tokio::spawn(write_loop(sink, reg.rx, reg.overflow.clone(), close_rx));

    let expires = token_expiry(&user);
    let mut session = Session {
        state: state.clone(),
        user,
        conn_tx: reg.tx,
        overflow: reg.overflow.clone(),
        in_flight: JoinSet::new(),
        typing: HashMap::new(),
    };
    let mut reason = close(CloseCode::Normal, "bye");
    let mut last_seen = Instant::now();
    let mut ping = tokio::time::interval(PING_EVERY);
    while open {
        tokio::select! {
            biased;
            () = state.shutdown.cancelled() => {
                reason = close(CloseCode::Away, "server shutting down");
                open = false;
            }
            () = reg.overflow.cancelled() => break,
            () = reg.kick.cancelled() => {
                reason = close(CloseCode::Policy, "session ended: sign in again");
                break;
            }
            () = tokio::time::sleep_until(expires) => {
                reason = close(CloseCode::Policy, "access token expired: refresh and reconnect");
                break;
            }
            _ = ping.tick() => {
                if last_seen.elapsed() > PING_EVERY * 3 {
                    reason = close(CloseCode::Away, "idle");
                    break;
                }
            }
            frame = stream.next() => {
                last_seen = Instant::now();
                match frame {
                    Some(Ok(Message::Text(text))) => session.handle(&text).await,
                    Some(Ok(Message::Binary(_))) => session.reply_error("invalid_frame", "frames must be JSON text", None).await,
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => {}
                    Some(Err(WsError::Capacity(_))) => {
                        reason = close(CloseCode::Size, "frame larger than 64 KiB");
                        break;
                    }
                    Some(Err(err)) => {
                        tracing::debug!(error = %err, "WebSocket read error");
                        break;
                    }
                }
            }
        }
    }
    // Stop fan-out to this connection first (a slow consumer must not hold anything up).
    let convs = state.hub.conversations_of(uid);
    if state.hub.unregister(reg.id) {
        let frame = ServerFrame::Presence {
            user_id: uid,
            username: &me.username,
            status: "offline",
        }
        .encode();
        state.hub.publish_to_peers(uid, &frame, Some(&convs));
    }
    if state.shutdown.is_cancelled() {
        session.refuse_buffered_sends(&mut stream).await;
    }
    // Every accepted send is answered (ack or error) before the close frame.
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while session.in_flight.join_next().await.is_some() {}
    })
    .await;
    let _ = close_tx.send(reason);
    drop(session);
    let _ = writer.await;
}

/// The instant the connection's access token expires.
fn token_expiry(user: &AuthUser) -> Instant {
    let left = user
        .expires_at
        .saturating_sub(chrono::Utc::now().timestamp())
        .max(0);
    Instant::now() + Duration::from_secs(u64::try_from(left).unwrap_or(0))
}

fn close(code: CloseCode, reason: &'static str) -> CloseFrame {
    CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }
}

async fn write_loop(
    mut sink: Sink,
    mut rx: mpsc::Receiver<Utf8Bytes>,
    overflow: tokio_util::sync::CancellationToken,
    mut close_rx: oneshot::Receiver<CloseFrame>,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let reason = loop {
        tokio::select! {
            biased;
            _ = ping.tick() => {
                // The client's pong counts as activity on the read side.
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            () = overflow.cancelled() => break close(CloseCode::Again, "too slow: resume by seq"),
            reason = &mut close_rx => {
                // Flush what is already queued (acks of the last sends), then close.
                while let Ok(frame) = rx.try_recv() {
                    if sink.feed(Message::Text(frame)).await.is_err() {
                        break;
                    }
                }
                break reason.unwrap_or_else(|_| close(CloseCode::Normal, "bye"));
            }
            frame = rx.recv() => match frame {
                Some(frame) => tokio::select! {
                    biased;
                    // A send blocked on a full socket must not hide the overflow; the partly
                    // written frame stays buffered and is flushed before the close frame.
                    () = overflow.cancelled() => break close(CloseCode::Again, "too slow: resume by seq"),
                    sent = sink.send(Message::Text(frame)) => if sent.is_err() { return },
                },
                None => break close(CloseCode::Normal, "bye"),
            },
        }
    };
    // A client that does not read cannot hold the task forever.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        let _ = sink.send(Message::Close(Some(reason))).await;
        let _ = sink.close().await;
    })
    .await;
}

struct Session {
    state: AppState,
    user: AuthUser,
    conn_tx: mpsc::Sender<Utf8Bytes>,
    overflow: tokio_util::sync::CancellationToken,
    in_flight: JoinSet<()>,
    typing: HashMap<Uuid, Instant>,
}

impl Session {
    /// Queues a reply. A client whose queue is full is not reading: it is a slow consumer like
    /// any other (closed with 1013), and the reader never blocks on it.
    async fn reply(&self, frame: Utf8Bytes) {
        super::hub::queue(&self.conn_tx, &self.overflow, frame);
    }

    async fn reply_error(&self, code: &str, message: &str, client_id: Option<&str>) {
        self.reply(
            ServerFrame::Error {
                code,
                message,
                client_id,
            }
            .encode(),
        )
        .await;
    }

    async fn reply_domain_error(&self, err: &DomainError, client_id: Option<&str>) {
        self.reply(error_frame(err, client_id)).await;
    }

    /// At shutdown: reads the frames the client already sent and refuses each `send` with
    /// `shutting_down`, so no send is left without an answer.
    async fn refuse_buffered_sends(
        &mut self,
        stream: &mut futures_util::stream::SplitStream<WebSocketStream<Upgraded>>,
    ) {
        let deadline = Instant::now() + DRAIN_AT_SHUTDOWN;
        while let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout_at(deadline, stream.next()).await
        {
            if let Ok(ClientFrame::Send { client_id, .. }) = parse_client_frame(&text) {
                self.reply_domain_error(&DomainError::ShuttingDown, Some(&client_id))
                    .await;
            }
        }
    }

    async fn handle(&mut self, text: &str) {
        let frame = match parse_client_frame(text) {
            Ok(frame) => frame,
            Err((code, message)) => return self.reply_error(code, &message, None).await,
        };
        match frame {
            ClientFrame::Send {
                conversation_id,
                client_id,
                body,
            } => {
                while self.in_flight.len() >= MAX_IN_FLIGHT {
                    self.in_flight.join_next().await;
                }
                // Validated, authorized and queued to the writer here, in arrival order, so the
                // sends of one connection get increasing seqs; only the commit is awaited apart.
                let submitted = self
                    .state
                    .messages
                    .submit(&self.user, conversation_id, &body, Some(&client_id))
                    .await;
                let pending = match submitted {
                    Ok(pending) => pending,
                    Err(err) => return self.reply_domain_error(&err, Some(&client_id)).await,
                };
                let (tx, overflow) = (self.conn_tx.clone(), self.overflow.clone());
                self.in_flight.spawn(async move {
                    let frame = match pending.outcome().await {
                        Ok(sent) => ServerFrame::Ack {
                            client_id: &client_id,
                            message: &sent.message,
                        }
                        .encode(),
                        Err(err) => error_frame(&err, Some(&client_id)),
                    };
                    super::hub::queue(&tx, &overflow, frame);
                });
            }
            ClientFrame::Resume {
                conversation_id,
                after_seq,
            } => {
                // A resume must fit in the connection's queue next to live traffic.
                let realtime = &self.state.config.realtime;
                let max = realtime
                    .resume_max_messages
                    .min(realtime.outgoing_queue_frames as u64 / 2);
                match self
                    .state
                    .messages
                    .resume(&self.user, conversation_id, after_seq, max)
                    .await
                {
                    Ok(Resume::Messages(messages)) => {
                        for message in &messages {
                            self.reply(ServerFrame::Message { message }.encode()).await;
                        }
                    }
                    Ok(Resume::ResyncRequired) => {
                        self.reply(ServerFrame::ResyncRequired { conversation_id }.encode())
                            .await
                    }
                    Err(err) => self.reply_domain_error(&err, None).await,
                }
            }
            ClientFrame::Typing { conversation_id } => {
                let uid = self.user.id.0;
                if !self.state.hub.is_subscribed(uid, conversation_id) {
                    return self
                        .reply_error("not_a_member", "join this conversation first", None)
                        .await;
                }
                let now = Instant::now();
                if self
                    .typing
                    .get(&conversation_id)
                    .is_some_and(|t| now.duration_since(*t) < TYPING_EVERY)
                {
                    return;
                }
                self.typing.insert(conversation_id, now);
                let frame = ServerFrame::Typing {
                    conversation_id,
                    user_id: uid,
                    username: &self.user.username,
                }
                .encode();
                self.state.hub.publish(conversation_id, &frame, Some(uid));
            }
            ClientFrame::Read {
                conversation_id,
                seq,
            } => {
                if let Err(err) = self
                    .state
                    .messages
                    .mark_read(&self.user, conversation_id, seq)
                    .await
                {
                    self.reply_domain_error(&err, None).await;
                }
            }
            ClientFrame::Ping => self.reply(ServerFrame::Pong.encode()).await,
        }
    }
}

fn error_frame(err: &DomainError, client_id: Option<&str>) -> Utf8Bytes {
    let message = match err {
        DomainError::Internal(inner) => {
            let id = Uuid::new_v4();
            tracing::error!(error_id = %id, error = %inner, "internal error in WebSocket session");
            format!("internal error (id {id})")
        }
        other => other.to_string(),
    };
    ServerFrame::Error {
        code: err.code(),
        message: &message,
        client_id,
    }
    .encode()
}
