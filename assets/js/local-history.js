// DM history saved in this browser (a per-device choice, off by default; docs/web-client.md).
//
// When on (localStorage `echochat.localHistory` = "on"), every direct message the page holds —
// live ones, my own, and the pages of history it loads — is put in IndexedDB: one database
// per account (`echochat-history-<user id>`), store `messages`, key [conversation_id, seq], so a
// message seen twice is stored once and an edit or deletion replaces it. Nothing leaves the
// browser. "Download" builds a file in memory (JSON or plain text) and hands it to the browser
// through a Blob URL; "Clear" deletes the database.

const SETTING_KEY = 'echochat.localHistory';
const DB_VERSION = 1;
const STORE = 'messages';

function readSetting() {
  try {
    return localStorage.getItem(SETTING_KEY) === 'on';
  } catch {
    return false;
  }
}

function writeSetting(on) {
  try {
    localStorage.setItem(SETTING_KEY, on ? 'on' : 'off');
  } catch {
    // Storage disabled: the choice lasts until the page is closed.
  }
}

/** Wraps an IDBRequest in a promise. */
const done = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

const stamp = (d = new Date()) => d.toISOString().slice(0, 10);

/** "2026-12-02 10:04" in local time, for the plain-text export. */
function localTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso ?? '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function createLocalHistory({ store }) {
  let enabled = readSetting();
  let dbPromise = null;
  let dbUser = null;

  const available = () => typeof indexedDB !== 'undefined';
  const dbName = (userId) => `echochat-history-${userId}`;

  function open() {
    const userId = store.me()?.id;
    if (!userId || !available()) return Promise.reject(new Error('IndexedDB is not available in this browser.'));
    if (dbPromise && dbUser === userId) return dbPromise;
    dbUser = userId;
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(dbName(userId), DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(STORE)) {
          const s = db.createObjectStore(STORE, { keyPath: ['conversation_id', 'seq'] });
          s.createIndex('by_conversation', 'conversation_id');
        }
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error('The history database is in use by another tab.'));
    });
    dbPromise.catch(() => {
      dbPromise = null;
    });
    return dbPromise;
  }

  function record(m, conv) {
    return {
      conversation_id: m.conversation_id,
      seq: m.seq,
      id: m.id,
      peer: conv?.peer?.username ?? conv?.name ?? '',
      sender_id: m.sender_id,
      sender_username: m.sender_username,
      body: m.deleted ? '' : m.body,
      created_at: m.created_at,
      ...(m.edited_at ? { edited_at: m.edited_at } : {}),
      ...(m.deleted ? { deleted: true } : {}),
    };
  }

  /** Stores `list` (messages of one conversation) when it is a DM and saving is on. */
  async function save(conversationId, list) {
    if (!enabled || !list?.length) return;
    const conv = store.conversation(conversationId);
    if (conv?.kind !== 'dm') return;
    const rows = list.filter((m) => m && typeof m.seq === 'number' && !m.shadowed).map((m) => record(m, conv));
    if (!rows.length) return;
    try {
      const db = await open();
      const tx = db.transaction(STORE, 'readwrite');
      for (const row of rows) tx.objectStore(STORE).put(row);
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } catch (err) {
      console.warn('local DM history: could not save', err);
    }
  }

  store.on('messages', ({ conversationId, added }) => save(conversationId, added));
  store.on('message-updated', ({ conversationId, seq }) => {
    const m = store.messagesOf(conversationId).find((x) => x?.seq === seq);
    if (m) save(conversationId, [m]);
  });

  /** Every stored message, by conversation then seq. */
  async function all() {
    const db = await open();
    return done(db.transaction(STORE).objectStore(STORE).getAll());
  }

  /** How many messages are stored (0 when nothing or no database). */
  async function count() {
    if (!available() || !store.me()) return 0;
    try {
      const db = await open();
      return await done(db.transaction(STORE).objectStore(STORE).count());
    } catch {
      return 0;
    }
  }

  function grouped(rows) {
    const byConv = new Map();
    for (const r of rows) {
      if (!byConv.has(r.conversation_id)) byConv.set(r.conversation_id, { conversation_id: r.conversation_id, peer: r.peer, messages: [] });
      const entry = byConv.get(r.conversation_id);
      if (r.peer) entry.peer = r.peer;
      const { conversation_id: _c, peer: _p, ...message } = r;
      entry.messages.push(message);
    }
    const list = [...byConv.values()];
    for (const c of list) c.messages.sort((a, b) => a.seq - b.seq);
    return list.sort((a, b) => (a.peer ?? '').localeCompare(b.peer ?? ''));
  }

  /** The export: { format: 'json'|'text' } → { blob, filename, count }. */
  async function exportHistory(format) {
    const rows = await all();
    const conversations = grouped(rows);
    const me = store.me();
    let blob;
    if (format === 'text') {
      const lines = [];
      for (const c of conversations) {
        lines.push(`== Direct messages with ${c.peer || c.conversation_id} ==`);
        for (const m of c.messages) {
          const text = m.deleted ? '(message deleted)' : m.body.replace(/\n/g, '\n    ');
          lines.push(`[${localTime(m.created_at)}] ${m.sender_username}: ${text}${m.edited_at ? ' (edited)' : ''}`);
        }
        lines.push('');
      }
      blob = new Blob([lines.join('\n')], { type: 'text/plain;charset=utf-8' });
    } else {
      const doc = { exported_at: new Date().toISOString(), account: me ? { id: me.id, username: me.username } : null, conversations };
      blob = new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' });
    }
    const filename = `echochat-dm-history-${me?.username ?? 'me'}-${stamp()}.${format === 'text' ? 'txt' : 'json'}`;
    return { blob, filename, count: rows.length };
  }

  /** Builds the file and starts the download; resolves to the number of messages in it. */
  async function download(format) {
    const { blob, filename, count: n } = await exportHistory(format);
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return n;
  }

  /** Deletes everything stored for this account on this device. */
  async function clear() {
    const userId = store.me()?.id;
    if (!userId || !available()) return;
    if (dbPromise) {
      try {
        (await dbPromise).close();
      } catch {
        // It never opened.
      }
    }
    dbPromise = null;
    await done(indexedDB.deleteDatabase(dbName(userId)));
  }

  /** Turns saving on or off for this device; turning it on saves what the page holds now. */
  function setEnabled(on) {
    enabled = Boolean(on);
    writeSetting(enabled);
    store.emit('local-history', { enabled });
    if (enabled) for (const id of store.heldConversationIds()) save(id, store.messagesOf(id));
  }

  return { isEnabled: () => enabled, setEnabled, count, exportHistory, download, clear, available };
}
