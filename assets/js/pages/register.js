// Register page: POST /auth/register, then log in with the same credentials, then the chat.
// An invite link (`/register?invite=CODE`) carries the code the server asks for when its
// registration is `invite_only`; GET /server says the mode, and a closed server's form is shut.

import { request } from '../api.js';
import { bindForm, showNotice } from './form.js';
import { loadServerInfo } from './server-info.js';

const invite = new URLSearchParams(location.search).get('invite')?.trim() || null;
const form = document.getElementById('register-form');

loadServerInfo('Create account').then((server) => {
  if (!server) return;
  const heading = document.getElementById('auth-title');
  if (heading) heading.textContent = `Join ${server.name}`;
  if (server.registration === 'closed') {
    showNotice('Registration is closed on this server. Ask an administrator for an account.');
    for (const el of form.elements) el.disabled = true;
  } else if (server.registration === 'invite_only') {
    showNotice(invite ? 'You were invited: create your account.' : 'This server needs an invite link to register. Ask an administrator for one.');
  }
});

bindForm('register-form', async ({ username, password, email }) => {
  const name = username.trim();
  const body = { username: name, password };
  if (email && email.trim()) body.email = email.trim();
  if (invite) body.invite = invite;
  await request('POST', '/auth/register', body, { auth: false });
  await request('POST', '/auth/login', { username: name, password }, { auth: false });
  location.assign('/');
});
