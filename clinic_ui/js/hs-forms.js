// Health surveillance forms for clinicians: record a check (by programme kind) and sign its outcome.
// Field errors from the API (e.g. "measurements.audiogram.left.1000") are linked to the inputs.

import { ApiError, post } from './api.js';
import { h, todayIso } from './dom.js';
import { ErrorSummary, clearFields, markField } from './errors.js';

export const OUTCOME = {
  FIT: 'Fit',
  FIT_WITH_RESTRICTIONS: 'Fit with restrictions',
  TEMPORARILY_UNFIT: 'Temporarily unfit',
  UNFIT: 'Unfit',
  FURTHER_ASSESSMENT: 'Further assessment needed',
  INCOMPLETE: 'Could not be completed',
};
const REFER = { OHA: 'OH adviser', OHP: 'OH physician', specialist: 'Specialist', HAVS_T3: 'HAVS tier 3', HAVS_T4: 'HAVS tier 4', retest: 'Repeat test' };
const INCOMPLETE = { DNA: 'Did not attend', declined: 'Declined', consent_withheld: 'Consent withheld', equipment: 'Equipment problem' };
const FREQS = ['1000', '2000', '3000', '4000', '6000'];
const SYMPTOMS = {
  noise: ['tinnitus', 'ear_infection', 'difficulty_hearing_speech'],
  respiratory: ['cough', 'wheeze', 'breathlessness'],
  skin: ['redness', 'itching', 'cracking'],
  night: ['sleep_problems', 'digestive_problems', 'fatigue'],
};
const FITNESS_CONDITIONS = ['blackouts_or_seizures', 'heart_condition', 'breathing_problems', 'claustrophobia_or_panic', 'mobility_problems'];
const HAVS_SYMPTOMS = ['tingling_or_numbness', 'finger_blanching', 'pain_or_stiffness', 'grip_or_dexterity_loss'];

const words = (key) => key.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase());
let seq = 0;

/** A labelled control wrapped in a .field that errors can be attached to by its API path. */
function field(path, label, control, hint = '') {
  seq += 1;
  control.id = control.id || `f-${seq}`;
  if (hint) control.setAttribute('aria-describedby', `${control.id}-hint`);
  return h(
    'div',
    { class: 'field', dataset: { field: path, fieldId: control.id, label } },
    h('label', { for: control.id }, label),
    hint ? h('p', { class: 'hint', id: `${control.id}-hint` }, hint) : null,
    control,
  );
}

const number = (name, attrs = {}) => h('input', { type: 'number', name, inputmode: 'decimal', ...attrs });

function checkboxes(legend, path, names) {
  seq += 1;
  return h(
    'fieldset',
    { class: 'field', id: `fs-${seq}`, dataset: { field: path, label: legend } },
    h('legend', {}, legend),
    h('div', { class: 'choices' }, names.map((name) => {
      seq += 1;
      return h('div', { class: 'choice' }, h('input', { type: 'checkbox', id: `f-${seq}`, name, value: 'yes' }), h('label', { for: `f-${seq}` }, words(name)));
    })),
  );
}

function radios(legend, path, options, checked) {
  seq += 1;
  return h(
    'fieldset',
    { class: 'field', id: `fs-${seq}`, dataset: { field: path, label: legend } },
    h('legend', {}, legend),
    h('div', { class: 'choices choices--radio' }, Object.entries(options).map(([value, text]) => {
      seq += 1;
      return h('div', { class: 'choice' }, h('input', { type: 'radio', id: `f-${seq}`, name: path, value, checked: value === checked }), h('label', { for: `f-${seq}` }, text));
    })),
  );
}

function select(path, label, options, { blank = true } = {}) {
  const control = h('select', { name: path }, blank ? h('option', { value: '' }, 'Choose') : null,
    Object.entries(options).map(([value, text]) => h('option', { value }, text)));
  return field(path, label, control);
}

function audiogramFields() {
  return ['left', 'right'].map((ear) => h(
    'fieldset',
    { class: 'group', id: `fs-${ear}`, dataset: { field: `measurements.audiogram.${ear}`, label: `${words(ear)} ear` } },
    h('legend', {}, `${words(ear)} ear: hearing level in dB HL`),
    h('div', { class: 'audiogram' }, FREQS.map((f) =>
      field(`measurements.audiogram.${ear}.${f}`, `${words(ear)} ear, ${Number(f) / 1000} kHz`, number(`${ear}-${f}`, { min: -10, max: 120, step: 5, required: true, inputmode: 'numeric', dataset: { whole: 'dB' } })))),
  ));
}

