// My presence in the dock's profile area: the status selector (online / away / busy /
// invisible; invisible is left out when the server's `allow_invisible` is off) and the custom
// status text (≤ 128 characters, Enter or leaving the field saves, empty clears). Both go to
// PUT /presence; the answer and `my_presence` frames (a change made in another tab) update the
// controls. `ready.notices` may say that my stored invisible was reset ("invisible_disabled").

import { errorMessage } from '../api.js';
import { byId } from './dom.js';

const MAX_STATUS_CHARS = 128;

export function createPresenceControls({ store, api, socket }) {
  const select = byId('presence-select');
  const invisibleOption = select.querySelector('option[value="invisible"]');
  const form = byId('status-text-form');
  const input = byId('status-text');
  const error = byId('presence-error');
  let saving = false;

  function render() {
    const p = store.myPresence();
    if (!p) return;
    const allowInvisible = p.allow_invisible !== false;
    invisibleOption.hidden = !allowInvisible;
    invisibleOption.disabled = !allowInvisible;
    select.value = p.choice ?? 'online';
    if (document.activeElement !== input && !saving) input.value = p.status_text ?? '';
    select.dataset.status = p.status ?? '';
  }

  async function save(body) {
    error.textContent = '';
    saving = true;
    try {
      store.setMyPresence(await api.put('/presence', body));
    } catch (err) {
      error.textContent = err?.code === 'invisible_disabled' ? 'Invisible is turned off on this server.' : errorMessage(err);
      render();
    } finally {
      saving = false;
    }
    render();
  }

  select.addEventListener('change', () => save({ choice: select.value }));

  function saveText() {
    const text = input.value.trim();
    if ([...text].length > MAX_STATUS_CHARS) {
      error.textContent = `A custom status can be at most ${MAX_STATUS_CHARS} characters.`;
      return;
    }
    if (text === (store.myPresence()?.status_text ?? '')) return;
    save({ status_text: text });
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    saveText();
  });
  input.addEventListener('change', saveText);
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      input.value = store.myPresence()?.status_text ?? '';
      input.blur();
    }
  });

  async function load() {
    try {
      store.setMyPresence(await api.get('/presence'));
    } catch (err) {
      if (err?.status !== 404) store.toast(errorMessage(err));
    }
  }

  store.on('my-presence', render);
  store.on('ready', ({ frame }) => {
    if (!frame.my_presence) load();
    if ((frame.notices ?? []).includes('invisible_disabled')) {
      store.toast('Invisible is turned off on this server: you are shown as online.', 'info');
    }
  });
  socket.on('my_presence', render);
  render();
}
