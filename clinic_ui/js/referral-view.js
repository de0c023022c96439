// A referral form shown read-only, section by section, from the same model as the editable form,
// so every section and every given answer appears (with the full text of each standard question).

import { formatDate, h } from './dom.js';
import { SECTIONS, getPath, isEmpty } from './form-model.js';
import { SAFETY_CRITICAL } from './labels.js';

function text(field, value, questions) {
  if (field.kind === 'date') return formatDate(value);
  if (field.kind === 'checkbox') return value === true ? 'Yes' : 'No';
  if (field.kind === 'radios' && field.boolean) return value ? 'Yes' : 'No';
  if (field.kind === 'select' || field.kind === 'radios') return field.options[value] || String(value);
  if (field.kind === 'number')
    return field.path.endsWith('contracted_hours') ? `${value} hours a week` : String(value);
  if (field.kind === 'checkboxes') {
    const options = field.path === 'questions.standard' ? { ...field.options, ...questions } : field.options;
    const items = value.map((code) =>
      h('li', {}, field.numbered ? `${code}. ${options[code] || code}` : options[code] || code),
    );
    return h(field.numbered ? 'ol' : 'ul', { class: field.numbered ? 'plain-list' : 'bullets' }, items);
  }
  if (field.kind === 'list')
    return h(
      'ol',
      { class: 'numbers' },
      value.map((item) => h('li', {}, item)),
    );
  if (field.kind === 'records') return recordsTable(field, value);
  return String(value);
}

function recordsTable(field, rows) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table' },
      h('caption', { class: 'visually-hidden' }, field.label),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          field.columns.map((c) => h('th', { scope: 'col' }, c.label)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((row) =>
          h(
            'tr',
            {},
            field.columns.map((c) =>
              h('td', {}, c.kind === 'date' ? formatDate(row[c.key]) : row[c.key] || '–'),
            ),
          ),
        ),
      ),
    ),
  );
}

function entries(fields, form, questions) {
  const out = [];
  for (const field of fields) {
    if (field.kind === 'group') {
      const group = getPath(form, field.path);
      if (!isEmpty(group)) out.push(...entries(field.fields, form, questions));
      continue;
    }
    const value = getPath(form, field.path);
    const required = field.required || (field.requiredWhen && field.requiredWhen(form));
    if (isEmpty(value) && !required) continue;
    const name = field.view || field.label.replace(/ \(optional\)$/, '');
    out.push(
      h(
        'div',
        { class: 'summary__row' },
        h('dt', {}, name),
        h(
          'dd',
          {},
          isEmpty(value) ? h('span', { class: 'muted' }, 'Not given') : text(field, value, questions),
          field.viewNote ? h('span', { class: 'sub muted' }, field.viewNote) : null,
        ),
      ),
    );
  }
  return out;
}

/**
 * Render `form` read-only. `level` is the heading level of each section title;
 * `questions` maps standard question numbers to their text (from the server when known).
 */
export function referralView(form, { level = 3, questions = {} } = {}) {
  const sections = SECTIONS.filter((s) => s.fields.length).map((section) => {
    const rows = entries(section.fields, form || {}, questions);
    return h(
      'section',
      { class: 'summary__section' },
      h(`h${level}`, {}, section.viewTitle || section.title),
      rows.length ? h('dl', { class: 'summary' }, rows) : h('p', { class: 'muted' }, 'Nothing given.'),
    );
  });
  return h('div', { class: 'referral-view' }, sections);
}

/** The safety-critical hazards ticked in a form (they raise triage priority). */
export function safetyCriticalHazards(form) {
  return (form?.role?.hazards || []).filter((code) => SAFETY_CRITICAL.has(code));
}
