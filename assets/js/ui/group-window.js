// Group windows: one floating window per group, like a DM window (ui/dm-window.js), with the
// group's topic, an invite box (`member.invite`), Edit (name and topic, `conversation.update`,
// ui/group-settings.js), Leave, the member list (presence, role badge,
// mute state, the user menu, and a "Manage" menu with what I may do to that member: change the
// role with `member.role`, mute for a while / unmute with `member.mute`, kick with
// `member.kick`, transfer ownership with `conversation.transfer`), the log and a compose box.
// Opens on the store's "open-group" event (Groups tab) and pops up when a group message arrives.
// The server decides every action; its refusals are shown as toasts.

import { errorMessage, withQuery } from '../api.js';
import { createCompose, createComposeError } from './compose.js';
import { createGroupSettings } from './group-settings.js';
import { createMessageList } from './messages.js';
import { isMobileLayout } from './mobile.js';
import { batched, describeTyping, h, replaceKeepingFocus } from './dom.js';
import { showMenu } from './menu.js';
import { presenceDot, userMenuButton, userTarget } from './people.js';

const MUTES = [
  ['10 minutes', 600],
  ['1 hour', 3600],
  ['1 day', 86400],
  ['7 days', 604800],
];

const mutedNow = (m) => Boolean(m.muted_until) && new Date(m.muted_until).getTime() > Date.now();

