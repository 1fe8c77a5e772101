// Account settings, kept on the server so they follow the person to every device
// (GET/PUT /users/me/settings, `ready.settings`, `settings_updated` frames; docs/web-client.md):
//   theme               'system' | 'light' | 'dark'  (html[data-theme])
//   accent              '#rrggbb'                    (--accent, --accent-2, --accent-text)
//   text_size           'small' | 'medium' | 'large' (html[data-text-size])
//   status_display      'inline' | 'hover'           friends' custom status under their name or as a tooltip
//   missed_toast        a toast at login for direct messages missed while away
//   popup_notifications browser notifications (notifications.js)
//   sounds              a short sound for new messages not on screen (notifications.js)
//   send_read_receipts  others see how far I have read (the server applies it)
//
// The last settings seen are cached in localStorage (`echochat.settings`) only to draw the page
// in the right theme before the connection is up; the server's copy wins. A change is shown at
// once, sent as a partial PUT, and undone (with a toast) when the server refuses it. Settings of
// older versions of this client (`echochat.prefs`: statusInline, missedToast) are sent to the
// server once and forgotten. Every change, from here or elsewhere, emits the store's `prefs`
// event ({key, keys}).

export const DEFAULT_SETTINGS = Object.freeze({
  theme: 'system',
  accent: '#5b2a9e',
  text_size: 'medium',
  status_display: 'inline',
  missed_toast: true,
  popup_notifications: false,
  sounds: true,
  send_read_receipts: true,
});

const CACHE_KEY = 'echochat.settings';
const OLD_KEY = 'echochat.prefs';
const ACCENT = /^#[0-9a-f]{6}$/;

function readJson(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? 'null');
    return value && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

function writeJson(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage disabled: the server's copy is all there is.
  }
}

/** Only known keys with values of the right type (what the server sends, or a cached copy). */
function clean(raw) {
  const out = { ...DEFAULT_SETTINGS };
  for (const [key, fallback] of Object.entries(DEFAULT_SETTINGS)) {
    const value = raw?.[key];
    if (typeof value === typeof fallback) out[key] = value;
  }
  if (!ACCENT.test(out.accent)) out.accent = DEFAULT_SETTINGS.accent;
  return out;
}

/** `#rrggbb` mixed with white (amount > 0) or black (< 0), for the accent's second shade. */
function shade(hex, amount) {
  const n = Number.parseInt(hex.slice(1), 16);
  const target = amount > 0 ? 255 : 0;
  const a = Math.abs(amount);
  const channel = (shift) => Math.round(((n >> shift) & 255) * (1 - a) + target * a);
  return `#${[16, 8, 0].map((s) => channel(s).toString(16).padStart(2, '0')).join('')}`;
}

/** Relative luminance (WCAG) of `#rrggbb`, 0..1. */
function luminance(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  const lin = (c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
}

/** Draws the page with `s`: theme, accent colour and message text size on <html>. */
export function applySettings(s, root = document.documentElement) {
  root.dataset.theme = s.theme;
  root.dataset.textSize = s.text_size;
  if (s.accent === DEFAULT_SETTINGS.accent) {
    // The stylesheet's own accent (each theme has its shade of the default purple).
    for (const prop of ['--accent', '--accent-2', '--accent-text']) root.style.removeProperty(prop);
  } else {
    root.style.setProperty('--accent', s.accent);
    root.style.setProperty('--accent-2', shade(s.accent, 0.18));
    root.style.setProperty('--accent-text', luminance(s.accent) > 0.45 ? '#000000' : '#ffffff');
  }
}

export function createPrefs({ store, api, socket }) {
  let confirmed = clean(readJson(CACHE_KEY)); // what the server last said (or the cache)
  let values = { ...confirmed }; // what is shown: confirmed plus changes under way
  let pending = {}; // key -> value sent and not yet answered
  let migrated = false;
  applySettings(values);

  function show(next) {
    const keys = Object.keys(DEFAULT_SETTINGS).filter((k) => next[k] !== values[k]);
    if (!keys.length) return;
    values = next;
    applySettings(values);
    store.emit('prefs', { key: keys[0], keys });
  }

  /** Settings from the server (`ready`, `settings_updated`, a PUT's answer). */
  function fromServer(raw) {
    confirmed = clean(raw);
    writeJson(CACHE_KEY, confirmed);
    show({ ...confirmed, ...pending });
  }

  /** The old per-browser settings, sent to the server once (only what differed from defaults). */
  function migrateOld() {
    if (migrated) return;
    migrated = true;
    const old = readJson(OLD_KEY);
    if (!old) return;
    const patch = {};
    if (old.statusInline === false) patch.status_display = 'hover';
    if (old.missedToast === false) patch.missed_toast = false;
    writeJson(OLD_KEY, null);
    if (Object.keys(patch).length) update(patch);
  }

  /** Changes some settings: shown at once, then saved; undone with a toast when refused. */
  async function update(patch) {
    const change = {};
    for (const [key, value] of Object.entries(patch)) {
      if (key in DEFAULT_SETTINGS && typeof value === typeof DEFAULT_SETTINGS[key]) change[key] = value;
    }
    if (!Object.keys(change).length) return values;
    Object.assign(pending, change);
    show({ ...values, ...change });
    try {
      const saved = await api.put('/users/me/settings', change);
      for (const key of Object.keys(change)) if (pending[key] === change[key]) delete pending[key];
      fromServer(saved);
    } catch (err) {
      for (const key of Object.keys(change)) if (pending[key] === change[key]) delete pending[key];
      show({ ...confirmed, ...pending });
      store.toast(`Could not save the setting: ${api.errorMessage(err)}`);
      throw err;
    }
    return values;
  }

  store.on('ready', ({ frame }) => {
    if (frame?.settings) fromServer(frame.settings);
    migrateOld();
  });
  socket.on('settings_updated', (f) => fromServer(f.settings));

  return {
    /** The value of one setting now. */
    get: (key) => values[key],
    /** Every setting now (a copy). */
    all: () => ({ ...values }),
    /** Changes one setting (see update); the promise settles when the server answered. */
    set: (key, value) => update({ [key]: value }).catch(() => {}),
    update,
  };
}
