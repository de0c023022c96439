// One list component for every list page: a search box and filters, sortable column headers, a
// pager ("Showing 21–40 of 134") and an empty state, over an API list built with the list kit
// (limit, offset, sort, q and the endpoint's own filters; the answer is {items, total, limit, offset}).
//
// The list's state lives in the page address (after #: q, the filters, sort, page), so back and
// forward work and a list can be bookmarked. Pager and sort headers are plain links; the filter
// form sets the address. The page re-renders on `hashchange` and calls listView again.
//
//   const list = await listView({
//     id: 'referrals', endpoint: '/api/v1/referrals', caption: 'Your referrals',
//     state: new URLSearchParams(location.hash.slice(1)), defaults: { sort: '-updated' },
//     search: 'Search by employee name or payroll number',
//     filters: [{ name: 'status', label: 'Status', kind: 'select', options: [['', 'All'], ...] }],
//     columns: [{ title: 'Employee', sort: null, row: true, cell: (item) => ... }],
//     empty: 'You have not made any referrals yet.',
//   });
//   replace(view, heading, list.el);  return list.focus || heading;

import { ApiError, get } from './api.js';
import { h, hidden } from './dom.js';

const PAGE_SIZE = 20;
export const ANY = '*'; // a filter option meaning "any value" (for filters whose default is a value)
const LIST_KEYS = ['q', 'sort', 'page'];
let pendingFocus = null; // the id of the list whose own controls changed the address

function pageNumber(state) {
  const page = Number.parseInt(state.get('page') || '1', 10);
  return Number.isFinite(page) && page > 0 && page < 50_000 ? page : 1;
}

/** The address for this list with some of its state changed (other keys of the address are kept). */
function addressWith(state, changes) {
  const next = new URLSearchParams(state);
  for (const [key, value] of Object.entries(changes)) {
    next.delete(key);
    for (const one of [value].flat()) if (one !== '' && one !== null && one !== undefined) next.append(key, one);
  }
  return `#${next}`;
}

function apiQuery(config, state) {
  const query = new URLSearchParams(config.fixed || {});
  const sort = state.get('sort') || config.defaults?.sort;
  if (sort) query.set('sort', sort);
  query.set('limit', String(PAGE_SIZE));
  query.set('offset', String((pageNumber(state) - 1) * PAGE_SIZE));
  if (state.get('q')) query.set('q', state.get('q'));
  for (const filter of config.filters || []) {
    const value = state.get(filter.name) || filter.default || '';
    const apiName = filter.api || filter.name;
    if (filter.kind === 'checkbox') {
      if (value === 'true') query.set(apiName, 'true');
    } else {
      for (const one of value.split(',')) if (one && one !== ANY) query.append(apiName, one);
    }
  }
  return query;
}

function control(config, filter, state) {
  const id = `${config.id}-${filter.name}`;
  const value = state.get(filter.name) ?? filter.default ?? '';
  if (filter.kind === 'checkbox') {
    return h(
      'div',
      { class: 'field field--inline-check' },
      h('input', { type: 'checkbox', id, name: filter.name, value: 'true', checked: value === 'true' }),
      h('label', { for: id }, filter.label),
    );
  }
  const input =
    filter.kind === 'select'
      ? h(
          'select',
          { id, name: filter.name },
          filter.options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
        )
      : h('input', { type: filter.kind || 'text', id, name: filter.name, value, autocomplete: 'off' });
  return h('div', { class: 'field' }, h('label', { for: id }, filter.label), input);
}

function filterForm(config, state) {
  const search = config.search
    ? control(config, { name: 'q', label: config.search, kind: 'search' }, state)
    : null;
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': `Search and filter: ${config.caption}` },
    search,
    (config.filters || []).map((filter) => control(config, filter, state)),
    h('button', { type: 'submit', class: 'button button--secondary' }, 'Show'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const changes = { page: '' };
    for (const name of ['q', ...(config.filters || []).map((f) => f.name)]) {
      changes[name] = (data.get(name) || '').toString().trim();
    }
    pendingFocus = config.id;
    window.location.hash = addressWith(state, changes).slice(1);
  });
  return form;
}

