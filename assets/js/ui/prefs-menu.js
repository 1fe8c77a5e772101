// The dock settings in the ⚙ menu: menuitemcheckbox entries bound to prefs.js
// ("Status text under names" → statusInline, "Toast for missed messages" → missedToast).

import { byId } from './dom.js';

const TOGGLES = { 'pref-status-inline': 'statusInline', 'pref-missed-toast': 'missedToast' };

export function createPrefsMenu({ store, prefs }) {
  function render() {
    for (const [id, key] of Object.entries(TOGGLES)) byId(id).setAttribute('aria-checked', String(Boolean(prefs.get(key))));
  }
  for (const [id, key] of Object.entries(TOGGLES)) {
    byId(id).addEventListener('click', () => prefs.set(key, !prefs.get(key)));
  }
  store.on('prefs', render);
  render();
}