function kindFields(kind) {
  if (kind === 'noise') {
    return [...audiogramFields(),
      select('measurements.nihl_pattern', 'Noise-induced hearing loss pattern', { none: 'None seen', stable: 'Stable', new_or_progressive: 'New or progressive' }, { blank: false }),
      checkboxes('Questionnaire: reported', 'questionnaire.symptoms', SYMPTOMS.noise)];
  }
  if (kind === 'fitness_for_task') {
    return [field('measurements.pulse_bpm', 'Resting pulse (beats a minute)', number('pulse_bpm', { min: 20, max: 250, inputmode: 'numeric', dataset: { whole: 'beats a minute' } })),
      field('measurements.spo2_pct', 'Oxygen saturation, SpO2 (%)', number('spo2_pct', { min: 50, max: 100, inputmode: 'numeric', dataset: { whole: '%' } })),
      checkboxes('Questionnaire: declared', 'questionnaire', FITNESS_CONDITIONS)];
  }
  if (kind === 'havs') {
    return [select('questionnaire.tier', 'HAVS tier', { T1: 'Tier 1 (initial questionnaire)', T2: 'Tier 2 (annual questionnaire)', T3: 'Tier 3 (assessment)', T4: 'Tier 4 (diagnosis)' }, { blank: false }),
      checkboxes('Symptoms reported', 'questionnaire', [...HAVS_SYMPTOMS, 'consistent_with_havs'])];
  }
  const extra = kind === 'respiratory'
    ? [field('measurements.fev1_l', 'FEV1 (litres)', number('fev1_l', { step: 0.01 })), field('measurements.fvc_l', 'FVC (litres)', number('fvc_l', { step: 0.01 }))]
    : [];
  return [checkboxes('Questionnaire: reported', 'questionnaire.symptoms', SYMPTOMS[kind] || []), ...extra];
}

const val = (form, name) => form.elements.namedItem(name)?.value ?? '';
const num = (form, name) => (val(form, name) === '' ? null : Number(val(form, name)));
const ticked = (form, names) => Object.fromEntries(names.map((n) => [n, Boolean(form.elements.namedItem(n)?.checked)]));

function readCheck(form, kind) {
  if (kind === 'noise') {
    const audiogram = Object.fromEntries(['left', 'right'].map((ear) => [ear, Object.fromEntries(FREQS.map((f) => [f, num(form, `${ear}-${f}`)]))]));
    return { measurements: { audiogram, nihl_pattern: val(form, 'measurements.nihl_pattern') }, questionnaire: { symptoms: ticked(form, SYMPTOMS.noise) } };
  }
  if (kind === 'fitness_for_task') {
    const m = { pulse_bpm: num(form, 'pulse_bpm'), spo2_pct: num(form, 'spo2_pct') };
    return { measurements: Object.fromEntries(Object.entries(m).filter(([, v]) => v !== null)), questionnaire: ticked(form, FITNESS_CONDITIONS) };
  }
  if (kind === 'havs') {
    return { measurements: {}, questionnaire: { tier: val(form, 'questionnaire.tier'), ...ticked(form, [...HAVS_SYMPTOMS, 'consistent_with_havs']) } };
  }
  const m = kind === 'respiratory' ? { fev1_l: num(form, 'fev1_l'), fvc_l: num(form, 'fvc_l') } : {};
  return { measurements: Object.fromEntries(Object.entries(m).filter(([, v]) => v !== null)), questionnaire: { symptoms: ticked(form, SYMPTOMS[kind] || []) } };
}

/** The API's message for a field in plain words ("enter a whole number of dB"). */
function plain(e, target) {
  const control = target?.matches('input') ? target : target?.querySelector('input[type="number"]');
  const unit = control?.dataset.whole;
  if (unit && /int_|float_|number|parsing/.test(e.type)) return `enter a whole number${unit === '%' ? '' : ' of'} ${unit}`;
  if (control && /greater_than|less_than/.test(e.type)) return `enter a value from ${control.min} to ${control.max}${unit ? ` ${unit}` : ''}`;
  if (e.type === 'missing') return 'this is required';
  return e.message.replace(/^Value error, /, '');
}

