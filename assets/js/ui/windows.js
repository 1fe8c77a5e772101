// Floating windows: a title bar to drag by, minimize to the dock's taskbar, close, and
// bring-to-front on click. Knows nothing about chat; dm-window.js fills the body.
//
// Remembering open windows across a reload: with `storageKey` (app.js: one per account), every
// window opened with a `restoreKey` (e.g. "dm:<conversation id>") is saved in localStorage with
// its minimized state, on every open, minimize, restore and close. `restore(reopen)` (called once
// the conversation list is known) hands each saved entry to `reopen(entry)`, which reopens it
// (or returns false to forget it); saving is off until then, so an early window cannot
// overwrite the list.

import { h } from './dom.js';

const WIDTH = 340;
const HEIGHT = 420;
const STEP = 28;

const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));

export function createWindowManager({ layer, taskbar, rightInset = 320, storageKey = null }) {
  let z = 100;
  let count = 0;
  const keyed = new Map(); // restoreKey -> win, in opening order
  let restored = false;

  function save() {
    if (!storageKey || !restored) return;
    const entries = [...keyed].map(([key, win]) => ({ key, minimized: win.isMinimized() }));
    try {
      localStorage.setItem(storageKey, JSON.stringify(entries));
    } catch {
      // Storage disabled or full: windows are simply not restored.
    }
  }

  function saved() {
    try {
      const list = JSON.parse(localStorage.getItem(storageKey) ?? '[]');
      return Array.isArray(list) ? list.filter((e) => e && typeof e.key === 'string').slice(0, 20) : [];
    } catch {
      return [];
    }
  }

  /**
   * Reopens the saved windows: `reopen({ key, minimized })` opens one (with its restoreKey) and
   * returns true, or false when it no longer applies. Minimized ones are minimized again.
   */
  function restore(reopen) {
    const entries = storageKey ? saved() : [];
    for (const entry of entries) {
      let ok = false;
      try {
        ok = reopen(entry);
      } catch (err) {
        console.error('could not restore a window', err);
      }
      if (ok && entry.minimized) keyed.get(entry.key)?.minimize();
    }
    restored = true;
    save();
  }

  function moveTo(el, x, y) {
    const maxX = Math.max(0, window.innerWidth - el.offsetWidth);
    const maxY = Math.max(0, window.innerHeight - 40);
    el.style.left = `${clamp(x, 0, maxX)}px`;
    el.style.top = `${clamp(y, 0, maxY)}px`;
  }

  function makeDraggable(el, handle) {
    handle.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0 || ev.target.closest('button')) return;
      const rect = el.getBoundingClientRect();
      const dx = ev.clientX - rect.left;
      const dy = ev.clientY - rect.top;
      handle.setPointerCapture(ev.pointerId);
      el.classList.add('dragging');
      const move = (e) => moveTo(el, e.clientX - dx, e.clientY - dy);
      const up = () => {
        el.classList.remove('dragging');
        handle.removeEventListener('pointermove', move);
        handle.removeEventListener('pointerup', up);
        handle.removeEventListener('pointercancel', up);
      };
      handle.addEventListener('pointermove', move);
      handle.addEventListener('pointerup', up);
      handle.addEventListener('pointercancel', up);
    });
  }

  /**
   * Opens a window. Callbacks: onMinimize, onRestore, onClose. Returns
   * { el, body, setTitle(text, extra?), minimize, restore, close, focus, isMinimized }.
   */
  function open({ title, className = '', dataset = {}, restoreKey = null, onMinimize, onRestore, onClose }) {
    count += 1;
    const titleId = `window-title-${count}`;
    const titleText = h('span', { class: 'window-title-text', id: titleId, dir: 'auto' }, title);
    const titleExtra = h('span', { class: 'window-title-extra' });
    const minBtn = h('button', { type: 'button', class: 'window-button', 'aria-label': 'Minimize', title: 'Minimize' }, '–');
    const closeBtn = h('button', { type: 'button', class: 'window-button', 'aria-label': 'Close', title: 'Close' }, '×');
    const bar = h('div', { class: 'window-titlebar' }, titleExtra, titleText, h('span', { class: 'window-buttons' }, minBtn, closeBtn));
    const body = h('div', { class: 'window-body' });
    const el = h('section', { class: `window ${className}`.trim(), role: 'dialog', 'aria-labelledby': titleId, dataset }, bar, body);
    let minimized = false;
    let taskButton = null;

    const win = {
      el,
      body,
      setTitle(text, extra = null) {
        titleText.textContent = text;
        titleExtra.replaceChildren(...(extra ? [extra] : []));
        if (taskButton) taskButton.textContent = text;
      },
      focus() {
        z += 1;
        el.style.zIndex = String(z);
      },
      minimize() {
        if (minimized) return;
        minimized = true;
        el.hidden = true;
        taskButton = h('button', { type: 'button', class: 'taskbar-item', dir: 'auto', dataset }, titleText.textContent);
        taskButton.addEventListener('click', () => win.restore());
        taskbar.append(taskButton);
        onMinimize?.();
        save();
      },
      restore() {
        if (minimized) {
          minimized = false;
          el.hidden = false;
          taskButton?.remove();
          taskButton = null;
          onRestore?.();
          save();
        }
        win.focus();
      },
      close() {
        taskButton?.remove();
        el.remove();
        if (restoreKey && keyed.get(restoreKey) === win) keyed.delete(restoreKey);
        onClose?.();
        save();
      },
      isMinimized: () => minimized,
    };

    minBtn.addEventListener('click', () => win.minimize());
    closeBtn.addEventListener('click', () => win.close());
    el.addEventListener('pointerdown', () => win.focus());
    el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') win.minimize();
    });
    makeDraggable(el, bar);

    layer.append(el);
    const slot = (count - 1) % 6;
    const x = window.innerWidth - rightInset - WIDTH - 16 - slot * STEP;
    const y = window.innerHeight - HEIGHT - 110 - slot * STEP; // clear of the room's compose box
    moveTo(el, x, Math.max(56, y));
    win.focus();
    if (restoreKey) {
      keyed.set(restoreKey, win);
      save();
    }
    return win;
  }

  return { open, restore };
}
