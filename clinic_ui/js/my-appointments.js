// The employee's appointments on "My occupational health": when (Europe/London), how to join,
// and a calendar file. Kept on its own: it reads GET /api/v1/clinics/my-appointments today and
// can be switched to the booking feature's own list without touching the rest of the page.

import { get } from './api.js';
import { h } from './dom.js';

const SOURCE = '/api/v1/clinics/my-appointments';
const UK = 'Europe/London';
const DAY = new Intl.DateTimeFormat('en-GB', {
  timeZone: UK, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric',
});
const TIME = new Intl.DateTimeFormat('en-GB', { timeZone: UK, hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
const UPCOMING = new Set(['booked', 'in_progress']);
const STATUS = {
  booked: 'Booked', in_progress: 'In progress', completed: 'Completed', cancelled: 'Cancelled', dna: 'Missed',
};

export const loadAppointments = () => get(SOURCE);

const icsTime = (iso) => new Date(iso).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** An iCalendar file for one appointment (times in UTC, which every calendar shows locally). */
function calendarFile(a) {
  const join = new URL(`join.html#appointment=${a.id}`, window.location.href).href;
  const lines = [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//ohconnect//My occupational health//EN', 'BEGIN:VEVENT',
    `UID:${a.id}@ohconnect`, `DTSTAMP:${icsTime(new Date().toISOString())}`,
    `DTSTART:${icsTime(a.starts_at)}`, `DTEND:${icsTime(a.ends_at)}`,
    `SUMMARY:Occupational health appointment with ${a.clinician_name}`,
    a.modality === 'video' ? `DESCRIPTION:Join the video appointment: ${join}` : 'DESCRIPTION:Occupational health appointment',
    'END:VEVENT', 'END:VCALENDAR',
  ];
  return URL.createObjectURL(new Blob([`${lines.join('\r\n')}\r\n`], { type: 'text/calendar' }));
}

function howToJoin(a) {
  if (a.modality === 'phone') return h('p', {}, `${a.clinician_name} will phone you at the time of the appointment.`);
  if (a.modality === 'face_to_face') {
    return h('p', {}, 'This appointment is in person: the address is in your invitation e-mail.');
  }
  const opens = TIME.format(new Date(a.opens_at));
  return h(
    'p', {},
    `It is by video. The waiting room opens at ${opens}. `,
    h('a', { href: `join.html#appointment=${a.id}` }, 'Join the video appointment'),
    ' (or use the link in your invitation e-mail).',
  );
}

function appointment(a) {
  const starts = new Date(a.starts_at);
  const upcoming = UPCOMING.has(a.status);
  const heading = `${DAY.format(starts)} at ${TIME.format(starts)}`;
  return h(
    'li', { class: 'card' },
    h('h3', {}, heading),
    h('p', {}, `With ${a.clinician_name}. `, h('strong', {}, STATUS[a.status] || a.status)),
    upcoming ? howToJoin(a) : null,
    upcoming
      ? h('p', {}, h('a', { href: calendarFile(a), download: `appointment-${starts.toISOString().slice(0, 10)}.ics` },
        'Add to my calendar', h('span', { class: 'visually-hidden' }, ` (${heading})`)))
      : null,
  );
}

/** The appointments section's content, soonest first. */
export function appointmentsList(items) {
  if (!items.length) return h('p', {}, 'You have no appointments booked.');
  return h('ul', { class: 'plain-list' }, items.map(appointment));
}
