// The dock's missed-messages list: direct messages that arrived while I was away, per sender
// with a count (`ready.missed`, kept in social.js). A click opens the DM, which reads it and
// clears the entry. At login (the first `ready` of the page) a toast says how many, when the
// "Toast for missed messages" setting is on.

import { batched, byId, h } from './dom.js';

export function createMissedList({ store, social, prefs }) {
  const list = byId('dock-missed');
  const section = byId('dock-missed-section');
  let toasted = false;

  function row(m) {
    const count = m.count >= 999 ? '999+' : String(m.count);
    const open = h(
      'button',
      { type: 'button', class: 'missed-entry', dataset: { conversationId: m.conversation_id }, 'aria-label': `${count} missed from ${m.peer.username}` },
      h('span', { class: 'dm-name', dir: 'auto' }, m.peer.username),
      h('span', { class: 'badge' }, count),
    );
    open.addEventListener('click', () => store.emit('open-dm', { conversationId: m.conversation_id }));
    return h('li', { dataset: { conversationId: m.conversation_id } }, open);
  }

  const render = batched(() => {
    const missed = social.missed();
    list.replaceChildren(...missed.map(row));
    section.hidden = missed.length === 0;
  });

  store.on('missed', () => {
    render();
    if (toasted) return;
    toasted = true;
    const missed = social.missed();
    if (!missed.length || !prefs.get('missed_toast')) return;
    const total = missed.reduce((sum, m) => sum + m.count, 0);
    const from = missed.length === 1 ? missed[0].peer.username : `${missed.length} people`;
    store.toast(`${total} message${total === 1 ? '' : 's'} from ${from} while you were away.`, 'info');
  });
  render();
}
