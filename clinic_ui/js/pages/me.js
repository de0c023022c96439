// "My occupational health": the employee's landing page. Appointments, the report waiting for
// them to read first (exactly what the manager would see) with approve / ask for corrections /
// withhold, released reports, surveillance certificates and letters, pulse readings, and who
// has seen their records.

import { ApiError, get } from '../api.js';
import { accessLog } from '../access-log-view.js';
import { byId, daysSince, focusOn, formatDate, formatDateTime, h, replace } from '../dom.js';
import { OUTCOME } from '../hs-forms.js';
import { appointmentsList, loadAppointments } from '../my-appointments.js';
import { reviewPanel } from '../report-review.js';
import { announce, requireUser } from '../session.js';

const view = byId('view');
const STAGE = {
  to_review: 'Waiting for you to read it',
  approved: 'You approved it; it will be released to the people you agreed',
  released: 'Released',
  not_released: 'You chose not to release it',
};
let me = null;

const section = (id, title, ...children) =>
  h('section', { class: 'panel', 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...children);

/** A section's content, or a sentence saying it could not be loaded (the rest of the page still works). */
async function loaded(load, render) {
  try {
    return render(await load());
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return h('p', { class: 'notice notice--warning' }, `This could not be loaded: ${error.detail}`);
  }
}

function waitingNotice(report) {
  const days = daysSince(report.review_since);
  const since = days === 0 ? 'today' : `${formatDate(report.review_since)} (${days} ${days === 1 ? 'day' : 'days'} ago)`;
  const title = h('h2', { class: 'notice__title', id: 'waiting-title' }, 'Your report is ready for you to read');
  return h(
    'div', { class: 'notice notice--warning', role: 'region', 'aria-labelledby': 'waiting-title' },
    title,
    h('p', {}, `You asked to see your occupational health report before your employer. It was sent to you ${since}.`),
    h('p', {}, 'There is no fixed deadline: take the time you reasonably need. If you need longer or help to read it, '
      + 'for example because of a disability, tell your occupational health clinician. Nothing is sent to your '
      + 'employer until you approve it.'),
    h('p', {}, h('a', { href: '#review-title' }, 'Read your report and decide')),
  );
}

function reportsList(reports) {
  const shown = reports.filter((r) => r.stage !== 'to_review');
  if (!shown.length) return h('p', {}, 'You have no other reports.');
  return h('ul', { class: 'plain-list' }, shown.map((r) => h(
    'li', { class: 'card' },
    h('h3', {}, `Report for ${r.organisation_name}`, r.submitted_at ? ` (referral of ${formatDate(r.submitted_at)})` : ''),
    h('p', {}, STAGE[r.stage], r.released_at ? ` on ${formatDate(r.released_at)}` : ''),
    r.stage === 'released' || r.stage === 'approved'
      ? h('p', {}, h('a', { href: `/api/v1/referrals/${r.referral_id}/report.pdf` }, 'Download the report (PDF)'),
        ' · ', h('a', { href: `/api/v1/referrals/${r.referral_id}/report.html` }, 'Open it as a web page'))
      : null,
  )));
}

function documentsList(page) {
  const signed = page.items.filter((r) => r.status === 'signed');
  if (!signed.length) return h('p', {}, 'You have no health surveillance results yet.');
  return h('ul', { class: 'plain-list' }, signed.map((r) => h(
    'li', { class: 'card' },
    h('h3', {}, `${r.programme_name}, ${formatDate(r.performed_on)}`),
    h('p', {}, `Outcome: ${OUTCOME[r.outcome] || r.outcome}. Next check due ${formatDate(r.next_due_date)}.`),
    h('p', {},
      h('a', { href: `/api/v1/surveillance/results/${r.id}/letter.pdf` }, 'Your results letter (PDF)'), ' · ',
      h('a', { href: `/api/v1/surveillance/results/${r.id}/certificate.pdf` }, 'Certificate (PDF)')),
  )));
}

function readingsList(page) {
  const link = h('p', {}, h('a', { href: 'measure.html' }, 'Measure my pulse'));
  if (!page.items.length) return [h('p', {}, 'You have not sent any pulse readings.'), link];
  const rows = page.items.map((s) => h(
    'tr', {},
    h('td', {}, formatDateTime(s.started_at || s.created_at)),
    h('td', {}, s.device_model),
    h('td', {}, s.heart_rate_mean_bpm === null ? '–' : `${Math.round(s.heart_rate_mean_bpm)} beats a minute`),
    h('td', {}, s.status === 'open' ? 'Still measuring' : 'Ended'),
  ));
  return [
    h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Pulse readings table', tabindex: '0' }, h('table', { class: 'table' },
      h('caption', { class: 'visually-hidden' }, 'Your pulse readings'),
      h('thead', {}, h('tr', {}, ['Started', 'Device', 'Average pulse', 'State'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))),
    link,
  ];
}

async function render() {
  const reports = await get('/api/v1/me/reports').catch((e) => {
    if (e instanceof ApiError) return [];
    throw e;
  });
  const waiting = reports.find((r) => r.stage === 'to_review');
  const sections = await Promise.all([
    loaded(loadAppointments, appointmentsList).then((c) => section('appointments', 'Your appointments', c)),
    waiting ? reviewPanel(waiting, { onDone: done }).then((c) => section('review', 'Your report to read first', c)) : null,
    Promise.resolve(section('reports', 'Your reports', reportsList(reports))),
    loaded(() => get('/api/v1/surveillance/results?limit=50'), documentsList)
      .then((c) => section('documents', 'Health surveillance certificates and letters', c)),
    loaded(() => get('/api/v1/readings/streams'), readingsList).then((c) => section('readings', 'Your pulse readings', c)),
    loaded(() => get('/api/v1/me/access-log?limit=100'), (entries) => accessLog(entries, me))
      .then((c) => section('access', 'Who has seen my records', c)),
  ]);
  replace(view, h('h1', {}, 'My occupational health'), waiting ? waitingNotice(waiting) : null, sections);
}

async function done(message) {
  await render();
  announce(message);
  focusOn(view.querySelector('h1'));
}

async function start() {
  me = await requireUser(['employee']);
  if (!me) return;
  await render();
  if (window.location.hash.startsWith('#report=')) focusOn(byId('review-title') || view.querySelector('h1'));
}

start();
