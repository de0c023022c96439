// Employee's "Measure my pulse" page (phone). Consent first (domain C6), then a Bluetooth sensor or
// a fingertip on the camera. Every second of readings becomes one batch, kept in IndexedDB and
// sent with the stream's device token; the server's receipt brings back the heart rate and
// signal quality. Nothing is lost offline: batches wait, and a counter says how many.

import { ApiError, get, post } from '../api.js';
import { BatchQueue } from '../batch-queue.js';
import { bluetoothAvailable, connectSensor } from '../ble-sensor.js';
import { CameraPpg, FS, guidance } from '../camera-ppg.js';
import { byId, focusOn, h, replace } from '../dom.js';
import { ErrorSummary } from '../errors.js';
import { announce, currentUser, homeFor, showAccount, signInUrl } from '../session.js';
import { qualityMeter } from '../signal-quality.js';
import { Trace } from '../waveform.js';

const view = byId('view');
const notice = byId('notice');
const queueLine = byId('queue');
const appointment = new URLSearchParams(window.location.search).get('appointment');

let session = null; // the measurement in progress
let waiting = 0;
let closeWhenSent = null; // {streamId, token}: end the stream once its batches are all delivered

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function showQueue(count) {
  waiting = count;
  queueLine.hidden = count === 0 && !session;
  replace(
    queueLine,
    count === 0
      ? 'All readings sent.'
      : `${plural(count, 'second of readings', 'seconds of readings')} waiting to send.`,
  );
  if (count === 0 && closeWhenSent) finishStream();
}

function problem(message) {
  replace(notice, h('div', { class: 'notice notice--warning', role: 'alert' }, h('p', {}, message)));
}

const queue = new BatchQueue({
  onChange: showQueue,
  onDelivered: (receipt) => session?.delivered(receipt),
  onRejected: (_batch, status, detail) => {
    problem(
      status === 401 || status === 403
        ? 'This measurement can no longer send readings (it ended, or consent was withdrawn). Start again.'
        : `A second of readings was refused: ${detail}`,
    );
    session?.stop();
  },
  onWaiting: (_ms, reason) => session?.connection(reason),
});

async function finishStream() {
  const { streamId, token } = closeWhenSent;
  closeWhenSent = null;
  try {
    await fetch(`/api/v1/readings/streams/${streamId}/close`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      credentials: 'omit',
    });
  } catch {
    // Offline: the stream's token expires on its own; every reading has already arrived.
  }
}

// -- consent ----------------------------------------------------------------------------------

function consentView(statement) {
  const summary = new ErrorSummary();
  const box = h('input', { type: 'checkbox', id: 'agree', name: 'agree' });
  const field = h(
    'div',
    { class: 'field field--checkbox', 'data-field-id': 'agree' },
    h(
      'div',
      { class: 'choice' },
      box,
      h('label', { for: 'agree' }, 'I agree to my pulse readings being collected as described above'),
    ),
  );
  const form = h(
    'form',
    { class: 'card', novalidate: true, 'aria-labelledby': 'consent-title' },
    summary.el,
    h('h2', { id: 'consent-title' }, statement.title),
    h(
      'ul',
      { class: 'bullets' },
      statement.points.map((p) => h('li', {}, p)),
    ),
    field,
    h('button', { type: 'submit', class: 'button' }, 'Agree and continue'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!box.checked) {
      summary.show([
        {
          label: '',
          message: 'Tick the box to agree, or leave this page if you do not want to measure',
          type: 'custom',
          field,
          control: box,
        },
      ]);
      return;
    }
    try {
      await post('/api/v1/readings/consent', {
        statement_version: statement.version,
        agree: true,
        appointment_id: appointment,
      });
      announce('Thank you. You can now measure your pulse.');
      focusOn(chooseView());
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      summary.show([], error.detail);
    }
  });
  replace(view, h('p', { class: 'lead' }, 'Before you start, please read how we use your readings.'), form);
  return form;
}

