//! Presence in the hub: who may see whom (friends, conversation peers, member-list watchers,
//! minus blocks), what each connected user is shown as (choice, auto-away, invisible), and the
//! frames that tell the audience when that changes. See the module docs of `hub`.

use std::collections::{HashMap, HashSet};

use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::{ConnId, Hub, Online, State, TellSelf, leave_rooms};
use crate::{
    domain::{ConversationId, InstanceId, PresenceChoice, PresenceStatus, UserId, UserPresence},
    events::{Event, PresenceHome},
    realtime::protocol::{MyPresenceFrame, PresenceFrame, ServerFrame},
    service::PresenceDirectory,
};

impl Hub {
    /// The users who may see `user`'s presence because they share a conversation whose members
    /// see each other, or are friends (online here; blocks not yet applied).
    fn peers(state: &State, user: UserId) -> HashSet<UserId> {
        let mut out = HashSet::new();
        for room in Self::rooms_of(state, user).filter(|r| r.members_see_presence) {
            out.extend(room.members().filter(|u| **u != user));
        }
        if let Some(online) = state.users.get(&user) {
            out.extend(
                online
                    .friends
                    .iter()
                    .filter(|f| state.users.contains_key(f)),
            );
        }
        out
    }

    /// The connections that may see `user`'s presence: their peers' ([`Self::peers`]) and those
    /// watching the member list of a public room they are in, minus anyone in a block with them.
    fn audience(state: &State, user: UserId) -> HashSet<ConnId> {
        let Some(subject) = state.users.get(&user) else {
            return HashSet::new();
        };
        let mut out = HashSet::new();
        for peer in Self::peers(state, user) {
            if !subject.hides_from(peer) {
                out.extend(state.users.get(&peer).into_iter().flat_map(|o| &o.conns));
            }
        }
        for room in Self::rooms_of(state, user) {
            out.extend(room.watchers.iter().filter(|c| {
                state
                    .conns
                    .get(c)
                    .is_some_and(|c| c.user != user && !subject.hides_from(c.user))
            }));
        }
        out
    }

    /// What `user`'s audience should see now, from their choice and activity. While they have
    /// no connection (the grace period) nothing changes: what was shown stays.
    ///
    /// With several instances the user may be connected to others too (`homes`): they are away
    /// only when idle everywhere.
    fn effective(&self, state: &State, online: &Online) -> PresenceStatus {
        if !online.profiled {
            return PresenceStatus::Offline;
        }
        if online.conns.is_empty() && online.homes.is_empty() {
            return online.shown;
        }
        match online.choice {
            PresenceChoice::Invisible => PresenceStatus::Offline,
            PresenceChoice::Busy => PresenceStatus::Busy,
            PresenceChoice::Away => PresenceStatus::Away,
            PresenceChoice::Online => {
                let here = !online.conns.is_empty() && self.locally_active(state, online);
                if here || online.homes.values().any(|active| *active) {
                    PresenceStatus::Online
                } else {
                    PresenceStatus::Away
                }
            }
        }
    }

    /// Whether the person was active on one of their connections here within
    /// `[presence] auto_away_minutes` (always, when auto-away is off).
    fn locally_active(&self, state: &State, online: &Online) -> bool {
        !self.auto_away.is_some_and(|after| {
            online.conns.iter().all(|c| {
                state
                    .conns
                    .get(c)
                    .is_none_or(|c| c.last_activity.elapsed() >= after)
            })
        })
    }

    /// `user`'s presence as this instance announces it: `online` (connected here) or `offline`,
    /// with a [`PresenceHome`] when there are several instances.
    fn announcement(&self, state: &State, user: UserId, status: PresenceStatus) -> Option<Event> {
        let online = state.users.get(&user)?;
        let home = self.instance.as_ref().map(|instance| PresenceHome {
            instance: instance.clone(),
            active: status != PresenceStatus::Offline && self.locally_active(state, online),
            choice: online.choice,
            status_text: online.status_text.clone(),
            friends: online.friends.iter().copied().collect(),
            blocked: online.blocked.iter().copied().collect(),
            conversations: online
                .conversations
                .iter()
                .map(|c| {
                    (
                        *c,
                        state.rooms.get(c).is_none_or(|r| r.members_see_presence),
                    )
                })
                .collect(),
        });
        Some(Event::PresenceChanged {
            user_id: user,
            username: online.username.clone(),
            status,
            home,
        })
    }

