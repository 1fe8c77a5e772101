// The emoji picker: a popup with a search box, "Recently used" (localStorage, this browser) and
// every Unicode emoji grouped by category (assets/js/emoji-data.js, vendored from
// unicode-emoji-json, MIT). Used for reactions (ui/reactions.js) and for inserting into a
// compose box (ui/compose.js). One picker at a time.
//
// Keyboard: the search box has focus when it opens; ↓ moves into the grid; arrows move in the
// grid (↑ from the first row goes back to the search box), Home/End, Enter or Space picks,
// Escape closes (focus goes back to what opened it). Category buttons jump to their section.

import { EMOJI_GROUPS } from '../emoji-data.js';
import { h } from './dom.js';

const RECENT_KEY = 'echochat.recentEmoji';
const RECENT_MAX = 24;
const COLUMNS = 8;
const SEARCH_MAX = 120;

let current = null; // { el, opener, close }

function recent() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((e) => typeof e === 'string').slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}

/** Remembers an emoji as recently used (most recent first). */
export function rememberEmoji(emoji) {
  try {
    const list = [emoji, ...recent().filter((e) => e !== emoji)].slice(0, RECENT_MAX);
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
  } catch {
    // Storage disabled: nothing is remembered.
  }
}

let names = null; // emoji -> name
function nameOf(emoji) {
  if (!names) {
    names = new Map();
    for (const g of EMOJI_GROUPS) for (const [e, n] of g.emojis) names.set(e, n);
  }
  return names.get(emoji) ?? emoji;
}

/** Closes the open picker, if any. */
export function closeEmojiPicker({ refocus = false } = {}) {
  if (!current) return;
  const { el, opener, onOutside } = current;
  current = null;
  el.remove();
  document.removeEventListener('pointerdown', onOutside, true);
  if (refocus && opener?.isConnected) opener.focus();
}

/**
 * Opens the picker next to `opener`. `onPick(emoji)` is called with the chosen emoji (the picker
 * closes first); `label` names the popup for screen readers.
 */
