// The room browser: official rooms grouped by category, my other joined rooms, the public
// directory (GET /rooms?q=, paged: "More rooms" follows next_cursor), a "Search rooms" box
// filtering all three, and "Create room" (only with the `rooms.create` permission). Every room
// appears here once, as button.room-entry[data-conversation-id]; a room I may join but have
// not joined also gets a Join button (`conversation.join`).

import { errorMessage, withQuery } from '../api.js';
import { batched, byId, h, roomEntry } from './dom.js';

const SEARCH_DELAY_MS = 250;

/** Join (or accept an invite to) a room, then open it. Shared with the dock. */
export async function joinRoom({ store, api }, id) {
  const conv = await api.post(`/rooms/${encodeURIComponent(id)}/join`);
  store.upsertConversation({ ...conv, membership: 'joined' });
  store.setActiveRoom(conv.id);
  return conv;
}

const byName = (a, b) => (a.name ?? '').localeCompare(b.name ?? '');
const PAGE = 50;

export function createRoomBrowser({ store, api }) {
  const search = byId('room-search');
  const official = byId('official-rooms');
  const joinedList = byId('joined-rooms');
  const directoryList = byId('directory-rooms');
  const createForm = byId('create-room-form');
  const createSection = byId('create-room-section');
  const createError = byId('create-room-error');
  const moreButton = byId('more-rooms');
  let directory = [];
  let directoryCursor;
  let query = '';
  let searchTimer = null;
  let loadSeq = 0;

  const matches = (conv) => (conv.name ?? '').toLowerCase().includes(query.toLowerCase());
  const isJoined = (conv) => store.conversation(conv.id)?.membership === 'joined';
  const known = (conv) => ({ ...conv, ...store.conversation(conv.id) });
  const mayJoin = (conv) => conv.membership !== 'joined' && Boolean(conv.permissions?.includes('conversation.join'));
  const item = (entry) => {
    const conv = known(entry);
    return h(
      'li',
      { class: 'room-row' },
      roomEntry(conv, { active: conv.id === store.activeRoomId() }),
      mayJoin(conv)
        ? h('button', { type: 'button', class: 'join-button small', dataset: { conversationId: conv.id }, 'aria-label': `Join ${conv.name ?? 'room'}` }, 'Join')
        : null,
    );
  };
  const empty = (text) => h('li', { class: 'empty' }, text);

  /** The first page of the directory for the current search (replaces what is shown). */
  async function loadDirectory() {
    const mine = ++loadSeq;
    try {
      const page = await api.get(withQuery('/rooms', { q: query, limit: PAGE }));
      if (mine !== loadSeq) return; // a newer search already answered
      directory = page.rooms ?? [];
      directoryCursor = page.next_cursor;
      render();
    } catch (err) {
      store.toast(errorMessage(err));
    }
  }

  /** The next page of the same search, appended. */
  async function loadMore() {
    if (!directoryCursor) return;
    const mine = loadSeq;
    moreButton.disabled = true;
    try {
      const page = await api.get(withQuery('/rooms', { q: query, cursor: directoryCursor, limit: PAGE }));
      if (mine !== loadSeq) return;
      const seen = new Set(directory.map((c) => c.id));
      directory = directory.concat((page.rooms ?? []).filter((c) => !seen.has(c.id)));
      directoryCursor = page.next_cursor;
      render();
    } catch (err) {
      store.toast(errorMessage(err));
    } finally {
      moreButton.disabled = false;
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
        h('div', { class: 'category' }, h('h4', { class: 'category-name', dir: 'auto' }, category), h('ul', { class: 'room-list' }, groups.get(category).sort(byName).map(item))),
      ),
    );
    if (!groups.size) official.replaceChildren(h('p', { class: 'empty' }, query ? 'No official rooms match.' : 'No official rooms.'));

    const joined = store
      .conversations()
      .filter((c) => c.kind === 'room' && c.membership === 'joined' && !c.official && matches(c))
      .sort(byName);
    joinedList.replaceChildren(...(joined.length ? joined.map(item) : [empty(query ? 'No joined rooms match.' : 'You have not joined any other rooms yet.')]));

    // Kept in the server's order (official first, then by name), so paging appends in place.
    const others = directory.filter((c) => !c.official && !isJoined(c));
    directoryList.replaceChildren(...(others.length ? others.map(item) : [empty(query ? 'No public rooms match.' : 'No other public rooms yet.')]));
    moreButton.hidden = !directoryCursor;
    createSection.hidden = !store.can('rooms.create');
  });

  async function openEntry(id) {
    if (store.conversation(id)?.membership === 'joined') {
      store.setActiveRoom(id);
      return;
    }
    const conv = directory.find((c) => c.id === id) ?? store.conversation(id);
    if (!conv || !mayJoin(known(conv))) {
      store.toast('You cannot join this room.');
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
    const entry = ev.target.closest('button.room-entry, button.join-button');
    if (entry) openEntry(entry.dataset.conversationId);
  });
  moreButton.addEventListener('click', loadMore);

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
  // A deleted room leaves the directory too (conversation_deleted).
  store.on('conversation-deleted', ({ conversationId }) => {
    directory = directory.filter((c) => c.id !== conversationId);
    render();
  });
  store.on('permissions', () => {
    render();
    loadDirectory(); // each room's permissions depend on my server role too
  });
  store.on('connection', ({ status }) => {
    if (status === 'online') loadDirectory(); // rooms may have appeared while we were away
  });
  loadDirectory();
}
