// The profile's settings menu (⚙ in the dock) and "Delete account…": a dialog asks for the
// password, then DELETE /users/me; on success the page goes to /login. A wrong password
// (403 invalid_credentials) or being the last admin (409 last_admin) is shown in the dialog.
// The menu's other entries ("Account…", "Sessions…") belong to settings-account.js and
// settings-sessions.js; choosing any entry closes the menu.

import { errorMessage } from '../api.js';
import { byId } from './dom.js';

const MESSAGES = {
  invalid_credentials: 'That password is not right.',
  last_admin: 'You are the last admin: make someone else an admin first.',
};

export function createAccountMenu({ store, api, socket }) {
  const menuButton = byId('settings-button');
  const menu = byId('settings-menu');
  const dialog = byId('delete-account-dialog');
  const form = byId('delete-account-form');
  const password = byId('delete-password');
  const error = byId('delete-account-error');
  const confirm = byId('delete-confirm');

  function setMenu(open) {
    menu.hidden = !open;
    menuButton.setAttribute('aria-expanded', String(open));
    if (open) menu.querySelector('button')?.focus();
  }

  menuButton.addEventListener('click', () => setMenu(menu.hidden));
  document.addEventListener('click', (ev) => {
    if (!menu.hidden && !ev.target.closest('.menu')) setMenu(false);
  });
  menu.addEventListener('click', (ev) => {
    if (ev.target.closest('[role="menuitem"]')) setMenu(false);
  });
  menu.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      setMenu(false);
      menuButton.focus();
    }
  });

  function openDeleteDialog() {
    setMenu(false);
    form.reset();
    error.textContent = '';
    dialog.showModal();
    password.focus();
  }

  byId('delete-account').addEventListener('click', openDeleteDialog);
  byId('delete-cancel').addEventListener('click', () => dialog.close());

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    if (!password.value) return;
    confirm.disabled = true;
    try {
      await api.del('/users/me', { password: password.value });
      socket.stop();
      location.assign('/login');
    } catch (err) {
      error.textContent = MESSAGES[err?.code] ? `${MESSAGES[err.code]} (${err.code})` : errorMessage(err);
      password.select();
    } finally {
      confirm.disabled = false;
    }
  });

  store.on('me', () => {
    menuButton.title = store.me() ? `Settings for ${store.me().username}` : 'Settings';
  });

  return { openDeleteDialog };
}
