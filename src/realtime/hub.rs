//! The fan-out hub: the connections of this process, which users are subscribed to which
//! conversation, who watches which member list, and who is online.
//!
//! A frame is encoded once and the same buffer (`Utf8Bytes`, reference-counted) is queued to
//! every recipient's bounded queue. A recipient whose queue is full is a slow consumer: its
//! overflow token fires and its connection closes with 1013; it resumes later by sequence
//! number. Locks are never held across an `.await`.
//!
//! **Presence audiences.** A user's presence goes only to those who may see it: fellow members of
//! the DMs, groups and private rooms they are in, plus the connections watching the member list
//! of a public room they are in. So a login in a 1,000-member Lobby is not a 1,000-frame
//! broadcast. **Presence grace.** When a user's last connection closes they stay online for a grace
//! period; a reconnect within it (a token refresh, a flaky network) is no presence change at all.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{sync::mpsc, time::Instant};
use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_util::sync::CancellationToken;

use crate::{
    domain::{
        ConversationFacts, ConversationId, ConversationKind, InstanceId, PresenceChoice,
        PresenceStatus, SessionEndReason, SessionId, UserId, Visibility,
    },
    events::Event,
};

mod presence;

/// A connection's id, unique within this process.
pub type ConnId = u64;

/// Most member lists one connection may watch at once.
pub const MAX_WATCHED: usize = 8;

struct Conn {
    user: UserId,
    session: SessionId,
    tx: mpsc::Sender<Utf8Bytes>,
    overflow: CancellationToken,
    kick: CancellationToken,
    /// Why the session ended, set before `kick` fires.
    ended: Arc<std::sync::OnceLock<SessionEndReason>>,
    resync: CancellationToken,
    watching: Vec<ConversationId>,
    /// The person's latest activity on this connection (input reported by the client, a send).
    last_activity: Instant,
}

/// The local view of one conversation.
#[derive(Default)]
struct Room {
    /// Online members subscribed here (connected to this instance, or in its grace period).
    users: HashSet<UserId>,
    /// Members online only on other instances (presence replicas): they see nothing from here,
    /// but their presence is shown to the members here.
    remote: HashSet<UserId>,
    /// Members see each other's presence (DMs, groups, private rooms); else only watchers do.
    members_see_presence: bool,
    /// Connections watching the member list.
    watchers: HashSet<ConnId>,
}

impl Room {
    /// Nobody online is subscribed and nobody watches: the entry can go.
    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.remote.is_empty() && self.watchers.is_empty()
    }

    /// Every online member, here or elsewhere.
    fn members(&self) -> impl Iterator<Item = &UserId> {
        self.users.iter().chain(self.remote.iter())
    }
}

/// Removes `conversation`'s local view once it is empty, so joins and leaves leave nothing behind.
fn prune(rooms: &mut HashMap<ConversationId, Room>, conversation: &ConversationId) {
    if rooms.get(conversation).is_some_and(Room::is_empty) {
        rooms.remove(conversation);
    }
}

/// Takes `user` out of the local views of `conversations` (here or as a replica) and drops the
/// views left empty.
fn leave_rooms<'a>(
    rooms: &mut HashMap<ConversationId, Room>,
    user: UserId,
    conversations: impl IntoIterator<Item = &'a ConversationId>,
) {
    for conversation in conversations {
        if let Some(room) = rooms.get_mut(conversation) {
            room.users.remove(&user);
            room.remote.remove(&user);
        }
        prune(rooms, conversation);
    }
}

/// Subscribes `user` (whose entry is `online`) to `conversation`.
fn add_member(
    online: &mut Online,
    rooms: &mut HashMap<ConversationId, Room>,
    user: UserId,
    conversation: ConversationId,
    facts: ConversationFacts,
) {
    online.conversations.insert(conversation);
    let room = rooms.entry(conversation).or_default();
    room.members_see_presence = members_see_presence(facts);
    if online.local {
        room.users.insert(user);
    } else {
        room.remote.insert(user);
    }
}

