// Settings of this browser, kept in localStorage (`echochat.prefs`, a JSON object): they are
// about how the page looks, not about the account, so the server does not hold them.
//   statusInline  friends' custom status text under their name (true) or only as a tooltip
//   missedToast   a toast at login when direct messages arrived while I was away
// A change emits the store's `prefs` event (in this tab; other tabs pick it up on load).

const KEY = 'echochat.prefs';
const DEFAULTS = { statusInline: true, missedToast: true };

export function createPrefs({ store }) {
  let values = { ...DEFAULTS };
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? '{}');
    for (const key of Object.keys(DEFAULTS)) {
      if (typeof saved?.[key] === typeof DEFAULTS[key]) values[key] = saved[key];
    }
  } catch {
    values = { ...DEFAULTS };
  }

  function set(key, value) {
    if (!(key in DEFAULTS) || values[key] === value) return;
    values = { ...values, [key]: value };
    try {
      localStorage.setItem(KEY, JSON.stringify(values));
    } catch {
      // Storage disabled: the setting lasts until the page is closed.
    }
    store.emit('prefs', { key });
  }

  return { get: (key) => values[key], set };
}
