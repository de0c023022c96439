// Editable fields for the form model: render one field, read its value as JSON, write a value back.
// Every control is labelled; hints are joined with aria-describedby. Empty inputs read as undefined.

import { h, replace } from './dom.js';
import { isEmpty } from './form-model.js';

export const fieldId = (path) => `f-${path.replaceAll('.', '-')}`;

const INPUT_TYPES = { text: 'text', email: 'email', tel: 'tel', date: 'date', number: 'number' };

function hintFor(id, text) {
  return text ? h('p', { class: 'hint', id: `${id}-hint` }, text) : null;
}

function wrapper(field, tag, ...children) {
  return h(
    tag,
    {
      class: `field field--${field.kind}`,
      dataset: { field: field.path, fieldId: fieldId(field.path), label: field.label || field.legend || '' },
    },
    ...children,
  );
}

function controlAttrs(field, id) {
  const attrs = {
    id,
    name: field.path,
    dataset: { path: field.path },
    'aria-describedby': field.hint ? `${id}-hint` : null,
    'aria-required': field.required ? 'true' : null,
  };
  if (field.kind === 'email') Object.assign(attrs, { spellcheck: 'false', autocapitalize: 'off' });
  if (field.kind === 'number') Object.assign(attrs, { inputmode: 'decimal', step: 'any', min: '0' });
  attrs.autocomplete = field.autocomplete || 'off';
  return attrs;
}

function textValue(control) {
  const value = control.value.trim();
  return value === '' ? undefined : value;
}

const single = {
  render(field) {
    const id = fieldId(field.path);
    const attrs = controlAttrs(field, id);
    let control;
    if (field.kind === 'textarea') {
      control = h('textarea', { ...attrs, rows: field.rows || 3 });
    } else if (field.kind === 'select') {
      control = h(
        'select',
        attrs,
        h('option', { value: '' }, 'Choose…'),
        Object.entries(field.options).map(([value, text]) => h('option', { value }, text)),
      );
    } else {
      control = h('input', { ...attrs, type: INPUT_TYPES[field.kind] || 'text' });
    }
    return wrapper(field, 'div', h('label', { for: id }, field.label), hintFor(id, field.hint), control);
  },
  read(el, field) {
    const control = el.querySelector('[data-path]');
    const value = textValue(control);
    if (field.kind === 'number' && value !== undefined) {
      const number = Number(value);
      return Number.isFinite(number) ? number : value;
    }
    return value;
  },
  write(el, field, value) {
    el.querySelector('[data-path]').value = value === undefined || value === null ? '' : String(value);
  },
};

function choiceList(field, type) {
  const id = fieldId(field.path);
  const choices = Object.entries(field.options).map(([value, text]) => {
    const choiceId = `${id}-${value === '' ? 'none' : value}`;
    const words = field.numbered ? `${value}. ${text}` : text;
    return h(
      'div',
      { class: 'choice' },
      h('input', { type, id: choiceId, name: id, value, dataset: { path: field.path } }),
      h('label', { for: choiceId }, words),
    );
  });
  return wrapper(
    field,
    'fieldset',
    h('legend', {}, field.label),
    hintFor(id, field.hint),
    h('div', { class: type === 'radio' ? 'choices choices--radio' : 'choices' }, choices),
  );
}

const radios = {
  render(field) {
    const el = choiceList(field, 'radio');
    if (field.hint) el.setAttribute('aria-describedby', `${fieldId(field.path)}-hint`);
    if (field.initial !== undefined) radios.write(el, field, field.initial);
    return el;
  },
  read(el, field) {
    const checked = el.querySelector('input:checked');
    if (!checked || checked.value === '') return undefined;
    return field.boolean ? checked.value === 'true' : checked.value;
  },
  write(el, field, value) {
    const wanted = value === undefined || value === null ? String(field.initial ?? '') : String(value);
    for (const input of el.querySelectorAll('input')) input.checked = input.value === wanted;
  },
};

const checkboxes = {
  render(field) {
    const el = choiceList(field, 'checkbox');
    if (field.hint) el.setAttribute('aria-describedby', `${fieldId(field.path)}-hint`);
    return el;
  },
  read(el, field) {
    const values = [...el.querySelectorAll('input:checked')].map((i) =>
      field.numeric ? Number(i.value) : i.value,
    );
    return values.length ? values : undefined;
  },
  write(el, _field, value) {
    const wanted = new Set((value || []).map(String));
    for (const input of el.querySelectorAll('input')) input.checked = wanted.has(input.value);
  },
};

const checkbox = {
  render(field) {
    const id = fieldId(field.path);
    return wrapper(
      field,
      'div',
      h(
        'div',
        { class: 'choice' },
        h('input', {
          type: 'checkbox',
          id,
          name: field.path,
          value: 'true',
          dataset: { path: field.path },
          'aria-describedby': field.hint ? `${id}-hint` : null,
        }),
        h('label', { for: id }, field.label),
      ),
      hintFor(id, field.hint),
    );
  },
  read(el) {
    return el.querySelector('input').checked ? true : undefined;
  },
  write(el, _field, value) {
    el.querySelector('input').checked = value === true;
  },
};

export const KINDS = {
  text: single,
  email: single,
  tel: single,
  date: single,
  number: single,
  textarea: single,
  select: single,
  radios,
  checkboxes,
  checkbox,
};

