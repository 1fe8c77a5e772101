//! One WebSocket session: sends `ready`, forwards the hub's frames, and handles client frames.
//!
//! Two loops: the writer owns the socket's sink and drains the connection's bounded queue; the
//! reader parses client frames. `send` frames run concurrently (at most [`MAX_IN_FLIGHT`] per
//! connection) so one client can pipeline. On exit the reader waits for its in-flight sends, so
//! every accepted `send` is answered (ack or error) before the close frame: on server shutdown
//! (1001), a too-slow consumer (1013), an oversized frame (1009), invalid UTF-8 (1007) or a
//! protocol violation (1002).
//!
//! Liveness: the server pings every `ping_interval_secs`; a client from which nothing (not even a
//! pong) arrived for two intervals is closed with 1001 ("idle").

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

use super::{
    hub::{ConnId, WatchRefused},
    protocol::{
        AckFrame, ClientFrame, MessageDeletedFrame, MessageFrame, MessageUpdatedFrame, PongFrame,
        ReadyFrame, ReadyNotice, ResyncRequiredFrame, ServerFrame, WatchingFrame,
        parse_client_frame,
    },
};
use crate::{
    domain::{Actor, ConversationId, DomainError, ErrorCode, Permission},
    events::Event,
    service::messages::Resume,
    state::AppState,
};

/// Most `send` frames one connection may have waiting for their commit.
pub const MAX_IN_FLIGHT: usize = 64;
/// Largest `ready` frame: the 64 KiB frame limit, with room to spare.
pub const READY_MAX_BYTES: usize = 60 * 1024;
/// Conversations and online users in a `ready` frame, before halving to fit.
const READY_CONVERSATIONS: u64 = 50;
const READY_ONLINE: usize = 500;
/// Missed DMs in a `ready` frame, before halving to fit.
const READY_MISSED: usize = 50;
/// How long a close handshake may wait for a client that does not read.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long, at shutdown, frames already sent by the client are read so their sends can be refused.
const DRAIN_AT_SHUTDOWN: Duration = Duration::from_millis(200);
/// Minimum interval between relayed typing frames per conversation.
const TYPING_EVERY: Duration = Duration::from_secs(1);

type Sink = SplitSink<WebSocketStream<Upgraded>, Message>;

