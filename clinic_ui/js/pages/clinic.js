// The nurse's clinic screen: today's sessions, then one clinic's live list (who has arrived, who is
// checking their connection, who is waiting and for how long, each connection check), an
// audible and visible arrival alert, messages to waiting people, admit / hold / end, and the call
// with the referral alongside (clinic-call.js).

import { ApiError, get, post } from '../api.js';
import { byId, focusOn, h, replace } from '../dom.js';
import { getMedia } from '../precall.js';
import { CallManager } from '../rtc.js';
import { announce, currentUser, showAccount, signInUrl } from '../session.js';
import { RoomSocket } from '../ws.js';
import { CallPanel } from './clinic-call.js';
import { planForm } from './clinic-plan.js';

const view = byId('view');
const banner = byId('connection');
const TIME = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
const STATE = {
  not_arrived: 'Not arrived', testing: 'Checking their connection', waiting: 'Waiting', in_call: 'In call',
  held: 'On hold', left: 'Left', done: 'Done', dna: 'Did not attend',
};
const LEVEL = { good: 'Good', fair: 'Fair', poor: 'Poor', failed: 'Failed', unknown: 'Not finished' };
const BASE_TITLE = 'Video clinic – ohconnect';

const clinic = { user: null, session: null, socket: null, stream: null, call: null, panel: null, entries: new Map(),
  active: null, audio: null, tbody: null, arrival: null, errors: null };

const p = (...text) => h('p', {}, ...text);
const time = (iso) => TIME.format(new Date(iso));
const minutesSince = (iso) => Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 60_000));

// --- sessions ---------------------------------------------------------------------------------

async function listSessions() {
  const sessions = await get(`/api/v1/clinics/sessions?clinician_id=${clinic.user.id}`);
  const heading = h('h1', {}, 'Your clinics today');
  const items = sessions.map((s) => {
    const booked = s.slots.filter((slot) => slot.appointment).length;
    return h('li', {}, h('a', { href: `#clinic=${s.id}` }, `Clinic ${time(s.starts_at)} to ${time(s.ends_at)}`),
      ` – ${booked} booked of ${s.slots.length} appointments`);
  });
  replace(view, heading, items.length ? h('ul', { class: 'files' }, items) : p('You have no clinics today.'),
    p(h('a', { href: 'diary.html' }, 'Plan clinics and book appointments in the clinic diary')),
    planForm(clinic.user, async () => listSessions()));
  focusOn(heading);
}

async function openClinic(id) {
  let session;
  try {
    session = await get(`/api/v1/clinics/sessions/${id}`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    replace(view, h('h1', {}, 'Clinic not found'), p(error.detail));
    return;
  }
  clinic.session = session;
  const start = h('button', { type: 'button', class: 'button' }, 'Start clinic');
  const heading = h('h1', {}, `Clinic ${time(session.starts_at)} to ${time(session.ends_at)}`);
  replace(view, heading, p('Starting the clinic turns on your camera and microphone and the sound that tells you ' +
    'when someone arrives in the waiting room.'), h('div', { class: 'actions' }, start));
  focusOn(heading);
  start.addEventListener('click', () => startClinic(session));
}

function unlockSound() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (Context && !clinic.audio) clinic.audio = new Context();
  clinic.audio?.resume().catch(() => {});
}

function chime() {
  const context = clinic.audio;
  if (!context) return;
  for (const [offset, frequency] of [[0, 880], [0.25, 1175]]) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.2, context.currentTime + offset);
    gain.gain.exponentialRampToValueAtTime(0.001, context.currentTime + offset + 0.2);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(context.currentTime + offset);
    oscillator.stop(context.currentTime + offset + 0.22);
  }
}

async function startClinic(session) {
  unlockSound();
  try {
    clinic.stream = await getMedia(false);
  } catch {
    clinic.stream = await getMedia(true).catch(() => new MediaStream());
    announce('Your camera could not be started; you will join calls by sound.');
  }
  const socket = new RoomSocket({ clinic: session.id });
  clinic.socket = socket;
  clinic.panel = new CallPanel(socket, clinic);
  clinic.call = new CallManager(socket, clinic.stream, [], clinic.panel.hooks());
  clinic.panel.bind(clinic.call, clinic.stream);
  socket.on('open', (welcome) => {
    clinic.call.iceServers = welcome.ice_servers;
    banner.hidden = true;
  });
  socket.on('lost', () => {
    banner.hidden = false;
    replace(banner, 'Connection to the clinic lost. Reconnecting…');
  });
  socket.on('fatal', () => {
    banner.hidden = false;
    replace(banner, 'This clinic is open in another window, or your session has ended.');
  });
  socket.on('room', (m) => {
    clinic.entries = new Map(m.entries.map((e) => [e.participant, e]));
    renderRows();
  });
  socket.on('participant', (m) => updateEntry(m.entry));
  socket.on('call', (m) => clinic.panel.showCall(m.appointment, entryFor(m.appointment)));
  socket.on('peer_quality', (m) => clinic.panel.peerQuality(m, clinic.entries.get(m.participant)));
  socket.on('invited', (m) => clinic.panel.invited(m));
  socket.on('error', (m) => showError(m.detail));
  renderClinic(session);
  socket.start();
  window.setInterval(renderRows, 30_000); // minutes waited keep counting
}

