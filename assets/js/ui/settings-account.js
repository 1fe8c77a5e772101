// Settings → Account (⚙ → "Account…"): display name and e-mail (PATCH /users/me/profile; a
// changed e-mail needs the current password, so that field appears only then), password change
// (POST /users/me/password: my other sessions end), recovery PIN (PUT / DELETE
// /users/me/recovery-pin, with the password) and the way to "Delete account…" (account.js).
// Every field's rule is written under it; errors appear in the form they belong to, with the
// API's code turned into plain words where we know it.

import { errorMessage } from '../api.js';
import { byId } from './dom.js';

const MESSAGES = {
  invalid_display_name: 'Use 1–64 characters, without control or invisible characters.',
  invalid_email: 'That does not look like an e-mail address (name@example.com).',
  email_taken: 'Another account already uses that e-mail address.',
  invalid_credentials: 'That password is not right.',
  invalid_password: 'The new password must be 8–1024 characters.',
  invalid_pin_format: 'The PIN must be 4–8 digits.',
  password_missing: 'Enter your current password.',
};

const friendly = (err) => MESSAGES[err?.code] ?? errorMessage(err);
/** A rule broken before asking the server: shown like the server's error with that code. */
const broken = (code) => Object.assign(new Error(code), { code });
const utf8Length = (text) => new TextEncoder().encode(text).length;

export function createAccountSettings({ store, api, account }) {
  const dialog = byId('account-dialog');
  const profileForm = byId('profile-form');
  const displayName = byId('profile-display-name');
  const email = byId('profile-email');
  const emailStatus = byId('email-status');
  const emailNote = byId('email-note');
  const passwordRow = byId('profile-password-row');
  const profilePassword = byId('profile-current-password');
  const passwordForm = byId('password-form');
  const pinForm = byId('pin-form');
  const pinValue = byId('pin-value');
  const pinPassword = byId('pin-password');
  const pinState = byId('pin-state');
  const pinSave = byId('pin-save');
  const pinRemove = byId('pin-remove');

  let me = null; // the latest GET /users/me

  /** Shows an error (or clears it) and a success status (or clears it) for one form. */
  function say(prefix, { error = '', status = '' } = {}) {
    byId(`${prefix}-error`).textContent = error;
    byId(`${prefix}-status`).textContent = status;
  }

  const emailChanged = () => email.value.trim() !== (me?.email ?? '');

  function render() {
    if (!me) return;
    displayName.value = me.user.display_name;
    email.value = me.email ?? '';
    byId('password-username').value = me.user.username;
    emailStatus.hidden = !me.email;
    emailStatus.textContent = me.email_verified ? 'verified' : 'unverified';
    emailStatus.classList.toggle('tag-muted', !me.email_verified);
    emailNote.hidden = me.smtp_configured;
    emailNote.textContent = me.smtp_configured ? '' : 'This server sends no e-mail; password reset links go to the operator.';
    passwordRow.hidden = true;
    profilePassword.value = '';
    pinState.textContent = me.recovery_pin_set ? 'A recovery PIN is set.' : 'No recovery PIN is set.';
    pinSave.textContent = me.recovery_pin_set ? 'Replace PIN' : 'Set PIN';
    pinRemove.hidden = !me.recovery_pin_set;
  }

  async function reload() {
    me = await api.get('/users/me');
    store.setMe(me.user, me.permissions ?? []);
    render();
  }

  async function open() {
    for (const prefix of ['profile', 'password', 'pin']) say(prefix);
    passwordForm.reset();
    pinForm.reset();
    dialog.showModal();
    try {
      await reload();
    } catch (err) {
      say('profile', { error: errorMessage(err) });
    }
    displayName.focus();
  }

  /** Runs `work` with the form's buttons disabled; its error goes into the form. */
  async function busy(form, prefix, work) {
    const buttons = [...form.querySelectorAll('button')];
    for (const b of buttons) b.disabled = true;
    say(prefix);
    try {
      await work();
    } catch (err) {
      say(prefix, { error: friendly(err) });
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }

  byId('open-account').addEventListener('click', open);
  byId('account-close').addEventListener('click', () => dialog.close());
  byId('account-delete').addEventListener('click', () => {
    dialog.close();
    account.openDeleteDialog();
  });

  email.addEventListener('input', () => {
    passwordRow.hidden = !emailChanged();
  });

  profileForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(profileForm, 'profile', async () => {
      const name = displayName.value.trim();
      const length = [...name].length;
      if (length < 1 || length > 64) throw broken('invalid_display_name');
      const body = {};
      if (name !== me.user.display_name) body.display_name = name;
      if (emailChanged()) {
        if (!profilePassword.value) {
          say('profile', { error: 'Enter your current password to change the e-mail address.' });
          profilePassword.focus();
          return;
        }
        body.email = email.value.trim();
        body.current_password = profilePassword.value;
      }
      if (!Object.keys(body).length) {
        say('profile', { status: 'Nothing to change.' });
        return;
      }
      await api.patch('/users/me/profile', body);
      await reload();
      const mailed = body.email && me.smtp_configured;
      say('profile', { status: mailed ? 'Saved. We sent a link to confirm the new address.' : 'Saved.' });
    });
  });

  passwordForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(passwordForm, 'password', async () => {
      const current = byId('password-current').value;
      const next = byId('password-new').value;
      if (!current) throw broken('password_missing');
      const bytes = utf8Length(next);
      if (bytes < 8 || bytes > 1024) throw broken('invalid_password');
      if (next !== byId('password-repeat').value) {
        say('password', { error: 'The two new passwords differ.' });
        return;
      }
      const { sessions_ended: ended } = await api.post('/users/me/password', { current_password: current, new_password: next });
      passwordForm.reset();
      say('password', { status: `Password changed.${ended ? ` ${ended} other session${ended === 1 ? '' : 's'} signed out.` : ''}` });
    });
  });

  pinForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(pinForm, 'pin', async () => {
      if (!/^[0-9]{4,8}$/.test(pinValue.value)) throw broken('invalid_pin_format');
      if (!pinPassword.value) throw broken('password_missing');
      const replaced = me.recovery_pin_set;
      await api.put('/users/me/recovery-pin', { password: pinPassword.value, pin: pinValue.value });
      pinForm.reset();
      await reload();
      say('pin', { status: replaced ? 'Recovery PIN replaced.' : 'Recovery PIN set.' });
    });
  });

  pinRemove.addEventListener('click', () => {
    busy(pinForm, 'pin', async () => {
      if (!pinPassword.value) {
        say('pin', { error: 'Enter your password to remove the PIN.' });
        pinPassword.focus();
        return;
      }
      await api.del('/users/me/recovery-pin', { password: pinPassword.value });
      pinForm.reset();
      await reload();
      say('pin', { status: 'Recovery PIN removed.' });
    });
  });
}
