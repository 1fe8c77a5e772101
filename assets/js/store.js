// Application state plus a tiny event bus. app.js creates one store and hands it to every
// module; modules read state through these functions and react to the events below.
//
// Events (detail in braces):
//   me, permissions (my server permissions changed), connection {status}, conversations,
//   conversation-updated {conversationId}, messages {conversationId, added},
//   timeline-reset {conversationId}, history {conversationId}, pending {conversationId},
//   presence, my-presence, members {conversationId}, typing {conversationId},
//   active-room {conversationId}, incoming {message}, open-dm {conversationId, minimized?},
//   open-group {conversationId, minimized?}, toast {message, kind}, compose-error {conversationId, code, message},
//   ready {frame} (each `ready` frame, for the social modules), friends, blocks, missed, prefs
//   (the last four come from social.js and prefs.js), message-updated {conversationId, seq}
//   (a message was deleted: its element is drawn again), announcement {text, by_username, at},
//   admin-open-user {userId} (a moderation action asks the admin panel to show a user),
//   conversation-deleted {conversationId} (conversation_deleted: also drop it from the directory)
//   --- conversations in depth (issue 9) ---
//   message-updated {conversationId, seq} also for edits, reactions and pins (message_updated),
//   reply {conversationId} (the message being replied to changed), receipts {conversationId},
//   read-position {conversationId, elsewhere} (my read position moved; elsewhere: another tab or device),
//   jump-to {conversationId, seq} (show that message: search, a reply's quote, a pin),
//   jump-shown {conversationId, seq} (the timeline holds it now: scroll to it and flash it),
//   at-bottom {conversationId} (a list on screen shows its newest message: mark it read),
//   load-newer {conversationId} (a list scrolled to the end of a window left by a jump),
//   message-menu {conversationId, message, items} (listeners push menu items for a message)

const TYPING_TTL_MS = 6000;