function withdrawButton() {
  const button = h('button', { type: 'button', class: 'button button--secondary' }, 'Withdraw my consent');
  button.addEventListener('click', async () => {
    button.disabled = true;
    session?.stop();
    try {
      await post('/api/v1/readings/consent/withdraw');
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 403) throw error;
    }
    announce('Consent withdrawn. No more readings will be collected.');
    replace(
      notice,
      h(
        'div',
        { class: 'notice', role: 'status' },
        h(
          'p',
          {},
          'You have withdrawn your consent. No more readings will be collected. Readings already sent stay in your occupational health record.',
        ),
      ),
    );
    focusOn(await render());
  });
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'stop-title' },
    h('h2', { id: 'stop-title' }, 'Changed your mind?'),
    h('p', {}, 'You can stop collection at any time. Readings already sent stay in your record.'),
    button,
  );
}

// -- choosing how to measure ------------------------------------------------------------------

function option(value, label, hint, disabled) {
  const id = `method-${value}`;
  return h(
    'div',
    { class: 'choice measure__choice' },
    h('input', { type: 'radio', name: 'method', id, value, disabled, 'aria-describedby': `${id}-hint` }),
    h('label', { for: id }, label, h('span', { class: 'hint', id: `${id}-hint` }, hint)),
  );
}

function chooseView() {
  const bluetooth = bluetoothAvailable();
  const summary = new ErrorSummary();
  const group = h(
    'fieldset',
    { class: 'field' },
    h('legend', {}, 'How will you measure?'),
    h(
      'div',
      { class: 'choices choices--radio' },
      option(
        'camera',
        'Fingertip on the camera',
        'Cover the back camera and its light with your fingertip. The light will turn on.',
      ),
      option(
        'bluetooth',
        'Finger pulse oximeter or heart-rate sensor (Bluetooth)',
        bluetooth
          ? 'Switch the sensor on and keep it close to your phone.'
          : 'This browser cannot use Bluetooth sensors. Use the camera instead.',
        !bluetooth,
      ),
    ),
  );
  const form = h(
    'form',
    { novalidate: true, 'aria-labelledby': 'choose-title' },
    summary.el,
    h('h2', { id: 'choose-title' }, 'Get ready'),
    h('p', {}, 'Sit down and rest your hand on a table. Measure for at least 30 seconds.'),
    group,
    h('button', { type: 'submit', class: 'button' }, 'Start measuring'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = form.querySelector('input[name="method"]:checked');
    if (!chosen) {
      const control = form.querySelector('input[name="method"]');
      summary.show([
        { label: '', message: 'Choose how you will measure', type: 'custom', field: group, control },
      ]);
      return;
    }
    summary.hide();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      session = chosen.value === 'camera' ? await Measurement.camera() : await Measurement.bluetooth();
      replace(notice);
      focusOn(session.heading);
    } catch (error) {
      session = null;
      chooseView();
      problem(explain(error));
    }
  });
  replace(view, form, withdrawButton());
  return form.querySelector('h2');
}

function explain(error) {
  if (error instanceof ApiError) return error.detail;
  if (error?.name === 'NotAllowedError')
    return 'The camera or sensor was not allowed. Allow it in your browser settings and try again.';
  if (error?.name === 'NotFoundError') return 'No camera or sensor was found or chosen.';
  return 'The camera or sensor could not be started. Try again, or try the other way of measuring.';
}

// -- measuring --------------------------------------------------------------------------------

class Measurement {
  static async create(device) {
    const created = await post('/api/v1/readings/streams', { device, appointment_id: appointment });
    return new Measurement(created.stream.id, created.device_token, device);
  }

  static async camera() {
    const m = await Measurement.create({ kind: 'camera', model: 'Phone camera' });
    m.render();
    m.camera = new CameraPpg(m.video);
    try {
      await m.camera.start();
    } catch (error) {
      m.stop();
      throw error;
    }
    m.startedAt = m.camera.startedAt;
    m.tick = window.setInterval(() => m.cameraSecond(), 1000);
    return m;
  }

