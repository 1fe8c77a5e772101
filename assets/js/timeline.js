// Message history over REST: the latest page when a conversation opens, older pages on demand
// (before_seq), and a full reload when the server answers a resume with resync_required.
// Jumps (issue 9): `jump-to {conversationId, seq}` (a reply's quote, a pin, search) shows that
// message: when held, at once; otherwise the window is replaced by a page centred on it
// (around_seq), and newer pages then load forward with after_seq until the newest is reached.

const PAGE = 50;

export function createTimeline({ api, store }) {
  const inflight = new Map(); // `${kind}:${id}` -> promise

  function once(key, fn) {
    if (!inflight.has(key)) inflight.set(key, fn().finally(() => inflight.delete(key)));
    return inflight.get(key);
  }

  const url = (id, query) => `/conversations/${encodeURIComponent(id)}/messages?${query}`;

  /** Latest page; merges with whatever the socket already delivered (dedupe is by seq). */
  function loadLatest(id) {
    return once(`latest:${id}`, async () => {
      const page = await api.get(url(id, `limit=${PAGE}`));
      store.addMessages(id, page.messages);
      const t = store.timeline(id);
      // Only the first page decides whether older history exists; later pages keep their answer.
      store.setHistoryState(id, { loaded: true, hasMore: t.loaded ? t.hasMore : Boolean(page.has_more) });
    });
  }

  /** Loads the latest page unless this conversation's history is already here. */
  function ensureLoaded(id) {
    return store.timeline(id).loaded ? Promise.resolve() : loadLatest(id);
  }

  /** The page before the oldest message held. */
  function loadOlder(id) {
    const t = store.timeline(id);
    if (!t.loaded || !t.hasMore) return Promise.resolve();
    return once(`older:${id}`, async () => {
      const before = store.firstSeq(id);
      const page = await api.get(url(id, `before_seq=${before}&limit=${PAGE}`));
      store.addMessages(id, page.messages);
      store.setHistoryState(id, { hasMore: Boolean(page.has_more) && page.messages.length > 0 });
    });
  }

  /** After a jump: the page after the newest message held (`has_more`: newer ones exist). */
  function loadNewer(id) {
    const t = store.timeline(id);
    if (!t.loaded || !t.hasNewer) return Promise.resolve();
    return once(`newer:${id}`, async () => {
      const after = store.lastSeq(id);
      const page = await api.get(url(id, `after_seq=${after}&limit=${PAGE}`));
      store.addMessages(id, page.messages);
      store.setHistoryState(id, { hasNewer: Boolean(page.has_more) && page.messages.length > 0 });
    });
  }

  /** Replaces the window with a page centred on `seq`. */
  function loadAround(id, seq) {
    return once(`around:${id}`, async () => {
      const page = await api.get(url(id, `around_seq=${seq}&limit=${PAGE}`));
      const list = page.messages ?? [];
      const last = list.length ? list[list.length - 1].seq : 0;
      const newest = store.conversation(id)?.last_seq ?? 0;
      store.replaceWindow(id, list, { hasMore: Boolean(page.has_more), hasNewer: last < newest });
    });
  }

  /** Shows message `seq`: loads it when not held, then asks the list on screen to scroll to it. */
  async function jumpTo(id, seq) {
    if (!store.timeline(id).bySeq.has(seq)) await loadAround(id, seq);
    store.emit('jump-shown', { conversationId: id, seq });
  }

  /** The gap was too large to replay: drop what we hold and start again from the latest page. */
  function resync(id) {
    store.resetTimeline(id);
    return loadLatest(id);
  }

  // A message list scrolled to the bottom of a window that does not reach the newest message.
  store.on('load-newer', ({ conversationId }) => {
    loadNewer(conversationId).catch((err) => store.toast(err?.message ?? 'Could not load newer messages'));
  });

  store.on('jump-to', ({ conversationId, seq }) => {
    if (!conversationId || !(seq > 0)) return;
    // Make it visible first: a room becomes the active room, a DM or group opens its window.
    const conv = store.conversation(conversationId);
    if (conv?.kind === 'room') store.setActiveRoom(conversationId);
    else if (conv?.kind === 'dm') store.emit('open-dm', { conversationId });
    else if (conv?.kind === 'group') store.emit('open-group', { conversationId });
    ensureLoaded(conversationId)
      .then(() => jumpTo(conversationId, seq))
      .catch((err) => store.toast(err?.message ?? 'Could not load that message'));
  });

  return { loadLatest, ensureLoaded, loadOlder, loadNewer, loadAround, jumpTo, resync };
}
