// "Plan a clinic" on the diary: when, how long each appointment is, what kind (video, telephone,
// face to face, on site at a client's site), where, and (for booking staff) whose clinic.

import { ApiError, post } from './api.js';
import { h } from './dom.js';
import { ErrorSummary, clearFields, showApiError, showProblems } from './errors.js';
import { announce } from './session.js';

export const KIND = { video: 'Video', phone: 'Telephone', face_to_face: 'Face to face', on_site: 'On site' };

function field(name, label, control, hint) {
  const hintEl = hint ? h('p', { class: 'hint', id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field', dataset: { field: name, label } }, h('label', { for: control.id }, label), hintEl, control);
}

function kindField() {
  const choices = Object.entries(KIND).map(([value, text]) =>
    h('div', { class: 'choice' },
      h('input', { type: 'radio', name: 'plan-kind', id: `plan-kind-${value}`, value, checked: value === 'video' }),
      h('label', { for: `plan-kind-${value}` }, text)));
  return h('fieldset', { class: 'field', dataset: { field: 'kind', label: 'Kind of clinic' } },
    h('legend', {}, 'Kind of clinic'), h('div', { class: 'choices choices--radio' }, choices));
}

const at = (day, time) => new Date(`${day}T${time}`);

/** The form; `choices` are the provider's clinicians and employers; `onPlanned(clinic)` after success. */
export function planForm(user, choices, defaultDay, onPlanned) {
  const summary = new ErrorSummary();
  const day = h('input', { id: 'plan-day', type: 'date', value: defaultDay, required: true });
  const from = h('input', { id: 'plan-from', type: 'time', value: '09:00', required: true });
  const to = h('input', { id: 'plan-to', type: 'time', value: '12:00', required: true });
  const length = h('select', { id: 'plan-length' },
    [15, 20, 30, 45, 60].map((m) => h('option', { value: m, selected: m === 30 }, `${m} minutes`)));
  const location = h('input', { id: 'plan-location', type: 'text', autocomplete: 'off' });
  const employer = h('select', { id: 'plan-employer' }, h('option', { value: '' }, 'Not on site'),
    choices.employers.map((e) => h('option', { value: e.id }, e.name)));
  const clinician = h('select', { id: 'plan-clinician' },
    choices.clinicians.map((c) => h('option', { value: c.id, selected: c.id === user.id }, c.name)));
  const kind = kindField();
  const button = h('button', { type: 'submit', class: 'button' }, 'Plan clinic');
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'plan-title' },
    h('h2', { id: 'plan-title' }, 'Plan a clinic'), summary.el,
    field('starts_at', 'Date', day), field('from', 'Starts', from), field('ends_at', 'Ends', to),
    field('slot_minutes', 'Appointment length', length), kind,
    field('location', 'Address or place', location, 'Needed for face-to-face and on-site clinics.'),
    field('employer_id', "Client employer's site", employer, 'Only for an on-site clinic.'),
    user.role === 'provider_admin' ? field('clinician_id', 'Clinician', clinician) : null,
    button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    summary.hide();
    const chosen = form.querySelector('input[name="plan-kind"]:checked').value;
    const [start, end] = [at(day.value, from.value), at(day.value, to.value)];
    const missing = [['starts_at', start], ['ends_at', end]].filter(([, d]) => Number.isNaN(d.getTime()));
    if (missing.length) {
      const problems = missing.map(([name]) => ({ field: name, type: 'missing', message: '' }));
      showProblems(summary, form, problems, 'Correct the following, then plan the clinic.');
      return;
    }
    const body = { starts_at: start.toISOString(), ends_at: end.toISOString(),
      slot_minutes: Number(length.value), kind: chosen };
    if (location.value.trim()) body.location = location.value.trim();
    if (employer.value) body.employer_id = employer.value;
    if (user.role === 'provider_admin') body.clinician_id = clinician.value;
    button.disabled = true;
    try {
      const clinic = await post('/api/v1/booking/clinics', body);
      announce(`${KIND[clinic.kind]} clinic planned with ${clinic.slots.length} appointments.`);
      await onPlanned(clinic);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showApiError(summary, form, error, { prompt: 'Correct the following, then plan the clinic.' });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
