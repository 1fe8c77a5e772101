// Audit tab (`audit.read`): GET /admin/audit, newest first, "Older" following next_cursor.
// Filters: actor (a username — looked up with `users.view` — or a user id), action, target (an
// id) and the date range (`from` / `to`, RFC 3339) go to the server; the range is also applied
// to the entries as they arrive (a server without the date parameters then still shows the
// right ones: entries after "to" are skipped, paging stops at the first entry before "from").

import { withQuery } from '../../api.js';
import { h } from '../dom.js';
import { moreButton, statusLine, timeEl } from './common.js';

/** AuditAction values known to this client; actions seen in answers are added to the list. */
const ACTIONS = ['setup.completed', 'user.role_changed', 'user.deleted', 'room.created', 'room.updated', 'room.invite', 'session.logout', 'session.revoked', 'session.idle', 'user.password_changed', 'user.password_reset_requested', 'user.password_reset', 'user.recovery_pin_failed', 'user.recovery_pin_changed', 'user.profile_updated', 'user.email_verified', 'user.blocked', 'user.unblocked', 'group.created', 'group.updated', 'member.invited', 'invitation.accepted', 'invitation.declined', 'member.role_changed', 'conversation.ownership_transferred', 'member.muted', 'member.unmuted', 'member.kicked', 'member.left', 'user.created', 'user.reset_link_issued', 'user.logged_out', 'user.suspended', 'user.unsuspended', 'user.deactivated', 'user.reactivated', 'user.muted', 'user.unmuted', 'user.shadowbanned', 'user.unshadowbanned', 'role.granted', 'role.revoked', 'role.created', 'role.updated', 'role.deleted', 'broadcast.sent', 'room.settings_changed', 'room.history_cleared', 'room.deleted', 'category.renamed', 'member.banned', 'member.unbanned', 'message.deleted', 'message.reported', 'report.resolved', 'settings.changed', 'invite.created', 'invite.revoked'];
const PAGE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function detailsText(details) {
  if (details === null || details === undefined) return '';
  if (typeof details !== 'object') return String(details);
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${value === null || value === '' ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}

function entryEl(e) {
  const target = e.target_id ? `${e.target_type ?? 'target'} ${e.target_id}` : '';
  return h(
    'li',
    { class: 'audit-entry', dataset: { action: e.action, id: e.id } },
    h('div', { class: 'audit-head' }, h('span', { class: 'audit-action' }, e.action), h('span', { class: 'audit-time' }, timeEl(e.created_at))),
    h('div', { class: 'audit-line' }, 'by ', h('bdi', { class: 'audit-actor' }, e.actor_username ?? (e.actor_id ? e.actor_id : 'the server')), e.ip ? h('span', { class: 'muted' }, ` from ${e.ip}`) : null),
    target ? h('div', { class: 'audit-target muted' }, target) : null,
    h('div', { class: 'audit-details', dir: 'auto' }, detailsText(e.details)),
  );
}

export function createAuditTab({ store, api }) {
  const known = new Set(ACTIONS);
  const action = h('select', { id: 'audit-action', class: 'audit-filter' }, h('option', { value: '' }, 'All actions'), ACTIONS.map((a) => h('option', { value: a }, a)));
  const actor = h('input', { id: 'audit-actor', type: 'text', placeholder: 'username or id', autocomplete: 'off', spellcheck: 'false' });
  const target = h('input', { id: 'audit-target', type: 'text', placeholder: 'id', autocomplete: 'off', spellcheck: 'false' });
  const from = h('input', { id: 'audit-from', type: 'datetime-local' });
  const to = h('input', { id: 'audit-to', type: 'datetime-local' });
  const status = statusLine('audit-status admin-status');
  const list = h('ol', { id: 'audit-log', class: 'audit-log', 'aria-label': 'Audit log, newest first' });
  const older = moreButton('Older', () => load({ older: true }));
  older.id = 'audit-older';
  const form = h(
    'form',
    { class: 'audit-controls', id: 'audit-filters' },
    h('label', {}, 'Action ', action),
    h('label', {}, 'Actor ', actor),
    h('label', {}, 'Target ', target),
    h('label', {}, 'From ', from),
    h('label', {}, 'To ', to),
    h('button', { type: 'submit', class: 'small', id: 'audit-refresh' }, 'Apply'),
  );
  const el = h('div', { class: 'admin-audit' }, form, status.el, list, older);
  let cursor;
  let seq = 0;
  let actorId;

  /** The actor filter as a user id (a username is looked up with `users.view`). */
  async function resolveActor() {
    const text = actor.value.trim();
    if (!text) return undefined;
    if (UUID.test(text)) return text;
    if (!store.can('users.view')) throw new Error('Enter the actor\u2019s user id (looking up names needs users.view).');
    const page = await api.get(withQuery('/admin/users', { q: text, limit: 10 }));
    const hit = (page.users ?? []).find((u) => u.username.toLowerCase() === text.toLowerCase());
    if (!hit) throw new Error(`No user named ${text}.`);
    return hit.id;
  }

  const stamp = (input) => (input.value ? new Date(input.value).getTime() : null);

  async function load({ older: more = false } = {}) {
    const mine = ++seq;
    older.disabled = true;
    status.set('Loading…');
    try {
      if (!more) actorId = await resolveActor();
      const t = target.value.trim();
      const lo = stamp(from);
      const hi = stamp(to);
      const iso = (ms) => (ms === null ? undefined : new Date(ms).toISOString());
      const page = await api.get(withQuery('/admin/audit', { actor: actorId, action: action.value, target: t || undefined, from: iso(lo), to: iso(hi), cursor: more ? cursor : undefined, limit: PAGE }));
      if (mine !== seq) return;
      const entries = page.entries ?? [];
      for (const e of entries) {
        if (!known.has(e.action)) {
          known.add(e.action);
          action.append(h('option', { value: e.action }, e.action));
        }
      }
      const inRange = entries.filter((e) => {
        const at = new Date(e.created_at).getTime();
        return (lo === null || at >= lo) && (hi === null || at <= hi);
      });
      const rows = inRange.map(entryEl);
      if (more) list.append(...rows);
      else list.replaceChildren(...rows);
      const last = entries[entries.length - 1];
      const pastFrom = lo !== null && last && new Date(last.created_at).getTime() < lo;
      cursor = pastFrom ? undefined : page.next_cursor;
      older.hidden = !cursor;
      status.set(list.children.length ? '' : 'No entries.');
    } catch (err) {
      if (mine === seq) status.error(err);
    } finally {
      older.disabled = false;
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
  });
  action.addEventListener('change', () => load());

  return {
    el,
    refresh: load,
    /** Shows the entries about one target (e.g. from a user's detail). */
    showTarget(id) {
      target.value = id;
      load();
    },
  };
}
