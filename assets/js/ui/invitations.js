// The dock's invitations: rooms and groups I was invited to (conversations with membership
// `invited`, from the conversation list and `conversation_added` frames; `invited_by` when the
// server says who), each with Accept and Decline (POST /invitations/{id}/accept|decline).
// Accepting a group opens its window; accepting a room shows it.

import { errorMessage } from '../api.js';
import { batched, byId, h } from './dom.js';

export function createInvitations({ store, api }) {
  const list = byId('dock-invites');
  const section = byId('dock-invites-section');
  const seen = new Set(); // invitations already announced with a toast

  function row(conv) {
    const what = conv.kind === 'group' ? 'group' : 'room';
    const label = conv.name ?? what;
    const accept = h('button', { type: 'button', class: 'small primary invite-accept', dataset: { conversationId: conv.id }, 'aria-label': `Accept the invitation to ${label}` }, 'Accept');
    const decline = h('button', { type: 'button', class: 'small invite-decline', dataset: { conversationId: conv.id }, 'aria-label': `Decline the invitation to ${label}` }, 'Decline');
    accept.addEventListener('click', async () => {
      accept.disabled = true;
      decline.disabled = true;
      try {
        const joined = await api.post(`/invitations/${encodeURIComponent(conv.id)}/accept`);
        store.upsertConversation(joined);
        if (joined.kind === 'group') store.emit('open-group', { conversationId: joined.id });
        else store.setActiveRoom(joined.id);
      } catch (err) {
        store.toast(errorMessage(err));
        accept.disabled = false;
        decline.disabled = false;
      }
    });
    decline.addEventListener('click', async () => {
      accept.disabled = true;
      decline.disabled = true;
      try {
        await api.post(`/invitations/${encodeURIComponent(conv.id)}/decline`);
        store.removeConversation(conv.id);
      } catch (err) {
        store.toast(errorMessage(err));
        accept.disabled = false;
        decline.disabled = false;
      }
    });
    return h(
      'li',
      { class: 'invite', dataset: { conversationId: conv.id, kind: conv.kind } },
      h('span', { class: 'room-icon', 'aria-hidden': 'true' }, what === 'group' ? '👥' : '🔒'),
      h(
        'span',
        { class: 'invite-text' },
        h('span', { class: 'invite-name', dir: 'auto' }, label),
        conv.invited_by ? h('span', { class: 'invite-by' }, 'from ', h('bdi', {}, conv.invited_by.username)) : null,
      ),
      accept,
      decline,
    );
  }

  const render = batched(() => {
    const pending = store
      .conversations()
      .filter((c) => c.membership === 'invited' && c.kind !== 'dm')
      .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
    list.replaceChildren(...pending.map(row));
    section.hidden = pending.length === 0;
  });

  store.on('conversations', render);
  store.on('ready', () => {
    for (const c of store.conversations()) if (c.membership === 'invited') seen.add(c.id);
  });
  // A new invitation while I am here: a toast too.
  store.on('conversations', () => {
    for (const c of store.conversations()) {
      if (c.membership !== 'invited' || seen.has(c.id)) continue;
      seen.add(c.id);
      if (store.connection() === 'online') store.toast(`You are invited to ${c.name ?? 'a group'}${c.invited_by ? ` by ${c.invited_by.username}` : ''}.`, 'info');
    }
  });
  render();
}
