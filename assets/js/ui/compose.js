// A compose box: Enter sends, Shift+Enter inserts a newline, typing is reported upstream
// (the socket throttles it).

import { h } from './dom.js';

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
 * The line above a compose box that shows why a send was refused there (`muted`, `blocked`:
 * the socket's "compose-error" event). `conversationId()` says which conversation the box is
 * for; the line clears when that changes or when the person sends again.
 */
export function createComposeError({ store, conversationId, form }) {
  const el = h('p', { class: 'compose-error', role: 'alert', dataset: { code: '' } });
  const clear = () => {
    el.textContent = '';
    el.dataset.code = '';
  };
  const show = (code, message) => {
    el.textContent = message;
    el.dataset.code = code;
  };
  store.on('compose-error', ({ conversationId: id, code, message }) => {
    if (id === conversationId()) show(code, message);
  });
  form.addEventListener('submit', clear);
  return { el, clear, show, code: () => el.dataset.code };
}
