// Moderation in context (issue 8), for the room view and the group windows:
// - the message menu (ui/message-actions.js: the "⋯" button and right-click on a message, in
//   rooms, DMs and groups) gets, through the store's `message-menu` event, "Report message…"
//   (everyone, on others' messages: POST …/messages/{seq}/report), "Delete message" (one's own
//   messages, room owner / moderator or server `rooms.moderate`, or `message.delete` in the
//   conversation's permissions: DELETE /conversations/{id}/messages/{seq}), "Mute author…"
//   (`users.moderate`: PUT /admin/users/{id}/mute) and "Open user in admin panel" (`users.view`);
// - the user menu of a member (member list, message authors) in a room I moderate gains "Kick
//   from room…" and "Ban from room…" (POST /rooms/{id}/members/{user}/kick|ban).
// Nothing here calls an /admin route unless the server permission for it is held.

import { openFormDialog, reasonField } from './form-dialog.js';

const enc = encodeURIComponent;

/** Whether I may moderate this room: owner / moderator there, or server `rooms.moderate`. */
export function canModerateRoom(store, id) {
  const conv = id ? store.conversation(id) : null;
  if (!conv || conv.kind !== 'room') return false;
  return store.can('rooms.moderate') || (conv.membership === 'joined' && (conv.role === 'owner' || conv.role === 'moderator'));
}

export function createModeration({ store, api }) {
  const done = (text) => store.toast(text, 'info');

  function reportMessage(convId, m) {
    return openFormDialog({
      title: 'Report message',
      text: `Message by ${m.sender_username}: “${m.body.length > 140 ? `${m.body.slice(0, 140)}…` : m.body}”. Moderators will see your report.`,
      fields: [reasonField('Why are you reporting it?')],
      submitLabel: 'Report',
      className: 'report-dialog',
      onSubmit: async ({ reason }) => {
        await api.post(`/conversations/${enc(convId)}/messages/${m.seq}/report`, { reason });
        done('Thank you — the message was reported to the moderators.');
      },
    });
  }

  function deleteMessage(convId, m) {
    const own = m.sender_id === store.me()?.id;
    return openFormDialog({
      title: 'Delete message',
      text: own ? 'Delete your message for everyone?' : `Delete this message by ${m.sender_username} for everyone? The audit log keeps its text.`,
      fields: own ? [] : [reasonField('Reason', false)],
      submitLabel: 'Delete',
      danger: true,
      className: 'delete-message-dialog',
      onSubmit: async ({ reason }) => {
        const query = reason ? `?reason=${enc(reason)}` : '';
        await api.del(`/conversations/${enc(convId)}/messages/${m.seq}${query}`);
        store.markDeleted(convId, m.seq);
      },
    });
  }

  /** Server-wide mute of a user (`users.moderate`). */
  function muteUser(user) {
    return openFormDialog({
      title: `Mute ${user.username} everywhere`,
      fields: [{ name: 'duration_secs', label: 'For', type: 'duration', required: true }, reasonField()],
      submitLabel: 'Mute',
      danger: true,
      className: 'mute-dialog',
      onSubmit: async ({ duration_secs: secs, reason }) => {
        await api.put(`/admin/users/${enc(user.id)}/mute`, { duration_secs: secs, reason });
        done(`${user.username} is muted.`);
      },
    });
  }

  function removeFromRoom(kind, convId, user) {
    const name = store.conversation(convId)?.name ?? 'the room';
    return openFormDialog({
      title: kind === 'ban' ? `Ban ${user.username} from ${name}` : `Kick ${user.username} from ${name}`,
      text: kind === 'ban' ? 'They leave the room and cannot join it again until the ban is lifted.' : 'They leave the room; they may join again.',
      fields: [reasonField('Reason', false)],
      submitLabel: kind === 'ban' ? 'Ban' : 'Kick',
      danger: true,
      className: `${kind}-dialog`,
      onSubmit: async ({ reason }) => {
        await api.post(`/rooms/${enc(convId)}/members/${enc(user.id)}/${kind}`, reason ? { reason } : {});
        done(kind === 'ban' ? `${user.username} is banned from ${name}.` : `${user.username} was removed from ${name}.`);
      },
    });
  }

  const openInPanel = (user) => store.emit('admin-open-user', { userId: user.id });

  function messageItems(convId, m) {
    const meId = store.me()?.id;
    const own = m.sender_id === meId;
    const deleted = Boolean(m.deleted);
    const author = { id: m.sender_id, username: m.sender_username };
    const moderator = canModerateRoom(store, convId) || store.canIn(convId, 'message.delete');
    return [
      !own && !deleted ? { label: 'Report message…', action: 'report', onSelect: () => reportMessage(convId, m) } : null,
      (moderator || own) && !deleted ? { label: 'Delete message', action: 'delete-message', danger: true, onSelect: () => deleteMessage(convId, m) } : null,
      !own && store.can('users.moderate') ? { label: 'Mute author…', action: 'mute-author', onSelect: () => muteUser(author) } : null,
      store.can('users.view') ? { label: 'Open user in admin panel', action: 'open-admin-user', onSelect: () => openInPanel(author) } : null,
    ].filter(Boolean);
  }

  // The message menu (ui/message-actions.js) asks every module for its items.
  store.on('message-menu', ({ conversationId, message, items }) => items.push(...messageItems(conversationId, message)));

  /**
   * Formerly the rooms' "⋯" button; ui/message-actions.js now gives every message its toolbar
   * and menu (with the items above), so there is nothing to add: kept for the callers' API.
   */
  function decorate() {
    return null;
  }

  /** Extra user-menu items (ui/context-menu.js) for names shown in the open room. */
  function memberItems(user, opener) {
    if (user.id === store.me()?.id) return [];
    const inRoom = opener.closest?.('#member-list, #room-log');
    const convId = inRoom ? store.activeRoomId() : null;
    const items = [];
    if (convId && canModerateRoom(store, convId)) {
      items.push(
        { label: 'Kick from room…', action: 'room-kick', danger: true, onSelect: () => removeFromRoom('kick', convId, user) },
        { label: 'Ban from room…', action: 'room-ban', danger: true, onSelect: () => removeFromRoom('ban', convId, user) },
      );
    }
    if (store.can('users.moderate')) items.push({ label: 'Mute everywhere…', action: 'mute-author', onSelect: () => muteUser(user) });
    if (store.can('users.view')) items.push({ label: 'Open user in admin panel', action: 'open-admin-user', onSelect: () => openInPanel(user) });
    return items;
  }

  return { decorate, memberItems, canModerate: (id) => canModerateRoom(store, id) };
}
