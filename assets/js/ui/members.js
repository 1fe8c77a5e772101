// The active room's member list (#member-list): paged by username ("Show more"), the room's
// member_count in the header, live presence. The socket watches the list on screen (presence of
// a public room's members reaches only watchers). Clicking a member's name opens (or creates)
// the direct message with them; with `roles.manage` each other member gets a server-role
// selector.

import { errorMessage, withQuery } from '../api.js';
import { batched, byId, h } from './dom.js';
import { openDm, userMenuButton, userTarget } from './people.js';

const PAGE = 100;
const MAX_PAGE = 500;
const ROLES = ['member', 'moderator', 'admin'];

export function createMemberList({ store, api, socket }) {
  const list = byId('member-list');
  const count = byId('member-count');
  const more = byId('members-more');
  const roleStatus = byId('member-role-status');
  let current = null;

  const url = (id, query) => withQuery(`/conversations/${encodeURIComponent(id)}/members`, query);

  /** First page again, as long as what is held (so a reload keeps the extent the user paged to). */
  async function load(id) {
    const limit = Math.min(MAX_PAGE, Math.max(PAGE, store.membersOf(id).length));
    const requestedAt = performance.now();
    try {
      const page = await api.get(url(id, { limit }));
      if (id === current) store.setMembers(id, page.members, { cursor: page.next_cursor, requestedAt });
    } catch (err) {
      if (id === current) store.toast(errorMessage(err));
    }
  }

  async function loadMore() {
    const id = current;
    const cursor = id && store.membersCursor(id);
    if (!cursor) return;
    more.disabled = true;
    const requestedAt = performance.now();
    try {
      const page = await api.get(url(id, { cursor, limit: PAGE }));
      if (id === current) store.setMembers(id, page.members, { cursor: page.next_cursor, append: true, requestedAt });
    } catch (err) {
      store.toast(errorMessage(err));
    } finally {
      more.disabled = false;
    }
  }

  function roleSelect(m) {
    const select = h(
      'select',
      { class: 'member-role', 'aria-label': `Server role of ${m.username}`, dataset: { userId: m.user_id, username: m.username } },
      ROLES.map((r) => h('option', { value: r }, r)),
    );
    select.value = m.server_role ?? 'member';
    select.dataset.role = select.value;
    return select;
  }

  const shown = new Map(); // user_id -> { key, li, dot }: rows are reused, so an open selector survives updates

  function setDot(dot, status, text) {
    dot.className = `presence ${status}`;
    dot.setAttribute('aria-label', status);
    dot.title = text ? `${status} — ${text}` : status;
  }

  function memberEl(m, meId, manage) {
    const isMe = m.user_id === meId;
    const key = JSON.stringify([m.username, m.role, m.server_role, isMe, manage]);
    const old = shown.get(m.user_id);
    if (old?.key === key) {
      setDot(old.dot, store.presenceOf(m.user_id), store.statusTextOf(m.user_id));
      return old.li;
    }
    const dot = h('span', { role: 'img' });
    setDot(dot, store.presenceOf(m.user_id), store.statusTextOf(m.user_id));
    const user = { id: m.user_id, username: m.username, display_name: m.display_name };
    const li = h(
      'li',
      { class: `member${isMe ? ' me' : ''}`, dataset: { userId: m.user_id } },
      dot,
      userTarget(
        h(
          'button',
          { type: 'button', class: 'member-name', dir: 'auto', dataset: { username: m.username }, title: isMe ? 'You' : `Message ${m.username}`, disabled: isMe },
          m.username,
        ),
        user,
      ),
      isMe ? h('span', { class: 'member-note' }, '(you)') : null,
      m.role !== 'member' ? h('span', { class: 'member-note' }, m.role) : null,
      isMe ? null : userMenuButton(user),
      manage && !isMe ? roleSelect(m) : null,
    );
    shown.set(m.user_id, { key, li, dot });
    return li;
  }

  const render = batched(() => {
    const conv = current ? store.conversation(current) : null;
    const members = current ? store.membersOf(current) : [];
    const meId = store.me()?.id;
    const manage = store.can('roles.manage');
    const rows = members.map((m) => memberEl(m, meId, manage));
    const keep = new Set(members.map((m) => m.user_id));
    for (const id of shown.keys()) if (!keep.has(id)) shown.delete(id);
    const same = rows.length === list.children.length && rows.every((li, i) => list.children[i] === li);
    if (!same) list.replaceChildren(...rows);
    const total = conv?.member_count ?? members.length;
    count.textContent = current ? `(${total})` : '';
    more.hidden = !(current && store.membersCursor(current));
  });

  async function setRole(select) {
    const role = select.value;
    const { userId, username } = select.dataset;
    const before = select.dataset.role ?? 'member';
    if (!role || role === before) return;
    select.disabled = true;
    roleStatus.className = 'role-status';
    roleStatus.textContent = `Changing ${username}'s server role…`;
    try {
      const user = await api.put(`/admin/users/${encodeURIComponent(userId)}/role`, { role });
      roleStatus.classList.add('ok');
      roleStatus.textContent = `${user.username} is now ${user.role}.`;
      select.dataset.role = user.role;
    } catch (err) {
      roleStatus.classList.add('error');
      roleStatus.textContent = err?.code === 'last_admin' ? `${errorMessage(err)} (last_admin)` : errorMessage(err);
      select.value = before;
    } finally {
      select.disabled = false;
    }
  }

  list.addEventListener('click', (ev) => {
    const button = ev.target.closest('button.member-name');
    if (button && !button.disabled) openDm({ store, api }, button.dataset.username);
  });
  list.addEventListener('change', (ev) => {
    if (ev.target.matches('select.member-role')) setRole(ev.target);
  });
  more.addEventListener('click', loadMore);

  function show(id) {
    if (current && current !== id) store.forgetMembers(current);
    current = id;
    shown.clear();
    delete list.dataset.watching;
    roleStatus.textContent = '';
    socket.watch(id);
    render();
    if (id) load(id);
  }

  store.on('active-room', ({ conversationId }) => show(conversationId));
  store.on('members', ({ conversationId }) => {
    if (conversationId !== current) return;
    render();
  });
  // Presence changes that happened before the watch began are in a page loaded after it.
  store.on('watching', ({ conversationId }) => {
    if (conversationId !== current) return;
    list.dataset.watching = conversationId; // live presence from here on (a hook for tests too)
    load(current);
  });
  store.on('connection', ({ status }) => {
    if (status !== 'online') delete list.dataset.watching; // watches end with the connection
  });
  store.on('presence', render);
  store.on('permissions', render);
  store.on('conversations', render);
  store.on('me', render);

  show(store.activeRoomId());
}
