// The active room's member list (#member-list) with live presence. Clicking a member's name
// opens (or creates) the direct-message conversation with them.

import { errorMessage } from '../api.js';
import { batched, byId, h } from './dom.js';

export function createMemberList({ store, api }) {
  const list = byId('member-list');
  const count = byId('member-count');
  let current = null;

  async function load(id) {
    try {
      const members = await api.get(`/conversations/${encodeURIComponent(id)}/members`);
      store.setMembers(id, members);
    } catch (err) {
      store.toast(errorMessage(err));
    }
  }

  function memberEl(m, meId) {
    const status = store.presenceOf(m.user_id);
    const isMe = m.user_id === meId;
    return h(
      'li',
      { class: `member${isMe ? ' me' : ''}`, dataset: { userId: m.user_id } },
      h('span', { class: `presence ${status}`, role: 'img', 'aria-label': status, title: status }),
      h(
        'button',
        { type: 'button', class: 'member-name', dataset: { username: m.username }, title: isMe ? 'You' : `Message ${m.username}`, disabled: isMe },
        m.username,
      ),
      isMe ? h('span', { class: 'member-note' }, '(you)') : null,
      m.role === 'owner' ? h('span', { class: 'member-note' }, 'owner') : null,
    );
  }

  const render = batched(() => {
    const members = current ? store.membersOf(current) : [];
    const rank = (m) => (store.presenceOf(m.user_id) === 'online' ? 0 : 1);
    members.sort((a, b) => rank(a) - rank(b) || a.username.localeCompare(b.username));
    const meId = store.me()?.id;
    list.replaceChildren(...members.map((m) => memberEl(m, meId)));
    const online = members.filter((m) => rank(m) === 0).length;
    count.textContent = current ? `${online}/${members.length} online` : '';
  });

  async function openDm(username) {
    try {
      const conv = await api.post('/dms', { username });
      store.upsertConversation(conv);
      store.emit('open-dm', { conversationId: conv.id });
    } catch (err) {
      store.toast(errorMessage(err));
    }
  }

  list.addEventListener('click', (ev) => {
    const button = ev.target.closest('button.member-name');
    if (button && !button.disabled) openDm(button.dataset.username);
  });

  store.on('active-room', ({ conversationId }) => {
    current = conversationId;
    render();
    if (current) load(current);
  });
  store.on('members', ({ conversationId, joined }) => {
    if (conversationId !== current) return;
    render();
    if (joined) load(current); // the REST list carries the newcomer's presence
  });
  store.on('presence', render);
  store.on('connection', ({ status }) => {
    if (status === 'online' && current) load(current); // membership may have changed while away
    render();
  });

  current = store.activeRoomId();
  if (current) load(current);
}
