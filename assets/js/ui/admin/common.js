// Small helpers shared by the admin panel's tabs: times, key/value lists, buttons, a status line
// that shows the server's error message inline, and the encoded path pieces.

import { errorMessage } from '../../api.js';
import { h } from '../dom.js';

export const enc = encodeURIComponent;

/** Server permissions that open the admin panel (domain::Permission::opens_admin_panel). */
export const PANEL_PERMISSIONS = [
  'audit.read', 'roles.manage', 'rooms.moderate', 'rooms.manage', 'server.view', 'users.view',
  'users.manage', 'users.moderate', 'settings.manage', 'broadcast.send', 'reports.review',
];

/** Local date and time of an ISO timestamp ('' for none), full ISO in the tooltip. */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export const timeEl = (iso) => (iso ? h('time', { datetime: iso, title: iso }, when(iso)) : h('span', { class: 'muted' }, '—'));

/** "3 d 4 h", "12 min", "45 s". */
export function duration(secs) {
  const s = Math.max(0, Math.floor(Number(secs) || 0));
  const d = Math.floor(s / 86400);
  const hrs = Math.floor((s % 86400) / 3600);
  const min = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${hrs} h`;
  if (hrs) return `${hrs} h ${min} min`;
  if (min) return `${min} min`;
  return `${s} s`;
}

/** A definition list of [label, value] rows (values are text or nodes); null rows are skipped. */
export function facts(rows, className = 'admin-facts') {
  return h('dl', { class: className }, rows.filter(Boolean).flatMap(([k, v]) => [h('dt', {}, k), h('dd', { dir: 'auto' }, v ?? h('span', { class: 'muted' }, '—'))]));
}

export const button = (label, onclick, { cls = 'small', action, disabled, title } = {}) =>
  h('button', { type: 'button', class: cls, onclick, disabled, title, dataset: action ? { action } : {} }, label);

/** A titled block inside a tab. */
export const block = (title, ...children) => h('section', { class: 'admin-block' }, h('h4', { class: 'admin-block-title' }, title), ...children);

/**
 * The status line of a tab or a form: `run(fn)` shows "Working…", then clears it, or shows the
 * thrown error's message (the server's `{message}`, code in data-code) in red.
 */
export function statusLine(cls = 'admin-status') {
  const el = h('p', { class: cls, role: 'status' });
  const set = (text, kind = '') => {
    el.textContent = text;
    el.className = `${cls}${kind ? ` ${kind}` : ''}`;
    if (kind !== 'error') delete el.dataset.code;
  };
  const error = (err) => {
    // A plain Error is the client's own explanation; anything else goes through errorMessage.
    set(err?.constructor === Error ? err.message : errorMessage(err), 'error');
    el.dataset.code = err?.code ?? '';
  };
  async function run(fn, okText = '') {
    set('Working…');
    try {
      const out = await fn();
      set(okText, okText ? 'ok' : '');
      return out;
    } catch (err) {
      error(err);
      return undefined;
    }
  }
  return { el, set, clear: () => set(''), error, run };
}

/** "Load more" paging: a button shown while there is a next_cursor. */
export function moreButton(label, onclick) {
  const b = h('button', { type: 'button', class: 'small admin-more', hidden: true }, label);
  b.addEventListener('click', onclick);
  return b;
}
