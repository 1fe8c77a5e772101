// Small, self-dismissing notices (the store's `toast` event: {message, kind, timeoutMs?}).
// Kinds: `info`, `success`, `error` (the default: most toasts report a failure). They stack
// (newest at the bottom, at most MAX_TOASTS; the oldest goes first), dismiss themselves after a
// while, and wait while the pointer is over one or keyboard focus is inside one. The container
// is a polite live region; an error toast is role="alert" so it is read at once. The same
// message shown again while its toast is up restarts that toast instead of stacking a copy.

import { byId, h } from './dom.js';

const SHOW_MS = { info: 6000, success: 4000, error: 8000 };
const MAX_TOASTS = 4;
const KINDS = new Set(['info', 'success', 'error']);

export function createToasts({ store }) {
  const box = byId('toasts');
  box.setAttribute('aria-live', 'polite');
  box.setAttribute('aria-relevant', 'additions');
  const live = new Map(); // element -> { text, restart }

  function show({ message, kind = 'error', timeoutMs }) {
    if (!message) return;
    if (!KINDS.has(kind)) kind = 'info';
    const text = String(message);
    for (const [el, entry] of live) {
      if (entry.text === text && el.classList.contains(`toast-${kind}`)) {
        entry.restart();
        return;
      }
    }
    const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×');
    const el = h(
      'div',
      { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status', dataset: { kind } },
      h('span', { class: 'toast-icon', 'aria-hidden': 'true' }, kind === 'error' ? '!' : kind === 'success' ? '✓' : 'i'),
      h('span', { class: 'toast-text' }, text),
      close,
    );
    const duration = timeoutMs ?? SHOW_MS[kind];
    let timer = null;
    let left = duration;
    let startedAt = 0;
    let hovered = false;
    let focused = false;

    const remove = () => {
      clearTimeout(timer);
      live.delete(el);
      el.remove();
    };
    const run = () => {
      clearTimeout(timer);
      if (hovered || focused) return;
      startedAt = performance.now();
      timer = setTimeout(remove, left);
    };
    const pause = () => {
      if (timer === null) return;
      clearTimeout(timer);
      timer = null;
      left = Math.max(1000, left - (performance.now() - startedAt));
    };
    const restart = () => {
      left = duration;
      el.classList.remove('toast-again');
      void el.offsetWidth; // restart the highlight animation
      el.classList.add('toast-again');
      run();
    };

    close.addEventListener('click', remove);
    el.addEventListener('pointerenter', () => {
      hovered = true;
      pause();
    });
    el.addEventListener('pointerleave', () => {
      hovered = false;
      run();
    });
    el.addEventListener('focusin', () => {
      focused = true;
      pause();
    });
    el.addEventListener('focusout', (ev) => {
      if (el.contains(ev.relatedTarget)) return;
      focused = false;
      run();
    });
    el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') remove();
    });

    live.set(el, { text, restart });
    box.append(el);
    run();
    while (box.children.length > MAX_TOASTS) {
      const oldest = box.firstElementChild;
      live.delete(oldest);
      oldest.remove();
    }
  }

  store.on('toast', show);
  return { show };
}
