// The room browser: official rooms grouped by category, my other joined rooms, the public
// directory (GET /rooms?q=&category=&sort=, paged: "More rooms" follows next_cursor), a
// "Search rooms" box (name, topic, category) filtering all three, a category filter
// (GET /rooms/categories) and an order (name, members, newest), and "Create room" with topic
// and category (only with the `rooms.create` permission). Every room appears here once, as
// button.room-entry[data-conversation-id]; a room I may join but have not joined also gets a
// Join button (`conversation.join`).
//
// The directory is live: `room_listed` adds or replaces an entry (when it matches the search
// and filter; past the loaded pages it waits for "More rooms"), `room_unlisted` drops one and
// `room_stats` updates a member count, so nobody needs the refresh button.

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

export function createRoomBrowser({ store, api, socket }) {
  const search = byId('room-search');
  const categorySelect = byId('room-category');
  const sortSelect = byId('room-sort');
  const categoryList = byId('room-category-list');
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
  let category = '';
  let sort = 'name';
  let categories = []; // [{name, room_count}] of public rooms
  let searchTimer = null;
  let loadSeq = 0;

  const lower = (text) => (text ?? '').toLowerCase();
  /** The server's `q` rule: name, topic or category contains the text (case-insensitive). */
  const matches = (conv) => {
    const q = lower(query);
    return !q || [conv.name, conv.topic, conv.category].some((t) => lower(t).includes(q));
  };
  const inCategory = (conv) => !category || lower(conv.category) === lower(category);
  const params = () => ({ q: query, category, sort: sort === 'name' ? '' : sort, limit: PAGE });
  const isJoined = (conv) => store.conversation(conv.id)?.membership === 'joined';
  const known = (conv) => ({ ...conv, ...store.conversation(conv.id) });
  const mayJoin = (conv) => conv.membership !== 'joined' && Boolean(conv.permissions?.includes('conversation.join'));
  const item = (listing) => {
    const conv = known(listing);
    const button = roomEntry(conv, { active: conv.id === store.activeRoomId() });
    if (conv.category && !conv.official) button.querySelector('.room-name').after(h('span', { class: 'room-category', dir: 'auto' }, conv.category));
    return h(
      'li',
      { class: 'room-row' },
      button,
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
      const page = await api.get(withQuery('/rooms', params()));
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
      const page = await api.get(withQuery('/rooms', { ...params(), cursor: directoryCursor }));
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
    if (!groups.size) official.replaceChildren(h('p', { class: 'empty' }, query || category ? 'No official rooms match.' : 'No official rooms.'));

    const joined = store
      .conversations()
      .filter((c) => c.kind === 'room' && c.membership === 'joined' && !c.official && matches(c) && inCategory(c))
      .sort(byName);
    joinedList.replaceChildren(...(joined.length ? joined.map(item) : [empty(query ? 'No joined rooms match.' : 'You have not joined any other rooms yet.')]));

    // Kept in the server's order (official first, then the chosen order), so paging appends in
    // place; live entries are put where the server would put them.
    const others = directory.filter((c) => !c.official && !isJoined(c));
    const filtered = query || category;
    directoryList.replaceChildren(...(others.length ? others.map(item) : [empty(filtered ? 'No public rooms match.' : 'No other public rooms yet.')]));
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

  // --- category filter and order ---------------------------------------------------------
  function renderCategories() {
    const names = categories.map((c) => c.name);
    if (category && !names.some((n) => lower(n) === lower(category))) names.push(category);
    names.sort((a, b) => a.localeCompare(b));
    categorySelect.replaceChildren(
      h('option', { value: '' }, 'All categories'),
      ...names.map((n) => h('option', { value: n, selected: n === category }, n)),
    );
    categoryList.replaceChildren(...names.map((n) => h('option', { value: n })));
  }
  async function loadCategories() {
    try {
      categories = (await api.get('/rooms/categories')).categories ?? [];
      renderCategories();
    } catch (err) {
      store.toast(errorMessage(err));
    }
  }
  categorySelect.addEventListener('change', () => {
    category = categorySelect.value;
    render();
    loadDirectory();
  });
  sortSelect.addEventListener('change', () => {
    sort = sortSelect.value;
    loadDirectory();
  });

  // --- the live directory (room_listed / room_unlisted / room_stats) ----------------------
  /** Negative when a comes before b in the server's order (official first, then `sort`). */
  function compare(a, b) {
    if (a.official !== b.official) return a.official ? -1 : 1;
    if (sort === 'members' && (a.member_count ?? 0) !== (b.member_count ?? 0)) return (b.member_count ?? 0) - (a.member_count ?? 0);
    if (sort === 'newest') return 0; // newer than anything loaded: handled by the caller
    return lower(a.name).localeCompare(lower(b.name));
  }
  function listed(listing) {
    // The listing carries a plain member's permissions; room moderators may join locked rooms.
    const room = store.can('rooms.moderate') && !listing.permissions?.includes('conversation.join') ? { ...listing, permissions: [...(listing.permissions ?? []), 'conversation.join'] } : listing;
    const at = directory.findIndex((c) => c.id === room.id);
    if (!matches(room) || !inCategory(room)) {
      if (at >= 0) directory.splice(at, 1);
    } else if (at >= 0) {
      directory[at] = room; // same place: the list does not jump under the pointer
    } else if (sort === 'newest') {
      // A new room is the newest: first after the official rooms.
      const first = directory.findIndex((c) => !c.official || room.official);
      directory.splice(first < 0 ? directory.length : first, 0, room);
    } else {
      const before = directory.findIndex((c) => compare(room, c) < 0);
      if (before >= 0) directory.splice(before, 0, room);
      else if (!directoryCursor) directory.push(room); // past the loaded pages: "More rooms" brings it
    }
    if (room.category && !categories.some((c) => c.name === room.category)) {
      categories.push({ name: room.category, room_count: 1 });
      renderCategories();
    }
    // Rooms I am in keep my view; the shared fields follow the listing.
    const mine = store.conversation(room.id);
    if (mine) store.patchConversation(room.id, { name: room.name, topic: room.topic, category: room.category, member_count: room.member_count });
    render();
  }
  socket?.on('room_listed', (f) => f.room && listed(f.room));
  socket?.on('room_unlisted', (f) => {
    directory = directory.filter((c) => c.id !== f.room_id);
    render();
  });
  socket?.on('room_stats', (f) => {
    const entry = directory.find((c) => c.id === f.room_id);
    if (entry) entry.member_count = f.member_count;
    if (store.conversation(f.room_id)) store.patchConversation(f.room_id, { member_count: f.member_count });
    if (entry) render();
  });

  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      query = search.value.trim();
      render();
      loadDirectory();
    }, SEARCH_DELAY_MS);
  });
  byId('refresh-rooms').addEventListener('click', () => {
    loadDirectory();
    loadCategories();
  });

  createForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    createError.textContent = '';
    const name = createForm.elements['new-room-name'].value.trim();
    const topic = createForm.elements['new-room-topic'].value.trim();
    const newCategory = createForm.elements['new-room-category'].value.trim();
    const visibility = createForm.elements['new-room-visibility'].value;
    const button = createForm.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      // Optional fields are left out when empty (the API treats absent as none).
      const body = { name, visibility };
      if (topic) body.topic = topic;
      if (newCategory) body.category = newCategory;
      const conv = await api.post('/rooms', body);
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
    if (status !== 'online') return;
    loadDirectory(); // rooms may have appeared while we were away
    loadCategories();
  });
  loadDirectory();
  loadCategories();
}