    /// Queues `user`'s announcement (see [`Self::announcement`]) and remembers what it said.
    fn announce(&self, state: &mut State, user: UserId, status: PresenceStatus) {
        let Some(event) = self.announcement(state, user, status) else {
            return;
        };
        let active = match &event {
            Event::PresenceChanged {
                home: Some(home), ..
            } => Some(home.active),
            _ => None,
        };
        if let Some(online) = state.users.get_mut(&user) {
            online.announced_active = active.filter(|_| status != PresenceStatus::Offline);
        }
        let _ = self.announce.send(event);
    }

    /// With several instances: announces `user` again when their activity here changed since
    /// the last announcement (auto-away here, or back).
    fn announce_activity(&self, state: &mut State, user: UserId) {
        if self.instance.is_none() {
            return;
        }
        let Some(online) = state.users.get(&user) else {
            return;
        };
        if online.conns.is_empty() || online.announced_active.is_none() {
            return;
        }
        let active = self.locally_active(state, online);
        if online.announced_active != Some(active) {
            self.announce(state, user, PresenceStatus::Online);
        }
    }

    /// Recomputes `user`'s presence and, when what others see changed (status or status text),
    /// tells their audience; their own connections get `my_presence` as `tell_self` says.
    /// Returns the number of `presence` frames queued.
    fn refresh(&self, state: &mut State, user: UserId, tell_self: TellSelf) -> usize {
        let Some(online) = state.users.get(&user) else {
            return 0;
        };
        let status = self.effective(state, online);
        let text = online.visible_text(status);
        let changed = status != online.shown || text != online.shown_text;
        let mut queued = 0;
        if changed {
            let frame = presence_frame(user, &online.username, status, text.clone());
            let audience = Self::audience(state, user);
            for conn in &audience {
                Self::deliver(state, *conn, &frame);
            }
            queued = audience.len();
        }
        let Some(online) = state.users.get_mut(&user) else {
            return queued;
        };
        online.shown = status;
        online.shown_text = text;
        if tell_self == TellSelf::Always || (tell_self == TellSelf::OnChange && changed) {
            let frame = ServerFrame::MyPresence(MyPresenceFrame {
                choice: online.choice,
                status,
                status_text: online.status_text.clone(),
            })
            .encode();
            Self::deliver_to_user(state, user, &frame);
        }
        self.announce_activity(state, user);
        queued
    }

    /// Sets what is known of `user`'s presence once their first connection loaded it (their
    /// choice, status text, friends and blocks) and shows them to their audience unless they are
    /// invisible. Later connections only refresh it. Returns the `presence` frames queued.
    pub fn set_profile(
        &self,
        user: UserId,
        choice: PresenceChoice,
        status_text: Option<String>,
        friends: HashSet<UserId>,
        blocked: HashSet<UserId>,
    ) -> usize {
        let mut state = self.write();
        let Some(online) = state.users.get_mut(&user) else {
            return 0;
        };
        online.choice = choice;
        online.status_text = status_text;
        online.friends = friends;
        online.blocked = blocked;
        online.profiled = true;
        // The connection's `ready` carries its own presence.
        self.refresh(&mut state, user, TellSelf::Never)
    }

    /// `user` chose a presence or status text (on any instance): their connections here show it
    /// (`my_presence`), and their audience sees the change. No-op when they are not connected.
    pub fn set_choice(
        &self,
        user: UserId,
        choice: PresenceChoice,
        status_text: Option<String>,
    ) -> usize {
        let mut state = self.write();
        let Some(online) = state.users.get_mut(&user) else {
            return 0;
        };
        online.choice = choice;
        online.status_text = status_text;
        if !online.profiled {
            return 0;
        }
        self.refresh(&mut state, user, TellSelf::Always)
    }

