// Planning on the clinic page: a new clinic session (times and slot length), and booking a
// triaged referral into one of today's free slots (the employee is then sent their join link).

import { ApiError, get, post } from '../api.js';
import { h, replace, todayIso } from '../dom.js';
import { announce } from '../session.js';

const TIME = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });

function field(id, label, control) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), control);
}

function at(day, time) {
  return new Date(`${day}T${time}`).toISOString();
}

/** "Plan a clinic" and "Book a referral" panels; `onDone()` re-renders the page after a change. */
export function planForm(user, onDone) {
  const note = h('p', { role: 'status' });
  const day = h('input', { id: 'plan-day', type: 'date', value: todayIso() });
  const from = h('input', { id: 'plan-from', type: 'time', value: '09:00' });
  const to = h('input', { id: 'plan-to', type: 'time', value: '12:00' });
  const length = h('select', { id: 'plan-length' },
    [15, 20, 30, 45, 60].map((m) => h('option', { value: m, selected: m === 30 }, `${m} minutes`)));
  const plan = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'plan-title' },
    h('h2', { id: 'plan-title' }, 'Plan a video clinic'),
    field('plan-day', 'Date', day), field('plan-from', 'Starts', from), field('plan-to', 'Ends', to),
    field('plan-length', 'Appointment length', length),
    h('button', { type: 'submit', class: 'button' }, 'Plan clinic'));
  plan.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await post('/api/v1/booking/clinics', { starts_at: at(day.value, from.value), ends_at: at(day.value, to.value),
        slot_minutes: Number(length.value), kind: 'video' });
      announce('Clinic planned.');
      await onDone();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(note, error.detail);
    }
  });
  const booking = h('div', {}, h('p', { class: 'muted' }, 'Loading referrals awaiting booking…'));
  fillBooking(booking, user, onDone);
  return h('div', {}, note, booking, plan);
}

async function fillBooking(container, user, onDone) {
  const [page, sessions] = await Promise.all([
    get('/api/v1/referrals?status=AWAITING_BOOKING&sort=priority&limit=100'),
    get(`/api/v1/clinics/sessions?clinician_id=${user.id}`),
  ]);
  const referrals = page.items.filter((r) => !r.modality || r.modality === 'video');
  const free = sessions.flatMap((s) => s.slots.filter((slot) => !slot.appointment && new Date(slot.ends_at) > new Date()));
  if (!referrals.length || !free.length) {
    replace(container, h('p', { class: 'muted' }, referrals.length ? 'No free appointments today.'
      : 'No referrals are waiting to be booked for video.'));
    return;
  }
  const referral = h('select', { id: 'book-referral' }, referrals.map((r) =>
    h('option', { value: r.id }, `${r.employee_name || 'Unnamed'} (${r.organisation_name})`)));
  const slot = h('select', { id: 'book-slot' }, free.map((s) => h('option', { value: s.id }, TIME.format(new Date(s.starts_at)))));
  const interpreter = h('input', { id: 'book-interpreter', type: 'text', autocomplete: 'off' });
  const note = h('p', { role: 'status' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'book-title' },
    h('h2', { id: 'book-title' }, 'Book a referral into a clinic'), note,
    field('book-referral', 'Referral', referral), field('book-slot', 'Appointment time', slot),
    field('book-interpreter', 'Interpreter needed? Their name (optional)', interpreter),
    h('button', { type: 'submit', class: 'button' }, 'Book and send the invitation'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { referral_id: referral.value, slot_id: slot.value };
    if (interpreter.value.trim()) body.interpreter = { name: interpreter.value.trim(), role: 'interpreter' };
    try {
      await post('/api/v1/booking/appointments', body);
      announce('Booked. The employee has been sent their invitation.');
      await onDone();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(note, error.detail);
    }
  });
  replace(container, form);
}