/// When a presence refresh sends `my_presence` to the user's own connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TellSelf {
    /// Never (a new connection's `ready` says it).
    Never,
    /// When what others see changed (auto-away and back).
    OnChange,
    /// Always (the user chose something: every tab shows the choice).
    Always,
}

/// A user with at least one connection, or in the grace period after the last one closed.
struct Online {
    /// The username (for presence frames about this user).
    username: String,
    conns: Vec<ConnId>,
    /// Bumped on every register; an offline timer only fires for the generation it saw.
    generation: u64,
    /// Conversations the user is subscribed to.
    conversations: HashSet<ConversationId>,
    /// Bumped by every membership event applied to this user, so that a list loaded from the
    /// database while an event was applied is recognised as stale (see [`Hub::subscribe_all`]).
    version: u64,
    /// The user's subscriptions were loaded from the database.
    loaded: bool,
    /// The user's presence settings and social graph were loaded ([`Hub::set_profile`]); until
    /// then they are shown to nobody.
    profiled: bool,
    /// Their chosen presence.
    choice: PresenceChoice,
    /// Their custom status text.
    status_text: Option<String>,
    /// Their friends (whose connections see their presence).
    friends: HashSet<UserId>,
    /// Users with a block between them and this user (either direction): they see nothing of
    /// each other's presence.
    blocked: HashSet<UserId>,
    /// What their audience was last told (`Offline` until the first presence frame, and while
    /// invisible).
    shown: PresenceStatus,
    /// The status text their audience was last told.
    shown_text: Option<String>,
    /// Connected to this instance (or in the grace period after the last connection here
    /// closed). False for a replica: a user known only from other instances' announcements.
    local: bool,
    /// Other instances where the user is connected, each with whether they are active there
    /// (empty with one instance).
    homes: HashMap<InstanceId, bool>,
    /// What this instance last announced of the user's activity here (with several instances).
    announced_active: Option<bool>,
}

impl Online {
    /// Whether `viewer` is kept from this user's presence by a block.
    fn hides_from(&self, viewer: UserId) -> bool {
        self.blocked.contains(&viewer)
    }

    /// The status text others may see with `status` (none while offline).
    fn visible_text(&self, status: PresenceStatus) -> Option<String> {
        (status != PresenceStatus::Offline)
            .then(|| self.status_text.clone())
            .flatten()
    }
}

/// Why [`Hub::watch`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchRefused {
    /// The connection's user is not (or no longer) subscribed to the conversation.
    NotSubscribed,
    /// The connection already watches [`MAX_WATCHED`] member lists.
    TooMany,
}

#[derive(Default)]
struct State {
    conns: HashMap<ConnId, Conn>,
    users: HashMap<UserId, Online>,
    rooms: HashMap<ConversationId, Room>,
}

/// What a new connection gets from [`Hub::register`].
pub struct Registration {
    /// Its id.
    pub id: ConnId,
    /// Its outgoing queue.
    pub rx: mpsc::Receiver<Utf8Bytes>,
    /// Fires when the queue overflowed (close with 1013).
    pub overflow: CancellationToken,
    /// The user just came online (not merely reconnected within the grace period).
    pub came_online: bool,
    /// The user's subscriptions are already loaded (another connection, or the grace period).
    pub subscribed: bool,
    /// Its own queue's sender, for the connection's replies (acks, resume, errors).
    pub tx: mpsc::Sender<Utf8Bytes>,
    /// Fires when the session was ended (logout, token theft): close with 1008.
    pub kick: CancellationToken,
    /// Why the session ended (set before `kick` fires): the close reason.
    pub ended: Arc<std::sync::OnceLock<SessionEndReason>>,
    /// Fires when events may have been missed (a gap on the bus between instances): close with
    /// 1012 so the client reconnects and resumes.
    pub resync: CancellationToken,
}

/// Whether a conversation's members see each other's presence.
pub fn members_see_presence(facts: ConversationFacts) -> bool {
    facts.kind != ConversationKind::Room || facts.visibility == Visibility::Private
}