/// Serves one authenticated WebSocket until it closes.
pub async fn serve(state: AppState, actor: Actor, mut ws: WebSocketStream<Upgraded>) {
    let uid = actor.user;
    let hub = &state.hub;
    // Register first, then load and subscribe: a join racing this start is not lost.
    let reg = hub.register(uid, &actor.username, actor.session);
    // Boxed: the futures of use cases (with their database queries) are large, and a future
    // awaited inline would make every idle session's task as large as the largest of them.
    let ready = match Box::pin(start(&state, &actor, reg.subscribed)).await {
        Ok(ready) => ready,
        Err(err) => {
            tracing::warn!(error = %err, user = %uid, "cannot start WebSocket session");
            finish(&state, &actor, reg.id);
            let _ = ws
                .close(Some(close(CloseCode::Policy, "session unavailable")))
                .await;
            return;
        }
    };
    if reg.came_online {
        // Through the hub, so that this announcement is ordered with the user's later ones.
        state.hub.announce_online(uid);
    }

    let (mut sink, mut stream) = ws.split();
    let (close_tx, close_rx) = oneshot::channel::<CloseFrame>();
    let ping_every = state.config.realtime.ping_interval();
    let ready_sent = matches!(
        tokio::time::timeout(ping_every * 2, sink.send(Message::Text(ready))).await,
        Ok(Ok(()))
    );
    let mut open = ready_sent;
    let writer = tokio::spawn(write_loop(
        sink,
        reg.rx,
        reg.overflow.clone(),
        close_rx,
        ping_every,
    ));

    let expires = token_expiry(&actor);
    let mut session = Session {
        state: state.clone(),
        actor,
        conn: reg.id,
        conn_tx: reg.tx,
        overflow: reg.overflow.clone(),
        in_flight: JoinSet::new(),
        typing: HashMap::new(),
    };
    let mut reason = close(CloseCode::Normal, "bye");
    let mut last_seen = Instant::now();
    let mut ping = tokio::time::interval(ping_every);
    while open {
        tokio::select! {
            biased;
            () = state.shutdown.cancelled() => {
                reason = close(CloseCode::Away, "server shutting down");
                open = false;
            }
            () = reg.overflow.cancelled() => break,
            () = reg.resync.cancelled() => {
                reason = close(CloseCode::Restart, "events may have been missed: reconnect and resume");
                break;
            }
            () = reg.kick.cancelled() => {
                // The close reason is the `SessionEndReason` (`idle`, `logged_out_elsewhere`…),
                // so the client can tell the person why.
                let why = reg.ended.get().copied().or_else(|| state.access.known_end(session.actor.session));
                reason = close(CloseCode::Policy, why.map_or("session_ended", |r| r.as_str()));
                break;
            }
            () = tokio::time::sleep_until(expires) => {
                reason = close(CloseCode::Policy, "access token expired: refresh and reconnect");
                break;
            }
            _ = ping.tick() => {
                if last_seen.elapsed() > ping_every * 2 {
                    reason = close(CloseCode::Away, "idle: no pong");
                    break;
                }
            }
            frame = stream.next() => {
                last_seen = Instant::now();
                match frame {
                    // Boxed for the reason given at `start` above.
                    Some(Ok(Message::Text(text))) => Box::pin(session.handle(&text)).await,
                    Some(Ok(Message::Binary(_))) => session.reply_error(ErrorCode::InvalidFrame, "frames must be JSON text", None),
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => {}
                    Some(Err(WsError::Capacity(_))) => {
                        reason = close(CloseCode::Size, "frame larger than 64 KiB");
                        break;
                    }
                    Some(Err(WsError::Utf8(_))) => {
                        reason = close(CloseCode::Invalid, "text frame is not valid UTF-8");
                        break;
                    }
                    Some(Err(WsError::Protocol(err))) => {
                        tracing::debug!(error = %err, "WebSocket protocol error");
                        reason = close(CloseCode::Protocol, "WebSocket protocol error");
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
    let actor = session.actor.clone();
    finish(&state, &actor, reg.id);
    if state.shutdown.is_cancelled() {
        Box::pin(session.refuse_buffered_sends(&mut stream)).await;
    }
    // Every accepted send is answered (ack or error) before the close frame.
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while session.in_flight.join_next().await.is_some() {}
    })
    .await;
    let _ = close_tx.send(reason);
    drop(session);
    let _ = writer.await;
    // Read what the client still sends until its close reply: dropping a socket with unread
    // data makes the kernel reset the connection, and the client would lose our close frame.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Subscribes the user (unless another connection already did) and builds `ready`, halving the
/// lists until the frame fits in [`READY_MAX_BYTES`] (the rest is paged over REST).
async fn start(
    state: &AppState,
    actor: &Actor,
    subscribed: bool,
) -> Result<Utf8Bytes, DomainError> {
    if !subscribed {
        // A membership event applied while the list loads makes it stale: load it again.
        for attempt in 1..=5 {
            let Some(version) = state.hub.membership_version(actor.user) else {
                break;
            };
            let list = state.conversations.subscriptions(actor.user).await?;
            if state
                .hub
                .subscribe_all(actor.user, &list, version, attempt == 5)
            {
                break;
            }
        }
    }
    // Independent reads, concurrently (on PostgreSQL each is a round trip).
    let (me, start, (friends, blocked), page, mut missed, settings) = tokio::try_join!(
        state.users.me(actor),
        state.presence.for_connection(actor.user),
        state.friends.graph(actor.user),
        state
            .conversations
            .list(actor, None, Some(READY_CONVERSATIONS)),
        state.conversations.missed_dms(actor),
        state.account_settings.get(actor),
    )?;
    state.hub.set_profile(
        actor.user,
        start.choice,
        start.status_text.clone(),
        friends.into_iter().collect(),
        blocked.into_iter().collect(),
    );
    let my_presence = state
        .presence
        .my_presence(&start, state.hub.shown(actor.user));
    let notices = if start.invisible_reset {
        vec![ReadyNotice::InvisibleDisabled]
    } else {
        Vec::new()
    };
    let server = state.settings.server();
    let mut presence = state.hub.visible_presence(actor.user, READY_ONLINE);
    missed.truncate(READY_MISSED);
    let (mut shown, mut cursor) = (page.items.len(), page.next_cursor);
    loop {
        let frame = ServerFrame::Ready(ReadyFrame {
            user: me.user.clone(),
            permissions: me.permissions.clone(),
            conversations: page.items[..shown].to_vec(),
            conversations_cursor: cursor.clone(),
            online: presence.iter().map(|p| p.user_id).collect(),
            presence: presence.clone(),
            my_presence: my_presence.clone(),
            missed: missed.clone(),
            notices: notices.clone(),
            server: server.clone(),
            settings: settings.clone(),
        })
        .encode();
        if frame.len() <= READY_MAX_BYTES || shown <= 1 {
            return Ok(frame);
        }
        // Too big: show half, and let the client page the rest from the last one shown.
        shown /= 2;
        cursor = Some(state.conversations.cursor_after(&page.items[shown - 1]));
        presence.truncate(presence.len() / 2);
        missed.truncate(missed.len() / 2);
    }
}

/// Unregisters the connection; when it was the user's last, they go offline after the grace
/// period unless they reconnect first.
fn finish(state: &AppState, actor: &Actor, conn: ConnId) {
    let Some(generation) = state.hub.unregister(conn) else {
        return;
    };
    let hub = state.hub.clone();
    let grace = state.config.realtime.presence_grace();
    let user = actor.user;
    tokio::spawn(async move {
        tokio::time::sleep(grace).await;
        hub.announce_offline_if_idle(user, generation);
    });
}

/// The instant the connection's access token expires.
fn token_expiry(actor: &Actor) -> Instant {
    let left = actor
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
    ping_every: Duration,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
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
    actor: Actor,
    conn: ConnId,
    conn_tx: mpsc::Sender<Utf8Bytes>,
    overflow: tokio_util::sync::CancellationToken,
    in_flight: JoinSet<()>,
    typing: HashMap<ConversationId, Instant>,
}

impl Session {
    /// The person did something on this connection: their session's idle timer and their
    /// auto-away timer restart.
    fn active(&self) {
        self.state.sessions.touch(&self.actor);
        self.state.hub.activity(self.conn);
    }

    /// Queues a reply. A client whose queue is full is not reading: it is a slow consumer like
    /// any other (closed with 1013), and the reader never blocks on it.
    fn reply(&self, frame: &ServerFrame) {
        super::hub::queue(&self.conn_tx, &self.overflow, frame.encode());
    }

    fn reply_error(&self, code: ErrorCode, message: &str, client_id: Option<&str>) {
        self.reply(&ServerFrame::error(code, message, client_id));
    }

    fn reply_domain_error(&self, err: &DomainError, client_id: Option<&str>) {
        self.reply(&error_frame(err, client_id));
    }

    /// An error about a frame that named `conversation`.
    fn reply_error_about(&self, err: &DomainError, conversation: ConversationId) {
        self.reply(&error_frame(err, None).about(conversation));
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
            if let Ok(ClientFrame::Send(send)) = parse_client_frame(&text) {
                self.reply_domain_error(&DomainError::ShuttingDown, Some(&send.client_id));
            }
        }
    }

    async fn handle(&mut self, text: &str) {
        let frame = match parse_client_frame(text) {
            Ok(frame) => frame,
            Err((code, message)) => return self.reply_error(code, &message, None),
        };
        match frame {
            ClientFrame::Send(send) => {
                self.active();
                while self.in_flight.len() >= MAX_IN_FLIGHT {
                    self.in_flight.join_next().await;
                }
                // Validated, authorized and queued to the writer here, in arrival order, so the
                // sends of one connection get increasing seqs; only the commit is awaited apart.
                let submitted = self
                    .state
                    .messages
                    .submit(
                        &self.actor,
                        send.conversation_id,
                        &send.body,
                        Some(&send.client_id),
                        send.reply_to_seq,
                    )
                    .await;
                let pending = match submitted {
                    Ok(pending) => pending,
                    Err(err) => return self.reply_domain_error(&err, Some(&send.client_id)),
                };
                let (tx, overflow) = (self.conn_tx.clone(), self.overflow.clone());
                let client_id = send.client_id;
                self.in_flight.spawn(async move {
                    let frame = match pending.outcome().await {
                        Ok(sent) => ServerFrame::Ack(AckFrame {
                            client_id,
                            message: sent.message,
                        }),
                        Err(err) => error_frame(&err, Some(&client_id)),
                    };
                    super::hub::queue(&tx, &overflow, frame.encode());
                });
            }
            ClientFrame::Resume(resume) => {
                // A resume must fit in the connection's queue next to live traffic.
                let realtime = &self.state.config.realtime;
                let max = realtime
                    .resume_max_messages
                    .min(realtime.outgoing_queue_frames as u64 / 2);
                let conversation_id = resume.conversation_id;
                match self
                    .state
                    .messages
                    .resume(
                        &self.actor,
                        conversation_id,
                        resume.after_seq,
                        resume.after_change,
                        max,
                    )
                    .await
                {
                    Ok(Resume::Messages { messages, changed }) => {
                        for message in messages {
                            self.reply(&ServerFrame::Message(MessageFrame { message }));
                        }
                        for message in changed {
                            self.reply(&if message.deleted {
                                ServerFrame::MessageDeleted(MessageDeletedFrame {
                                    conversation_id,
                                    seq: message.seq,
                                    change_seq: message.change_seq,
                                })
                            } else {
                                ServerFrame::MessageUpdated(MessageUpdatedFrame { message })
                            });
                        }
                    }
                    Ok(Resume::ResyncRequired) => {
                        self.reply(&ServerFrame::ResyncRequired(ResyncRequiredFrame {
                            conversation_id,
                        }))
                    }
                    Err(err) => self.reply_error_about(&err, conversation_id),
                }
            }
            ClientFrame::Typing(typing) => {
                self.active();
                let (uid, conversation_id) = (self.actor.user, typing.conversation_id);
                if !self.state.hub.is_subscribed(uid, conversation_id) {
                    return self.reply(
                        &ServerFrame::error(
                            ErrorCode::NotAMember,
                            "join this conversation first",
                            None,
                        )
                        .about(conversation_id),
                    );
                }
                if self.state.hub.is_hidden(uid) {
                    // Invisible: nobody may learn the user is here, typing included.
                    return;
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
                // Over the bus: members connected to other instances see it too.
                self.state
                    .bus
                    .publish(Event::Typing {
                        conversation_id,
                        user_id: uid,
                        username: self.actor.username.clone(),
                    })
                    .await;
            }
            ClientFrame::Read(read) => {
                if let Err(err) = self
                    .state
                    .receipts
                    .mark_read(&self.actor, read.conversation_id, read.seq)
                    .await
                {
                    self.reply_error_about(&err, read.conversation_id);
                }
            }
            ClientFrame::Watch(watch) => {
                let conversation_id = watch.conversation_id;
                let allowed = self
                    .state
                    .access
                    .require_in(&self.actor, Permission::ConversationRead, conversation_id)
                    .await;
                let watched = match allowed {
                    Err(err) => return self.reply_error_about(&err, conversation_id),
                    Ok(()) => self.state.hub.watch(self.conn, conversation_id),
                };
                let (code, text) = match watched {
                    Ok(()) => {
                        return self
                            .reply(&ServerFrame::Watching(WatchingFrame { conversation_id }));
                    }
                    Err(WatchRefused::TooMany) => (
                        ErrorCode::RateLimited,
                        "a connection may watch at most 8 member lists; unwatch one first",
                    ),
                    Err(WatchRefused::NotSubscribed) => {
                        (ErrorCode::NotAMember, "join this conversation first")
                    }
                };
                self.reply(&ServerFrame::error(code, text, None).about(conversation_id));
            }
            ClientFrame::Unwatch(unwatch) => {
                self.state.hub.unwatch(self.conn, unwatch.conversation_id);
            }
            ClientFrame::Ping(_) => self.reply(&ServerFrame::Pong(PongFrame {})),
            ClientFrame::Activity(_) => self.active(),
        }
    }
}

fn error_frame(err: &DomainError, client_id: Option<&str>) -> ServerFrame {
    let message = match err {
        DomainError::Internal(inner) => {
            let id = uuid::Uuid::new_v4();
            tracing::error!(error_id = %id, error = %inner, "internal error in WebSocket session");
            format!("internal error (id {id})")
        }
        other => other.to_string(),
    };
    let mut frame = ServerFrame::error(err.code(), message, client_id);
    if let (DomainError::RateLimited { retry_after, .. }, ServerFrame::Error(e)) = (err, &mut frame)
    {
        let ms = retry_after.as_millis() + u128::from(retry_after.subsec_nanos() % 1_000_000 > 0);
        e.retry_after_ms = Some(u64::try_from(ms).unwrap_or(u64::MAX).max(1));
    }
    frame
}
