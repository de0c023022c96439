// Sign-in page: email and password, then on to the page for the person's role.

import { ApiError, post } from '../api.js';
import { byId } from '../dom.js';
import { ErrorSummary, clearFields, markField } from '../errors.js';
import { currentUser, homeFor } from '../session.js';

// Pages a sign-in may return to (index.html#next=clinic.html), for the roles that use them.
const RETURN_TO = {
  'clinic.html': ['clinician', 'provider_admin'],
  'pulse.html': ['clinician'],
  'measure.html': ['employee'],
  'me.html': ['employee'],
};

function destination(role) {
  const next = new URLSearchParams(window.location.hash.slice(1)).get('next');
  return RETURN_TO[next]?.includes(role) ? next : homeFor(role);
}

const form = byId('sign-in');
const summary = new ErrorSummary();
byId('errors').append(summary.el);

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

// Someone already signed in goes straight to their page.
currentUser()
  .then((user) => {
    if (user) window.location.replace(destination(user.role));
  })
  .catch(() => {});
