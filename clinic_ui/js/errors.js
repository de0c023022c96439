// Error summary and field errors (the GOV.UK pattern): a focused, announced summary that links to
// each bad field; each field gets aria-invalid and an error message joined by aria-describedby.

import { h, replace } from './dom.js';

const ERROR_TITLE_PREFIX = 'Error: ';

/** Words for the API's validation types, where the server's own message is too technical. */
export function friendly(problem) {
  switch (problem.type) {
    case 'missing':
      return 'this is required';
    case 'literal_error':
      return 'tick to confirm';
    case 'too_short':
      return /item/.test(problem.message) ? 'choose at least one' : problem.message;
    default:
      return problem.message.replace(/^Value error, /, '');
  }
}

/** The text with its first letter in capitals. */
export const sentence = (text) => text.charAt(0).toUpperCase() + text.slice(1);

const fieldIn = (form, path) => form.querySelector(`[data-field="${CSS.escape(path)}"]`);

/**
 * Mark each problem's field in `form` (its `field` is the field's data-field path) and list them
 * all in `summary` under `detail`. A problem with no field in the form is listed in the server's
 * own words.
 */
export function showProblems(summary, form, problems, detail) {
  const items = problems.map((problem) => {
    const field = fieldIn(form, problem.field);
    if (!field) return { ...problem, type: 'server', label: '', field: null, control: null };
    markField(field, sentence(friendly(problem)));
    return { ...problem, label: field.dataset.label, field, control: field.querySelector('input, textarea, select') };
  });
  summary.show(items, detail);
}

/**
 * Show an API refusal on a form: `path` turns the API's field names into the form's paths. When
 * every problem is a field of this form, `prompt` heads the list; otherwise the server's detail
 * (e.g. "The report is not complete.") does.
 */
export function showApiError(summary, form, error, { path = (name) => name, prompt }) {
  const problems = error.errors.map((p) => ({ ...p, field: path(p.field) }));
  const inForm = problems.length > 0 && problems.every((p) => fieldIn(form, p.field));
  showProblems(summary, form, problems, error.status === 422 && inForm ? prompt : error.detail);
}

function describedBy(el) {
  return (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
}

function controlsOf(field) {
  return field.matches('input, select, textarea')
    ? [field]
    : [...field.querySelectorAll('input, select, textarea')];
}

/** Mark one field wrapper (a .field element) as invalid with a message. */
export function markField(field, message) {
  const controls = controlsOf(field);
  const describedEl = field.tagName === 'FIELDSET' ? field : controls[0];
  if (!describedEl) return;
  const id = `${field.dataset.fieldId || describedEl.id}-error`;
  let note = document.getElementById(id);
  if (!note) {
    note = h('p', { class: 'field-error', id });
    const head =
      field.querySelector(':scope > .hint') || field.querySelector(':scope > legend, :scope > label');
    if (head) head.after(note);
    else field.prepend(note);
  }
  replace(note, h('span', { class: 'visually-hidden' }, ERROR_TITLE_PREFIX), message);
  field.classList.add('field--error');
  for (const control of controls) control.setAttribute('aria-invalid', 'true');
  const ids = describedBy(describedEl);
  if (!ids.includes(id)) describedEl.setAttribute('aria-describedby', [id, ...ids].join(' '));
}

/** Remove every field error inside `root`. */
export function clearFields(root) {
  for (const note of root.querySelectorAll('.field-error')) {
    for (const el of root.querySelectorAll(`[aria-describedby~="${note.id}"]`)) {
      const rest = describedBy(el).filter((id) => id !== note.id);
      if (rest.length) el.setAttribute('aria-describedby', rest.join(' '));
      else el.removeAttribute('aria-describedby');
    }
    note.remove();
  }
  for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of root.querySelectorAll('.field--error')) el.classList.remove('field--error');
}

/**
 * An error summary box. `reveal(field)` is called before focusing a linked field, so a page can
 * first show the part of the form that holds it.
 */
export class ErrorSummary {
  constructor(reveal = () => {}) {
    this.reveal = reveal;
    this.heading = h(
      'h2',
      { class: 'error-summary__title', id: `error-summary-title-${Math.random().toString(36).slice(2, 8)}` },
      'There is a problem',
    );
    this.intro = h('p', {});
    this.list = h('ul', { class: 'error-summary__list' });
    this.el = h(
      'div',
      {
        class: 'error-summary',
        role: 'alert',
        tabindex: '-1',
        hidden: true,
        'aria-labelledby': this.heading.id,
      },
      this.heading,
      this.intro,
      this.list,
    );
  }

  /**
   * Show problems: [{label, message, type, field (a .field element or null), control (focus target)}].
   * `detail` is a sentence shown above the list.
   */
  show(problems, detail = '') {
    replace(this.intro, detail);
    this.intro.hidden = !detail;
    replace(
      this.list,
      problems.map((p) => h('li', {}, this.item(p))),
    );
    this.list.hidden = problems.length === 0;
    this.el.hidden = false;
    if (!document.title.startsWith(ERROR_TITLE_PREFIX)) document.title = ERROR_TITLE_PREFIX + document.title;
    this.el.focus();
  }

  item(problem) {
    const text = problem.label ? `${problem.label}: ${friendly(problem)}` : friendly(problem);
    if (!problem.control) return text;
    return h(
      'a',
      {
        href: `#${problem.control.id}`,
        onclick: (event) => {
          event.preventDefault();
          this.reveal(problem.field);
          problem.control.focus();
          problem.control.scrollIntoView({ block: 'center' });
        },
      },
      text,
    );
  }

  hide() {
    this.el.hidden = true;
    replace(this.list);
    if (document.title.startsWith(ERROR_TITLE_PREFIX))
      document.title = document.title.slice(ERROR_TITLE_PREFIX.length);
  }
}
