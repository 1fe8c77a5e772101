// The Admin panel: a floating window opened by the dock's Admin button, which is shown only while
// the server grants `audit.read` or `roles.manage` (kept current by `ready` and `user_updated`).
// With `audit.read` it lists the audit log, newest first, filtered by action, "Older" following
// next_cursor. Changing a user's server role (`roles.manage`) happens in the member list.

import { errorMessage, withQuery } from '../api.js';
import { byId, h } from './dom.js';

// AuditAction in openapi/openapi.json.
const ACTIONS = ['setup.completed', 'user.role_changed', 'user.deleted', 'room.created', 'room.updated', 'room.invite', 'session.logout', 'session.revoked', 'session.idle', 'user.password_changed', 'user.password_reset_requested', 'user.password_reset', 'user.recovery_pin_failed', 'user.recovery_pin_changed', 'user.profile_updated', 'user.email_verified', 'user.blocked', 'user.unblocked', 'group.created', 'group.updated', 'member.invited', 'invitation.accepted', 'invitation.declined', 'member.role_changed', 'conversation.ownership_transferred', 'member.muted', 'member.unmuted', 'member.kicked', 'member.left', 'user.created', 'user.reset_link_created'];
const PAGE = 50;

const isAdmin = (store) => store.can('audit.read') || store.can('roles.manage');

function detailsText(details) {
  if (details === null || details === undefined) return '';
  if (typeof details !== 'object') return String(details);
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${value === null || value === '' ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}

function entryEl(e) {
  const when = new Date(e.created_at);
  const target = e.target_id ? `${e.target_type ?? 'target'} ${e.target_id}` : '';
  return h(
    'li',
    { class: 'audit-entry', dataset: { action: e.action, id: e.id } },
    h('div', { class: 'audit-head' },
      h('span', { class: 'audit-action' }, e.action),
      h('time', { class: 'audit-time', datetime: e.created_at, title: e.created_at }, Number.isNaN(when.getTime()) ? e.created_at : when.toLocaleString()),
    ),
    h('div', { class: 'audit-line' },
      'by ', h('bdi', { class: 'audit-actor' }, e.actor_username ?? (e.actor_id ? e.actor_id : 'the server')),
      e.ip ? h('span', { class: 'muted' }, ` from ${e.ip}`) : null,
    ),
    target ? h('div', { class: 'audit-target muted' }, target) : null,
    h('div', { class: 'audit-details', dir: 'auto' }, detailsText(e.details)),
  );
}

export function createAdminPanel({ store, api, windows }) {
  const button = byId('admin-button');
  let panel = null; // { win, list, older, filter, status, cursor, seq }

  async function loadAudit({ older = false } = {}) {
    if (!panel) return;
    const p = panel;
    if (!store.can('audit.read')) {
      p.list.replaceChildren();
      p.older.hidden = true;
      p.status.textContent = 'You may not read the audit log.';
      return;
    }
    const mine = ++p.seq;
    p.older.disabled = true;
    p.status.textContent = 'Loading…';
    try {
      const page = await api.get(withQuery('/admin/audit', { action: p.filter.value, cursor: older ? p.cursor : undefined, limit: PAGE }));
      if (mine !== p.seq || panel !== p) return;
      const entries = (page.entries ?? []).map(entryEl);
      if (older) p.list.append(...entries);
      else p.list.replaceChildren(...entries);
      p.cursor = page.next_cursor;
      p.older.hidden = !p.cursor;
      p.status.textContent = p.list.children.length ? '' : 'No entries.';
    } catch (err) {
      if (mine === p.seq) p.status.textContent = errorMessage(err);
    } finally {
      p.older.disabled = false;
    }
  }

  function open() {
    if (panel) {
      panel.win.restore();
      return;
    }
    const filter = h(
      'select',
      { id: 'audit-action', class: 'audit-filter' },
      h('option', { value: '' }, 'All actions'),
      ACTIONS.map((a) => h('option', { value: a }, a)),
    );
    const refresh = h('button', { type: 'button', class: 'small', id: 'audit-refresh' }, 'Refresh');
    const list = h('ol', { id: 'audit-log', class: 'audit-log', 'aria-label': 'Audit log, newest first' });
    const older = h('button', { type: 'button', class: 'small', id: 'audit-older', hidden: true }, 'Older');
    const status = h('p', { class: 'audit-status muted', role: 'status' });
    const hint = h(
      'p',
      { class: 'hint admin-hint' },
      store.can('roles.manage') ? 'To change a user\u2019s server role, use the selector next to their name in a room\u2019s member list.' : '',
    );
    const win = windows.open({
      title: 'Admin',
      className: 'admin-window',
      dataset: { panel: 'admin' },
      onClose: () => {
        panel = null;
      },
    });
    win.body.append(
      h('div', { id: 'admin-panel', class: 'admin-panel' },
        h('h3', { class: 'section-title' }, 'Audit log'),
        h('div', { class: 'audit-controls' }, h('label', { for: 'audit-action' }, 'Action'), filter, refresh),
        status,
        list,
        older,
        hint,
      ),
    );
    panel = { win, list, older, filter, status, cursor: undefined, seq: 0 };
    filter.addEventListener('change', () => loadAudit());
    refresh.addEventListener('click', () => loadAudit());
    older.addEventListener('click', () => loadAudit({ older: true }));
    loadAudit();
  }

  function render() {
    button.hidden = !isAdmin(store);
    if (panel && !isAdmin(store)) panel.win.close(); // demoted while the panel was open
    else if (panel) loadAudit();
  }

  button.addEventListener('click', open);
  store.on('permissions', render);
  render();
}