    /// The person is active on connection `conn` (input, a send): ends an automatic away.
    pub fn activity(&self, conn: ConnId) {
        let mut state = self.write();
        let Some(c) = state.conns.get_mut(&conn) else {
            return;
        };
        c.last_activity = Instant::now();
        let user = c.user;
        let stale = state.users.get(&user).is_some_and(|o| {
            (o.shown == PresenceStatus::Away && o.choice == PresenceChoice::Online)
                || o.announced_active == Some(false)
        });
        if stale {
            self.refresh(&mut state, user, TellSelf::OnChange);
        }
    }

    /// Shows as away every user whose choice is `online` and who has had no activity on any
    /// connection for `[presence] auto_away_minutes`. Returns how many changed.
    pub fn sweep_auto_away(&self) -> usize {
        if self.auto_away.is_none() {
            return 0;
        }
        let mut state = self.write();
        let due: Vec<UserId> = state
            .users
            .iter()
            .filter(|(_, o)| o.profiled && !o.conns.is_empty())
            .filter(|(_, o)| {
                let away = o.choice == PresenceChoice::Online
                    && o.shown == PresenceStatus::Online
                    && self.effective(&state, o) == PresenceStatus::Away;
                // With several instances, idleness here is announced even when the user shows
                // as online thanks to another instance.
                away || (o.announced_active == Some(true) && !self.locally_active(&state, o))
            })
            .map(|(u, _)| *u)
            .collect();
        let mut changed = 0;
        for user in &due {
            let before = state.users.get(user).map(|o| o.shown);
            self.refresh(&mut state, *user, TellSelf::OnChange);
            if state.users.get(user).map(|o| o.shown) != before {
                changed += 1;
            }
        }
        changed
    }

    /// Recomputes `user`'s presence (a connection came back within the grace period, or came
    /// online): their audience learns a change.
    pub fn refresh_presence(&self, user: UserId) -> usize {
        self.refresh(&mut self.write(), user, TellSelf::OnChange)
    }

    /// `user` went offline (no connection since the grace period began): their audience learns
    /// it unless they were already shown as offline (invisible), and their subscriptions are
    /// dropped. Nothing happens when they came back meanwhile. Returns the frames queued.
    pub fn go_offline(&self, user: UserId) -> usize {
        let mut state = self.write();
        let Some(online) = state.users.get(&user) else {
            return 0;
        };
        if !online.conns.is_empty() {
            return 0;
        }
        if !online.homes.is_empty() && online.local {
            // Still connected to other instances: a replica from now on.
            return self.become_replica(&mut state, user);
        }
        self.remove_user(&mut state, user)
    }

    /// Tells `user`'s audience they are offline (unless they already show as offline) and
    /// forgets them. Returns the frames queued.
    fn remove_user(&self, state: &mut State, user: UserId) -> usize {
        let Some(online) = state.users.get(&user) else {
            return 0;
        };
        let mut queued = 0;
        if online.shown != PresenceStatus::Offline {
            let frame = presence_frame(user, &online.username, PresenceStatus::Offline, None);
            let audience = Self::audience(state, user);
            for conn in &audience {
                Self::deliver(state, *conn, &frame);
            }
            queued = audience.len();
        }
        if let Some(online) = state.users.remove(&user) {
            leave_rooms(&mut state.rooms, user, &online.conversations);
        }
        queued
    }

    /// `user`, whose last connection here closed, is still connected to other instances: kept
    /// as a replica (their presence as those instances announce it).
    fn become_replica(&self, state: &mut State, user: UserId) -> usize {
        let State { users, rooms, .. } = state;
        let Some(online) = users.get_mut(&user) else {
            return 0;
        };
        online.local = false;
        online.announced_active = None;
        for conversation in &online.conversations {
            if let Some(room) = rooms.get_mut(conversation) {
                room.users.remove(&user);
                room.remote.insert(user);
            }
        }
        self.refresh(state, user, TellSelf::Never)
    }

