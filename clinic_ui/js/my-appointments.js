// The employee's appointments on "My occupational health": the times occupational health offered
// them to choose from (grouped by day, Europe/London), their booked appointments (when, how to
// join, add to calendar), moving one to another offered time and cancelling one, while the notice
// rule allows.
// Reads and writes only booking's employee endpoints (/api/v1/booking/.../mine).

import { ApiError, get, post } from './api.js';
import { focusOn, h, replace } from './dom.js';
import { announce } from './session.js';

const UK = 'Europe/London';
const DAY = new Intl.DateTimeFormat('en-GB', {
  timeZone: UK, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric',
});
const TIME = new Intl.DateTimeFormat('en-GB', { timeZone: UK, hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
const HOUR = new Intl.DateTimeFormat('en-GB', { timeZone: UK, hour: '2-digit', minute: '2-digit' });
const UPCOMING = new Set(['booked', 'in_progress']);
const STATUS = {
  booked: 'Booked', in_progress: 'In progress', completed: 'Completed', cancelled: 'Cancelled', dna: 'Missed',
};
const KIND = {
  video: 'by video', phone: 'by phone', face_to_face: 'in person', on_site: 'at your workplace',
};
const PROBLEM = {
  slot_taken: 'Someone else has just taken that time. Please choose another time.',
  too_late_to_change: 'It is too late to change this appointment here. Please contact occupational health to move it.',
  slot_not_offered: 'That time is no longer offered to you. Please choose another time.',
  slot_in_past: 'That time has already passed. Please choose another time.',
};

const when = (iso) => `${DAY.format(new Date(iso))} at ${TIME.format(new Date(iso))}`;

/** Everything the section shows: the employee's appointments and the offers made to them. */
export async function loadAppointments() {
  const [appointments, offers] = await Promise.all([
    get('/api/v1/booking/appointments/mine'),
    get('/api/v1/booking/offers/mine'),
  ]);
  return { appointments, offers };
}

function plainProblem(error) {
  return PROBLEM[error.code] || error.detail;
}

/** Radio buttons for the free times, one group (fieldset) per day. */
function slotChoices(name, slots) {
  const days = new Map();
  for (const slot of slots) {
    const day = DAY.format(new Date(slot.starts_at));
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(slot);
  }
  return [...days.entries()].map(([day, daySlots]) => h(
    'fieldset', { class: 'group' },
    h('legend', {}, day),
    h('div', { class: 'choices choices--radio' }, daySlots.map((slot) => {
      const id = `${name}-${slot.id}`;
      return h(
        'div', { class: 'choice' },
        h('input', { type: 'radio', id, name, value: slot.id, required: true }),
        h('label', { for: id }, `${HOUR.format(new Date(slot.starts_at))} to ${TIME.format(new Date(slot.ends_at))}`),
      );
    })),
  ));
}

/** A form to choose one time; `send(slotId)` books or moves, and resolves to the booking. */
function chooser({ name, title, slots, action, send, onDone }) {
  const problem = h('div', { role: 'alert' });
  const form = h('form', { class: 'slot-chooser', 'aria-label': title, novalidate: true });
  const submit = h('button', { type: 'submit', class: 'button' }, action);
  form.append(problem, ...slotChoices(name, slots), submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = form.querySelector(`input[name="${name}"]:checked`);
    if (!chosen) {
      replace(problem, h('p', { class: 'notice notice--warning' }, 'Choose a time first.'));
      focusOn(form.querySelector('input'));
      return;
    }
    submit.disabled = true;
    try {
      await onDone(await send(chosen.value));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(problem, h('p', { class: 'notice notice--warning' }, plainProblem(error)));
      submit.disabled = false;
      focusOn(problem.firstChild);
    }
  });
  return form;
}

function howToJoin(a) {
  if (a.kind !== 'video' || !a.join_url) return h('p', {}, a.how_to_join);
  return h(
    'p', {}, `${a.how_to_join} `,
    h('a', { href: a.join_url }, 'Join the video appointment', h('span', { class: 'visually-hidden' }, ` on ${when(a.starts_at)}`)),
    ' (or use the link in your invitation e-mail).',
  );
}

const calendarLink = (a) => h(
  'p', {},
  h('a', { href: a.calendar_url, download: 'appointment.ics' },
    'Add to my calendar', h('span', { class: 'visually-hidden' }, ` (${when(a.starts_at)})`)),
);

function changeTime(a, offers, refresh) {
  if (a.status !== 'booked') return null;
  if (!a.offer_id) return h('p', {}, 'To change the time, contact occupational health.');
  if (!a.can_reschedule) {
    return h('p', {}, 'It is too late to change the time here: please contact occupational health.');
  }
  const until = h('p', {}, `You can change the time here until ${when(a.reschedule_until)}.`);
  const offer = offers.find((o) => o.id === a.offer_id);
  const others = offer ? offer.slots : [];
  if (!others.length) return [until, h('p', {}, 'There are no other times free at the moment.')];
  return [until, h(
    'details', { class: 'reschedule' },
    h('summary', {}, 'Change the time', h('span', { class: 'visually-hidden' }, ` of ${when(a.starts_at)}`)),
    chooser({
      name: `move-${a.id}`,
      title: `Choose a new time for your appointment on ${when(a.starts_at)}`,
      slots: others,
      action: 'Move my appointment',
      send: (slotId) => post(`/api/v1/booking/appointments/${a.id}/mine/reschedule`, { slot_id: slotId }),
      onDone: (moved) => refresh(moved, 'Your appointment has moved'),
    }),
  )];
}

/** Cancelling, asked about first; afterwards the times offered (if any) can be chosen again. */
function cancelBox(a, refresh) {
  if (a.status !== 'booked' || !a.can_cancel) return null;
  const problem = h('div', { role: 'alert' });
  const yes = h('button', { type: 'button', class: 'button button--warning' }, 'Yes, cancel my appointment');
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    try {
      const cancelled = await post(`/api/v1/booking/appointments/${a.id}/mine/cancel`, {});
      await refresh(cancelled, 'Your appointment is cancelled');
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(problem, h('p', { class: 'notice notice--warning' }, plainProblem(error)));
      yes.disabled = false;
      focusOn(problem.firstChild);
    }
  });
  return h(
    'details', { class: 'cancel' },
    h('summary', {}, 'Cancel this appointment', h('span', { class: 'visually-hidden' }, ` on ${when(a.starts_at)}`)),
    problem,
    h('p', {}, a.offer_id
      ? 'You can then choose another of the times offered to you, while they are free.'
      : 'Occupational health will contact you to arrange another time.'),
    yes,
  );
}

