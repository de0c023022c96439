// Forms for the referral state changes (POST …/transitions, or a report step's own endpoint).
// Only actions listed in the referral's `allowed_actions` are offered; each form asks for exactly
// the fields its action needs.

import { ApiError, get, post } from './api.js';
import { h } from './dom.js';
import { ErrorSummary, clearFields, showApiError, showProblems } from './errors.js';
import { KINDS } from './form-fields.js';
import { GRADE, MODALITY, PRIORITY } from './labels.js';

export const RELEASE_CHOICE = {
  release: 'Release the report directly',
  see_first: 'The employee sees the report first',
  withhold: 'Do not release',
};

const FIELDS = {
  modality: { kind: 'radios', label: 'Appointment type', options: MODALITY },
  clinician_grade: { kind: 'radios', label: 'Clinician', options: GRADE },
  priority: { kind: 'radios', label: 'Priority', options: PRIORITY },
  message: { kind: 'textarea', label: 'Message' },
  reason: { kind: 'textarea', label: 'Reason' },
  consent_to_assessment: { kind: 'checkbox', label: 'The employee consents to the assessment' },
  release_choice: {
    kind: 'radios',
    label: "The employee's choice about the report",
    options: RELEASE_CHOICE,
  },
  recipients: { kind: 'textarea', label: 'Send the report to', hint: 'One email address per line.' },
  confirm: { kind: 'checkbox', label: 'Yes, I want to do this', local: true },
};

/** What each action is called, its button, and the fields it needs (backend/referrals/transitions.py). */
export const ACTIONS = {
  triage: { title: 'Triage', button: 'Save triage', fields: ['modality', 'clinician_grade', 'priority'] },
  request_info: {
    title: 'Ask the referrer for more information',
    button: 'Send request',
    fields: ['message'],
    labels: { message: 'What information do you need?' },
  },
  decline: {
    title: 'Decline the referral',
    button: 'Decline referral',
    fields: ['reason'],
    labels: { reason: 'Why is the referral not right for occupational health?' },
    hint: 'The referrer is told the reason.',
  },
  respond_info: {
    title: 'Send the information requested',
    button: 'Send information',
    fields: ['message'],
    labels: { message: 'Your answer' },
    hint: 'Edit the referral first if the form itself needs to change.',
  },
  withdraw: {
    title: 'Withdraw the referral',
    button: 'Withdraw referral',
    fields: ['confirm'],
    hint: 'The employee is told. This cannot be undone.',
  },
  // Booking steps happen in a clinic slot, on the diary (BOOKING_ACTIONS in transitions.py).
  book: {
    title: 'Book the appointment',
    link: 'diary.html',
    linkText: 'Book it into a free clinic slot in the diary',
    hint: 'Appointments are booked into a slot of a planned clinic of the right kind.',
  },
  reschedule: {
    title: 'Change the appointment',
    link: 'diary.html',
    linkText: 'Move or cancel it in the diary',
    hint: 'The employee and the referrer are told, with an updated calendar invitation.',
  },
  cancel_booking: {
    title: 'Cancel the appointment',
    link: 'diary.html',
    linkText: 'Cancel it in the diary',
  },
  mark_dna: {
    title: 'Did not attend',
    link: 'clinic.html',
    linkText: 'Mark it as not attended from the clinic',
  },
  rebook: { title: 'Book again after a missed appointment', button: 'Rebook', fields: [] },
  close_dna: { title: 'Close after a missed appointment', button: 'Close referral', fields: ['confirm'] },
  start: { title: 'Start the consultation', button: 'Start consultation', fields: ['consent_to_assessment'] },
  decline_assessment: {
    title: 'Employee declines assessment',
    button: 'Close: no consent',
    fields: ['confirm'],
  },
  finish_consultation: {
    title: 'End the consultation',
    button: 'End consultation',
    fields: ['release_choice', 'confirm'],
    labels: { confirm: 'Yes, the consultation is over' },
    hint: 'The referral moves on to writing the report; the consultation cannot be started again.',
  },
  request_fme: { title: 'Request further medical evidence', button: 'Request evidence', fields: ['reason'] },
  fme_received: { title: 'Further medical evidence received', button: 'Mark as received', fields: [] },
  send_for_review: { title: 'Send the report to the employee', button: 'Send for review', fields: [] },
  withhold: { title: 'Withhold the report', button: 'Withhold report', fields: ['confirm'] },
  ready_for_release: { title: 'Report ready for release', button: 'Mark ready', fields: [] },
  release: { title: 'Release the report', button: 'Release report', fields: ['recipients'] },
  request_clarification: { title: 'Ask for clarification', button: 'Send request', fields: ['message'] },
  add_addendum: { title: 'Add an addendum', button: 'Add addendum', fields: ['message'] },
  mark_review_due: { title: 'Review due', button: 'Mark review due', fields: [] },
  close: { title: 'Close the referral', button: 'Close referral', fields: ['confirm'] },
};

