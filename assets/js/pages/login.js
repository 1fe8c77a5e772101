// Login page: POST /auth/login (the server sets HttpOnly cookies), then go to the chat.

import { request } from '../api.js';
import { showHttpsBanner } from '../ui/https-banner.js';
import { bindForm, showNotice } from './form.js';

showHttpsBanner();

bindForm('login-form', async ({ username, password }) => {
  await request('POST', '/auth/login', { username: username.trim(), password }, { auth: false });
  location.assign('/');
});

request('GET', '/setup', undefined, { auth: false })
  .then((setup) => {
    if (setup?.required) showNotice('This server has no admin account yet. Open the setup link printed in the server log.');
  })
  .catch(() => {});