/** A whole-form rule broken ("review_date: needed …; refer_to: …") becomes one problem per field. */
function split(errors) {
  return errors.flatMap((e) => {
    const text = e.message.replace(/^Value error, /, '');
    if (e.field && e.field !== 'body') return [e];
    return text.split('; ').map((part) => {
      const [name, ...rest] = part.split(': ');
      return rest.length ? { field: name, type: 'rule', message: rest.join(': ') } : { ...e, message: part };
    });
  });
}

function targetFor(form, path) {
  let target = null;
  for (let at = path; at && !target; at = at.includes('.') ? at.slice(0, at.lastIndexOf('.')) : '') {
    target = form.querySelector(`[data-field="${CSS.escape(at)}"]`);
  }
  return target;
}

/** Show problems on the form: each linked to the closest field its path names, in plain words. */
function showProblems(form, summary, errors, detail) {
  const problems = split(errors).map((e) => {
    const target = targetFor(form, e.field);
    const message = plain(e, target);
    if (target) markField(target, message.charAt(0).toUpperCase() + message.slice(1));
    const control = target ? (target.matches('input, select, textarea') ? target : target.querySelector('input, select, textarea')) : null;
    return { label: target?.dataset.label || '', message, type: 'plain', field: target, control };
  });
  summary.show(problems, detail);
}

/** Whole-number fields checked before sending: empty (when required), not whole, or out of range. */
function numberProblems(form) {
  const problems = [];
  for (const input of form.querySelectorAll('input[data-whole]')) {
    if (input.closest('[hidden]')) continue;
    const path = input.closest('[data-field]')?.dataset.field;
    const unit = input.dataset.whole;
    const raw = input.value.trim();
    const bad = input.validity.badInput;
    let message = '';
    if (!raw && !bad) message = input.required ? `enter a whole number${unit === '%' ? '' : ' of'} ${unit}` : '';
    else if (bad || !Number.isInteger(Number(raw))) message = `enter a whole number${unit === '%' ? '' : ' of'} ${unit}`;
    else if (Number(raw) < Number(input.min) || Number(raw) > Number(input.max)) message = `enter a value from ${input.min} to ${input.max} ${unit}`;
    if (message) problems.push({ field: path, type: 'plain', message });
  }
  return problems;
}

function wire(form, summary, submit) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    summary.hide();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    const local = numberProblems(form);
    if (local.length) {
      button.disabled = false;
      showProblems(form, summary, local, 'Correct the following, then try again.');
      return;
    }
    try {
      await submit();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showProblems(form, summary, error.errors || [], error.detail);
    } finally {
      button.disabled = false;
    }
  });
}

/** The record-a-check form; `onDone(result)` gets the draft with its proposal. */
export function recordForm(enrolment, programme, onDone) {
  const summary = new ErrorSummary();
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'record-title' },
    h('h2', { id: 'record-title' }, 'Record the check'),
    field('performed_on', 'Date of the check', h('input', { type: 'date', name: 'performed_on', value: todayIso(), required: true })),
    select('modality', 'How the check was done', { in_person: 'In person', video: 'Video', phone: 'Telephone' }, { blank: false }),
    ...kindFields(programme.kind),
    field('clinical_notes', 'Clinical notes (OH only)', h('textarea', { name: 'clinical_notes', rows: 3 })),
    h('button', { type: 'submit', class: 'button' }, 'Save and see the proposal'));
  wire(form, summary, async () => {
    const body = { enrolment_id: enrolment.id, performed_on: val(form, 'performed_on'), modality: val(form, 'modality'), clinical_notes: val(form, 'clinical_notes'), ...readCheck(form, programme.kind) };
    onDone(await post('/api/v1/surveillance/results', body));
  });
  return [summary.el, form];
}

const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);

function addMonths(iso, months) {
  const [y, m, d] = iso.split('-').map(Number);
  const at = new Date(Date.UTC(y, m - 1 + months, 1));
  const last = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 0)).getUTCDate();
  at.setUTCDate(Math.min(d, last));
  return at.toISOString().slice(0, 10);
}