function headerCell(config, column, state) {
  if (!column.sort) return h('th', { scope: 'col' }, column.title);
  const current = state.get('sort') || config.defaults?.sort || '';
  const active = current.replace(/^-/, '') === column.sort;
  const descending = active && current.startsWith('-');
  // First click: the column's natural order; again: the other way.
  const next = active ? (descending ? column.sort : `-${column.sort}`) : column.first || column.sort;
  const direction = active ? (descending ? 'descending' : 'ascending') : 'none';
  return h(
    'th',
    { scope: 'col', 'aria-sort': direction },
    h(
      'a',
      { class: 'sort-link', href: addressWith(state, { sort: next, page: '' }), dataset: { list: config.id } },
      column.title,
      hidden(active ? `, sorted ${direction}; select to reverse` : ', select to sort'),
      active ? h('span', { 'aria-hidden': 'true' }, descending ? ' ▼' : ' ▲') : null,
    ),
  );
}

function pager(config, state, page) {
  const number = pageNumber(state);
  const first = page.total ? page.offset + 1 : 0;
  const last = page.offset + page.items.length;
  const summary = h(
    'p',
    { class: 'pager__summary', id: `${config.id}-summary`, tabindex: '-1' },
    page.total ? `Showing ${first}–${last} of ${page.total}` : 'Showing 0 of 0',
  );
  const links = [];
  if (number > 1) {
    const previous = addressWith(state, { page: number > 2 ? String(number - 1) : '' });
    links.push(h('a', { href: previous, rel: 'prev' }, 'Previous page'));
  }
  if (last < page.total) {
    links.push(h('a', { href: addressWith(state, { page: String(number + 1) }), rel: 'next' }, 'Next page'));
  }
  for (const link of links) link.dataset.list = config.id;
  return {
    summary,
    nav: links.length
      ? h(
          'nav',
          { class: 'pager', 'aria-label': `Pages of ${config.caption}` },
          h(
            'ul',
            {},
            links.map((a) => h('li', {}, a)),
          ),
        )
      : null,
  };
}

function isFiltered(config, state) {
  return ['q', ...(config.filters || []).map((f) => f.name)].some(
    (name) => (state.get(name) || '') !== ((config.filters || []).find((f) => f.name === name)?.default || ''),
  );
}

function table(config, state, page) {
  const captionId = `${config.id}-caption`;
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-labelledby': captionId, tabindex: '0' },
    h(
      'table',
      { class: 'table' },
      h(
        'caption',
        { id: captionId },
        config.caption,
        config.captionNote ? h('span', { class: 'muted' }, ` – ${config.captionNote}`) : null,
      ),
      h('thead', {}, h('tr', {}, config.columns.map((column) => headerCell(config, column, state)))),
      h(
        'tbody',
        {},
        page.items.map((item) =>
          h(
            'tr',
            {},
            config.columns.map((column) =>
              h(column.row ? 'th' : 'td', column.row ? { scope: 'row' } : {}, column.cell(item)),
            ),
          ),
        ),
      ),
    ),
  );
}

function clearLink(config, state) {
  const names = [...LIST_KEYS.filter((k) => k !== 'sort'), ...(config.filters || []).map((f) => f.name)];
  return h('a', { href: addressWith(state, Object.fromEntries(names.map((k) => [k, '']))) }, 'Clear the filters');
}

function refused(config, state, form, error) {
  const problem = h(
    'div',
    { class: 'notice notice--warning', role: 'alert', id: `${config.id}-summary`, tabindex: '-1' },
    h('p', {}, `These filters cannot be used. ${error.detail}`),
    h('p', {}, clearLink(config, state)),
  );
  return { el: h('div', { class: 'list' }, form, problem), focus: takeFocus(config, problem), page: null };
}

/** Fetch and draw one list for the current address; resolves to {el, focus, page}. */
export async function listView(config) {
  const state = config.state;
  const form = filterForm(config, state);
  let page;
  try {
    page = await get(`${config.endpoint}?${apiQuery(config, state)}`);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 422) throw error;
    return refused(config, state, form, error);
  }
  const { summary, nav } = pager(config, state, page);
  let body;
  if (page.items.length) {
    body = [table(config, state, page), nav];
  } else if (isFiltered(config, state) || pageNumber(state) > 1) {
    body = h('p', { class: 'empty' }, config.emptyFiltered || 'Nothing matches these filters. ', clearLink(config, state));
  } else {
    body = h('p', { class: 'empty' }, config.empty);
  }
  const el = h('div', { class: 'list', id: `${config.id}-list` }, form, summary, body);
  el.addEventListener('click', (event) => {
    const link = event.target.closest('a[data-list]');
    if (link) pendingFocus = link.dataset.list;
  });
  return { el, focus: takeFocus(config, summary), page };
}

function takeFocus(config, el) {
  if (pendingFocus !== config.id) return null;
  pendingFocus = null;
  return el;
}
