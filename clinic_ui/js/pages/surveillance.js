// Health surveillance. Clinicians: programmes (#), enrolments (#programme=ID), record a check
// (#record=ENROLMENT&programme=ID) and sign it (#result=ID). Employers: signed certificates to
// download. Employees: their own results, certificate and results letter.

import { ApiError, get } from '../api.js';
import { byId, focusOn, formatDate, formatDateTime, h, replace, serial } from '../dom.js';
import { showNav } from '../nav.js';
import { OUTCOME, recordForm, signForm } from '../hs-forms.js';
import { announce, requireUser } from '../session.js';

const view = byId('view');
const notice = byId('notice');
const BASE_TITLE = document.title;
const KIND = {
  noise: 'Noise (audiometry)', havs: 'Hand-arm vibration', respiratory: 'Respiratory', skin: 'Skin',
  night: 'Night work', fitness_for_task: 'Fitness for task',
};
let user = null;
let pendingNotice = null;

const certificateUrl = (id) => `/api/v1/surveillance/results/${id}/certificate.pdf`;
const letterUrl = (id) => `/api/v1/surveillance/results/${id}/letter.pdf`;

function table(captionId, caption, headers, rows) {
  if (!rows.length) return h('p', {}, `${caption}: none.`);
  return h('div', { class: 'table-wrap', role: 'region', 'aria-labelledby': captionId, tabindex: '0' },
    h('table', { class: 'table' }, h('caption', { id: captionId }, caption),
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows)));
}

async function clinicianHome() {
  const [programmes, drafts] = await Promise.all([get('/api/v1/surveillance/programmes'), get('/api/v1/surveillance/results?status=draft')]);
  const heading = h('h1', {}, 'Health surveillance');
  replace(view, heading,
    table('drafts-caption', 'Checks waiting to be signed', ['Employee', 'Programme', 'Date'], drafts.items.map((r) =>
      h('tr', {}, h('th', { scope: 'row' }, h('a', { href: `#result=${r.id}` }, r.full_name)), h('td', {}, r.programme_name), h('td', {}, formatDate(r.performed_on))))),
    table('programmes-caption', 'Programmes', ['Programme', 'Hazard'], programmes.map((p) =>
      h('tr', {}, h('th', { scope: 'row' }, h('a', { href: `#programme=${p.id}` }, p.name)), h('td', {}, KIND[p.kind]))))); 
  return heading;
}

async function programmePage(id) {
  const [programmes, enrolments] = await Promise.all([get('/api/v1/surveillance/programmes'), get(`/api/v1/surveillance/programmes/${id}/enrolments`)]);
  const programme = programmes.find((p) => p.id === id);
  const heading = h('h1', {}, programme ? programme.name : 'Programme');
  replace(view, h('p', {}, h('a', { href: '#' }, 'All programmes')), heading,
    table('enrolled-caption', 'Enrolled employees', ['Employee', 'Department', 'Next check due', 'Check'], enrolments.map((e) =>
      h('tr', {}, h('th', { scope: 'row' }, e.full_name, h('span', { class: 'sub' }, e.employee_number)), h('td', {}, e.department || '–'),
        h('td', {}, formatDate(e.next_due_date)),
        h('td', {}, h('a', { href: `#record=${e.id}&programme=${id}` }, `Record a check for ${e.full_name}`))))));
  return heading;
}

async function recordPage(enrolmentId, programmeId) {
  const [programmes, enrolments] = await Promise.all([get('/api/v1/surveillance/programmes'), get(`/api/v1/surveillance/programmes/${programmeId}/enrolments`)]);
  const programme = programmes.find((p) => p.id === programmeId);
  const enrolment = enrolments.find((e) => e.id === enrolmentId);
  if (!programme || !enrolment) throw new ApiError(404, 'This enrolment was not found.');
  document.title = `Record a check for ${enrolment.full_name} – ${BASE_TITLE}`;
  const heading = h('h1', {}, `Record a check for ${enrolment.full_name}`);
  replace(view, h('p', {}, h('a', { href: `#programme=${programmeId}` }, `Back to ${programme.name}`)), heading,
    h('p', { class: 'lead' }, `${programme.name}: ${KIND[programme.kind]}.`),
    recordForm(enrolment, programme, (draft) => {
      pendingNotice = 'Check saved. Review the proposal, then sign the outcome.';
      window.location.hash = `result=${draft.id}`;
    }));
  return heading;
}

