// Joining a video appointment, for the employee or an invited third party (interpreter, companion):
// link (#token=…) → identity check → consent to a video assessment → video or sound only →
// automatic pre-call check → waiting room (place in the queue, live estimated wait) → the call.
// After a reload or a dropped network (#appointment=…) the page goes straight back to the
// waiting room or the call.

import { ApiError, get, post } from '../api.js';
import { CallView } from '../call-view.js';
import { byId, focusOn, h, replace } from '../dom.js';
import { ErrorSummary, clearFields, markField } from '../errors.js';
import { getMedia, mediaProblem, runPrecall } from '../precall.js';
import { CallManager } from '../rtc.js';
import { announce } from '../session.js';
import { RoomSocket } from '../ws.js';
import { identityForm } from './join-identity.js';

const view = byId('view');
const banner = byId('connection');
const MODE_KEY = 'ohc-join-mode';
const TIME = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
const DAY = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long' });
const ACTIVE = new Set(['booked', 'in_progress']);

const page = {
  me: null, socket: null, welcome: null, stream: null, call: null, callView: null, verdict: null,
  state: null, entered: false, queue: null, messages: [], joinError: null, level: null, over: false,
};

const p = (...text) => h('p', {}, ...text);

function show(...children) {
  replace(view, ...children);
  const heading = view.querySelector('h1');
  focusOn(heading);
  if (heading) document.title = `${heading.textContent} – ohconnect`;
  return heading;
}

function alertText(text) {
  const region = byId('alerts');
  replace(region, '');
  window.setTimeout(() => replace(region, text), 50);
}

function when(iso) {
  const at = new Date(iso);
  return `${TIME.format(at)} on ${DAY.format(at)}`;
}

function button(text, onclick, secondary = false) {
  return h('button', { type: 'button', class: `button${secondary ? ' button--secondary' : ''}`, onclick }, text);
}

// --- the link ---------------------------------------------------------------------------------

function linkProblem(error) {
  if (!(error instanceof ApiError)) throw error;
  if (error.status === 404)
    return show(
      h('h1', {}, 'This link has already been used or has expired'),
      p('Each link works once, to keep your appointment private. If you have already joined on this device, ' +
        'go back to the page you joined on.'),
      p('Otherwise reply to your invitation and we will send you a new link.'),
    );
  if (error.status === 409) return show(h('h1', {}, 'This link cannot be used now'), p(error.detail));
  return show(h('h1', {}, 'Something went wrong'), p(error.detail));
}

async function fromLink(token) {
  let preview;
  try {
    preview = await post('/api/v1/clinics/join/preview', { token });
  } catch (error) {
    return linkProblem(error);
  }
  if (!preview.is_open)
    return show(
      h('h1', {}, 'Your waiting room is not open yet'),
      p(`Your appointment with ${preview.clinician_name} is at ${when(preview.starts_at)}.`),
      p(`The waiting room opens at ${TIME.format(new Date(preview.opens_at))}. Come back then by opening the ` +
        'link in your invitation again. It has not been used up.'),
    );
  const onJoined = async (joined) => {
    window.history.replaceState(null, '', `#appointment=${joined.appointment_id}`);
    await openAppointment(joined.appointment_id);
  };
  return show(...identityForm(token, preview, onJoined, { when, linkProblem }));
}

// --- the appointment: consent and the choice of video or sound ---------------------------------

async function openAppointment(id) {
  try {
    page.me = await get(`/api/v1/clinics/appointments/${id}/mine`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401)
      return show(h('h1', {}, 'Open the link in your invitation'), p('Your session has ended or this is a new device.'));
    return show(h('h1', {}, 'Appointment not found'), p(error.detail));
  }
  const me = page.me;
  if (!ACTIVE.has(me.status)) return ended(me.status);
  if (me.consent_needed) return consentForm(me);
  const mode = window.sessionStorage.getItem(MODE_KEY);
  if (['waiting', 'in_call', 'held'].includes(me.state) || (me.precall_done && mode)) return enterRoom(mode || 'video');
  if (!mode) return modeChoice(me);
  return precall(mode);
}

function modeButtons() {
  return h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'button', value: 'video' }, 'Continue with video'),
    h('button', { type: 'submit', class: 'button button--secondary', value: 'audio' },
      'Continue without camera (sound only)'));
}