/** The sign form, filled in from the proposal; `onDone(result)` gets the signed result. */
export function signForm(result, defaultMonths, onDone) {
  const proposal = result.clinical.proposal || { outcome: 'FIT', employer_actions: [] };
  const months = proposal.next_due_in_months || defaultMonths;
  const summary = new ErrorSummary();
  const consent = h('input', { type: 'checkbox', id: 'sign-consent', name: 'outcome_consent' });
  const only = (outcomes, el) => {
    el.dataset.outcomes = outcomes;
    return el;
  };
  const override = field('override_reason', 'Reason for overriding the proposal', h('textarea', { name: 'override_reason', rows: 2 }), `Needed because the outcome differs from the proposal (${OUTCOME[proposal.outcome] || proposal.outcome}).`);
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'sign-title' },
    h('h2', { id: 'sign-title' }, 'Confirm and sign the outcome'),
    radios('Outcome', 'outcome', OUTCOME, proposal.outcome),
    only('FIT_WITH_RESTRICTIONS', field('restrictions', 'Restrictions (one a line)', h('textarea', { name: 'restrictions', rows: 2 }))),
    only('FIT_WITH_RESTRICTIONS', radios('The restrictions are', 'duration', { temporary: 'Temporary', permanent: 'Permanent' }, 'temporary')),
    only('FIT_WITH_RESTRICTIONS TEMPORARILY_UNFIT', field('review_date', 'Review date', h('input', { type: 'date', name: 'review_date' }), 'Needed for temporary restrictions or temporary unfitness.')),
    only('FURTHER_ASSESSMENT', select('refer_to', 'Refer to', REFER)),
    only('FURTHER_ASSESSMENT', field('due_by', 'Further assessment due by', h('input', { type: 'date', name: 'due_by' }))),
    only('INCOMPLETE', select('incomplete_reason', 'Why it could not be completed', INCOMPLETE)),
    field('employer_actions', 'Actions for the employer (one a line)', h('textarea', { name: 'employer_actions', rows: 2 }, (proposal.employer_actions || []).join('\n'))),
    field('next_due_date', 'Next check due', h('input', { type: 'date', name: 'next_due_date', value: addMonths(result.performed_on, months), required: true })),
    field('assessor_registration', 'Your registration (e.g. NMC 12A3456E)', h('input', { type: 'text', name: 'assessor_registration', autocomplete: 'off' })),
    override,
    h('div', { class: 'field field--checkbox', dataset: { field: 'outcome_consent', fieldId: 'sign-consent', label: 'Consent' } },
      h('div', { class: 'choice' }, consent, h('label', { for: 'sign-consent' }, 'The employee agreed their employer receives this outcome (not their health details)'))),
    h('button', { type: 'submit', class: 'button' }, 'Sign outcome'));
  // Only the fields the chosen outcome takes are shown (and sent); the override reason only when it differs.
  const chosen = () => form.querySelector('input[name="outcome"]:checked')?.value || '';
  const applyOutcome = () => {
    for (const el of form.querySelectorAll('[data-outcomes]')) el.hidden = !el.dataset.outcomes.split(' ').includes(chosen());
    override.hidden = chosen() === proposal.outcome;
  };
  form.addEventListener('change', (event) => {
    if (event.target.name === 'outcome') applyOutcome();
  });
  applyOutcome();
  wire(form, summary, async () => {
    const outcome = form.querySelector('input[name="outcome"]:checked')?.value || '';
    const body = { outcome, employer_actions: lines(val(form, 'employer_actions')), next_due_date: val(form, 'next_due_date'), outcome_consent: consent.checked, assessor_registration: val(form, 'assessor_registration') };
    const duration = form.querySelector('input[name="duration"]:checked')?.value || 'temporary';
    const restrictions = lines(val(form, 'restrictions')).map((text) => ({ text, duration }));
    if (restrictions.length) body.restrictions = restrictions;
    if (form.querySelector('[data-field="restrictions"]').hidden) delete body.restrictions;
    for (const name of ['review_date', 'refer_to', 'due_by', 'incomplete_reason', 'override_reason']) {
      const shown = !form.elements.namedItem(name).closest('[hidden]');
      if (shown && val(form, name)) body[name] = val(form, name);
    }
    onDone(await post(`/api/v1/surveillance/results/${result.id}/sign`, body));
  });
  return [summary.el, form];
}
