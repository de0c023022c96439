// Employer dashboard: the suppressed aggregate figures as charts with tables, and the same figures
// as a PDF and a CSV. Client administrators and managers of the employer only.

import { ApiError, get } from '../api.js';
import { chartFigure } from '../charts.js';
import { byId, focusOn, formatDate, h, replace } from '../dom.js';
import { showNav } from '../nav.js';
import { requireUser } from '../session.js';

const view = byId('view');

const numeric = (cell) => (cell && typeof cell.value === 'number' ? cell.value : null);
const percent = (text) => (/^\d+(\.\d+)?%$/.test(text) ? Number.parseFloat(text) : null);

function coverageChart(report) {
  const rows = report.coverage;
  return chartFigure({
    title: 'Surveillance coverage',
    summary: 'Share of workers in each programme whose check is up to date.',
    categories: rows.map((r) => r.programme),
    series: [{ name: 'Coverage', values: rows.map((r) => percent(r.coverage)), shown: rows.map((r) => r.coverage) }],
    horizontal: true,
    max: 100,
    rowHeader: 'Programme',
  });
}

function overdueChart(report) {
  const rows = report.coverage;
  return chartFigure({
    title: 'Overdue recalls',
    summary: 'Workers whose next check date has passed, by programme.',
    categories: rows.map((r) => r.programme),
    series: [
      { name: 'In scope', values: rows.map((r) => numeric(r.in_scope)), shown: rows.map((r) => r.in_scope.shown) },
      { name: 'Overdue', values: rows.map((r) => numeric(r.overdue)), shown: rows.map((r) => r.overdue.shown) },
    ],
    horizontal: true,
    rowHeader: 'Programme',
  });
}

function outcomesChart(report) {
  const keys = Object.keys(report.outcome_labels);
  const rows = report.outcomes;
  return chartFigure({
    title: 'Outcomes by programme',
    summary: `Checks signed in the period (${report.period}), by outcome.`,
    categories: rows.map((r) => r.programme),
    series: keys.map((k) => ({
      name: report.outcome_labels[k],
      values: rows.map((r) => numeric(r.outcomes[k])),
      shown: rows.map((r) => r.outcomes[k].shown),
    })),
    rowHeader: 'Programme',
  });
}

function trendsChart(report) {
  const q = report.quarters;
  return chartFigure({
    title: 'Trends by quarter',
    summary: 'Surveillance checks, referrals made and reports released each quarter.',
    categories: q.map((r) => r.quarter),
    series: [
      { name: 'Surveillance checks', values: q.map((r) => numeric(r.checks)), shown: q.map((r) => r.checks.shown) },
      { name: 'Referrals', values: q.map((r) => numeric(r.referrals)), shown: q.map((r) => r.referrals.shown) },
      { name: 'Reports released', values: q.map((r) => numeric(r.released)), shown: q.map((r) => r.released.shown) },
    ],
    rowHeader: 'Quarter',
  });
}

function slaTable(report) {
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-labelledby': 'sla-caption', tabindex: '0' },
    h(
      'table',
      { class: 'table' },
      h('caption', { id: 'sla-caption' }, 'Referral response times (median days)'),
      h('thead', {}, h('tr', {}, ['Quarter', 'Submission to triage', 'Consultation to release'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, report.quarters.map((r) => h('tr', {}, h('th', { scope: 'row' }, r.quarter), h('td', {}, r.median_days_to_triage), h('td', {}, r.median_days_to_release)))),
    ),
  );
}

async function render(user) {
  const base = `/api/v1/organisations/${user.organisation_id}`;
  const report = await get(`${base}/dashboard`);
  const heading = h('h1', {}, 'Dashboard');
  replace(
    view,
    heading,
    h('p', { class: 'lead' }, `${report.organisation_name}: ${report.period}.`),
    h(
      'p',
      { class: 'actions actions--inline' },
      h('a', { class: 'button button--secondary', href: `${base}/report.pdf`, download: '' }, 'Download the report (PDF)'),
      h('a', { class: 'button button--secondary', href: `${base}/report.csv`, download: '' }, 'Download the figures (CSV)'),
    ),
    h('section', { 'aria-labelledby': 'protect-title', class: 'notice notice--warning' },
      h('h2', { id: 'protect-title', class: 'notice__title' }, 'How figures protect people'),
      h('ul', {}, report.rules.map((rule) => h('li', {}, rule)))),
    coverageChart(report),
    overdueChart(report),
    outcomesChart(report),
    trendsChart(report),
    slaTable(report),
    h('p', { class: 'muted' }, `Figures as of ${formatDate(report.as_of)}.`),
  );
  return heading;
}

async function start() {
  const user = await requireUser(['client_admin', 'manager']);
  if (!user) return;
  showNav(user);
  try {
    focusOn(await render(user));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    replace(view, h('h1', {}, 'The dashboard could not be shown'), h('p', {}, error.detail));
  }
}

start();