/**
 * Report steps go to their own endpoints (REPORT_ACTIONS in backend/referrals/transitions.py),
 * which refuse when the report is not written, consented or complete. `body` turns the form's
 * values into the endpoint's body; `fields` names the endpoint's fields as the form's.
 */
const REPORT_STEPS = {
  send_for_review: { path: 'report/send-for-review', body: () => ({}) },
  ready_for_release: { path: 'report/ready', body: () => ({}) },
  release: { path: 'report/release', body: ({ recipients }) => ({ recipients }) },
  add_addendum: {
    path: 'report/addenda',
    body: ({ message }) => ({ text: message }),
    fields: { text: 'message' },
  },
};

/** Take the action; resolves to the referral as it is afterwards. */
async function take(referral, action, body) {
  const step = REPORT_STEPS[action];
  if (!step) return post(`/api/v1/referrals/${referral.id}/transitions`, body);
  try {
    await post(`/api/v1/referrals/${referral.id}/${step.path}`, step.body(body));
  } catch (error) {
    if (error instanceof ApiError && step.fields) {
      error.errors = error.errors.map((p) => ({ ...p, field: step.fields[p.field] || p.field }));
    }
    throw error;
  }
  return get(`/api/v1/referrals/${referral.id}`);
}

function fieldFor(action, name) {
  const spec = ACTIONS[action];
  const base = FIELDS[name];
  const kind = base.kind === 'datetime' ? 'text' : base.kind;
  return {
    ...base,
    kind,
    path: `${action}.${name}`,
    label: spec.labels?.[name] || base.label,
    datetime: base.kind === 'datetime',
  };
}

function readValue(field, el) {
  const value = KINDS[field.kind].read(el, field);
  if (value === undefined) return undefined;
  if (field.datetime) return new Date(value).toISOString();
  if (field.path.endsWith('.recipients')) return value.split(/[\s,;]+/).filter(Boolean);
  return value;
}

/**
 * A form for one action. `onDone(referral, action)` gets the updated referral.
 * `level` is the heading level of the form's title.
 */
export function actionForm(referral, action, { onDone, level = 3, initial = {} }) {
  const spec = ACTIONS[action];
  const headingId = `action-${action}-title`;
  if (spec.link) {
    return h(
      'section',
      { class: 'action', 'aria-labelledby': headingId, dataset: { action } },
      h(`h${level}`, { id: headingId }, spec.title),
      spec.hint ? h('p', { class: 'hint' }, spec.hint) : null,
      h('p', {}, h('a', { href: `${spec.link}?referral=${encodeURIComponent(referral.id)}` }, spec.linkText)),
    );
  }
  const summary = new ErrorSummary();
  const fields = spec.fields.map((name) => fieldFor(action, name));
  const controls = fields.map((field) => {
    const el = KINDS[field.kind].render(field, () => {});
    if (field.datetime) el.querySelector('input').type = 'datetime-local';
    const name = field.path.split('.')[1];
    if (initial[name] !== undefined) KINDS[field.kind].write(el, field, initial[name]);
    return el;
  });
  const button = h(
    'button',
    {
      type: 'submit',
      class: action === 'decline' || action === 'withdraw' ? 'button button--warning' : 'button',
    },
    spec.button,
  );
  const form = h(
    'form',
    { class: 'action', novalidate: true, 'aria-labelledby': headingId, dataset: { action } },
    h(`h${level}`, { id: headingId }, spec.title),
    spec.hint ? h('p', { class: 'hint' }, spec.hint) : null,
    summary.el,
    controls,
    button,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    summary.hide();
    const body = { action };
    const missing = [];
    fields.forEach((field, i) => {
      const value = readValue(field, controls[i]);
      if (field.local && value === undefined)
        missing.push({ field: field.path, type: 'literal_error', message: '' });
      else if (!field.local && value !== undefined) body[field.path.split('.')[1]] = value;
    });
    if (missing.length) {
      showProblems(summary, form, missing, 'Confirm before continuing.');
      return;
    }
    button.disabled = true;
    try {
      onDone(await take(referral, action, body), action);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // A report step's missing report sections are not fields here: told in the server's words.
      showApiError(summary, form, error, {
        path: (name) => `${action}.${name}`,
        prompt: 'Correct the following, then try again.',
      });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/**
 * Every action form the referral allows (except those in `skip`); `initial` holds starting values
 * by action and field (e.g. {release: {recipients: 'a@example.org'}}).
 */
export function actionForms(referral, { onDone, level = 3, skip = [], initial = {} }) {
  return referral.allowed_actions
    .filter((action) => ACTIONS[action] && !skip.includes(action))
    .map((action) => actionForm(referral, action, { onDone, level, initial: initial[action] }));
}
