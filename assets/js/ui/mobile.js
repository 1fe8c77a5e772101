// The mobile layout's bottom bar. Below 700 px (app.css, "mobile" section) the chat screen shows
// one pane at a time — the room browser ("Rooms"), the open room ("Chat") or the messenger dock
// ("Dock": friends, groups, my rooms, DMs, minimized windows) — chosen with the bar at the
// bottom. The chosen pane is `body[data-pane]`; the bar's buttons say which one is shown with
// aria-current="page" (← → Home End move between them). Opening a room switches to Chat; the
// Dock button shows how many unread DM and group messages wait. DM and group windows are
// full-screen sheets there; one that would pop up by itself (a new DM or group message) opens
// minimized instead, so it never covers what the person is typing — the Dock button's badge
// and the taskbar say it is there. Wider screens ignore all of this.

import { byId } from './dom.js';

const QUERY = '(max-width: 700px)';

/** Whether the mobile layout is on now (a window that pops up by itself opens minimized then). */
export const isMobileLayout = () => window.matchMedia(QUERY).matches;
const PANES = ['rooms', 'chat', 'dock'];
const PANE_KEY = 'echochat.mobilePane';

export function createMobileBar({ store }) {
  const bar = byId('mobile-bar');
  const buttons = PANES.map((pane) => byId(`pane-${pane}`));
  const badge = byId('pane-dock-badge');
  const media = window.matchMedia(QUERY);

  function saved() {
    try {
      const pane = sessionStorage.getItem(PANE_KEY);
      return PANES.includes(pane) ? pane : 'chat';
    } catch {
      return 'chat';
    }
  }

  /** Shows `pane` (on mobile); `focus` moves keyboard focus to its button. */
  function show(pane, { focus = false } = {}) {
    if (!PANES.includes(pane)) return;
    document.body.dataset.pane = pane;
    for (const button of buttons) {
      if (button.dataset.pane === pane) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
    }
    try {
      sessionStorage.setItem(PANE_KEY, pane);
    } catch {
      // Storage disabled: the chat pane is a fine default next time.
    }
    if (focus) byId(`pane-${pane}`).focus();
  }

  function applyMode() {
    document.body.classList.toggle('is-mobile', media.matches);
  }

  bar.addEventListener('click', (ev) => {
    const button = ev.target.closest('button.mobile-tab');
    if (button) show(button.dataset.pane);
  });
  bar.addEventListener('keydown', (ev) => {
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    const next = { ArrowRight: (at + 1) % buttons.length, ArrowLeft: (at - 1 + buttons.length) % buttons.length, Home: 0, End: buttons.length - 1 }[ev.key];
    if (next === undefined) return;
    ev.preventDefault();
    buttons[next].focus();
  });

  // Picking a room (browser, dock) is asking to read it.
  store.on('active-room', ({ conversationId }) => {
    if (conversationId && media.matches) show('chat');
  });

  // Unread DMs and groups (the dock's lists) on the Dock button.
  function renderBadge() {
    const unread = store
      .conversations()
      .filter((c) => (c.kind === 'dm' || c.kind === 'group') && c.membership === 'joined')
      .reduce((sum, c) => sum + (c.unread_count ?? 0), 0);
    badge.hidden = !unread;
    badge.textContent = unread > 99 ? '99+' : String(unread);
    badge.setAttribute('aria-label', `${unread} unread`);
  }
  store.on('conversations', renderBadge);

  media.addEventListener('change', applyMode);
  applyMode();
  show(saved());
  return { show, isMobile: () => media.matches };
}
