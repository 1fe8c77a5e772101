// A compose box: Enter sends, Shift+Enter inserts a newline, typing is reported upstream
// (the socket throttles it). Every compose box (room, DM, group) also gets, through
// createComposeError, the reply bar above it (ui/reply.js) and a 🙂 button that inserts an emoji
// from the picker (ui/emoji-picker.js) at the cursor.

import { h } from './dom.js';
import { openEmojiPicker } from './emoji-picker.js';
import { createReplyBar } from './reply.js';

/** Wires an existing <form> + <textarea>. onSend(text) returns false to keep the text. */
export function bindCompose(form, textarea, { onSend, onTyping }) {
  textarea.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || ev.shiftKey || ev.isComposing) return;
    ev.preventDefault();
    if (typeof form.requestSubmit === 'function') form.requestSubmit();
    else form.dispatchEvent(new Event('submit', { cancelable: true }));
  });
  textarea.addEventListener('input', () => {
    if (textarea.value.trim()) onTyping?.();
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = textarea.value;
    if (!text.trim() || textarea.disabled) return;
    if (onSend(text) !== false) textarea.value = '';
    textarea.focus();
  });
}

/** Builds a compose form with a (visually hidden) label, e.g. "Message to alice". */
export function createCompose({ id, label, onSend, onTyping }) {
  const textarea = h('textarea', { id, rows: 2, placeholder: 'Type a message…', autocomplete: 'off' });
  const form = h(
    'form',
    { class: 'compose' },
    h('label', { for: id, class: 'sr-only' }, label),
    textarea,
    h('button', { type: 'submit', class: 'send-button' }, 'Send'),
  );
  bindCompose(form, textarea, { onSend, onTyping });
  return { form, textarea };
}

/**
 * The line above a compose box that shows why a send was refused there (`muted`, `blocked`,
 * `read_only`, `slowmode`: the socket's "compose-error" event). A slowmode refusal counts down
 * its wait (`retryAfterMs`) and then clears. `conversationId()` says which conversation the box
 * is for; the line clears when that changes or when the person sends again.
 */
export function createComposeError({ store, conversationId, form }) {
  const el = h('p', { class: 'compose-error', role: 'alert', dataset: { code: '' } });
  let timer = null;
  const clear = () => {
    clearInterval(timer);
    timer = null;
    el.textContent = '';
    el.dataset.code = '';
  };
  const show = (code, message, retryAfterMs) => {
    clear();
    el.textContent = message;
    el.dataset.code = code;
    if (!(retryAfterMs > 0)) return;
    const until = Date.now() + retryAfterMs;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) clear();
      else el.textContent = code === 'slowmode' ? `Slowmode is on: you can send again in ${left} s.` : `${message} (${left} s)`;
    };
    tick();
    timer = setInterval(tick, 500);
  };
  store.on('compose-error', ({ conversationId: id, code, message, retryAfterMs }) => {
    if (id === conversationId()) show(code, message, retryAfterMs);
  });
  form.addEventListener('submit', () => {
    if (el.dataset.code !== 'slowmode') clear(); // the wait stays on screen until it is over
  });
  addComposeExtras({ store, conversationId, form });
  return { el, clear, show, code: () => el.dataset.code };
}

/** Inserts `text` at the textarea's cursor (replacing the selection) and keeps the focus. */
export function insertAtCursor(textarea, text) {
  const start = textarea.selectionStart ?? textarea.value.length;
  const end = textarea.selectionEnd ?? start;
  textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
  const at = start + text.length;
  textarea.focus();
  textarea.setSelectionRange(at, at);
  textarea.dispatchEvent(new Event('input', { bubbles: true }));
}

/**
 * The reply bar above the form and the 🙂 emoji button before its Send button (issue 9).
 * Called once per compose box (from createComposeError, which every compose box has).
 */
function addComposeExtras({ store, conversationId, form }) {
  const textarea = form.querySelector('textarea');
  if (!textarea || form.querySelector('.emoji-button')) return;
  // DM and group windows build the form before putting it in the page: the bar goes above it
  // once it is there (at the latest when a reply starts).
  let reply = null;
  const place = () => {
    if (reply && !reply.el.parentNode && form.parentNode) form.before(reply.el);
  };
  store.on('reply', place);
  reply = createReplyBar({ store, conversationId, textarea });
  place();
  const emoji = h('button', { type: 'button', class: 'emoji-button', title: 'Insert an emoji', 'aria-label': 'Insert an emoji', 'aria-haspopup': 'dialog' }, '🙂');
  emoji.addEventListener('click', () => {
    if (textarea.disabled) return;
    openEmojiPicker({ opener: emoji, label: 'Insert an emoji', onPick: (e) => insertAtCursor(textarea, e) });
  });
  const send = form.querySelector('[type="submit"]');
  if (send) send.before(emoji);
  else form.append(emoji);
}
