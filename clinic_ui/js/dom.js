// Small DOM helpers. Text is always set as text (never parsed as HTML), so data cannot inject markup.

/**
 * Build an element: h('p', {class: 'hint', id: 'x'}, 'text', child).
 * Attribute values of `true` set an empty attribute; `false`, null and undefined are skipped.
 * Keys starting with "on" attach event listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const byId = (id) => document.getElementById(id);

/** Move keyboard focus to an element that is not normally focusable (a heading or panel). */
export function focusOn(el) {
  if (!el) return;
  if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
  el.focus();
}

/** Text that is read by screen readers but not shown. */
export const hidden = (text) => h('span', { class: 'visually-hidden' }, text);

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric' });
const DATE_TIME = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

const SHORT_DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });

/** "12 April 1985" from "1985-04-12" (a date without a time is read as a calendar date). */
export function formatDate(value, { short = false } = {}) {
  if (!value) return '';
  const [y, m, d] = String(value).slice(0, 10).split('-').map(Number);
  if (!y || !m || !d) return String(value);
  return (short ? SHORT_DATE : DATE).format(new Date(y, m - 1, d));
}

export function formatDateTime(value) {
  if (!value) return '';
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? String(value) : DATE_TIME.format(at);
}

/** Whole days since an ISO timestamp (0 for today). */
export function daysSince(value) {
  if (!value) return 0;
  return Math.max(0, Math.floor((Date.now() - new Date(value).getTime()) / 86_400_000));
}

export function todayIso() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/**
 * Wrap a page's render function so renders run one after another: an address change during a
 * slow render is drawn after it, never overwritten by it.
 */
export function serial(render) {
  let last = Promise.resolve();
  return () => {
    last = last.then(render, render);
    return last;
  };
}
