// Employee's page. From the emailed link (#token=…): exchange the single-use token for a session,
// show exactly what the manager sent, and record whether it was discussed with them.
// Without a token: the signed-in employee's referrals (#) or one of them (#referral=ID).

import { ApiError, get, post } from '../api.js';
import { attachmentList, loadAttachments } from '../attachments.js';
import { byId, focusOn, formatDate, formatDateTime, h, replace, serial } from '../dom.js';
import { ErrorSummary, clearFields, markField } from '../errors.js';
import { KINDS } from '../form-fields.js';
import { STATUS, label } from '../labels.js';
import { referralView } from '../referral-view.js';
import { announce, currentUser, homeFor, showAccount } from '../session.js';

const view = byId('view');
const BASE_TITLE = document.title;
let arrivedByLink = false; // signed in by the e-mailed referral link (may have no password yet)

const ANSWER = {
  path: 'discussed',
  kind: 'radios',
  label: 'Did your manager discuss this referral with you before sending it?',
  options: { true: 'Yes, my manager discussed this with me', false: 'No, it was not discussed' },
  boolean: true,
};
const COMMENT = {
  path: 'comment',
  kind: 'textarea',
  label: 'Comment (optional)',
  rows: 4,
  hint: 'For example, anything in the referral you think is wrong. Only occupational health will see it.',
};

function message(title, ...paragraphs) {
  const heading = h('h1', {}, title);
  replace(
    view,
    heading,
    paragraphs.map((p) => h('p', {}, p)),
  );
  return heading;
}

async function redeem(token) {
  try {
    const link = await post('/api/v1/auth/link', { token });
    arrivedByLink = true;
    window.history.replaceState(null, '', `#referral=${link.referral_id}`);
    showAccount(await get('/api/v1/me'));
    return await showReferral(link.referral_id);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 404) {
      return message(
        'This link has already been used or has expired',
        'Each link works once and for a limited time, to keep your information safe.',
        'If you have already opened it, you may have answered already. Ask your manager or occupational health ' +
          'for a new link if you still need to see the referral.',
      );
    }
    if (error.status === 422) {
      return message(
        'This link is not complete',
        'Copy the whole link from the email into your browser, or open it by selecting it in the email.',
      );
    }
    return message('Something went wrong', error.detail);
  }
}

function answerForm(referral) {
  const summary = new ErrorSummary();
  const choice = KINDS.radios.render(ANSWER, () => {});
  const comment = KINDS.textarea.render(COMMENT, () => {});
  const button = h('button', { type: 'submit', class: 'button' }, 'Send my answer');
  const form = h(
    'form',
    { class: 'answer', novalidate: true, 'aria-labelledby': 'answer-title' },
    summary.el,
    choice,
    comment,
    button,
  );
  const section = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'answer-title' },
    h('h2', { id: 'answer-title' }, 'Was this referral discussed with you?'),
    form,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    summary.hide();
    const discussed = KINDS.radios.read(choice, ANSWER);
    if (discussed === undefined) {
      markField(choice, 'Choose yes or no');
      summary.show([
        {
          label: '',
          message: 'Choose whether your manager discussed the referral with you',
          type: 'custom',
          field: choice,
          control: choice.querySelector('input'),
        },
      ]);
      return;
    }
    const text = KINDS.textarea.read(comment, COMMENT);
    button.disabled = true;
    try {
      await post(`/api/v1/referrals/${referral.id}/acknowledgement`, { discussed, comment: text });
      const thanks = h('h2', { id: 'answer-title', tabindex: '-1' }, 'Thank you, your answer has been sent');
      replace(
        section,
        thanks,
        h(
          'p',
          {},
          discussed
            ? 'We have recorded that your manager discussed this referral with you.'
            : 'We have recorded that this referral was not discussed with you.',
        ),
        h(
          'p',
          {},
          'Your answer goes to occupational health. Your manager sees only that you have responded and when, ' +
            'not what you answered.',
        ),
      );
      announce('Your answer has been sent.');
      focusOn(thanks);
      if (arrivedByLink) section.after(passwordOffer());
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      summary.show([], error.detail);
      button.disabled = false;
    }
  });
  return section;
}

