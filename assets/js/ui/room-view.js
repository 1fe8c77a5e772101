// The embedded room: header (name, topic, invite, leave), #room-log, #typing-indicator and the
// #room-compose box, for whichever room the store says is active.

import { errorMessage } from '../api.js';
import { bindCompose } from './compose.js';
import { createMessageList } from './messages.js';
import { byId, describeTyping, h } from './dom.js';

export function createRoomView({ store, api, socket, timeline }) {
  const title = byId('room-title');
  const topic = byId('room-topic');
  const badges = byId('room-badges');
  const log = byId('room-log');
  const typingLine = byId('typing-indicator');
  const textarea = byId('room-compose');
  const leaveButton = byId('leave-room');
  const inviteForm = byId('invite-form');
  const inviteInput = byId('invite-username');
  let current = null;
  let list = null;

  const report = (err) => store.toast(errorMessage(err));

  bindCompose(byId('room-compose-form'), textarea, {
    onSend: (text) => (current ? socket.send(current, text) : false),
    onTyping: () => current && socket.typing(current),
  });

  function renderHeader() {
    const conv = current ? store.conversation(current) : null;
    title.textContent = conv ? conv.name : 'No room selected';
    topic.textContent = conv ? conv.topic ?? '' : 'Pick a room from the room browser to start chatting.';
    const tags = [
      conv?.official ? h('span', { class: 'tag' }, 'Official') : null,
      conv?.visibility === 'private' ? h('span', { class: 'tag' }, 'Private') : null,
      conv?.category ? h('span', { class: 'tag tag-muted' }, conv.category) : null,
    ];
    badges.replaceChildren(...tags.filter(Boolean));
  }

  function show(id) {
    if (current) store.setVisible(current, false);
    list?.destroy();
    list = null;
    current = id;
    typingLine.textContent = '';
    textarea.disabled = !id;
    leaveButton.disabled = !id;
    for (const el of inviteForm.elements) el.disabled = !id;
    renderHeader();
    if (!id) {
      log.replaceChildren(h('p', { class: 'log-note' }, 'No room open.'));
      return;
    }
    list = createMessageList({
      store,
      conversationId: id,
      container: log,
      onNearTop: () => timeline.loadOlder(id).catch(report),
      onRetry: socket.retry,
      onDiscard: store.resolvePending,
    });
    store.setVisible(id, true);
    timeline
      .ensureLoaded(id)
      .then(() => {
        if (current === id) socket.markRead(id);
      })
      .catch(report);
  }

  leaveButton.addEventListener('click', async () => {
    const id = current;
    if (!id) return;
    try {
      await api.post(`/rooms/${encodeURIComponent(id)}/leave`);
      store.removeConversation(id);
      store.toast(`You left ${title.textContent}.`, 'info');
    } catch (err) {
      report(err);
    }
  });

  inviteForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = inviteInput.value.trim();
    if (!current || !username) return;
    try {
      await api.post(`/rooms/${encodeURIComponent(current)}/invites`, { username });
      inviteInput.value = '';
      store.toast(`Invited ${username}.`, 'info');
    } catch (err) {
      report(err);
    }
  });

  store.on('active-room', ({ conversationId }) => show(conversationId));
  store.on('conversations', renderHeader);
  store.on('typing', ({ conversationId }) => {
    if (conversationId === current) typingLine.textContent = describeTyping(store.typingNames(current));
  });

  show(store.activeRoomId());
}
