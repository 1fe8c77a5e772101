// A popup menu (role="menu") for context menus and "⋯" buttons: opens at the pointer or under
// its button, focuses its first item, and is driven by the keyboard (↑ ↓ Home End, Enter/Space
// to choose, Escape or Tab to close; focus goes back to what opened it). One menu at a time.

import { h } from './dom.js';

let current = null; // { el, opener, close }

/** Closes the open menu, if any. */
export function closeMenu({ refocus = false } = {}) {
  if (!current) return;
  const { el, opener } = current;
  current = null;
  el.remove();
  document.removeEventListener('pointerdown', onOutside, true);
  if (refocus && opener?.isConnected) opener.focus();
}

function onOutside(ev) {
  if (current && !current.el.contains(ev.target)) closeMenu();
}

/**
 * Opens a menu. `items`: [{ label, onSelect, danger?, disabled? } | null]; nulls are skipped.
 * Position: `x`/`y` (viewport pixels, a right-click) or under `opener`.
 */
export function showMenu({ label, items, opener = null, x, y, className = '' }) {
  closeMenu();
  const buttons = items.filter(Boolean).map((item) =>
    h(
      'button',
      { type: 'button', role: 'menuitem', class: item.danger ? 'danger' : null, disabled: item.disabled, dataset: { action: item.action ?? '' }, tabindex: '-1' },
      item.label,
    ),
  );
  const el = h('div', { class: `popup-menu ${className}`.trim(), role: 'menu', 'aria-label': label }, ...buttons);
  items.filter(Boolean).forEach((item, i) => {
    buttons[i].addEventListener('click', () => {
      closeMenu({ refocus: true });
      item.onSelect?.();
    });
  });
  el.addEventListener('keydown', (ev) => {
    const enabled = buttons.filter((b) => !b.disabled);
    const at = enabled.indexOf(document.activeElement);
    let next = null;
    if (ev.key === 'ArrowDown') next = enabled[(at + 1) % enabled.length];
    else if (ev.key === 'ArrowUp') next = enabled[(at - 1 + enabled.length) % enabled.length];
    else if (ev.key === 'Home') next = enabled[0];
    else if (ev.key === 'End') next = enabled[enabled.length - 1];
    else if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      closeMenu({ refocus: true });
      return;
    } else if (ev.key === 'Tab') {
      closeMenu({ refocus: true });
      return;
    }
    if (next) {
      ev.preventDefault();
      next.focus();
    }
  });
  document.body.append(el);
  let left = x;
  let top = y;
  if (left === undefined && opener) {
    const rect = opener.getBoundingClientRect();
    left = rect.left;
    top = rect.bottom + 2;
  }
  left = Math.max(4, Math.min(left ?? 0, window.innerWidth - el.offsetWidth - 4));
  top = Math.max(4, Math.min(top ?? 0, window.innerHeight - el.offsetHeight - 4));
  el.style.left = `${left}px`;
  el.style.top = `${top}px`;
  current = { el, opener };
  document.addEventListener('pointerdown', onOutside, true);
  (buttons.find((b) => !b.disabled) ?? el).focus();
  return el;
}
