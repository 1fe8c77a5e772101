// The user menu: right-click (or the context-menu key / Shift+F10) on any element marked with
// data-user-menu (friends list, member lists, message authors; see people.js userTarget), or a
// click on a "⋯" button (.user-menu-button). Items, as they apply: Profile…, Send a message,
// Add friend / Accept friend request / Remove friend, Block / Unblock, Invite to <group>
// (groups where I have `member.invite`). The profile is a small dialog.

import { errorMessage } from '../api.js';
import { h } from './dom.js';
import { showMenu } from './menu.js';
import { STATUS_LABEL, openDm, presenceDot } from './people.js';

/**
 * `extras`: functions (user, opener element) → more menu items (e.g. ui/moderation.js adds Kick
 * and Ban for room moderators); called each time the menu opens.
 */
export function createContextMenu({ store, api, social, extras = [] }) {
  const report = (err) => store.toast(errorMessage(err));
  const run = (fn, done) => async () => {
    try {
      await fn();
      if (done) store.toast(done, 'info');
    } catch (err) {
      report(err);
    }
  };

  const dialog = h('dialog', { id: 'profile-dialog', class: 'dialog profile-dialog', 'aria-labelledby': 'profile-dialog-title' });
  document.body.append(dialog);

  function showProfile(user) {
    const status = store.presenceOf(user.id);
    const statusText = store.statusTextOf(user.id);
    const friend = social.friend(user.id);
    const rows = [
      ['Username', `@${user.username}`],
      ['Status', STATUS_LABEL[status] ?? status],
      statusText ? ['Custom status', statusText] : null,
      friend ? ['Friends since', new Date(friend.since).toLocaleDateString()] : null,
      social.isBlocked(user.id) ? ['Blocked', 'You blocked this user'] : null,
    ].filter(Boolean);
    const close = h('button', { type: 'button', class: 'small' }, 'Close');
    close.addEventListener('click', () => dialog.close());
    dialog.replaceChildren(
      h('div', { class: 'settings-head' }, h('h2', { id: 'profile-dialog-title', dir: 'auto' }, presenceDot(status, statusText), ' ', user.display_name || user.username), close),
      h('dl', { class: 'profile-facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { dir: 'auto' }, v)])),
    );
    dialog.showModal();
    close.focus();
  }

  function groupsToInvite() {
    return store
      .conversations()
      .filter((c) => c.kind === 'group' && c.membership === 'joined' && store.canIn(c.id, 'member.invite'))
      .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
  }

  function itemsFor(user) {
    const meId = store.me()?.id;
    const profile = { label: 'Profile…', action: 'profile', onSelect: () => showProfile(user) };
    if (user.id === meId) return [profile];
    const blocked = social.isBlocked(user.id);
    const friendItem = social.isFriend(user.id)
      ? { label: 'Remove friend', action: 'unfriend', onSelect: run(() => social.unfriend(user.id), `${user.username} is no longer your friend.`) }
      : social.hasIncoming(user.id)
        ? { label: 'Accept friend request', action: 'accept-friend', onSelect: run(() => social.accept(user.id)) }
        : social.hasOutgoing(user.id)
          ? { label: 'Friend request sent', action: 'pending', disabled: true }
          : { label: 'Add friend', action: 'add-friend', disabled: blocked, onSelect: run(() => social.request(user.username), `Friend request sent to ${user.username}.`) };
    const invites = groupsToInvite().map((g) => ({
      label: `Invite to ${g.name ?? 'group'}`,
      action: 'invite-group',
      onSelect: run(() => api.post(`/groups/${encodeURIComponent(g.id)}/invites`, { username: user.username }), `Invited ${user.username} to ${g.name ?? 'the group'}.`),
    }));
    return [
      profile,
      { label: 'Send a message', action: 'dm', disabled: blocked, onSelect: () => openDm({ store, api }, user.username) },
      friendItem,
      blocked
        ? { label: 'Unblock', action: 'unblock', onSelect: run(() => social.unblock(user.id), `${user.username} is unblocked.`) }
        : { label: 'Block', action: 'block', danger: true, onSelect: run(() => social.block(user.id), `${user.username} is blocked.`) },
      ...invites,
    ];
  }

  const userOf = (el) => ({ id: el.dataset.userMenu, username: el.dataset.username, display_name: el.dataset.displayName || '' });

  function open(el, at = {}) {
    const user = userOf(el);
    if (!user.id || !user.username) return;
    const items = [...itemsFor(user), ...extras.flatMap((fn) => fn(user, el) ?? [])];
    showMenu({ label: `Actions for ${user.username}`, items, opener: el, ...at, className: 'user-menu' });
  }

  document.addEventListener('contextmenu', (ev) => {
    const el = ev.target.closest?.('[data-user-menu]');
    if (!el) return;
    ev.preventDefault();
    open(el, { x: ev.clientX, y: ev.clientY });
  });
  document.addEventListener('click', (ev) => {
    const el = ev.target.closest?.('.user-menu-button');
    if (el) open(el);
  });
  document.addEventListener('keydown', (ev) => {
    const el = ev.target.closest?.('[data-user-menu]');
    if (!el || !(ev.key === 'ContextMenu' || (ev.key === 'F10' && ev.shiftKey))) return;
    ev.preventDefault();
    open(el);
  });

  return { open, showProfile };
}
