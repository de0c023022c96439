// The clinic diary: a week of clinics (days as columns, stacked on a phone) with free and booked
// slots. Booking staff and clinicians plan clinics, book a referral awaiting booking into a free
// slot, move an appointment to another free slot, or cancel it; and see the offers of times made
// to employees (open, booked, expired, withdrawn).

import { ApiError, get, post } from '../api.js';
import { byId, focusOn, formatDateTime, h, hidden, replace, serial, todayIso } from '../dom.js';
import { KIND, planForm } from '../diary-plan.js';
import { announce, requireUser } from '../session.js';

const view = byId('view');
const UK = 'Europe/London';
const TIME = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: UK });
const DAY = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });
const SUITS = { video: ['video'], phone: ['phone'], face_to_face: ['face_to_face', 'on_site'] };
const STATUS = { booked: 'Booked', in_progress: 'In progress', completed: 'Seen', dna: 'Did not attend' };

const state = {
  user: null, choices: null, diary: null, referrals: [], moving: null, panel: null, result: '', offerStatus: 'open',
};

const time = (iso) => TIME.format(new Date(iso));
const dayName = (isoDate) => DAY.format(new Date(`${isoDate}T12:00:00Z`));
const addDays = (isoDate, n) => new Date(Date.parse(`${isoDate}T12:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const weekWanted = () => new URLSearchParams(window.location.hash.slice(1)).get('week') || todayIso();
const wantedReferral = () => new URLSearchParams(window.location.search).get('referral');

async function load() {
  const [diary, page] = await Promise.all([
    get(`/api/v1/booking/diary?week_start=${encodeURIComponent(weekWanted())}`),
    get('/api/v1/referrals?status=AWAITING_BOOKING&order=queue&limit=100'),
  ]);
  state.diary = diary;
  state.referrals = page.items;
}

function slotLabel(slot, clinic) {
  return `${time(slot.starts_at)} on ${dayName(clinic.session_date)}, ${KIND[clinic.kind].toLowerCase()} clinic`;
}

function slotItem(slot, clinic) {
  const past = new Date(slot.starts_at) <= new Date();
  const a = slot.appointment;
  const when = h('span', { class: 'diary__time' }, time(slot.starts_at));
  if (a) {
    const buttons = a.status === 'booked' && !past ? [
      h('button', { type: 'button', class: 'button button--small button--secondary', onclick: () => startMove(a) },
        'Move', hidden(` ${a.employee_name}'s appointment`)),
      h('button', { type: 'button', class: 'button button--small button--secondary', onclick: () => askCancel(a, slot, clinic) },
        'Cancel', hidden(` ${a.employee_name}'s appointment`)),
    ] : [];
    return h('li', { class: 'diary__slot diary__slot--booked' }, when, ' ',
      h('span', {}, a.employee_name || 'Booked', ` (${STATUS[a.status] || a.status})`), h('span', { class: 'diary__buttons' }, buttons));
  }
  if (past) return h('li', { class: 'diary__slot diary__slot--past' }, when, ' ', h('span', { class: 'muted' }, 'Not booked'));
  const text = state.moving ? 'Move here' : 'Book';
  const button = h('button', { type: 'button', class: 'button button--small', onclick: () => chooseSlot(slot, clinic) },
    text, hidden(` at ${slotLabel(slot, clinic)}`));
  return h('li', { class: 'diary__slot diary__slot--free' }, when, ' ', h('span', {}, 'Free'), h('span', { class: 'diary__buttons' }, button));
}

function clinicCard(clinic) {
  const id = `clinic-${clinic.id}`;
  const free = clinic.slots.filter((s) => !s.appointment).length;
  const where = clinic.kind === 'on_site' ? `${clinic.employer_name}: ${clinic.location}` : clinic.location;
  return h('section', { class: 'diary__clinic', 'aria-labelledby': id },
    h('h3', { id }, `${time(clinic.starts_at)}–${time(clinic.ends_at)} ${KIND[clinic.kind]}`),
    h('p', { class: 'diary__meta' }, clinic.clinician_name, where ? ` · ${where}` : '', ` · ${free} free of ${clinic.slots.length}`),
    h('ul', { class: 'diary__slots' }, clinic.slots.map((s) => slotItem(s, clinic))),
    offerButton(clinic));
}

