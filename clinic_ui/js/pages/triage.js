// Clinician's page: the triage queue (#status=…) sorted by priority and age, and one referral
// (#referral=ID) with the triage, request-information and decline forms, comments and history.

import { ApiError, get } from '../api.js';
import { ACTIONS, actionForms } from '../actions.js';
import { attachmentList, loadAttachments } from '../attachments.js';
import { commentsPanel } from '../comments.js';
import { byId, daysSince, focusOn, formatDateTime, h, replace, serial } from '../dom.js';
import { historyPanel } from '../history.js';
import { GRADE, HAZARD, MODALITY, PRIORITY, REFERRAL_TYPE, STATUS, URGENCY, label } from '../labels.js';
import { referralView, safetyCriticalHazards } from '../referral-view.js';
import { reportPanel } from '../report-editor.js';
import { announce, requireUser } from '../session.js';

const view = byId('view');
const notice = byId('notice');
const BASE_TITLE = document.title;

const FILTERS = {
  AWAITING_TRIAGE: 'Awaiting triage',
  INFO_REQUESTED: 'More information requested',
  AWAITING_BOOKING: 'Awaiting booking',
  BOOKED: 'Appointment booked',
  '': 'All referrals',
};
const ACTION_ORDER = ['triage', 'request_info', 'decline'];
// Where the management report is written (and, later, shown read-only until it goes out).
const REPORT_STATES = new Set([
  'IN_CONSULTATION',
  'REPORT_DRAFTING',
  'AWAITING_FME',
  'EMPLOYEE_REVIEW',
  'READY_FOR_RELEASE',
]);
let filter = 'AWAITING_TRIAGE';
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

function queueRow(item) {
  return h(
    'tr',
    {},
    h(
      'th',
      { scope: 'row' },
      h('a', { href: `#referral=${item.id}&status=${filter}` }, item.employee_name || 'Unnamed'),
      h('span', { class: 'sub' }, item.organisation_name),
    ),
    h('td', {}, item.priority ? label(PRIORITY, item.priority) : 'Not triaged'),
    h('td', {}, urgencyTag(item.urgency_requested)),
    h('td', {}, waiting(item)),
    h('td', {}, h('span', { class: `tag tag--${item.status.toLowerCase()}` }, label(STATUS, item.status))),
  );
}

function filterForm() {
  const select = h(
    'select',
    { id: 'filter-status' },
    Object.entries(FILTERS).map(([value, text]) => h('option', { value, selected: value === filter }, text)),
  );
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter the queue' },
    h('div', { class: 'field' }, h('label', { for: 'filter-status' }, 'Show'), select),
    h('button', { type: 'submit', class: 'button button--secondary' }, 'Show referrals'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    window.location.hash = `status=${select.value}`;
  });
  return form;
}

async function showQueue() {
  document.title = BASE_TITLE;
  const query = new URLSearchParams({ order: 'queue', limit: '200' });
  if (filter) query.append('status', filter);
  const page = await get(`/api/v1/referrals?${query}`);
  const heading = h('h1', {}, 'Referral queue');
  const caption = `${FILTERS[filter]} (${page.total})`;
  const table = page.items.length
    ? h(
        'div',
        { class: 'table-wrap', role: 'region', 'aria-labelledby': 'queue-caption', tabindex: '0' },
        h(
          'table',
          { class: 'table' },
          h(
            'caption',
            { id: 'queue-caption' },
            caption,
            h('span', { class: 'muted' }, ' – most urgent, then longest waiting, first'),
          ),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Employee and employer', 'Priority', 'Urgency requested', 'Waiting', 'Status'].map((text) =>
                h('th', { scope: 'col' }, text),
              ),
            ),
          ),
          h('tbody', {}, page.items.map(queueRow)),
        ),
      )
    : h('p', {}, `No referrals: ${FILTERS[filter].toLowerCase()}.`);
  replace(view, heading, filterForm(), table);
  return heading;
}

function facts(referral) {
  const form = referral.form;
  const rows = [
    [
      'Status',
      h('span', { class: `tag tag--${referral.status.toLowerCase()}` }, label(STATUS, referral.status)),
    ],
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

async function showReferral(id) {
  const [referral, files] = await Promise.all([get(`/api/v1/referrals/${id}`), loadAttachments(id)]);
  document.title = `Referral for ${referral.employee_name} – ${BASE_TITLE}`;
  const heading = h('h1', {}, `Referral for ${referral.employee_name}`);
  const ordered = [...referral.allowed_actions].sort((a, b) => rank(a) - rank(b));
  const forms = actionForms(
    { ...referral, allowed_actions: ordered },
    {
      level: 3,
      onDone: (updated, action) => {
        pendingNotice = `${ACTIONS[action].title}: done. Status is now ${label(STATUS, updated.status).toLowerCase()}.`;
        announce(pendingNotice);
        rerender().then(focusOn);
      },
    },
  );
  const report = REPORT_STATES.has(referral.status) ? await reportPanel(referral) : null;
  replace(
    view,
    h('p', {}, h('a', { href: `#status=${filter}` }, 'Back to the queue')),
    heading,
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
  return heading;
}

function rank(action) {
  const index = ACTION_ORDER.indexOf(action);
  return index === -1 ? ACTION_ORDER.length : index;
}

async function route() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  if (params.has('status')) filter = params.get('status');
  if (!(filter in FILTERS)) filter = 'AWAITING_TRIAGE';
  try {
    if (params.get('referral')) return await showReferral(params.get('referral'));
    return await showQueue();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) window.location.replace('index.html');
    const heading = h('h1', {}, error.status === 404 ? 'Referral not found' : 'Something went wrong');
    replace(view, heading, h('p', {}, error.detail), h('p', {}, h('a', { href: '#' }, 'Back to the queue')));
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
