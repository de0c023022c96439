// The section links under the header of every signed-in page, by role; the current page is marked.

import { byId, h, replace } from './dom.js';

const EMPLOYER = [
  ['referrals.html', 'Referrals'],
  ['surveillance.html', 'Health surveillance'],
  ['dashboard.html', 'Dashboard'],
];
const LINKS = {
  manager: EMPLOYER,
  client_admin: [...EMPLOYER, ['users.html', 'Users']],
  clinician: [
    ['triage.html', 'Referral queue'],
    ['clinic.html', 'Video clinic'],
    ['diary.html', 'Diary'],
    ['pulse.html', 'Live pulse'],
    ['surveillance.html', 'Health surveillance'],
  ],
  provider_admin: [
    ['triage.html', 'Referral queue'],
    ['diary.html', 'Diary'],
    ['messages.html', 'Failed messages'],
    ['users.html', 'Users'],
  ],
  employee: [
    ['me.html', 'My occupational health'],
    ['acknowledge.html', 'My referrals'],
    ['measure.html', 'Measure my pulse'],
    ['surveillance.html', 'My health surveillance results'],
  ],
};

export function showNav(user) {
  const list = byId('subnav');
  if (!list) return;
  const here = window.location.pathname.split('/').pop() || 'index.html';
  replace(
    list,
    (LINKS[user.role] || []).map(([href, text]) =>
      h('li', {}, h('a', { href, 'aria-current': href === here ? 'page' : null }, text)),
    ),
  );
}
