// Warn before the session ends (WCAG 2.2.1 Timing Adjustable): two minutes before, a dialog says
// when and offers to stay signed in (POST /api/v1/auth/session/extend) or to sign out. A session
// that cannot be extended any more (it ends at most `session_max_hours` after sign-in) gets the
// warning with a reminder to save instead. The status is read again now and then, so extending
// in another tab is noticed.

import { ApiError, get, post } from './api.js';
import { h, replace } from './dom.js';

const WARN_BEFORE_MS = 2 * 60 * 1000;
const RECHECK_MS = 30 * 60 * 1000; // read the status again at least this often
const DIALOG_ID = 'session-warning';

let timer = null;
let returnFocus = null;

function time(iso) {
  return new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
}

function close() {
  document.getElementById(DIALOG_ID)?.remove();
  if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
  returnFocus = null;
}

/** The sign-in page, asked to return to this page afterwards. */
function backHere() {
  const { pathname, search, hash } = window.location;
  return `/?next=${encodeURIComponent(pathname + search + hash)}`;
}

function ended() {
  const dialog = document.getElementById(DIALOG_ID);
  if (!dialog) return;
  replace(
    dialog,
    h('h2', { class: 'notice__title', id: `${DIALOG_ID}-title`, tabindex: '-1' }, 'Your session has ended'),
    h('p', { id: `${DIALOG_ID}-text` }, h('a', { href: backHere() }, 'Sign in again'), ' to carry on.'),
  );
  dialog.querySelector('h2').focus();
}

function show(status) {
  document.getElementById(DIALOG_ID)?.remove();
  returnFocus = document.activeElement;
  const at = time(status.expires_at);
  const stay = h('button', { type: 'button', class: 'button' }, 'Stay signed in');
  const leave = h('button', { type: 'button', class: 'button button--secondary' }, 'Sign out now');
  const dismiss = h('button', { type: 'button', class: 'button' }, 'I understand');
  const text = status.can_extend
    ? `For your security you will be signed out at ${at}. Anything you have not saved will be lost.`
    : `You will be signed out at ${at} and cannot stay signed in longer. Save your work now, then sign in again.`;
  const dialog = h(
    'div',
    {
      id: DIALOG_ID,
      class: 'notice notice--warning session-warning',
      role: 'alertdialog',
      'aria-labelledby': `${DIALOG_ID}-title`,
      'aria-describedby': `${DIALOG_ID}-text`,
    },
    h('h2', { class: 'notice__title', id: `${DIALOG_ID}-title` }, 'Your session is about to end'),
    h('p', { id: `${DIALOG_ID}-text` }, text),
    h('div', { class: 'button-row' }, status.can_extend ? [stay, leave] : [dismiss]),
  );
  stay.addEventListener('click', async () => {
    stay.disabled = true;
    try {
      const renewed = await post('/api/v1/auth/session/extend');
      close();
      announceRenewed(renewed);
      schedule(renewed);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 401) ended();
      else stay.disabled = false;
    }
  });
  leave.addEventListener('click', () => document.getElementById('sign-out')?.click());
  dismiss.addEventListener('click', close);
  const main = document.getElementById('main') || document.body;
  main.prepend(dialog);
  (status.can_extend ? stay : dismiss).focus();
  window.clearTimeout(timer);
  timer = window.setTimeout(ended, Math.max(0, Date.parse(status.expires_at) - Date.now()));
}

function announceRenewed(status) {
  const region = document.getElementById('status');
  if (region) replace(region, `You will stay signed in until ${time(status.expires_at)}.`);
}

function schedule(status) {
  window.clearTimeout(timer);
  const warnIn = Date.parse(status.expires_at) - WARN_BEFORE_MS - Date.now();
  if (warnIn <= 0) {
    show(status);
    return;
  }
  timer = window.setTimeout(check, Math.min(warnIn, RECHECK_MS));
}

async function check() {
  let status;
  try {
    status = await get('/api/v1/auth/session');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      ended();
      return;
    }
    timer = window.setTimeout(check, 60 * 1000); // offline or a server hiccup: try again soon
    return;
  }
  if (!document.getElementById(DIALOG_ID)) schedule(status);
}

let started = false;

/** Start watching the signed-in session (once per page). */
export function watchSession() {
  if (started) return;
  started = true;
  check();
}
