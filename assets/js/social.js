// The social graph as this user sees it: friends, friend requests (incoming / outgoing), the
// users I blocked, and the missed direct messages. Loaded over REST (GET /friends, GET /blocks)
// at start and after every `ready` (frames missed while disconnected are not replayed), kept
// current by the friend/block frames; the missed list comes from `ready.missed` (or
// GET /dms/missed) and shrinks as DMs are read. Emits the store's `friends`, `blocks` and
// `missed` events.

import { errorMessage } from './api.js';

export function createSocial({ store, api, socket }) {
  const friends = new Map(); // user id -> Friend { user, since }
  const incoming = new Map(); // user id -> FriendRequest { user, created_at }
  const outgoing = new Map();
  const blocked = new Map(); // user id -> BlockedUser { user, created_at }
  let missed = []; // [MissedDm { conversation_id, peer, count, last_seq }], newest first
  let loadedOnce = false;

  const report = (err) => store.toast(errorMessage(err));

  function fill(map, list) {
    map.clear();
    for (const entry of list ?? []) map.set(entry.user.id, entry);
  }

  async function loadFriends() {
    try {
      const list = await api.get('/friends');
      fill(friends, list.friends);
      fill(incoming, list.incoming);
      fill(outgoing, list.outgoing);
      store.emit('friends');
    } catch (err) {
      if (err?.status !== 404) report(err);
    }
  }

  async function loadBlocks() {
    try {
      fill(blocked, (await api.get('/blocks')).blocked);
      store.emit('blocks');
    } catch (err) {
      if (err?.status !== 404) report(err);
    }
  }

  function setMissed(list) {
    missed = (list ?? []).filter((m) => !store.isVisible(m.conversation_id));
    store.emit('missed');
  }

  function clearMissed(conversationId) {
    const before = missed.length;
    missed = missed.filter((m) => m.conversation_id !== conversationId);
    if (missed.length !== before) store.emit('missed');
  }

  // --- frames ---------------------------------------------------------------------------
  socket.on('friend_request', (f) => {
    (f.direction === 'incoming' ? incoming : outgoing).set(f.user.id, { user: f.user, created_at: new Date().toISOString() });
    store.emit('friends');
    if (f.direction === 'incoming') store.toast(`${f.user.username} wants to be your friend.`, 'info');
  });
  socket.on('friend_request_removed', (f) => {
    (f.direction === 'incoming' ? incoming : outgoing).delete(f.user_id);
    store.emit('friends');
  });
  socket.on('friend_added', (f) => {
    incoming.delete(f.friend.user.id);
    outgoing.delete(f.friend.user.id);
    friends.set(f.friend.user.id, f.friend);
    store.emit('friends');
  });
  socket.on('friend_removed', (f) => {
    friends.delete(f.user_id);
    store.emit('friends');
  });
  socket.on('block_changed', (f) => {
    if (f.blocked) {
      blocked.set(f.user.id, { user: f.user, created_at: new Date().toISOString() });
      friends.delete(f.user.id);
      incoming.delete(f.user.id);
      outgoing.delete(f.user.id);
      store.emit('friends');
    } else {
      blocked.delete(f.user.id);
    }
    store.emit('blocks');
  });

  store.on('ready', ({ frame }) => {
    if (Array.isArray(frame.missed)) setMissed(frame.missed);
    else if (!loadedOnce) api.get('/dms/missed').then((r) => setMissed(r.missed), () => {});
    loadedOnce = true;
    loadFriends();
    loadBlocks();
  });
  // Opening (reading) a DM clears its entry.
  store.on('open-dm', ({ conversationId }) => clearMissed(conversationId));
  store.on('conversations', () => {
    for (const m of missed) {
      const conv = store.conversation(m.conversation_id);
      if (conv && conv.unread_count === 0 && (conv.last_seq ?? 0) >= m.last_seq && store.isVisible(conv.id)) clearMissed(conv.id);
    }
  });

  // --- actions (each answers with what the server said; callers report errors) ----------
  async function request(username) {
    const res = await api.post('/friends/requests', { username });
    if (res.state === 'accepted') await loadFriends();
    else {
      outgoing.set(res.user.id, { user: res.user, created_at: new Date().toISOString() });
      store.emit('friends');
    }
    return res;
  }
  async function accept(userId) {
    const friend = await api.post(`/friends/requests/${encodeURIComponent(userId)}/accept`);
    incoming.delete(userId);
    friends.set(friend.user.id, friend);
    store.emit('friends');
  }
  async function decline(userId) {
    await api.post(`/friends/requests/${encodeURIComponent(userId)}/decline`);
    incoming.delete(userId);
    store.emit('friends');
  }
  async function cancel(userId) {
    await api.del(`/friends/requests/${encodeURIComponent(userId)}`);
    outgoing.delete(userId);
    store.emit('friends');
  }
  async function unfriend(userId) {
    await api.del(`/friends/${encodeURIComponent(userId)}`);
    friends.delete(userId);
    store.emit('friends');
  }
  async function block(userId) {
    const entry = await api.put(`/blocks/${encodeURIComponent(userId)}`);
    blocked.set(userId, entry);
    friends.delete(userId);
    incoming.delete(userId);
    outgoing.delete(userId);
    store.emit('friends');
    store.emit('blocks');
  }
  async function unblock(userId) {
    await api.del(`/blocks/${encodeURIComponent(userId)}`);
    blocked.delete(userId);
    store.emit('blocks');
  }

  return {
    friends: () => [...friends.values()],
    incoming: () => [...incoming.values()],
    outgoing: () => [...outgoing.values()],
    blocked: () => [...blocked.values()],
    missed: () => [...missed],
    isFriend: (id) => friends.has(id),
    isBlocked: (id) => blocked.has(id),
    hasOutgoing: (id) => outgoing.has(id),
    hasIncoming: (id) => incoming.has(id),
    friend: (id) => friends.get(id),
    clearMissed,
    request, accept, decline, cancel, unfriend, block, unblock,
  };
}