// --- offering a clinic's free times to an employee, who chooses one on their own page ----------

const clinicLabel = (clinic) => `${KIND[clinic.kind].toLowerCase()} clinic on ${dayName(clinic.session_date)} at ${time(clinic.starts_at)}`;

function offerButton(clinic) {
  const open = clinic.slots.filter((s) => !s.appointment && new Date(s.starts_at) > new Date());
  if (!open.length || state.moving) return null;
  return h('p', { class: 'diary__offer' }, h('button', { type: 'button', class: 'button button--small button--secondary',
    onclick: () => chooseOffer(clinic, open.length) }, 'Offer these times', hidden(` (${clinicLabel(clinic)})`)));
}

function referralSelect(id, clinic) {
  const suitable = state.referrals.filter((r) => !r.modality || (SUITS[r.modality] || []).includes(clinic.kind));
  const wanted = wantedReferral();
  return suitable.length ? h('select', { id }, suitable.map((r) =>
    h('option', { value: r.id, selected: r.id === wanted }, `${r.employee_name || 'Unnamed'} (${r.organisation_name})`))) : null;
}

function chooseOffer(clinic, count) {
  const title = `Offer the free times of the ${clinicLabel(clinic)}`;
  const select = referralSelect('offer-referral', clinic);
  const close = h('button', { type: 'button', class: 'button button--secondary', onclick: closePanel }, 'Do not offer');
  if (!select) return panel(title, h('p', {}, `No referral awaiting booking suits a ${KIND[clinic.kind].toLowerCase()} appointment.`), close);
  const note = h('p', { class: 'field-error', role: 'alert', tabindex: '-1' });
  const form = h('form', { novalidate: true },
    note, h('p', { class: 'hint' }, `The employee is e-mailed and chooses one of the ${count} free times on their own page.`),
    h('div', { class: 'field' }, h('label', { for: 'offer-referral' }, 'Referral awaiting booking'), select),
    h('div', { class: 'actions actions--inline' }, h('button', { type: 'submit', class: 'button' }, 'Offer the times to the employee'), close));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const offer = await post('/api/v1/booking/offers', { referral_id: select.value, session_id: clinic.id });
      const chosen = select.selectedOptions[0].textContent;
      state.panel = null;
      state.result = `Offered ${offer.slots.length} times of the ${clinicLabel(clinic)} to ${chosen}. They have been e-mailed.`;
      await render({ focus: 'result' });
    } catch (error) {
      failed(error, note);
    }
  });
  return panel(title, form);
}

function week() {
  const days = state.diary.days.map((d) => {
    const id = `day-${d}`;
    const clinics = state.diary.sessions.filter((c) => c.session_date === d);
    return h('li', { class: clinics.length ? 'diary__day' : 'diary__day diary__day--empty' },
      h('h2', { id, class: 'diary__date' }, dayName(d)),
      clinics.length ? clinics.map(clinicCard) : h('p', { class: 'muted' }, 'No clinics'));
  });
  return h('ol', { class: 'diary', 'aria-label': `Week of ${dayName(state.diary.week_start)}` }, days);
}

const OFFER_STATUS = { open: 'Open', booked: 'Booked', expired: 'Expired', withdrawn: 'Withdrawn' };

