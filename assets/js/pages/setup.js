// First-run setup page: reads ?token= from the link the server printed, creates the admin
// account with POST /setup (which also signs in), then goes to the chat.

import { request } from '../api.js';
import { bindForm, showNotice } from './form.js';

const token = new URLSearchParams(location.search).get('token') ?? '';

if (!token) showNotice('This page needs the setup link printed in the server log (it ends in ?token=…).');

bindForm('setup-form', async ({ username, password }) => {
  await request('POST', '/setup', { token, username: username.trim(), password }, { auth: false });
  location.assign('/');
});

request('GET', '/setup', undefined, { auth: false })
  .then((setup) => {
    if (setup && setup.required === false) showNotice('This server is already set up. Log in instead.');
  })
  .catch(() => {});
