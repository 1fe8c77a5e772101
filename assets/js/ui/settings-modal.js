// Settings (⚙ → "Settings…"): a modal <dialog> (Esc closes it, focus returns to the menu
// button) with four sections:
//   Appearance     theme (system / light / dark), accent colour, message text size
//   Chat           friends' status inline or on hover, missed-messages toast, read receipts
//   Notifications  popup notifications (the browser's permission is asked from the click
//                  that turns them on, never by itself; its state and what to do when it is
//                  blocked are shown), sounds with a "Test sound" button
//   This device    save DM history in this browser (IndexedDB), download it (JSON, plain
//                  text), clear it
// The first three are account settings (prefs.js: saved on the server, they follow me to
// other devices and other tabs update live); "This device" is local-history.js.

import { h } from './dom.js';
import { notificationPermission } from '../notifications.js';
import { DEFAULT_SETTINGS } from '../prefs.js';

const PERMISSION_TEXT = {
  granted: 'This browser allows notifications from this site.',
  default: 'This browser will ask for permission when you turn popup notifications on.',
  denied: 'This browser blocks notifications from this site. To allow them, open the site settings (the icon left of the address) and set Notifications to Allow, then reload.',
  unsupported: 'This browser cannot show notifications here (they need HTTPS or a newer browser).',
};

let uid = 0;

function radioGroup({ legend, name, options, onChange }) {
  const inputs = [];
  const fieldset = h(
    'fieldset',
    { class: 'settings-choices' },
    h('legend', {}, legend),
    ...options.map(([value, label]) => {
      const id = `settings-${name}-${value}`;
      const input = h('input', { type: 'radio', name: `settings-${name}`, id, value });
      input.addEventListener('change', () => {
        if (input.checked) onChange(value);
      });
      inputs.push(input);
      return h('label', { class: 'settings-choice', for: id }, input, ' ', label);
    }),
  );
  return {
    el: fieldset,
    set(value) {
      for (const input of inputs) input.checked = input.value === value;
    },
  };
}

