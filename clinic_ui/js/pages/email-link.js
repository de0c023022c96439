// Ask for a link by e-mail: a password reset (?for=reset) or a one-time sign-in link
// (?for=sign-in, returning to ?next= once signed in). The answer never says whether the address
// has an account.

import { ApiError, post } from '../api.js';
import { byId, focusOn, h, replace } from '../dom.js';
import { ErrorSummary, clearFields, markField } from '../errors.js';
import { announce, safeNext } from '../session.js';

const params = new URLSearchParams(window.location.search);
const RESET = params.get('for') === 'reset';
const NEXT = safeNext(params.get('next'));

const WORDS = RESET
  ? {
      title: 'Reset your password',
      intro:
        'Enter the e-mail address you use for ohconnect. We will send it a link to choose a new password.',
      button: 'Send me a reset link',
    }
  : {
      title: 'E-mail me a sign-in link',
      intro:
        'Enter the e-mail address you use for ohconnect. We will send it a link that signs you in once, ' +
        'without a password.',
      button: 'Send me a sign-in link',
    };

const form = byId('request');
const field = form.querySelector('[data-field="email"]');
const summary = new ErrorSummary();
byId('errors').append(summary.el);
document.title = `${WORDS.title} – ohconnect`;
replace(byId('title'), WORDS.title);
replace(byId('intro'), WORDS.intro);
replace(byId('send'), WORDS.button);
if (NEXT) byId('back').setAttribute('href', `/?next=${encodeURIComponent(NEXT)}`);

function fail(message, detail = '') {
  markField(field, message);
  summary.show([{ label: field.dataset.label, message, type: 'custom', field, control: byId('email') }], detail);
}

function sent(detail) {
  const heading = h('h2', { tabindex: '-1' }, 'Check your e-mail');
  replace(
    byId('view'),
    h(
      'section',
      { class: 'panel', 'aria-label': 'Check your e-mail' },
      heading,
      h('p', {}, detail),
      h('p', {}, RESET ? 'The link lets you choose a new password.' : 'The link signs you in once.'),
      h('p', {}, 'No e-mail after a few minutes? Check the address and ask again.'),
    ),
  );
  announce('Request sent. Check your e-mail.');
  focusOn(heading);
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFields(form);
  summary.hide();
  const email = byId('email').value.trim();
  if (!email) {
    fail('Enter your email address');
    return;
  }
  const button = byId('send');
  button.disabled = true;
  try {
    const body = RESET ? { email } : { email, ...(NEXT ? { next: NEXT } : {}) };
    const answer = await post(RESET ? '/api/v1/auth/password/forgotten' : '/api/v1/auth/sign-in-link', body);
    sent(answer.detail);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    button.disabled = false;
    if (error.status === 422) fail('Enter an email address like name@example.com');
    else if (error.status === 429) summary.show([], 'Too many requests for links. Wait an hour and try again.');
    else summary.show([], error.detail);
  }
});
