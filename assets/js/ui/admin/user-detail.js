// One user in the Users tab: GET /admin/users/{id} → {user, sessions, conversations, audit}, and
// the actions the server would allow me (each button only with its permission):
//   users.manage:   reset-password link (shows the URL to copy), deactivate / reactivate
//   users.moderate: force logout, suspend (until or for a duration, with a reason) / lift,
//                   mute (duration + reason) / unmute, shadowban (reason) / lift
//   roles.manage:   grant / revoke roles
// A refused action shows the server's message inline (the status line under the buttons).

import { h } from '../dom.js';
import { openFormDialog, reasonField } from '../form-dialog.js';
import { block, button, enc, facts, statusLine, timeEl, when } from './common.js';

const future = (iso) => Boolean(iso) && new Date(iso).getTime() > Date.now();

/** The state tags of an AdminUser (suspended, deactivated, muted, shadowbanned, deleted). */
export function stateTags(u) {
  return [
    u.deleted ? h('span', { class: 'tag tag-state tag-deleted' }, 'deleted') : null,
    u.deactivated_at ? h('span', { class: 'tag tag-state tag-deactivated', title: `since ${when(u.deactivated_at)}` }, 'deactivated') : null,
    future(u.suspended_until) ? h('span', { class: 'tag tag-state tag-suspended', title: `until ${when(u.suspended_until)}: ${u.suspend_reason ?? ''}` }, 'suspended') : null,
    future(u.muted_until) ? h('span', { class: 'tag tag-state tag-muted-user', title: `until ${when(u.muted_until)}: ${u.mute_reason ?? ''}` }, 'muted') : null,
    u.shadowbanned ? h('span', { class: 'tag tag-state tag-shadowbanned', title: u.shadowban_reason ?? '' }, 'shadowbanned') : null,
  ].filter(Boolean);
}

