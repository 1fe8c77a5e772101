// Telling the person about new messages they cannot see (docs/web-client.md#notifications):
//
// - For each `incoming` message (store event: a new message from someone else) whose
//   conversation is not on screen (the tab is hidden, or no window/room view shows it):
//   a short sound (`sounds` setting, at most one per SOUND_GAP_MS) and, with the
//   `popup_notifications` setting on and the browser's permission granted, a browser
//   Notification (title: the sender, and the conversation for groups and rooms; body: a plain
//   text excerpt). Clicking it focuses the tab and opens the conversation.
// - Per conversation, `notify` (my level there: `all`, `mentions`, `none` = muted) filters
//   this: `none` lets only messages that mention me through, `mentions` only those. A
//   conversation without a level (an older server) counts as `all`, rooms as `mentions`.
// - The tab title shows the unread total, "(3) EchoChat": the sum of `unread_count` over my
//   joined conversations that are not muted, kept current on every conversation change.
//
// This module must see `incoming` before the DM windows do (they open themselves on it, which
// puts the conversation on screen): app.js creates it first.

const SOUND_URL = '/static/sounds/notify.wav';
const SOUND_GAP_MS = 1500;
const EXCERPT_CHARS = 140;
const TITLE_PREFIX = /^\(\d+\+?\)\s+/;

/** Message text without the markdown markers, on one line, at most `max` characters. */
export function plainExcerpt(body, max = EXCERPT_CHARS) {
  const text = String(body ?? '')
    .replace(/```[a-z]*\n?/gi, '')
    .replace(/\[([^\]]*)\]\(([^)]*)\)/g, '$1 ($2)')
    .replace(/(\*\*|__|~~|`)/g, '')
    .replace(/(^|\s)[*_](\S[^*_]*)[*_](?=\s|$)/g, '$1$2')
    .replace(/^>\s?/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/** My notification level in `conv`: its `notify`, or the default for its kind. */
export function notifyLevel(conv) {
  if (conv?.notify === 'all' || conv?.notify === 'mentions' || conv?.notify === 'none') return conv.notify;
  return conv?.kind === 'room' ? 'mentions' : 'all';
}

/** The browser's notification permission: 'granted', 'denied', 'default' or 'unsupported'. */
export function notificationPermission() {
  return typeof window.Notification === 'function' ? window.Notification.permission : 'unsupported';
}

export function createNotifications({ store, prefs }) {
  let audio = null;
  let lastSoundAt = -Infinity;
  const shown = new Map(); // conversation id -> the Notification shown for it

  const me = () => store.me()?.id;
  const mentionsMe = (m) => Array.isArray(m.mentions) && m.mentions.includes(me());
  const onScreen = (id) => document.visibilityState === 'visible' && store.isVisible(id);

  function wanted(m, conv) {
    if (mentionsMe(m)) return true;
    return notifyLevel(conv) === 'all';
  }

  /** Plays the notification sound (also the settings' "Test sound"); false when it cannot. */
  function playSound({ force = false } = {}) {
    const now = performance.now();
    if (!force && now - lastSoundAt < SOUND_GAP_MS) return false;
    lastSoundAt = now;
    try {
      audio ??= new Audio(SOUND_URL);
      audio.currentTime = 0;
      // Before the first click on the page the browser refuses to play: nothing to do then.
      audio.play()?.catch(() => {});
      return true;
    } catch {
      return false;
    }
  }

  function conversationTitle(conv, m) {
    const sender = m.sender_username ?? 'Someone';
    if (conv.kind === 'dm') return sender;
    const where = conv.name ?? (conv.kind === 'group' ? 'a group' : 'a room');
    return `${sender} in ${conv.kind === 'room' ? '#' : ''}${where}`;
  }

  function open(conv) {
    if (conv.kind === 'dm') store.emit('open-dm', { conversationId: conv.id });
    else if (conv.kind === 'group') store.emit('open-group', { conversationId: conv.id });
    else store.setActiveRoom(conv.id);
  }

  function popup(m, conv) {
    if (!prefs.get('popup_notifications') || notificationPermission() !== 'granted') return;
    let note;
    try {
      note = new window.Notification(conversationTitle(conv, m), {
        body: plainExcerpt(m.deleted ? '' : m.body),
        tag: `echochat-${conv.id}`,
        lang: document.documentElement.lang || undefined,
        silent: true, // our own sound, when wanted, plays instead
      });
    } catch {
      return; // e.g. a browser that only allows notifications from a service worker
    }
    shown.get(conv.id)?.close?.();
    shown.set(conv.id, note);
    note.onclick = () => {
      window.focus();
      open(conv);
      note.close?.();
    };
    note.onclose = () => {
      if (shown.get(conv.id) === note) shown.delete(conv.id);
    };
  }

  store.on('incoming', ({ message }) => {
    const conv = store.conversation(message.conversation_id);
    if (!conv || message.sender_id === me() || onScreen(conv.id)) return;
    if (!wanted(message, conv)) return;
    if (prefs.get('sounds')) playSound();
    popup(message, conv);
  });

  // Reading a conversation (anywhere) makes its notification stale.
  store.on('conversations', () => {
    for (const [id, note] of shown) {
      if (!store.conversation(id)?.unread_count) {
        note.close?.();
        shown.delete(id);
      }
    }
  });

  // --- the unread total in the tab title ---------------------------------------------------
  function unreadTotal() {
    let total = 0;
    for (const c of store.conversations()) {
      if (c.membership !== 'joined' || notifyLevel(c) === 'none') continue;
      total += Math.max(0, Number(c.unread_count) || 0);
    }
    return total;
  }

  function renderTitle() {
    const base = document.title.replace(TITLE_PREFIX, '') || 'EchoChat';
    const total = unreadTotal();
    const next = total ? `(${total > 999 ? '999+' : total}) ${base}` : base;
    if (document.title !== next) document.title = next;
  }

  for (const type of ['conversations', 'conversation-updated', 'ready', 'me']) store.on(type, renderTitle);
  // Another module setting the title (the server's name) loses the count: put it back.
  const titleEl = document.querySelector('title');
  if (titleEl) new MutationObserver(renderTitle).observe(titleEl, { childList: true, characterData: true, subtree: true });
  renderTitle();

  return { playSound, unreadTotal, renderTitle };
}
