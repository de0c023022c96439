// The clinician writes the management report on the referral's page: first the employee's consent
// (who receives it, which optional sections, how consent was given), then the report itself,
// with one answer box per question the referrer asked. Saved with PUT …/report/consent and
// PUT …/report; the report steps (send for review, ready, release) then check it is complete.

import { ApiError, get, put } from './api.js';
import { h } from './dom.js';
import { ErrorSummary, clearFields, showApiError } from './errors.js';
import { KINDS } from './form-fields.js';

const FITNESS = {
  fit: 'Fit for their role',
  fit_with_adjustments: 'Fit for their role with adjustments',
  temporarily_unfit: 'Temporarily unfit for their role',
  unfit: 'Unfit for their role',
};
const EQUALITY = {
  likely: 'The disability provisions are likely to apply',
  unlikely: 'The disability provisions are unlikely to apply',
};
const SECTIONS = {
  background: 'Background (work-relevant)',
  equality_act: 'Equality Act 2010 opinion',
  retirement_redeployment: 'Ill-health retirement or redeployment',
};
const METHOD = {
  verbal_recorded: 'Given verbally and recorded in the notes',
  e_signature: 'Signed electronically',
};

const CONSENT_FIELDS = [
  {
    name: 'recipients',
    kind: 'textarea',
    label: 'Who may receive the report',
    hint: 'E-mail addresses the employee agreed to, one per line.',
  },
  {
    name: 'sections',
    kind: 'checkboxes',
    label: 'Optional sections the employee agreed to include',
    options: SECTIONS,
  },
  { name: 'method', kind: 'radios', label: 'How consent was given', options: METHOD },
  {
    name: 'information_given',
    kind: 'textarea',
    label: 'What the employee was told',
    hint: 'What the report covers, who receives it, and that they may see it first.',
  },
];

function reportFields(questions) {
  return [
    { name: 'assessment_date', kind: 'date', label: 'Date of assessment' },
    { name: 'clinician_registration', kind: 'text', label: 'Your professional registration' },
    { name: 'background', kind: 'textarea', label: 'Background (work-relevant)' },
    { name: 'functional_capability', kind: 'textarea', label: 'Current functional capability' },
    { name: 'fitness_opinion', kind: 'radios', label: 'Fitness for work', options: FITNESS },
    { name: 'fitness_detail', kind: 'textarea', label: 'Fitness for work: details' },
    ...questions.map((question, i) => ({
      name: `answers.${i}`,
      kind: 'textarea',
      label: `Answer to: ${question}`,
      question,
    })),
    { name: 'adjustments', kind: 'textarea', label: 'Adjustments' },
    { name: 'return_to_work', kind: 'textarea', label: 'Return to work and rehabilitation' },
    { name: 'prognosis', kind: 'textarea', label: 'Prognosis, future attendance and performance' },
    { name: 'equality_act_opinion', kind: 'radios', label: 'Equality Act 2010', options: EQUALITY },
    { name: 'equality_act_reasoning', kind: 'textarea', label: 'Equality Act 2010: reasoning' },
    { name: 'retirement_redeployment', kind: 'textarea', label: 'Ill-health retirement or redeployment' },
    { name: 'review', kind: 'textarea', label: 'Review and follow-up' },
  ];
}

