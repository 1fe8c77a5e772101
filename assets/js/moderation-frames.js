// Realtime frames of administration and moderation (issue 8), turned into store updates:
//   announcement {text, by_username, at}          → store event `announcement` (ui/announcement.js)
//   history_cleared {conversation_id, cleared_seq} → the held timeline drops everything up to it
//   conversation_deleted {conversation_id}        → the room / group disappears (its view closes)
//   message_deleted {conversation_id, seq, change_seq} → the message shows a "message deleted" line
// Registered with socket.on(), so socket.js stays about the connection itself.

export function createModerationFrames({ store, socket }) {
  socket.on('announcement', (f) => {
    if (typeof f.text === 'string' && f.text) store.emit('announcement', { text: f.text, by_username: f.by_username, at: f.at });
  });
  socket.on('history_cleared', (f) => {
    if (!f.conversation_id || typeof f.cleared_seq !== 'number') return;
    store.clearHistory(f.conversation_id, f.cleared_seq);
    if (store.conversation(f.conversation_id)) {
      store.toast(`The history of ${store.conversation(f.conversation_id).name ?? 'a conversation'} was cleared by a moderator.`, 'info');
    }
  });
  socket.on('conversation_deleted', (f) => {
    const conv = store.conversation(f.conversation_id);
    store.emit('conversation-deleted', { conversationId: f.conversation_id }); // e.g. the directory
    if (!conv) return;
    store.removeConversation(f.conversation_id);
    store.resetTimeline(f.conversation_id);
    store.toast(`${conv.name ?? 'A conversation'} was deleted.`, 'info');
  });
  socket.on('message_deleted', (f) => {
    if (f.conversation_id && typeof f.seq === 'number') store.markDeleted(f.conversation_id, f.seq, f.change_seq);
  });
}
