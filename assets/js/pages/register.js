// Register page: POST /auth/register, then log in with the same credentials, then the chat.

import { request } from '../api.js';
import { bindForm } from './form.js';

bindForm('register-form', async ({ username, password, email }) => {
  const name = username.trim();
  const body = { username: name, password };
  if (email && email.trim()) body.email = email.trim();
  await request('POST', '/auth/register', body, { auth: false });
  await request('POST', '/auth/login', { username: name, password }, { auth: false });
  location.assign('/');
});
