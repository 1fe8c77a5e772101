// Renders one conversation's messages into a log element: one .message[data-seq] per seq
// (never twice), inserted in seq order, followed by this conversation's pending messages.
// Keeps the view pinned to the bottom when it was there, and keeps the reading position
// when older messages are prepended. Scrolling to the top asks for older history; after a jump
// (a window that does not reach the newest message) scrolling to the bottom asks for newer.
//
// A message shows (issue 9): its body as the server's sanitized `html` (the markdown subset;
// the one place the client inserts HTML), "(edited)" with the edit time as tooltip, a "message
// deleted" placeholder, the quoted message it replies to (a click jumps there), reactions
// (ui/reactions.js), "📌 pinned", mentions (`.mention`, `.mention.me` for me, and the whole row
// `.mentions-me`), read receipts in DMs and groups (ui/receipts.js), and the action toolbar
// (ui/message-actions.js). Opening a conversation with unread messages shows a "New messages"
// divider at my read position (`read_seq`); it goes when I read them on another tab or device.

import { h, timeLabel } from './dom.js';
import { addMessageActions, isEditing } from './message-actions.js';
import { pinsButton } from './pins.js';
import { loadReceipts, receiptMarks } from './receipts.js';
import { reactionsRow } from './reactions.js';
import { replyQuote } from './reply.js';
import { userTarget } from './people.js';

const NEAR_PX = 60;
const FLASH_MS = 2000;

/** The body: the server-rendered HTML, or the plain text when there is none (older servers). */
function bodyEl(m, meId) {
  if (m.deleted) return h('div', { class: 'message-body message-deleted-note' }, 'message deleted');
  if (typeof m.html !== 'string' || (!m.html && m.body)) return h('div', { class: 'message-body', dir: 'auto' }, m.body);
  const el = h('div', { class: 'message-body rich', dir: 'auto' });
  // The server renders `html` from the markdown subset and sanitizes it (ammonia, a strict
  // allowlist: p, br, strong, em, del, code, pre, blockquote, a[href title rel target],
  // span.mention[data-user-id]); it is the only HTML this client ever inserts.
  el.innerHTML = m.html;
  for (const span of el.querySelectorAll('.mention')) {
    if (span.dataset.userId === meId) span.classList.add('me');
  }
  for (const a of el.querySelectorAll('a')) {
    a.rel = 'noopener noreferrer';
    a.target = '_blank';
  }
  return el;
}

/**
 * One message. The author's name opens the user menu (right-click, or the context-menu key once
 * focused). A message whose sender I blocked (`collapse`) shows a line with a Show button.
 */
function messageEl(store, convId, m, meId, collapse) {
  const time = timeLabel(m.created_at);
  const author = userTarget(h('span', { class: 'message-author', dir: 'auto', tabindex: '0' }, m.sender_username), { id: m.sender_id, username: m.sender_username });
  const deleted = Boolean(m.deleted); // `deleted: true`, empty body
  const mentionsMe = !deleted && Boolean(meId) && m.sender_id !== meId && Array.isArray(m.mentions) && m.mentions.includes(meId);
  const edited = !deleted && m.edited_at ? timeLabel(m.edited_at) : null;
  const classes = ['message', m.sender_id === meId ? 'mine' : '', deleted ? 'deleted' : '', m.shadowed ? 'shadowed' : '', mentionsMe ? 'mentions-me' : '', m.pinned && !deleted ? 'pinned' : '', m.reply_to ? 'reply' : ''];
  const el = h(
    'div',
    {
      class: classes.filter(Boolean).join(' '),
      dataset: { seq: String(m.seq), senderId: m.sender_id },
    },
    m.reply_to && !deleted ? replyQuote(store, convId, m.reply_to) : null,
    author,
    h('time', { class: 'message-time', datetime: m.created_at, title: time.full }, time.short),
    edited ? h('span', { class: 'message-edited', title: `Edited ${edited.full}` }, '(edited)') : null,
    m.pinned && !deleted ? h('span', { class: 'message-pinned', title: `Pinned by ${m.pinned.by_username}` }, '📌') : null,
    // A deleted message keeps its place; its text is gone for everyone.
    bodyEl(m, meId),
    // Listed to moderators only (and to the author, who must not be told).
    m.shadowed && !deleted && m.sender_id !== meId
      ? h('div', { class: 'shadowed-note', title: 'The author is shadowbanned: only they and moderators see this message.' }, 'shadowbanned — hidden from others')
      : null,
    reactionsRow(store, convId, m),
  );
  addMessageActions(store, convId, m, el);
  if (!collapse) return el;
  el.classList.add('blocked');
  const show = h('button', { type: 'button', class: 'link-button show-blocked' }, 'Show');
  show.addEventListener('click', () => {
    el.classList.remove('blocked');
    show.parentElement.remove();
  });
  el.prepend(h('div', { class: 'blocked-note' }, 'Message from a blocked user — ', show));
  return el;
}

