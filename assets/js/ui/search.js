// Message search (issue 9): the 🔍 button in the room browser's title bar (or Ctrl+Shift+F)
// opens a dialog with a query field and filters — conversation (my joined conversations),
// sender (the members of the chosen conversation; without one, me and my DM partners), and a
// date range — and lists hits newest first (GET /search/messages), with "Load more" paging.
// A hit's snippet is the one HTML string inserted as HTML: the server escapes the whole text
// and only adds <mark>…</mark> around the matching words. Choosing a hit closes the dialog,
// opens its conversation (room view, group or DM window) and emits
// `jump-to {conversationId, seq}` for the timeline. Esc closes (native <dialog>).

import { byId, h } from './dom.js';

const MESSAGES = {
  invalid_query: 'Type 1–256 characters to search for.',
  rate_limited: 'Too many searches — wait a moment and try again.',
};

/** A conversation's name as the lists show it. */
function conversationName(conv) {
  if (!conv) return 'a conversation';
  if (conv.kind === 'dm') return `DM with ${conv.peer?.username ?? conv.name ?? 'someone'}`;
  if (conv.kind === 'group') return conv.name ?? 'Group';
  return conv.name ?? 'Room';
}

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** `yyyy-mm-dd` from a date input as the local midnight it names, in RFC 3339 (or undefined). */
function dayStart(value, plusDays = 0) {
  if (!value) return undefined;
  const [y, m, d] = value.split('-').map(Number);
  const date = new Date(y, m - 1, d + plusDays);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function createSearch({ store, api }) {
  const dialog = byId('message-search-dialog');
  const form = byId('message-search-form');
  const input = byId('message-search-q');
  const conversationSelect = byId('message-search-conversation');
  const senderSelect = byId('message-search-sender');
  const fromInput = byId('message-search-from');
  const toInput = byId('message-search-to');
  const results = byId('message-search-results');
  const more = byId('message-search-more');
  const error = byId('message-search-error');
  const status = byId('message-search-status');

  let cursor = null;
  let params = null;
  let generation = 0; // answers of a superseded search are dropped

  function say({ err = '', ok = '' } = {}) {
    error.textContent = err;
    status.textContent = ok;
  }

  function option(value, label, selected = false) {
    return h('option', { value, selected }, label);
  }

  function fillConversations() {
    const keep = conversationSelect.value;
    const mine = store
      .conversations()
      .filter((c) => c.membership === 'joined')
      .sort((a, b) => a.kind.localeCompare(b.kind) || conversationName(a).localeCompare(conversationName(b)));
    conversationSelect.replaceChildren(option('', 'All my conversations'), ...mine.map((c) => option(c.id, conversationName(c), c.id === keep)));
  }

  /** Senders to choose from: the chosen conversation's members, else me and my DM partners. */
  async function fillSenders() {
    const keep = senderSelect.value;
    const id = conversationSelect.value;
    let people = [];
    if (id) {
      try {
        const page = await api.get(api.withQuery(`/conversations/${encodeURIComponent(id)}/members`, { limit: 500 }));
        people = (page.members ?? []).map((m) => ({ id: m.user_id ?? m.id, username: m.username }));
      } catch {
        people = [];
      }
    } else {
      const me = store.me();
      if (me) people.push({ id: me.id, username: me.username });
      for (const c of store.conversations()) if (c.kind === 'dm' && c.peer) people.push({ id: c.peer.id, username: c.peer.username });
    }
    const seen = new Set();
    people = people.filter((p) => p.id && !seen.has(p.id) && seen.add(p.id)).sort((a, b) => a.username.localeCompare(b.username));
    senderSelect.replaceChildren(option('', 'Anyone'), ...people.map((p) => option(p.id, p.username, p.id === keep)));
  }

  function open() {
    fillConversations();
    fillSenders();
    if (!dialog.open) dialog.showModal();
    input.focus();
    input.select();
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  function openConversation(conversationId, seq) {
    const conv = store.conversation(conversationId);
    close();
    if (!conv) {
      store.toast('You are no longer in that conversation.');
      return;
    }
    if (conv.kind === 'room') store.setActiveRoom(conv.id);
    else if (conv.kind === 'group') store.emit('open-group', { conversationId: conv.id });
    else store.emit('open-dm', { conversationId: conv.id });
    store.emit('jump-to', { conversationId: conv.id, seq });
  }

  function hitItem(hit) {
    const m = hit.message;
    const snippet = h('div', { class: 'search-hit-snippet', dir: 'auto' });
    // The server's snippet is escaped text plus <mark> (see docs/api.md#search): the one
    // HTML string this module inserts.
    snippet.innerHTML = hit.snippet;
    const button = h(
      'button',
      {
        type: 'button',
        class: 'search-hit',
        dataset: { conversationId: m.conversation_id, seq: String(m.seq) },
        onclick: () => openConversation(m.conversation_id, m.seq),
      },
      h(
        'div',
        { class: 'search-hit-meta' },
        h('span', { class: 'search-hit-where', dir: 'auto' }, conversationName(store.conversation(m.conversation_id))),
        h('span', { class: 'search-hit-who', dir: 'auto' }, m.sender_username),
        h('time', { datetime: m.created_at }, when(m.created_at)),
      ),
      snippet,
    );
    return h('li', {}, button);
  }

  async function run(append) {
    const mine = ++generation;
    say();
    more.disabled = true;
    try {
      const page = await api.get(api.withQuery('/search/messages', { ...params, cursor: append ? cursor : undefined }));
      if (mine !== generation) return;
      const items = (page.results ?? []).map(hitItem);
      if (append) results.append(...items);
      else results.replaceChildren(...items);
      cursor = page.next_cursor ?? null;
      more.hidden = !cursor;
      const count = results.children.length;
      say({ ok: count ? `${count}${cursor ? '+' : ''} message${count === 1 ? '' : 's'} found.` : 'No messages found.' });
      results.dataset.loaded = 'true'; // a hook for tests: these are the answer's hits
    } catch (err) {
      if (mine !== generation) return;
      say({ err: MESSAGES[err?.code] ?? api.errorMessage(err) });
    } finally {
      more.disabled = false;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) {
      say({ err: MESSAGES.invalid_query });
      return;
    }
    params = {
      q,
      conversation_id: conversationSelect.value || undefined,
      sender_id: senderSelect.value || undefined,
      from: dayStart(fromInput.value),
      to: dayStart(toInput.value, 1),
      limit: 20,
    };
    delete results.dataset.loaded;
    run(false);
  });
  conversationSelect.addEventListener('change', fillSenders);
  more.addEventListener('click', () => run(true));
  byId('message-search-open').addEventListener('click', open);
  byId('message-search-close').addEventListener('click', close);
  // Esc closes, also from the query field (where Chromium would only clear a search input).
  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      close();
    }
  });
  document.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.shiftKey && event.key.toLowerCase() === 'f') {
      event.preventDefault();
      open();
    }
  });
  store.on('conversations', () => {
    if (dialog.open) fillConversations();
  });

  return { open, close };
}
