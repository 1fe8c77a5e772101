// The "not encrypted" banner: on plain HTTP from a host other than this machine itself, point to
// the HTTPS address (GET /server/tls says which port) and, when the server's certificate comes
// from its own local CA, to the /ca page that explains how to trust it. Dismissed for the tab's
// session. Built with DOM nodes and text only.

import { request } from '../api.js';
import { h } from './dom.js';

const DISMISS_KEY = 'echochat.httpsBannerDismissed';
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Whether this page was loaded over plain HTTP from a host that is not loopback. */
export function needsHttpsBanner(loc = location) {
  const host = loc.hostname.toLowerCase();
  return loc.protocol === 'http:' && !LOOPBACK.has(host) && !host.endsWith('.localhost');
}

function dismissed() {
  try {
    return sessionStorage.getItem(DISMISS_KEY) === '1';
  } catch {
    return false;
  }
}

/** Shows the banner when it applies; resolves to the banner element or null. */
export async function showHttpsBanner() {
  if (!needsHttpsBanner() || dismissed()) return null;
  let tls;
  try {
    tls = await request('GET', '/server/tls', undefined, { auth: false });
  } catch {
    return null;
  }
  if (!tls || tls.mode === 'off' || !tls.https_port) return null;
  const target = new URL(location.href);
  target.protocol = 'https:';
  target.port = String(tls.https_port);
  const httpsUrl = target.href;

  const banner = h(
    'div',
    { id: 'https-banner', class: 'https-banner', role: 'status' },
    h('span', {}, 'This connection is not encrypted. Use '),
    h('a', { href: httpsUrl, id: 'https-banner-link' }, httpsUrl),
    tls.mode === 'self-signed'
      ? [h('span', {}, ' — first trust this server’s certificate: '), h('a', { href: '/ca', id: 'https-banner-ca' }, 'how to trust it')]
      : h('span', {}, '.'),
    h(
      'button',
      {
        type: 'button',
        class: 'link-button https-banner-close',
        'aria-label': 'Dismiss',
        onclick: () => {
          try {
            sessionStorage.setItem(DISMISS_KEY, '1');
          } catch {
            // Private mode without storage: dismissed for this page only.
          }
          banner.remove();
        },
      },
      '×',
    ),
  );
  document.body.prepend(banner);
  return banner;
}
