// Broadcast tab (`broadcast.send`): a text sent to everyone online as an `announcement` banner
// (POST /admin/broadcast {text, store_in_official_rooms}); with the box ticked it is also stored
// as a message in the official rooms. The answer says how many connections got it and in how
// many rooms it was stored.

import { h } from '../dom.js';
import { statusLine } from './common.js';

export function createBroadcastTab({ api }) {
  const text = h('textarea', { id: 'broadcast-text', rows: 4, maxlength: 2000, dir: 'auto', required: true });
  const store = h('input', { id: 'broadcast-store', type: 'checkbox' });
  const status = statusLine('admin-status broadcast-status');
  const send = h('button', { type: 'submit', class: 'small primary', id: 'broadcast-send' }, 'Send announcement');
  const form = h(
    'form',
    { id: 'broadcast-form', class: 'admin-form' },
    h('label', { for: 'broadcast-text' }, 'Announcement'),
    text,
    h('label', { class: 'check-row', for: 'broadcast-store' }, store, ' Also store it in the official rooms'),
    status.el,
    send,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = text.value.trim();
    if (!body) {
      status.set('Write the announcement first.', 'error');
      return;
    }
    send.disabled = true;
    const res = await status.run(() => api.post('/admin/broadcast', { text: body, store_in_official_rooms: store.checked }));
    send.disabled = false;
    if (res) {
      status.set(`Sent to ${res.delivered_to ?? 0} connections${store.checked ? `, stored in ${res.stored_in ?? 0} rooms` : ''}.`, 'ok');
      text.value = '';
    }
  });
  return { el: h('div', {}, form) };
}
