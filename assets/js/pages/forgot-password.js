// Forgot-password page: POST /auth/password-reset with a username or e-mail address. The
// answer is the same whether or not such an account exists, so the page always says the same.

import { request } from '../api.js';
import { bindForm, showNotice } from './form.js';

const SENT = 'If that account exists and has an e-mail address, a reset link is on its way.';

const form = bindForm('forgot-form', async ({ username_or_email: who }) => {
  const answer = await request('POST', '/auth/password-reset', { username_or_email: who.trim() }, { auth: false });
  showNotice(typeof answer?.message === 'string' ? answer.message : SENT);
  form.hidden = true;
});
