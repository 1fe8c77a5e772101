// Rooms tab (`rooms.moderate` or `rooms.manage`): GET /admin/rooms with a filter (official,
// public, private, locked, read-only) and a name search, paged. Per room, as permitted:
//   rooms.moderate: lock / unlock, read-only on / off, slowmode seconds, clear history (confirmed,
//                   with a reason): PATCH /admin/rooms/{id}, POST /admin/rooms/{id}/clear
//   rooms.manage:   edit name / topic / category / official / auto_join (PATCH), delete (confirmed
//                   by typing the name: DELETE /admin/rooms/{id}), rename a category
//                   (PUT /admin/categories/{name})
// Errors are shown in the room's own status line.

import { withQuery } from '../../api.js';
import { h } from '../dom.js';
import { openFormDialog, reasonField } from '../form-dialog.js';
import { button, enc, moreButton, statusLine } from './common.js';

const PAGE = 25;
const FILTERS = [['', 'All rooms'], ['official', 'Official'], ['public', 'Public'], ['private', 'Private'], ['locked', 'Locked'], ['read_only', 'Read-only']];

export function createRoomsTab({ store, api }) {
  const status = statusLine();
  const filter = h('select', { id: 'admin-room-filter', 'aria-label': 'Filter rooms' }, FILTERS.map(([v, l]) => h('option', { value: v }, l)));
  const search = h('input', { id: 'admin-room-search', type: 'search', placeholder: 'Room name…', autocomplete: 'off', 'aria-label': 'Search rooms' });
  const renameCategory = button('Rename category…', () => renameCategoryDialog(), { action: 'rename-category' });
  const list = h('ul', { id: 'admin-room-list', class: 'admin-list admin-rooms' });
  const more = moreButton('More rooms', () => load({ append: true }));
  const el = h('div', {}, h('div', { class: 'admin-toolbar' }, filter, search, renameCategory), status.el, list, more);
  let cursor;
  let seq = 0;
  let timer = null;

  const path = (id, suffix = '') => `/admin/rooms/${enc(id)}${suffix}`;

  function row(r) {
    const line = statusLine('admin-status room-status');
    const li = h('li', { class: 'admin-room', dataset: { conversationId: r.id, name: r.name } });
    const patch = async (body, ok) => {
      const updated = await line.run(() => api.patch(path(r.id), body), ok);
      if (updated) {
        const next = row(updated);
        li.replaceWith(next);
        next.querySelector('.room-status').textContent = ok;
      }
    };
    const moderate = store.can('rooms.moderate');
    const manage = store.can('rooms.manage');
    const slow = h('input', { type: 'number', min: 0, max: 21600, step: 1, value: r.slowmode_secs ?? 0, class: 'slowmode-input', 'aria-label': `Slowmode seconds for ${r.name}` });
    const tags = [
      h('span', { class: 'tag tag-muted' }, r.visibility),
      r.official ? h('span', { class: 'tag' }, 'official') : null,
      r.auto_join ? h('span', { class: 'tag tag-muted' }, 'auto-join') : null,
      r.locked ? h('span', { class: 'tag tag-mod tag-locked' }, 'locked') : null,
      r.read_only ? h('span', { class: 'tag tag-mod tag-read-only' }, 'read-only') : null,
      r.slowmode_secs > 0 ? h('span', { class: 'tag tag-mod tag-slowmode' }, `slowmode ${r.slowmode_secs} s`) : null,
    ];
    li.append(
      h(
        'div',
        { class: 'admin-room-head' },
        h('strong', { dir: 'auto' }, r.name),
        r.category ? h('span', { class: 'muted', dir: 'auto' }, ` in ${r.category}`) : null,
        ' ',
        ...tags.filter(Boolean),
        h('span', { class: 'muted' }, ` · ${r.member_count ?? 0} members · ${r.last_seq ?? 0} messages`),
      ),
      r.topic ? h('div', { class: 'muted admin-room-topic', dir: 'auto' }, r.topic) : null,
      h(
        'div',
        { class: 'admin-actions' },
        moderate ? button(r.locked ? 'Unlock' : 'Lock', () => patch({ locked: !r.locked }, r.locked ? 'Unlocked.' : 'Locked: nobody new can join.'), { action: r.locked ? 'unlock' : 'lock' }) : null,
        moderate ? button(r.read_only ? 'Allow posting' : 'Make read-only', () => patch({ read_only: !r.read_only }, r.read_only ? 'Everyone can post again.' : 'Read-only: only moderators post.'), { action: r.read_only ? 'writable' : 'read-only' }) : null,
        moderate
          ? h(
              'form',
              {
                class: 'admin-inline slowmode-form',
                onsubmit: (ev) => {
                  ev.preventDefault();
                  const secs = Number(slow.value);
                  patch({ slowmode_secs: Number.isFinite(secs) ? Math.trunc(secs) : 0 }, secs > 0 ? `Slowmode: ${Math.trunc(secs)} s.` : 'Slowmode off.');
                },
              },
              h('label', {}, 'Slowmode ', slow, ' s'),
              h('button', { type: 'submit', class: 'small', dataset: { action: 'slowmode' } }, 'Set'),
            )
          : null,
        moderate ? button('Clear history…', () => clearHistory(r, line), { action: 'clear-history', cls: 'small danger' }) : null,
        manage ? button('Edit…', () => edit(r, li), { action: 'edit-room' }) : null,
        manage ? button('Delete…', () => remove(r, li), { action: 'delete-room', cls: 'small danger' }) : null,
      ),
      line.el,
    );
    return li;
  }

  async function clearHistory(r, line) {
    const res = await openFormDialog({
      title: `Clear the history of ${r.name}`,
      text: 'Every message so far disappears for all members (the audit log keeps the action). This cannot be undone.',
      fields: [reasonField()],
      submitLabel: 'Clear history',
      danger: true,
      className: 'clear-history-dialog',
      onSubmit: ({ reason }) => api.post(path(r.id, '/clear'), { reason }),
    });
    if (res) line.set(`History cleared (up to message ${res.cleared_seq ?? '?'}).`, 'ok');
  }

  async function edit(r, li) {
    const updated = await openFormDialog({
      title: `Edit ${r.name}`,
      fields: [
        { name: 'name', label: 'Name', required: true, value: r.name, maxlength: 64 },
        { name: 'topic', label: 'Topic', value: r.topic ?? '', maxlength: 512 },
        { name: 'category', label: 'Category', value: r.category ?? '', maxlength: 64 },
        { name: 'official', label: 'Official room', type: 'checkbox', value: r.official },
        { name: 'auto_join', label: 'New users join it automatically', type: 'checkbox', value: r.auto_join },
      ],
      submitLabel: 'Save',
      className: 'edit-room-dialog',
      onSubmit: (v) => {
        const body = {};
        for (const key of ['name', 'topic', 'category']) if (v[key] !== (r[key] ?? '')) body[key] = v[key];
        for (const key of ['official', 'auto_join']) if (v[key] !== Boolean(r[key])) body[key] = v[key];
        return Object.keys(body).length ? api.patch(path(r.id), body) : r;
      },
    });
    if (updated && typeof updated === 'object') li.replaceWith(row(updated));
  }

  async function remove(r, li) {
    const done = await openFormDialog({
      title: `Delete ${r.name}`,
      text: 'The room and its messages are gone for every member. This cannot be undone.',
      fields: [reasonField('Reason', false)],
      confirmName: r.name,
      submitLabel: 'Delete room',
      danger: true,
      className: 'delete-room-dialog',
      onSubmit: ({ reason }) => api.del(withQuery(path(r.id), { reason })),
    });
    if (done) {
      li.remove();
      status.set(`${r.name} was deleted.`, 'ok');
    }
  }

  async function renameCategoryDialog() {
    const res = await openFormDialog({
      title: 'Rename a category',
      fields: [
        { name: 'from', label: 'Category', required: true, maxlength: 64 },
        { name: 'to', label: 'New name', required: true, maxlength: 64 },
      ],
      submitLabel: 'Rename',
      className: 'rename-category-dialog',
      onSubmit: ({ from, to }) => api.put(`/admin/categories/${enc(from)}`, { name: to }),
    });
    if (res) {
      status.set(`Renamed on ${res.rooms ?? 0} rooms.`, 'ok');
      load();
    }
  }

  async function load({ append = false } = {}) {
    const mine = ++seq;
    status.set('Loading…');
    try {
      const page = await api.get(withQuery('/admin/rooms', { filter: filter.value, q: search.value.trim(), cursor: append ? cursor : undefined, limit: PAGE }));
      if (mine !== seq) return;
      const rows = (page.rooms ?? []).map(row);
      if (append) list.append(...rows);
      else list.replaceChildren(...rows);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.set(list.children.length ? '' : 'No rooms.');
    } catch (err) {
      if (mine === seq) status.error(err);
    }
  }

  filter.addEventListener('change', () => load());
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(), 250);
  });

  return {
    el,
    refresh() {
      renameCategory.hidden = !store.can('rooms.manage');
      load();
    },
    destroy: () => clearTimeout(timer),
  };
}
