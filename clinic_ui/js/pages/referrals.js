// Manager's page: the list of their referrals (#), a new or draft referral (#new, #edit=ID) and one
// referral with its actions, comments and history (#view=ID).

import { ApiError, get, request } from '../api.js';
import { actionForms } from '../actions.js';
import { attachmentList, loadAttachments } from '../attachments.js';
import { commentsPanel } from '../comments.js';
import { contentsNav, fillContents } from '../contents.js';
import { byId, focusOn, formatDate, formatDateTime, h, replace, serial } from '../dom.js';
import { historyPanel } from '../history.js';
import { listView } from '../list.js';
import { MODALITY, PRIORITY, REFERRAL_TYPE, STATUS, label } from '../labels.js';
import { ReferralEditor } from '../referral-editor.js';
import { referralView } from '../referral-view.js';
import { releasedReport } from '../report-view.js';
import { announce, requireUser } from '../session.js';

const view = byId('view');
const notice = byId('notice');
const BASE_TITLE = document.title;
let user = null;

function backLink() {
  return h('p', {}, h('a', { href: listAddress }, 'Back to your referrals'));
}

function setTitle(text) {
  document.title = text ? `${text} – ${BASE_TITLE}` : BASE_TITLE;
}

let pendingNotice = null;

/** Show a success message above the next view that is rendered. */
function queueNotice(title, text) {
  pendingNotice = { title, text };
}

function showNotice({ title, text }) {
  const heading = h('h2', { class: 'notice__title', tabindex: '-1' }, title);
  replace(notice, h('div', { class: 'notice', role: 'status' }, heading, h('p', {}, text)));
  return heading;
}

function statusTag(status) {
  return h('span', { class: `tag tag--${status.toLowerCase()}` }, label(STATUS, status));
}

const STATUS_OPTIONS = [['', 'Any status'], ...Object.entries(STATUS).filter(([code]) => code !== 'SUBMITTED')];
let listAddress = '#'; // the list as last shown (search, filters, sort, page), for "Back to your referrals"

function employeeCell(item) {
  const name = item.employee_name || 'Employee not named yet';
  const href = item.status === 'DRAFT' ? `#edit=${item.id}` : `#view=${item.id}`;
  return [h('a', { href }, name), h('span', { class: 'sub' }, label(REFERRAL_TYPE, item.referral_type) || '')];
}

async function showList(params) {
  setTitle('');
  listAddress = window.location.hash || '#';
  const heading = h('h1', {}, 'Your referrals');
  const list = await listView({
    id: 'referrals',
    endpoint: '/api/v1/referrals',
    caption: 'Referrals',
    state: params,
    defaults: { sort: '-updated' },
    search: 'Employee name or payroll number',
    filters: [
      { name: 'status', label: 'Status', kind: 'select', options: STATUS_OPTIONS },
      { name: 'department', label: 'Department', kind: 'text' },
      { name: 'submitted_from', label: 'Submitted from', kind: 'date' },
      { name: 'submitted_to', label: 'Submitted to', kind: 'date' },
      { name: 'overdue', label: 'Only overdue', kind: 'checkbox' },
    ],
    columns: [
      { title: 'Employee', row: true, cell: employeeCell },
      { title: 'Status', sort: 'status', cell: (item) => statusTag(item.status) },
      {
        title: 'Submitted',
        sort: 'submitted',
        first: '-submitted',
        cell: (item) => (item.submitted_at ? formatDate(item.submitted_at, { short: true }) : 'Not yet'),
      },
      {
        title: 'Last change',
        sort: 'updated',
        first: '-updated',
        cell: (item) => formatDate(item.updated_at, { short: true }),
      },
    ],
    empty: 'You have not made any referrals yet.',
    emptyFiltered: 'No referrals match these filters. ',
  });
  replace(view, heading, h('p', {}, h('a', { class: 'button', href: '#new' }, 'New referral')), list.el);
  return list.focus || heading;
}