/** One form: its fields rendered from `specs` (paths `${prefix}.${name}`), values from `initial`. */
function editorForm({ prefix, title, specs, initial, button, disabled, toBody, save, onSaved }) {
  const headingId = `${prefix}-form-title`;
  const summary = new ErrorSummary();
  const fields = specs.map((spec) => ({ ...spec, path: `${prefix}.${spec.name}`, rows: 4 }));
  const controls = fields.map((field) => {
    const el = KINDS[field.kind].render(field, () => {});
    KINDS[field.kind].write(el, field, initial(field));
    for (const control of el.querySelectorAll('input, textarea, select')) control.disabled = disabled;
    return el;
  });
  const submit = h('button', { type: 'submit', class: 'button', disabled }, button);
  const done = h('p', { class: 'muted', role: 'status' });
  const form = h(
    'form',
    { class: 'action', novalidate: true, 'aria-labelledby': headingId },
    h('h3', { id: headingId }, title),
    summary.el,
    controls,
    submit,
    done,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    summary.hide();
    done.textContent = '';
    const values = {};
    fields.forEach((field, i) => {
      values[field.name] = KINDS[field.kind].read(controls[i], field);
    });
    submit.disabled = true;
    try {
      await save(toBody(values, fields));
      done.textContent = `Saved at ${new Date().toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}.`;
      onSaved?.();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showApiError(summary, form, error, {
        // "recipients.0" belongs to the recipients box; "answers.2.answer" to the third answer.
        path: (name) => `${prefix}.${name.replace(/\.answer$/, '').replace(/^recipients\.\d+$/, 'recipients')}`,
        prompt: 'Correct the following, then save again.',
      });
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function consentBody(values, previous) {
  const chosen = new Set(values.sections || []);
  return {
    recipients: (values.recipients || '').split(/[\s,;]+/).filter(Boolean),
    sections: Object.fromEntries(Object.keys(SECTIONS).map((key) => [key, chosen.has(key)])),
    clinical_details: previous?.clinical_details || [],
    method: values.method,
    information_given: values.information_given || '',
  };
}

function contentBody(values, fields, previous) {
  const body = { clinical_details: previous.clinical_details || [] };
  const answers = [];
  for (const field of fields) {
    const value = values[field.name];
    if (field.question !== undefined) answers.push({ question: field.question, answer: value || '' });
    else if (field.kind === 'textarea' || field.kind === 'text') body[field.name] = value || '';
    else body[field.name] = value ?? null;
  }
  body.answers = answers;
  return body;
}

/**
 * The report panel for a referral (clinicians only; null for anybody else). `onSaved` runs after
 * either form is saved.
 */
export async function reportPanel(referral, { onSaved } = {}) {
  let draft;
  try {
    draft = await get(`/api/v1/referrals/${referral.id}/report/draft`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) return null;
    throw error;
  }
  const base = `/api/v1/referrals/${referral.id}`;
  const disabled = !draft.editable;
  const answersBy = new Map(draft.content.answers.map((a) => [a.question, a.answer]));
  const consent = editorForm({
    prefix: 'consent',
    title: "1. The employee's consent to the report",
    specs: CONSENT_FIELDS,
    initial: (field) => {
      const saved = draft.consent;
      if (!saved) return field.name === 'sections' ? ['background'] : undefined;
      if (field.name === 'recipients') return saved.recipients.join('\n');
      if (field.name === 'sections') return Object.keys(SECTIONS).filter((key) => saved.sections[key]);
      return saved[field.name];
    },
    button: 'Save consent',
    disabled,
    toBody: (values) => consentBody(values, draft.consent),
    save: async (body) => {
      draft.consent = await put(`${base}/report/consent`, body);
    },
    onSaved,
  });
  const report = editorForm({
    prefix: 'report',
    title: '2. The report',
    specs: reportFields(draft.questions),
    initial: (field) =>
      field.question !== undefined ? answersBy.get(field.question) : draft.content[field.name],
    button: 'Save report',
    disabled,
    toBody: (values, fields) => contentBody(values, fields, draft.content),
    save: (body) => put(`${base}/report`, body),
    onSaved,
  });
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'report-title' },
    h('h2', { id: 'report-title' }, 'Management report'),
    h(
      'p',
      { class: 'hint' },
      disabled
        ? 'The report can only be changed while the consultation or the report is in progress.'
        : 'Save the consent first: the report is checked against it. Saving never sends anything.',
    ),
    consent,
    report,
    h('p', {}, h('a', { href: `${base}/report.html`, target: '_blank', rel: 'noopener' }, 'Preview the report as the manager will see it (opens in a new tab)')),
  );
}