    /// Another instance announced `user`'s presence there (`status` `offline`: no connection
    /// there any more). A user not connected here becomes (or stays) a replica built from the
    /// announcement; their audience here learns any change. Returns the frames queued.
    pub fn apply_home(
        &self,
        user: UserId,
        username: &str,
        status: PresenceStatus,
        home: &PresenceHome,
    ) -> usize {
        let mut state = self.write();
        let gone = status == PresenceStatus::Offline;
        let State { users, rooms, .. } = &mut *state;
        match users.get_mut(&user) {
            None if gone => return 0,
            None => {
                users.insert(
                    user,
                    Online {
                        username: username.to_owned(),
                        conns: Vec::new(),
                        generation: 0,
                        conversations: HashSet::new(),
                        version: 0,
                        loaded: true,
                        profiled: true,
                        choice: home.choice,
                        status_text: home.status_text.clone(),
                        friends: HashSet::new(),
                        blocked: HashSet::new(),
                        shown: PresenceStatus::Offline,
                        shown_text: None,
                        local: false,
                        homes: HashMap::from([(home.instance.clone(), home.active)]),
                        announced_active: None,
                    },
                );
                replicate(users, rooms, user, home);
            }
            Some(online) => {
                if gone {
                    online.homes.remove(&home.instance);
                } else {
                    online.homes.insert(home.instance.clone(), home.active);
                    if !online.local {
                        replicate(users, rooms, user, home);
                    }
                }
            }
        }
        self.settle(&mut state, user)
    }

    /// After `user`'s homes changed: a replica with no home left goes offline; anyone else is
    /// refreshed.
    fn settle(&self, state: &mut State, user: UserId) -> usize {
        let orphan = state
            .users
            .get(&user)
            .is_some_and(|o| !o.local && o.homes.is_empty());
        if orphan {
            self.remove_user(state, user)
        } else {
            self.refresh(state, user, TellSelf::OnChange)
        }
    }

    /// `instance` is gone (not heard on the bus): every presence it announced is dropped, and
    /// users connected only there go offline. Returns how many users it concerned.
    pub fn drop_instance(&self, instance: &InstanceId) -> usize {
        let mut state = self.write();
        let concerned: Vec<UserId> = state
            .users
            .iter_mut()
            .filter_map(|(user, o)| o.homes.remove(instance).map(|_| *user))
            .collect();
        for user in &concerned {
            self.settle(&mut state, *user);
        }
        concerned.len()
    }

    /// Forgets every other instance's presence without telling anyone (the connections here are
    /// being closed for a resync; the instances announce again). Returns the replicas dropped.
    pub fn forget_other_instances(&self) -> usize {
        let mut state = self.write();
        let replicas: Vec<UserId> = state
            .users
            .iter_mut()
            .filter_map(|(user, o)| {
                o.homes.clear();
                (!o.local).then_some(*user)
            })
            .collect();
        let State { users, rooms, .. } = &mut *state;
        for user in &replicas {
            if let Some(online) = users.remove(user) {
                leave_rooms(rooms, *user, &online.conversations);
            }
        }
        replicas.len()
    }

    /// `user`'s first connection here is ready (profile loaded): announces them online.
    pub fn announce_online(&self, user: UserId) {
        let mut state = self.write();
        self.announce(&mut state, user, PresenceStatus::Online);
    }

    /// After the grace period: when `user` has had no connection here since `generation`,
    /// announces them offline here (and returns true).
    pub fn announce_offline_if_idle(&self, user: UserId, generation: u64) -> bool {
        let mut state = self.write();
        let idle = state
            .users
            .get(&user)
            .is_some_and(|o| o.local && o.conns.is_empty() && o.generation == generation);
        if idle {
            self.announce(&mut state, user, PresenceStatus::Offline);
        }
        idle
    }

    /// With several instances: announces every user connected here again (another instance
    /// joined the bus or resynchronises). Returns how many.
    pub fn announce_all(&self) -> usize {
        if self.instance.is_none() {
            return 0;
        }
        let mut state = self.write();
        let here: Vec<UserId> = state
            .users
            .iter()
            .filter(|(_, o)| o.local && o.profiled && !o.conns.is_empty())
            .map(|(u, _)| *u)
            .collect();
        for user in &here {
            self.announce(&mut state, *user, PresenceStatus::Online);
        }
        here.len()
    }