function offersTable(page) {
  if (!page.items.length) return h('p', { class: 'muted' }, 'No offers.');
  const rows = page.items.map((o) => h('tr', {},
    h('td', {}, o.employee_name || o.employee_email, h('br'), h('span', { class: 'muted' }, o.employee_email)),
    h('td', {}, o.employer_name),
    h('td', {}, o.kind ? KIND[o.kind] : '–'),
    h('td', {}, String(o.slots.length)),
    h('td', {}, formatDateTime(o.expires_at)),
    h('td', {}, OFFER_STATUS[o.status] || o.status)));
  return [
    h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Offers table', tabindex: '0' }, h('table', { class: 'table' },
      h('caption', { class: 'visually-hidden' }, 'Offers of times made to employees'),
      h('thead', {}, h('tr', {}, ['Employee', 'Employer', 'Clinic', 'Times free', 'Choose by', 'Status']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))),
    page.total > page.items.length ? h('p', { class: 'muted' }, `Showing ${page.items.length} of ${page.total}.`) : null,
  ];
}

/** The offers of times made to employees (open ones first shown), listed by status. */
function offersSection() {
  const body = h('div', { 'aria-live': 'polite' });
  const select = h('select', { id: 'offers-status' },
    Object.entries(OFFER_STATUS).map(([value, label]) => h('option', { value, selected: value === state.offerStatus }, label)),
    h('option', { value: '', selected: state.offerStatus === '' }, 'All'));
  const show = async () => {
    state.offerStatus = select.value;
    const query = new URLSearchParams({ limit: '50' });
    if (select.value) query.set('status', select.value);
    try {
      replace(body, offersTable(await get(`/api/v1/booking/offers?${query}`)));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(body, h('p', { class: 'notice notice--warning' }, error.detail));
    }
  };
  select.addEventListener('change', show);
  show();
  return h('section', { class: 'panel', 'aria-labelledby': 'offers-title' },
    h('h2', { id: 'offers-title' }, 'Offers of times to employees'),
    h('div', { class: 'field' }, h('label', { for: 'offers-status' }, 'Show offers that are'), select), body);
}

function weekNav() {
  const go = (n) => h('a', { class: 'button button--small button--secondary', href: `#week=${addDays(state.diary.week_start, n)}` },
    n < 0 ? 'Previous week' : 'Next week');
  return h('nav', { class: 'actions actions--inline', 'aria-label': 'Weeks' }, go(-7),
    h('a', { class: 'button button--small button--secondary', href: `#week=${todayIso()}` }, 'This week'), go(7));
}

function result() {
  return h('div', { id: 'diary-result', class: 'notice', tabindex: '-1', hidden: !state.result }, state.result);
}

async function render({ focus = 'heading' } = {}) {
  await load();
  const heading = h('h1', {}, `Clinic diary: week of ${dayName(state.diary.week_start)}`);
  const moving = state.moving ? h('div', { class: 'notice notice--warning', id: 'diary-moving' },
    h('p', {}, `Choose a free slot for ${state.moving.employee_name}'s appointment.`),
    h('button', { type: 'button', class: 'button button--small button--secondary', onclick: stopMove }, 'Stop moving')) : null;
  const plan = planForm(state.user, state.choices, state.diary.days[0] < todayIso() ? todayIso() : state.diary.days[0],
    async (clinic) => {
      state.result = `${KIND[clinic.kind]} clinic planned on ${dayName(clinic.session_date)}.`;
      window.history.replaceState(null, '', `${window.location.search}#week=${clinic.session_date}`);
      await render({ focus: 'result' });
    });
  replace(view, heading, result(), weekNav(), moving, state.panel, week(), offersSection(), plan);
  if (focus === 'heading') focusOn(heading);
  else if (focus === 'result') {
    focusOn(byId('diary-result'));
    announce(state.result);
  }
  else if (focus === 'panel') focusOn(byId('diary-panel-title'));
  else if (focus === 'moving') focusOn(byId('diary-moving'));
}

function panel(title, ...children) {
  state.panel = h('section', { class: 'card diary__panel', 'aria-labelledby': 'diary-panel-title' },
    h('h2', { id: 'diary-panel-title' }, title), ...children);
  return render({ focus: 'panel' });
}

function closePanel() {
  state.panel = null;
  return render();
}

function failed(error, note) {
  if (!(error instanceof ApiError)) throw error;
  replace(note, error.detail);
  focusOn(note);
}

