// What one can do with a message, in rooms, DM windows and group windows alike:
// - a toolbar shown on hover / keyboard focus: Reply ↩, React 🙂 (the emoji picker), Edit ✎
//   (own messages) and "⋯" (.message-menu-button), which opens the full menu;
// - the menu (also on right-click on the message body): Reply, React…, Edit, Pin / Unpin
//   (`message.pin` in the conversation's permissions), Copy text, then what other modules add
//   through the store's `message-menu` event (ui/moderation.js: Report message…, Delete
//   message — own, or `message.delete` / room moderators —, Mute author…, Open in admin panel);
// - inline editing: the body becomes a textarea; Enter saves (PATCH
//   /conversations/{id}/messages/{seq}), Shift+Enter is a new line, Escape cancels; a refusal
//   (`edit_window_closed`, `message_deleted`, …) is shown under it.

import * as api from '../api.js';
import { h } from './dom.js';
import { showMenu } from './menu.js';
import { setPinned } from './pins.js';
import { pickReaction } from './reactions.js';
import { startReply } from './reply.js';

const editing = new Map(); // `${convId}:${seq}` -> the editor element

/** Whether message `seq` is being edited here (its element must not be redrawn under it). */
export const isEditing = (convId, seq) => editing.has(`${convId}:${seq}`);

function beginEdit(store, convId, m, el) {
  const key = `${convId}:${m.seq}`;
  if (editing.has(key)) {
    editing.get(key).querySelector('textarea')?.focus();
    return;
  }
  const body = el.querySelector('.message-body');
  if (!body) return;
  const textarea = h('textarea', { class: 'edit-input', rows: Math.min(8, Math.max(2, m.body.split('\n').length)), 'aria-label': 'Edit message', dir: 'auto' });
  textarea.value = m.body;
  const error = h('p', { class: 'edit-error', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'small primary' }, 'Save');
  const cancel = h('button', { type: 'button', class: 'small' }, 'Cancel');
  const form = h('form', { class: 'edit-form' }, textarea, h('div', { class: 'edit-actions' }, h('span', { class: 'edit-hint' }, 'Enter to save · Esc to cancel'), cancel, save), error);
  const finish = () => {
    editing.delete(key);
    form.replaceWith(body);
    el.classList.remove('editing');
    store.emit('message-updated', { conversationId: convId, seq: m.seq }); // draw what is held now
  };
  cancel.addEventListener('click', finish);
  textarea.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      finish();
    } else if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = textarea.value.replace(/\s+$/u, '');
    if (!text.trim()) {
      error.textContent = 'A message cannot be empty (delete it instead).';
      return;
    }
    if (text === m.body) {
      finish();
      return;
    }
    save.disabled = true;
    error.textContent = '';
    try {
      const updated = await api.patch(`/conversations/${encodeURIComponent(convId)}/messages/${m.seq}`, { body: text });
      editing.delete(key);
      if (updated) store.updateMessage(updated);
      finish();
    } catch (err) {
      error.textContent = api.errorMessage(err);
      save.disabled = false;
    }
  });
  editing.set(key, form);
  el.classList.add('editing');
  body.replaceWith(form);
  textarea.focus();
  textarea.setSelectionRange(textarea.value.length, textarea.value.length);
}

async function copyText(store, m) {
  try {
    await navigator.clipboard.writeText(m.body);
    store.toast('Copied.', 'info');
  } catch {
    store.toast('Could not copy: the browser refused access to the clipboard.');
  }
}

/** Every menu item for message `m` here. */
export function messageMenuItems(store, convId, m, el, opener) {
  const meId = store.me()?.id;
  const own = m.sender_id === meId;
  const live = !m.deleted;
  const joined = store.conversation(convId)?.membership === 'joined';
  const items = [
    live && joined ? { label: 'Reply', action: 'reply', onSelect: () => startReply(store, convId, m) } : null,
    live && joined ? { label: 'React…', action: 'react', onSelect: () => pickReaction(store, convId, m, opener) } : null,
    live && own ? { label: 'Edit', action: 'edit', onSelect: () => beginEdit(store, convId, m, el) } : null,
    live && store.canIn(convId, 'message.pin')
      ? m.pinned
        ? { label: 'Unpin', action: 'unpin', onSelect: () => setPinned(store, convId, m, false) }
        : { label: 'Pin', action: 'pin', onSelect: () => setPinned(store, convId, m, true) }
      : null,
    live ? { label: 'Copy text', action: 'copy', onSelect: () => copyText(store, m) } : null,
  ].filter(Boolean);
  // Report, Delete, moderation: ui/moderation.js listens for this.
  store.emit('message-menu', { conversationId: convId, message: m, items });
  return items;
}

/** Adds the toolbar (and the right-click menu) to message element `el` of message `m`. */
export function addMessageActions(store, convId, m, el) {
  const current = () => store.timeline(convId).bySeq.get(m.seq) ?? m;
  const meId = store.me()?.id;
  const live = !m.deleted;
  const joined = store.conversation(convId)?.membership === 'joined';
  const more = h(
    'button',
    { type: 'button', class: 'message-menu-button', 'aria-haspopup': 'menu', 'aria-label': `Actions for the message by ${m.sender_username}`, title: 'More actions' },
    '⋯',
  );
  const open = (at = {}) => {
    const items = messageMenuItems(store, convId, current(), el, more);
    if (!items.length) {
      store.toast('No actions for this message.', 'info');
      return;
    }
    showMenu({ label: 'Message actions', items, opener: more, ...at, className: 'message-menu' });
  };
  more.addEventListener('click', () => open());
  el.querySelector('.message-body')?.addEventListener('contextmenu', (ev) => {
    if (ev.target.closest('a')) return; // the browser's own link menu
    ev.preventDefault();
    open({ x: ev.clientX, y: ev.clientY });
  });
  const tool = (label, cls, text, fn) => {
    const b = h('button', { type: 'button', class: `message-tool ${cls}`, title: label, 'aria-label': label }, text);
    b.addEventListener('click', () => fn(b));
    return b;
  };
  const tools = [];
  if (live && joined) {
    tools.push(tool('Reply', 'tool-reply', '↩', () => startReply(store, convId, current())));
    tools.push(tool('Add a reaction', 'tool-react', '🙂', (b) => pickReaction(store, convId, current(), b)));
  }
  if (live && m.sender_id === meId) tools.push(tool('Edit', 'tool-edit', '✎', () => beginEdit(store, convId, current(), el)));
  el.append(h('div', { class: 'message-toolbar', role: 'toolbar', 'aria-label': 'Message actions' }, ...tools, more));
}
