// Direct-message windows: one floating window per DM conversation, each with its own log,
// typing line and compose box. Opens on the store's "open-dm" event (member list, dock) and
// pops up by itself when a new DM arrives.

import { createCompose, createComposeError } from './compose.js';
import { createMessageList } from './messages.js';
import { isMobileLayout } from './mobile.js';
import { describeTyping, h } from './dom.js';

export function createDmWindows({ store, socket, timeline, windows, notifyButton }) {
  const open = new Map(); // conversation id -> { win, list, typingLine }

  const report = (err) => store.toast(err?.message ?? 'Could not load messages');
  const peerName = (conv) => conv?.peer?.username ?? conv?.name ?? 'Direct message';
  const presenceDot = (conv) => {
    const status = conv?.peer ? store.presenceOf(conv.peer.id) : 'offline';
    return h('span', { class: `status-dot is-${status}`, role: 'img', 'aria-label': status });
  };

  function show(id) {
    store.setVisible(id, true);
    timeline
      .ensureLoaded(id)
      .then(() => socket.markRead(id))
      .catch(report);
  }

  function openWindow(id, { focus = true, minimized = false } = {}) {
    const existing = open.get(id);
    if (existing) {
      existing.win.restore();
      if (focus) existing.textarea.focus();
      return;
    }
    const conv = store.conversation(id);
    const name = peerName(conv);
    const log = h('div', { class: 'dm-log log', role: 'log', 'aria-live': 'polite', 'aria-label': `Messages with ${name}`, tabindex: '0' });
    const typingLine = h('div', { class: 'dm-typing typing', 'aria-live': 'polite' });
    const { form, textarea } = createCompose({
      id: `dm-compose-${id}`,
      label: `Message to ${name}`,
      onSend: (text) => socket.send(id, text),
      onTyping: () => socket.typing(id),
    });
    const win = windows.open({
      title: name,
      className: 'dm-window',
      dataset: { conversationId: id },
      restoreKey: `dm:${id}`, // reopened after a reload (windows.js, app.js)
      onMinimize: () => store.setVisible(id, false),
      onRestore: () => show(id),
      onClose: () => {
        store.setVisible(id, false);
        open.get(id)?.list.destroy();
        open.delete(id);
      },
    });
    win.setTitle(name, presenceDot(conv));
    // settings9: the 🔔 notifications menu (ui/notify-level.js) in the title bar.
    if (notifyButton) win.el.querySelector('.window-buttons')?.prepend(notifyButton(id));
    const composeError = createComposeError({ store, conversationId: () => id, form });
    win.body.append(log, typingLine, composeError.el, form);
    const list = createMessageList({
      store,
      conversationId: id,
      container: log,
      onNearTop: () => timeline.loadOlder(id).catch(report),
      onRetry: socket.retry,
      onDiscard: store.resolvePending,
    });
    open.set(id, { win, list, typingLine, textarea });
    // Restored minimized after a reload (windows.js): not shown, so not loaded or read yet.
    if (minimized) win.minimize();
    else show(id);
    if (focus && !minimized) textarea.focus();
  }

  function refreshTitles() {
    for (const [id, { win }] of open) {
      const conv = store.conversation(id);
      win.setTitle(peerName(conv), presenceDot(conv));
    }
  }

  store.on('open-dm', ({ conversationId, minimized }) => openWindow(conversationId, { minimized: Boolean(minimized) }));
  store.on('incoming', ({ message }) => {
    const conv = store.conversation(message.conversation_id);
    if (conv?.kind === 'dm' && !open.has(conv.id)) openWindow(conv.id, { focus: false, minimized: isMobileLayout() }); // a sheet would cover the screen on mobile
  });
  store.on('typing', ({ conversationId }) => {
    const entry = open.get(conversationId);
    if (entry) entry.typingLine.replaceChildren(...describeTyping(store.typingNames(conversationId)));
  });
  store.on('presence', refreshTitles);
  store.on('conversations', refreshTitles);
}
