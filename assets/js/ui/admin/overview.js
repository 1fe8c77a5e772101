// Overview tab: who I am to the server (GET /admin/whoami: username, roles, each effective
// permission with the roles it comes from — needs only a login) and, with `server.view`, the
// server's identity and counts (GET /admin/server): the answer to "am I on the database I think
// I am?".

import { h } from '../dom.js';
import { block, button, duration, facts, statusLine, timeEl } from './common.js';

function serverBlock(s) {
  const db = s.database ?? {};
  const c = s.counts ?? {};
  return h(
    'div',
    { id: 'admin-server', class: 'admin-server' },
    block(
      'Server',
      facts([
        ['Version', s.version],
        ['Started', timeEl(s.started_at)],
        ['Uptime', duration(s.uptime_secs)],
        ['Data folder', s.data_dir],
        ['Config sources', (s.config_sources ?? []).length ? h('ul', { class: 'plain-list' }, s.config_sources.map((src) => h('li', { dir: 'auto' }, src))) : 'defaults only'],
      ]),
    ),
    block(
      'Database',
      facts([
        ['Backend', h('span', { id: 'admin-db-backend' }, db.backend ?? '')],
        db.host ? ['Host', db.host] : null,
        ['Database', db.name],
        db.path ? ['File', db.path] : null,
        ['Server version', db.server_version],
      ]),
    ),
    clusterBlock(s.cluster),
    block(
      'Counts',
      facts(
        [
          ['Users', c.users],
          ['Online now', c.online],
          ['Rooms', c.rooms],
          ['Groups', c.groups],
          ['DMs', c.dms],
          ['Messages today', c.messages_today],
        ].map(([k, v]) => [k, String(v ?? 0)]),
        'admin-facts admin-counts',
      ),
    ),
  );
}

// This instance and the others sharing the database and Redis (docs/scaling.md).
function clusterBlock(c) {
  if (!c) return null;
  const instances = c.instances ?? [];
  return block(
    'Instances',
    h(
      'div',
      { id: 'admin-cluster' },
      facts([
        ['This instance', h('span', { id: 'admin-instance-id' }, c.instance_id ?? '')],
        ['Several instances', c.shared ? 'yes (Redis)' : 'no (one instance, no Redis)'],
        c.shared ? ['Redis', c.redis_healthy ? 'healthy' : `unhealthy${c.redis_problem ? `: ${c.redis_problem}` : ''}`] : null,
      ]),
      h(
        'table',
        { class: 'admin-table admin-instances' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Instance'), h('th', {}, 'Version'), h('th', {}, 'Started'), h('th', {}, 'Last seen'))),
        h(
          'tbody',
          {},
          instances.map((i) =>
            h('tr', { dataset: { instance: i.id } }, h('td', {}, i.id === c.instance_id ? `${i.id} (this one)` : i.id), h('td', {}, i.version), h('td', {}, timeEl(i.started_at)), h('td', {}, timeEl(i.last_seen))),
          ),
        ),
      ),
    ),
  );
}

function whoamiBlock(w) {
  return block(
    'You',
    h(
      'div',
      { id: 'admin-whoami' },
      facts([
        ['Username', h('span', { class: 'whoami-username', dir: 'auto' }, w.username)],
        ['Roles', (w.roles ?? []).join(', ') || '—'],
        typeof w.admin_panel === 'boolean' ? ['Admin panel', w.admin_panel ? 'yes' : 'no (the server says these permissions do not open it)'] : null,
      ]),
      h(
        'table',
        { class: 'admin-table whoami-permissions' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Permission'), h('th', {}, 'From'))),
        h(
          'tbody',
          {},
          (w.permissions ?? []).map((p) => h('tr', { dataset: { permission: p.permission } }, h('td', {}, p.permission), h('td', { class: 'muted' }, (p.sources ?? []).join(', ')))),
        ),
      ),
    ),
  );
}

export function createOverviewTab({ store, api }) {
  const status = statusLine();
  const content = h('div', { class: 'admin-overview' });
  const refreshButton = button('Refresh', () => refresh(), { action: 'refresh' });
  const el = h('div', {}, h('div', { class: 'admin-toolbar' }, refreshButton), status.el, content);
  let seq = 0;

  async function refresh() {
    const mine = ++seq;
    status.set('Loading…');
    const parts = [];
    try {
      const [who, server] = await Promise.all([
        api.get('/admin/whoami'),
        store.can('server.view') ? api.get('/admin/server') : Promise.resolve(null),
      ]);
      if (mine !== seq) return;
      if (server) parts.push(serverBlock(server));
      parts.push(whoamiBlock(who));
      content.replaceChildren(...parts);
      status.clear();
    } catch (err) {
      if (mine === seq) status.error(err);
    }
  }

  return { el, refresh };
}