async function showEditor(id) {
  const referral = id ? await get(`/api/v1/referrals/${id}`) : null;
  if (referral && !referral.allowed_actions.includes('edit')) {
    window.location.replace(`#view=${id}`);
    return null;
  }
  const editor = new ReferralEditor({
    user,
    onCreated: (created) => window.history.replaceState(null, '', `#edit=${created.id}`),
    onSubmitted: (result) => {
      const who = result.referral.employee_name;
      queueNotice(
        'Referral submitted',
        `The referral for ${who} is now ${label(
          STATUS,
          result.referral.status,
        ).toLowerCase()}. We have emailed ${who} a link to see exactly what was sent.`,
      );
      window.location.hash = '';
    },
    onSavedChanges: (saved) => {
      window.location.hash = `view=${saved.id}`;
    },
  });
  const remove = referral?.allowed_actions.includes('delete') ? deleteDraft(referral) : null;
  replace(view, backLink(), editor.el, remove);
  setTitle(referral ? 'Edit referral' : 'New referral');
  await editor.load(referral);
  return null;
}

/** "Delete this draft", then a confirmation in place (focus moves to it), then DELETE. */
function deleteDraft(referral) {
  const who = referral.employee_name || 'an employee not named yet';
  const area = h('div', {});
  const start = h('button', { type: 'button', class: 'button button--warning' }, 'Delete this draft');
  const ask = () => {
    const question = h('p', { tabindex: '-1', id: 'delete-question' }, `Delete the draft referral for ${who}? It cannot be undone.`);
    const yes = h('button', { type: 'button', class: 'button button--warning' }, 'Yes, delete the draft');
    const no = h('button', { type: 'button', class: 'button button--secondary' }, 'No, keep it');
    const problem = h('p', { class: 'field-error', role: 'alert' });
    no.addEventListener('click', () => {
      replace(area, start);
      start.focus();
    });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        await request('DELETE', `/api/v1/referrals/${referral.id}`);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        replace(problem, error.detail);
        yes.disabled = false;
        return;
      }
      queueNotice('Draft deleted', `The draft referral for ${who} has been deleted.`);
      window.location.hash = listAddress.slice(1);
    });
    replace(area, h('div', { class: 'notice notice--warning' }, question, problem, h('div', { class: 'button-row' }, yes, no)));
    question.focus();
  };
  start.addEventListener('click', ask);
  replace(area, start);
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'delete-title' },
    h('h2', { id: 'delete-title' }, 'Delete the draft'),
    h('p', {}, 'Nobody else has seen a draft. Deleting it erases what you entered and any files you attached.'),
    area,
  );
}

function infoRequest(events) {
  const asked = events.filter((e) => e.action === 'request_info').at(-1);
  if (!asked) return null;
  return h(
    'div',
    { class: 'notice notice--warning' },
    h('h2', { class: 'notice__title' }, 'Occupational health needs more information'),
    h('blockquote', { class: 'quote' }, asked.detail?.message || ''),
    h('p', {}, 'Change the referral if needed, then send your answer below.'),
  );
}

function facts(referral) {
  const rows = [
    ['Status', statusTag(referral.status)],
    ['Type', label(REFERRAL_TYPE, referral.referral_type) || '–'],
    ['Submitted', referral.submitted_at ? formatDateTime(referral.submitted_at) : 'Not yet'],
    ['Priority', referral.priority ? label(PRIORITY, referral.priority) : 'Not triaged yet'],
    ['Appointment type', referral.modality ? label(MODALITY, referral.modality) : 'Not decided yet'],
    [
      'Employee response',
      referral.acknowledged_at
        ? `Responded ${formatDateTime(referral.acknowledged_at)} (the answer goes to occupational health)`
        : 'Not yet',
    ],
  ];
  return h(
    'dl',
    { class: 'facts' },
    rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
  );
}