/// Local fan-out registry. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    state: Arc<RwLock<State>>,
    queue_frames: usize,
    next_id: Arc<AtomicU64>,
    /// `[presence] auto_away_minutes` (None: never away by itself).
    auto_away: Option<Duration>,
    /// Presence announcements (`PresenceChanged`), in the order the changes happened under the
    /// state lock; `presence::spawn_announcer` publishes them on the bus.
    announce: mpsc::UnboundedSender<Event>,
    announcements: Arc<std::sync::Mutex<Option<mpsc::UnboundedReceiver<Event>>>>,
    /// With several instances: this instance's id (announcements carry a `PresenceHome`).
    instance: Option<InstanceId>,
}

impl Hub {
    /// A hub whose connections queue at most `queue_frames` frames each and whose users show
    /// as away after `auto_away` without activity (`None`: never by themselves).
    pub fn new(queue_frames: usize, auto_away: Option<Duration>) -> Self {
        let (announce, rx) = mpsc::unbounded_channel();
        Self {
            state: Arc::default(),
            queue_frames: queue_frames.max(1),
            next_id: Arc::new(AtomicU64::new(1)),
            auto_away,
            announce,
            announcements: Arc::new(std::sync::Mutex::new(Some(rx))),
            instance: None,
        }
    }

    /// The same hub as one instance among several, `instance`: its presence announcements carry
    /// what other instances need to show its users, and it keeps replicas of theirs.
    pub fn shared_as(mut self, instance: InstanceId) -> Self {
        self.instance = Some(instance);
        self
    }

    /// Whether `instance` is this one.
    pub fn is_this_instance(&self, instance: &InstanceId) -> bool {
        self.instance.as_ref() == Some(instance)
    }

