// Clinician's page: the triage queue (#status=…) sorted by priority and age, and one referral
// (#referral=ID) with the triage, request-information and decline forms, comments and history.

import { ApiError, get } from '../api.js';
import { ACTIONS, actionForms } from '../actions.js';
import { attachmentList, loadAttachments } from '../attachments.js';
import { commentsPanel } from '../comments.js';
import { contentsNav, fillContents } from '../contents.js';
import { byId, daysSince, focusOn, formatDateTime, h, replace, serial } from '../dom.js';
import { historyPanel } from '../history.js';
import { ANY, listView } from '../list.js';
import { GRADE, HAZARD, MODALITY, PRIORITY, REFERRAL_TYPE, STATUS, URGENCY, label } from '../labels.js';
import { referralView, safetyCriticalHazards } from '../referral-view.js';
import { reportPanel } from '../report-editor.js';
import { announce, requireUser } from '../session.js';

const view = byId('view');
const notice = byId('notice');
const BASE_TITLE = document.title;

// The queue's state filter: every state, grouped as the nurse thinks of them (values are sent as states).
const QUEUE_FILTERS = [
  ['AWAITING_TRIAGE', 'Awaiting triage'],
  ['INFO_REQUESTED', 'More information requested'],
  ['AWAITING_BOOKING', 'Awaiting booking'],
  ['BOOKED', 'Appointment booked'],
  ['DNA', 'Did not attend'],
  ['IN_CONSULTATION', 'In consultation'],
  ['REPORT_DRAFTING,AWAITING_FME', 'Report drafting (including awaiting medical evidence)'],
  ['EMPLOYEE_REVIEW', 'Report with the employee'],
  ['READY_FOR_RELEASE', 'Report ready for release'],
  ['RELEASED,CLARIFICATION,REVIEW_DUE', 'Report released (including clarification and review)'],
  ['DECLINED,CLOSED_DNA,CLOSED_NO_CONSENT,CLOSED_NOT_RELEASED,CLOSED,WITHDRAWN', 'Closed, declined or withdrawn'],
  [ANY, 'All referrals'],
];
let queueAddress = '#'; // the queue as last shown, for "Back to the queue"
const ACTION_ORDER = ['triage', 'request_info', 'decline'];
// Where the management report is written (and, later, shown read-only until it goes out).
const REPORT_STATES = new Set([
  'IN_CONSULTATION',
  'REPORT_DRAFTING',
  'AWAITING_FME',
  'EMPLOYEE_REVIEW',
  'READY_FOR_RELEASE',
]);
let pendingNotice = null;

function waiting(item) {
  if (!item.submitted_at) return 'Not submitted';
  const days = daysSince(item.submitted_at);
  return days === 0 ? 'Waiting less than a day' : `Waiting ${days} day${days === 1 ? '' : 's'}`;
}

function urgencyTag(value) {
  if (!value) return '–';
  return h('span', { class: `tag${value === 'urgent' ? ' tag--urgent' : ''}` }, label(URGENCY, value));
}

function employeeCell(item) {
  return [
    h('a', { href: `#referral=${item.id}` }, item.employee_name || 'Unnamed'),
    h('span', { class: 'sub' }, item.organisation_name),
  ];
}

function statusTag(status) {
  return h('span', { class: `tag tag--${status.toLowerCase()}` }, label(STATUS, status));
}

async function showQueue(params) {
  document.title = BASE_TITLE;
  queueAddress = window.location.hash || '#';
  const heading = h('h1', {}, 'Referral queue');
  const list = await listView({
    id: 'queue',
    endpoint: '/api/v1/referrals',
    caption: 'Referrals',
    captionNote: 'most urgent, then longest waiting, first unless sorted otherwise',
    state: params,
    defaults: { sort: 'priority' },
    search: 'Employee name or payroll number',
    filters: [
      { name: 'status', label: 'Show', kind: 'select', options: QUEUE_FILTERS, default: 'AWAITING_TRIAGE' },
      { name: 'overdue', label: 'Only overdue', kind: 'checkbox' },
    ],
    columns: [
      { title: 'Employee and employer', row: true, cell: employeeCell },
      {
        title: 'Priority',
        sort: 'priority',
        cell: (item) => (item.priority ? label(PRIORITY, item.priority) : 'Not triaged'),
      },
      { title: 'Urgency requested', cell: (item) => urgencyTag(item.urgency_requested) },
      { title: 'Waiting', sort: 'submitted', cell: waiting },
      { title: 'Status', sort: 'status', cell: (item) => statusTag(item.status) },
    ],
    empty: 'No referrals in this state.',
    emptyFiltered: 'No referrals match these filters. ',
  });
  replace(view, heading, list.el);
  return list.focus || heading;
}

