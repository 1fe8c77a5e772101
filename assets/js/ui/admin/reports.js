// Reports tab (`reports.review`): the moderation queue, GET /admin/reports?status=open (or
// resolved / dismissed), paged. Each report shows the message, its author, the reporter and the
// reason; "Resolve…" / "Dismiss…" (POST /admin/reports/{id}/resolve {status, note?}); "Go to
// conversation" opens the room when I am in it.

import { withQuery } from '../../api.js';
import { h } from '../dom.js';
import { openFormDialog } from '../form-dialog.js';
import { button, enc, moreButton, statusLine, timeEl } from './common.js';

const PAGE = 25;

export function createReportsTab({ store, api }) {
  const status = statusLine();
  const which = h('select', { id: 'admin-report-status', 'aria-label': 'Which reports' }, [['open', 'Open'], ['resolved', 'Resolved'], ['dismissed', 'Dismissed']].map(([v, l]) => h('option', { value: v }, l)));
  const refreshButton = button('Refresh', () => load(), { action: 'refresh' });
  const list = h('ul', { id: 'admin-report-list', class: 'admin-list admin-reports' });
  const more = moreButton('More reports', () => load({ append: true }));
  const el = h('div', {}, h('div', { class: 'admin-toolbar' }, which, refreshButton), status.el, list, more);
  let cursor;
  let seq = 0;

  function jump(r) {
    const conv = store.conversation(r.conversation?.id);
    if (!conv) {
      status.set(`You are not a member of ${r.conversation?.name ?? 'that conversation'}; join it from the room browser to see the message in context.`);
      return;
    }
    if (conv.kind === 'room') store.setActiveRoom(conv.id);
    else if (conv.kind === 'group') store.emit('open-group', { conversationId: conv.id });
    else store.emit('open-dm', { conversationId: conv.id });
  }

  async function resolve(r, li, kind) {
    const done = await openFormDialog({
      title: kind === 'resolved' ? 'Resolve report' : 'Dismiss report',
      text: kind === 'resolved' ? 'The report was right and has been acted on.' : 'No action is needed.',
      fields: [{ name: 'note', label: 'Note', type: 'textarea', maxlength: 500 }],
      submitLabel: kind === 'resolved' ? 'Resolve' : 'Dismiss',
      className: 'resolve-report-dialog',
      onSubmit: ({ note }) => api.post(`/admin/reports/${enc(r.id)}/resolve`, note ? { status: kind, note } : { status: kind }),
    });
    if (done && which.value === 'open') li.remove();
  }

  function row(r) {
    const m = r.message ?? {};
    const li = h('li', { class: 'admin-report', dataset: { reportId: r.id, status: r.status } });
    li.append(
      h('div', {}, h('strong', {}, 'Reported by '), h('bdi', {}, r.reporter?.username ?? '?'), ' · ', timeEl(r.created_at), ' · in ', h('bdi', {}, r.conversation?.name ?? r.conversation?.kind ?? '?')),
      h('blockquote', { class: 'report-message', dir: 'auto' }, h('div', { class: 'muted' }, h('bdi', {}, m.sender?.username ?? '?'), ' wrote (message ', String(m.seq ?? '?'), '):'), m.body ? m.body : h('em', {}, 'message deleted')),
      h('div', { class: 'report-reason' }, 'Reason: ', h('q', { dir: 'auto' }, r.reason)),
      r.status !== 'open'
        ? h('div', { class: 'muted' }, `${r.status} `, r.resolved_at ? timeEl(r.resolved_at) : null, r.resolution ? [' — ', h('q', { dir: 'auto' }, r.resolution)] : null)
        : null,
      h(
        'div',
        { class: 'admin-actions' },
        button('Go to conversation', () => jump(r), { action: 'jump' }),
        r.status === 'open' ? button('Resolve…', () => resolve(r, li, 'resolved'), { action: 'resolve' }) : null,
        r.status === 'open' ? button('Dismiss…', () => resolve(r, li, 'dismissed'), { action: 'dismiss' }) : null,
      ),
    );
    return li;
  }

  async function load({ append = false } = {}) {
    const mine = ++seq;
    status.set('Loading…');
    try {
      const page = await api.get(withQuery('/admin/reports', { status: which.value, cursor: append ? cursor : undefined, limit: PAGE }));
      if (mine !== seq) return;
      const rows = (page.reports ?? []).map(row);
      if (append) list.append(...rows);
      else list.replaceChildren(...rows);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.set(list.children.length ? '' : 'No reports.');
    } catch (err) {
      if (mine === seq) status.error(err);
    }
  }

  which.addEventListener('change', () => load());
  return { el, refresh: load };
}