    /// The presence announcements to publish on the bus (once; `None` afterwards).
    pub fn take_announcements(&self) -> Option<mpsc::UnboundedReceiver<Event>> {
        self.announcements
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
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

    /// Registers a connection of `user` in `session`. Subscribe the user afterwards (when
    /// `subscribed` is false) with [`Hub::subscribe`], so that a membership change racing the
    /// registration is not lost.
    pub fn register(&self, user: UserId, username: &str, session: SessionId) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.queue_frames);
        let (overflow, kick) = (CancellationToken::new(), CancellationToken::new());
        let resync = CancellationToken::new();
        let ended = Arc::new(std::sync::OnceLock::new());
        let mut state = self.write();
        state.conns.insert(
            id,
            Conn {
                user,
                session,
                tx: tx.clone(),
                overflow: overflow.clone(),
                kick: kick.clone(),
                ended: ended.clone(),
                resync: resync.clone(),
                watching: Vec::new(),
                last_activity: Instant::now(),
            },
        );
        let State { users, rooms, .. } = &mut *state;
        let (came_online, subscribed) = match users.get_mut(&user) {
            Some(online) if !online.local => {
                // Known as a replica (connected elsewhere): now connected here too. Its
                // subscriptions are loaded from the database like any first connection's.
                leave_rooms(rooms, user, &online.conversations);
                online.conversations.clear();
                online.local = true;
                online.loaded = false;
                online.version += 1;
                online.conns.push(id);
                online.generation += 1;
                (true, false)
            }
            Some(online) => {
                online.conns.push(id);
                online.generation += 1;
                (false, online.loaded)
            }
            None => {
                users.insert(
                    user,
                    Online {
                        username: username.to_owned(),
                        conns: vec![id],
                        generation: 1,
                        conversations: HashSet::new(),
                        version: 0,
                        loaded: false,
                        profiled: false,
                        choice: PresenceChoice::Online,
                        status_text: None,
                        friends: HashSet::new(),
                        blocked: HashSet::new(),
                        shown: PresenceStatus::Offline,
                        shown_text: None,
                        local: true,
                        homes: HashMap::new(),
                        announced_active: None,
                    },
                );
                (true, false)
            }
        };
        Registration {
            id,
            rx,
            overflow,
            came_online,
            subscribed,
            tx,
            kick,
            ended,
            resync,
        }
    }

    /// Removes a connection. Returns the user's presence generation when it was their last
    /// connection: after the grace period, if [`Hub::is_idle`] with it, the user went offline.
    pub fn unregister(&self, id: ConnId) -> Option<u64> {
        let mut state = self.write();
        let conn = state.conns.remove(&id)?;
        for conversation in &conn.watching {
            if let Some(room) = state.rooms.get_mut(conversation) {
                room.watchers.remove(&id);
            }
            prune(&mut state.rooms, conversation);
        }
        let online = state.users.get_mut(&conn.user)?;
        online.conns.retain(|c| *c != id);
        online.conns.is_empty().then_some(online.generation)
    }

    /// Whether `user` has had no connection since `generation` (their grace period is over).
    pub fn is_idle(&self, user: UserId, generation: u64) -> bool {
        self.read()
            .users
            .get(&user)
            .is_some_and(|o| o.conns.is_empty() && o.generation == generation)
    }

    /// Closes every connection of this instance with 1012 (events may have been missed: the
    /// clients reconnect and resume). Returns how many.
    pub fn close_all_for_resync(&self) -> usize {
        let state = self.read();
        for conn in state.conns.values() {
            conn.resync.cancel();
        }
        state.conns.len()
    }

    /// Closes every connection of a session (logout, refresh-token theft) with 1008 and
    /// `reason` as the close reason.
    pub fn close_session(&self, session: SessionId, reason: SessionEndReason) {
        for conn in self.read().conns.values().filter(|c| c.session == session) {
            let _ = conn.ended.set(reason);
            conn.kick.cancel();
        }
    }

    /// The version of `user`'s subscriptions (see [`Hub::subscribe_all`]); `None` when the user
    /// has no connection here.
    pub fn membership_version(&self, user: UserId) -> Option<u64> {
        self.read().users.get(&user).map(|o| o.version)
    }

    /// Subscribes `user` to the conversations loaded from the database, unless a membership event
    /// was applied to them since `version` was read (then the list may be stale: load it again).
    /// With `force`, applies the list anyway. Returns whether it was applied.
    pub fn subscribe_all(
        &self,
        user: UserId,
        list: &[(ConversationId, ConversationFacts)],
        version: u64,
        force: bool,
    ) -> bool {
        let mut state = self.write();
        let State { users, rooms, .. } = &mut *state;
        let Some(online) = users.get_mut(&user) else {
            return false;
        };
        if online.version != version && !force {
            return false;
        }
        for (conversation, facts) in list {
            add_member(online, rooms, user, *conversation, *facts);
        }
        online.loaded = true;
        true
    }

    /// `user` became a member of `conversation` (a membership event; no-op while they are not
    /// connected here).
    pub fn subscribe(&self, user: UserId, conversation: ConversationId, facts: ConversationFacts) {
        let mut state = self.write();
        let State { users, rooms, .. } = &mut *state;
        if let Some(online) = users.get_mut(&user) {
            online.version += 1;
            add_member(online, rooms, user, conversation, facts);
        }
    }

    /// `user` is no longer a member of `conversation` (a membership event): no more of its
    /// frames, and their connections stop watching its member list.
    pub fn unsubscribe(&self, user: UserId, conversation: ConversationId) {
        let mut state = self.write();
        let State {
            users,
            rooms,
            conns,
            ..
        } = &mut *state;
        let Some(online) = users.get_mut(&user) else {
            return;
        };
        online.version += 1;
        online.conversations.remove(&conversation);
        if let Some(room) = rooms.get_mut(&conversation) {
            room.users.remove(&user);
            room.remote.remove(&user);
            for id in &online.conns {
                room.watchers.remove(id);
                if let Some(conn) = conns.get_mut(id) {
                    conn.watching.retain(|c| *c != conversation);
                }
            }
        }
        prune(rooms, &conversation);
    }

    /// `conversation` was deleted: every user in `members` is unsubscribed from it (as by a
    /// membership event), its watchers stop watching, and its local view goes.
    pub fn drop_conversation(&self, conversation: ConversationId, members: &[UserId]) {
        for user in members {
            self.unsubscribe(*user, conversation);
        }
        let mut state = self.write();
        let State { rooms, conns, .. } = &mut *state;
        if let Some(room) = rooms.remove(&conversation) {
            for id in room.watchers {
                if let Some(conn) = conns.get_mut(&id) {
                    conn.watching.retain(|c| *c != conversation);
                }
            }
        }
    }

    /// Whether `user` is a (locally known, online) member of `conversation`.
    pub fn is_subscribed(&self, user: UserId, conversation: ConversationId) -> bool {
        self.read()
            .users
            .get(&user)
            .is_some_and(|o| o.conversations.contains(&conversation))
    }

    /// Connection `conn` watches the member list of `conversation` (the caller checked the
    /// permission; the user must also be subscribed here, so a leave that raced the check wins).
    pub fn watch(&self, conn: ConnId, conversation: ConversationId) -> Result<(), WatchRefused> {
        let mut state = self.write();
        let State {
            conns,
            rooms,
            users,
            ..
        } = &mut *state;
        let Some(c) = conns.get_mut(&conn) else {
            return Err(WatchRefused::NotSubscribed);
        };
        let subscribed = users
            .get(&c.user)
            .is_some_and(|o| o.conversations.contains(&conversation));
        if !subscribed {
            return Err(WatchRefused::NotSubscribed);
        }
        if !c.watching.contains(&conversation) {
            if c.watching.len() >= MAX_WATCHED {
                return Err(WatchRefused::TooMany);
            }
            c.watching.push(conversation);
        }
        rooms.entry(conversation).or_default().watchers.insert(conn);
        Ok(())
    }

    /// Connection `conn` no longer watches `conversation`.
    pub fn unwatch(&self, conn: ConnId, conversation: ConversationId) {
        let mut state = self.write();
        let State { conns, rooms, .. } = &mut *state;
        if let Some(c) = conns.get_mut(&conn) {
            c.watching.retain(|w| *w != conversation);
        }
        if let Some(room) = rooms.get_mut(&conversation) {
            room.watchers.remove(&conn);
        }
        prune(rooms, &conversation);
    }

    fn deliver(state: &State, conn: ConnId, frame: &Utf8Bytes) {
        if let Some(c) = state.conns.get(&conn) {
            queue(&c.tx, &c.overflow, frame.clone());
        }
    }

    fn deliver_to_user(state: &State, user: UserId, frame: &Utf8Bytes) {
        for conn in state.users.get(&user).into_iter().flat_map(|o| &o.conns) {
            Self::deliver(state, *conn, frame);
        }
    }

    /// Queues `frame` to every connection of every member of `conversation`, except `except`.
    pub fn publish(&self, conversation: ConversationId, frame: &Utf8Bytes, except: Option<UserId>) {
        let state = self.read();
        for user in state
            .rooms
            .get(&conversation)
            .into_iter()
            .flat_map(|r| &r.users)
        {
            if Some(*user) != except {
                Self::deliver_to_user(&state, *user, frame);
            }
        }
    }

    /// Queues `frame`, which reveals that `sender` is here (typing), to every connection of every
    /// member of `conversation` but the sender and anyone in a block with them.
    pub fn publish_from(&self, conversation: ConversationId, frame: &Utf8Bytes, sender: UserId) {
        let state = self.read();
        let hidden = |u: &UserId| state.users.get(&sender).is_some_and(|o| o.hides_from(*u));
        for user in state
            .rooms
            .get(&conversation)
            .into_iter()
            .flat_map(|r| &r.users)
        {
            if *user != sender && !hidden(user) {
                Self::deliver_to_user(&state, *user, frame);
            }
        }
    }

    /// Queues a `member_joined` about `subject`: `shown` (with their status) to the members who
    /// may see their presence here, `hidden` (status `offline`) to the others — anyone in a
    /// block with them, and, in a public room, everyone not watching its member list.
    pub fn publish_joined(
        &self,
        conversation: ConversationId,
        subject: UserId,
        shown: &Utf8Bytes,
        hidden: &Utf8Bytes,
    ) {
        let state = self.read();
        let Some(room) = state.rooms.get(&conversation) else {
            return;
        };
        let blocked = |u: UserId| state.users.get(&subject).is_some_and(|o| o.hides_from(u));
        for user in room.users.iter().filter(|u| **u != subject) {
            for conn in state.users.get(user).into_iter().flat_map(|o| &o.conns) {
                let sees =
                    !blocked(*user) && (room.members_see_presence || room.watchers.contains(conn));
                Self::deliver(&state, *conn, if sees { shown } else { hidden });
            }
        }
    }

    /// Queues `frame` to every connection of `user`.
    pub fn send_to_user(&self, user: UserId, frame: &Utf8Bytes) {
        Self::deliver_to_user(&self.read(), user, frame);
    }

    /// How many users are online: connected to this process or, with several instances, to
    /// any instance.
    pub fn online_count(&self) -> usize {
        self.read().users.len()
    }

    /// How many connections this process holds.
    pub fn connection_count(&self) -> usize {
        self.read().conns.len()
    }

    /// Queues `frame` to every connection of this process (announcements, the server's name or
    /// MOTD changed). Returns how many.
    pub fn send_to_all(&self, frame: &Utf8Bytes) -> usize {
        let state = self.read();
        for conn in state.conns.keys() {
            Self::deliver(&state, *conn, frame);
        }
        state.conns.len()
    }

    /// The local views of the conversations `user` is subscribed to.
    fn rooms_of(state: &State, user: UserId) -> impl Iterator<Item = &Room> {
        state
            .users
            .get(&user)
            .into_iter()
            .flat_map(|o| &o.conversations)
            .filter_map(|c| state.rooms.get(c))
    }
}

