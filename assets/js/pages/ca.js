// The /ca page: fills in the local CA's fingerprint and the HTTPS address (GET /server/tls), and
// shows the section that fits the server's [tls] mode. Text only, never HTML.

import { request } from '../api.js';

function show(id, visible) {
  const el = document.getElementById(id);
  if (el) el.hidden = !visible;
}

async function main() {
  const tls = await request('GET', '/server/tls', undefined, { auth: false });
  show('ca-self-signed', tls.mode === 'self-signed');
  show('ca-mode-files', tls.mode === 'files');
  show('ca-mode-off', tls.mode === 'off');
  const fingerprint = document.getElementById('ca-fingerprint');
  if (fingerprint) fingerprint.textContent = tls.ca_fingerprint_sha256 ?? '(none)';
  if (tls.https_url) {
    for (const link of document.querySelectorAll('a.ca-https-link')) {
      link.href = tls.https_url;
      link.textContent = tls.https_url;
    }
  }
}

main().catch(() => {
  const fingerprint = document.getElementById('ca-fingerprint');
  if (fingerprint) fingerprint.textContent = '(the server did not answer; reload the page)';
});