export function createStore() {
  const listeners = new Map();
  const conversations = new Map(); // id -> conversation
  // id -> { bySeq: Map(seq -> message), order: [seq...], loaded, hasMore, hasNewer, maxChange }
  // hasNewer: the held window does not reach the newest message (after a jump); maxChange: the
  // highest change_seq seen (for resume's after_change).
  const timelines = new Map();
  const replies = new Map(); // conversation id -> the message my next send replies to
  const receipts = new Map(); // conversation id -> Map(user_id -> { user_id, username, seq })
  const pending = new Map(); // client_id -> { client_id, conversation_id, body, status, error, created_at }
  const presence = new Map(); // user_id -> 'online' | 'away' | 'busy' | 'offline'
  const statusTexts = new Map(); // user_id -> custom status text (absent: none)
  const presenceAt = new Map(); // user_id -> when the last presence frame about them arrived
  const members = new Map(); // conversation id -> { byId: Map(user_id -> member), cursor }
  const typing = new Map(); // conversation id -> Map(user_id -> { username, timer })
  const visible = new Set(); // conversations currently on screen
  let me = null;
  let permissions = new Set(); // my server permissions (audit.read, roles.manage, …)
  let connection = 'connecting';
  let activeRoomId = null;
  let myPresence = null; // MyPresence { choice, status, status_text?, auto_away_secs, allow_invisible }

  function on(type, fn) {
    if (!listeners.has(type)) listeners.set(type, new Set());
    listeners.get(type).add(fn);
    return () => listeners.get(type).delete(fn);
  }

  function emit(type, detail = {}) {
    for (const fn of [...(listeners.get(type) ?? [])]) {
      try {
        fn(detail);
      } catch (err) {
        console.error(`listener for "${type}" failed`, err);
      }
    }
  }

  const toast = (message, kind = 'error') => emit('toast', { message, kind });

  // --- identity and connection ---------------------------------------------------------
  /** My account; `perms` (server permissions) when known, e.g. from /users/me or `ready`. */
  function setMe(user, perms) {
    me = user;
    emit('me');
    if (!perms) return;
    const next = new Set(perms);
    const changed = next.size !== permissions.size || [...next].some((p) => !permissions.has(p));
    permissions = next;
    if (changed) emit('permissions');
  }
  const can = (perm) => permissions.has(perm);
  /** Whether the server says I may do `perm` in this conversation (its `permissions` list). */
  const canIn = (id, perm) => Boolean(conversations.get(id)?.permissions?.includes(perm));
  function setConnection(status) {
    if (status === connection) return;
    connection = status;
    emit('connection', { status });
  }

  // --- conversations -------------------------------------------------------------------
  function setConversations(list) {
    conversations.clear();
    for (const c of list) conversations.set(c.id, { ...c });
    emit('conversations');
  }
  /**
   * A full Conversation from the server replaces what we held (optional fields are absent when
   * empty, so merging would keep a cleared topic); the highest last_seq seen is kept.
   */
  function upsertConversation(c) {
    const old = conversations.get(c.id);
    const next = { ...c };
    if (old && (old.last_seq ?? 0) > (next.last_seq ?? 0)) next.last_seq = old.last_seq;
    conversations.set(c.id, next);
    emit('conversations');
  }
  /** A `conversation_updated` frame: the fields are the new values, absent means none. */
  function applyConversationUpdate(f) {
    const c = conversations.get(f.conversation_id);
    if (!c) return;
    for (const key of ['topic', 'category']) {
      if (typeof f[key] === 'string' && f[key] !== '') c[key] = f[key];
      else delete c[key];
    }
    if (typeof f.name === 'string') c.name = f.name;
    else if (c.kind === 'group') delete c.name; // rooms always have a name; a DM's is its peer's
    // Moderation state of rooms (issue 8): present on every update of a room; absent = off.
    for (const key of ['locked', 'read_only', 'official', 'auto_join']) if (key in f) c[key] = Boolean(f[key]);
    if ('slowmode_secs' in f) c.slowmode_secs = Number(f.slowmode_secs) || 0;
    emit('conversation-updated', { conversationId: c.id });
    emit('conversations');
  }
  function patchConversation(id, patch) {
    const c = conversations.get(id);
    if (!c) return;
    Object.assign(c, patch);
    emit('conversations');
  }
  function removeConversation(id) {
    conversations.delete(id);
    visible.delete(id);
    if (activeRoomId === id) setActiveRoom(null);
    emit('conversations');
  }

  // --- message timelines (deduplicated by seq, kept in seq order) -----------------------
  function timeline(id) {
    let t = timelines.get(id);
    if (!t) {
      t = { bySeq: new Map(), order: [], loaded: false, hasMore: false, hasNewer: false, maxChange: 0 };
      timelines.set(id, t);
    }
    return t;
  }
  function insertSorted(arr, v) {
    if (!arr.length || arr[arr.length - 1] < v) {
      arr.push(v);
      return;
    }
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (arr[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    arr.splice(lo, 0, v);
  }
  /** Adds messages not yet held; returns (and announces) only the new ones, in seq order. */
  function addMessages(id, list) {
    const t = timeline(id);
    const added = [];
    for (const m of list) {
      if (!m || typeof m.seq !== 'number' || t.bySeq.has(m.seq)) continue;
      if (t.clearedSeq && m.seq <= t.clearedSeq) continue; // an older page answered after history_cleared
      t.bySeq.set(m.seq, m);
      insertSorted(t.order, m.seq);
      noteChange(t, m.change_seq);
      added.push(m);
    }
    if (!added.length) return added;
    added.sort((a, b) => a.seq - b.seq);
    const c = conversations.get(id);
    const last = t.order[t.order.length - 1];
    if (c && last > (c.last_seq ?? 0)) c.last_seq = last;
    emit('messages', { conversationId: id, added });
    return added;
  }
  function resetTimeline(id) {
    timelines.delete(id);
    emit('timeline-reset', { conversationId: id });
  }
  /**
   * `history_cleared`: every message up to `clearedSeq` is gone for everyone; the history now
   * starts after it (nothing older to load).
   */
  function clearHistory(id, clearedSeq) {
    const t = timeline(id);
    for (const seq of t.order) if (seq <= clearedSeq) t.bySeq.delete(seq);
    t.order = t.order.filter((seq) => seq > clearedSeq);
    t.hasMore = false;
    t.clearedSeq = clearedSeq;
    emit('timeline-reset', { conversationId: id });
  }
  /**
   * `message_deleted`: the held message keeps its place, its body is gone. `changeSeq` (the
   * frame's change_seq) counts towards the highest change seen.
   */
  function markDeleted(id, seq, changeSeq) {
    const t = timelines.get(id);
    if (t) noteChange(t, changeSeq);
    const m = t?.bySeq.get(seq);
    if (!m) return;
    replaceMessage(id, seq, { ...m, body: '', html: '', deleted: true, reactions: undefined, pinned: undefined, change_seq: changeSeq ?? m.change_seq });
  }
  function replaceMessage(id, seq, m) {
    timelines.get(id).bySeq.set(seq, m);
    emit('message-updated', { conversationId: id, seq });
  }

  // --- conversations in depth (issue 9): updates, jumps, replies, receipts, read position ---
  function noteChange(t, changeSeq) {
    if (typeof changeSeq === 'number' && changeSeq > t.maxChange) t.maxChange = changeSeq;
  }
  /**
   * A full Message from `message_updated` (or a PATCH/PUT answer): replaces the held one, unless
   * what is held is newer (a higher change_seq). Not held: only its change_seq is noted.
   */
  function updateMessage(m) {
    const t = timelines.get(m?.conversation_id);
    if (!t) return;
    noteChange(t, m.change_seq);
    const old = t.bySeq.get(m.seq);
    if (!old || (old.change_seq ?? 0) > (m.change_seq ?? 0)) return;
    replaceMessage(m.conversation_id, m.seq, m);
  }
  /**
   * Replaces the held window with one page (a jump to `around_seq`): older pages load with
   * before_seq as usual, newer ones with after_seq while `hasNewer`.
   */
  function replaceWindow(id, list, { hasMore, hasNewer }) {
    const old = timelines.get(id);
    const t = { bySeq: new Map(), order: [], loaded: true, hasMore, hasNewer, maxChange: old?.maxChange ?? 0, clearedSeq: old?.clearedSeq };
    for (const m of list) {
      if (!m || typeof m.seq !== 'number' || t.bySeq.has(m.seq)) continue;
      t.bySeq.set(m.seq, m);
      t.order.push(m.seq);
      noteChange(t, m.change_seq);
    }
    t.order.sort((a, b) => a - b);
    timelines.set(id, t);
    emit('timeline-reset', { conversationId: id });
  }
  const maxChange = (id) => timelines.get(id)?.maxChange ?? 0;
  /** The message my next send in this conversation replies to (null: none). */
  function setReplyTo(id, m) {
    if (m) replies.set(id, m);
    else replies.delete(id);
    emit('reply', { conversationId: id });
  }
  const replyTo = (id) => replies.get(id) ?? null;
  /** GET …/receipts: the members' shared read positions (replaces what is held). */
  function setReceipts(id, list) {
    const map = new Map();
    for (const r of list ?? []) map.set(r.user_id, { ...r });
    receipts.set(id, map);
    emit('receipts', { conversationId: id });
  }
  /** A `read_receipt` frame: one member's read position moved (never backwards). */
  function setReceipt(id, userId, seq) {
    if (!receipts.has(id)) receipts.set(id, new Map());
    const map = receipts.get(id);
    const old = map.get(userId);
    if (old && old.seq >= seq) return;
    const username = old?.username ?? members.get(id)?.byId.get(userId)?.username ?? (conversations.get(id)?.peer?.id === userId ? conversations.get(id).peer.username : '');
    map.set(userId, { user_id: userId, username, seq });
    emit('receipts', { conversationId: id });
  }
  const receiptsOf = (id) => [...(receipts.get(id)?.values() ?? [])];
  /** My read position moved (a `read_position` frame, or my own read): badge and divider follow. */
  function setReadPosition(id, seq, unreadCount, { elsewhere = true } = {}) {
    const c = conversations.get(id);
    if (!c) return;
    if (seq > (c.read_seq ?? 0)) c.read_seq = seq;
    if (typeof unreadCount === 'number') c.unread_count = unreadCount;
    emit('read-position', { conversationId: id, elsewhere });
    emit('conversations');
  }
  function setHistoryState(id, state) {
    Object.assign(timeline(id), state);
    emit('history', { conversationId: id });
  }
  const messagesOf = (id) => {
    const t = timeline(id);
    return t.order.map((s) => t.bySeq.get(s));
  };
  const lastSeq = (id) => {
    const order = timelines.get(id)?.order ?? [];
    return order.length ? order[order.length - 1] : 0;
  };
  const firstSeq = (id) => timelines.get(id)?.order[0] ?? 0;
  const heldConversationIds = () => [...timelines].filter(([, t]) => t.order.length).map(([id]) => id);

  // --- pending (sent, not yet acknowledged) messages ----------------------------------
  function addPending(p) {
    pending.set(p.client_id, p);
    emit('pending', { conversationId: p.conversation_id });
  }
  function resolvePending(clientId) {
    const p = pending.get(clientId);
    if (!p) return;
    pending.delete(clientId);
    emit('pending', { conversationId: p.conversation_id });
  }
  function setPendingStatus(clientId, status, error = null) {
    const p = pending.get(clientId);
    if (!p) return;
    Object.assign(p, { status, error });
    emit('pending', { conversationId: p.conversation_id });
  }
  const pendingList = () => [...pending.values()];
  const pendingFor = (id) => pendingList().filter((p) => p.conversation_id === id);
  const getPending = (clientId) => pending.get(clientId);

  // --- presence and members -----------------------------------------------------------
  function setOnline(ids) {
    presence.clear();
    statusTexts.clear();
    for (const id of ids) presence.set(id, 'online');
    emit('presence');
  }
  /** The `ready` frame's `presence` list: everyone I may see who is not offline. */
  function setPresenceList(list) {
    presence.clear();
    statusTexts.clear();
    for (const p of list) {
      presence.set(p.user_id, p.status);
      if (p.status_text) statusTexts.set(p.user_id, p.status_text);
    }
    emit('presence');
  }
  /** A `presence` frame (or a member's status): `statusText` undefined keeps what is held. */
  function setPresence(userId, status, statusText) {
    presence.set(userId, status);
    presenceAt.set(userId, performance.now());
    if (status === 'offline' || statusText === '' || statusText === null) statusTexts.delete(userId);
    else if (typeof statusText === 'string') statusTexts.set(userId, statusText);
    emit('presence');
  }
  function presenceOf(userId) {
    if (me && userId === me.id) {
      if (connection !== 'online') return 'offline';
      return myPresence?.status ?? 'online';
    }
    return presence.get(userId) ?? 'offline';
  }
  function statusTextOf(userId) {
    if (me && userId === me.id) return myPresence?.status_text ?? '';
    return statusTexts.get(userId) ?? '';
  }
  function setMyPresence(p) {
    myPresence = { ...p };
    emit('my-presence');
    emit('presence');
  }
  /**
   * A page of members from REST. `append` adds it to what is held (the "Show more" page), else it
   * replaces the list. `requestedAt` (performance.now() when the request left) keeps a presence
   * frame that arrived while the request was under way from being overwritten by the older
   * snapshot in the page.
   */
  function setMembers(id, list, { cursor, append = false, requestedAt = -Infinity } = {}) {
    const entry = append && members.get(id) ? members.get(id) : { byId: new Map(), cursor: undefined };
    for (const m of list) entry.byId.set(m.user_id, m);
    entry.cursor = cursor;
    members.set(id, entry);
    for (const m of list) {
      if (m.status && (presenceAt.get(m.user_id) ?? -Infinity) < requestedAt) presence.set(m.user_id, m.status);
    }
    emit('members', { conversationId: id });
    emit('presence');
  }
  /** A member_joined frame: the user, their role there and their presence now. */
  function addMember(id, user, role = 'member', status) {
    if (status) setPresence(user.id, status);
    const entry = members.get(id);
    if (!entry || entry.byId.has(user.id)) return;
    entry.byId.set(user.id, { user_id: user.id, username: user.username, display_name: user.display_name, role, server_role: user.role, status });
    emit('members', { conversationId: id, joined: user.id });
  }
  /** A `member_updated` frame: new role and mute end (absent: not muted). */
  function updateMember(id, userId, { role, muted_until: mutedUntil }) {
    const m = members.get(id)?.byId.get(userId);
    if (!m) return;
    if (role) m.role = role;
    if (mutedUntil) m.muted_until = mutedUntil;
    else delete m.muted_until;
    emit('members', { conversationId: id });
  }
  function removeMember(id, userId) {
    if (members.get(id)?.byId.delete(userId)) emit('members', { conversationId: id });
  }
  /** Held members of a conversation, ordered by username (as the server pages them). */
  const membersOf = (id) => [...(members.get(id)?.byId.values() ?? [])].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  const membersCursor = (id) => members.get(id)?.cursor;
  const forgetMembers = (id) => members.delete(id);

  // --- typing ---------------------------------------------------------------------------
  function clearTyping(id, userId) {
    const entry = typing.get(id)?.get(userId);
    if (!entry) return;
    clearTimeout(entry.timer);
    typing.get(id).delete(userId);
    emit('typing', { conversationId: id });
  }
  function setTyping(id, userId, username) {
    if (!typing.has(id)) typing.set(id, new Map());
    clearTimeout(typing.get(id).get(userId)?.timer);
    const timer = setTimeout(() => clearTyping(id, userId), TYPING_TTL_MS);
    typing.get(id).set(userId, { username, timer });
    emit('typing', { conversationId: id });
  }
  const typingNames = (id) => [...(typing.get(id)?.values() ?? [])].map((e) => e.username);

  // --- what is on screen ------------------------------------------------------------------
  function setActiveRoom(id) {
    if (id === activeRoomId) return;
    activeRoomId = id;
    emit('active-room', { conversationId: id });
  }
  function setVisible(id, isVisible) {
    if (isVisible) visible.add(id);
    else visible.delete(id);
  }

  return {
    on, emit, toast,
    me: () => me, setMe, can, canIn, permissions: () => [...permissions],
    connection: () => connection, setConnection,
    conversation: (id) => conversations.get(id), conversations: () => [...conversations.values()],
    setConversations, upsertConversation, patchConversation, removeConversation, applyConversationUpdate,
    timeline, addMessages, resetTimeline, clearHistory, markDeleted, setHistoryState, messagesOf, lastSeq, firstSeq, heldConversationIds,
    addPending, resolvePending, setPendingStatus, pendingList, pendingFor, getPending,
    setOnline, setPresenceList, setPresence, presenceOf, statusTextOf, myPresence: () => myPresence, setMyPresence,
    setMembers, addMember, updateMember, removeMember, membersOf, membersCursor, forgetMembers,
    setTyping, clearTyping, typingNames,
    activeRoomId: () => activeRoomId, setActiveRoom,
    setVisible, isVisible: (id) => visible.has(id), visibleIds: () => [...visible],
    // conversations in depth (issue 9)
    updateMessage, replaceWindow, maxChange, setReplyTo, replyTo, setReceipts, setReceipt, receiptsOf, setReadPosition,
  };
}