function entryFor(appointment) {
  return [...clinic.entries.values()].find((e) => e.appointment === appointment && e.kind === 'employee') || null;
}

function renderClinic(session) {
  const heading = h('h1', {}, `Clinic ${time(session.starts_at)} to ${time(session.ends_at)}`);
  clinic.arrival = h('div', { class: 'arrival', role: 'alert', tabindex: '-1', hidden: true });
  clinic.errors = h('div', { class: 'notice notice--warning', role: 'alert', hidden: true });
  clinic.tbody = h('tbody', {});
  const table = h('table', { class: 'table' }, h('caption', {}, "Today's list"),
    h('thead', {}, h('tr', {}, ['Time', 'Name', 'Status', 'Connection check', 'Actions'].map((t) =>
      h('th', { scope: 'col' }, t)))), clinic.tbody);
  const list = h('section', { 'aria-label': "Today's list" }, h('div', { class: 'table-wrap' }, table));
  // The call and the list share the main column, so arrivals stay in view during a call; the
  // referral is alongside.
  const main = h('div', { class: 'clinic__main' }, clinic.panel.el, list);
  const leaveButton = h('button', { type: 'button', class: 'button button--secondary' }, 'Leave the clinic');
  leaveButton.addEventListener('click', () => leaveClinic(session, leaveButton));
  replace(view, heading, h('div', { class: 'actions' }, leaveButton), clinic.arrival, clinic.errors,
    h('div', { class: 'clinic__layout', id: 'clinic-layout' }, main, clinic.panel.referral));

  focusOn(heading);
}

/** Leave on purpose: whoever is in the call is told that the nurse left (not "reconnecting"). */
async function leaveClinic(session, opener) {
  opener.disabled = true;
  const told = await clinic.socket.leave();
  clinic.call.close();
  clinic.panel.view.clear();
  clinic.stream?.getTracks().forEach((t) => t.stop());
  clinic.socket = null;
  banner.hidden = true;
  const heading = h('h1', {}, 'You have left the clinic');
  const back = h('button', { type: 'button', class: 'button' }, 'Return to the clinic');
  back.addEventListener('click', () => window.location.reload());
  replace(view, heading,
    p(told ? 'Anyone in a call with you has been told that you left.'
      : 'The clinic could not be told that you left, because the connection was lost.'),
    p('People in the waiting room keep their place.'), h('div', { class: 'actions' }, back));
  focusOn(heading);
}

function showError(text) {
  replace(clinic.errors, text);
  clinic.errors.hidden = false;
  window.setTimeout(() => { clinic.errors.hidden = true; }, 8000);
}

// --- the live list ----------------------------------------------------------------------------

function updateEntry(entry) {
  const before = clinic.entries.get(entry.participant);
  clinic.entries.set(entry.participant, entry);
  if (entry.state === 'waiting' && before?.state !== 'waiting') arrived(entry);
  renderRows();
  if (clinic.active && entry.appointment === clinic.active) clinic.panel.updateEntry(entry);
}

function arrived(entry) {
  const waiting = [...clinic.entries.values()].filter((e) => e.state === 'waiting').length;
  replace(clinic.arrival, `${entry.name || 'Someone'} is waiting${entry.kind === 'guest' ? ' (invited guest)' : ''}, ` +
    `since ${time(entry.waiting_since || new Date().toISOString())}.`);
  clinic.arrival.hidden = false;
  document.title = `(${waiting} waiting) ${BASE_TITLE}`;
  chime();
}

function statusText(entry) {
  if (entry.state === 'waiting') {
    const waited = minutesSince(entry.waiting_since);
    return `Waiting ${waited} min${entry.connected ? '' : ' (connection lost)'}`;
  }
  const text = STATE[entry.state] || entry.state;
  return entry.connected || !['in_call', 'held', 'testing'].includes(entry.state) ? text : `${text} (reconnecting)`;
}

