// Clinician's pulse readings page: the provider's measurement streams (#), and the live panel of
// one of them (#stream=ID) with its FHIR export.

import { ApiError, get } from '../api.js';
import { byId, focusOn, formatDateTime, h, replace, serial } from '../dom.js';
import { livePanel } from '../pulse-live.js';
import { requireUser } from '../session.js';

const view = byId('view');
const BASE_TITLE = document.title;
const DEVICE = {
  'ble-hr': 'Bluetooth heart-rate sensor',
  'ble-plx': 'Bluetooth pulse oximeter',
  camera: 'Phone camera',
  manual: 'Typed in',
};
// A flag's level, named as such: a bare "Low" beside a heart rate read as "low heart rate".
const LEVEL = { high: 'High-priority flag', medium: 'Medium-priority flag', low: 'Low-priority flag' };
let panel = null;

function value(x, digits = 0) {
  return x === null || x === undefined ? '–' : Number(x).toFixed(digits);
}

function flag(level) {
  return level ? h('span', { class: `tag pulse-live__level--${level}` }, LEVEL[level]) : 'None';
}

async function listView() {
  const page = await get('/api/v1/readings/streams?limit=50');
  const heading = h('h1', {}, 'Pulse readings');
  const refresh = h('button', { type: 'button', class: 'button button--secondary' }, 'Refresh the list');
  refresh.addEventListener('click', async () => focusOn(await render()));
  const rows = page.items.map((s) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('a', { href: `#stream=${s.id}` }, s.employee_name || 'Employee')),
      h('td', {}, DEVICE[s.device_kind] || s.device_kind),
      h('td', {}, s.status === 'open' ? 'Measuring' : 'Ended'),
      h('td', {}, formatDateTime(s.last_received_at || s.created_at)),
      h('td', {}, value(s.heart_rate_mean_bpm)),
      h('td', {}, value(s.spo2_min_pct)),
      h('td', {}, flag(s.alert_level)),
    ),
  );
  document.title = BASE_TITLE;
  replace(
    view,
    heading,
    h('p', { class: 'lead' }, 'Readings your patients sent from their phones, most recent first.'),
    h('div', { class: 'actions' }, refresh),
    rows.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table' },
            h('caption', { class: 'visually-hidden' }, 'Measurement streams'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                [
                  'Employee',
                  'Device',
                  'Status',
                  'Last activity',
                  'Mean heart rate',
                  'Lowest SpO2 (%)',
                  'Alert flag',
                ].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h('tbody', {}, rows),
          ),
        )
      : h('p', {}, 'No readings yet.'),
    h('p', { class: 'hint' }, 'Alert flags ask for your review. They never decide fitness for work.'),
  );
  return heading;
}

async function streamView(id) {
  let summary;
  try {
    summary = await get(`/api/v1/readings/streams/${id}`);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    const heading = h('h1', {}, 'Readings not found');
    replace(view, heading, h('p', {}, h('a', { href: '#' }, 'Back to all pulse readings')));
    return heading;
  }
  const name = summary.employee_name || 'Employee';
  const heading = h('h1', {}, `Pulse readings: ${name}`);
  document.title = `${name} – ${BASE_TITLE}`;
  panel = livePanel(id);
  replace(
    view,
    h('p', {}, h('a', { href: '#' }, 'Back to all pulse readings')),
    heading,
    h(
      'p',
      { class: 'muted' },
      `${DEVICE[summary.device_kind] || summary.device_kind} (${summary.device_model}), started ${formatDateTime(summary.created_at)}.`,
    ),
    panel.el,
    h(
      'p',
      {},
      h(
        'a',
        { href: `/api/v1/readings/streams/${id}/fhir`, download: `pulse-${id}.fhir.json` },
        'Download the readings as FHIR (JSON)',
      ),
    ),
  );
  return heading;
}

async function render() {
  panel?.stop();
  panel = null;
  const id = new URLSearchParams(window.location.hash.slice(1)).get('stream');
  return id ? streamView(id) : listView();
}

const rerender = serial(render);

async function main() {
  const user = await requireUser(['clinician']);
  if (!user) return;
  await rerender();
  window.addEventListener('hashchange', async () => focusOn(await rerender()));
}

main().catch((error) => {
  replace(
    byId('notice'),
    h(
      'div',
      { class: 'notice notice--warning', role: 'alert' },
      h('p', {}, error.detail || 'Something went wrong. Reload the page.'),
    ),
  );
});