export function openEmojiPicker({ opener, onPick, label = 'Choose an emoji' }) {
  const wasOpenFor = current?.opener;
  closeEmojiPicker();
  if (wasOpenFor === opener) return null; // the same button again: just close

  const search = h('input', { type: 'search', class: 'emoji-search', placeholder: 'Search emoji…', 'aria-label': 'Search emoji', autocomplete: 'off' });
  const tabs = h('div', { class: 'emoji-tabs', role: 'toolbar', 'aria-label': 'Emoji categories' });
  const grid = h('div', { class: 'emoji-grid' });
  const el = h('div', { class: 'emoji-picker', role: 'dialog', 'aria-label': label }, search, tabs, grid);

  const pick = (emoji) => {
    rememberEmoji(emoji);
    closeEmojiPicker({ refocus: true });
    onPick(emoji);
  };
  const button = (emoji, name) => h('button', { type: 'button', class: 'emoji-option', title: name, 'aria-label': name, dataset: { emoji }, tabindex: '-1' }, emoji);
  const section = (title, pairs, key) =>
    h('section', { class: 'emoji-section', dataset: { group: key } }, h('h4', { class: 'emoji-group-title' }, title), h('div', { class: 'emoji-row' }, ...pairs.map(([e, n]) => button(e, n))));

  function renderAll() {
    const recentPairs = recent().map((e) => [e, nameOf(e)]);
    const sections = [];
    if (recentPairs.length) sections.push(section('Recently used', recentPairs, 'recent'));
    EMOJI_GROUPS.forEach((g, i) => sections.push(section(g.name, g.emojis, String(i))));
    grid.replaceChildren(...sections);
  }

  function renderSearch(q) {
    const words = q.toLowerCase().split(/\s+/u).filter(Boolean);
    const hits = [];
    for (const g of EMOJI_GROUPS) {
      for (const pair of g.emojis) {
        const hay = `${pair[1]} ${g.name}`.toLowerCase();
        if (words.every((w) => hay.includes(w)) || pair[0] === q) hits.push(pair);
        if (hits.length >= SEARCH_MAX) break;
      }
      if (hits.length >= SEARCH_MAX) break;
    }
    grid.replaceChildren(hits.length ? section(`Results for “${q}”`, hits, 'search') : h('p', { class: 'emoji-empty' }, 'No emoji found.'));
  }

  tabs.append(
    ...EMOJI_GROUPS.map((g, i) => {
      const tab = h('button', { type: 'button', class: 'emoji-tab', title: g.name, 'aria-label': g.name }, g.emojis[0]?.[0] ?? '?');
      tab.addEventListener('click', () => {
        search.value = '';
        renderAll();
        grid.querySelector(`[data-group="${i}"]`)?.scrollIntoView({ block: 'start' });
        grid.querySelector(`[data-group="${i}"] .emoji-option`)?.focus();
      });
      return tab;
    }),
  );

  const options = () => [...grid.querySelectorAll('.emoji-option')];
  search.addEventListener('input', () => {
    const q = search.value.trim();
    if (q) renderSearch(q);
    else renderAll();
  });
  search.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || (ev.key === 'Enter' && search.value.trim())) {
      ev.preventDefault();
      const first = options()[0];
      if (ev.key === 'Enter' && first) pick(first.dataset.emoji);
      else first?.focus();
    }
  });
  grid.addEventListener('click', (ev) => {
    const b = ev.target.closest('.emoji-option');
    if (b) pick(b.dataset.emoji);
  });
  grid.addEventListener('keydown', (ev) => {
    const b = ev.target.closest('.emoji-option');
    if (!b) return;
    // Moves within the focused emoji's own row block (a section), by one or by a row.
    const row = [...b.parentElement.children];
    const all = options();
    const at = row.indexOf(b);
    let next = null;
    if (ev.key === 'ArrowRight') next = row[at + 1] ?? all[all.indexOf(b) + 1];
    else if (ev.key === 'ArrowLeft') next = row[at - 1] ?? all[all.indexOf(b) - 1];
    else if (ev.key === 'ArrowDown') next = row[at + COLUMNS] ?? all[all.indexOf(row[row.length - 1]) + 1 + (at % COLUMNS)] ?? all[all.indexOf(row[row.length - 1]) + 1];
    else if (ev.key === 'ArrowUp') {
      if (at >= COLUMNS) next = row[at - COLUMNS];
      else {
        const prevSection = b.closest('.emoji-section')?.previousElementSibling;
        const prevRow = prevSection ? [...prevSection.querySelectorAll('.emoji-option')] : [];
        if (!prevRow.length) {
          ev.preventDefault();
          search.focus();
          return;
        }
        const lastRowStart = prevRow.length - (prevRow.length % COLUMNS || COLUMNS);
        next = prevRow[Math.min(lastRowStart + at, prevRow.length - 1)];
      }
    } else if (ev.key === 'Home') next = all[0];
    else if (ev.key === 'End') next = all[all.length - 1];
    else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      pick(b.dataset.emoji);
      return;
    }
    if (next) {
      ev.preventDefault();
      next.focus();
    }
  });
  el.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation(); // a window would minimize on Escape
      closeEmojiPicker({ refocus: true });
    }
  });

  renderAll();
  document.body.append(el);
  const rect = opener?.getBoundingClientRect() ?? { left: 8, top: 8, bottom: 8 };
  const left = Math.max(4, Math.min(rect.left, window.innerWidth - el.offsetWidth - 4));
  const below = rect.bottom + 4;
  const top = below + el.offsetHeight > window.innerHeight - 4 ? Math.max(4, rect.top - el.offsetHeight - 4) : below;
  el.style.left = `${left}px`;
  el.style.top = `${top}px`;
  const onOutside = (ev) => {
    if (current && !current.el.contains(ev.target) && ev.target !== opener && !opener?.contains(ev.target)) closeEmojiPicker();
  };
  current = { el, opener, onOutside };
  document.addEventListener('pointerdown', onOutside, true);
  search.focus();
  return el;
}
