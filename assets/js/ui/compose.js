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
  return { el, clear, show, code: () => el.dataset.code };
}