function pendingEl(p, me, { onRetry, onDiscard }) {
  const failed = p.status === 'failed';
  return h(
    'div',
    { class: `message mine ${failed ? 'failed' : 'pending'}`, dataset: { clientId: p.client_id } },
    h('span', { class: 'message-author', dir: 'auto' }, me?.username ?? ''),
    h('span', { class: 'message-time', title: p.error ?? '' }, failed ? 'Not sent' : 'Sending…'),
    h('div', { class: 'message-body', dir: 'auto' }, p.body),
    failed
      ? h(
          'div',
          { class: 'message-actions' },
          h('button', { type: 'button', class: 'link-button', onclick: () => onRetry(p.client_id) }, 'Retry'),
          h('button', { type: 'button', class: 'link-button', onclick: () => onDiscard(p.client_id) }, 'Discard'),
        )
      : null,
  );
}

/** Where the 📌 button goes: the room header's actions, or a window's title-bar buttons. */
function headerSlot(container) {
  const room = container.closest('#room-view');
  if (room) return { parent: room.querySelector('.room-actions'), prepend: true };
  const win = container.closest('.window');
  if (win) return { parent: win.querySelector('.window-buttons'), prepend: true };
  return null;
}

/**
 * `isBlocked(userId)`: messages from those users are collapsed (rooms and groups, not DMs).
 * `decorate(el, message)`: adds to a message's element (optional).
 * `onNearBottom()`: asks for newer history after a jump (default: `loadNewer` via the store's
 * `load-newer` event, which timeline users may handle).
 */
