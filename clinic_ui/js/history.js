// The referral's history (GET …/events): what happened, when, and any message or reason given.

import { get } from './api.js';
import { formatDateTime, h, replace } from './dom.js';
import { ACTION, GRADE, MODALITY, PRIORITY, ROLE, STATUS, label } from './labels.js';

function details(event) {
  const d = event.detail || {};
  const parts = [];
  if (d.modality) parts.push(`${label(MODALITY, d.modality)} appointment`);
  if (d.clinician_grade) parts.push(`with ${label(GRADE, d.clinician_grade)}`);
  if (d.priority) parts.push(`priority ${label(PRIORITY, d.priority).toLowerCase()}`);
  if (d.starts_at) parts.push(`on ${formatDateTime(d.starts_at)}`);
  if (typeof d.discussed === 'boolean')
    parts.push(d.discussed ? 'confirmed it was discussed with them' : 'said it was not discussed with them');
  const text = [d.message, d.reason, d.comment].filter(Boolean);
  return [
    parts.length ? h('span', {}, ` – ${parts.join(', ')}.`) : null,
    ...text.map((t) => h('blockquote', { class: 'quote' }, t)),
  ];
}

/** A "History" section; `level` is its heading level. */
export function historyPanel(referral, { level = 2 } = {}) {
  const headingId = `history-${referral.id}`;
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading history…'));
  get(`/api/v1/referrals/${referral.id}/events`)
    .then((events) =>
      replace(
        list,
        h(
          'ol',
          { class: 'history' },
          events.map((e) =>
            h(
              'li',
              {},
              h('time', { datetime: e.at }, formatDateTime(e.at)),
              ': ',
              h('strong', {}, label(ACTION, e.action)),
              e.from_status !== e.to_status ? ` (now ${label(STATUS, e.to_status).toLowerCase()})` : '',
              e.actor_role && e.actor_role !== 'system'
                ? ` by ${label(ROLE, e.actor_role).toLowerCase()}`
                : '',
              details(e),
            ),
          ),
        ),
      ),
    )
    .catch((error) =>
      replace(list, h('p', { class: 'muted' }, error.detail || 'History could not be loaded.')),
    );
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': headingId },
    h(`h${level}`, { id: headingId }, 'History'),
    list,
  );
}
