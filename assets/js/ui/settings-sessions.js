// Settings → Sessions (⚙ → "Sessions…"): my live sessions (GET /sessions: device, address,
// sign-in time, last activity, "This device" for the current one), each with "Log out"
// (DELETE /sessions/{id}; for the current one the page then goes to /login), plus "Log out
// other sessions" (POST /sessions/logout-others) and "Log out everywhere" (POST
// /sessions/logout-all, then /login). The list is fetched again after every action.

import { errorMessage } from '../api.js';
import { byId, h } from './dom.js';

const MESSAGES = {
  not_found: 'That session has already ended.',
};

const friendly = (err) => MESSAGES[err?.code] ?? errorMessage(err);

const UNITS = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];

/** "just now", "5 minutes ago", "yesterday", … */
export function relativeTime(iso, now = Date.now()) {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return '';
  const seconds = Math.round((then - now) / 1000);
  if (Math.abs(seconds) < 60) return 'just now';
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const [unit, size] = UNITS.find(([, s]) => Math.abs(seconds) >= s);
  return rtf.format(Math.round(seconds / size), unit);
}

function fullTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

export function createSessionSettings({ api, socket }) {
  const dialog = byId('sessions-dialog');
  const list = byId('session-list');
  const error = byId('sessions-error');
  const status = byId('sessions-status');
  const buttons = () => [...dialog.querySelectorAll('.session-logout, #logout-others, #logout-all')];

  function say({ err = '', ok = '' } = {}) {
    error.textContent = err;
    status.textContent = ok;
  }

  function row(s) {
    const label = `${s.device}${s.current ? ' (this device)' : ''}`;
    return h(
      'li',
      { class: `session${s.current ? ' current' : ''}`, dataset: { sessionId: s.id } },
      h(
        'div',
        { class: 'session-text' },
        h('div', { class: 'session-device' }, h('span', { dir: 'auto' }, s.device), s.current ? h('span', { class: 'tag this-device' }, 'This device') : null),
        h('div', { class: 'session-meta' }, s.ip ? h('span', { class: 'session-ip' }, s.ip) : null, h('span', { title: fullTime(s.created_at) }, `signed in ${fullTime(s.created_at)}`), h('span', { title: fullTime(s.last_active_at) }, `active ${relativeTime(s.last_active_at)}`)),
      ),
      h('button', { type: 'button', class: 'small session-logout', dataset: s.current ? { sessionId: s.id, current: 'true' } : { sessionId: s.id }, 'aria-label': `Log out ${label}` }, 'Log out'),
    );
  }

  async function load() {
    const { sessions } = await api.get('/sessions');
    list.replaceChildren(...(sessions.length ? sessions.map(row) : [h('li', { class: 'empty' }, 'No sessions.')]));
    list.dataset.loaded = 'true'; // a hook for tests: the list on screen is a fetched one
    byId('logout-others').disabled = !sessions.some((s) => !s.current);
  }

  /** Runs an action with the buttons disabled, then shows its result and fetches the list again. */
  async function act(work) {
    for (const b of buttons()) b.disabled = true;
    say();
    try {
      const ok = await work();
      if (ok === null) return; // leaving the page
      say({ ok });
    } catch (err) {
      say({ err: friendly(err) });
    }
    byId('logout-all').disabled = false;
    try {
      await load(); // new rows; decides whether "Log out other sessions" applies
    } catch (err) {
      for (const b of buttons()) b.disabled = false;
      say({ err: errorMessage(err) });
    }
  }

  /** Ends this page's own session: stop the socket first so its 1008 close does not race us. */
  async function leave(request) {
    socket.stop();
    try {
      await request();
    } catch (err) {
      socket.start();
      throw err;
    }
    location.assign('/login');
    return null;
  }

  byId('open-sessions').addEventListener('click', async () => {
    say();
    delete list.dataset.loaded;
    list.replaceChildren(h('li', { class: 'empty' }, 'Loading…'));
    dialog.showModal();
    try {
      await load();
    } catch (err) {
      say({ err: errorMessage(err) });
    }
  });
  byId('sessions-close').addEventListener('click', () => dialog.close());

  list.addEventListener('click', (ev) => {
    const button = ev.target.closest('button.session-logout');
    if (!button) return;
    const path = `/sessions/${encodeURIComponent(button.dataset.sessionId)}`;
    if (button.dataset.current) {
      act(() => leave(() => api.del(path)));
    } else {
      act(async () => {
        await api.del(path);
        return 'That session is signed out.';
      });
    }
  });

  byId('logout-others').addEventListener('click', () => {
    act(async () => {
      const { ended } = await api.post('/sessions/logout-others', {});
      return ended === 1 ? '1 other session signed out.' : `${ended} other sessions signed out.`;
    });
  });

  byId('logout-all').addEventListener('click', () => {
    act(() => leave(() => api.post('/sessions/logout-all', {})));
  });
}