/** Repeatable rows (the absence record): each row is a small group of labelled inputs. */
export const records = {
  render(field, onChange) {
    const id = fieldId(field.path);
    const rows = h('div', { class: 'records__rows' });
    const add = h(
      'button',
      { type: 'button', class: 'button button--secondary' },
      `Add ${field.rowLabel.toLowerCase()}`,
    );
    const el = wrapper(field, 'fieldset', h('legend', {}, field.label), hintFor(id, field.hint), rows, add);
    el.classList.add('records');
    if (field.hint) el.setAttribute('aria-describedby', `${id}-hint`);
    add.addEventListener('click', () => {
      const values = records.read(el, field, { keepBlank: true }) || [];
      records.write(el, field, [...values, {}], onChange);
      rows.lastElementChild?.querySelector('input')?.focus();
      onChange();
    });
    return el;
  },
  read(el, field, { keepBlank = false } = {}) {
    const values = [...el.querySelectorAll('.records__row')].map((row) => {
      const item = {};
      for (const column of field.columns) {
        const value = textValue(row.querySelector(`[data-column="${column.key}"]`));
        if (value !== undefined) item[column.key] = value;
      }
      return item;
    });
    const kept = keepBlank ? values : values.filter((item) => !isEmpty(item));
    return kept.length ? kept : undefined;
  },
  write(el, field, value, onChange = () => {}) {
    const rows = el.querySelector('.records__rows');
    replace(
      rows,
      (value || []).map((item, index) => recordRow(el, field, item, index, onChange)),
    );
  },
};

function recordRow(el, field, item, index, onChange) {
  const rowName = `${field.rowLabel} ${index + 1}`;
  const cells = field.columns.map((column) => {
    const path = `${field.path}.${index}.${column.key}`;
    const id = fieldId(path);
    const text = column.required ? column.label : `${column.label} (optional)`;
    return h(
      'div',
      { class: 'field', dataset: { field: path, fieldId: id, label: `${rowName}: ${column.label}` } },
      h('label', { for: id }, text),
      h('input', {
        id,
        type: INPUT_TYPES[column.kind],
        autocomplete: 'off',
        dataset: { column: column.key },
        value: item[column.key] ?? '',
      }),
    );
  });
  const remove = h(
    'button',
    { type: 'button', class: 'button button--link' },
    'Remove',
    h('span', { class: 'visually-hidden' }, ` ${rowName.toLowerCase()}`),
  );
  remove.addEventListener('click', () => {
    const values = records.read(el, field, { keepBlank: true }) || [];
    values.splice(index, 1);
    records.write(el, field, values, onChange);
    const rows = el.querySelectorAll('.records__row');
    (
      rows[Math.min(index, rows.length - 1)]?.querySelector('input') || el.querySelector(':scope > button')
    ).focus();
    onChange();
  });
  return h(
    'fieldset',
    { class: 'records__row' },
    h('legend', {}, rowName),
    h('div', { class: 'records__cells' }, cells),
    remove,
  );
}

/** A list of free-text items (the additional questions), at most `field.max`. */
export const list = {
  render(field, onChange) {
    const id = fieldId(field.path);
    const items = h('ol', { class: 'list__items' });
    const add = h('button', { type: 'button', class: 'button button--secondary' }, 'Add a question');
    const el = wrapper(field, 'fieldset', h('legend', {}, field.label), hintFor(id, field.hint), items, add);
    if (field.hint) el.setAttribute('aria-describedby', `${id}-hint`);
    add.addEventListener('click', () => {
      const values = list.read(el, field, { keepBlank: true }) || [];
      list.write(el, field, [...values, ''], onChange);
      items.lastElementChild?.querySelector('textarea')?.focus();
      onChange();
    });
    return el;
  },
  read(el, _field, { keepBlank = false } = {}) {
    const values = [...el.querySelectorAll('.list__items textarea')].map((t) =>
      keepBlank ? t.value : t.value.trim(),
    );
    const kept = keepBlank ? values : values.filter(Boolean);
    return kept.length ? kept : undefined;
  },
  write(el, field, value, onChange = () => {}) {
    const items = el.querySelector('.list__items');
    replace(
      items,
      (value || []).map((text, index) => listItem(el, field, text, index, onChange)),
    );
    el.querySelector(':scope > button').disabled = (value || []).length >= field.max;
  },
};

function listItem(el, field, text, index, onChange) {
  const path = `${field.path}.${index}`;
  const id = fieldId(path);
  const name = `${field.itemLabel} ${index + 1}`;
  const area = h('textarea', { id, rows: 2, maxlength: 1000 });
  area.value = text;
  const remove = h(
    'button',
    { type: 'button', class: 'button button--link' },
    'Remove',
    h('span', { class: 'visually-hidden' }, ` ${name.toLowerCase()}`),
  );
  remove.addEventListener('click', () => {
    const values = list.read(el, field, { keepBlank: true }) || [];
    values.splice(index, 1);
    list.write(el, field, values, onChange);
    const areas = el.querySelectorAll('.list__items textarea');
    (areas[Math.min(index, areas.length - 1)] || el.querySelector(':scope > button')).focus();
    onChange();
  });
  return h(
    'li',
    { class: 'field', dataset: { field: path, fieldId: id, label: name } },
    h('label', { for: id }, name),
    area,
    remove,
  );
}

KINDS.records = records;
KINDS.list = list;
