// The clinician's live pulse panel for one measurement stream: heart rate, SpO2, signal quality,
// alert flags and the waveform, pushed over WS /ws/readings/{stream} (from whichever server
// process stored each batch). Reconnects after a drop and redraws from the server's snapshot.
// Usable on any page: livePanel(streamId) returns {el, stop}.
//
// Alert flags prompt a clinical review; they never decide fitness for work.

import { get } from './api.js';
import { h, replace } from './dom.js';
import { announce } from './session.js';
import { qualityMeter } from './signal-quality.js';
import { Trace } from './waveform.js';

const FATAL = new Set([4401, 4403, 4404]);
const DELAYS_MS = [500, 1000, 2000, 5000];
// A flag's level, named as such: a bare "Low" beside a heart rate read as "low heart rate".
const LEVEL = { high: 'High-priority flag', medium: 'Medium-priority flag', low: 'Low-priority flag' };
const MEASURE = { heart_rate: 'Heart rate', spo2: 'SpO2' };
const UNIT = { heart_rate: 'beats per minute', spo2: '%' };

function number(value, digits = 0) {
  return value === null || value === undefined ? '–' : Number(value).toFixed(digits);
}

function duration(seconds) {
  if (!seconds) return '0 s';
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m ? `${m} min ${s} s` : `${s} s`;
}

function figure(label, ...value) {
  return h('div', { class: 'pulse-live__figure' }, h('dt', {}, label), h('dd', {}, ...value));
}