function appointment(a, offers, refresh) {
  const upcoming = UPCOMING.has(a.status);
  return h(
    'li', { class: 'card' },
    h('h3', {}, when(a.starts_at)),
    h('p', {}, `${KIND[a.kind] ? `Appointment ${KIND[a.kind]}` : 'Appointment'} with ${a.clinician_name}. `,
      h('strong', {}, STATUS[a.status] || a.status)),
    a.location ? h('p', {}, `Where: ${a.location}`) : null,
    upcoming ? howToJoin(a) : null,
    upcoming ? calendarLink(a) : null,
    upcoming ? changeTime(a, offers, refresh) : null,
    upcoming ? cancelBox(a, refresh) : null,
  );
}

function offerCard(offer, refresh) {
  const title = `Choose a time for your appointment ${KIND[offer.kind] || ''}`.trim();
  return h(
    'div', { class: 'card' },
    h('h3', {}, title),
    h('p', {}, `Occupational health offers you these times${offer.clinician_name ? ` with ${offer.clinician_name}` : ''}`
      + `${offer.location ? ` at ${offer.location}` : ''}. Times are UK times. Choose one before ${when(offer.expires_at)}.`),
    chooser({
      name: `offer-${offer.id}`,
      title,
      slots: offer.slots,
      action: 'Book this time',
      send: (slotId) => post(`/api/v1/booking/offers/${offer.id}/book`, { slot_id: slotId }),
      onDone: (booked) => refresh(booked, 'Your appointment is booked'),
    }),
  );
}

function confirmation(a, title) {
  if (a.status === 'cancelled') {
    return h(
      'div', { class: 'notice', role: 'region', 'aria-labelledby': 'booked-title' },
      h('h3', { class: 'notice__title', id: 'booked-title' }, title),
      h('p', {}, `Your appointment on ${when(a.starts_at)} is cancelled. We have e-mailed you a calendar cancellation.`),
      h('p', {}, a.offer_id
        ? 'You can choose another of the times offered to you below.'
        : 'Occupational health will contact you to arrange another time.'),
    );
  }
  return h(
    'div', { class: 'notice', role: 'region', 'aria-labelledby': 'booked-title' },
    h('h3', { class: 'notice__title', id: 'booked-title' }, title),
    h('p', {}, `${when(a.starts_at)}, ${KIND[a.kind] || ''} with ${a.clinician_name}. We have e-mailed you the details.`),
    a.location ? h('p', {}, `Where: ${a.location}`) : null,
    howToJoin(a),
    calendarLink(a),
  );
}

function content(data, box, refresh) {
  const open = data.offers.filter((o) => o.status === 'open' && o.slots.length);
  const parts = open.map((o) => offerCard(o, refresh));
  const at = (a) => new Date(a.starts_at).getTime();
  const coming = data.appointments.filter((a) => UPCOMING.has(a.status)).sort((a, b) => at(a) - at(b));
  const past = data.appointments.filter((a) => !UPCOMING.has(a.status)).sort((a, b) => at(b) - at(a));
  parts.push(data.appointments.length
    ? h('ul', { class: 'plain-list' }, [...coming, ...past].map((a) => appointment(a, data.offers, refresh)))
    : h('p', {}, 'You have no appointments booked.'));
  return parts;
}

/** The appointments section's content: open offers, then coming appointments soonest first, then past ones. */
export function appointmentsList(data) {
  const box = h('div', { class: 'my-appointments' });
  const refresh = async (booking, title) => {
    const fresh = await loadAppointments();
    const note = confirmation(booking, title);
    replace(box, note, content(fresh, box, refresh));
    announce(`${title}: ${when(booking.starts_at)}.`);
    focusOn(note.querySelector('h3'));
  };
  replace(box, content(data, box, refresh));
  return box;
}