function consentForm(me) {
  const summary = new ErrorSummary();
  const box = h('div', { class: 'field field--checkbox', dataset: { fieldId: 'consent' } },
    h('div', { class: 'choice' }, h('input', { type: 'checkbox', id: 'consent' }),
      h('label', { for: 'consent' }, 'I agree to have my occupational health assessment by video')));
  const form = h('form', { novalidate: true, 'aria-labelledby': 'consent-title' }, summary.el, box, modeButtons());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    summary.hide();
    const mode = event.submitter?.value === 'audio' ? 'audio' : 'video';
    if (!byId('consent').checked) {
      markField(box, 'Tick the box to agree');
      summary.show([{ label: '', message: 'Tick the box to agree, or reply to your invitation to arrange a phone ' +
        'or face-to-face appointment instead', type: 'custom', field: box, control: byId('consent') }]);
      return;
    }
    try {
      page.me = await post(`/api/v1/clinics/appointments/${me.id}/consent`, { video_assessment: true });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      summary.show([], error.detail);
      return;
    }
    window.sessionStorage.setItem(MODE_KEY, mode);
    await precall(mode);
  });
  return show(
    h('h1', {}, 'Your video assessment'),
    p(`Your appointment with ${me.clinician_name} from occupational health is at ${when(me.starts_at)}.`),
    h('h2', { id: 'consent-title' }, 'Before you join'),
    h('ul', { class: 'bullets' },
      h('li', {}, 'The nurse will talk with you about your health and your work, by video.'),
      h('li', {}, 'Nobody else joins unless you agree, for example an interpreter.'),
      h('li', {}, 'The call is not recorded.'),
      h('li', {}, 'You can stop at any time, or ask for a phone or face-to-face appointment instead.'),
      h('li', {}, 'You can join without your camera and use sound only.')),
    form,
  );
}

function modeChoice(me) {
  const form = h('form', { novalidate: true }, modeButtons());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const mode = event.submitter?.value === 'audio' ? 'audio' : 'video';
    window.sessionStorage.setItem(MODE_KEY, mode);
    await precall(mode);
  });
  return show(h('h1', {}, 'Join the video appointment'),
    p(`The appointment with ${me.clinician_name} is at ${when(me.starts_at)}.`), form);
}

// --- the pre-call check -----------------------------------------------------------------------

function useMode(mode) {
  window.sessionStorage.setItem(MODE_KEY, mode);
  if (mode === 'audio' && page.stream) {
    for (const track of page.stream.getVideoTracks()) {
      track.stop();
      page.stream.removeTrack(track);
    }
  }
}

async function media(mode) {
  if (page.stream && (mode === 'audio' || page.stream.getVideoTracks().length)) return page.stream;
  page.stream?.getTracks().forEach((t) => t.stop());
  page.stream = await getMedia(mode === 'audio');
  return page.stream;
}

function mediaFailed(mode, error) {
  const actions = [button('Try again', () => precall(mode))];
  if (mode === 'video')
    actions.push(button('Continue without camera (sound only)', () => {
      useMode('audio');
      precall('audio');
    }, true));
  return show(h('h1', {}, 'We could not start your ' + (mode === 'audio' ? 'microphone' : 'camera')),
    p(mediaProblem(error, mode === 'audio')), h('div', { class: 'actions' }, ...actions));
}

async function precall(mode) {
  const audioOnly = mode === 'audio';
  const step = h('p', { class: 'lead', id: 'precall-step', role: 'status' }, 'Starting your ' +
    (audioOnly ? 'microphone…' : 'camera and microphone…'));
  const meter = h('meter', { id: 'mic-level', min: '0', max: '1', value: '0' });
  const selfView = h('video', { autoplay: true, playsinline: true, muted: true, class: 'precall__video',
    'aria-label': 'Your camera' });
  selfView.muted = true;
  const echo = h('video', { autoplay: true, playsinline: true, muted: true, class: 'precall__video',
    'aria-label': 'Your picture, sent back by our test service' });
  echo.muted = true;
  show(
    h('h1', {}, audioOnly ? 'Checking your microphone and connection' : 'Checking your camera, microphone and connection'),
    p('This takes about ten seconds. Speak for a moment so we can hear your microphone.'),
    step,
    h('div', { class: 'field' }, h('label', { for: 'mic-level' }, 'Microphone level'), meter),
    audioOnly ? null : h('div', { class: 'precall__videos' },
      h('figure', {}, selfView, h('figcaption', {}, 'Your camera')),
      h('figure', {}, echo, h('figcaption', {}, 'What the nurse will see'))),
    audioOnly ? null : h('div', { class: 'actions' },
      button('Continue without camera (sound only)', () => { useMode('audio'); precall('audio'); }, true)),
  );
  let stream;
  try {
    stream = await media(mode);
  } catch (error) {
    return mediaFailed(mode, error);
  }
  selfView.srcObject = stream;
  const steps = { connecting: 'Connecting to our test service…', measuring: 'Measuring your connection…',
    verdict: 'Working out the result…' };
  try {
    await openSocket();
    page.verdict = await runPrecall(page.socket, stream, {
      iceServers: page.welcome.ice_servers, echoVideo: echo,
      onLevel: (level) => { meter.value = level; },
      onStep: (name) => replace(step, steps[name] || ''),
    });
  } catch (error) {
    page.verdict = { level: 'unknown', headline: `We could not finish the check: ${error.message}`,
      advice: ['You can still go to the waiting room; the nurse will see that the check did not finish.'] };
    return show(h('h1', {}, 'The check did not finish'), verdictBox(page.verdict),
      h('div', { class: 'actions' }, button('Go to the waiting room', () => enterRoom(mode)),
        button('Try again', () => precall(mode), true)));
  }
  if (page.verdict.level === 'failed')
    return show(h('h1', {}, 'Your check found a problem'), verdictBox(page.verdict),
      h('div', { class: 'actions' }, button('Try again', () => precall(mode)),
        audioOnly ? null : button('Continue without camera (sound only)', () => { useMode('audio'); precall('audio'); }, true),
        button('Go to the waiting room anyway', () => enterRoom(mode), true)));
  announce(page.verdict.headline);
  return enterRoom(mode);
}