export function livePanel(streamId) {
  const status = h('p', { class: 'pulse-live__status' }, 'Connecting…');
  const hr = h('strong', { class: 'measure__number' }, '–');
  const hrRange = h('span', { class: 'muted' });
  const spo2 = h('strong', { class: 'measure__number' }, '–');
  const spo2Range = h('span', { class: 'muted' });
  const meter = h('meter', qualityMeter());
  const quality = h('span', {}, 'Not known yet');
  const noPulse = h('p', { class: 'muted', hidden: true });
  const flags = h('div', { class: 'pulse-live__flags' });
  const totals = h('p', { class: 'muted' });
  const canvas = h('canvas', { class: 'measure__trace', 'aria-hidden': 'true' });
  const trace = new Trace(canvas, { seconds: 8 });
  const pause = h(
    'button',
    { type: 'button', class: 'button button--link', 'aria-pressed': 'false' },
    'Pause the moving trace',
  );
  pause.addEventListener('click', () => {
    const paused = pause.getAttribute('aria-pressed') !== 'true';
    pause.setAttribute('aria-pressed', String(paused));
    trace.setPaused(paused);
  });
  const el = h(
    'section',
    { class: 'pulse-live', 'aria-label': 'Live pulse readings' },
    status,
    h(
      'dl',
      { class: 'measure__figures' },
      figure('Heart rate', hr, ' beats per minute ', hrRange),
      figure('SpO2', spo2, ' % ', spo2Range),
      figure('Signal quality', meter, ' ', quality),
    ),
    noPulse,
    flags,
    h(
      'figure',
      { class: 'measure__figure' },
      canvas,
      h('figcaption', {}, 'Pulse wave (camera) or heart rate'),
    ),
    pause,
    totals,
  );

  let socket = null;
  let attempt = 0;
  let stopped = false;
  let level = null;
  let ended = false;

  function setStatus(text) {
    replace(status, text);
  }

  function showFlags(alerts, alertLevel) {
    const raised = (alerts || []).filter((a) => a.flagged);
    if (!raised.length) {
      replace(flags, alertLevel ? h('p', { class: 'tag tag--urgent' }, LEVEL[alertLevel]) : null);
      return;
    }
    replace(
      flags,
      h('h3', {}, 'Alert flags'),
      h(
        'ul',
        { class: 'plain-list' },
        raised.map((a) =>
          h(
            'li',
            {},
            h('span', { class: `tag pulse-live__level--${a.level}` }, LEVEL[a.level]),
            `: ${MEASURE[a.measure]} ${number(a.min_value)}–${number(a.max_value)} ${UNIT[a.measure]}`,
            ` (${a.readings} readings)`,
          ),
        ),
      ),
      h('p', { class: 'hint' }, 'Flags ask for your review. They do not decide fitness for work.'),
    );
  }

  function alertChanged(next) {
    if (next === level) return;
    level = next;
    if (next) announce(`${LEVEL[next]} raised.`);
    get(`/api/v1/readings/streams/${streamId}`)
      .then((summary) => showFlags(summary.alerts, summary.alert_level))
      .catch(() => showFlags([], next));
  }

  function fromSummary(s) {
    replace(hr, number(s.last_heart_rate_bpm));
    replace(
      hrRange,
      s.heart_rate_mean_bpm
        ? `(mean ${number(s.heart_rate_mean_bpm)}, ${number(s.heart_rate_min_bpm)}–${number(s.heart_rate_max_bpm)})`
        : '',
    );
    replace(spo2, number(s.last_spo2_pct));
    replace(spo2Range, s.spo2_min_pct ? `(lowest ${number(s.spo2_min_pct)})` : '');
    setQuality(s.last_quality, s.quality_word);
    replace(totals, `${duration(s.duration_s)} measured, ${s.readings} readings.`);
    level = s.alert_level;
    showFlags(s.alerts, s.alert_level);
    ended = s.status === 'closed';
    setStatus(ended ? 'Measurement ended.' : 'Live: waiting for readings.');
  }

  // The word is the server's (sensors/signal_quality.py), the same the phone shows: no thresholds here.
  function setQuality(value, word) {
    meter.value = value ?? 0;
    replace(quality, word || 'Not known yet');
  }

  function fromBatch(e) {
    setStatus('Live');
    // A batch without a heart rate or a reason carries no new estimate (they come every 2 s of PPG).
    if (e.heart_rate_bpm !== undefined || e.no_pulse_reason) {
      replace(hr, number(e.heart_rate_bpm));
      noPulse.hidden = !e.no_pulse_reason;
      replace(noPulse, e.no_pulse_reason ? `No heart rate in the last seconds: ${e.no_pulse_reason}.` : '');
    }
    if (e.spo2_pct !== undefined) replace(spo2, number(e.spo2_pct));
    if (e.quality_word) setQuality(e.quality, e.quality_word);
    if (e.wave) trace.push(e.wave.samples, e.wave.fs, e.wave.t0_s);
    else if (e.heart_rate_bpm) trace.add(Date.parse(e.at) / 1000, e.heart_rate_bpm);
    const t = e.totals;
    if (t) {
      replace(
        hrRange,
        t.heart_rate_mean_bpm
          ? `(mean ${number(t.heart_rate_mean_bpm)}, ${number(t.heart_rate_min_bpm)}–${number(t.heart_rate_max_bpm)})`
          : '',
      );
      replace(spo2Range, t.spo2_min_pct ? `(lowest ${number(t.spo2_min_pct)})` : '');
      replace(totals, `${duration(t.duration_s)} measured, ${t.readings} readings.`);
      alertChanged(t.alert_level ?? null);
    }
  }

  function receive(data) {
    const event = JSON.parse(data);
    if (event.type === 'snapshot') fromSummary(event.summary);
    else if (event.type === 'batch') fromBatch(event);
    else if (event.type === 'closed') {
      ended = true;
      setStatus('Measurement ended.');
      announce('The measurement has ended.');
    }
  }

  function connect() {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${window.location.host}/ws/readings/${streamId}`);
    socket.addEventListener('open', () => {
      attempt = 0;
    });
    socket.addEventListener('message', (event) => receive(event.data));
    socket.addEventListener('close', (event) => {
      if (stopped) return;
      if (FATAL.has(event.code)) {
        setStatus('You cannot see these readings.');
        return;
      }
      setStatus(ended ? 'Measurement ended.' : 'Connection lost: reconnecting…');
      window.setTimeout(connect, DELAYS_MS[Math.min(attempt, DELAYS_MS.length - 1)]);
      attempt += 1;
    });
  }

  connect();
  return {
    el,
    stop() {
      stopped = true;
      socket?.close();
    },
  };
}
