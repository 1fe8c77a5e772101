// Pins: the 📌 button in a room's header and in DM / group window title bars opens the
// pinned-messages panel (GET /conversations/{id}/pins, newest pin first); it follows
// `message_updated` frames (a message's `pinned` field) while open, and a click on an entry
// jumps to the message. Pin / Unpin (PUT / DELETE /conversations/{id}/pins/{seq}) is in the
// message actions for whoever has `message.pin` in the conversation's permissions.

import * as api from '../api.js';
import { h, timeLabel } from './dom.js';
import { excerptOf } from './reply.js';

const enc = encodeURIComponent;

/** Pins (on = true) or unpins message `m`; the answer replaces the held message. */
export async function setPinned(store, convId, m, on) {
  try {
    const url = `/conversations/${enc(convId)}/pins/${m.seq}`;
    const updated = on ? await api.put(url) : await api.del(url);
    if (updated) store.updateMessage(updated);
    store.toast(on ? 'Message pinned.' : 'Message unpinned.', 'info');
  } catch (err) {
    store.toast(api.errorMessage(err));
  }
}

let openPanel = null; // { el, convId, off, onOutside, button }

function closePanel({ refocus = false } = {}) {
  if (!openPanel) return;
  const { el, off, onOutside, button } = openPanel;
  openPanel = null;
  el.remove();
  off();
  document.removeEventListener('pointerdown', onOutside, true);
  if (refocus && button.isConnected) button.focus();
}

function entry(store, convId, m) {
  const time = timeLabel(m.created_at);
  const item = h(
    'button',
    { type: 'button', class: 'pin-entry', dataset: { seq: String(m.seq) } },
    h('span', { class: 'pin-author', dir: 'auto' }, m.sender_username),
    ' ',
    h('time', { class: 'pin-time', datetime: m.created_at, title: time.full }, time.short),
    h('span', { class: 'pin-text', dir: 'auto' }, excerptOf(m.body, 160)),
    m.pinned ? h('span', { class: 'pin-by', dir: 'auto' }, `pinned by ${m.pinned.by_username}`) : null,
  );
  item.addEventListener('click', () => {
    closePanel();
    store.emit('jump-to', { conversationId: convId, seq: m.seq });
  });
  return h('li', {}, item);
}

async function openPinsPanel(store, convId, button) {
  if (openPanel?.button === button) {
    closePanel({ refocus: true });
    return;
  }
  closePanel();
  const list = h('ul', { class: 'pins-list' }, h('li', { class: 'log-note' }, 'Loading…'));
  const close = h('button', { type: 'button', class: 'small', 'aria-label': 'Close pinned messages' }, '×');
  const el = h('div', { class: 'pins-panel', role: 'dialog', 'aria-label': 'Pinned messages' }, h('div', { class: 'pins-head' }, h('h3', {}, '📌 Pinned messages'), close), list);
  close.addEventListener('click', () => closePanel({ refocus: true }));
  el.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      closePanel({ refocus: true });
    }
  });
  let seqOfLoad = 0;
  const load = async () => {
    const mine = ++seqOfLoad;
    try {
      const page = await api.get(`/conversations/${enc(convId)}/pins`);
      if (mine !== seqOfLoad || openPanel?.el !== el) return;
      const pins = page?.messages ?? [];
      list.replaceChildren(...(pins.length ? pins.map((m) => entry(store, convId, m)) : [h('li', { class: 'log-note' }, 'No pinned messages.')]));
    } catch (err) {
      list.replaceChildren(h('li', { class: 'log-note' }, api.errorMessage(err)));
    }
  };
  // Live: a message of this conversation changed its pinned state (or was deleted).
  const pinnedNow = new Map();
  const off = store.on('message-updated', ({ conversationId, seq }) => {
    if (conversationId !== convId) return;
    const m = store.timeline(convId).bySeq.get(seq);
    const was = pinnedNow.get(seq);
    const is = Boolean(m?.pinned) && !m?.deleted;
    pinnedNow.set(seq, is);
    if (was !== is || list.querySelector(`[data-seq="${seq}"]`)) load();
  });
  document.body.append(el);
  const rect = button.getBoundingClientRect();
  el.style.top = `${Math.min(rect.bottom + 4, window.innerHeight - 120)}px`;
  el.style.left = `${Math.max(4, Math.min(rect.right - el.offsetWidth, window.innerWidth - el.offsetWidth - 4))}px`;
  const onOutside = (ev) => {
    if (!el.contains(ev.target) && !button.contains(ev.target)) closePanel();
  };
  document.addEventListener('pointerdown', onOutside, true);
  openPanel = { el, convId, off, onOutside, button };
  close.focus();
  await load();
}

/** The 📌 header button for a conversation. */
export function pinsButton(store, convId) {
  const button = h('button', { type: 'button', class: 'small pins-button', title: 'Pinned messages', 'aria-label': 'Pinned messages', 'aria-haspopup': 'dialog', dataset: { conversationId: convId } }, '📌');
  button.addEventListener('click', () => openPinsPanel(store, convId, button));
  return button;
}
