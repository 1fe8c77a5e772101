// Replies: the "Replying to @x: excerpt ×" bar above a compose box (the store's reply target
// for that conversation; socket.js sends its seq as `reply_to_seq` with the next message), and
// the quoted preview on a reply, which jumps to the original (store event `jump-to`).

import { h } from './dom.js';

const EXCERPT = 120;

/** Plain-text excerpt of a message body (markdown source), one line. */
export function excerptOf(text, max = EXCERPT) {
  const line = String(text ?? '').replace(/\s+/gu, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Starts a reply to `m` in its conversation and focuses the compose box showing the bar. */
export function startReply(store, convId, m) {
  store.setReplyTo(convId, { seq: m.seq, sender_id: m.sender_id, sender_username: m.sender_username, excerpt: excerptOf(m.body) });
}

/**
 * The bar for a compose box. `conversationId()` says which conversation the box is for (a room
 * view's box changes rooms). Escape in the textarea cancels the reply.
 */
export function createReplyBar({ store, conversationId, textarea }) {
  const text = h('span', { class: 'reply-bar-text', dir: 'auto' });
  const cancel = h('button', { type: 'button', class: 'reply-cancel', title: 'Cancel the reply', 'aria-label': 'Cancel the reply' }, '×');
  const el = h('div', { class: 'reply-bar', hidden: true, role: 'status' }, text, cancel);
  const render = () => {
    const id = conversationId();
    const r = id ? store.replyTo(id) : null;
    el.hidden = !r;
    if (!r) return;
    text.replaceChildren('Replying to ', h('strong', { dir: 'auto' }, `@${r.sender_username}`), ': ', h('span', { class: 'reply-excerpt', dir: 'auto' }, r.excerpt || '…'));
  };
  cancel.addEventListener('click', () => {
    const id = conversationId();
    if (id) store.setReplyTo(id, null);
    textarea?.focus();
  });
  textarea?.addEventListener('keydown', (ev) => {
    const id = conversationId();
    if (ev.key === 'Escape' && id && store.replyTo(id)) {
      ev.preventDefault();
      ev.stopPropagation(); // not the window's "Escape minimizes"
      store.setReplyTo(id, null);
    }
  });
  store.on('reply', ({ conversationId: id }) => {
    if (id !== conversationId()) return;
    render();
    if (store.replyTo(id) && textarea && !textarea.disabled) textarea.focus();
  });
  store.on('active-room', render);
  render();
  return { el, render };
}

/** The quoted preview on a reply (`m.reply_to`): a button that jumps to the original. */
export function replyQuote(store, convId, preview) {
  if (!preview) return null;
  const quote = h(
    'button',
    { type: 'button', class: `reply-quote${preview.deleted ? ' deleted' : ''}`, dataset: { replySeq: String(preview.seq) }, title: 'Show the original message' },
    h('span', { class: 'reply-quote-author', dir: 'auto' }, `@${preview.sender_username}`),
    ' ',
    h('span', { class: 'reply-quote-text', dir: 'auto' }, preview.deleted ? 'message deleted' : excerptOf(preview.excerpt)),
  );
  quote.addEventListener('click', () => store.emit('jump-to', { conversationId: convId, seq: preview.seq }));
  return quote;
}