function facts(referral) {
  const form = referral.form;
  const rows = [
    ['Status', statusTag(referral.status)],
    ['Employer', referral.organisation_name],
    ['Type', label(REFERRAL_TYPE, referral.referral_type) || '–'],
    [
      'Submitted',
      referral.submitted_at
        ? `${formatDateTime(referral.submitted_at)} (${waiting(referral).toLowerCase()})`
        : '–',
    ],
    ['Urgency requested', urgencyTag(referral.urgency_requested)],
    ['Priority', referral.priority ? label(PRIORITY, referral.priority) : 'Not triaged'],
    ['Appointment type', referral.modality ? label(MODALITY, referral.modality) : '–'],
    ['Clinician', referral.clinician_grade ? label(GRADE, referral.clinician_grade) : '–'],
    [
      'Employee response',
      referral.acknowledged_at ? `Responded ${formatDateTime(referral.acknowledged_at)}` : 'Not yet',
    ],
  ];
  const critical = safetyCriticalHazards(form);
  return [
    h(
      'dl',
      { class: 'facts' },
      rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
    ),
    critical.length
      ? h(
          'p',
          { class: 'flag' },
          h('strong', {}, 'Safety-critical work: '),
          critical.map((c) => label(HAZARD, c)).join(', '),
          '.',
        )
      : null,
    form.urgency_requested === 'urgent' && form.urgency_reason
      ? h('p', { class: 'flag' }, h('strong', {}, 'Why urgent: '), form.urgency_reason)
      : null,
  ];
}

/** The employee's answer "not discussed with me", as a warning at the top of the referral. */
function notDiscussed(events) {
  const answer = events.filter((e) => e.action === 'acknowledge').at(-1);
  if (!answer || answer.detail?.discussed !== false) return null;
  return h(
    'div',
    { class: 'notice notice--warning', role: 'note', 'aria-labelledby': 'not-discussed-title' },
    h('h2', { class: 'notice__title', id: 'not-discussed-title' }, 'The employee says this referral was not discussed with them'),
    h('p', {}, `They answered on ${formatDateTime(answer.at)}. Check with the referrer before going further.`),
    answer.detail.comment ? h('blockquote', { class: 'quote' }, answer.detail.comment) : null,
  );
}

/** Release recipients from the consent recorded at the consultation (the form starts with them). */
async function consentedRecipients(referral) {
  if (!referral.allowed_actions.includes('release')) return {};
  try {
    const draft = await get(`/api/v1/referrals/${referral.id}/report/draft`);
    return draft.consent ? { release: { recipients: draft.consent.recipients.join('\n') } } : {};
  } catch (error) {
    if (error instanceof ApiError) return {};
    throw error;
  }
}

async function showReferral(id) {
  const [referral, files, events] = await Promise.all([
    get(`/api/v1/referrals/${id}`),
    loadAttachments(id),
    get(`/api/v1/referrals/${id}/events`),
  ]);
  const initial = await consentedRecipients(referral);
  document.title = `Referral for ${referral.employee_name} – ${BASE_TITLE}`;
  const heading = h('h1', {}, `Referral for ${referral.employee_name}`);
  const ordered = [...referral.allowed_actions].sort((a, b) => rank(a) - rank(b));
  const forms = actionForms(
    { ...referral, allowed_actions: ordered },
    {
      level: 3,
      initial,
      onDone: (updated, action) => {
        pendingNotice = `${ACTIONS[action].title}: done. Status is now ${label(STATUS, updated.status).toLowerCase()}.`;
        announce(pendingNotice);
        rerender().then(focusOn);
      },
    },
  );
  const report = REPORT_STATES.has(referral.status) ? await reportPanel(referral) : null;
  const contents = contentsNav();
  replace(
    view,
    h('p', {}, h('a', { href: queueAddress }, 'Back to the queue')),
    heading,
    notDiscussed(events),
    contents,
    facts(referral),
    report,
    forms.length
      ? h(
          'section',
          { class: 'panel', 'aria-labelledby': 'decide-title' },
          h('h2', { id: 'decide-title' }, 'Next steps'),
          forms,
        )
      : null,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'sent-title' },
      h('h2', { id: 'sent-title' }, 'The referral'),
      referralView(referral.form, { level: 3, questions: referral.standard_questions }),
      h('h3', {}, 'Files'),
      attachmentList(id, files),
    ),
    commentsPanel(referral, { level: 2 }),
    historyPanel(referral, { level: 2 }),
  );
  fillContents(contents, view);
  return heading;
}

function rank(action) {
  const index = ACTION_ORDER.indexOf(action);
  return index === -1 ? ACTION_ORDER.length : index;
}

async function route() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  try {
    if (params.get('referral')) return await showReferral(params.get('referral'));
    return await showQueue(params);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) window.location.replace('index.html');
    const heading = h('h1', {}, error.status === 404 ? 'Referral not found' : 'Something went wrong');
    replace(view, heading, h('p', {}, error.detail), h('p', {}, h('a', { href: queueAddress }, 'Back to the queue')));
    return heading;
  }
}

/** Render the current view (and any message from the last action); resolves to the element to focus. */
async function render() {
  replace(notice);
  const heading = await route();
  if (!pendingNotice) return heading;
  const title = h('h2', { class: 'notice__title', tabindex: '-1' }, 'Saved');
  replace(notice, h('div', { class: 'notice' }, title, h('p', {}, pendingNotice)));
  pendingNotice = null;
  return title;
}

const rerender = serial(render);

async function start() {
  if (!(await requireUser(['clinician', 'provider_admin']))) return;
  window.addEventListener('hashchange', async () => focusOn(await rerender()));
  await rerender();
}

start();