/** After answering by link: the employee may set a password so that they can sign in later. */
function passwordOffer() {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'password-offer-title' },
    h('h2', { id: 'password-offer-title' }, 'Set a password so you can sign in later'),
    h(
      'p',
      {},
      'Your link works only once. With a password you can come back to see your referral, appointments ' +
        'and reports.',
    ),
    h('p', {}, h('a', { class: 'button button--secondary', href: 'set-password.html' }, 'Set a password')),
  );
}

function answered(referral) {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'answer-title' },
    h('h2', { id: 'answer-title' }, 'Your answer'),
    h('p', {}, `You answered on ${formatDateTime(referral.acknowledged_at)}. Thank you.`),
  );
}

async function showReferral(id) {
  const [referral, files] = await Promise.all([get(`/api/v1/referrals/${id}`), loadAttachments(id)]);
  document.title = `Your referral – ${BASE_TITLE}`;
  const manager = referral.form.referrer?.name || 'Your manager';
  const heading = h('h1', {}, 'Your occupational health referral');
  replace(
    view,
    heading,
    h(
      'p',
      { class: 'lead' },
      `${manager} referred you to occupational health`,
      referral.submitted_at ? ` on ${formatDate(referral.submitted_at)}` : '',
      '. Below is exactly what was sent.',
    ),
    h('p', {}, 'Status: ', h('span', { class: 'tag' }, label(STATUS, referral.status))),
    referral.acknowledged_at
      ? null
      : h('p', {}, 'Read it, then answer the question at the end of this page.'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'sent-title' },
      h('h2', { id: 'sent-title' }, 'What was sent'),
      referralView(referral.form, { level: 3, questions: referral.standard_questions }),
      h('h3', {}, 'Files sent with it'),
      attachmentList(id, files),
    ),
    referral.acknowledged_at ? answered(referral) : answerForm(referral),
    referral.acknowledged_at && arrivedByLink ? passwordOffer() : null,
  );
  return heading;
}

async function showList() {
  const page = await get('/api/v1/referrals');
  const heading = h('h1', {}, 'Your referrals');
  if (!page.items.length) {
    replace(view, heading, h('p', {}, 'There are no occupational health referrals about you.'));
    return heading;
  }
  replace(
    view,
    heading,
    h(
      'ul',
      { class: 'files' },
      page.items.map((item) =>
        h(
          'li',
          {},
          h('a', { href: `#referral=${item.id}` }, `Referral from ${item.organisation_name}`),
          ` – ${label(STATUS, item.status)}, sent ${formatDate(item.submitted_at)}`,
        ),
      ),
    ),
  );
  return heading;
}

async function route() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  try {
    if (params.get('referral')) return await showReferral(params.get('referral'));
    return await showList();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) return message('Your session has ended', 'Open the link in your email again.');
    return message(error.status === 404 ? 'Referral not found' : 'Something went wrong', error.detail);
  }
}

/** Take a single-use token out of the address (and history) at once; null when there is none. */
function takeToken() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (token) window.history.replaceState(null, '', window.location.pathname);
  return token;
}

async function start() {
  const rerender = serial(() => {
    const token = takeToken();
    return token ? redeem(token) : route();
  });
  const hasToken = new URLSearchParams(window.location.hash.slice(1)).has('token');
  const user = hasToken ? null : await currentUser();
  if (user && user.role !== 'employee') {
    window.location.replace(homeFor(user.role));
    return;
  }
  window.addEventListener('hashchange', async () => focusOn(await rerender()));
  if (hasToken) {
    await rerender();
  } else if (user) {
    showAccount(user);
    await rerender();
  } else {
    message(
      'Open the link in your email',
      'To see your referral, open the link we emailed you. Staff can sign in on the sign-in page.',
    );
    view.append(h('p', {}, h('a', { href: '/?next=%2Facknowledge.html' }, 'Go to the sign-in page')));
  }
}

start();
