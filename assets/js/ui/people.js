// Small helpers shared by the modules that show people: presence dots and labels, the "⋯"
// button that opens a user's menu (ui/context-menu.js), opening a DM by username.

import { errorMessage } from '../api.js';
import { h } from './dom.js';

export const STATUS_LABEL = { online: 'Online', away: 'Away', busy: 'Busy', offline: 'Offline', invisible: 'Invisible' };

/** A presence dot: `span.status-dot.is-<status>` with the status as its accessible name. */
export function presenceDot(status, statusText = '') {
  const label = STATUS_LABEL[status] ?? status;
  return h('span', {
    class: `status-dot is-${status}`,
    role: 'img',
    'aria-label': label,
    title: statusText ? `${label} — ${statusText}` : label,
    dataset: { status },
  });
}

/**
 * Marks an element as a user's name: right-click (or the context-menu key, or Shift+F10)
 * opens the user menu. Returns the element.
 */
export function userTarget(el, user) {
  el.dataset.userMenu = user.id;
  el.dataset.username = user.username;
  if (user.display_name) el.dataset.displayName = user.display_name;
  return el;
}

/** The "⋯" button opening a user's menu (keyboard and touch users' way to it). */
export function userMenuButton(user) {
  return h(
    'button',
    {
      type: 'button',
      class: 'user-menu-button',
      'aria-haspopup': 'menu',
      'aria-label': `Actions for ${user.username}`,
      title: 'More actions',
      dataset: { userMenu: user.id, username: user.username, displayName: user.display_name ?? '' },
    },
    '⋯',
  );
}

/** Opens (or creates) the DM with `username` and shows its window. */
export async function openDm({ store, api }, username) {
  try {
    const conv = await api.post('/dms', { username });
    store.upsertConversation(conv);
    store.emit('open-dm', { conversationId: conv.id });
  } catch (err) {
    store.toast(errorMessage(err));
  }
}