function verdictBox(verdict) {
  const kind = verdict.level === 'good' ? '' : ' notice--warning';
  return h('section', { class: `notice${kind}`, 'aria-labelledby': 'verdict-title', id: 'verdict' },
    h('h2', { class: 'notice__title', id: 'verdict-title' }, 'Connection check'),
    p(verdict.headline),
    verdict.advice?.length ? h('ul', { class: 'bullets' }, verdict.advice.map((a) => h('li', {}, a))) : null);
}

// --- the waiting room and the call --------------------------------------------------------------

function openSocket() {
  if (page.socket) return page.welcome ? Promise.resolve(page.welcome) : page.socket.next('welcome');
  const socket = new RoomSocket({ appointment: page.me.id });
  page.socket = socket;
  socket.on('open', (welcome) => {
    page.welcome = welcome;
    if (page.call) page.call.iceServers = welcome.ice_servers;
    banner.hidden = true;
  });
  socket.on('lost', () => {
    if (page.over) return;
    banner.hidden = false;
    replace(banner, 'Connection lost. Reconnecting…');
  });
  socket.on('error', (m) => {
    if (m.refused === 'join') page.joinError = m;
    else if (m.refused === 'ready') alertText(m.detail);
  });
  socket.on('fatal', (m) => fatal(m.code));
  socket.on('state', (m) => onState(m.state));
  socket.on('queue', (m) => {
    page.queue = m;
    const region = byId('queue');
    if (region) replace(region, ...queueText(m));
  });
  socket.on('message', (m) => {
    page.messages.push(m);
    alertText(`Message from ${m.from || 'your nurse'}: ${m.text}`);
    const list = byId('messages');
    if (list) list.append(messageItem(m));
    byId('no-messages')?.remove();
  });
  const welcome = socket.next('welcome', 20_000);
  if (page.stream) startCall();
  socket.start();
  return welcome;
}

function startCall() {
  if (page.call) return;
  page.callView = new CallView({ heading: 'Your appointment', level: 2 });
  page.call = new CallManager(page.socket, page.stream, page.welcome?.ice_servers || [], {
    onRemote: (pid, stream, peer) => page.callView.addRemote(pid, stream, peer),
    onGone: (pid) => page.callView.removeRemote(pid),
    onPeerStatus: (peer, status, state) => page.callView.peerStatus(peer, status, state),
    onQuality: (level, sample) => {
      page.callView.setQuality(level, sample);
      if (level !== page.level) announce(`Connection ${level}`);
      page.level = level;
    },
    onAudioOnly: (on) => page.callView.showAudioOnly(on),
    onAutoAudioOnly: () => {
      page.callView.showAudioOnly(true, true);
      alertText('Your video is paused because the connection is weak. Sound continues.');
    },
  });
  page.callView.bind(page.call, page.stream);
}

async function enterRoom(mode) {
  page.entered = true;
  try {
    await media(mode);
  } catch (error) {
    if (mode === 'video') {
      useMode('audio');
      return enterRoom('audio');
    }
    return mediaFailed(mode, error);
  }
  const welcome = openSocket();
  startCall();
  await welcome;
  page.socket.send({ t: 'ready' }); // no change for someone already waiting or in the call
  render();
}

function onState(state) {
  const before = page.state;
  page.state = state;
  if (!page.entered) return;
  if (state !== before) render();
}

function render() {
  const state = page.state;
  if (state === 'in_call') return callScreen();
  if (state === 'waiting' || state === 'held') return waitingRoom(state === 'held');
  if (state === 'done' || state === 'dna') return ended(state === 'dna' ? 'dna' : 'completed');
  return null;
}

