// The server's name and message of the day in the chat screen: the name in the room browser's
// title bar (and the tab title), the MOTD as a dismissible line under it. Both come from
// `ready.server` and change live with `server_updated` (an administrator changed the live
// settings). A dismissed MOTD stays hidden until its text changes. Text only, never HTML.

import { byId, h } from './dom.js';

const DISMISS_KEY = 'echochat.motdDismissed';

function dismissedText() {
  try {
    return localStorage.getItem(DISMISS_KEY);
  } catch {
    return null;
  }
}

function dismiss(text) {
  try {
    localStorage.setItem(DISMISS_KEY, text);
  } catch {
    // Storage disabled: hidden until the next page load.
  }
}

/** Shows `server` ({name, motd}) now and whenever `ready` or `server_updated` brings it. */
export function createMotd({ store, socket }) {
  const browser = byId('room-browser');
  const brand = browser.querySelector('.brand');
  const line = h('p', { id: 'motd', class: 'motd', role: 'status', hidden: true });
  const text = h('span', { class: 'motd-text', dir: 'auto' });
  const close = h('button', { type: 'button', class: 'link-button motd-close', 'aria-label': 'Dismiss the message of the day', title: 'Dismiss' }, '×');
  line.append(text, close);
  browser.querySelector('.panel-titlebar')?.after(line);
  let current = '';
  close.addEventListener('click', () => {
    dismiss(current);
    line.hidden = true;
  });

  function apply(server) {
    if (!server) return;
    if (server.name && brand) {
      const label = brand.querySelector('.brand-name') ?? brand.appendChild(h('span', { class: 'brand-name', dir: 'auto' }));
      for (const node of [...brand.childNodes]) if (node.nodeType === Node.TEXT_NODE) node.remove();
      label.textContent = server.name;
      document.title = server.name;
    }
    current = server.motd ?? '';
    text.textContent = current;
    line.hidden = !current || dismissedText() === current;
  }

  store.on('ready', ({ frame }) => apply(frame.server));
  socket.on('server_updated', (f) => apply(f.server));
  return { apply };
}
