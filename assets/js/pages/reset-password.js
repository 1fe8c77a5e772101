// Reset-password page, opened from the e-mailed link `/reset-password#token=…`. The token is
// read from the fragment (never sent to the server in a URL) and removed from the address bar
// at once. POST /auth/password-reset/confirm {token, new_password, pin?}; a wrong or missing
// recovery PIN keeps the form (the message says how many tries are left); on success the login
// page says the password changed.

import { ApiError, errorMessage, request } from '../api.js';
import { loginUrl } from '../session-end.js';
import { showNotice } from './form.js';

const MESSAGES = {
  invalid_token: 'This link is not valid any more (it was used, or it expired). Ask for a new one.',
  invalid_password: 'The new password must be 8–1024 characters.',
};

const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
if (location.hash) history.replaceState(null, '', location.pathname + location.search);

const form = document.getElementById('reset-form');
const alert = form.querySelector('[role="alert"]');
const button = form.querySelector('button[type="submit"]');
const field = (id) => document.getElementById(id);

if (!token) {
  showNotice('This page needs the link from the password reset e-mail (it ends in #token=…).');
  form.hidden = true;
}

function check(password, repeat, pin) {
  const bytes = new TextEncoder().encode(password).length;
  if (bytes < 8 || bytes > 1024) return MESSAGES.invalid_password;
  if (password !== repeat) return 'The two passwords differ.';
  if (pin && !/^[0-9]{4,8}$/.test(pin)) return 'The recovery PIN is 4–8 digits.';
  return '';
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  alert.textContent = '';
  const password = field('new_password').value;
  const pin = field('pin').value.trim();
  const problem = check(password, field('repeat_password').value, pin);
  if (problem) {
    alert.textContent = problem;
    return;
  }
  const body = { token, new_password: password };
  if (pin) body.pin = pin;
  button.disabled = true;
  try {
    await request('POST', '/auth/password-reset/confirm', body, { auth: false });
    location.assign(loginUrl('password_reset_done'));
  } catch (err) {
    const known = err instanceof ApiError && err.code !== 'invalid_pin' ? MESSAGES[err.code] : undefined;
    alert.textContent = known ?? errorMessage(err); // invalid_pin: the server's text has the tries left
    if (err instanceof ApiError && err.code === 'invalid_pin') field('pin').select();
    button.disabled = false;
  }
});
