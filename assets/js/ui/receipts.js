// Read receipts under messages (DMs and groups; rooms have none): in a DM "Seen" under my
// latest message the peer has read; in a group "read by a, b, +3" under the message up to which
// they read. Positions come from GET /conversations/{id}/receipts when a conversation opens
// (and after a reconnect) and from `read_receipt` frames (store.setReceipt).

import * as api from '../api.js';
import { h } from './dom.js';

const SHOW_NAMES = 3;

/** Fetches the members' read positions (DMs and groups only). */
export async function loadReceipts(store, convId) {
  const kind = store.conversation(convId)?.kind;
  if (kind !== 'dm' && kind !== 'group') return;
  try {
    const page = await api.get(`/conversations/${encodeURIComponent(convId)}/receipts`);
    store.setReceipts(convId, page?.receipts ?? []);
  } catch {
    // Receipts are a nicety: the conversation works without them.
  }
}

/** The largest held seq ≤ `seq` (optionally only among `seqs` that pass `ok`), or 0. */
function heldAtOrBelow(order, seq, ok = () => true) {
  let lo = 0;
  let hi = order.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (order[mid] <= seq) {
      at = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  for (let i = at; i >= 0; i -= 1) if (ok(order[i])) return order[i];
  return 0;
}

/**
 * What to show under which message: Map(seq -> element). DM: "Seen" under my latest message
 * the peer has read. Group: "read by …" under the last held message each member has read (not
 * under their own messages' names for themselves; me excluded by the server).
 */
export function receiptMarks(store, convId) {
  const conv = store.conversation(convId);
  const marks = new Map();
  if (!conv || (conv.kind !== 'dm' && conv.kind !== 'group')) return marks;
  const t = store.timeline(convId);
  const meId = store.me()?.id;
  const receipts = store.receiptsOf(convId);
  if (conv.kind === 'dm') {
    const peer = receipts[0];
    if (!peer) return marks;
    const seq = heldAtOrBelow(t.order, peer.seq, (s) => t.bySeq.get(s)?.sender_id === meId);
    if (seq) marks.set(seq, h('div', { class: 'receipt receipt-seen', title: `Seen by ${peer.username || 'them'}` }, 'Seen'));
    return marks;
  }
  const bySeq = new Map();
  for (const r of receipts) {
    const seq = heldAtOrBelow(t.order, r.seq);
    if (!seq) continue;
    if (!bySeq.has(seq)) bySeq.set(seq, []);
    bySeq.get(seq).push(r.username || 'someone');
  }
  for (const [seq, names] of bySeq) {
    names.sort((a, b) => a.localeCompare(b));
    const shown = names.slice(0, SHOW_NAMES).join(', ');
    const more = names.length > SHOW_NAMES ? `, +${names.length - SHOW_NAMES}` : '';
    marks.set(seq, h('div', { class: 'receipt receipt-group', title: `Read by ${names.join(', ')}` }, `read by ${shown}${more}`));
  }
  return marks;
}
