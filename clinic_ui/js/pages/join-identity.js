// The identity check on the join page: an employee gives their date of birth (or the code we sent
// them); an invited third party gives their name. The link is used up only when this succeeds.

import { ApiError, post } from '../api.js';
import { byId, h } from '../dom.js';
import { ErrorSummary, clearFields, markField } from '../errors.js';

function dateField() {
  const part = (name, label, size, autocomplete) =>
    h('div', { class: 'date-input__item' },
      h('label', { for: `dob-${name}` }, label),
      h('input', { id: `dob-${name}`, class: `input--${size}`, type: 'text', inputmode: 'numeric',
        autocomplete, maxlength: size === 4 ? '4' : '2', spellcheck: 'false' }));
  return h('div', { class: 'field', dataset: { field: 'date_of_birth', fieldId: 'dob', label: 'Date of birth' } },
    h('fieldset', { role: 'group', 'aria-describedby': 'dob-hint', id: 'dob' },
      h('legend', {}, 'Date of birth'),
      h('p', { class: 'hint', id: 'dob-hint' }, 'For example, 27 3 1985'),
      h('div', { class: 'date-input' }, part('day', 'Day', 2, 'bday-day'), part('month', 'Month', 2, 'bday-month'),
        part('year', 'Year', 4, 'bday-year'))));
}

function codeField() {
  return h('div', { class: 'field', dataset: { field: 'code', fieldId: 'code', label: 'Code' } },
    h('label', { for: 'code' }, 'Or the code we sent you'),
    h('p', { class: 'hint', id: 'code-hint' }, 'Six digits, sent to you by text message or email with your invitation.'),
    h('input', { id: 'code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
      'aria-describedby': 'code-hint', class: 'input--code' }));
}

function nameField() {
  return h('div', { class: 'field', dataset: { field: 'name', fieldId: 'guest-name', label: 'Your name' } },
    h('label', { for: 'guest-name' }, 'Your name'),
    h('p', { class: 'hint', id: 'guest-name-hint' }, 'The nurse will see this before letting you into the call.'),
    h('input', { id: 'guest-name', type: 'text', autocomplete: 'name', 'aria-describedby': 'guest-name-hint' }));
}

function readDate() {
  const [day, month, year] = ['day', 'month', 'year'].map((n) => byId(`dob-${n}`).value.trim());
  if (!day && !month && !year) return { empty: true };
  const d = Number(day);
  const m = Number(month);
  const y = Number(year);
  const valid = Number.isInteger(d) && Number.isInteger(m) && Number.isInteger(y) && y > 1900 && y < 2100 &&
    m >= 1 && m <= 12 && d >= 1 && d <= new Date(y, m, 0).getDate();
  if (!valid) return { error: 'Enter a real date of birth, for example 27 3 1985' };
  return { value: `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}` };
}

/** The heading, introduction and form; `onJoined(result)` runs after the link is redeemed. */
export function identityForm(token, preview, onJoined, { when, linkProblem }) {
  const employee = preview.kind === 'employee';
  const summary = new ErrorSummary();
  const fields = employee ? [dateField(), codeField()] : [nameField()];
  const submit = h('button', { type: 'submit', class: 'button' }, 'Continue');
  const form = h('form', { novalidate: true, class: 'card' }, summary.el, ...fields, submit);
  const problem = (field, control, message) => ({ label: field.dataset.label, message, type: 'custom', field, control });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    summary.hide();
    const body = { token };
    if (employee) {
      const date = readDate();
      const code = byId('code').value.replace(/\s+/g, '');
      const [dob, codeBox] = fields;
      if (date.error) {
        markField(dob, date.error);
        return summary.show([problem(dob, byId('dob-day'), date.error)]);
      }
      if (date.empty && !/^\d{6}$/.test(code)) {
        const message = code ? 'Enter the six-digit code' : 'Enter your date of birth, or the code we sent you';
        markField(code ? codeBox : dob, message);
        return summary.show([problem(code ? codeBox : dob, code ? byId('code') : byId('dob-day'), message)]);
      }
      if (date.value) body.date_of_birth = date.value;
      else body.code = code;
    } else {
      const name = byId('guest-name').value.trim();
      if (!name) {
        markField(fields[0], 'Enter your name');
        return summary.show([problem(fields[0], byId('guest-name'), 'Enter your name')]);
      }
      body.name = name;
    }
    submit.disabled = true;
    try {
      const joined = await post('/api/v1/clinics/join', body);
      return await onJoined(joined);
    } catch (error) {
      submit.disabled = false;
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 422 && employee) {
        markField(fields[0], 'Check your date of birth');
        return summary.show([problem(fields[0], byId('dob-day'), 'Check your date of birth, or use the code')],
          error.detail);
      }
      return linkProblem(error);
    }
  });

  return [
    h('h1', {}, employee ? 'Confirm it is you' : 'Join the video appointment'),
    h('p', {}, `Appointment with ${preview.clinician_name} at ${when(preview.starts_at)}.`),
    form,
  ];
}
