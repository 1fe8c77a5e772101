// The public server facts on the sign-in pages (GET /server): the server's name in the title
// bar and the tab title, and the registration mode (`open`, `invite_only`, `closed`).

import { request } from '../api.js';

/** Fetches GET /server and shows the name; resolves to `{name, motd, registration}` or null. */
export async function loadServerInfo(pageTitle) {
  let server;
  try {
    server = await request('GET', '/server', undefined, { auth: false });
  } catch {
    return null;
  }
  if (!server?.name) return server ?? null;
  const bar = document.querySelector('.auth-titlebar');
  if (bar) {
    for (const node of [...bar.childNodes]) if (node.nodeType === Node.TEXT_NODE) node.remove();
    const name = bar.querySelector('.server-name') ?? bar.appendChild(document.createElement('span'));
    name.className = 'server-name';
    name.dir = 'auto';
    name.textContent = ` ${server.name}`;
  }
  document.title = `${pageTitle} · ${server.name}`;
  return server;
}
