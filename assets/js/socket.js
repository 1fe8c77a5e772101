// The realtime connection. Reconnects by itself (backoff 0.5 s -> 10 s with jitter, after
// checking/refreshing the session over REST), resumes every conversation it holds messages
// for by seq, re-sends unacknowledged messages with their original client_id (the server
// de-duplicates), watches the member list on screen (again after every reconnect: watches are
// per connection), and turns server frames into store updates.

import { ApiError } from './api.js';
import { clientId } from './ids.js';
import { isEndReason, loginUrl, rememberEndMessage } from './session-end.js';

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;
const PING_MS = 25000;
const DEAD_AFTER_MS = 60000;
const TYPING_EVERY_MS = 3000;
const MAX_BODY_CHARS = 4000;
const KEEP_PENDING = new Set(['shutting_down', 'rate_limited']);
/** Send refusals shown above the compose box instead of a toast. */
const COMPOSE_ERRORS = new Set(['muted', 'blocked', 'slowmode', 'read_only']);

export function createSocket({ store, api, timeline }) {
  let ws = null;
  let ready = false;
  let stopped = false;
  let attempt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let lastFrameAt = 0;
  const typingSentAt = new Map();
  const readSent = new Map();
  let watched = null; // the conversation whose member list is on screen
  let watchSent = null; // the watch sent on this connection and not yet answered
  let readyCount = 0; // which `ready` the conversation list being fetched belongs to
  const extra = new Map(); // frame type -> Set of handlers added by other modules (on())

  const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`;
  const isSeen = (id) => document.visibilityState === 'visible' && store.isVisible(id);
  const report = (err) => store.toast(err instanceof ApiError ? err.message : 'Network error');

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (stopped) return;
    store.setConnection(attempt ? 'reconnecting' : 'connecting');
    let sock;
    try {
      sock = new WebSocket(wsUrl());
    } catch {
      scheduleReconnect();
      return;
    }
    ws = sock;
    lastFrameAt = Date.now();
    sock.addEventListener('message', (ev) => {
      if (sock === ws) onFrame(ev.data);
    });
    sock.addEventListener('close', (ev) => {
      if (sock !== ws) return;
      // 1008 with a session end reason ("idle", "logged_out_elsewhere", …): the session is over;
      // the login page says why. Any other close (an expired access token is 1008 too; 1002/
      // 1007/1009: the server refused a frame; 1001/1013: restart or too slow; 1012: events may
      // have been missed between server instances) takes the reconnect path, which resumes every
      // conversation by seq, and whose session check goes to /login when the session is gone.
      if (ev.code === 1008 && isEndReason(ev.reason)) {
        stop();
        endSession(ev.reason);
        return;
      }
      if (![1000, 1001, 1006, 1012].includes(ev.code)) console.warn(`WebSocket closed: ${ev.code} ${ev.reason}`);
      dropConnection();
    });
  }

  /**
   * Goes to the login page for a session that ended. A suspension or deactivation carries its
   * details (until when, the reason) in the message of the 401 the next request gets; it is kept
   * for the login page (session-end.js).
   */
  async function endSession(reason) {
    if (reason === 'suspended' || reason === 'deactivated') {
      try {
        await api.request('GET', '/users/me', undefined, { auth: false });
      } catch (err) {
        if (err instanceof ApiError) rememberEndMessage(err.reason ?? reason, err.message);
      }
    }
    location.assign(loginUrl(reason));
  }

  function dropConnection() {
    const sock = ws;
    ws = null;
    ready = false;
    watchSent = null;
    clearInterval(pingTimer);
    if (sock && sock.readyState < WebSocket.CLOSING) sock.close();
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (stopped || retryTimer) return;
    store.setConnection('reconnecting');
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt);
    attempt += 1;
    const delay = Math.min(MAX_DELAY_MS, base * (0.75 + Math.random() * 0.5));
    retryTimer = setTimeout(reconnect, delay);
  }

  async function reconnect() {
    retryTimer = null;
    try {
      await api.ensureSession(); // refreshes the access cookie the upgrade request will carry
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return; // api.js is sending us to /login
      scheduleReconnect();
      return;
    }
    connect();
  }

  function sendFrame(frame) {
    if (!ws || !ready || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  function ping() {
    if (Date.now() - lastFrameAt > DEAD_AFTER_MS) {
      dropConnection(); // no pong for two intervals: the connection is dead even if TCP has not noticed
      return;
    }
    sendFrame({ type: 'ping' });
  }

  function onFrame(text) {
    lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    const handler = handlers[frame?.type];
    if (handler) handler(frame);
    for (const fn of extra.get(frame?.type) ?? []) {
      try {
        fn(frame);
      } catch (err) {
        console.error(`handler for "${frame.type}" failed`, err);
      }
    }
  }

  /** Lets a module handle a frame type too (after the built-in handler). */
  function on(type, fn) {
    if (!extra.has(type)) extra.set(type, new Set());
    extra.get(type).add(fn);
  }

  /** `ready` carries the first page of conversations; fetch the rest when there is more. */
  async function fullConversationList(f) {
    const first = f.conversations ?? [];
    if (!f.conversations_cursor) return first;
    try {
      return first.concat(await api.allPages('/conversations', 'conversations', { cursor: f.conversations_cursor }));
    } catch (err) {
      report(err);
      // Keep what we knew beyond the first page rather than dropping it.
      const ids = new Set(first.map((c) => c.id));
      return first.concat(store.conversations().filter((c) => !ids.has(c.id)));
    }
  }

  /** Tell the server which member list is on screen (after each `ready`, and on every change). */
  function watch(id) {
    if (watched === id) return;
    if (watched) sendFrame({ type: 'unwatch', conversation_id: watched });
    watched = id;
    watchSent = null;
    if (id && sendFrame({ type: 'watch', conversation_id: id })) watchSent = id;
  }

  /** Adjusts a held conversation's member count by `delta` (a member_joined or member_left). */
  function countMembers(id, delta) {
    const conv = store.conversation(id);
    if (conv) store.patchConversation(id, { member_count: Math.max(0, (conv.member_count ?? 0) + delta) });
  }

  const handlers = {
    async ready(f) {
      ready = true;
      attempt = 0;
      const mine = ++readyCount;
      store.setMe(f.user, f.permissions ?? []);
      if (Array.isArray(f.presence)) store.setPresenceList(f.presence);
      else store.setOnline(f.online ?? []);
      if (f.my_presence) store.setMyPresence(f.my_presence);
      store.emit('ready', { frame: f });
      clearInterval(pingTimer);
      pingTimer = setInterval(ping, PING_MS);
      for (const p of store.pendingList()) if (p.status === 'pending') transmit(p);
      if (watched && sendFrame({ type: 'watch', conversation_id: watched })) watchSent = watched;
      const list = await fullConversationList(f);
      if (mine !== readyCount || !ready) return; // a newer connection took over meanwhile
      store.setConversations(list);
      store.setConnection('online');
      const member = new Set(list.filter((c) => c.membership === 'joined').map((c) => c.id));
      // after_change: edits, deletions, reactions and pins of older messages missed meanwhile.
      for (const id of store.heldConversationIds()) {
        if (member.has(id)) sendFrame({ type: 'resume', conversation_id: id, after_seq: store.lastSeq(id), after_change: store.maxChange(id) });
      }
      for (const id of store.visibleIds()) if (isSeen(id)) markRead(id);
    },
    watching(f) {
      if (watchSent === f.conversation_id) watchSent = null;
      store.emit('watching', { conversationId: f.conversation_id });
    },
    user_updated(f) {
      store.setMe(f.user, f.permissions); // absent: unchanged
      if (!f.permissions) return;
      // Conversation permissions follow from the server role too: fetch them again.
      api.allPages('/conversations', 'conversations').then((list) => store.setConversations(list), report);
    },
    conversation_updated(f) {
      store.applyConversationUpdate(f);
    },
    message(f) {
      receive(f.message);
    },
    ack(f) {
      store.resolvePending(f.client_id);
      receive(f.message);
    },
    // --- conversations in depth (issue 9) ---
    /** An edit, a reaction change, a pin or unpin: the full Message now. */
    message_updated(f) {
      store.updateMessage(f.message);
    },
    /** Another member's shared read position (DMs and groups). */
    read_receipt(f) {
      if (f.user_id !== store.me()?.id) store.setReceipt(f.conversation_id, f.user_id, f.seq);
    },
    /** My read position moved, from this or another tab or device. */
    read_position(f) {
      const mine = (readSent.get(f.conversation_id) ?? 0) >= f.seq;
      if (!mine) readSent.set(f.conversation_id, f.seq);
      store.setReadPosition(f.conversation_id, f.seq, f.unread_count, { elsewhere: !mine });
    },
    typing(f) {
      if (f.user_id !== store.me()?.id) store.setTyping(f.conversation_id, f.user_id, f.username);
    },
    presence(f) {
      store.setPresence(f.user_id, f.status, f.status_text ?? '');
    },
    my_presence(f) {
      store.setMyPresence({ ...(store.myPresence() ?? {}), choice: f.choice, status: f.status, status_text: f.status_text });
    },
    member_updated(f) {
      store.updateMember(f.conversation_id, f.user_id, f);
      if (f.user_id === store.me()?.id) {
        // My role changed: what I may do there (the conversation's permissions) changed too.
        api.get(`/conversations/${encodeURIComponent(f.conversation_id)}`).then((c) => store.upsertConversation(c), report);
      }
    },
    member_joined(f) {
      if (f.user.id !== store.me()?.id) countMembers(f.conversation_id, +1);
      store.addMember(f.conversation_id, f.user, f.role, f.status);
    },
    member_left(f) {
      // Also sent to my other connections when I leave somewhere else.
      if (f.user_id === store.me()?.id) {
        const name = store.conversation(f.conversation_id)?.name ?? 'a conversation';
        if (f.reason === 'kicked') store.toast(`You were removed from ${name}.`);
        store.removeConversation(f.conversation_id);
        return;
      }
      countMembers(f.conversation_id, -1);
      store.removeMember(f.conversation_id, f.user_id);
    },
    conversation_added(f) {
      store.upsertConversation(f.conversation);
    },
    resync_required(f) {
      timeline.resync(f.conversation_id).catch(report);
    },
    error(f) {
      if (watchSent && f.conversation_id === watchSent) {
        // The member list stays as loaded over REST; it just will not update live.
        console.warn(`watch ${watchSent} refused: ${f.code}`);
        watchSent = null;
        return;
      }
      const sent = f.client_id ? store.getPending(f.client_id) : null;
      if (sent && COMPOSE_ERRORS.has(f.code)) {
        // Shown next to that conversation's compose box (ui/compose.js), not as a toast;
        // a slowmode refusal carries the wait (`retry_after_ms`).
        store.setPendingStatus(f.client_id, 'failed', f.message);
        store.emit('compose-error', { conversationId: sent.conversation_id, code: f.code, message: f.message || f.code, retryAfterMs: f.retry_after_ms });
        return;
      }
      if (f.client_id && store.getPending(f.client_id)) {
        if (KEEP_PENDING.has(f.code)) {
          if (f.code === 'rate_limited') setTimeout(() => retry(f.client_id), Math.max(f.retry_after_ms ?? 2000, 100));
        } else {
          store.setPendingStatus(f.client_id, 'failed', f.message);
        }
      }
      if (f.code !== 'shutting_down') store.toast(f.message || f.code || 'Server error');
    },
    pong() {},
  };

  function receive(m) {
    if (!m) return;
    const id = m.conversation_id;
    const conv = store.conversation(id);
    const mine = m.sender_id === store.me()?.id;
    if (!conv) {
      // A conversation we have not heard of yet (e.g. a brand-new DM): fetch it, then announce.
      api.get(`/conversations/${encodeURIComponent(id)}`).then((c) => {
        store.upsertConversation(c);
        if (!mine) store.emit('incoming', { message: m });
      }, () => {});
    }
    const isNew = Boolean(conv) && m.seq > (conv.last_seq ?? 0);
    const held = store.lastSeq(id);
    if (m.client_id) store.resolvePending(m.client_id);
    if (!mine) store.clearTyping(id, m.sender_id);
    const t = store.timeline(id);
    if (t.hasNewer && m.seq > held + 1) {
      // A jump left a window that does not reach the newest message: "load newer" fetches it.
      if (conv && m.seq > (conv.last_seq ?? 0)) conv.last_seq = m.seq;
      if (isNew && !mine) store.patchConversation(id, { unread_count: (conv.unread_count ?? 0) + 1 });
      return;
    }
    if (!store.addMessages(id, [m]).length) return;
    if (held && m.seq > held + 1 && store.timeline(id).loaded) {
      sendFrame({ type: 'resume', conversation_id: id, after_seq: held }); // fill a gap we just noticed
    }
    if (isNew && !mine) store.emit('incoming', { message: m }); // may open a DM window
    if (isSeen(id)) markRead(id);
    else if (isNew && !mine) store.patchConversation(id, { unread_count: (conv.unread_count ?? 0) + 1 });
  }

  /** Queue a message: shown as pending at once, sent now or after the next reconnect. */
  function send(conversationId, body) {
    const text = body.replace(/\s+$/u, '');
    if (!text) return false;
    if ([...text].length > MAX_BODY_CHARS) {
      store.toast(`Messages can be at most ${MAX_BODY_CHARS} characters.`);
      return false;
    }
    const p = { client_id: clientId(), conversation_id: conversationId, body: text, status: 'pending', error: null, created_at: new Date().toISOString() };
    // A reply (ui/reply.js): the quoted message's seq goes with the send, the bar closes.
    // Sending from a window left by a jump (it does not reach the newest message): back to the
    // latest page, where the message will show.
    if (store.timeline(conversationId).hasNewer) timeline.resync(conversationId).catch(report);
    const replyTo = store.replyTo(conversationId);
    if (replyTo) {
      p.reply_to_seq = replyTo.seq;
      store.setReplyTo(conversationId, null);
    }
    store.addPending(p);
    transmit(p);
    return true;
  }

  function transmit(p) {
    const frame = { type: 'send', conversation_id: p.conversation_id, client_id: p.client_id, body: p.body };
    if (p.reply_to_seq) frame.reply_to_seq = p.reply_to_seq;
    sendFrame(frame);
  }

  /** Send a failed message again with the same client_id. */
  function retry(id) {
    const p = store.getPending(id);
    if (!p) return;
    store.setPendingStatus(id, 'pending');
    transmit(p);
  }

  function typing(conversationId) {
    const now = Date.now();
    if (now - (typingSentAt.get(conversationId) ?? 0) < TYPING_EVERY_MS) return;
    if (sendFrame({ type: 'typing', conversation_id: conversationId })) typingSentAt.set(conversationId, now);
  }

  /** Mark everything held for this conversation as read (socket if connected, else REST). */
  function markRead(id) {
    const seq = store.lastSeq(id);
    if (store.conversation(id)?.unread_count) store.patchConversation(id, { unread_count: 0 });
    if (!seq || (readSent.get(id) ?? 0) >= seq) return;
    readSent.set(id, seq);
    if (!sendFrame({ type: 'read', conversation_id: id, seq })) {
      api.post(`/conversations/${encodeURIComponent(id)}/read`, { seq }).catch(() => readSent.delete(id));
    }
    store.setReadPosition(id, seq, 0, { elsewhere: false });
  }

  // A message list on screen shows its newest message (ui/messages.js): mark it read.
  store.on('at-bottom', ({ conversationId }) => {
    if (isSeen(conversationId) && !store.timeline(conversationId).hasNewer) markRead(conversationId);
  });

  /** Report that the person is active (resets the server's idle timer); false when offline. */
  function activity() {
    return sendFrame({ type: 'activity' });
  }

  function stop() {
    stopped = true;
    clearTimeout(retryTimer);
    clearInterval(pingTimer);
    ready = false;
    ws?.close(1000);
    ws = null;
  }

  /** Connect again after stop() (e.g. a logout that the server refused). */
  function start() {
    if (!stopped) return;
    stopped = false;
    attempt = 0;
    connect();
  }

  // Back online (laptop woke up, Wi-Fi returned): skip the remaining backoff.
  window.addEventListener('online', () => {
    if (retryTimer) {
      clearTimeout(retryTimer);
      reconnect();
    }
  });

  return { connect, start, stop, send, retry, typing, markRead, watch, activity, on };
}
