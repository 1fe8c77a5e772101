// Settings tab (`settings.manage`): the live settings (GET /admin/settings) with a "changed"
// marker on those set at run time and "Reset" back to the config-file default
// (DELETE /admin/settings/{key}); saving sends only the changed keys (PATCH /admin/settings
// {key: value}; 422 invalid_setting names the key and nothing is changed). Below, invite links
// for invite-only registration: create (max uses, expiry), list, revoke (POST / GET / DELETE
// /admin/invites).

import { h } from '../dom.js';
import { block, button, enc, statusLine, timeEl, when } from './common.js';

const REGISTRATION = ['open', 'invite_only', 'closed'];

/** An input for a setting's value, by the shape of its default. */
function inputFor(s, id) {
  const v = s.value;
  if (s.key === 'general.registration') return h('select', { id }, REGISTRATION.map((r) => h('option', { value: r, selected: r === v }, r)));
  if (typeof v === 'boolean') return h('input', { id, type: 'checkbox', checked: v });
  if (typeof v === 'number') return h('input', { id, type: 'number', value: v, step: 1 });
  if (v !== null && typeof v === 'object') return h('input', { id, type: 'text', class: 'setting-json', value: JSON.stringify(v), spellcheck: 'false', title: 'JSON, e.g. {"count": 5, "per_secs": 60, "burst": 5}' });
  return h(s.key === 'general.motd' ? 'textarea' : 'input', { id, type: 'text', value: v ?? '', rows: 2, dir: 'auto' }, s.key === 'general.motd' ? v ?? '' : null);
}

function readInput(s, el) {
  if (el.type === 'checkbox') return el.checked;
  if (el.type === 'number') return Number(el.value);
  if (el.classList.contains('setting-json')) {
    try {
      return JSON.parse(el.value);
    } catch {
      throw new Error(`${s.key}: not valid JSON`);
    }
  }
  return el.value;
}

export function createSettingsTab({ api }) {
  const status = statusLine();
  const table = h('tbody', {});
  const save = h('button', { type: 'submit', class: 'small primary', id: 'settings-save' }, 'Save changes');
  const form = h(
    'form',
    { id: 'admin-settings-form', class: 'admin-settings' },
    h('table', { class: 'admin-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'Setting'), h('th', {}, 'Value'), h('th', {}, ''))), table),
    h('div', { class: 'admin-actions' }, save),
  );
  const inviteStatus = statusLine();
  const invites = h('ul', { id: 'admin-invite-list', class: 'admin-list' });
  const maxUses = h('input', { id: 'invite-max-uses', type: 'number', min: 1, placeholder: 'unlimited' });
  const expires = h('select', { id: 'invite-expires' }, [['', 'never'], [3600, '1 hour'], [86400, '1 day'], [7 * 86400, '7 days'], [30 * 86400, '30 days']].map(([v, l]) => h('option', { value: v }, l)));
  const inviteForm = h('form', { id: 'create-invite-form', class: 'admin-inline' }, h('label', {}, 'Max uses ', maxUses), h('label', {}, 'Expires ', expires), h('button', { type: 'submit', class: 'small' }, 'Create invite link'));
  const el = h('div', {}, status.el, form, block('Invite links', inviteForm, inviteStatus.el, invites));
  let settings = [];

  function row(s, i) {
    const id = `setting-${i}`;
    const input = inputFor(s, id);
    const reset = s.changed ? button('Reset', () => resetKey(s.key), { action: 'reset-setting', title: `Back to the default: ${JSON.stringify(s.default)}` }) : null;
    return h(
      'tr',
      { class: `setting${s.changed ? ' changed' : ''}`, dataset: { key: s.key } },
      h('td', {}, h('label', { for: id }, s.key), s.changed ? h('span', { class: 'tag changed-marker', title: s.updated_at ? `changed ${when(s.updated_at)}${s.updated_by ? ` by ${s.updated_by}` : ''}` : 'changed' }, 'changed') : null),
      h('td', {}, input, h('div', { class: 'hint' }, 'default: ', JSON.stringify(s.default))),
      h('td', {}, reset),
    );
  }

  function render(list) {
    settings = list;
    table.replaceChildren(...list.map(row));
  }

  async function load() {
    status.set('Loading…');
    try {
      render((await api.get('/admin/settings')).settings ?? []);
      status.clear();
    } catch (err) {
      status.error(err);
    }
    loadInvites();
  }

  async function resetKey(key) {
    const res = await status.run(() => api.del(`/admin/settings/${enc(key)}`), `${key} is back to its default.`);
    if (res !== undefined) load();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const changes = {};
    try {
      settings.forEach((s, i) => {
        const value = readInput(s, form.querySelector(`#setting-${i}`));
        if (JSON.stringify(value) !== JSON.stringify(s.value)) changes[s.key] = value;
      });
    } catch (err) {
      status.error(err);
      return;
    }
    if (!Object.keys(changes).length) {
      status.set('Nothing changed.');
      return;
    }
    const res = await status.run(() => api.patch('/admin/settings', changes), 'Saved; applied without a restart.');
    if (res) render(res.settings ?? []);
  });

  function inviteRow(inv) {
    return h(
      'li',
      { class: 'admin-invite', dataset: { code: inv.code } },
      h('input', { type: 'text', readonly: true, value: inv.url, class: 'invite-url', 'aria-label': 'Invite link' }),
      h('span', { class: 'muted' }, ` ${inv.uses ?? 0}${inv.max_uses ? `/${inv.max_uses}` : ''} uses`, inv.expires_at ? ' · expires ' : '', inv.expires_at ? timeEl(inv.expires_at) : ''),
      inv.revoked_at ? h('span', { class: 'tag tag-muted' }, 'revoked') : inv.usable === false ? h('span', { class: 'tag tag-muted' }, 'used up or expired') : null,
      inv.revoked_at
        ? null
        : button('Revoke', async () => {
            const res = await inviteStatus.run(() => api.del(`/admin/invites/${enc(inv.code)}`), 'Revoked.');
            if (res !== undefined) loadInvites();
          }, { action: 'revoke-invite' }),
    );
  }

  async function loadInvites() {
    try {
      const res = await api.get('/admin/invites');
      invites.replaceChildren(...(res.invites ?? []).map(inviteRow));
      if (!invites.children.length) invites.append(h('li', { class: 'muted' }, 'No invite links.'));
    } catch (err) {
      inviteStatus.error(err);
    }
  }

  inviteForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    if (maxUses.value) body.max_uses = Number(maxUses.value);
    if (expires.value) body.expires_in_secs = Number(expires.value);
    const res = await inviteStatus.run(() => api.post('/admin/invites', body), 'Invite link created.');
    if (res) loadInvites();
  });

  return { el, refresh: load };
}
