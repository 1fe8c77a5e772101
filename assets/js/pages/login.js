// Login page: POST /auth/login (the server sets HttpOnly cookies), then go to the chat.
// `?reason=` says why the last session ended (see session-end.js); unknown values are ignored.

import { request } from '../api.js';
import { showHttpsBanner } from '../ui/https-banner.js';
import { reasonText, takeEndMessage } from '../session-end.js';
import { bindForm, showNotice } from './form.js';
import { loadServerInfo } from './server-info.js';

showHttpsBanner();
loadServerInfo('Log in').then((server) => {
  // A closed server has nothing to register for; an invite-only one still shows the link (the
  // register page explains that an invite link is needed).
  if (server?.registration === 'closed') document.getElementById('register-switch')?.remove();
});
const reasonNotice = document.getElementById('login-reason');
const given = new URLSearchParams(location.search).get('reason');
const reason = reasonText(given);
// A suspension / deactivation: the chat page kept the server's message (until when, and why).
const details = reason ? takeEndMessage(given) : null;
if (reason) showNotice(details ? `${reason} ${details}` : reason, reasonNotice);
if (given === 'suspended' || given === 'deactivated') {
  reasonNotice.dataset.reason = given;
  // Without the details, the refused login below shows them (until when, and why).
  if (!details && given === 'suspended') reasonNotice.append(' Sign in to see until when and why.');
}

bindForm('login-form', async ({ username, password }) => {
  try {
    await request('POST', '/auth/login', { username: username.trim(), password }, { auth: false });
  } catch (err) {
    // 403 suspended / deactivated: the message says until when and why; shown as the notice too.
    if (err?.status === 403 && (err.code === 'suspended' || err.code === 'deactivated')) {
      showNotice(`${reasonText(err.code)} ${err.message}`, reasonNotice);
      reasonNotice.dataset.reason = err.code;
    }
    throw err;
  }
  location.assign('/');
});

request('GET', '/setup', undefined, { auth: false })
  .then((setup) => {
    if (setup?.required) showNotice('This server has no admin account yet. Open the setup link printed in the server log.', document.querySelector('.setup-notice'));
  })
  .catch(() => {});