export function createUserDetail({ store, api, onBack, onChanged }) {
  const status = statusLine('admin-status user-action-status');
  const content = h('div', { class: 'admin-user-detail-content' });
  const back = button('← All users', () => onBack(), { action: 'back' });
  const el = h('div', { id: 'admin-user-detail', class: 'admin-user-detail' }, h('div', { class: 'admin-toolbar' }, back), content);
  let userId = null;
  let seq = 0;
  let roles = null; // role names for the grant selector (GET /admin/roles, with roles.manage)

  const url = (suffix = '') => `/admin/users/${enc(userId)}${suffix}`;

  /** Runs an action; the answer (an AdminUser) redraws the view. */
  async function act(fn, ok) {
    const out = await status.run(fn, ok);
    if (out !== undefined) {
      await reload();
      status.set(ok, 'ok');
      onChanged?.();
    }
    return out;
  }

  /** An action behind a dialog: the dialog shows errors itself, then the view reloads. */
  async function withDialog(opts, ok) {
    const done = await openFormDialog(opts);
    if (done) {
      await reload();
      status.set(ok, 'ok');
      onChanged?.();
    }
  }

  function suspend(u) {
    return withDialog(
      {
        title: `Suspend ${u.username}`,
        text: 'They are signed out everywhere and cannot log in until then; the login page shows them the reason.',
        fields: [
          { name: 'until', label: 'Until (date and time; or pick a duration below)', type: 'datetime-local' },
          { name: 'duration_secs', label: 'For', type: 'duration', value: 86400 },
          reasonField(),
        ],
        submitLabel: 'Suspend',
        danger: true,
        className: 'suspend-dialog',
        onSubmit: ({ until, duration_secs: secs, reason }) => {
          const body = until ? { until: new Date(until).toISOString(), reason } : { duration_secs: secs, reason };
          return api.put(url('/suspension'), body);
        },
      },
      `${u.username} is suspended.`,
    );
  }

  function reasonOnly(u, { title, path, method = 'put', submitLabel, text, className, ok }) {
    return withDialog(
      { title, text, fields: [reasonField()], submitLabel, danger: true, className, onSubmit: ({ reason }) => api[method](url(path), { reason }) },
      ok,
    );
  }

  function mute(u) {
    return withDialog(
      {
        title: `Mute ${u.username} everywhere`,
        text: 'They can read but not send, in every conversation, until the mute ends.',
        fields: [{ name: 'duration_secs', label: 'For', type: 'duration', value: 3600 }, reasonField()],
        submitLabel: 'Mute',
        danger: true,
        className: 'mute-dialog',
        onSubmit: ({ duration_secs: secs, reason }) => api.put(url('/mute'), { duration_secs: secs, reason }),
      },
      `${u.username} is muted.`,
    );
  }

  async function resetLink(out) {
    const res = await status.run(() => api.post(url('/reset-link')));
    if (!res) return;
    const field = h('input', { type: 'text', readonly: true, value: res.url, class: 'reset-link-url', 'aria-label': 'Password reset link' });
    const copy = button('Copy', async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(res.url);
        copy.textContent = 'Copied';
      } catch {
        document.execCommand?.('copy');
      }
    });
    out.replaceChildren(h('div', { class: 'reset-link' }, h('span', {}, `One-time link (expires ${when(res.expires_at)}):`), field, copy));
    status.clear();
    field.select();
  }

  function actions(u) {
    const can = store.can;
    const isMe = u.id === store.me()?.id;
    const linkOut = h('div', { class: 'reset-link-out' });
    const row = [];
    if (can('users.manage')) row.push(button('Reset-password link', () => resetLink(linkOut), { action: 'reset-link' }));
    if (can('users.moderate') && !isMe) {
      row.push(button('Force logout', () => act(() => api.post(url('/logout'), {}), `${u.username} was signed out everywhere.`), { action: 'force-logout' }));
      row.push(
        future(u.suspended_until)
          ? button('Lift suspension', () => act(() => api.del(url('/suspension')), 'Suspension lifted.'), { action: 'unsuspend' })
          : button('Suspend…', () => suspend(u), { action: 'suspend', cls: 'small danger' }),
      );
      row.push(
        future(u.muted_until)
          ? button('Unmute', () => act(() => api.del(url('/mute')), 'Mute lifted.'), { action: 'unmute' })
          : button('Mute…', () => mute(u), { action: 'mute' }),
      );
      row.push(
        u.shadowbanned
          ? button('Lift shadowban', () => act(() => api.del(url('/shadowban')), 'Shadowban lifted.'), { action: 'unshadowban' })
          : button('Shadowban…', () => reasonOnly(u, { title: `Shadowban ${u.username}`, text: 'Their new messages are shown only to themselves (and, flagged, to moderators).', path: '/shadowban', submitLabel: 'Shadowban', className: 'shadowban-dialog', ok: `${u.username} is shadowbanned.` }), { action: 'shadowban' }),
      );
    }
    if (can('users.manage') && !isMe) {
      row.push(
        u.deactivated_at
          ? button('Reactivate', () => act(() => api.del(url('/deactivation')), `${u.username} is active again.`), { action: 'reactivate' })
          : button('Deactivate…', () => reasonOnly(u, { title: `Deactivate ${u.username}`, text: 'They are signed out and cannot log in until reactivated.', path: '/deactivation', submitLabel: 'Deactivate', className: 'deactivate-dialog', ok: `${u.username} is deactivated.` }), { action: 'deactivate', cls: 'small danger' }),
      );
    }
    return h('div', {}, h('div', { class: 'admin-actions' }, row), linkOut);
  }

  function rolesBlock(u) {
    const held = new Set([u.role, ...(u.roles ?? [])]);
    const chips = [...held].map((r) =>
      h(
        'span',
        { class: 'role-chip', dataset: { role: r } },
        r,
        store.can('roles.manage') && !(r === 'member' && u.role === 'member')
          ? button('×', () => act(() => api.del(url(`/roles/${enc(r)}`)), `Revoked ${r}.`), { action: 'revoke-role', cls: 'chip-remove', title: `Revoke ${r}` })
          : null,
      ),
    );
    const parts = [h('div', { class: 'role-chips' }, chips)];
    if (store.can('roles.manage') && roles) {
      const select = h('select', { class: 'grant-role-select', 'aria-label': 'Role to grant' }, roles.filter((r) => !held.has(r)).map((r) => h('option', { value: r }, r)));
      const grant = button('Grant', () => select.value && act(() => api.put(url(`/roles/${enc(select.value)}`), {}), `Granted ${select.value}.`), { action: 'grant-role' });
      if (select.options.length) parts.push(h('div', { class: 'admin-inline' }, select, grant));
    }
    return block('Roles', ...parts);
  }

  function render(d) {
    const u = d.user;
    content.replaceChildren(
      h('h4', { class: 'admin-user-title', dataset: { userId: u.id } }, h('bdi', {}, u.username), ' ', ...stateTags(u)),
      facts([
        ['Display name', u.display_name],
        ['E-mail', u.email],
        ['Created', timeEl(u.created_at)],
        ['Online', u.online ? 'yes' : 'no'],
        future(u.suspended_until) ? ['Suspended', h('span', {}, `until ${when(u.suspended_until)} — `, h('q', { dir: 'auto' }, u.suspend_reason ?? ''))] : null,
        u.deactivated_at ? ['Deactivated', timeEl(u.deactivated_at)] : null,
        future(u.muted_until) ? ['Muted', h('span', {}, `until ${when(u.muted_until)} — `, h('q', { dir: 'auto' }, u.mute_reason ?? ''))] : null,
        u.shadowbanned ? ['Shadowbanned', h('q', { dir: 'auto' }, u.shadowban_reason ?? '')] : null,
      ]),
      actions(u),
      status.el,
      rolesBlock(u),
      block(
        `Sessions (${(d.sessions ?? []).length})`,
        h('ul', { class: 'admin-list admin-sessions' }, (d.sessions ?? []).map((s) => h('li', { dataset: { sessionId: s.id } }, h('span', { dir: 'auto' }, s.device ?? s.user_agent ?? 'session'), s.ip ? h('span', { class: 'muted' }, ` ${s.ip}`) : null, ' · last seen ', timeEl(s.last_seen_at ?? s.created_at)))),
      ),
      block(
        `Conversations (${(d.conversations ?? []).length})`,
        h('ul', { class: 'admin-list admin-conversations' }, (d.conversations ?? []).map((c) => h('li', { dataset: { conversationId: c.id } }, h('span', { class: 'tag tag-muted' }, c.kind), ' ', h('bdi', {}, c.name ?? '(unnamed)'), c.role && c.role !== 'member' ? h('span', { class: 'muted' }, ` ${c.role}`) : null))),
      ),
      block(
        'Recent audit',
        h('ol', { class: 'admin-list admin-user-audit' }, (d.audit ?? []).map((e) => h('li', { dataset: { action: e.action } }, timeEl(e.created_at), ' ', h('strong', {}, e.action), ' by ', h('bdi', {}, e.actor_username ?? 'the server'), e.details?.reason ? [' — ', h('q', { dir: 'auto' }, e.details.reason)] : null))),
      ),
    );
  }

  async function reload() {
    if (!userId) return;
    const mine = ++seq;
    try {
      if (store.can('roles.manage') && !roles) {
        roles = ((await api.get('/admin/roles')).roles ?? []).map((r) => r.name);
      }
      const d = await api.get(url());
      if (mine === seq) render(d);
    } catch (err) {
      if (mine === seq) {
        content.replaceChildren(status.el);
        status.error(err);
      }
    }
  }

  return {
    el,
    show(id) {
      userId = id;
      status.clear();
      content.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
      reload();
    },
    reload,
  };
}
