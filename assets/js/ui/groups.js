// The dock's Groups tab: my groups (name, member count, unread badge; a click opens the group
// window, ui/group-window.js) filtered by the dock's search box, and "Create group" (name and
// an optional topic: POST /groups, then the new group's window opens). Pending group
// invitations are listed by invitations.js.

import { errorMessage } from '../api.js';
import { batched, byId, h, replaceKeepingFocus, unreadBadge } from './dom.js';

export function createGroupsPanel({ store, api }) {
  const list = byId('group-list');
  const search = byId('dock-search');
  const form = byId('create-group-form');
  const nameInput = byId('new-group-name');
  const topicInput = byId('new-group-topic');
  const error = byId('create-group-error');

  function entry(conv) {
    const open = h(
      'button',
      {
        type: 'button',
        class: `group-entry${conv.unread_count ? ' has-unread' : ''}`,
        dataset: { conversationId: conv.id },
        title: [conv.topic, `${conv.member_count ?? 0} members`].filter(Boolean).join(' · '),
      },
      h('span', { class: 'room-icon', 'aria-hidden': 'true' }, '👥'),
      h('span', { class: 'room-name', dir: 'auto' }, conv.name ?? 'Group'),
      unreadBadge(conv.unread_count) ?? h('span', { class: 'room-meta', 'aria-hidden': 'true' }, String(conv.member_count ?? '')),
    );
    open.addEventListener('click', () => store.emit('open-group', { conversationId: conv.id }));
    return h('li', { dataset: { conversationId: conv.id } }, open);
  }

  const render = batched(() => {
    const q = search.value.trim().toLowerCase();
    const all = store.conversations().filter((c) => c.kind === 'group' && c.membership === 'joined');
    const shown = all.filter((c) => !q || (c.name ?? '').toLowerCase().includes(q) || (c.topic ?? '').toLowerCase().includes(q));
    shown.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
    replaceKeepingFocus(
      list,
      shown.length ? shown.map(entry) : [h('li', { class: 'empty' }, all.length ? 'No group matches the search.' : 'No groups yet: create one.')],
    );
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const name = nameInput.value.trim();
    const topic = topicInput.value.trim();
    if (!name) return;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const conv = await api.post('/groups', topic ? { name, topic } : { name });
      store.upsertConversation(conv);
      form.reset();
      byId('create-group').open = false;
      store.emit('open-group', { conversationId: conv.id });
    } catch (err) {
      error.textContent = errorMessage(err);
    } finally {
      button.disabled = false;
    }
  });

  search.addEventListener('input', render);
  store.on('conversations', render);
  store.on('conversation-updated', render);
  render();
}
