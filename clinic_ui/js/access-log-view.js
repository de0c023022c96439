// "Who has seen my records": the access log as a table in plain words.

import { describe } from './access-log-words.js';
import { formatDateTime, h } from './dom.js';
import { ROLE, label } from './labels.js';

/** The table of entries (newest first); the person's own actions are shown as "You". */
export function accessLog(entries, me) {
  const shown = entries.filter((e) => e.action !== 'access_log.read');
  if (!shown.length) return h('p', {}, 'Nobody has seen your records yet.');
  const mine = (e) => e.actor_role === me.role && e.actor_name === (me.full_name || me.email);
  const rows = shown.map((e) => h(
    'tr', {},
    h('td', {}, formatDateTime(e.at)),
    h('td', {}, mine(e) ? 'You' : e.actor_name),
    h('td', {}, e.actor_role === 'system' ? 'System' : label(ROLE, e.actor_role)),
    h('td', {}, e.actor_organisation || '–'),
    h('td', {}, describe(e)),
  ));
  return [
    h('p', {}, 'Everyone who read or changed your records, newest first.'),
    h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Access log table', tabindex: '0' }, h('table', { class: 'table' },
      h('caption', { class: 'visually-hidden' }, 'Who has seen my records'),
      h('thead', {}, h('tr', {}, ['When', 'Who', 'Role', 'Organisation', 'What'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))),
  ];
}
