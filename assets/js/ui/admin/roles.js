// Roles tab (`roles.manage`): GET /admin/roles → each role's permissions and member count.
// Built-in roles (admin, moderator, member) are read-only; custom roles can be created
// (POST /admin/roles), edited (PATCH /admin/roles/{name}: description, permissions) and deleted
// (DELETE /admin/roles/{name}). Roles are granted to users in the Users tab.

import { h } from '../dom.js';
import { openFormDialog } from '../form-dialog.js';
import { PANEL_PERMISSIONS, button, enc, statusLine } from './common.js';

/** Every server permission a role can carry (rooms.create included). */
const ALL_PERMISSIONS = ['rooms.create', ...PANEL_PERMISSIONS];

function permissionBoxes(held = []) {
  const set = new Set(held);
  return h(
    'fieldset',
    { class: 'permission-boxes' },
    h('legend', {}, 'Permissions'),
    ALL_PERMISSIONS.map((p) => h('label', { class: 'check-row' }, h('input', { type: 'checkbox', value: p, checked: set.has(p), dataset: { permission: p } }), ' ', p)),
  );
}

const checked = (fieldset) => [...fieldset.querySelectorAll('input:checked')].map((i) => i.value);

export function createRolesTab({ api }) {
  const status = statusLine();
  const list = h('ul', { id: 'admin-role-list', class: 'admin-list admin-roles' });
  const create = h('details', { class: 'admin-create-role' });
  const el = h('div', {}, status.el, list, create);

  function buildCreate() {
    const name = h('input', { id: 'new-role-name', type: 'text', maxlength: 32, required: true, autocomplete: 'off', spellcheck: 'false' });
    const description = h('input', { id: 'new-role-description', type: 'text', maxlength: 200, autocomplete: 'off' });
    const boxes = permissionBoxes();
    const line = statusLine('admin-status');
    const form = h(
      'form',
      { class: 'admin-form', id: 'create-role-form' },
      h('label', { for: 'new-role-name' }, 'Name'),
      name,
      h('label', { for: 'new-role-description' }, 'Description (optional)'),
      description,
      boxes,
      line.el,
      h('button', { type: 'submit', class: 'small primary' }, 'Create role'),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { name: name.value.trim(), permissions: checked(boxes) };
      if (description.value.trim()) body.description = description.value.trim();
      const made = await line.run(() => api.post('/admin/roles', body), 'Role created.');
      if (made) {
        form.reset();
        load();
      }
    });
    create.replaceChildren(h('summary', {}, 'Create a custom role'), form);
  }

  function row(r) {
    const line = statusLine('admin-status');
    return h(
      'li',
      { class: 'admin-role', dataset: { role: r.name } },
      h('div', {}, h('strong', {}, r.name), r.builtin ? h('span', { class: 'tag tag-muted' }, 'built-in') : null, h('span', { class: 'muted' }, ` · ${r.members ?? 0} members`)),
      r.description ? h('div', { class: 'muted', dir: 'auto' }, r.description) : null,
      h('div', { class: 'role-permissions' }, (r.permissions ?? []).map((p) => h('span', { class: 'tag tag-muted' }, p))),
      r.builtin
        ? null
        : h(
            'div',
            { class: 'admin-actions' },
            button('Edit…', () => edit(r), { action: 'edit-role' }),
            button('Delete…', () => remove(r, line), { action: 'delete-role', cls: 'small danger' }),
          ),
      line.el,
    );
  }

  async function edit(r) {
    const boxes = permissionBoxes(r.permissions);
    const done = await openFormDialog({
      extra: boxes,
      title: `Edit role ${r.name}`,
      fields: [{ name: 'description', label: 'Description', value: r.description ?? '', maxlength: 200 }],
      submitLabel: 'Save',
      className: 'edit-role-dialog',
      onSubmit: ({ description }) => api.patch(`/admin/roles/${enc(r.name)}`, { description, permissions: checked(boxes) }),
    });
    if (done) load();
  }

  async function remove(r, line) {
    const done = await openFormDialog({
      title: `Delete role ${r.name}`,
      text: `${r.members ?? 0} users hold it; they lose its permissions.`,
      submitLabel: 'Delete',
      danger: true,
      confirmName: r.name,
      className: 'delete-role-dialog',
      onSubmit: () => api.del(`/admin/roles/${enc(r.name)}`),
    });
    if (done) {
      line.set('Deleted.', 'ok');
      load();
    }
  }

  async function load() {
    status.set('Loading…');
    try {
      const res = await api.get('/admin/roles');
      list.replaceChildren(...(res.roles ?? []).map(row));
      status.clear();
    } catch (err) {
      status.error(err);
    }
  }

  buildCreate();
  return { el, refresh: load };
}
