// The messenger dock on the right: my profile and connection/presence status, the Friends /
// Groups tabs (the tab strip; the panels belong to friends.js and groups.js), my rooms, direct
// messages with unread badges, Log out. Other parts of the dock have their own modules:
// presence.js (status selector, custom status), invitations.js, missed.js, windows.js (the
// taskbar), admin.js (Admin button), account.js (settings menu).

import { batched, byId, h, roomEntry, unreadBadge } from './dom.js';
import { STATUS_LABEL } from './people.js';

const STATUS_TEXT = { connecting: 'Connecting…', reconnecting: 'Reconnecting…' };

export function createDock({ store, api, socket }) {
  const meName = byId('me-name');
  const meStatus = byId('me-status');
  const rooms = byId('dock-rooms');
  const dms = byId('dock-dms');

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

  const render = batched(() => {
    const me = store.me();
    meName.textContent = me ? me.display_name || me.username : '';
    meName.title = me ? `@${me.username}` : '';
    const status = store.connection();
    byId('dock').dataset.connection = status; // a hook for tests: "online" once `ready` is applied
    const mine = me ? store.presenceOf(me.id) : 'offline';
    const invisible = store.myPresence()?.choice === 'invisible';
    meStatus.dataset.status = status === 'online' ? (invisible ? 'invisible' : mine) : status;
    meStatus.replaceChildren(
      h('span', { class: `status-dot is-${status === 'online' ? (invisible ? 'offline' : mine) : 'away'}`, 'aria-hidden': 'true' }),
      status === 'online' ? (invisible ? 'Invisible' : STATUS_LABEL[mine] ?? mine) : STATUS_TEXT[status] ?? status,
    );

    const all = store.conversations();
    const active = store.activeRoomId();
    const myRooms = all.filter((c) => c.kind === 'room' && c.membership === 'joined').sort((a, b) => Number(b.official) - Number(a.official) || byName(a, b));
    rooms.replaceChildren(
      ...(myRooms.length ? myRooms.map((c) => h('li', {}, roomEntry(c, { active: c.id === active, showUnread: true }))) : [empty('No rooms yet.')]),
    );

    const myDms = all.filter((c) => c.kind === 'dm' && c.membership !== 'invited').sort((a, b) => (b.last_seq ?? 0) - (a.last_seq ?? 0));
    dms.replaceChildren(...(myDms.length ? myDms.map(dmEntry) : [empty('Click a name in a room to start a chat.')]));
  });

  byId('dock').addEventListener('click', async (ev) => {
    const target = ev.target.closest('button');
    if (!target) return;
    if (target.classList.contains('room-entry')) {
      store.setActiveRoom(target.dataset.conversationId);
    } else if (target.classList.contains('dm-entry')) {
      store.emit('open-dm', { conversationId: target.dataset.conversationId });
    }
  });

  // The Friends / Groups tabs (WAI-ARIA tabs: ← → Home End move between them).
  const tabs = [byId('tab-friends'), byId('tab-groups')];
  function selectTab(tab, focus = false) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      byId(t.getAttribute('aria-controls')).hidden = !on;
    }
    if (focus) tab.focus();
  }
  for (const tab of tabs) {
    tab.addEventListener('click', () => selectTab(tab));
    tab.addEventListener('keydown', (ev) => {
      const at = tabs.indexOf(tab);
      const next = { ArrowRight: tabs[(at + 1) % tabs.length], ArrowLeft: tabs[(at - 1 + tabs.length) % tabs.length], Home: tabs[0], End: tabs[tabs.length - 1] }[ev.key];
      if (next) {
        ev.preventDefault();
        selectTab(next, true);
      }
    });
  }
  store.on('show-tab', ({ tab }) => selectTab(byId(`tab-${tab}`)));

  byId('logout').addEventListener('click', async () => {
    socket.stop();
    try {
      await api.post('/auth/logout', {});
    } catch {
      // The cookies may already be gone; leaving is what matters.
    }
    location.assign('/login');
  });

  for (const type of ['me', 'connection', 'conversations', 'presence', 'my-presence', 'active-room']) store.on(type, render);
  render();
}
