// The embedded room: header (name, topic, invite, join, leave), #room-log, #typing-indicator and
// the #room-compose box, for whichever room the store says is active. What the header offers
// follows the conversation's `permissions` from the server: invite with `member.invite`, Join
// with `conversation.join` when not joined, inline topic editing with `conversation.update`.

import { errorMessage } from '../api.js';
import { bindCompose, createComposeError } from './compose.js';
import { createMessageList } from './messages.js';
import { byId, describeTyping, h } from './dom.js';
import { openFormDialog } from './form-dialog.js';
import { joinRoom } from './room-browser.js';

export function createRoomView({ store, api, socket, timeline, social, moderation }) {
  const title = byId('room-title');
  const topic = byId('room-topic');
  const editTopic = byId('edit-topic');
  const topicForm = byId('topic-form');
  const topicInput = byId('topic-input');
  const badges = byId('room-badges');
  const log = byId('room-log');
  const typingLine = byId('typing-indicator');
  const textarea = byId('room-compose');
  const leaveButton = byId('leave-room');
  const joinButton = byId('join-room');
  const inviteForm = byId('invite-form');
  const inviteInput = byId('invite-username');
  let current = null;
  let list = null;

  const report = (err) => store.toast(errorMessage(err));

  const composeForm = byId('room-compose-form');
  bindCompose(composeForm, textarea, {
    onSend: (text) => (current ? socket.send(current, text) : false),
    onTyping: () => current && socket.typing(current),
  });
  const composeError = createComposeError({ store, conversationId: () => current, form: composeForm });
  composeForm.before(composeError.el);
  // Why the compose box is disabled (a read-only room), above it.
  const composeNote = h('p', { id: 'room-compose-note', class: 'compose-note', hidden: true });
  composeForm.before(composeNote);

  function closeTopicEditor() {
    topicForm.hidden = true;
  }

  function renderHeader() {
    const conv = current ? store.conversation(current) : null;
    title.textContent = conv ? conv.name ?? '' : 'No room selected';
    topic.textContent = conv ? conv.topic ?? '' : 'Pick a room from the room browser to start chatting.';
    const tags = [
      conv?.official ? h('span', { class: 'tag' }, 'Official') : null,
      conv?.visibility === 'private' ? h('span', { class: 'tag' }, 'Private') : null,
      conv?.category ? h('span', { class: 'tag tag-muted', dir: 'auto' }, conv.category) : null,
      // Moderation state (issue 8): locked (no new joins), read-only, slowmode.
      conv?.locked ? h('span', { class: 'tag tag-mod tag-locked', title: 'Locked: nobody new can join' }, 'Locked') : null,
      conv?.read_only ? h('span', { class: 'tag tag-mod tag-read-only', title: 'Read-only: only moderators can post' }, 'Read-only') : null,
      conv?.slowmode_secs > 0 ? h('span', { class: 'tag tag-mod tag-slowmode', title: `Slowmode: one message every ${conv.slowmode_secs} s per person` }, `Slowmode ${conv.slowmode_secs} s`) : null,
    ];
    badges.replaceChildren(...tags.filter(Boolean));

    const can = (perm) => Boolean(current) && store.canIn(current, perm);
    const joined = conv?.membership === 'joined';
    const mayUpdate = can('conversation.update');
    editTopic.hidden = !mayUpdate || !topicForm.hidden;
    editTopic.textContent = conv?.topic ? 'Edit topic' : 'Set a topic';
    if (!mayUpdate) closeTopicEditor();
    inviteForm.hidden = !can('member.invite');
    joinButton.hidden = !(can('conversation.join') && !joined);
    leaveButton.disabled = !joined;
    const readOnly = Boolean(conv?.read_only) && joined && !moderation.canModerate(current);
    textarea.disabled = !can('message.send') || readOnly;
    composeNote.hidden = !readOnly;
    composeNote.textContent = readOnly ? 'This room is read-only: only moderators can post.' : '';
  }

  function show(id) {
    if (current) store.setVisible(current, false);
    list?.destroy();
    list = null;
    current = id;
    composeError.clear();
    typingLine.replaceChildren();
    closeTopicEditor();
    inviteInput.value = '';
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
      isBlocked: social.isBlocked,
      decorate: moderation.decorate(id),
    });
    store.setVisible(id, true);
    timeline
      .ensureLoaded(id)
      .then(() => {
        if (current === id) socket.markRead(id);
      })
      .catch(report);
  }

  // Leaving asks first ("Leave #name?"), then says "You left #name." — the name is taken when
  // the button is pressed: once the room is gone (our removal, or the member_left frame that
  // may arrive before the answer) the header shows "No room selected".
  leaveButton.addEventListener('click', async () => {
    const id = current;
    if (!id) return;
    const label = `#${store.conversation(id)?.name ?? 'room'}`;
    const left = await openFormDialog({
      title: `Leave ${label}?`,
      text: store.conversation(id)?.visibility === 'private' ? 'It is private: you need a new invitation to come back.' : 'You can join it again from the room browser.',
      submitLabel: 'Leave',
      danger: true,
      className: 'leave-room-dialog',
      onSubmit: () => api.post(`/rooms/${encodeURIComponent(id)}/leave`),
    });
    if (!left) return;
    store.removeConversation(id);
    store.toast(`You left ${label}.`, 'info');
  });

  joinButton.addEventListener('click', async () => {
    if (!current) return;
    joinButton.disabled = true;
    try {
      await joinRoom({ store, api }, current);
    } catch (err) {
      report(err);
    } finally {
      joinButton.disabled = false;
    }
  });

  inviteForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = inviteInput.value.trim();
    if (!current || !username) return;
    try {
      const invite = await api.post(`/rooms/${encodeURIComponent(current)}/invites`, { username });
      inviteInput.value = '';
      store.toast(`Invited ${invite?.user?.username ?? username}.`, 'info');
    } catch (err) {
      report(err);
    }
  });

  editTopic.addEventListener('click', () => {
    topicInput.value = store.conversation(current)?.topic ?? '';
    topicForm.hidden = false;
    editTopic.hidden = true;
    topicInput.focus();
    topicInput.select();
  });
  byId('topic-cancel').addEventListener('click', () => {
    closeTopicEditor();
    renderHeader();
  });
  topicForm.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      closeTopicEditor();
      renderHeader();
    }
  });
  topicForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const id = current;
    if (!id) return;
    const button = topicForm.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      // An empty string clears the topic; only the documented field is sent.
      const conv = await api.patch(`/rooms/${encodeURIComponent(id)}`, { topic: topicInput.value.trim() });
      store.upsertConversation(conv);
      if (current === id) closeTopicEditor();
    } catch (err) {
      report(err);
    } finally {
      button.disabled = false;
      renderHeader();
    }
  });

  store.on('active-room', ({ conversationId }) => show(conversationId));
  store.on('conversations', renderHeader);
  store.on('permissions', renderHeader);
  store.on('typing', ({ conversationId }) => {
    if (conversationId === current) typingLine.replaceChildren(...describeTyping(store.typingNames(current)));
  });

  show(store.activeRoomId());
}
