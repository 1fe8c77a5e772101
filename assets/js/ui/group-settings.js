// Group settings in a group window: for those the server allows (`conversation.update`: the
// owner and moderators), an "Edit" button opens a small form to rename the group and change its
// topic (PATCH /api/v1/groups/{id}; an empty topic clears it). Members see the change live
// (`conversation_updated`); the server's refusals (422 invalid_room_name / invalid_topic) are
// shown under the form.

import { errorMessage } from '../api.js';
import { h } from './dom.js';

export function createGroupSettings({ store, api, conversationId }) {
  const button = h('button', { type: 'button', class: 'small group-edit', 'aria-expanded': 'false' }, 'Edit');
  const name = h('input', { type: 'text', class: 'group-edit-name', maxlength: '64', required: true, autocomplete: 'off', 'aria-label': 'Group name' });
  const topic = h('input', { type: 'text', class: 'group-edit-topic', maxlength: '512', autocomplete: 'off', placeholder: 'Topic (optional)', 'aria-label': 'Group topic' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const cancel = h('button', { type: 'button', class: 'small' }, 'Cancel');
  const form = h('form', { class: 'group-edit-form', hidden: true }, name, topic, h('button', { type: 'submit', class: 'small' }, 'Save'), cancel, error);

  const close = () => {
    form.hidden = true;
    error.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    button.focus();
  };
  button.addEventListener('click', () => {
    const conv = store.conversation(conversationId);
    name.value = conv?.name ?? '';
    topic.value = conv?.topic ?? '';
    form.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    name.focus();
  });
  cancel.addEventListener('click', close);
  form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') close();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const conv = await api.patch(`/groups/${encodeURIComponent(conversationId)}`, { name: name.value.trim(), topic: topic.value.trim() });
      store.upsertConversation(conv);
      close();
    } catch (err) {
      error.textContent = errorMessage(err);
      error.hidden = false;
    }
  });

  /** Shows the button only to those the server would allow. */
  function render() {
    const allowed = store.canIn(conversationId, 'conversation.update');
    button.hidden = !allowed;
    if (!allowed) form.hidden = true;
  }

  return { button, form, render };
}