export function createGroupWindows({ store, api, socket, timeline, windows, social, moderation, notifyButton }) {
  const open = new Map(); // conversation id -> { win, list, typingLine, textarea, render }

  const report = (err) => store.toast(errorMessage(err));
  const groupName = (conv) => conv?.name ?? 'Group';
  const base = (id) => `/groups/${encodeURIComponent(id)}`;

  function show(id) {
    store.setVisible(id, true);
    timeline
      .ensureLoaded(id)
      .then(() => socket.markRead(id))
      .catch(report);
  }

  async function loadMembers(id) {
    const requestedAt = performance.now();
    try {
      const page = await api.get(withQuery(`/conversations/${encodeURIComponent(id)}/members`, { limit: 500 }));
      if (open.has(id)) store.setMembers(id, page.members, { cursor: page.next_cursor, requestedAt });
    } catch (err) {
      report(err);
    }
  }

  /** May I act on this member (the outranking rule; the server checks it again)? */
  function outranks(id, m) {
    const me = store.me()?.id;
    const mine = store.conversation(id)?.role;
    if (m.user_id === me) return false;
    if (mine === 'owner') return true;
    return mine === 'moderator' && m.role === 'member';
  }

  function manageItems(id, m) {
    const can = (perm) => store.canIn(id, perm) && outranks(id, m);
    const act = (fn, done) => async () => {
      try {
        await fn();
        if (done) store.toast(done, 'info');
      } catch (err) {
        report(err);
      }
    };
    const memberUrl = `${base(id)}/members/${encodeURIComponent(m.user_id)}`;
    const applyMember = (member) => store.updateMember(id, member.user_id, member);
    const items = [];
    if (can('member.role') && m.role !== 'owner') {
      const next = m.role === 'moderator' ? 'member' : 'moderator';
      items.push({
        label: next === 'moderator' ? 'Make moderator' : 'Make member',
        action: `role-${next}`,
        onSelect: act(async () => applyMember(await api.put(`${memberUrl}/role`, { role: next })), `${m.username} is now ${next}.`),
      });
    }
    if (can('conversation.transfer')) {
      items.push({
        label: 'Make owner (transfer ownership)',
        action: 'transfer',
        onSelect: act(async () => {
          if (!window.confirm(`Make ${m.username} the owner of ${groupName(store.conversation(id))}? You become a moderator.`)) return;
          store.upsertConversation(await api.post(`${base(id)}/transfer`, { user_id: m.user_id }));
          loadMembers(id);
        }),
      });
    }
    if (can('member.mute')) {
      if (mutedNow(m)) {
        items.push({ label: 'Unmute', action: 'unmute', onSelect: act(async () => applyMember(await api.del(`${memberUrl}/mute`)), `${m.username} is unmuted.`) });
      }
      for (const [label, secs] of MUTES) {
        items.push({
          label: `Mute for ${label}`,
          action: `mute-${secs}`,
          onSelect: act(async () => applyMember(await api.put(`${memberUrl}/mute`, { duration_secs: secs })), `${m.username} is muted for ${label}.`),
        });
      }
    }
    if (can('member.kick')) {
      items.push({
        label: 'Remove from group',
        action: 'kick',
        danger: true,
        onSelect: act(async () => {
          if (!window.confirm(`Remove ${m.username} from the group?`)) return;
          await api.del(memberUrl);
          store.removeMember(id, m.user_id);
        }),
      });
    }
    return items;
  }

  function memberRow(id, m) {
    const me = m.user_id === store.me()?.id;
    const user = { id: m.user_id, username: m.username, display_name: m.display_name };
    const items = manageItems(id, m);
    const muted = mutedNow(m);
    const manage = items.length
      ? h('button', { type: 'button', class: 'small manage-member', 'aria-haspopup': 'menu', 'aria-label': `Manage ${m.username}`, title: 'Manage' }, '⚙')
      : null;
    manage?.addEventListener('click', () => showMenu({ label: `Manage ${m.username}`, items: manageItems(id, m), opener: manage }));
    return h(
      'li',
      { class: `member group-member${me ? ' me' : ''}`, dataset: { userId: m.user_id, role: m.role } },
      presenceDot(store.presenceOf(m.user_id), store.statusTextOf(m.user_id)),
      userTarget(h('span', { class: 'member-label', dir: 'auto', tabindex: '0' }, m.username), user),
      me ? h('span', { class: 'member-note' }, '(you)') : null,
      m.role !== 'member' ? h('span', { class: `role-badge role-${m.role}` }, m.role) : null,
      muted ? h('span', { class: 'role-badge muted-badge', title: `Muted until ${new Date(m.muted_until).toLocaleString()}` }, 'muted') : null,
      me ? null : userMenuButton(user),
      manage,
    );
  }

  function openWindow(id, { focus = true, minimized = false } = {}) {
    const existing = open.get(id);
    if (existing) {
      existing.win.restore();
      if (focus) existing.textarea.focus();
      return;
    }
    const conv = store.conversation(id);
    if (!conv) return;
    const name = groupName(conv);
    const topic = h('p', { class: 'group-topic', dir: 'auto' });
    const inviteInput = h('input', { type: 'text', class: 'group-invite-input', placeholder: 'Invite user…', autocomplete: 'off', autocapitalize: 'none', 'aria-label': `Invite a user to ${name}` });
    const inviteForm = h('form', { class: 'group-invite invite-form' }, inviteInput, h('button', { type: 'submit', class: 'small' }, 'Invite'));
    const leave = h('button', { type: 'button', class: 'small group-leave' }, 'Leave');
    const settings = createGroupSettings({ store, api, conversationId: id });
    const head = h('div', { class: 'group-head' }, topic, h('div', { class: 'group-actions' }, inviteForm, settings.button, leave), settings.form);
    const log = h('div', { class: 'group-log log', role: 'log', 'aria-live': 'polite', 'aria-label': `Messages in ${name}`, tabindex: '0' });
    const memberCount = h('span', { class: 'muted' });
    const memberList = h('ul', { class: 'group-member-list', 'aria-label': `Members of ${name}` });
    const aside = h('aside', { class: 'group-members' }, h('h3', { class: 'section-title' }, 'Members ', memberCount), memberList);
    const typingLine = h('div', { class: 'group-typing typing', 'aria-live': 'polite' });
    const { form, textarea } = createCompose({
      id: `group-compose-${id}`,
      label: `Message to ${name}`,
      onSend: (text) => socket.send(id, text),
      onTyping: () => socket.typing(id),
    });
    const composeError = createComposeError({ store, conversationId: () => id, form });
    const win = windows.open({
      title: name,
      className: 'group-window',
      dataset: { conversationId: id },
      restoreKey: `group:${id}`, // reopened after a reload (windows.js, app.js)
      onMinimize: () => store.setVisible(id, false),
      onRestore: () => show(id),
      onClose: () => {
        store.setVisible(id, false);
        open.get(id)?.list.destroy();
        store.forgetMembers(id);
        open.delete(id);
      },
    });
    win.body.append(head, h('div', { class: 'group-main' }, log, aside), typingLine, composeError.el, form);
    // settings9: the 🔔 notifications menu (ui/notify-level.js) in the title bar.
    if (notifyButton) win.el.querySelector('.window-buttons')?.prepend(notifyButton(id));

    let unmuteTimer = null;
    const render = batched(() => {
      const c = store.conversation(id);
      if (!c) return;
      win.setTitle(groupName(c), h('span', { class: 'group-icon', 'aria-hidden': 'true' }, '👥'));
      topic.textContent = c.topic ?? '';
      inviteForm.hidden = !store.canIn(id, 'member.invite');
      settings.render();
      const members = store.membersOf(id);
      // Muted: the compose box says until when (and is disabled); it comes back by itself.
      const mine = members.find((m) => m.user_id === store.me()?.id);
      const muted = Boolean(mine && mutedNow(mine));
      clearTimeout(unmuteTimer);
      if (muted) {
        composeError.show('muted', `You are muted in this group until ${new Date(mine.muted_until).toLocaleString()}.`);
        unmuteTimer = setTimeout(render, Math.min(new Date(mine.muted_until).getTime() - Date.now() + 500, 2 ** 31 - 1));
      } else if (composeError.code() === 'muted') {
        composeError.clear();
      }
      textarea.disabled = muted || !store.canIn(id, 'message.send');
      memberCount.textContent = `(${c.member_count ?? members.length})`;
      const rank = { owner: 0, moderator: 1, member: 2 };
      members.sort((a, b) => (rank[a.role] ?? 3) - (rank[b.role] ?? 3) || a.username.localeCompare(b.username));
      replaceKeepingFocus(memberList, members.map((m) => memberRow(id, m)));
    });

    inviteForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const username = inviteInput.value.trim();
      if (!username) return;
      try {
        const user = await api.post(`${base(id)}/invites`, { username });
        inviteInput.value = '';
        store.toast(`Invited ${user?.username ?? username}.`, 'info');
      } catch (err) {
        report(err);
      }
    });
    leave.addEventListener('click', async () => {
      if (!window.confirm(`Leave ${groupName(store.conversation(id))}?`)) return;
      try {
        await api.post(`${base(id)}/leave`);
        store.removeConversation(id);
        store.toast(`You left ${name}.`, 'info');
      } catch (err) {
        report(err);
      }
    });

    const list = createMessageList({
      store,
      conversationId: id,
      container: log,
      onNearTop: () => timeline.loadOlder(id).catch(report),
      onRetry: socket.retry,
      onDiscard: store.resolvePending,
      isBlocked: social.isBlocked,
      decorate: moderation?.decorate(id), // Report message…, and the moderators' actions
    });
    open.set(id, { win, list, typingLine, textarea, render });
    render();
    loadMembers(id);
    // Restored minimized after a reload (windows.js): not shown, so not loaded or read yet.
    if (minimized) win.minimize();
    else show(id);
    if (focus && !minimized) textarea.focus();
  }

  const renderAll = () => {
    for (const [id, entry] of open) {
      if (!store.conversation(id) || store.conversation(id).membership !== 'joined') entry.win.close();
      else entry.render();
    }
  };

  store.on('open-group', ({ conversationId, minimized }) => openWindow(conversationId, { minimized: Boolean(minimized) }));
  store.on('incoming', ({ message }) => {
    const conv = store.conversation(message.conversation_id);
    if (conv?.kind === 'group' && conv.membership === 'joined' && !open.has(conv.id)) openWindow(conv.id, { focus: false, minimized: isMobileLayout() }); // a sheet would cover the screen on mobile
  });
  store.on('typing', ({ conversationId }) => {
    const entry = open.get(conversationId);
    if (entry) entry.typingLine.replaceChildren(...describeTyping(store.typingNames(conversationId)));
  });
  store.on('members', ({ conversationId }) => open.get(conversationId)?.render());
  store.on('presence', renderAll);
  store.on('conversations', renderAll);
  store.on('conversation-updated', renderAll);
  // After a reconnect the member list may have changed meanwhile.
  store.on('ready', () => {
    for (const id of open.keys()) loadMembers(id);
  });

  return { open: openWindow };
}
