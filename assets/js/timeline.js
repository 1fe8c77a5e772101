// Message history over REST: the latest page when a conversation opens, older pages on demand
// (before_seq), and a full reload when the server answers a resume with resync_required.

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

  /** The gap was too large to replay: drop what we hold and start again from the latest page. */
  function resync(id) {
    store.resetTimeline(id);
    return loadLatest(id);
  }

  return { loadLatest, ensureLoaded, loadOlder, resync };
}
