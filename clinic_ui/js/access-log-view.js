// "Who has seen my records": the access log as a table in plain words.

import { describe } from './access-log-words.js';
import { formatDateTime, h } from './dom.js';
import { ROLE, label } from './labels.js';

const DAY = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'short' });

/** Entries (newest first) with the same person doing the same thing on the same day made one,
 * counted: a clinician's queue lists the same referral many times a day. */
function grouped(entries) {
  const rows = [];
  const seen = new Map();
  for (const e of entries) {
    const key = [DAY.format(new Date(e.at)), e.actor_name, e.actor_role, e.actor_organisation, e.action, e.outcome].join('|');
    const row = seen.get(key);
    if (row) row.times += 1;
    else {
      const fresh = { ...e, times: 1 };
      seen.set(key, fresh);
      rows.push(fresh);
    }
  }
  return rows;
}

/** The table of entries (newest first); the person's own actions are shown as "You". */
export function accessLog(entries, me) {
  const shown = grouped(entries.filter((e) => e.action !== 'access_log.read'));
  if (!shown.length) return h('p', {}, 'Nobody has seen your records yet.');
  const mine = (e) => e.actor_role === me.role && e.actor_name === (me.full_name || me.email);
  const rows = shown.map((e) => h(
    'tr', {},
    h('td', {}, formatDateTime(e.at), e.times > 1 ? h('span', { class: 'sub' }, `and ${e.times - 1} more that day`) : ''),
    h('td', {}, mine(e) ? 'You' : e.actor_name),
    h('td', {}, e.actor_role === 'system' ? 'System' : label(ROLE, e.actor_role)),
    h('td', {}, e.actor_organisation || '–'),
    h('td', {}, describe(e)),
  ));
  return [
    h('p', {}, 'Everyone who read or changed your records, newest first. The same action by the same person on one day is shown once.'),
    h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Access log table', tabindex: '0' }, h('table', { class: 'table' },
      h('caption', { class: 'visually-hidden' }, 'Who has seen my records'),
      h('thead', {}, h('tr', {}, ['When', 'Who', 'Role', 'Organisation', 'What'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))),
  ];
}
