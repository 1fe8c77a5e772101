// Per-conversation notifications ("mute"): a 🔔 button with a menu — "Notify for all
// messages", "Notify only for mentions", "Mute notifications" — that sets my level there with
// PUT /conversations/{id}/notifications {level} (the answer is the conversation, with its new
// `notify`). Muted conversations show 🔕 and are left out of the tab title's unread count; a
// message that mentions me still notifies (notifications.js).
//
// Used by the room header (#room-notify, bound to the active room here), and by the DM and
// group windows (notifyButton() in their title bar).

import { byId, h } from './dom.js';
import { showMenu } from './menu.js';
import { notifyLevel } from '../notifications.js';

const LEVELS = [
  ['all', 'Notify for all messages'],
  ['mentions', 'Notify only for mentions'],
  ['none', 'Mute notifications'],
];

const LABEL = { all: 'Notifications: all messages', mentions: 'Notifications: mentions only', none: 'Notifications muted' };

/** Sets my level in `conversationId`; the store gets the updated conversation. */
export async function setNotifyLevel({ store, api }, conversationId, level) {
  try {
    const conv = await api.put(`/conversations/${encodeURIComponent(conversationId)}/notifications`, { level });
    if (conv?.id) store.upsertConversation(conv);
    else store.patchConversation(conversationId, { notify: level });
    const text = level === 'none' ? 'Notifications muted.' : level === 'mentions' ? 'You will be notified of mentions only.' : 'You will be notified of every message.';
    store.toast(text, 'success');
  } catch (err) {
    store.toast(`Could not change notifications: ${api.errorMessage(err)}`);
  }
}

/** The menu items for `conversationId` (the current level is marked). */
export function notifyItems(ctx, conversationId) {
  const current = notifyLevel(ctx.store.conversation(conversationId));
  return LEVELS.map(([level, label]) => ({
    label: `${level === current ? '✓ ' : ''}${label}`,
    action: `notify-${level}`,
    onSelect: () => setNotifyLevel(ctx, conversationId, level),
  }));
}

function paint(button, conv) {
  const level = notifyLevel(conv);
  button.textContent = level === 'none' ? '🔕' : '🔔';
  button.title = LABEL[level];
  button.setAttribute('aria-label', LABEL[level]);
  button.dataset.level = level;
}

/** A 🔔 button opening the level menu for a conversation (kept current by store events). */
export function notifyButton(ctx, conversationId, { className = 'window-button notify-button' } = {}) {
  const button = h('button', { type: 'button', class: className, 'aria-haspopup': 'menu' });
  const refresh = () => paint(button, ctx.store.conversation(conversationId));
  button.addEventListener('click', () => showMenu({ label: 'Notifications', items: notifyItems(ctx, conversationId), opener: button }));
  let attached = false;
  const off = ctx.store.on('conversations', () => {
    if (button.isConnected) attached = true;
    else if (attached) {
      off(); // its window was closed
      return;
    }
    refresh();
  });
  refresh();
  return button;
}

/** The room header's button: follows the active room, hidden when I am not a member. */
export function createRoomNotifyButton(ctx) {
  const { store } = ctx;
  const button = byId('room-notify');
  const render = () => {
    const conv = store.conversation(store.activeRoomId());
    button.hidden = !conv || conv.membership !== 'joined';
    if (conv) paint(button, conv);
  };
  button.addEventListener('click', () => {
    const id = store.activeRoomId();
    if (id) showMenu({ label: 'Notifications', items: notifyItems(ctx, id), opener: button });
  });
  store.on('active-room', render);
  store.on('conversations', render);
  render();
}
