// Chat screen bootstrap: restore the session, build the store and every UI module, pick the
// room to show, then open the realtime connection. Modules only talk through the store.

import * as api from './api.js';
import { createSocket } from './socket.js';
import { createStore } from './store.js';
import { createTimeline } from './timeline.js';
import { createPrefs } from './prefs.js';
// settings9: notifications, local DM history, the settings modal, per-conversation levels.
import { createNotifications } from './notifications.js';
import { createLocalHistory } from './local-history.js';
import { createSettingsModal } from './ui/settings-modal.js';
import { createRoomNotifyButton, notifyButton } from './ui/notify-level.js';
import { createSocial } from './social.js';
import { createAccountMenu } from './ui/account.js';
import { createAdminPanel } from './ui/admin/panel.js';
import { createAnnouncements } from './ui/announcement.js';
import { createDmWindows } from './ui/dm-window.js';
import { createContextMenu } from './ui/context-menu.js';
import { createDock } from './ui/dock.js';
import { byId } from './ui/dom.js';
import { createFriendsPanel } from './ui/friends.js';
import { createGroupWindows } from './ui/group-window.js';
import { createGroupsPanel } from './ui/groups.js';
import { showHttpsBanner } from './ui/https-banner.js';
import { createIdleWarning } from './ui/idle.js';
import { createInvitations } from './ui/invitations.js';
import { createMemberList } from './ui/members.js';
import { createModeration } from './ui/moderation.js';
import { createModerationFrames } from './moderation-frames.js';
import { createMissedList } from './ui/missed.js';
import { createMobileBar } from './ui/mobile.js';
import { createMotd } from './ui/motd.js';
import { createPrefsMenu } from './ui/prefs-menu.js';
import { createPresenceControls } from './ui/presence.js';
import { createRoomBrowser } from './ui/room-browser.js';
import { createRoomView } from './ui/room-view.js';
import { createSearch } from './ui/search.js'; // search
import { createAccountSettings } from './ui/settings-account.js';
import { createSessionSettings } from './ui/settings-sessions.js';
import { createToasts } from './ui/toast.js';
import { createWindowManager } from './ui/windows.js';

const ROOM_KEY = 'echochat.activeRoom';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function remembered() {
  try {
    return localStorage.getItem(ROOM_KEY);
  } catch {
    return null;
  }
}

function remember(id) {
  try {
    if (id) localStorage.setItem(ROOM_KEY, id);
  } catch {
    // Storage disabled: the first room is a fine default.
  }
}

/** GET /users/me (api.js refreshes the cookie or sends us to /login); waits out outages. */
async function restoreSession(store) {
  for (let delay = 1000; ; delay = Math.min(delay * 2, 10000)) {
    try {
      return await api.ensureSession();
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) throw err;
      store.toast(`${api.errorMessage(err)} Retrying…`);
      await sleep(delay);
    }
  }
}

function pickInitialRoom(store) {
  const rooms = store.conversations().filter((c) => c.kind === 'room' && c.membership === 'joined');
  const saved = rooms.find((c) => c.id === remembered());
  const first = rooms.sort((a, b) => Number(b.official) - Number(a.official) || (a.name ?? '').localeCompare(b.name ?? ''))[0];
  const pick = saved ?? first;
  if (pick) store.setActiveRoom(pick.id);
}

/** Reopens the DM and group windows open before the reload that are still in my list. */
function restoreWindows(store, windows) {
  // Minimized ones open minimized: not shown, so neither loaded nor marked read.
  windows.restore(({ key, minimized }) => {
    const [kind, id] = key.split(':');
    const conv = store.conversation(id);
    if (kind === 'dm' && conv?.kind === 'dm' && conv.membership !== 'invited') {
      store.emit('open-dm', { conversationId: id, minimized });
      return true;
    }
    if (kind === 'group' && conv?.kind === 'group' && conv.membership === 'joined') {
      store.emit('open-group', { conversationId: id, minimized });
      return true;
    }
    return false;
  });
}

async function main() {
  showHttpsBanner();
  const store = createStore();
  createToasts({ store });
  const session = await restoreSession(store);
  store.setMe(session.user, session.permissions);

  const timeline = createTimeline({ api, store });
  const socket = createSocket({ store, api, timeline });
  // Open DM and group windows are remembered per account and reopened after a reload.
  const windows = createWindowManager({
    layer: byId('windows'),
    taskbar: byId('taskbar'),
    rightInset: byId('dock').offsetWidth,
    storageKey: `echochat.windows.${session.user.id}`,
  });
  createMobileBar({ store });

  const prefs = createPrefs({ store, api, socket });
  // settings9: before the DM windows, which open themselves on `incoming` (see notifications.js).
  const notifications = createNotifications({ store, prefs });
  const history = createLocalHistory({ store });
  const settingsModal = createSettingsModal({ store, prefs, notifications, history, opener: byId('settings-button') });
  byId('open-settings').addEventListener('click', () => settingsModal.open());
  createRoomNotifyButton({ store, api });
  const bell = (id) => notifyButton({ store, api }, id);
  const social = createSocial({ store, api, socket });

  createDock({ store, api, socket });
  createPresenceControls({ store, api, socket });
  createMotd({ store, socket });
  createFriendsPanel({ store, api, social, prefs });
  createGroupsPanel({ store, api });
  createInvitations({ store, api });
  createMissedList({ store, social, prefs });
  createPrefsMenu({ store, prefs });
  const moderation = createModeration({ store, api });
  createModerationFrames({ store, socket });
  createAnnouncements({ store });
  createContextMenu({ store, api, social, extras: [moderation.memberItems] });
  createRoomBrowser({ store, api, socket });
  createRoomView({ store, api, socket, timeline, social, moderation });
  createMemberList({ store, api, socket });
  createDmWindows({ store, socket, timeline, windows, notifyButton: bell });
  createGroupWindows({ store, api, socket, timeline, windows, social, moderation, notifyButton: bell });
  createAdminPanel({ store, api });
  createSearch({ store, api }); // search
  const account = createAccountMenu({ store, api, socket });
  createAccountSettings({ store, api, account });
  createSessionSettings({ api, socket });
  createIdleWarning({ store, socket, idleSecs: session.idle_timeout_secs });

  let listed = false;
  try {
    store.setConversations(await api.allPages('/conversations', 'conversations'));
    listed = true;
  } catch (err) {
    store.toast(api.errorMessage(err));
  }
  store.on('active-room', ({ conversationId }) => remember(conversationId));
  pickInitialRoom(store);
  // Without the list we cannot tell which windows still apply: keep the saved ones for later.
  if (listed) restoreWindows(store, windows);

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    for (const id of store.visibleIds()) socket.markRead(id);
  });

  socket.connect();
}

main().catch((err) => {
  if (!(err instanceof api.ApiError && err.status === 401)) console.error(err);
});