export function createMessageList({ store, conversationId: id, container, onNearTop, onNearBottom, onRetry, onDiscard, isBlocked = () => false, decorate = null }) {
  const shown = new Map(); // seq -> element
  const pendingShown = new Map(); // client_id -> element
  const top = h('div', { class: 'log-top' });
  const bottom = h('div', { class: 'log-bottom' });
  let divider = null; // the "New messages" line
  const conv0 = store.conversation(id);
  // My read position when the list opened: unread messages after it get the divider.
  const readAtOpen = conv0 && (conv0.unread_count ?? 0) > 0 ? conv0.read_seq ?? 0 : null;
  let receiptEls = [];

  const newer = () => (onNearBottom ? onNearBottom() : store.emit('load-newer', { conversationId: id }));

  const nearBottom = () => container.scrollHeight - container.scrollTop - container.clientHeight < NEAR_PX;
  const scrollToBottom = () => {
    container.scrollTop = container.scrollHeight;
  };
  const atBottom = () => {
    if (nearBottom()) store.emit('at-bottom', { conversationId: id });
  };

  function renderTop() {
    const t = store.timeline(id);
    if (t.hasMore) {
      top.replaceChildren(h('button', { type: 'button', class: 'link-button', onclick: () => onNearTop() }, 'Load older messages'));
    } else {
      top.replaceChildren(t.loaded ? h('span', { class: 'log-note' }, 'This is the beginning of the conversation.') : '');
    }
    bottom.replaceChildren(t.hasNewer ? h('button', { type: 'button', class: 'link-button load-newer', onclick: newer }, 'Load newer messages') : '');
  }

  /** Element holding the largest seq below `seq`, or null. Pending elements have no seq. */
  function previousOf(seq) {
    for (let n = bottom.previousElementSibling; n && n !== top; n = n.previousElementSibling) {
      if (n.dataset.seq !== undefined && Number(n.dataset.seq) < seq) return n;
    }
    return null;
  }

  /** The "New messages" divider before the first message after my read position (not mine). */
  function placeDivider() {
    if (readAtOpen === null || divider === false) return;
    const meId = store.me()?.id;
    const t = store.timeline(id);
    const first = t.order.find((s) => s > readAtOpen && t.bySeq.get(s)?.sender_id !== meId);
    if (first === undefined) return;
    const el = shown.get(first);
    if (!el) return;
    if (!divider) divider = h('div', { class: 'unread-divider', role: 'separator', 'aria-label': 'New messages' }, h('span', {}, 'New messages'));
    if (divider.nextElementSibling !== el) el.before(divider);
  }

  function removeDivider() {
    divider?.remove?.();
    divider = false; // not again in this list
  }

  function insert(messages) {
    const stick = nearBottom();
    const oldHeight = container.scrollHeight;
    const oldTop = container.scrollTop;
    let prepended = false;
    const meId = store.me()?.id;
    const collapsible = store.conversation(id)?.kind !== 'dm';
    for (const m of messages) {
      if (shown.has(m.seq)) continue;
      const el = build(m, meId, collapsible);
      const prev = previousOf(m.seq);
      if (prev) {
        prev.after(el);
      } else {
        prepended = prepended || shown.size > 0;
        top.after(el);
      }
      shown.set(m.seq, el);
    }
    placeDivider();
    renderReceipts();
    if (stick) scrollToBottom();
    else if (prepended) container.scrollTop = oldTop + (container.scrollHeight - oldHeight);
    atBottom();
  }

  function build(m, meId, collapsible) {
    const el = messageEl(store, id, m, meId, collapsible && m.sender_id !== meId && isBlocked(m.sender_id));
    decorate?.(el, m);
    return el;
  }

  /** A held message changed (edited, deleted, reactions, pin): drawn again in place. */
  function redraw(seq) {
    const old = shown.get(seq);
    const m = store.timeline(id).bySeq.get(seq);
    if (!old || !m || isEditing(id, seq)) return;
    const stick = nearBottom();
    const el = build(m, store.me()?.id, store.conversation(id)?.kind !== 'dm');
    old.replaceWith(el);
    shown.set(seq, el);
    renderReceipts();
    if (stick) scrollToBottom();
  }

  function renderReceipts() {
    for (const el of receiptEls) el.remove();
    receiptEls = [];
    for (const [seq, mark] of receiptMarks(store, id)) {
      const el = shown.get(seq);
      if (!el) continue;
      el.append(mark);
      receiptEls.push(mark);
    }
  }

  function syncPending() {
    const list = store.pendingFor(id);
    const keep = new Set(list.map((p) => p.client_id));
    for (const [clientId, el] of pendingShown) {
      if (!keep.has(clientId)) {
        el.remove();
        pendingShown.delete(clientId);
      }
    }
    let grew = false;
    for (const p of list) {
      const el = pendingEl(p, store.me(), { onRetry, onDiscard });
      const old = pendingShown.get(p.client_id);
      if (old) old.replaceWith(el);
      else {
        container.append(el);
        grew = true;
      }
      pendingShown.set(p.client_id, el);
    }
    if (grew) scrollToBottom();
  }

  function renderAll() {
    shown.clear();
    pendingShown.clear();
    receiptEls = [];
    if (divider) divider = null;
    container.replaceChildren(top, bottom);
    renderTop();
    insert(store.messagesOf(id));
    syncPending();
    if (divider) divider.scrollIntoView({ block: 'start' });
    else scrollToBottom();
    atBottom();
  }

  /** Scrolls message `seq` into view and flashes it (a jump). */
  function flash(seq) {
    const el = shown.get(seq);
    if (!el) return;
    el.scrollIntoView({ block: 'center' });
    el.classList.remove('flash');
    void el.offsetWidth; // restart the animation
    el.classList.add('flash');
    setTimeout(() => el.classList.remove('flash'), FLASH_MS);
  }

  function onScroll() {
    const t = store.timeline(id);
    if (container.scrollTop < NEAR_PX && t.hasMore) onNearTop();
    if (nearBottom()) {
      if (t.hasNewer) newer();
      else atBottom();
    }
  }

  const mine = (fn) => (detail) => {
    if (detail.conversationId === id) fn(detail);
  };
  const offs = [
    store.on('messages', mine(({ added }) => insert(added))),
    store.on('pending', mine(syncPending)),
    store.on('history', mine(renderTop)),
    store.on('timeline-reset', mine(renderAll)),
    store.on('message-updated', mine(({ seq }) => redraw(seq))),
    store.on('blocks', renderAll),
    store.on('receipts', mine(renderReceipts)),
    store.on('members', mine(renderReceipts)),
    store.on('jump-shown', mine(({ seq }) => flash(seq))),
    store.on('read-position', mine(({ elsewhere }) => {
      if (elsewhere) removeDivider();
    })),
    // After a reconnect: receipts that moved meanwhile.
    store.on('ready', () => loadReceipts(store, id)),
  ];
  container.addEventListener('scroll', onScroll, { passive: true });

  // The 📌 pinned-messages button in the room header or the window title bar.
  const slot = headerSlot(container);
  const pins = slot?.parent ? pinsButton(store, id) : null;
  if (pins) {
    if (slot.prepend) slot.parent.prepend(pins);
    else slot.parent.append(pins);
  }

  renderAll();
  loadReceipts(store, id);

  return {
    destroy() {
      offs.forEach((off) => off());
      container.removeEventListener('scroll', onScroll);
      pins?.remove();
    },
  };
}
