// Quick toggles in the ⚙ menu, bound to account settings (prefs.js; the full set is in
// Settings…, ui/settings-modal.js): "Status text under names" (status_display inline/hover)
// and "Toast for missed messages" (missed_toast). menuitemcheckbox entries.

import { byId } from './dom.js';

const TOGGLES = {
  'pref-status-inline': {
    on: (prefs) => prefs.get('status_display') === 'inline',
    flip: (prefs) => prefs.set('status_display', prefs.get('status_display') === 'inline' ? 'hover' : 'inline'),
  },
  'pref-missed-toast': {
    on: (prefs) => prefs.get('missed_toast'),
    flip: (prefs) => prefs.set('missed_toast', !prefs.get('missed_toast')),
  },
};

export function createPrefsMenu({ store, prefs }) {
  function render() {
    for (const [id, t] of Object.entries(TOGGLES)) byId(id).setAttribute('aria-checked', String(Boolean(t.on(prefs))));
  }
  for (const [id, t] of Object.entries(TOGGLES)) byId(id).addEventListener('click', () => t.flip(prefs));
  store.on('prefs', render);
  render();
}