    /// `a` and `b` became friends (`true`) or stopped being friends: each one's entry here
    /// learns it, and when they became friends each sees the other's presence now.
    pub fn set_friends(&self, a: UserId, b: UserId, friends: bool) {
        let mut state = self.write();
        for (me, other) in [(a, b), (b, a)] {
            if let Some(online) = state.users.get_mut(&me) {
                if friends {
                    online.friends.insert(other);
                } else {
                    online.friends.remove(&other);
                }
            }
        }
        if friends {
            for (me, other) in [(a, b), (b, a)] {
                Self::show_to(&state, other, me);
            }
        }
    }

    /// A block between `a` and `b` began (`true`) or ended. While it lasts neither sees the
    /// other's presence: each is shown the other as offline now; when it ends, each sees the
    /// other again if they otherwise may.
    pub fn set_blocked(&self, a: UserId, b: UserId, blocked: bool) {
        let mut state = self.write();
        // Who could see whom before: only they are told the other is offline now (a stranger,
        // or anyone while the other is invisible, learns nothing from a block).
        let mut saw = Vec::new();
        if blocked {
            for (me, other) in [(a, b), (b, a)] {
                let visible = state
                    .users
                    .get(&other)
                    .is_some_and(|o| o.shown != PresenceStatus::Offline && !o.hides_from(me));
                let audience = visible
                    && Self::audience(&state, other)
                        .iter()
                        .any(|c| state.conns.get(c).is_some_and(|c| c.user == me));
                if audience {
                    saw.push((me, other));
                }
            }
        }
        for (me, other) in [(a, b), (b, a)] {
            if let Some(online) = state.users.get_mut(&me) {
                if blocked {
                    online.blocked.insert(other);
                } else {
                    online.blocked.remove(&other);
                }
            }
        }
        for (me, other) in [(a, b), (b, a)] {
            if blocked {
                if saw.contains(&(me, other))
                    && let Some(o) = state.users.get(&other)
                {
                    let frame = presence_frame(other, &o.username, PresenceStatus::Offline, None);
                    Self::deliver_to_user(&state, me, &frame);
                }
            } else if Self::peers(&state, other).contains(&me) {
                Self::show_to(&state, other, me);
            }
        }
    }

    /// `a` and `b` are no longer friends: each one who could see the other only as a friend
    /// (no shared DM, group or private room) is told the other is offline, so no stale status
    /// stays on their screen.
    pub fn unfriended(&self, a: UserId, b: UserId) {
        let mut state = self.write();
        let mut saw = Vec::new();
        for (me, other) in [(a, b), (b, a)] {
            let visible = state
                .users
                .get(&other)
                .is_some_and(|o| o.shown != PresenceStatus::Offline && !o.hides_from(me));
            if visible {
                saw.push((me, other));
            }
        }
        for (me, other) in [(a, b), (b, a)] {
            if let Some(online) = state.users.get_mut(&me) {
                online.friends.remove(&other);
            }
        }
        for (me, other) in saw {
            if !Self::peers(&state, other).contains(&me)
                && let Some(o) = state.users.get(&other)
            {
                let frame = presence_frame(other, &o.username, PresenceStatus::Offline, None);
                Self::deliver_to_user(&state, me, &frame);
            }
        }
    }

    /// Sends `viewer` the current presence of `subject` when it is not offline and no block
    /// stands between them.
    fn show_to(state: &State, subject: UserId, viewer: UserId) {
        let Some(o) = state.users.get(&subject) else {
            return;
        };
        if o.shown == PresenceStatus::Offline || o.hides_from(viewer) {
            return;
        }
        let frame = presence_frame(subject, &o.username, o.shown, o.visible_text(o.shown));
        Self::deliver_to_user(state, viewer, &frame);
    }