function queueText(m) {
  if (!m) return [p('Finding your place in the queue…')];
  const ahead = m.position - 1;
  const place = ahead === 0 ? 'You are next.' : `There ${ahead === 1 ? 'is 1 person' : `are ${ahead} people`} before you.`;
  const wait = m.estimate_minutes <= 1 ? 'Your nurse should be with you shortly.'
    : `Estimated wait: about ${m.estimate_minutes} minutes.`;
  return [p(h('strong', {}, place), ' ', wait), m.clinician_busy ? p('Your nurse is with someone else at the moment.') : null];
}

function messageItem(m) {
  return h('li', { class: 'comment' }, h('p', { class: 'comment__meta' }, h('strong', {}, m.from || 'Your nurse'),
    ` at ${TIME.format(new Date(m.at))}`), h('p', { class: 'comment__body' }, m.text));
}

function waitingRoom(held) {
  const me = page.me;
  show(
    h('h1', {}, held ? 'Please wait: you are on hold' : 'You are in the waiting room'),
    held ? p('Your nurse has paused the call for a moment and will bring you back. Keep this page open.')
      : p(`Your appointment with ${me.clinician_name} is at ${TIME.format(new Date(me.starts_at))}. ` +
          'Keep this page open: the call starts here when your nurse is ready.'),
    held ? null : h('div', { class: 'queue', id: 'queue', role: 'status' }, ...queueText(page.queue)),
    page.verdict ? verdictBox(page.verdict) : null,
    h('section', { 'aria-labelledby': 'messages-title' }, h('h2', { id: 'messages-title' }, 'Messages from your nurse'),
      page.messages.length ? null : h('p', { class: 'muted', id: 'no-messages' }, 'None yet.'),
      h('ul', { class: 'comments', id: 'messages' }, page.messages.map(messageItem))),
  );
}

function callScreen() {
  show(h('h1', { class: 'visually-hidden' }, 'In your video appointment'), page.callView.el,
    h('div', { class: 'actions' }, button('Leave the call', leave, true)));
  page.callView.resume(); // back from the waiting room (a hold): the videos were paused when taken out
}

function stopAll() {
  page.over = true;
  page.call?.close();
  page.socket?.stop();
  page.stream?.getTracks().forEach((t) => t.stop());
  banner.hidden = true;
}

async function leave(event) {
  if (event?.target) event.target.disabled = true;
  page.over = true;
  const told = await page.socket.leave(); // only say the nurse knows once the server has confirmed
  stopAll();
  show(h('h1', {}, 'You have left the call'),
    p(told ? 'Your nurse has been told that you left the call.'
      : 'We could not tell your nurse that you left, because the connection was lost. ' +
        'They will see that your connection dropped.'),
    p('If you rejoin, you will wait in the waiting room until your nurse brings you back into the call.'),
    h('div', { class: 'actions' }, button('Rejoin the call', () => window.location.reload())));
}

function ended(status) {
  stopAll();
  if (status === 'dna')
    return show(h('h1', {}, 'This appointment has been closed'),
      p('Occupational health will contact you about another appointment.'));
  return show(h('h1', {}, 'Your appointment has ended'),
    p('Thank you. Occupational health will write to you about what happens next.'));
}

function fatal(code) {
  const detail = page.joinError?.detail;
  stopAll();
  if (code === 4409) return show(h('h1', {}, 'You joined from another window'), p('This window has stopped. Use the other one.'));
  if (code === 4401) return show(h('h1', {}, 'Open the link in your invitation'), p('Your session has ended.'));
  if (code === 4410) return show(h('h1', {}, 'This appointment has ended'), p(detail || 'It can no longer be joined.'));
  if (code === 4425) return show(h('h1', {}, 'Your waiting room is not open yet'), p(detail || 'Come back a little later.'));
  return show(h('h1', {}, 'You cannot join right now'), p(detail || 'This appointment is not available.'));
}

// --- start ----------------------------------------------------------------------------------

function takeToken() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (token) window.history.replaceState(null, '', window.location.pathname);
  return token;
}

async function start() {
  const token = takeToken();
  if (token) return fromLink(token);
  const appointment = new URLSearchParams(window.location.hash.slice(1)).get('appointment');
  if (appointment) return openAppointment(appointment);
  return show(h('h1', {}, 'Open the link in your invitation'),
    p('To join your video appointment, open the link we sent you by email.'));
}

// A new link opened in this tab starts again from the beginning.
window.addEventListener('hashchange', () => {
  if (new URLSearchParams(window.location.hash.slice(1)).has('token')) window.location.reload();
});

start();
