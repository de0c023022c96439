// The employee's review of their report before release: the report exactly as the manager would
// see it (GET /referrals/{id}/report), then approve, ask for a factual correction, or withhold.

import { ApiError, get, post } from './api.js';
import { h } from './dom.js';
import { ErrorSummary, clearFields, markField } from './errors.js';

const pairs = (list) =>
  h('dl', { class: 'summary' }, list.map(([k, v]) => h('div', { class: 'summary__row' }, h('dt', {}, k), h('dd', {}, v))));

/** The report view (title, header, sections), as the manager will get it. */
export function reportView(report) {
  return h(
    'article', { class: 'card report-html', 'aria-labelledby': 'report-title' },
    h('h3', { id: 'report-title' }, report.title),
    pairs(report.header),
    report.sections.map((s) => h(
      'section', {},
      h('h4', {}, s.title),
      s.paragraphs.map((p) => h('p', {}, p)),
      s.pairs.length ? pairs(s.pairs) : null,
    )),
  );
}

function button(text, onclick, kind = '') {
  return h('button', { type: 'button', class: `button ${kind}`.trim(), onclick }, text);
}

function failed(summary, error) {
  if (!(error instanceof ApiError)) throw error;
  summary.show([], error.detail);
  summary.el.focus();
}

function correctionForm(rid, sections, summary, onDone) {
  const select = h('select', { id: 'correction-section', name: 'section' },
    sections.map((s) => h('option', { value: s.key }, s.title)));
  const message = h('textarea', { id: 'correction-message', name: 'message', rows: 5, maxlength: 5000 });
  const messageField = h('div', { class: 'field', dataset: { label: 'What is wrong' } },
    h('label', { for: 'correction-message' }, 'What is factually wrong, and what is right?'),
    h('p', { class: 'hint' }, 'Corrections are for facts (dates, events, your job). The clinician\'s opinion may stand.'),
    message);
  const form = h('form', { class: 'message-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'correction-section' }, 'Which part of the report'), select),
    messageField,
    h('button', { type: 'submit', class: 'button button--secondary' }, 'Ask for this correction'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    summary.hide();
    const text = message.value.trim();
    if (!text) {
      markField(messageField, 'Enter what is wrong in the report');
      summary.show([{ label: 'What is wrong', message: 'Enter what is wrong in the report', type: 'custom',
        field: messageField, control: message }], '');
      return;
    }
    try {
      await post(`/api/v1/referrals/${rid}/report/corrections`, { section: select.value, message: text });
      await onDone('Your correction has been sent to the clinician. The report will come back to you.');
    } catch (error) {
      failed(summary, error);
    }
  });
  return form;
}

function withholdPart(rid, summary, onDone) {
  const confirmBox = h('div', { class: 'notice notice--warning', hidden: true, id: 'withhold-confirm' },
    h('p', {}, 'If you do not release the report, your employer is told only that occupational health cannot '
      + 'send a report, and they may have to make decisions without occupational health advice.'),
    button('Yes, do not release my report', async () => {
      try {
        await post(`/api/v1/referrals/${rid}/transitions`, { action: 'withdraw_consent' });
        await onDone('Your report will not be released to your employer.');
      } catch (error) {
        failed(summary, error);
      }
    }, 'button--warning'));
  const ask = button('Do not release my report', () => {
    confirmBox.hidden = false;
    ask.setAttribute('aria-expanded', 'true');
    confirmBox.querySelector('button').focus();
  }, 'button--secondary');
  ask.setAttribute('aria-expanded', 'false');
  ask.setAttribute('aria-controls', 'withhold-confirm');
  return [h('h3', {}, 'Withhold it'), ask, confirmBox];
}

/** The review panel for one waiting report; `onDone(message)` is called after an action succeeds. */
export async function reviewPanel(waiting, { onDone }) {
  const rid = waiting.referral_id;
  const summary = new ErrorSummary();
  let report;
  try {
    report = await get(`/api/v1/referrals/${rid}/report`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return h('p', {}, `Your report could not be loaded: ${error.detail}`);
  }
  const approve = button('Approve the report', async () => {
    try {
      await post(`/api/v1/referrals/${rid}/transitions`, { action: 'approve' });
      await onDone('You approved your report. The clinician will release it to the people you agreed.');
    } catch (error) {
      failed(summary, error);
    }
  });
  const panel = h('div', {},
    summary.el,
    h('p', {}, 'This is exactly what your manager will see if the report is released. ',
      h('a', { href: `/api/v1/referrals/${rid}/report.pdf` }, 'Download it (PDF)'), '.'),
    reportView(report),
    h('h3', {}, 'Approve it'),
    h('p', {}, 'If the report is right, approve it. The clinician then releases it to the people you agreed.'),
    h('div', { class: 'button-row' }, approve),
    h('h3', {}, 'Ask for a correction'),
    correctionForm(rid, report.sections, summary, onDone),
    withholdPart(rid, summary, onDone));
  return panel;
}
