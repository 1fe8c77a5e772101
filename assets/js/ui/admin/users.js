// Users tab (`users.view`): search by username prefix (GET /admin/users?q=&cursor&limit, "More"
// while there is a next_cursor), a row per user with their state, and a detail view
// (user-detail.js) when one is picked. "Create user" (`users.manage`: POST /admin/users).

import { withQuery } from '../../api.js';
import { h } from '../dom.js';
import { openFormDialog } from '../form-dialog.js';
import { button, moreButton, statusLine } from './common.js';
import { createUserDetail, stateTags } from './user-detail.js';

const PAGE = 25;

export function createUsersTab({ store, api }) {
  const status = statusLine();
  const search = h('input', { id: 'admin-user-search', type: 'search', placeholder: 'Username starts with…', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Search users' });
  const create = button('Create user…', () => createUser(), { action: 'create-user' });
  const list = h('ul', { id: 'admin-user-list', class: 'admin-list' });
  const more = moreButton('More users', () => load({ append: true }));
  const listView = h('div', { class: 'admin-users-list' }, h('div', { class: 'admin-toolbar' }, search, create), status.el, list, more);
  const detail = createUserDetail({ store, api, onBack: () => showList(), onChanged: () => load() });
  const el = h('div', {}, listView, detail.el);
  let cursor;
  let seq = 0;
  let timer = null;

  function row(u) {
    return h(
      'li',
      { class: 'admin-user', dataset: { userId: u.id, username: u.username } },
      h(
        'button',
        { type: 'button', class: 'link-button admin-user-open', title: 'Show details' },
        h('span', { class: `status-dot is-${u.online ? 'online' : 'offline'}`, role: 'img', 'aria-label': u.online ? 'online' : 'offline' }),
        ' ',
        h('bdi', {}, u.username),
      ),
      u.display_name && u.display_name !== u.username ? h('span', { class: 'muted', dir: 'auto' }, u.display_name) : null,
      h('span', { class: 'tag tag-muted' }, u.role),
      ...stateTags(u),
    );
  }

  async function load({ append = false } = {}) {
    const mine = ++seq;
    status.set('Loading…');
    try {
      const page = await api.get(withQuery('/admin/users', { q: search.value.trim(), cursor: append ? cursor : undefined, limit: PAGE }));
      if (mine !== seq) return;
      const rows = (page.users ?? []).map(row);
      if (append) list.append(...rows);
      else list.replaceChildren(...rows);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.set(list.children.length ? '' : 'No users found.');
    } catch (err) {
      if (mine === seq) status.error(err);
    }
  }

  function showList() {
    detail.el.hidden = true;
    listView.hidden = false;
  }

  function openUser(id) {
    listView.hidden = true;
    detail.el.hidden = false;
    detail.show(id);
  }

  function createUser() {
    return openFormDialog({
      title: 'Create user',
      fields: [
        { name: 'username', label: 'Username', required: true, maxlength: 32 },
        { name: 'password', label: 'Password', type: 'password', required: true, hint: '8–1024 characters. Or leave a placeholder and send a reset link afterwards.' },
        { name: 'display_name', label: 'Display name', maxlength: 64 },
        { name: 'email', label: 'E-mail', type: 'email', maxlength: 254 },
        { name: 'role', label: 'Role', type: 'select', options: [['member', 'member'], ['moderator', 'moderator'], ['admin', 'admin']], value: 'member' },
      ],
      submitLabel: 'Create',
      className: 'create-user-dialog',
      onSubmit: async (v) => {
        const body = { username: v.username, password: v.password, role: v.role };
        if (v.display_name) body.display_name = v.display_name;
        if (v.email) body.email = v.email;
        const user = await api.post('/admin/users', body);
        store.toast(`Created ${user.username}.`, 'info');
        openUser(user.id);
      },
    });
  }

  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(), 250);
  });
  list.addEventListener('click', (ev) => {
    const b = ev.target.closest('.admin-user-open');
    if (b) openUser(b.closest('li').dataset.userId);
  });

  function refresh() {
    create.hidden = !store.can('users.manage');
    if (detail.el.hidden) load();
    else detail.reload();
  }

  detail.el.hidden = true;
  return {
    el,
    refresh,
    openUser,
    destroy: () => clearTimeout(timer),
  };
}