function sentPanel(referral, files) {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'sent-title' },
    h('h2', { id: 'sent-title' }, 'What was sent'),
    referralView(referral.form, { level: 3, questions: referral.standard_questions }),
    h('h3', {}, 'Files'),
    attachmentList(referral.id, files),
  );
}

/** Someone who did not make the referral follows its progress only (no contact or health details). */
function progressNote(referral) {
  const employee = referral.form.employee || {};
  const rows = [
    ['Employee', employee.full_name || referral.employee_name],
    ['Job title', employee.job_title || '–'],
    ['Department', employee.department || referral.department || '–'],
    ['Referred by', referral.form.referrer?.name || '–'],
  ];
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'sent-title' },
    h('h2', { id: 'sent-title' }, 'About this referral'),
    h(
      'dl',
      { class: 'facts' },
      rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
    ),
    h(
      'p',
      { class: 'muted' },
      'You can follow this referral. Its reasons, the employee\'s contact details, its files and ' +
        'comments are seen only by the manager who made it, occupational health and the employee.',
    ),
  );
}

const REPORT_OUT = new Set(['RELEASED', 'CLARIFICATION', 'REVIEW_DUE', 'CLOSED']);

async function showDetail(id) {
  const referral = await get(`/api/v1/referrals/${id}`);
  const report = REPORT_OUT.has(referral.status) ? await releasedReport(referral) : null;
  const full = referral.view !== 'progress';
  const [files, events] = await Promise.all([
    full ? loadAttachments(id) : [],
    get(`/api/v1/referrals/${id}/events`),
  ]);
  setTitle(`Referral for ${referral.employee_name}`);
  const heading = h('h1', {}, `Referral for ${referral.employee_name || 'an employee'}`);
  const actions = actionForms(referral, {
    level: 3,
    onDone: (updated, action) => {
      announce(`Done. Status: ${label(STATUS, updated.status)}.`);
      queueNotice(
        'Saved',
        `${action === 'withdraw' ? 'The referral was withdrawn' : 'Your answer was sent'}. ` +
          `Status: ${label(STATUS, updated.status)}.`,
      );
      rerender().then(focusOn);
    },
  });
  const edit = referral.allowed_actions.includes('edit')
    ? h('p', {}, h('a', { class: 'button button--secondary', href: `#edit=${id}` }, 'Change the referral'))
    : null;
  const contents = contentsNav();
  replace(
    view,
    backLink(),
    heading,
    contents,
    facts(referral),
    report,
    referral.status === 'INFO_REQUESTED' ? infoRequest(events) : null,
    edit || actions.length
      ? h(
          'section',
          { class: 'panel', 'aria-labelledby': 'actions-title' },
          h('h2', { id: 'actions-title' }, 'What you can do'),
          edit,
          actions,
        )
      : null,
    full ? sentPanel(referral, files) : progressNote(referral),
    full ? commentsPanel(referral, { level: 2 }) : null,
    historyPanel(referral, { level: 2 }),
  );
  fillContents(contents, view);
  return heading;
}

async function route() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  try {
    if (params.has('new')) return await showEditor(null);
    if (params.get('edit')) return await showEditor(params.get('edit'));
    if (params.get('view')) return await showDetail(params.get('view'));
    return await showList(params);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) window.location.replace('index.html');
    const heading = h('h1', {}, error.status === 404 ? 'Referral not found' : 'Something went wrong');
    replace(
      view,
      heading,
      h('p', {}, error.detail),
      backLink(),
    );
    return heading;
  }
}

/** Render the view for the current address; resolves to the heading that should take focus. */
async function render() {
  replace(notice);
  const heading = await route();
  if (!pendingNotice) return heading;
  const noticeHeading = showNotice(pendingNotice);
  pendingNotice = null;
  return noticeHeading;
}

const rerender = serial(render);

async function start() {
  user = await requireUser(['manager', 'client_admin']);
  if (!user) return;
  window.addEventListener('hashchange', async () => focusOn(await rerender()));
  await rerender();
}

start();