/// Queues `frame` without waiting. A full queue means a slow consumer: `overflow` fires and the
/// connection closes with 1013 (the client resumes by seq later). A closed queue is ignored.
pub fn queue(tx: &mpsc::Sender<Utf8Bytes>, overflow: &CancellationToken, frame: Utf8Bytes) {
    if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(frame) {
        overflow.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::PresenceDirectory;

    fn facts(kind: ConversationKind, visibility: Visibility) -> ConversationFacts {
        ConversationFacts::plain(kind, visibility)
    }

    fn profile(hub: &Hub, user: UserId, choice: PresenceChoice) -> usize {
        hub.set_profile(user, choice, None, HashSet::new(), HashSet::new())
    }

    #[test]
    fn presence_reaches_dm_peers_and_watchers_but_not_a_public_room() {
        let hub = Hub::new(16, None);
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let lobby = ConversationId::new();
        let dm = ConversationId::new();
        let mut regs = Vec::new();
        for u in [a, b, c] {
            regs.push(hub.register(u, "u", SessionId::new()));
            hub.subscribe(u, lobby, facts(ConversationKind::Room, Visibility::Public));
        }
        let stranger = hub.register(UserId::new(), "s", SessionId::new());
        assert_eq!(
            hub.watch(stranger.id, lobby),
            Err(WatchRefused::NotSubscribed)
        );
        hub.subscribe(a, dm, facts(ConversationKind::Dm, Visibility::Private));
        hub.subscribe(b, dm, facts(ConversationKind::Dm, Visibility::Private));
        profile(&hub, b, PresenceChoice::Online);
        profile(&hub, c, PresenceChoice::Online);
        assert_eq!(
            profile(&hub, a, PresenceChoice::Online),
            1,
            "only b, the DM peer"
        );
        assert_eq!(hub.watch(regs[2].id, lobby), Ok(()));
        assert_eq!(
            hub.set_choice(a, PresenceChoice::Busy, None),
            2,
            "b, and c who watches Lobby"
        );
        assert!(hub.visible_presence(c, 10).is_empty());
        let seen = hub.visible_presence(b, 10);
        assert_eq!(seen.len(), 1);
        assert_eq!((seen[0].user_id, seen[0].status), (a, PresenceStatus::Busy));
    }

    #[test]
    fn invisible_tells_nobody_friends_see_and_blocks_hide() {
        let hub = Hub::new(16, None);
        let (a, friend, foe) = (UserId::new(), UserId::new(), UserId::new());
        let group = ConversationId::new();
        for u in [a, friend, foe] {
            hub.register(u, "u", SessionId::new());
        }
        hub.subscribe(
            foe,
            group,
            facts(ConversationKind::Group, Visibility::Private),
        );
        hub.subscribe(
            a,
            group,
            facts(ConversationKind::Group, Visibility::Private),
        );
        profile(&hub, friend, PresenceChoice::Online);
        profile(&hub, foe, PresenceChoice::Online);
        let friends = HashSet::from([friend]);
        let blocked = HashSet::from([foe]);
        assert_eq!(
            hub.set_profile(a, PresenceChoice::Invisible, None, friends, blocked),
            0
        );
        assert_eq!(hub.shown(a), PresenceStatus::Offline);
        assert!(hub.is_hidden(a));
        assert_eq!(
            hub.set_choice(a, PresenceChoice::Online, Some("hi".into())),
            1,
            "the friend only: the group peer is blocked"
        );
        assert_eq!(hub.status(foe, a), PresenceStatus::Offline);
        assert_eq!(hub.status(friend, a), PresenceStatus::Online);
        assert_eq!(hub.set_choice(a, PresenceChoice::Invisible, None), 1);
        assert_eq!(hub.status(friend, a), PresenceStatus::Offline);
    }

    #[test]
    fn auto_away_needs_every_connection_idle_and_activity_ends_it() {
        let hub = Hub::new(16, Some(Duration::from_millis(1)));
        let (a, b, dm) = (UserId::new(), UserId::new(), ConversationId::new());
        let first = hub.register(a, "a", SessionId::new());
        hub.register(b, "b", SessionId::new());
        for u in [a, b] {
            hub.subscribe(u, dm, facts(ConversationKind::Dm, Visibility::Private));
            profile(&hub, u, PresenceChoice::Online);
        }
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(hub.sweep_auto_away(), 2);
        assert_eq!(hub.shown(a), PresenceStatus::Away);
        hub.activity(first.id);
        assert_eq!(hub.shown(a), PresenceStatus::Online);
        hub.set_choice(b, PresenceChoice::Busy, None);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(hub.sweep_auto_away(), 1, "busy does not turn away");
        assert_eq!(hub.shown(b), PresenceStatus::Busy);
    }

    #[test]
    fn a_reconnect_within_the_grace_period_is_no_presence_change() {
        let hub = Hub::new(16, None);
        let a = UserId::new();
        let first = hub.register(a, "a", SessionId::new());
        assert!(first.came_online);
        assert!(hub.subscribe_all(a, &[], 0, false));
        let generation = hub.unregister(first.id);
        assert!(generation.is_some());
        let second = hub.register(a, "a", SessionId::new());
        assert!(!second.came_online && second.subscribed);
        assert!(!generation.is_some_and(|g| hub.is_idle(a, g)));
        let later = hub.unregister(second.id);
        assert!(later.is_some_and(|g| hub.is_idle(a, g)));
        assert!(
            hub.is_online(a),
            "online until the offline presence is published"
        );
        hub.go_offline(a);
        assert!(!hub.is_online(a));
        assert!(hub.register(a, "a", SessionId::new()).came_online);
    }

    #[test]
    fn a_list_loaded_while_a_membership_event_applied_is_not_used_and_empty_rooms_go() {
        let hub = Hub::new(16, None);
        let (a, room) = (UserId::new(), ConversationId::new());
        let facts = ConversationFacts::plain(ConversationKind::Room, Visibility::Private);
        let reg = hub.register(a, "a", SessionId::new());
        assert!(!reg.subscribed);
        let version = hub.membership_version(a).unwrap_or_default();
        // A leave is applied while the connection loads its list from the database.
        hub.unsubscribe(a, room);
        assert!(
            !hub.subscribe_all(a, &[(room, facts)], version, false),
            "stale list refused"
        );
        let version = hub.membership_version(a).unwrap_or_default();
        assert!(hub.subscribe_all(a, &[], version, false));
        assert!(!hub.is_subscribed(a, room));
        assert!(hub.register(a, "a", SessionId::new()).subscribed);
        // Joining and leaving many rooms leaves no empty room behind.
        for _ in 0..100 {
            let r = ConversationId::new();
            hub.subscribe(a, r, facts);
            hub.unsubscribe(a, r);
        }
        assert_eq!(hub.read().rooms.len(), 0);
    }
}
