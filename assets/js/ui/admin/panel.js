// The admin panel (issue 8): a floating, draggable (by its title bar), resizable, minimizable
// panel with one tab per area. It exists only while my server permissions (GET /users/me,
// `ready`, `user_updated`: store.can) contain one that opens it — every server permission except
// `rooms.create`; each tab needs its own permission (TABS below). Without one, the dock's Admin
// button is hidden, Ctrl+Alt+P does nothing, window.ECAP is absent, and no code path calls an
// /admin route. Losing the permission live closes the panel.
//
// Keys: Ctrl+Alt+P toggles it; Ctrl+Alt+Shift+P forgets its saved state and rebuilds it (open,
// default place). Console: window.ECAP.show() / toggle() / reset(). Position, size, open and
// minimized state and the selected tab are kept in localStorage["echochat.adminPanel"].

import { h } from '../dom.js';
import { PANEL_PERMISSIONS } from './common.js';
import { createAuditTab } from './audit.js';
import { createBroadcastTab } from './broadcast.js';
import { createOverviewTab } from './overview.js';
import { createReportsTab } from './reports.js';
import { createRolesTab } from './roles.js';
import { createRoomsTab } from './rooms.js';
import { createSettingsTab } from './settings.js';
import { createUsersTab } from './users.js';

const KEY = 'echochat.adminPanel';
const MIN_W = 360;
const MIN_H = 240;

/** The tabs, in order; `allowed` decides from my server permissions. */
const TABS = [
  { id: 'overview', label: 'Overview', allowed: () => true, create: createOverviewTab },
  { id: 'users', label: 'Users', allowed: (can) => can('users.view'), create: createUsersTab },
  { id: 'rooms', label: 'Rooms', allowed: (can) => can('rooms.moderate') || can('rooms.manage'), create: createRoomsTab },
  { id: 'roles', label: 'Roles', allowed: (can) => can('roles.manage'), create: createRolesTab },
  { id: 'reports', label: 'Reports', allowed: (can) => can('reports.review'), create: createReportsTab },
  { id: 'audit', label: 'Audit', allowed: (can) => can('audit.read'), create: createAuditTab },
  { id: 'settings', label: 'Settings', allowed: (can) => can('settings.manage'), create: createSettingsTab },
  { id: 'broadcast', label: 'Broadcast', allowed: (can) => can('broadcast.send'), create: createBroadcastTab },
];

const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));

function loadState() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null');
    return s && typeof s === 'object' ? s : {};
  } catch {
    return {};
  }
}

function saveState(state) {
  try {
    localStorage.setItem(KEY, JSON.stringify(state));
  } catch {
    // Storage disabled: the panel still works, it just forgets.
  }
}

function forgetState() {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // nothing kept
  }
}

