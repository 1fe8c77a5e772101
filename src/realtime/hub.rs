//! The fan-out hub: which local connections belong to which user, and which users are in which
//! conversation. A frame is encoded once and the same buffer (`Utf8Bytes`, reference-counted)
//! is queued to every recipient's bounded queue. A recipient whose queue is full is a slow
//! consumer: its overflow token fires and its connection closes with 1013; it resumes later by
//! sequence number. Locks are never held across an `.await`.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// A connection's id, unique within this process.
pub type ConnId = u64;

struct Conn {
    user: Uuid,
    session: Uuid,
    tx: mpsc::Sender<Utf8Bytes>,
    overflow: CancellationToken,
    kick: CancellationToken,
}

#[derive(Default)]
struct State {
    conns: HashMap<ConnId, Conn>,
    by_user: HashMap<Uuid, Vec<ConnId>>,
    by_conversation: HashMap<Uuid, HashSet<Uuid>>,
    conversations_of: HashMap<Uuid, HashSet<Uuid>>,
}

/// What a new connection gets from [`Hub::register`].
pub struct Registration {
    /// Its id.
    pub id: ConnId,
    /// Its outgoing queue.
    pub rx: mpsc::Receiver<Utf8Bytes>,
    /// Fires when the queue overflowed (close with 1013).
    pub overflow: CancellationToken,
    /// This is the user's first connection (they just came online).
    pub first: bool,
    /// Its own queue's sender, for the connection's replies (acks, resume, errors).
    pub tx: mpsc::Sender<Utf8Bytes>,
    /// Fires when the session was ended (logout, token theft): close with 1008.
    pub kick: CancellationToken,
}

/// Local fan-out registry. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    state: Arc<RwLock<State>>,
    queue_frames: usize,
    next_id: Arc<AtomicU64>,
}

impl Hub {
    /// A hub whose connections queue at most `queue_frames` frames each.
    pub fn new(queue_frames: usize) -> Self {
        Self {
            state: Arc::default(),
            queue_frames: queue_frames.max(1),
            next_id: Arc::new(AtomicU64::new(1)),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a connection of `user` in `session`. Subscribe it to conversations afterwards
    /// with [`Hub::subscribe`], so that a membership change racing the registration is not lost.
    pub fn register(&self, user: Uuid, session: Uuid) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.queue_frames);
        let (overflow, kick) = (CancellationToken::new(), CancellationToken::new());
        let mut state = self.write();
        let conn = Conn {
            user,
            session,
            tx: tx.clone(),
            overflow: overflow.clone(),
            kick: kick.clone(),
        };
        state.conns.insert(id, conn);
        let conns = state.by_user.entry(user).or_default();
        conns.push(id);
        let first = conns.len() == 1;
        state.conversations_of.entry(user).or_default();
        Registration {
            id,
            rx,
            overflow,
            first,
            tx,
            kick,
        }
    }

    /// Closes every connection of a session (logout, refresh-token theft) with 1008.
    pub fn close_session(&self, session: Uuid) {
        for conn in self.read().conns.values().filter(|c| c.session == session) {
            conn.kick.cancel();
        }
    }

    /// Removes a connection. Returns true when it was the user's last one (they went offline).
    pub fn unregister(&self, id: ConnId) -> bool {
        let mut state = self.write();
        let Some(conn) = state.conns.remove(&id) else {
            return false;
        };
        let last = match state.by_user.get_mut(&conn.user) {
            Some(conns) => {
                conns.retain(|c| *c != id);
                conns.is_empty()
            }
            None => true,
        };
        if last {
            state.by_user.remove(&conn.user);
            for conv in state
                .conversations_of
                .remove(&conn.user)
                .unwrap_or_default()
            {
                if let Some(users) = state.by_conversation.get_mut(&conv) {
                    users.remove(&conn.user);
                    if users.is_empty() {
                        state.by_conversation.remove(&conv);
                    }
                }
            }
        }
        last
    }

