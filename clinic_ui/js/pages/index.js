// Sign-in page: email and password (or an e-mailed one-time link, #sign-in=TOKEN), then on to
// `?next=` (a page of this site that sent the person here) or the page for the person's role.

import { ApiError, post } from '../api.js';
import { byId, focusOn, h, replace } from '../dom.js';
import { ErrorSummary, clearFields, markField } from '../errors.js';
import { currentUser, homeFor, safeNext } from '../session.js';

/**
 * Where to go after signing in: ?next=/page, if it is a path of this site (safeNext). Links of
 * older versions said #next=page.html: those still work, for a plain page name only.
 */
function nextPage() {
  const query = new URLSearchParams(window.location.search).get('next');
  if (query) return safeNext(query);
  const legacy = new URLSearchParams(window.location.hash.slice(1)).get('next');
  return legacy && /^[a-z-]+\.html$/.test(legacy) ? `/${legacy}` : null;
}

const NEXT = nextPage();

function destination(role) {
  return NEXT || homeFor(role);
}

const form = byId('sign-in');
const summary = new ErrorSummary();
byId('errors').append(summary.el);

// The links for other ways in keep the page to return to.
for (const id of ['forgotten', 'email-me']) {
  const link = byId(id);
  const url = new URL(link.getAttribute('href'), window.location.href);
  if (NEXT) url.searchParams.set('next', NEXT);
  link.setAttribute('href', `${url.pathname.slice(1)}${url.search}`);
}

function problem(fieldName, message) {
  const field = form.querySelector(`[data-field="${fieldName}"]`);
  return {
    label: field.dataset.label,
    message,
    type: 'custom',
    field,
    control: field.querySelector('input'),
  };
}

function showProblems(problems, detail) {
  for (const p of problems) markField(p.field, p.message);
  summary.show(problems, detail);
}

function minutes(seconds) {
  const m = Math.max(1, Math.ceil((seconds || 60) / 60));
  return m === 1 ? '1 minute' : `${m} minutes`;
}

function explain(error) {
  if (error.status === 401) {
    showProblems(
      [problem('email', 'Check your email address'), problem('password', 'Check your password')],
      'The email address or password is not correct.',
    );
  } else if (error.status === 429) {
    summary.show([], `Too many attempts to sign in. Wait ${minutes(error.retryAfter)} and try again.`);
  } else if (error.status === 422) {
    const known = error.errors.filter((e) => e.field === 'email' || e.field === 'password');
    const problems = known.map((e) =>
      problem(
        e.field,
        e.field === 'email' ? 'Enter an email address like name@example.com' : 'Enter your password',
      ),
    );
    showProblems(problems, 'Check what you entered.');
  } else {
    summary.show([], error.detail);
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFields(form);
  summary.hide();
  const email = byId('email').value.trim();
  const password = byId('password').value;
  const missing = [];
  if (!email) missing.push(problem('email', 'Enter your email address'));
  if (!password) missing.push(problem('password', 'Enter your password'));
  if (missing.length) {
    showProblems(missing, '');
    return;
  }
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const session = await post('/api/v1/auth/login', { email, password });
    window.location.assign(destination(session.user.role));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    explain(error);
    button.disabled = false;
  }
});

byId('show-password').addEventListener('change', (event) => {
  byId('password').type = event.target.checked ? 'text' : 'password';
});

/** Take a one-time sign-in token out of the address (and history) at once; null when there is none. */
function takeSignInToken() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('sign-in');
  if (token) window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return token;
}

async function signInWithLink(token) {
  const heading = document.querySelector('main h1');
  replace(heading, 'Signing you in…');
  try {
    const session = await post('/api/v1/auth/sign-in-link/redeem', { token });
    window.location.replace(destination(session.user.role));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    replace(heading, 'Sign in');
    const again = byId('email-me').getAttribute('href');
    const detail =
      error.status === 404
        ? 'This sign-in link has already been used or has expired. Each link works once, for a short time.'
        : error.detail;
    summary.show([], detail);
    byId('errors').append(h('p', {}, h('a', { href: again }, 'E-mail me a new sign-in link')));
    focusOn(summary.el);
  }
}

const token = takeSignInToken();
if (token) {
  signInWithLink(token);
} else {
  // Someone already signed in goes straight on.
  currentUser()
    .then((user) => {
      if (user) window.location.replace(destination(user.role));
    })
    .catch(() => {});
}
