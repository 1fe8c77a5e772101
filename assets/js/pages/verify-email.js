// Verify-email page, opened from the e-mailed link `/verify-email#token=…`: the token is taken
// from the fragment, removed from the address bar, and posted to /auth/verify-email.

import { ApiError, errorMessage, request } from '../api.js';

const status = document.getElementById('verify-status');
const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
if (location.hash) history.replaceState(null, '', location.pathname + location.search);

async function verify() {
  if (!token) {
    status.textContent = 'This page needs the link from the confirmation e-mail (it ends in #token=…).';
    return;
  }
  try {
    await request('POST', '/auth/verify-email', { token }, { auth: false });
    status.textContent = 'Your e-mail address is confirmed.';
    status.dataset.result = 'ok';
  } catch (err) {
    status.textContent =
      err instanceof ApiError && err.code === 'invalid_token'
        ? 'This link is not valid any more (it was used, or it expired). Change the address in Settings → Account to get a new one.'
        : errorMessage(err);
    status.dataset.result = 'error';
  }
}

verify();
