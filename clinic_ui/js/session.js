// The signed-in person: who they are, where their home page is, and the sign-out button.

import { get, post } from './api.js';
import { byId, replace } from './dom.js';
import { ROLE, label } from './labels.js';
import { showNav } from './nav.js';
import { watchSession } from './session-timeout.js';

const HOME = {
  manager: 'referrals.html',
  client_admin: 'referrals.html',
  clinician: 'triage.html',
  provider_admin: 'triage.html',
  employee: 'me.html',
};

export function homeFor(role) {
  return HOME[role] || 'index.html';
}

/**
 * The current user, or null when not signed in (other errors are thrown). Asks
 * /api/v1/auth/status, which answers 200 either way, so pages open to everyone log no error.
 */
export async function currentUser() {
  const state = await get('/api/v1/auth/status');
  return state.signed_in ? state.user : null;
}

/**
 * A path of this site to return to after signing in (`/referrals.html#referral=…`), or null for
 * anything else: other sites, protocol-relative or backslash tricks, the API.
 */
export function safeNext(value) {
  if (typeof value !== 'string' || !value.startsWith('/') || value.length > 500) return null;
  if (/^\/[\/\\]/.test(value) || /[\\\s]/.test(value) || /^\/(api|ws)\//.test(value)) return null;
  try {
    const url = new URL(value, window.location.origin);
    return url.origin === window.location.origin ? url.pathname + url.search + url.hash : null;
  } catch {
    return null;
  }
}

/** The sign-in page, asked to come back to this page (or `next`) afterwards. */
export function signInUrl(next = window.location.pathname + window.location.search + window.location.hash) {
  const back = safeNext(next);
  return back && back !== '/' && back !== '/index.html' ? `/?next=${encodeURIComponent(back)}` : '/';
}

/** Show the account bar (name, role and a working sign-out button) for `user`. */
export function showAccount(user) {
  const bar = byId('account');
  if (!bar) return;
  const name = user.full_name || user.email;
  replace(byId('account-name'), `${name} (${label(ROLE, user.role)})`);
  bar.hidden = false;
  showNav(user);
  watchSession();
  const button = byId('sign-out');
  if (button.dataset.wired) return;
  button.dataset.wired = 'true';
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await post('/api/v1/auth/logout');
    } catch {
      // Signed out already or the session has ended: either way go to the sign-in page.
    }
    window.location.assign('index.html');
  });
}

/**
 * Start a signed-in page: the user if their role may use it; otherwise send them to sign in or
 * to their own home page (and resolve to null).
 */
export async function requireUser(roles) {
  const user = await currentUser();
  if (!user) {
    window.location.replace(signInUrl());
    return null;
  }
  if (!roles.includes(user.role)) {
    window.location.replace(homeFor(user.role));
    return null;
  }
  showAccount(user);
  return user;
}

/** Put a short message in the page's polite live region (read out by screen readers). */
export function announce(message) {
  const region = byId('status');
  if (!region) return;
  replace(region, '');
  // A fresh text node after clearing makes repeated identical messages announce again.
  window.setTimeout(() => replace(region, message), 50);
}
