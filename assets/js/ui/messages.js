// Renders one conversation's messages into a log element: one .message[data-seq] per seq
// (never twice), inserted in seq order, followed by this conversation's pending messages.
// Keeps the view pinned to the bottom when it was there, and keeps the reading position
// when older messages are prepended. Scrolling to the top asks for older history.

import { h, timeLabel } from './dom.js';
import { userTarget } from './people.js';

const NEAR_PX = 60;

/**
 * One message. The author's name opens the user menu (right-click, or the context-menu key once
 * focused). A message whose sender I blocked (`collapse`) shows a line with a Show button.
 */
function messageEl(m, meId, collapse) {
  const time = timeLabel(m.created_at);
  const author = userTarget(h('span', { class: 'message-author', dir: 'auto', tabindex: '0' }, m.sender_username), { id: m.sender_id, username: m.sender_username });
  const deleted = Boolean(m.deleted); // `deleted: true`, empty body
  const el = h(
    'div',
    {
      class: `message${m.sender_id === meId ? ' mine' : ''}${deleted ? ' deleted' : ''}${m.shadowed ? ' shadowed' : ''}`,
      dataset: { seq: String(m.seq), senderId: m.sender_id },
    },
    author,
    h('time', { class: 'message-time', datetime: m.created_at, title: time.full }, time.short),
    // A deleted message keeps its place; its text is gone for everyone.
    deleted ? h('div', { class: 'message-body message-deleted-note' }, 'message deleted') : h('div', { class: 'message-body', dir: 'auto' }, m.body),
    // Listed to moderators only (and to the author, who must not be told).
    m.shadowed && !deleted && m.sender_id !== meId
      ? h('div', { class: 'shadowed-note', title: 'The author is shadowbanned: only they and moderators see this message.' }, 'shadowbanned — hidden from others')
      : null,
  );
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

/**
 * `isBlocked(userId)`: messages from those users are collapsed (rooms and groups, not DMs).
 * `decorate(el, message)`: adds to a message's element (e.g. the moderation "⋯" button).
 */
export function createMessageList({ store, conversationId: id, container, onNearTop, onRetry, onDiscard, isBlocked = () => false, decorate = null }) {
  const shown = new Map(); // seq -> element
  const pendingShown = new Map(); // client_id -> element
  const top = h('div', { class: 'log-top' });

  const nearBottom = () => container.scrollHeight - container.scrollTop - container.clientHeight < NEAR_PX;
  const scrollToBottom = () => {
    container.scrollTop = container.scrollHeight;
  };

  function renderTop() {
    const t = store.timeline(id);
    if (t.hasMore) {
      top.replaceChildren(h('button', { type: 'button', class: 'link-button', onclick: () => onNearTop() }, 'Load older messages'));
    } else {
      top.replaceChildren(t.loaded ? h('span', { class: 'log-note' }, 'This is the beginning of the conversation.') : '');
    }
  }

  /** Element holding the largest seq below `seq`, or null. Pending elements have no seq. */
  function previousOf(seq) {
    for (let n = container.lastElementChild; n && n !== top; n = n.previousElementSibling) {
      if (n.dataset.seq !== undefined && Number(n.dataset.seq) < seq) return n;
    }
    return null;
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
    if (stick) scrollToBottom();
    else if (prepended) container.scrollTop = oldTop + (container.scrollHeight - oldHeight);
  }

  function build(m, meId, collapsible) {
    const el = messageEl(m, meId, collapsible && m.sender_id !== meId && isBlocked(m.sender_id));
    decorate?.(el, m);
    return el;
  }

  /** A held message changed (deleted): its element is drawn again in place. */
  function redraw(seq) {
    const old = shown.get(seq);
    const m = store.timeline(id).bySeq.get(seq);
    if (!old || !m) return;
    const el = build(m, store.me()?.id, store.conversation(id)?.kind !== 'dm');
    old.replaceWith(el);
    shown.set(seq, el);
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
    container.replaceChildren(top);
    renderTop();
    insert(store.messagesOf(id));
    syncPending();
    scrollToBottom();
  }

  function onScroll() {
    if (container.scrollTop < NEAR_PX && store.timeline(id).hasMore) onNearTop();
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
  ];
  container.addEventListener('scroll', onScroll, { passive: true });
  renderAll();

  return {
    destroy() {
      offs.forEach((off) => off());
      container.removeEventListener('scroll', onScroll);
    },
  };
}