function chooseSlot(slot, clinic) {
  if (state.moving) return moveTo(slot, clinic);
  const suitable = state.referrals.filter((r) => !r.modality || (SUITS[r.modality] || []).includes(clinic.kind));
  if (!suitable.length) {
    return panel(`Book ${slotLabel(slot, clinic)}`, h('p', {}, `No referral awaiting booking suits a ${KIND[clinic.kind].toLowerCase()} appointment.`),
      h('button', { type: 'button', class: 'button button--secondary', onclick: closePanel }, 'Close'));
  }
  const wanted = wantedReferral();
  const select = h('select', { id: 'book-referral' }, suitable.map((r) =>
    h('option', { value: r.id, selected: r.id === wanted }, `${r.employee_name || 'Unnamed'} (${r.organisation_name})`)));
  const note = h('p', { class: 'field-error', role: 'alert', tabindex: '-1' });
  const form = h('form', { novalidate: true },
    note, h('div', { class: 'field' }, h('label', { for: 'book-referral' }, 'Referral awaiting booking'), select),
    h('div', { class: 'actions actions--inline' }, h('button', { type: 'submit', class: 'button' }, 'Book and tell the employee'),
      h('button', { type: 'button', class: 'button button--secondary', onclick: closePanel }, 'Do not book')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const done = await post('/api/v1/booking/appointments', { referral_id: select.value, slot_id: slot.id });
      state.panel = null;
      state.result = `Booked ${done.appointment.employee_name} at ${slotLabel(slot, clinic)}. The employee and the referrer have been told.`;
      await render({ focus: 'result' });
    } catch (error) {
      failed(error, note);
    }
  });
  return panel(`Book ${slotLabel(slot, clinic)}`, form);
}

function startMove(appointment) {
  state.moving = appointment;
  state.panel = null;
  announce(`Choose a free slot for ${appointment.employee_name}'s appointment.`);
  return render({ focus: 'moving' });
}

function stopMove() {
  state.moving = null;
  return render();
}

async function moveTo(slot, clinic) {
  const appointment = state.moving;
  try {
    await post(`/api/v1/booking/appointments/${appointment.id}/reschedule`, { slot_id: slot.id });
    state.result = `Moved ${appointment.employee_name}'s appointment to ${slotLabel(slot, clinic)}. The old link no longer works; everyone has been told.`;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    state.result = error.detail;
  }
  state.moving = null;
  await render({ focus: 'result' });
}

function askCancel(appointment, slot, clinic) {
  const reason = h('input', { id: 'cancel-reason', type: 'text', autocomplete: 'off' });
  const note = h('p', { class: 'field-error', role: 'alert', tabindex: '-1' });
  const form = h('form', { novalidate: true }, note,
    h('div', { class: 'field' }, h('label', { for: 'cancel-reason' }, 'Reason (optional, kept in the appointment log)'), reason),
    h('div', { class: 'actions actions--inline' },
      h('button', { type: 'submit', class: 'button button--warning' }, 'Cancel the appointment'),
      h('button', { type: 'button', class: 'button button--secondary', onclick: closePanel }, 'Keep it')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
    try {
      await post(`/api/v1/booking/appointments/${appointment.id}/cancel`, body);
      state.panel = null;
      state.result = `Cancelled ${appointment.employee_name}'s appointment at ${slotLabel(slot, clinic)}. The slot is free again.`;
      await render({ focus: 'result' });
    } catch (error) {
      failed(error, note);
    }
  });
  return panel(`Cancel ${appointment.employee_name}'s appointment at ${slotLabel(slot, clinic)}?`, form);
}

async function start() {
  const user = await requireUser(['provider_admin', 'clinician']);
  if (!user) return;
  state.user = user;
  state.choices = await get('/api/v1/booking/choices');
  const route = serial(() => { state.result = ''; return render(); });
  window.addEventListener('hashchange', route);
  await route();
}

start();
