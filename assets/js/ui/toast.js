// Small, self-dismissing notices for errors and events (the store's "toast" event).

import { byId, h } from './dom.js';

const SHOW_MS = 6000;
const MAX_TOASTS = 4;

export function createToasts({ store }) {
  const box = byId('toasts');
  store.on('toast', ({ message, kind = 'error' }) => {
    if (!message) return;
    const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×');
    const el = h('div', { class: `toast toast-${kind}` }, h('span', { class: 'toast-text' }, message), close);
    const remove = () => el.remove();
    close.addEventListener('click', remove);
    setTimeout(remove, SHOW_MS);
    box.append(el);
    while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
  });
}
