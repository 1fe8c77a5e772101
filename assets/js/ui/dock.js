// The messenger dock on the right: my profile and connection status, my rooms, direct
// messages with unread badges, pending invites (Join, when the server allows it), Log out.
// The taskbar for minimized windows lives here too but is filled by windows.js; the Admin
// button belongs to admin.js and the settings menu to account.js.

import { errorMessage } from '../api.js';
import { joinRoom } from './room-browser.js';
import { batched, byId, h, roomEntry, unreadBadge } from './dom.js';

const STATUS_TEXT = { online: 'Online', connecting: 'Connecting…', reconnecting: 'Reconnecting…' };

export function createDock({ store, api, socket }) {
  const meName = byId('me-name');
  const meStatus = byId('me-status');
  const rooms = byId('dock-rooms');
  const dms = byId('dock-dms');
  const invites = byId('dock-invites');
  const invitesSection = byId('dock-invites-section');

  const empty = (text) => h('li', { class: 'empty' }, text);
  const byName = (a, b) => (a.name ?? '').localeCompare(b.name ?? '');

  function dmEntry(conv) {
    const name = conv.peer?.username ?? conv.name;
    const status = conv.peer ? store.presenceOf(conv.peer.id) : 'offline';
    return h(
      'li',
      {},
      h(
        'button',
        { type: 'button', class: `dm-entry${conv.unread_count ? ' has-unread' : ''}`, dataset: { conversationId: conv.id } },
        h('span', { class: `status-dot is-${status}`, role: 'img', 'aria-label': status }),
        h('span', { class: 'dm-name', dir: 'auto' }, name),
        unreadBadge(conv.unread_count),
      ),
    );
  }

  function inviteEntry(conv) {
    const mayJoin = store.canIn(conv.id, 'conversation.join');
    return h(
      'li',
      { class: 'invite', dataset: { conversationId: conv.id } },
      h('span', { class: 'invite-name', dir: 'auto' }, conv.name ?? ''),
      mayJoin ? h('button', { type: 'button', class: 'join-button small', dataset: { conversationId: conv.id }, 'aria-label': `Join ${conv.name ?? 'room'}` }, 'Join') : null,
    );
  }

  const render = batched(() => {
    const me = store.me();
    meName.textContent = me ? me.display_name || me.username : '';
    meName.title = me ? `@${me.username}` : '';
    const status = store.connection();
    byId('dock').dataset.connection = status; // a hook for tests: "online" once `ready` is applied
    meStatus.replaceChildren(
      h('span', { class: `status-dot is-${status === 'online' ? 'online' : 'away'}`, 'aria-hidden': 'true' }),
      STATUS_TEXT[status] ?? status,
    );

    const all = store.conversations();
    const active = store.activeRoomId();
    const myRooms = all.filter((c) => c.kind !== 'dm' && c.membership === 'joined').sort((a, b) => Number(b.official) - Number(a.official) || byName(a, b));
    rooms.replaceChildren(
      ...(myRooms.length ? myRooms.map((c) => h('li', {}, roomEntry(c, { active: c.id === active, showUnread: true }))) : [empty('No rooms yet.')]),
    );

    const myDms = all.filter((c) => c.kind === 'dm' && c.membership !== 'invited').sort((a, b) => (b.last_seq ?? 0) - (a.last_seq ?? 0));
    dms.replaceChildren(...(myDms.length ? myDms.map(dmEntry) : [empty('Click a name in a room to start a chat.')]));

    const pending = all.filter((c) => c.membership === 'invited').sort(byName);
    invites.replaceChildren(...pending.map(inviteEntry));
    invitesSection.hidden = pending.length === 0;
  });

  byId('dock').addEventListener('click', async (ev) => {
    const target = ev.target.closest('button');
    if (!target) return;
    if (target.classList.contains('room-entry')) {
      store.setActiveRoom(target.dataset.conversationId);
    } else if (target.classList.contains('dm-entry')) {
      store.emit('open-dm', { conversationId: target.dataset.conversationId });
    } else if (target.classList.contains('join-button')) {
      target.disabled = true;
      try {
        await joinRoom({ store, api }, target.dataset.conversationId);
      } catch (err) {
        target.disabled = false;
        store.toast(errorMessage(err));
      }
    }
  });

  byId('logout').addEventListener('click', async () => {
    socket.stop();
    try {
      await api.post('/auth/logout', {});
    } catch {
      // The cookies may already be gone; leaving is what matters.
    }
    location.assign('/login');
  });

  for (const type of ['me', 'connection', 'conversations', 'presence', 'active-room']) store.on(type, render);
  render();
}
