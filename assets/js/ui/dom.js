// DOM helpers. Text always goes in as text nodes / textContent, never as HTML. Text that users
// wrote (message bodies, usernames, room names, topics) goes in elements with dir="auto", which
// app.css isolates (unicode-bidi: isolate), so an RLO or a right-to-left name cannot reorder
// the interface around it.

/**
 * h('button', { class: 'x', type: 'button', onclick: fn, dataset: { id } }, 'text', child)
 * Function props named on<event> become addEventListener calls (no inline handlers).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id} in the page`);
  return el;
}

/** Wraps fn so that many calls in one task cause one call, right after it. */
export function batched(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      fn();
    });
  };
}

/** Unread count badge with text for screen readers, or nothing when zero. */
export function unreadBadge(count) {
  if (!count) return null;
  return h('span', { class: 'badge' }, String(count > 99 ? '99+' : count), h('span', { class: 'sr-only' }, ' unread'));
}

/** The shared room entry: button.room-entry[data-conversation-id] containing the room name. */
export function roomEntry(conv, { active = false, showUnread = false } = {}) {
  const joined = conv.membership === 'joined';
  return h(
    'button',
    {
      type: 'button',
      class: `room-entry${active ? ' active' : ''}${joined ? ' joined' : ''}`,
      dataset: { conversationId: conv.id },
      title: [conv.topic, `${conv.member_count ?? 0} members`].filter(Boolean).join(' · '),
      'aria-current': active ? 'true' : null,
    },
    h('span', { class: 'room-icon', 'aria-hidden': 'true' }, conv.visibility === 'private' ? '🔒' : '#'),
    h('span', { class: 'room-name', dir: 'auto' }, conv.name ?? ''),
    showUnread ? unreadBadge(conv.unread_count) : h('span', { class: 'room-meta', 'aria-hidden': 'true' }, String(conv.member_count ?? '')),
  );
}

/** Short local time for a message, full date in the tooltip. */
export function timeLabel(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return { short: '', full: '' };
  return { short: d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }), full: d.toLocaleString() };
}

/** A user-supplied string in its own bidi-isolated element. */
export const bidi = (text) => h('bdi', {}, text);

/** Nodes for the typing line ("alice is typing…"), names isolated; [] when nobody types. */
export function describeTyping(names) {
  if (!names.length) return [];
  if (names.length === 1) return [bidi(names[0]), ' is typing…'];
  if (names.length === 2) return [bidi(names[0]), ' and ', bidi(names[1]), ' are typing…'];
  return ['Several people are typing…'];
}

/**
 * container.replaceChildren(...children), keeping keyboard focus: when focus was inside, the
 * element with the same class in the new row with the same data-user-id (or
 * data-conversation-id) gets it back.
 */
export function replaceKeepingFocus(container, children) {
  const focused = container.contains(document.activeElement) ? document.activeElement : null;
  const row = focused?.closest('[data-user-id], [data-conversation-id]');
  container.replaceChildren(...children);
  if (!focused || !row) return;
  const attr = row.dataset.userId !== undefined ? 'data-user-id' : 'data-conversation-id';
  const value = row.getAttribute(attr);
  const newRow = [...container.querySelectorAll(`[${attr}]`)].find((el) => el.getAttribute(attr) === value);
  if (!newRow) return;
  const cls = focused.classList[0];
  const target = newRow.getAttribute(attr) && cls ? (newRow.classList.contains(cls) ? newRow : newRow.querySelector(`.${CSS.escape(cls)}`)) : null;
  target?.focus();
}
