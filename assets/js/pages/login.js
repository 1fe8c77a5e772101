// Login page: POST /auth/login (the server sets HttpOnly cookies), then go to the chat.
// `?reason=` says why the last session ended (see session-end.js); unknown values are ignored.

import { request } from '../api.js';
import { showHttpsBanner } from '../ui/https-banner.js';
import { reasonText } from '../session-end.js';
import { bindForm, showNotice } from './form.js';
import { loadServerInfo } from './server-info.js';

showHttpsBanner();
loadServerInfo('Log in').then((server) => {
  // A closed server has nothing to register for; an invite-only one still shows the link (the
  // register page explains that an invite link is needed).
  if (server?.registration === 'closed') document.getElementById('register-switch')?.remove();
});
const reason = reasonText(new URLSearchParams(location.search).get('reason'));
if (reason) showNotice(reason, document.getElementById('login-reason'));

bindForm('login-form', async ({ username, password }) => {
  await request('POST', '/auth/login', { username: username.trim(), password }, { auth: false });
  location.assign('/');
});

request('GET', '/setup', undefined, { auth: false })
  .then((setup) => {
    if (setup?.required) showNotice('This server has no admin account yet. Open the setup link printed in the server log.', document.querySelector('.setup-notice'));
  })
  .catch(() => {});
