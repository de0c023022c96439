// The management referral form (domain.md §2, backend/referrals/form.py) as data: its sections,
// each field's JSON path, label, kind and when it is required. The editable form, the read-only
// view and the completeness checks are all driven from this one description. `view` (and a
// section's `viewTitle`) is the wording for readers of a sent referral, where the form's own
// wording ("Your name") would mislead them.

import {
  HAZARD,
  REASON,
  REFERRAL_TYPE,
  SHIFT_PATTERN,
  STANDARD_QUESTIONS,
  URGENCY,
  WORKING_PATTERN,
} from './labels.js';

const YES_NO = { true: 'Yes', false: 'No' };
const ABSENCE_REASONS = ['long_term_absence', 'recurrent_short_term_absence'];

const contactFields = (prefix, who) => [
  { path: `${prefix}.name`, label: `${who}: name`, kind: 'text', requiredWithGroup: true },
  { path: `${prefix}.job_title`, label: `${who}: job title`, kind: 'text' },
  { path: `${prefix}.phone`, label: `${who}: phone`, kind: 'tel' },
  { path: `${prefix}.email`, label: `${who}: email`, kind: 'email' },
];

export const SECTIONS = [
  {
    id: 'referral',
    title: 'Referral details',
    fields: [
      {
        path: 'referral_type',
        label: 'Type of referral',
        kind: 'select',
        options: REFERRAL_TYPE,
        required: true,
      },
      {
        path: 'urgency_requested',
        label: 'Urgency you are asking for',
        view: 'Urgency requested',
        kind: 'radios',
        options: URGENCY,
        required: true,
        initial: 'routine',
        hint: 'The clinician who triages the referral decides the final priority.',
      },
      {
        path: 'urgency_reason',
        label: 'Why is the referral urgent?',
        kind: 'textarea',
        hint: 'Needed if you ask for an urgent referral.',
        requiredWhen: (f) => f.urgency_requested === 'urgent',
      },
      { path: 'site', label: 'Site (optional)', kind: 'text' },
      { path: 'purchase_order', label: 'Purchase order or cost centre (optional)', kind: 'text' },
    ],
  },
  {
    id: 'employee',
    title: 'Employee',
    intro: 'The person you are referring. Their contact details are used only by occupational health.',
    fields: [
      { path: 'employee.full_name', label: 'Full name', kind: 'text', required: true },
      { path: 'employee.date_of_birth', label: 'Date of birth', kind: 'date', required: true },
      { path: 'employee.employee_number', label: 'Employee or payroll number', kind: 'text', required: true },
      { path: 'employee.phone', label: 'Employee phone', kind: 'tel', required: true },
      {
        path: 'employee.email',
        label: 'Employee email',
        kind: 'email',
        required: true,
        hint: 'We send the employee a link to see this referral at this address.',
      },
      {
        path: 'employee.correspondence_address',
        label: 'Address for letters',
        kind: 'textarea',
        required: true,
        hint: 'The employee may ask for letters to go somewhere other than home.',
      },
      { path: 'employee.job_title', label: 'Job title', kind: 'text', required: true },
      { path: 'employee.department', label: 'Department', kind: 'text', required: true },
      { path: 'employee.work_location', label: 'Work location', kind: 'text', required: true },
      {
        path: 'employee.employment_start_date',
        label: 'Employment start date',
        kind: 'date',
        required: true,
      },
      { path: 'employee.role_start_date', label: 'Start date in current role (optional)', kind: 'date' },
      {
        path: 'employee.contracted_hours',
        label: 'Contracted hours per week',
        kind: 'number',
        required: true,
        hint: 'For example 37.5',
      },
      {
        path: 'employee.working_pattern',
        label: 'Full or part time',
        kind: 'radios',
        options: WORKING_PATTERN,
        required: true,
      },
      {
        path: 'employee.shift_patterns',
        label: 'Shift pattern',
        kind: 'checkboxes',
        options: SHIFT_PATTERN,
        required: true,
        hint: 'Tick all that apply.',
      },
      {
        path: 'employee.access_needs',
        label: 'Access or communication needs for the appointment (optional)',
        kind: 'textarea',
        hint: 'For example an interpreter, BSL, captions or step-free access.',
      },
    ],
  },
  {
    id: 'role',
    title: 'Role and hazards',
    fields: [
      { path: 'role.main_duties', label: 'Main duties', kind: 'textarea', required: true },
      {
        path: 'role.hazards',
        label: 'Hazards in the role',
        kind: 'checkboxes',
        options: HAZARD,
        hint: 'Tick all that apply. Leave blank if none apply.',
      },
      {
        path: 'role.hazard_other',
        label: 'Describe the other hazard',
        kind: 'text',
        requiredWhen: (f) => (f.role?.hazards || []).includes('other'),
        hint: "Needed if you ticked 'Other hazard'.",
      },
    ],
  },
  {
    id: 'referrer',
    title: 'Referrer (you)',
    viewTitle: 'Referrer',
    fields: [
      {
        path: 'referrer.name',
        label: 'Your name',
        view: 'Name',
        kind: 'text',
        required: true,
        autocomplete: 'name',
      },
      {
        path: 'referrer.job_title',
        label: 'Your job title',
        view: 'Job title',
        kind: 'text',
        required: true,
        autocomplete: 'organization-title',
      },
      {
        path: 'referrer.phone',
        label: 'Your phone',
        view: 'Phone',
        kind: 'tel',
        required: true,
        autocomplete: 'tel',
      },
      {
        path: 'referrer.email',
        label: 'Your email',
        view: 'Email',
        kind: 'email',
        required: true,
        autocomplete: 'email',
      },
      {
        kind: 'group',
        path: 'referrer.hr_contact',
        legend: 'HR adviser (optional)',
        fields: contactFields('referrer.hr_contact', 'HR adviser'),
      },
      {
        kind: 'group',
        path: 'referrer.second_line_manager',
        legend: 'Second-line manager (optional)',
        hint: 'Who to contact when you are away.',
        fields: contactFields('referrer.second_line_manager', 'Second-line manager'),
      },
    ],
  },
  {
    id: 'reason',
    title: 'Reason for referral',
    fields: [
      {
        path: 'reason.categories',
        label: 'Reasons for the referral',
        kind: 'checkboxes',
        options: REASON,
        required: true,
        hint: 'Tick all that apply.',
      },
      {
        path: 'reason.concern',
        label: 'What is the concern?',
        kind: 'textarea',
        required: true,
        rows: 5,
        hint: 'Describe what you have noticed and why you are referring now (at least 10 characters).',
      },
      {
        path: 'reason.advice_sought',
        label: 'What advice do you want?',
        view: 'Advice sought',
        kind: 'textarea',
        required: true,
        rows: 5,
        hint: 'What you need to know from occupational health, not a diagnosis (at least 10 characters).',
      },
      {
        path: 'reason.health_condition_reported_by_employee',
        label: 'Health condition as stated by the employee or on a fit note (optional)',
        kind: 'textarea',
      },
      {
        path: 'reason.actions_taken',
        label: 'Support or adjustments already tried (optional)',
        view: 'Support or adjustments already tried',
        kind: 'textarea',
      },
      {
        path: 'reason.confidential_note_to_oh',
        label: 'Confidential note to occupational health (optional)',
        kind: 'textarea',
        hint: 'Only for exceptional cases. It is not shown to the employee; OH may contact you about it.',
        viewNote: 'Not shown to the employee.',
      },
    ],
  },
  {
    id: 'absence',
    title: 'Absence',
    fields: [
      {
        path: 'absence.currently_absent',
        label: 'Is the employee absent from work now?',
        kind: 'radios',
        options: YES_NO,
        boolean: true,
        required: true,
      },
      {
        path: 'absence.absence_start_date',
        label: 'First day of the current absence',
        kind: 'date',
        requiredWhen: (f) => f.absence?.currently_absent === true,
        hint: 'Needed if the employee is absent now.',
      },
      { path: 'absence.expected_return_date', label: 'Expected return date (optional)', kind: 'date' },
      {
        path: 'absence.record',
        label: 'Absence record',
        kind: 'records',
        rowLabel: 'Absence period',
        hint: 'Sickness absence in the last 2 years. Needed when the referral is about absence.',
        requiredWhen: (f) => (f.reason?.categories || []).some((c) => ABSENCE_REASONS.includes(c)),
        columns: [
          { key: 'start_date', label: 'First day', kind: 'date', required: true },
          { key: 'end_date', label: 'Last day', kind: 'date' },
          { key: 'reason', label: 'Reason given', kind: 'text', required: true },
        ],
      },
      {
        path: 'absence.trigger_reached',
        label: 'Has the absence-policy trigger been reached? (optional)',
        kind: 'radios',
        options: { ...YES_NO, '': 'Not known' },
        boolean: true,
        initial: '',
      },
    ],
  },
  {
    id: 'questions',
    title: 'Questions for occupational health',
    intro: 'Choose at least one standard question or write your own.',
    complete: (f) => (f.questions?.standard || []).length + (f.questions?.additional || []).length > 0,
    missing: 'choose at least one standard question or write your own',
    fields: [
      {
        path: 'questions.standard',
        label: 'Standard questions',
        kind: 'checkboxes',
        options: STANDARD_QUESTIONS,
        numeric: true,
        numbered: true,
      },
      {
        path: 'questions.additional',
        label: 'Your own questions',
        view: 'Additional questions',
        kind: 'list',
        max: 10,
        itemLabel: 'Question',
        hint: 'Up to 10. Some providers charge for more than 5.',
      },
    ],
  },
  {
    id: 'attachments',
    title: 'Files',
    intro: 'For example the job description, absence record, fit notes or risk assessments.',
    attachments: true,
    fields: [],
  },
  {
    id: 'attestation',
    title: 'Employee informed',
    fields: [
      {
        path: 'attestation.discussed_with_employee',
        kind: 'checkbox',
        required: true,
        label: 'I have discussed this referral, its reasons and all information in it with the employee',
        view: 'The referrer has discussed this referral, its reasons and all information in it with the employee',
      },
      { path: 'attestation.discussed_on', label: 'Date of the discussion', kind: 'date', required: true },
      {
        path: 'attestation.copy_given_to_employee',
        kind: 'checkbox',
        required: true,
        label: 'The employee has been or will be given a copy of this referral',
        view: 'The employee has been or will be given a copy',
      },
      {
        path: 'attestation.employee_agrees_to_attend',
        label: 'Does the employee agree to attend? (optional)',
        kind: 'radios',
        options: { ...YES_NO, '': 'Not asked' },
        boolean: true,
        initial: '',
      },
    ],
  },
  {
    id: 'check',
    title: 'Check and submit',
    intro:
      'This is exactly what occupational health and the employee will see. The employee is sent a link to it.',
    preview: true,
    fields: [],
  },
];

