// The released management report, shown on the referral's page exactly as issued (GET …/report:
// the same sections as the PDF and the standalone HTML page), with links to both documents.

import { ApiError, get } from './api.js';
import { h } from './dom.js';

function pairs(list) {
  if (!list.length) return null;
  return h(
    'dl',
    { class: 'report__pairs' },
    list.map(([key, value]) => h('div', {}, h('dt', {}, key), h('dd', {}, value))),
  );
}

function documentLinks(referralId) {
  const base = `/api/v1/referrals/${referralId}`;
  return h(
    'ul',
    { class: 'report__links' },
    h('li', {}, h('a', { href: `${base}/report.pdf`, download: '' }, 'Download the report (PDF)')),
    h(
      'li',
      {},
      h('a', { href: `${base}/report.html`, target: '_blank', rel: 'noopener' }, 'Open the report on its own page (new tab)'),
    ),
  );
}

/** The report as sections under an h2 titled "The report"; a note when this person may not read it. */
export async function releasedReport(referral) {
  const titleId = 'report-title';
  let report;
  try {
    report = await get(`/api/v1/referrals/${referral.id}/report`);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    return h(
      'section',
      { class: 'panel', 'aria-labelledby': titleId, id: 'report' },
      h('h2', { id: titleId }, 'The report'),
      h(
        'p',
        {},
        'The report was released only to the people the employee agreed to. You are not one of them; ' +
          'ask a named recipient or occupational health.',
      ),
    );
  }
  return h(
    'section',
    { class: 'panel report', 'aria-labelledby': titleId, id: 'report' },
    h('h2', { id: titleId }, 'The report'),
    documentLinks(referral.id),
    h('h3', {}, report.title),
    pairs(report.header),
    report.sections.map((section) =>
      h(
        'section',
        { class: 'report__section', 'aria-label': section.title },
        h('h4', {}, section.title),
        section.paragraphs.map((text) => h('p', {}, text)),
        pairs(section.pairs),
      ),
    ),
    report.addenda.map((addendum) =>
      h(
        'section',
        { class: 'report__section', 'aria-label': `Addendum, ${addendum.on}` },
        h('h4', {}, `Addendum, ${addendum.on}`),
        h('p', {}, addendum.text),
      ),
    ),
  );
}
