// Server announcements (`announcement` frames from POST /admin/broadcast): a banner at the top of
// the chat screen for everyone, newest on top, each with its sender and time and a Dismiss
// button. Text only (textContent), isolated for bidi.

import { h, timeLabel } from './dom.js';

const MAX_SHOWN = 3;

export function createAnnouncements({ store }) {
  const area = h('div', { id: 'announcements', class: 'announcements', 'aria-live': 'polite' });
  document.body.prepend(area);

  store.on('announcement', ({ text, by_username: by, at }) => {
    const time = timeLabel(at ?? new Date().toISOString());
    const dismiss = h('button', { type: 'button', class: 'small announcement-dismiss', 'aria-label': 'Dismiss announcement' }, 'Dismiss');
    const el = h(
      'div',
      { class: 'announcement', role: 'status' },
      h('span', { class: 'announcement-icon', 'aria-hidden': 'true' }, '📢'),
      h(
        'div',
        { class: 'announcement-content' },
        h('div', { class: 'announcement-text', dir: 'auto' }, text),
        h('div', { class: 'announcement-meta muted' }, 'Announcement', by ? [' from ', h('bdi', {}, by)] : null, time.short ? ` · ${time.short}` : ''),
      ),
      dismiss,
    );
    dismiss.addEventListener('click', () => el.remove());
    area.prepend(el);
    while (area.children.length > MAX_SHOWN) area.lastElementChild.remove();
  });
}
