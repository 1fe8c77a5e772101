// Reactions under a message: one chip per emoji (emoji + count, pressed when I reacted, a
// tooltip with who reacted), a click toggles mine (PUT / DELETE
// /conversations/{id}/messages/{seq}/reactions/{emoji}), and "+" opens the emoji picker. The
// server answers with the whole Message, which replaces the held one; other members get it as
// `message_updated`.

import * as api from '../api.js';
import { h } from './dom.js';
import { openEmojiPicker } from './emoji-picker.js';

const enc = encodeURIComponent;
const reactionUrl = (convId, seq, emoji) => `/conversations/${enc(convId)}/messages/${seq}/reactions/${enc(emoji)}`;

/** Adds (on = true) or removes my reaction; the answer replaces the held message. */
export async function setReaction(store, convId, seq, emoji, on) {
  try {
    const m = on ? await api.put(reactionUrl(convId, seq, emoji)) : await api.del(reactionUrl(convId, seq, emoji));
    if (m) store.updateMessage(m);
  } catch (err) {
    store.toast(api.errorMessage(err));
  }
}

/** Toggles my reaction with `emoji` on message `m`. */
export function toggleReaction(store, convId, m, emoji) {
  const meId = store.me()?.id;
  const r = (m.reactions ?? []).find((x) => x.emoji === emoji);
  return setReaction(store, convId, m.seq, emoji, !(r && r.user_ids?.includes(meId)));
}

/** Opens the picker next to `opener` and reacts with the chosen emoji. */
export function pickReaction(store, convId, m, opener) {
  openEmojiPicker({
    opener,
    label: 'React with an emoji',
    onPick: (emoji) => {
      const mineAlready = (m.reactions ?? []).some((x) => x.emoji === emoji && x.user_ids?.includes(store.me()?.id));
      if (!mineAlready) setReaction(store, convId, m.seq, emoji, true);
    },
  });
}

/** Usernames for user ids, from what the store holds (members, the DM peer, me). */
function knownNames(store, convId) {
  const names = new Map();
  for (const m of store.membersOf(convId)) names.set(m.user_id, m.username);
  const conv = store.conversation(convId);
  if (conv?.peer) names.set(conv.peer.id, conv.peer.username);
  const me = store.me();
  if (me) names.set(me.id, me.username);
  return names;
}

const fetched = new Map(); // `${convId}:${seq}:${change_seq}` -> Map(emoji -> [username])

/** GET …/reactions once per message version: who reacted, by emoji. */
async function whoReacted(convId, m) {
  const key = `${convId}:${m.seq}:${m.change_seq ?? 0}`;
  if (!fetched.has(key)) {
    const page = await api.get(`/conversations/${enc(convId)}/messages/${m.seq}/reactions`);
    fetched.set(key, new Map((page?.reactions ?? []).map((r) => [r.emoji, (r.users ?? []).map((u) => u.username)])));
    if (fetched.size > 200) fetched.delete(fetched.keys().next().value);
  }
  return fetched.get(key);
}

function tooltip(emoji, usernames, count) {
  const shown = usernames.slice(0, 10).join(', ');
  const more = count - Math.min(usernames.length, 10);
  return `${shown}${more > 0 ? ` and ${more} more` : ''} reacted with ${emoji}`;
}

/** The chips row for message `m` (null when it has no reactions and cannot get any). */
export function reactionsRow(store, convId, m) {
  const list = m.reactions ?? [];
  if (m.deleted || !list.length) return null;
  const meId = store.me()?.id;
  const names = knownNames(store, convId);
  const chips = list.map((r) => {
    const mine = Boolean(r.user_ids?.includes(meId));
    const known = (r.user_ids ?? []).map((id) => names.get(id)).filter(Boolean);
    const complete = known.length === r.count;
    const chip = h(
      'button',
      {
        type: 'button',
        class: `reaction${mine ? ' mine' : ''}`,
        'aria-pressed': mine ? 'true' : 'false',
        title: tooltip(r.emoji, known.length ? known : ['Someone'], r.count),
        'aria-label': `${r.emoji} ${r.count}: ${mine ? 'remove your reaction' : 'react'}`,
        dataset: { emoji: r.emoji },
      },
      h('span', { class: 'reaction-emoji' }, r.emoji),
      h('span', { class: 'reaction-count' }, String(r.count)),
    );
    chip.addEventListener('click', () => toggleReaction(store, convId, store.timeline(convId).bySeq.get(m.seq) ?? m, r.emoji));
    if (!complete) {
      // Names not held here (a room's member list pages): ask the server once, on hover/focus.
      const resolve = async () => {
        try {
          const who = await whoReacted(convId, m);
          chip.title = tooltip(r.emoji, who.get(r.emoji) ?? [], r.count);
        } catch {
          // The tooltip keeps what it had.
        }
      };
      chip.addEventListener('pointerenter', resolve, { once: true });
      chip.addEventListener('focus', resolve, { once: true });
    }
    return chip;
  });
  const add = h('button', { type: 'button', class: 'reaction reaction-add', title: 'Add a reaction', 'aria-label': 'Add a reaction' }, '+');
  add.addEventListener('click', () => pickReaction(store, convId, store.timeline(convId).bySeq.get(m.seq) ?? m, add));
  return h('div', { class: 'reactions', role: 'group', 'aria-label': 'Reactions' }, ...chips, add);
}