function toggle({ id, label, hint, onChange }) {
  const input = h('input', { type: 'checkbox', id: `settings-${id}` });
  const hintId = hint ? `settings-${id}-hint-${++uid}` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  input.addEventListener('change', () => onChange(input.checked, input));
  const el = h('div', { class: 'settings-toggle' }, h('label', { for: input.id }, input, ' ', label), hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
  return { el, input };
}

export function createSettingsModal({ store, prefs, notifications, history, opener }) {
  const status = h('p', { class: 'form-status', role: 'status', id: 'settings-status' });
  const say = (text) => {
    status.textContent = text;
  };
  const save = (patch) =>
    prefs.update(patch).then(
      () => say('Saved.'),
      () => say(''),
    );

  // --- Appearance ----------------------------------------------------------------------------
  const theme = radioGroup({
    legend: 'Theme',
    name: 'theme',
    options: [
      ['system', 'Same as the device'],
      ['light', 'Light'],
      ['dark', 'Dark'],
    ],
    onChange: (value) => save({ theme: value }),
  });
  const accent = h('input', { type: 'color', id: 'settings-accent', class: 'settings-color' });
  const accentReset = h('button', { type: 'button', class: 'small', id: 'settings-accent-reset' }, 'Default colour');
  accent.addEventListener('change', () => save({ accent: accent.value.toLowerCase() }));
  accentReset.addEventListener('click', () => save({ accent: DEFAULT_SETTINGS.accent }));
  const textSize = radioGroup({
    legend: 'Message text size',
    name: 'text-size',
    options: [
      ['small', 'Small'],
      ['medium', 'Medium'],
      ['large', 'Large'],
    ],
    onChange: (value) => save({ text_size: value }),
  });
  const appearance = h(
    'section',
    { class: 'settings-form', 'aria-labelledby': 'settings-appearance-title' },
    h('h3', { class: 'settings-title', id: 'settings-appearance-title' }, 'Appearance'),
    theme.el,
    h('div', { class: 'settings-row' }, h('label', { for: 'settings-accent' }, 'Accent colour'), accent, accentReset),
    textSize.el,
  );

  // --- Chat ----------------------------------------------------------------------------------
  const statusDisplay = radioGroup({
    legend: "Friends' custom status",
    name: 'status-display',
    options: [
      ['inline', 'Under their name'],
      ['hover', 'Only when pointing at their name'],
    ],
    onChange: (value) => save({ status_display: value }),
  });
  const missedToast = toggle({ id: 'missed-toast', label: 'Tell me at login about direct messages I missed', onChange: (on) => save({ missed_toast: on }) });
  const receipts = toggle({
    id: 'send-read-receipts',
    label: 'Send read receipts',
    hint: 'Others in my direct messages and groups see how far I have read. While I appear invisible none are sent.',
    onChange: (on) => save({ send_read_receipts: on }),
  });
  const chat = h(
    'section',
    { class: 'settings-form', 'aria-labelledby': 'settings-chat-title' },
    h('h3', { class: 'settings-title', id: 'settings-chat-title' }, 'Chat'),
    statusDisplay.el,
    missedToast.el,
    receipts.el,
  );

  // --- Notifications -------------------------------------------------------------------------
  const permissionText = h('p', { class: 'hint', id: 'settings-notify-permission', role: 'status' });
  const allowButton = h('button', { type: 'button', class: 'small', id: 'settings-notify-allow', hidden: true }, 'Allow in this browser');
  const popups = toggle({
    id: 'popup-notifications',
    label: 'Popup notifications for new messages I am not looking at',
    onChange: async (on) => {
      // Called from the click: the only moment a browser lets a page ask for permission.
      if (on && notificationPermission() === 'default') await askPermission();
      save({ popup_notifications: on });
    },
  });
  popups.input.setAttribute('aria-describedby', 'settings-notify-permission');
  const sounds = toggle({ id: 'sounds', label: 'Play a sound for new messages I am not looking at', onChange: (on) => save({ sounds: on }) });
  const testSound = h('button', { type: 'button', class: 'small', id: 'settings-test-sound' }, 'Test sound');
  testSound.addEventListener('click', () => notifications.playSound({ force: true }));
  allowButton.addEventListener('click', () => askPermission());
  const notify = h(
    'section',
    { class: 'settings-form', 'aria-labelledby': 'settings-notify-title' },
    h('h3', { class: 'settings-title', id: 'settings-notify-title' }, 'Notifications'),
    popups.el,
    h('div', { class: 'settings-row' }, permissionText, allowButton),
    h('div', { class: 'settings-row' }, sounds.el, testSound),
    h('p', { class: 'hint' }, 'Mute a single conversation from its 🔔 button.'),
  );

  async function askPermission() {
    try {
      await window.Notification?.requestPermission?.();
    } catch {
      // Older browsers take a callback instead; the state is read again below either way.
    }
    renderPermission();
  }

  function renderPermission() {
    const state = notificationPermission();
    permissionText.textContent = PERMISSION_TEXT[state] ?? '';
    permissionText.dataset.permission = state;
    allowButton.hidden = !(state === 'default' && prefs.get('popup_notifications'));
    popups.input.disabled = state === 'unsupported';
  }

  // --- This device ---------------------------------------------------------------------------
  const historyCount = h('p', { class: 'hint', id: 'settings-history-count', role: 'status' });
  const localHistory = toggle({
    id: 'local-history',
    label: 'Save my direct messages in this browser',
    hint: 'Kept only on this device (IndexedDB), for this account; nothing is sent anywhere.',
    onChange: (on) => {
      history.setEnabled(on);
      renderCount();
    },
  });
  const downloadJson = h('button', { type: 'button', class: 'small', id: 'settings-download-json' }, 'Download (JSON)');
  const downloadText = h('button', { type: 'button', class: 'small', id: 'settings-download-text' }, 'Download (text)');
  const clearHistory = h('button', { type: 'button', class: 'small danger', id: 'settings-clear-history' }, 'Clear local history…');
  const runDownload = async (format) => {
    try {
      const n = await history.download(format);
      say(`Downloaded ${n} message${n === 1 ? '' : 's'}.`);
    } catch (err) {
      say(`Could not build the file: ${err?.message ?? err}`);
    }
  };
  downloadJson.addEventListener('click', () => runDownload('json'));
  downloadText.addEventListener('click', () => runDownload('text'));
  clearHistory.addEventListener('click', async () => {
    if (!window.confirm('Delete the direct messages saved in this browser? Messages on the server stay.')) return;
    try {
      await history.clear();
      say('Local history cleared.');
    } catch (err) {
      say(`Could not clear it: ${err?.message ?? err}`);
    }
    renderCount();
  });
  const device = h(
    'section',
    { class: 'settings-form', 'aria-labelledby': 'settings-device-title' },
    h('h3', { class: 'settings-title', id: 'settings-device-title' }, 'This device'),
    localHistory.el,
    historyCount,
    h('div', { class: 'settings-row' }, downloadJson, downloadText, clearHistory),
  );

  async function renderCount() {
    localHistory.input.checked = history.isEnabled();
    if (!history.available()) {
      localHistory.input.disabled = true;
      historyCount.textContent = 'This browser does not offer local storage for history (IndexedDB).';
      return;
    }
    const n = await history.count();
    historyCount.textContent = `${n} message${n === 1 ? '' : 's'} saved on this device.`;
    for (const b of [downloadJson, downloadText, clearHistory]) b.disabled = n === 0;
  }

  // --- the dialog ----------------------------------------------------------------------------
  const close = h('button', { type: 'button', class: 'small', id: 'settings-close' }, 'Close');
  const dialog = h(
    'dialog',
    { id: 'settings-dialog', class: 'dialog settings-dialog', 'aria-labelledby': 'settings-title' },
    h('div', { class: 'settings-head' }, h('h2', { id: 'settings-title' }, 'Settings'), close),
    appearance,
    chat,
    notify,
    device,
    status,
  );
  document.body.append(dialog);
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => opener?.focus());

  function render() {
    const s = prefs.all();
    theme.set(s.theme);
    if (document.activeElement !== accent) accent.value = s.accent;
    accentReset.disabled = s.accent === DEFAULT_SETTINGS.accent;
    textSize.set(s.text_size);
    statusDisplay.set(s.status_display);
    missedToast.input.checked = s.missed_toast;
    receipts.input.checked = s.send_read_receipts;
    popups.input.checked = s.popup_notifications;
    sounds.input.checked = s.sounds;
    renderPermission();
  }

  function open() {
    say('');
    render();
    renderCount();
    if (!dialog.open) dialog.showModal();
    dialog.querySelector('input:checked, input, button')?.focus();
  }

  store.on('prefs', () => {
    if (dialog.open) render();
  });
  // The permission can change in the browser's own settings while the page is open.
  document.addEventListener('visibilitychange', () => {
    if (dialog.open) renderPermission();
  });

  return { open, close: () => dialog.close(), element: dialog };
}
