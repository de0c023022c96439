// Choose a password: from an invitation or reset link (#token=…&for=invite|reset), or, for an
// employee signed in by their referral link, for their account (no token).

import { ApiError, post } from '../api.js';
import { byId, focusOn, h, replace } from '../dom.js';
import { ErrorSummary, clearFields, markField } from '../errors.js';
import { announce, currentUser } from '../session.js';

const view = byId('view');
const MIN_LENGTH = 12;

/** Take the single-use token out of the address (and history) at once. */
function takeLink() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const token = params.get('token');
  if (token) window.history.replaceState(null, '', window.location.pathname);
  return { token, purpose: params.get('for') === 'reset' ? 'reset' : 'invite' };
}

function show(title, ...content) {
  const heading = h('h1', { tabindex: '-1' }, title);
  document.title = `${title} – ohconnect`;
  replace(view, heading, ...content);
  focusOn(heading);
  return heading;
}

function linkUsed() {
  show(
    'This link has already been used or has expired',
    h('p', {}, 'Each link works once and for a limited time, to keep your account safe.'),
    h('p', {}, h('a', { href: 'email-link.html?for=reset' }, 'Send me a new link to choose a password')),
    h('p', {}, h('a', { href: 'index.html' }, 'Go to the sign-in page')),
  );
}

function passwordField(id, label, hint) {
  const hintId = `${id}-hint`;
  return h(
    'div',
    { class: 'field', 'data-field': id, 'data-field-id': id, 'data-label': label },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('input', {
      id,
      name: id,
      type: 'password',
      autocomplete: 'new-password',
      required: true,
      maxlength: '256',
      'aria-describedby': hint ? hintId : null,
    }),
  );
}

function buildForm(buttonText) {
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    passwordField(
      'password',
      'New password',
      `At least ${MIN_LENGTH} characters. A few unrelated words make a strong password that is easy to remember.`,
    ),
    passwordField('confirm', 'Type the new password again'),
    h(
      'div',
      { class: 'choice choice--small' },
      h('input', { id: 'show-password', type: 'checkbox' }),
      h('label', { for: 'show-password' }, 'Show passwords'),
    ),
    h('button', { class: 'button', type: 'submit' }, buttonText),
  );
  form.querySelector('#show-password').addEventListener('change', (event) => {
    for (const input of form.querySelectorAll('input[autocomplete="new-password"]')) {
      input.type = event.target.checked ? 'text' : 'password';
    }
  });
  return form;
}

function problemsIn(form) {
  const password = form.querySelector('#password').value;
  const confirm = form.querySelector('#confirm').value;
  const problems = [];
  if (!password) problems.push(['password', 'Enter a new password']);
  else if (password.length < MIN_LENGTH) problems.push(['password', `Use at least ${MIN_LENGTH} characters`]);
  if (password && confirm !== password) problems.push(['confirm', 'The two passwords are not the same']);
  return problems;
}

function showFieldProblems(form, summary, problems, detail = '') {
  const items = problems.map(([name, message]) => {
    const field = form.querySelector(`[data-field="${name}"]`);
    markField(field, message);
    return { label: field.dataset.label, message, type: 'custom', field, control: field.querySelector('input') };
  });
  summary.show(items, detail);
}

/** The password form; `send(password)` resolves to the answer or throws an ApiError. */
function passwordForm({ title, intro, button, send, done, refused }) {
  const summary = new ErrorSummary();
  const form = buildForm(button);
  show(title, h('p', { class: 'lead' }, intro), summary.el, form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    summary.hide();
    const problems = problemsIn(form);
    if (problems.length) {
      showFieldProblems(form, summary, problems);
      return;
    }
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    try {
      done(await send(form.querySelector('#password').value));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      submit.disabled = false;
      if (error.status === 422) showFieldProblems(form, summary, [['password', error.detail]]);
      else if (!refused(error)) summary.show([], error.detail);
    }
  });
}

function withToken(token, purpose) {
  passwordForm({
    title: purpose === 'reset' ? 'Choose a new password' : 'Choose your password',
    intro:
      purpose === 'reset'
        ? 'Choose a new password for your ohconnect account. You will be signed out everywhere else.'
        : 'Your ohconnect account is ready. Choose a password to sign in with.',
    button: 'Save password',
    send: (password) => post('/api/v1/auth/password', { token, password }),
    done: (answer) => {
      show(
        'Your password is saved',
        h('p', {}, `Sign in with your e-mail address, ${answer.email}, and your new password.`),
        h('p', {}, h('a', { class: 'button', href: 'index.html' }, 'Sign in')),
      );
      announce('Your password is saved.');
    },
    refused: (error) => {
      if (error.status !== 404) return false;
      linkUsed();
      return true;
    },
  });
}

function forSignedInEmployee(user) {
  passwordForm({
    title: 'Set a password',
    intro: `Set a password for ${user.email}, so that you can sign in later without a link.`,
    button: 'Save password',
    send: (password) => post('/api/v1/auth/password/from-link', { password }),
    done: (answer) => {
      show(
        'Your password is saved',
        h('p', {}, `Next time, sign in with ${answer.email} and this password.`),
        h('p', {}, h('a', { href: 'acknowledge.html' }, 'Back to your referrals')),
      );
      announce('Your password is saved.');
    },
    refused: () => false,
  });
}

async function start() {
  const { token, purpose } = takeLink();
  if (token) {
    withToken(token, purpose);
    return;
  }
  const user = await currentUser();
  if (user) {
    forSignedInEmployee(user);
    return;
  }
  show(
    'Open the link in your e-mail',
    h('p', {}, 'To choose a password, open the link we e-mailed you.'),
    h('p', {}, h('a', { href: 'email-link.html?for=reset' }, 'Send me a link to choose a password')),
    h('p', {}, h('a', { href: 'index.html' }, 'Go to the sign-in page')),
  );
}

start();
