// The room browser: official rooms grouped by category, my other joined rooms, the public
// directory (GET /rooms?q=), a "Search rooms" box filtering all three, and "Create room".
// Every room appears here once, as button.room-entry[data-conversation-id].

import { errorMessage } from '../api.js';
import { batched, byId, h, roomEntry } from './dom.js';

const SEARCH_DELAY_MS = 250;

/** Join (or accept an invite to) a room, then open it. Shared with the dock. */
export async function joinRoom({ store, api }, id) {
  const conv = await api.post(`/rooms/${encodeURIComponent(id)}/join`);
  store.upsertConversation({ ...conv, membership: 'joined' });
  store.setActiveRoom(conv.id);
  return conv;
}

const byName = (a, b) => a.name.localeCompare(b.name);

export function createRoomBrowser({ store, api }) {
  const search = byId('room-search');
  const official = byId('official-rooms');
  const joinedList = byId('joined-rooms');
  const directoryList = byId('directory-rooms');
  const createForm = byId('create-room-form');
  const createError = byId('create-room-error');
  let directory = [];
  let query = '';
  let searchTimer = null;
  let loadSeq = 0;

  const matches = (conv) => conv.name.toLowerCase().includes(query.toLowerCase());
  const isJoined = (conv) => store.conversation(conv.id)?.membership === 'joined';
  const item = (conv) => {
    const known = store.conversation(conv.id);
    return h('li', {}, roomEntry({ ...conv, ...known }, { active: conv.id === store.activeRoomId() }));
  };
  const empty = (text) => h('li', { class: 'empty' }, text);

  async function loadDirectory() {
    const mine = ++loadSeq;
    try {
      const rooms = await api.get(`/rooms?q=${encodeURIComponent(query)}`);
      if (mine !== loadSeq) return; // a newer search already answered
      directory = rooms;
      render();
    } catch (err) {
      store.toast(errorMessage(err));
    }
  }

  const render = batched(() => {
    const groups = new Map();
    for (const conv of directory.filter((c) => c.official)) {
      const category = conv.category || 'Other';
      if (!groups.has(category)) groups.set(category, []);
      groups.get(category).push(conv);
    }
    official.replaceChildren(
      ...[...groups.keys()].sort().map((category) =>
        h('div', { class: 'category' }, h('h4', { class: 'category-name' }, category), h('ul', { class: 'room-list' }, groups.get(category).sort(byName).map(item))),
      ),
    );
    if (!groups.size) official.replaceChildren(h('p', { class: 'empty' }, query ? 'No official rooms match.' : 'No official rooms.'));

    const joined = store
      .conversations()
      .filter((c) => c.kind !== 'dm' && c.membership === 'joined' && !c.official && matches(c))
      .sort(byName);
    joinedList.replaceChildren(...(joined.length ? joined.map(item) : [empty(query ? 'No joined rooms match.' : 'You have not joined any other rooms yet.')]));

    const others = directory.filter((c) => !c.official && !isJoined(c)).sort(byName);
    directoryList.replaceChildren(...(others.length ? others.map(item) : [empty(query ? 'No public rooms match.' : 'No other public rooms yet.')]));
  });

  async function openEntry(id) {
    if (store.conversation(id)?.membership === 'joined') {
      store.setActiveRoom(id);
      return;
    }
    try {
      await joinRoom({ store, api }, id);
      loadDirectory();
    } catch (err) {
      store.toast(errorMessage(err));
    }
  }

  byId('room-browser').addEventListener('click', (ev) => {
    const entry = ev.target.closest('button.room-entry');
    if (entry) openEntry(entry.dataset.conversationId);
  });

  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      query = search.value.trim();
      render();
      loadDirectory();
    }, SEARCH_DELAY_MS);
  });
  byId('refresh-rooms').addEventListener('click', loadDirectory);

  createForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    createError.textContent = '';
    const name = createForm.elements['new-room-name'].value.trim();
    const visibility = createForm.elements['new-room-visibility'].value;
    const button = createForm.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const conv = await api.post('/rooms', { name, visibility });
      store.upsertConversation({ ...conv, membership: 'joined' });
      store.setActiveRoom(conv.id);
      createForm.reset();
      loadDirectory();
    } catch (err) {
      createError.textContent = errorMessage(err);
    } finally {
      button.disabled = false;
    }
  });

  store.on('conversations', render);
  store.on('active-room', render);
  store.on('connection', ({ status }) => {
    if (status === 'online') loadDirectory(); // rooms may have appeared while we were away
  });
  loadDirectory();
}
