// Shared behaviour of the sign-in pages: submit a <form> through a handler, keep the button
// disabled while it runs, and show the server's error message in the form's role="alert".

import { errorMessage } from '../api.js';

export function bindForm(formId, handler) {
  const form = document.getElementById(formId);
  const alert = form.querySelector('[role="alert"]');
  const button = form.querySelector('button[type="submit"]');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    alert.textContent = '';
    const values = {};
    for (const el of form.elements) if (el.id && 'value' in el) values[el.id] = el.value;
    button.disabled = true;
    try {
      await handler(values);
    } catch (err) {
      alert.textContent = errorMessage(err);
      button.disabled = false;
    }
  });
  return form;
}

/** Shows a non-error hint in the page's (first, or the given) .notice element. */
export function showNotice(text, notice = document.querySelector('.notice')) {
  if (notice) notice.textContent = text;
}
