// A small modal form (a <dialog>) for actions that need input first: a reason, a duration, a
// confirmation by typing a name, … `onSubmit(values)` runs the action; while it runs the buttons
// are disabled, an error it throws is shown inside the dialog (the server's message), and the
// dialog closes only when it succeeds. Used by the admin panel and the moderation menus.

import { errorMessage } from '../api.js';
import { h } from './dom.js';

/** Durations offered for mutes and suspensions (seconds). */
export const DURATIONS = [
  [600, '10 minutes'],
  [3600, '1 hour'],
  [86400, '1 day'],
  [7 * 86400, '7 days'],
  [30 * 86400, '30 days'],
  [365 * 86400, '1 year'],
];

let count = 0;

function fieldEl(f, id) {
  const common = { id, name: f.name, required: f.required, 'aria-describedby': f.hint ? `${id}-hint` : null };
  switch (f.type) {
    case 'textarea':
      return h('textarea', { ...common, rows: 3, maxlength: f.maxlength ?? 500, dir: 'auto' }, f.value ?? '');
    case 'select':
      return h('select', common, f.options.map(([value, label]) => h('option', { value, selected: String(value) === String(f.value ?? '') }, label)));
    case 'duration':
      return h('select', common, DURATIONS.map(([value, label]) => h('option', { value, selected: value === (f.value ?? 3600) }, label)));
    case 'checkbox':
      return h('input', { ...common, type: 'checkbox', checked: Boolean(f.value), required: null });
    default:
      return h('input', { ...common, type: f.type ?? 'text', value: f.value ?? '', maxlength: f.maxlength, min: f.min, max: f.max, autocomplete: 'off', spellcheck: 'false', dir: f.type ? null : 'auto' });
  }
}

function valueOf(f, el) {
  if (f.type === 'checkbox') return el.checked;
  if (f.type === 'duration' || f.type === 'number') return el.value === '' ? undefined : Number(el.value);
  return el.value.trim();
}

/**
 * Opens the dialog. `fields`: [{ name, label, type?: 'text'|'textarea'|'select'|'duration'|
 * 'number'|'checkbox'|'datetime-local'|'password', required?, value?, options?, hint?, maxlength?,
 * min?, max? }]. `text`: an explanation above the fields. `confirmName`: the person must type this
 * exactly before the submit button works (dangerous actions). `extra`: an element shown after
 * the fields (read by onSubmit itself). Resolves with onSubmit's result, or
 * null when cancelled.
 */
export function openFormDialog({ title, text, fields = [], extra = null, submitLabel = 'OK', danger = false, confirmName, onSubmit, className = '' }) {
  count += 1;
  const base = `form-dialog-${count}`;
  return new Promise((resolve) => {
    const inputs = fields.map((f, i) => [f, fieldEl(f, `${base}-${i}`)]);
    const confirm = confirmName !== undefined ? h('input', { id: `${base}-confirm`, class: 'confirm-name', type: 'text', autocomplete: 'off', spellcheck: 'false' }) : null;
    const error = h('p', { class: 'form-error', role: 'alert' });
    const cancel = h('button', { type: 'button', class: 'form-dialog-cancel' }, 'Cancel');
    const submit = h('button', { type: 'submit', class: `form-dialog-submit ${danger ? 'danger' : 'primary'}`, disabled: confirm ? true : null }, submitLabel);
    const form = h(
      'form',
      { class: 'form-dialog-form', novalidate: true },
      h('h2', { id: `${base}-title`, dir: 'auto' }, title),
      text ? h('p', { class: 'form-dialog-text', dir: 'auto' }, text) : null,
      inputs.flatMap(([f, el], i) =>
        f.type === 'checkbox'
          ? h('label', { class: 'check-row', for: `${base}-${i}` }, el, ' ', f.label)
          : [h('label', { for: `${base}-${i}` }, f.label, f.required ? '' : h('span', { class: 'muted' }, ' (optional)')), el, f.hint ? h('p', { id: `${base}-${i}-hint`, class: 'hint' }, f.hint) : null], // flatMap: h() flattens one level only
      ),
      extra,
      confirm ? [h('label', { for: confirm.id }, 'Type ', h('strong', { dir: 'auto' }, confirmName), ' to confirm'), confirm] : null,
      error,
      h('div', { class: 'dialog-buttons' }, cancel, submit),
    );
    const dialog = h('dialog', { class: `dialog form-dialog ${className}`.trim(), 'aria-labelledby': `${base}-title` }, form);
    document.body.append(dialog);
    let result = null;
    const finish = () => {
      dialog.remove();
      resolve(result);
    };
    dialog.addEventListener('close', finish);
    cancel.addEventListener('click', () => dialog.close());
    confirm?.addEventListener('input', () => {
      submit.disabled = confirm.value !== confirmName;
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      const values = {};
      for (const [f, el] of inputs) {
        values[f.name] = valueOf(f, el);
        if (f.required && (values[f.name] === '' || values[f.name] === undefined)) {
          error.textContent = `${f.label} is required.`;
          el.focus();
          return;
        }
      }
      if (confirm && confirm.value !== confirmName) return;
      submit.disabled = true;
      cancel.disabled = true;
      try {
        result = (await onSubmit(values)) ?? true;
        dialog.close();
      } catch (err) {
        error.textContent = errorMessage(err);
        error.dataset.code = err?.code ?? '';
      } finally {
        submit.disabled = false;
        cancel.disabled = false;
      }
    });
    dialog.showModal();
    (inputs[0]?.[1] ?? confirm ?? submit).focus();
  });
}

/** A required reason (1–500 characters), the contract's rule for every moderation reason. */
export const reasonField = (label = 'Reason', required = true) => ({ name: 'reason', label, type: 'textarea', required, maxlength: 500, hint: '1–500 characters; kept in the audit log.' });