export const ABSENCE_REASON_CODES = ABSENCE_REASONS;

/** The value at a dotted path, or undefined. */
export function getPath(obj, path) {
  return path.split('.').reduce((at, key) => (at === null || at === undefined ? undefined : at[key]), obj);
}

/** Set a value at a dotted path, creating objects on the way. */
export function setPath(obj, path, value) {
  const keys = path.split('.');
  let at = obj;
  for (const key of keys.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
    at = at[key];
  }
  at[keys.at(-1)] = value;
}

export function isEmpty(value) {
  return (
    value === undefined ||
    value === null ||
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0)
  );
}

/** Every leaf field of a section (groups flattened). */
export function leafFields(fields) {
  return fields.flatMap((field) => (field.kind === 'group' ? leafFields(field.fields) : [field]));
}

function fieldComplete(field, form) {
  const value = getPath(form, field.path);
  if (field.kind === 'records') {
    const rows = value || [];
    const needed = field.columns.filter((c) => c.required);
    if (rows.some((row) => needed.some((c) => isEmpty(row[c.key])))) return false;
  }
  if (field.requiredWithGroup) {
    const group = getPath(form, field.path.split('.').slice(0, -1).join('.'));
    if (!isEmpty(group) && isEmpty(value)) return false;
  }
  const required = field.required || (field.requiredWhen && field.requiredWhen(form));
  return !required || !isEmpty(value);
}

/** Whether a section has everything it needs for submission (as far as the browser can tell). */
export function sectionComplete(section, form, extra = {}) {
  if (section.attachments) return extra.attachmentsComplete !== false;
  if (section.preview) return false;
  const fieldsOk = leafFields(section.fields).every((field) => fieldComplete(field, form));
  return fieldsOk && (!section.complete || section.complete(form));
}