export function createAdminPanel({ store, api }) {
  const adminButton = document.getElementById('admin-button');
  const allowed = () => PANEL_PERMISSIONS.some((p) => store.can(p));
  let state = loadState(); // { open, minimized, x, y, w, h, tab }
  let panel = null; // the built panel, while it is open (or minimized)

  const persist = () => saveState(state);

  function defaults() {
    const w = Math.min(760, window.innerWidth - 16);
    const hgt = Math.min(560, window.innerHeight - 16);
    return { x: Math.max(8, Math.round((window.innerWidth - w) / 2)), y: Math.max(8, Math.round(Math.min(60, window.innerHeight - hgt))), w, h: hgt };
  }

  /** Keeps the panel inside the viewport (after a drag, a resize of the window, a restore). */
  function place() {
    if (!panel) return;
    const el = panel.el;
    const w = clamp(state.w ?? defaults().w, MIN_W, Math.max(MIN_W, window.innerWidth));
    const hgt = clamp(state.h ?? defaults().h, MIN_H, Math.max(MIN_H, window.innerHeight));
    el.style.width = `${Math.min(w, window.innerWidth)}px`;
    if (!state.minimized) el.style.height = `${Math.min(hgt, window.innerHeight)}px`;
    else el.style.height = '';
    const x = clamp(state.x ?? defaults().x, 0, Math.max(0, window.innerWidth - el.offsetWidth));
    const y = clamp(state.y ?? defaults().y, 0, Math.max(0, window.innerHeight - Math.min(el.offsetHeight, 40)));
    el.style.left = `${x}px`;
    el.style.top = `${y}px`;
    state.x = x;
    state.y = y;
  }

  function dragBy(handle) {
    handle.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0 || ev.target.closest('button')) return;
      const rect = panel.el.getBoundingClientRect();
      const dx = ev.clientX - rect.left;
      const dy = ev.clientY - rect.top;
      handle.setPointerCapture(ev.pointerId);
      panel.el.classList.add('dragging');
      const move = (e) => {
        state.x = e.clientX - dx;
        state.y = e.clientY - dy;
        place();
      };
      const up = () => {
        panel?.el.classList.remove('dragging');
        handle.removeEventListener('pointermove', move);
        handle.removeEventListener('pointerup', up);
        handle.removeEventListener('pointercancel', up);
        persist();
      };
      handle.addEventListener('pointermove', move);
      handle.addEventListener('pointerup', up);
      handle.addEventListener('pointercancel', up);
    });
  }

  const visibleTabs = () => TABS.filter((t) => t.allowed(store.can));

  function renderTabs() {
    if (!panel) return;
    const tabs = visibleTabs();
    if (!tabs.some((t) => t.id === state.tab)) state.tab = tabs[0]?.id;
    panel.strip.replaceChildren(
      ...tabs.map((t) =>
        h(
          'button',
          {
            type: 'button',
            role: 'tab',
            id: `admin-tab-${t.id}`,
            class: 'admin-tab',
            'aria-selected': String(t.id === state.tab),
            'aria-controls': `admin-pane-${t.id}`,
            tabindex: t.id === state.tab ? '0' : '-1',
            dataset: { tab: t.id },
          },
          t.label,
        ),
      ),
    );
    // Tabs whose permission went away are dropped with their content.
    for (const [id, tab] of panel.tabs) {
      if (!tabs.some((t) => t.id === id)) {
        tab.destroy?.();
        tab.el.remove();
        panel.tabs.delete(id);
      }
    }
    showTab(state.tab, { refresh: false });
  }

  /** Shows a tab (created on first use), `refresh` reloads its data. Returns the tab. */
  function showTab(id, { refresh = true } = {}) {
    if (!panel) return null;
    const def = visibleTabs().find((t) => t.id === id);
    if (!def) return null;
    state.tab = id;
    persist();
    for (const b of panel.strip.children) {
      const on = b.dataset.tab === id;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    let tab = panel.tabs.get(id);
    const fresh = !tab;
    if (!tab) {
      tab = def.create({ store, api, panel: controls });
      tab.el.id = `admin-pane-${id}`;
      tab.el.classList.add('admin-pane');
      tab.el.setAttribute('role', 'tabpanel');
      tab.el.setAttribute('aria-labelledby', `admin-tab-${id}`);
      panel.tabs.set(id, tab);
      panel.panes.append(tab.el);
    }
    for (const [other, t] of panel.tabs) t.el.hidden = other !== id;
    panel.el.dataset.tab = id;
    if (fresh || refresh) tab.refresh?.();
    return tab;
  }

  function build() {
    const title = h('span', { id: 'admin-title', class: 'admin-title' }, 'Admin panel');
    const minimize = h('button', { type: 'button', class: 'window-button', id: 'admin-minimize', 'aria-label': 'Minimize', title: 'Minimize (Ctrl+Alt+P hides)' }, '–');
    const close = h('button', { type: 'button', class: 'window-button', id: 'admin-close', 'aria-label': 'Close', title: 'Close' }, '×');
    const bar = h('div', { class: 'window-titlebar admin-titlebar' }, title, h('span', { class: 'window-buttons' }, minimize, close));
    const strip = h('div', { class: 'admin-tabs', role: 'tablist', 'aria-label': 'Admin areas' });
    const panes = h('div', { class: 'admin-panes' });
    const body = h('div', { id: 'admin-panel', class: 'admin-panel' }, strip, panes);
    const el = h('section', { id: 'admin-window', class: 'admin-window admin-float', role: 'dialog', 'aria-labelledby': 'admin-title' }, bar, body);
    panel = { el, bar, strip, panes, body, minimize, tabs: new Map(), observer: null };

    minimize.addEventListener('click', () => setMinimized(!state.minimized));
    close.addEventListener('click', () => hide());
    bar.addEventListener('dblclick', (ev) => {
      if (!ev.target.closest('button')) setMinimized(!state.minimized);
    });
    el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !ev.defaultPrevented && !ev.target.closest('dialog')) setMinimized(true);
    });
    strip.addEventListener('click', (ev) => {
      const b = ev.target.closest('[role=tab]');
      if (b) showTab(b.dataset.tab);
    });
    strip.addEventListener('keydown', (ev) => {
      const tabs = [...strip.children];
      const at = tabs.indexOf(document.activeElement);
      let next = null;
      if (ev.key === 'ArrowRight') next = tabs[(at + 1) % tabs.length];
      else if (ev.key === 'ArrowLeft') next = tabs[(at - 1 + tabs.length) % tabs.length];
      else if (ev.key === 'Home') next = tabs[0];
      else if (ev.key === 'End') next = tabs[tabs.length - 1];
      if (!next) return;
      ev.preventDefault();
      next.focus();
      showTab(next.dataset.tab);
    });
    dragBy(bar);
    document.body.append(el);
    // The CSS `resize` handle changes the size; remember it (not while minimized).
    panel.observer = new ResizeObserver(() => {
      if (!panel || state.minimized || panel.el.classList.contains('dragging')) return;
      const w = Math.round(panel.el.offsetWidth);
      const hgt = Math.round(panel.el.offsetHeight);
      if (w >= MIN_W && hgt >= MIN_H && (w !== state.w || hgt !== state.h)) {
        state.w = w;
        state.h = hgt;
        persist();
      }
    });
    panel.observer.observe(el);
    applyMinimized();
    renderTabs();
    place();
  }

  function applyMinimized() {
    panel.el.classList.toggle('minimized', Boolean(state.minimized));
    panel.el.dataset.minimized = String(Boolean(state.minimized));
    panel.body.hidden = Boolean(state.minimized);
    panel.minimize.textContent = state.minimized ? '▢' : '–';
    panel.minimize.setAttribute('aria-label', state.minimized ? 'Restore' : 'Minimize');
  }

  function setMinimized(min) {
    if (!panel) return;
    state.minimized = Boolean(min);
    applyMinimized();
    place();
    persist();
  }

  function destroy() {
    if (!panel) return;
    panel.observer?.disconnect();
    for (const tab of panel.tabs.values()) tab.destroy?.();
    panel.el.remove();
    panel = null;
  }

  // --- the public controls (Admin button, keys, window.ECAP) ------------------------------
  function show() {
    if (!allowed()) return false;
    if (!panel) build();
    state.open = true;
    if (state.minimized) setMinimized(false);
    persist();
    panel.el.querySelector('[role=tab][aria-selected=true]')?.focus();
    return true;
  }

  function hide() {
    state.open = false;
    persist();
    destroy();
  }

  function toggle() {
    if (!allowed()) return false;
    if (panel && !state.minimized) hide();
    else show();
    return Boolean(panel);
  }

  function reset() {
    if (!allowed()) return false;
    destroy();
    forgetState();
    state = {};
    return show();
  }

  /** Opens the Users tab on one user (moderation menus' "Open user in admin panel"). */
  function openUser(userId) {
    if (!allowed() || !store.can('users.view')) return;
    show();
    showTab('users', { refresh: false })?.openUser?.(userId);
  }

  const controls = { showTab, openUser };

  // Ctrl+Alt+P / Ctrl+Alt+Shift+P (by the physical key: Alt changes `key` on some layouts).
  document.addEventListener('keydown', (ev) => {
    if (!ev.ctrlKey || !ev.altKey || ev.metaKey || !(ev.code === 'KeyP' || ev.key?.toLowerCase() === 'p')) return;
    if (!allowed()) return; // nothing at all for those without the permission
    ev.preventDefault();
    if (ev.shiftKey) reset();
    else toggle();
  });

  window.addEventListener('resize', () => {
    if (panel) place();
  });

  adminButton?.addEventListener('click', () => show());
  store.on('admin-open-user', ({ userId }) => openUser(userId));

  const api_ = Object.freeze({ show: () => show(), toggle: () => toggle(), reset: () => reset() });

  /** Follows my permissions: ECAP, the Admin button and the panel exist only while allowed. */
  function sync() {
    const ok = allowed();
    if (adminButton) adminButton.hidden = !ok;
    if (ok) {
      window.ECAP = api_;
      if (panel) renderTabs();
      else if (state.open) {
        build();
      }
    } else {
      if (window.ECAP === api_) delete window.ECAP;
      destroy(); // permissions lost live: the panel closes (its saved state stays for later)
    }
  }

  store.on('permissions', sync);
  sync();

  return { show, hide, toggle, reset, isOpen: () => Boolean(panel) };
}