function verdictText(entry) {
  const verdict = entry.verdict;
  if (!verdict) return entry.state === 'not_arrived' ? '' : 'Not done';
  return h('span', {}, h('strong', {}, LEVEL[verdict.level] || verdict.level), verdict.audio_only ? ' (sound only)' : '',
    h('span', { class: 'sub' }, verdict.headline || ''));
}

function rowActions(entry) {
  const name = entry.name || 'this person';
  const actions = [];
  if (['waiting', 'held', 'testing'].includes(entry.state))
    actions.push(h('button', { type: 'button', class: 'button button--small', 'aria-label': `Admit ${name}`,
      onclick: () => clinic.socket.send({ t: 'admit', participant: entry.participant }) }, 'Admit'));
  if (entry.state === 'in_call')
    actions.push(h('button', { type: 'button', class: 'button button--small button--secondary',
      'aria-label': `Put ${name} on hold`, onclick: () => clinic.socket.send({ t: 'hold', participant: entry.participant }) },
      'Hold'));
  if (['waiting', 'held', 'testing'].includes(entry.state))
    actions.push(h('button', { type: 'button', class: 'button button--small button--secondary',
      'aria-label': `Message ${name}`, onclick: (event) => messageForm(event.target, entry) }, 'Message'));
  if (entry.kind === 'employee' && entry.appointment_status === 'booked' && entry.state === 'not_arrived' &&
      new Date(entry.starts_at) <= new Date())
    actions.push(h('button', { type: 'button', class: 'button button--small button--secondary',
      'aria-label': `Mark ${name} as did not attend`, onclick: () => markDna(entry) }, 'Did not attend'));
  return h('div', { class: 'room-actions' }, actions);
}

function renderRows() {
  if (!clinic.tbody) return;
  const entries = [...clinic.entries.values()].sort((a, b) => a.starts_at.localeCompare(b.starts_at) ||
    (a.kind === 'guest') - (b.kind === 'guest'));
  replace(clinic.tbody, entries.map((entry) => h('tr', { class: `room-row--${entry.state}`,
    dataset: { participant: entry.participant } },
    h('td', {}, time(entry.starts_at)),
    h('th', { scope: 'row' }, entry.name || 'Invited guest', entry.kind === 'guest'
      ? h('span', { class: 'sub' }, entry.guest_role || 'guest') : null),
    h('td', {}, statusText(entry)),
    h('td', {}, verdictText(entry)),
    h('td', {}, rowActions(entry)))));
  const waiting = entries.filter((e) => e.state === 'waiting').length;
  document.title = waiting ? `(${waiting} waiting) ${BASE_TITLE}` : BASE_TITLE;
  if (!waiting) clinic.arrival.hidden = true;
}

function messageForm(opener, entry) {
  const cell = opener.closest('td');
  const id = `message-${entry.participant}`;
  if (byId(id)) return focusOn(byId(id));
  const text = h('textarea', { id, rows: 2, maxlength: 500 });
  const form = h('form', { class: 'message-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: id }, `Message to ${entry.name || 'this person'}`), text),
    h('button', { type: 'submit', class: 'button button--small' }, 'Send message'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    clinic.socket.send({ t: 'message', to: entry.participant, text: value });
    form.remove();
    announce('Message sent.');
  });
  cell.append(form);
  text.focus();
}

async function markDna(entry) {
  try {
    await post(`/api/v1/clinics/appointments/${entry.appointment}/dna`);
    announce(`${entry.name} marked as did not attend. Their manager will be told today.`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showError(error.detail);
  }
}

// --- start ----------------------------------------------------------------------------------

async function start() {
  const user = await currentUser();
  if (!user) {
    window.location.replace(signInUrl());
    return;
  }
  if (user.role === 'provider_admin') {
    window.location.replace('diary.html');
    return;
  }
  if (user.role !== 'clinician') {
    replace(view, h('h1', {}, 'Video clinics are for clinicians'), p('Your role does not run clinics.'));
    return;
  }
  clinic.user = user;
  showAccount(user);
  const route = async () => {
    const id = new URLSearchParams(window.location.hash.slice(1)).get('clinic');
    if (clinic.socket) return; // a running clinic is not left by a change of address
    if (id) await openClinic(id);
    else await listSessions();
  };
  window.addEventListener('hashchange', route);
  await route();
}

start();