  static async bluetooth() {
    const payloads = [];
    let startedMs = null;
    const sensor = await connectSensor((payload) => {
      const t = startedMs === null ? 0 : (performance.now() - startedMs) / 1000;
      payloads.push({
        t_offset_s: Math.round(t * 1000) / 1000,
        characteristic: payload.characteristic,
        data_b64: payload.data_b64,
      });
      session?.showDevice(payload.reading, t);
    });
    const m = await Measurement.create({ kind: sensor.kind, model: sensor.model });
    m.sensor = sensor;
    m.render();
    startedMs = performance.now();
    m.startedAt = new Date();
    m.payloads = payloads;
    m.tick = window.setInterval(() => m.sendPayloads(payloads.splice(0)), 1000);
    return m;
  }

  constructor(streamId, token, device) {
    this.streamId = streamId;
    this.token = token;
    this.device = device;
    this.seq = 0;
    this.payloads = [];
    this.guidanceText = '';
  }

  render() {
    this.heading = h('h2', { id: 'measuring-title' }, 'Measuring');
    this.hr = h('strong', { class: 'measure__number' }, '–');
    this.spo2 = h('strong', { class: 'measure__number' }, '–');
    this.meter = h('meter', qualityMeter());
    this.qualityText = h('span', {}, 'Checking');
    this.guidance = h('p', { class: 'measure__guidance', role: 'status' }, 'Starting…');
    this.network = h('p', { class: 'notice notice--warning', hidden: true });
    this.video = h('video', {
      class: 'measure__preview',
      muted: true,
      playsinline: true,
      'aria-hidden': 'true',
    });
    const canvas = h('canvas', { class: 'measure__trace', 'aria-hidden': 'true' });
    this.trace = new Trace(canvas, { seconds: this.device.kind === 'camera' ? 6 : 60 });
    const pause = h(
      'button',
      { type: 'button', class: 'button button--link', 'aria-pressed': 'false' },
      'Pause the moving trace',
    );
    pause.addEventListener('click', () => {
      const paused = pause.getAttribute('aria-pressed') !== 'true';
      pause.setAttribute('aria-pressed', String(paused));
      this.trace.setPaused(paused);
    });
    const stop = h('button', { type: 'button', class: 'button button--warning' }, 'Stop measuring');
    stop.addEventListener('click', async () => {
      stop.disabled = true;
      focusOn(await this.finish());
    });
    const figures = h(
      'dl',
      { class: 'measure__figures' },
      h('div', {}, h('dt', {}, 'Heart rate'), h('dd', {}, this.hr, ' beats per minute')),
      this.device.kind === 'ble-plx'
        ? h('div', {}, h('dt', {}, 'Oxygen (SpO2)'), h('dd', {}, this.spo2, ' %'))
        : null,
      h('div', {}, h('dt', {}, 'Signal'), h('dd', {}, this.meter, ' ', this.qualityText)),
    );
    replace(
      view,
      h(
        'section',
        { 'aria-labelledby': 'measuring-title' },
        this.heading,
        this.guidance,
        figures,
        this.device.kind === 'camera' ? this.video : null,
        h(
          'figure',
          { class: 'measure__figure' },
          canvas,
          h(
            'figcaption',
            {},
            this.device.kind === 'camera' ? 'Your pulse wave' : 'Your heart rate over the last minute',
          ),
        ),
        pause,
        this.network,
        h('div', { class: 'actions' }, stop),
      ),
    );
    queueLine.hidden = false;
    showQueue(waiting);
    this.onOffline = () => this.connection('offline');
    this.onOnline = () => this.connection('online');
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('online', this.onOnline);
  }

  say(text) {
    if (text === this.guidanceText) return;
    this.guidanceText = text;
    replace(this.guidance, text);
  }

  batch(payload) {
    const batch = {
      version: 1,
      stream_id: this.streamId,
      seq: this.seq,
      device: this.device,
      sent_at: new Date().toISOString(),
      started_at: this.startedAt.toISOString(),
      ...payload,
    };
    this.seq += 1;
    return queue.add(batch, this.token);
  }

  cameraSecond() {
    const run = this.camera.take();
    const advice = guidance(this.camera.recent());
    this.say(advice.text);
    if (!run) return Promise.resolve();
    this.trace.push(run.samples, run.fs, run.t_offset_s);
    return this.batch({ sample_rate_hz: FS, ppg: run });
  }