    /// A new member `user` of `conversation`, whose members see each other's presence: the
    /// online members learn the newcomer's presence and the newcomer theirs (not more than
    /// `max` members; blocks and invisibility respected).
    pub fn exchange_presence(&self, user: UserId, conversation: ConversationId, max: usize) {
        let state = self.read();
        let Some(room) = state.rooms.get(&conversation) else {
            return;
        };
        if room.users.len() + room.remote.len() > max {
            return;
        }
        for peer in room.members().filter(|p| **p != user) {
            Self::show_to(&state, user, *peer);
            Self::show_to(&state, *peer, user);
        }
    }

    /// Whether `user` is online here (connected, or within the grace period).
    pub fn is_online(&self, user: UserId) -> bool {
        self.read().users.contains_key(&user)
    }

    /// Whether `user` is connected but hidden (invisible): they send no typing indicators.
    pub fn is_hidden(&self, user: UserId) -> bool {
        self.read()
            .users
            .get(&user)
            .is_some_and(|o| o.choice == PresenceChoice::Invisible)
    }

    /// What everyone may see of `user` now.
    pub fn shown(&self, user: UserId) -> PresenceStatus {
        self.read()
            .users
            .get(&user)
            .map_or(PresenceStatus::Offline, |o| o.shown)
    }

    /// The presence of the users `user` may see (peers in DMs, groups and private rooms, and
    /// friends) who are not shown as offline, at most `limit`.
    pub fn visible_presence(&self, user: UserId, limit: usize) -> Vec<UserPresence> {
        let state = self.read();
        let mut out = Vec::new();
        for peer in Self::peers(&state, user) {
            if out.len() >= limit {
                break;
            }
            let Some(o) = state.users.get(&peer) else {
                continue;
            };
            if o.shown != PresenceStatus::Offline && !o.hides_from(user) {
                out.push(UserPresence {
                    user_id: peer,
                    status: o.shown,
                    status_text: o.visible_text(o.shown),
                });
            }
        }
        out
    }
}

/// Makes `user`'s replica match `home`: choice, status text, friends, blocks and conversations
/// as the announcing instance knows them.
fn replicate(
    users: &mut HashMap<UserId, Online>,
    rooms: &mut HashMap<ConversationId, super::Room>,
    user: UserId,
    home: &PresenceHome,
) {
    let Some(online) = users.get_mut(&user) else {
        return;
    };
    online.choice = home.choice;
    online.status_text = home.status_text.clone();
    online.friends = home.friends.iter().copied().collect();
    online.blocked = home.blocked.iter().copied().collect();
    let now: HashSet<ConversationId> = home.conversations.iter().map(|(c, _)| *c).collect();
    leave_rooms(rooms, user, online.conversations.difference(&now));
    for (conversation, see) in &home.conversations {
        let room = rooms.entry(*conversation).or_default();
        room.members_see_presence = *see;
        room.remote.insert(user);
    }
    online.conversations = now;
}

/// A `presence` frame.
fn presence_frame(
    user_id: UserId,
    username: &str,
    status: PresenceStatus,
    status_text: Option<String>,
) -> Utf8Bytes {
    ServerFrame::Presence(PresenceFrame {
        user_id,
        username: username.to_owned(),
        status,
        status_text,
    })
    .encode()
}

impl PresenceDirectory for Hub {
    fn status(&self, viewer: UserId, user: UserId) -> PresenceStatus {
        self.read()
            .users
            .get(&user)
            .filter(|o| !o.hides_from(viewer))
            .map_or(PresenceStatus::Offline, |o| o.shown)
    }

    fn preview(&self, user: UserId, choice: PresenceChoice) -> PresenceStatus {
        let state = self.read();
        let Some(online) = state.users.get(&user) else {
            return PresenceStatus::Offline;
        };
        match choice {
            PresenceChoice::Invisible => PresenceStatus::Offline,
            PresenceChoice::Busy => PresenceStatus::Busy,
            PresenceChoice::Away => PresenceStatus::Away,
            PresenceChoice::Online
                if online.choice == PresenceChoice::Online
                    && online.shown == PresenceStatus::Away =>
            {
                PresenceStatus::Away
            }
            PresenceChoice::Online => PresenceStatus::Online,
        }
    }
}