function outcomeFacts(r) {
  const rows = [
    ['Employee', `${r.full_name} (${r.employee_number})`], ['Programme', r.programme_name], ['Date of check', formatDate(r.performed_on)],
    ['Outcome', r.outcome ? OUTCOME[r.outcome] : 'Not signed yet'],
    ['Restrictions', r.restrictions.length ? r.restrictions.map((x) => `${x.text} (${x.duration})`).join('; ') : 'None'],
    ['Actions for the employer', r.employer_actions.length ? r.employer_actions.join('; ') : 'None'],
    ['Next check due', r.next_due_date ? formatDate(r.next_due_date) : '–'],
    ['Signed', r.signed_at ? `${formatDateTime(r.signed_at)} by ${r.assessor_name}` : '–'],
  ];
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
}

function proposalPanel(result) {
  const p = result.clinical.proposal;
  if (!p) return null;
  return h('section', { class: 'proposal', 'aria-labelledby': 'proposal-title' },
    h('h2', { id: 'proposal-title' }, `Proposed: ${OUTCOME[p.outcome]}`),
    p.clinical_category ? h('p', {}, h('strong', {}, 'Clinical category (OH only): '), p.clinical_category) : null,
    h('ul', {}, p.rules.map((rule) => h('li', {}, rule.explanation))));
}

function downloads(r) {
  return h('ul', { class: 'plain-list' },
    h('li', {}, h('a', { href: certificateUrl(r.id), download: '' }, `Download the certificate for ${r.full_name} (PDF)`)),
    ['employee', 'clinician'].includes(user.role)
      ? h('li', {}, h('a', { href: letterUrl(r.id), download: '' }, 'Download the results letter (PDF)')) : null);
}

async function resultPage(id) {
  const result = await get(`/api/v1/surveillance/results/${id}`);
  const heading = h('h1', {}, `${result.programme_name}: ${result.full_name}`);
  const parts = [h('p', {}, h('a', { href: '#' }, 'Back')), heading, outcomeFacts(result)];
  if (result.status === 'signed') parts.push(h('h2', {}, 'Documents'), downloads(result));
  if (result.status === 'draft' && user.role === 'clinician') {
    const programmes = await get('/api/v1/surveillance/programmes');
    const recall = programmes.find((p) => p.id === result.programme_id)?.recall?.[0]?.months || 12;
    parts.push(proposalPanel(result), signForm(result, recall, (signed) => {
      pendingNotice = `Signed: ${OUTCOME[signed.outcome]}. The certificate is ready for the employer.`;
      announce(pendingNotice);
      rerender().then(focusOn);
    }));
  }
  replace(view, ...parts);
  return heading;
}

async function resultsList() {
  const page = await get('/api/v1/surveillance/results?status=signed&limit=200');
  const mine = user.role === 'employee';
  const heading = h('h1', {}, mine ? 'Your health surveillance results' : 'Health surveillance certificates');
  replace(view, heading,
    table('results-caption', mine ? 'Your results' : 'Signed outcomes', ['Employee', 'Programme', 'Date', 'Outcome', 'Next due', 'Certificate'],
      page.items.map((r) => h('tr', {},
        h('th', { scope: 'row' }, h('a', { href: `#result=${r.id}` }, r.full_name)), h('td', {}, r.programme_name),
        h('td', {}, formatDate(r.performed_on)), h('td', {}, OUTCOME[r.outcome]), h('td', {}, formatDate(r.next_due_date)),
        h('td', {}, h('a', { href: certificateUrl(r.id), download: '' }, `Download certificate for ${r.full_name}`))))));
  return heading;
}

async function route() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  document.title = BASE_TITLE;
  try {
    if (params.get('result')) return await resultPage(params.get('result'));
    if (user.role === 'clinician') {
      if (params.get('record')) return await recordPage(params.get('record'), params.get('programme'));
      if (params.get('programme')) return await programmePage(params.get('programme'));
      return await clinicianHome();
    }
    return await resultsList();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) window.location.replace('index.html');
    const heading = h('h1', {}, error.status === 404 ? 'Not found' : 'Something went wrong');
    replace(view, heading, h('p', {}, error.detail), h('p', {}, h('a', { href: '#' }, 'Back')));
    return heading;
  }
}

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
  user = await requireUser(['clinician', 'client_admin', 'manager', 'employee']);
  if (!user) return;
  showNav(user);
  window.addEventListener('hashchange', async () => focusOn(await rerender()));
  await rerender();
}

start();