  sendPayloads(payloads) {
    return payloads.length ? this.batch({ ble_payloads: payloads }) : Promise.resolve();
  }

  showDevice(reading, t) {
    if (reading.bpm !== null) {
      replace(this.hr, String(Math.round(reading.bpm)));
      this.trace.add(t, reading.bpm);
    }
    if (reading.spo2 !== null && reading.spo2 !== undefined)
      replace(this.spo2, String(Math.round(reading.spo2)));
    this.say(
      reading.contact === false
        ? 'Put the sensor on properly: it is not touching your skin.'
        : 'Good. Keep still.',
    );
  }

  quality(value, word) {
    this.meter.value = value;
    replace(this.qualityText, word);
  }

  delivered(receipt) {
    if (!this.network.hidden) this.connection('online');
    if (receipt.stream_id !== this.streamId) return;
    // The signal-quality word is the server's (sensors/signal_quality.py): the clinician's panel
    // shows the same word for the same stream. This page has no thresholds of its own.
    if (receipt.quality_word) this.quality(receipt.quality, receipt.quality_word);
    if (this.device.kind !== 'camera') return;
    // The server estimates the heart rate every 2 seconds of signal; other receipts say nothing about it.
    if (!receipt.heart_rate_bpm && !receipt.no_pulse_reason) return;
    replace(this.hr, receipt.heart_rate_bpm ? String(Math.round(receipt.heart_rate_bpm)) : '–');
    if (!receipt.heart_rate_bpm && receipt.no_pulse_reason?.startsWith('collecting')) {
      replace(this.qualityText, 'Checking – a heart rate appears after about 6 seconds');
    }
  }

  connection(state) {
    if (state === 'online') {
      if (!this.network.hidden) announce('Back online. Sending your readings.');
      this.network.hidden = true;
      return;
    }
    const text =
      state === 'offline'
        ? 'You are offline. Keep measuring: your readings are kept on this phone and sent when you are back online.'
        : 'The service is busy. Keep measuring: your readings are kept on this phone and sent shortly.';
    if (this.network.hidden) announce(text);
    replace(this.network, text);
    this.network.hidden = false;
  }

  stop() {
    window.clearInterval(this.tick);
    this.camera?.stop();
    this.sensor?.stop();
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('online', this.onOnline);
    if (session === this) session = null;
  }

  async finish() {
    this.stop();
    if (this.camera) await this.cameraSecond(); // the last part-second of samples
    if (this.sensor) await this.sendPayloads(this.payloads.splice(0));
    closeWhenSent = { streamId: this.streamId, token: this.token };
    const heading = h('h2', { id: 'done-title' }, 'Measurement finished');
    replace(
      view,
      h(
        'section',
        { 'aria-labelledby': 'done-title' },
        heading,
        h('p', { id: 'batches-made' }, `You measured for ${plural(this.seq, 'second', 'seconds')}.`),
        h(
          'p',
          {},
          'Your occupational health clinician can see your readings. Keep this page open until all readings are sent.',
        ),
        h(
          'div',
          { class: 'actions' },
          h(
            'button',
            { type: 'button', class: 'button', onclick: () => focusOn(chooseView()) },
            'Measure again',
          ),
        ),
      ),
    );
    announce('Measurement finished.');
    showQueue(await queue.count());
    return heading;
  }
}

// -- start ------------------------------------------------------------------------------------

async function render() {
  const status = await get('/api/v1/readings/consent');
  return status.consent ? chooseView() : consentView(status.statement);
}

async function main() {
  await queue.start(); // sends anything an earlier visit left behind
  const user = await currentUser();
  if (!user) {
    replace(
      view,
      h('p', {}, 'Sign in to measure your pulse. '),
      h('p', {}, h('a', { href: signInUrl() }, 'Go to sign in')),
    );
    return;
  }
  if (user.role !== 'employee') {
    window.location.replace(homeFor(user.role));
    return;
  }
  showAccount(user);
  await render();
}

main().catch((error) =>
  problem(error instanceof ApiError ? error.detail : 'Something went wrong. Reload the page.'),
);
