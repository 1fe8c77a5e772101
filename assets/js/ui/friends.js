// The dock's Friends tab: "Add friend" by username, friend requests (incoming: Accept /
// Decline; outgoing: Cancel), the friends list (online first, then away and busy, then
// offline; a status dot and the custom status text under the name, or only as a tooltip when
// the "Status text under names" setting is off), and the blocked users (Unblock). The dock's
// search box filters the list. A click on a friend opens the DM; right-click or "⋯" opens the
// user menu. State and frames are in social.js.

import { errorMessage } from '../api.js';
import { batched, byId, h, replaceKeepingFocus } from './dom.js';
import { STATUS_LABEL, openDm, presenceDot, userMenuButton, userTarget } from './people.js';

const RANK = { online: 0, away: 1, busy: 1, offline: 2 };

export function createFriendsPanel({ store, api, social, prefs }) {
  const form = byId('add-friend-form');
  const input = byId('add-friend-username');
  const status = byId('add-friend-status');
  const requestsSection = byId('friend-requests-section');
  const requests = byId('friend-requests');
  const list = byId('friend-list');
  const onlineCount = byId('friends-online-count');
  const blockedList = byId('blocked-list');
  const blockedCount = byId('blocked-count');
  const search = byId('dock-search');

  const say = (text, error = false) => {
    status.textContent = text;
    status.classList.toggle('error', error);
  };
  const act = (button, fn) => async () => {
    button.disabled = true;
    try {
      await fn();
    } catch (err) {
      say(errorMessage(err), true);
      button.disabled = false;
    }
  };
  const matches = (user) => {
    const q = search.value.trim().toLowerCase();
    return !q || user.username.toLowerCase().includes(q) || (user.display_name ?? '').toLowerCase().includes(q);
  };
  const name = (user) => userTarget(h('span', { class: 'person-name', dir: 'auto' }, user.username), user);

  function requestRow(entry, direction) {
    const { user } = entry;
    const li = h('li', { class: `friend-request ${direction}`, dataset: { userId: user.id, direction } }, name(user));
    if (direction === 'incoming') {
      const accept = h('button', { type: 'button', class: 'small primary request-accept', 'aria-label': `Accept ${user.username}` }, 'Accept');
      const decline = h('button', { type: 'button', class: 'small request-decline', 'aria-label': `Decline ${user.username}` }, 'Decline');
      accept.addEventListener('click', act(accept, () => social.accept(user.id)));
      decline.addEventListener('click', act(decline, () => social.decline(user.id)));
      li.append(h('span', { class: 'request-note' }, 'wants to be friends'), accept, decline);
    } else {
      const cancel = h('button', { type: 'button', class: 'small request-cancel', 'aria-label': `Cancel the request to ${user.username}` }, 'Cancel');
      cancel.addEventListener('click', act(cancel, () => social.cancel(user.id)));
      li.append(h('span', { class: 'request-note' }, 'request sent'), cancel);
    }
    return li;
  }

  function friendRow(friend) {
    const { user } = friend;
    const state = store.presenceOf(user.id);
    const text = store.statusTextOf(user.id);
    const inline = prefs.get('status_display') !== 'hover';
    const open = h(
      'button',
      {
        type: 'button',
        class: 'friend-open',
        title: text ? `${user.username} — ${text}` : `Message ${user.username}`,
        'aria-label': `${user.username}, ${STATUS_LABEL[state] ?? state}${text ? `, ${text}` : ''}: open the chat`,
      },
      presenceDot(state, text),
      h(
        'span',
        { class: 'friend-text' },
        name(user),
        inline && text ? h('span', { class: 'friend-status-text', dir: 'auto' }, text) : null,
      ),
    );
    open.addEventListener('click', () => openDm({ store, api }, user.username));
    return h('li', { class: `friend is-${state}`, dataset: { userId: user.id, status: state } }, userTarget(open, user), userMenuButton(user));
  }

  function blockedRow(entry) {
    const { user } = entry;
    const unblock = h('button', { type: 'button', class: 'small unblock', 'aria-label': `Unblock ${user.username}` }, 'Unblock');
    unblock.addEventListener('click', act(unblock, () => social.unblock(user.id)));
    return h('li', { class: 'blocked-user', dataset: { userId: user.id } }, name(user), unblock);
  }

  const render = batched(() => {
    const incoming = social.incoming().filter((r) => matches(r.user));
    const outgoing = social.outgoing().filter((r) => matches(r.user));
    requests.replaceChildren(...incoming.map((r) => requestRow(r, 'incoming')), ...outgoing.map((r) => requestRow(r, 'outgoing')));
    requestsSection.hidden = incoming.length + outgoing.length === 0;

    const all = social.friends();
    const shown = all
      .filter((f) => matches(f.user))
      .map((f) => ({ f, rank: RANK[store.presenceOf(f.user.id)] ?? 2 }))
      .sort((a, b) => a.rank - b.rank || a.f.user.username.localeCompare(b.f.user.username))
      .map(({ f }) => f);
    replaceKeepingFocus(
      list,
      shown.length ? shown.map(friendRow) : [h('li', { class: 'empty' }, all.length ? 'No friend matches the search.' : 'No friends yet: add one by username.')],
    );
    const online = all.filter((f) => store.presenceOf(f.user.id) !== 'offline').length;
    onlineCount.textContent = all.length ? `(${online}/${all.length})` : '';

    const blocked = social.blocked();
    blockedList.replaceChildren(...(blocked.length ? blocked.map(blockedRow) : [h('li', { class: 'empty' }, 'Nobody is blocked.')]));
    blockedCount.textContent = `(${blocked.length})`;
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = input.value.trim().toLowerCase();
    if (!username) return;
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const res = await social.request(username);
      input.value = '';
      say(res.state === 'accepted' ? `You and ${res.user.username} are friends now.` : `Friend request sent to ${res.user.username}.`);
    } catch (err) {
      say(errorMessage(err), true);
    } finally {
      button.disabled = false;
    }
  });
  search.addEventListener('input', render);
  for (const type of ['friends', 'blocks', 'presence', 'prefs']) store.on(type, render);
  render();
}