    /// `user` is now a member of `conversation` (no-op while they are offline).
    pub fn subscribe(&self, user: Uuid, conversation: Uuid) {
        let mut state = self.write();
        if let Some(convs) = state.conversations_of.get_mut(&user) {
            convs.insert(conversation);
            state
                .by_conversation
                .entry(conversation)
                .or_default()
                .insert(user);
        }
    }

    /// `user` is no longer a member of `conversation`.
    pub fn unsubscribe(&self, user: Uuid, conversation: Uuid) {
        let mut state = self.write();
        if let Some(convs) = state.conversations_of.get_mut(&user) {
            convs.remove(&conversation);
        }
        if let Some(users) = state.by_conversation.get_mut(&conversation) {
            users.remove(&user);
        }
    }

    /// Whether `user` is a (locally known, online) member of `conversation`.
    pub fn is_subscribed(&self, user: Uuid, conversation: Uuid) -> bool {
        self.read()
            .conversations_of
            .get(&user)
            .is_some_and(|c| c.contains(&conversation))
    }

    fn deliver(state: &State, conn: ConnId, frame: &Utf8Bytes) {
        if let Some(c) = state.conns.get(&conn) {
            queue(&c.tx, &c.overflow, frame.clone());
        }
    }

    fn deliver_to_user(state: &State, user: Uuid, frame: &Utf8Bytes) {
        for conn in state.by_user.get(&user).into_iter().flatten() {
            Self::deliver(state, *conn, frame);
        }
    }

    /// Queues `frame` to every connection of every member of `conversation`, except `except`.
    pub fn publish(&self, conversation: Uuid, frame: &Utf8Bytes, except: Option<Uuid>) {
        let state = self.read();
        for user in state
            .by_conversation
            .get(&conversation)
            .into_iter()
            .flatten()
        {
            if Some(*user) != except {
                Self::deliver_to_user(&state, *user, frame);
            }
        }
    }

    /// Queues `frame` to every connection of `user`.
    pub fn send_to_user(&self, user: Uuid, frame: &Utf8Bytes) {
        Self::deliver_to_user(&self.read(), user, frame);
    }

    /// Whether `user` has at least one connection here.
    pub fn is_online(&self, user: Uuid) -> bool {
        self.read().by_user.contains_key(&user)
    }

    fn peers(state: &State, user: Uuid) -> HashSet<Uuid> {
        let mut peers = HashSet::new();
        for conv in state.conversations_of.get(&user).into_iter().flatten() {
            peers.extend(
                state
                    .by_conversation
                    .get(conv)
                    .into_iter()
                    .flatten()
                    .copied(),
            );
        }
        peers.remove(&user);
        peers
    }

    /// Online users sharing a conversation with `user`.
    pub fn online_peers(&self, user: Uuid) -> Vec<Uuid> {
        Self::peers(&self.read(), user).into_iter().collect()
    }

    /// Queues `frame` to every online user sharing a conversation with `user`.
    /// `peers_of` overrides the conversations to use (after the user went offline).
    pub fn publish_to_peers(&self, user: Uuid, frame: &Utf8Bytes, conversations: Option<&[Uuid]>) {
        let state = self.read();
        let peers = match conversations {
            None => Self::peers(&state, user),
            Some(convs) => convs
                .iter()
                .flat_map(|c| state.by_conversation.get(c).into_iter().flatten().copied())
                .filter(|u| *u != user)
                .collect(),
        };
        for peer in peers {
            Self::deliver_to_user(&state, peer, frame);
        }
    }

    /// Conversations `user` is subscribed to here.
    pub fn conversations_of(&self, user: Uuid) -> Vec<Uuid> {
        self.read()
            .conversations_of
            .get(&user)
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// Queues `frame` without waiting. A full queue means a slow consumer: `overflow` fires and the
/// connection closes with 1013 (the client resumes by seq later). A closed queue is ignored.
pub fn queue(tx: &mpsc::Sender<Utf8Bytes>, overflow: &CancellationToken, frame: Utf8Bytes) {
    if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(frame) {
        overflow.cancel();
    }
}
