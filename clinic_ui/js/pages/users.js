// User administration: provider admins manage their provider's users and their client employers';
// client admins their own organisation's. Invite (an e-mailed link to choose a password), search,
// page through, change role, name or department, deactivate and reactivate.

import { ApiError, get, post, request } from '../api.js';
import { byId, focusOn, h, replace } from '../dom.js';
import { ErrorSummary, clearFields, markField } from '../errors.js';
import { ROLE, label } from '../labels.js';
import { announce, requireUser } from '../session.js';

const PAGE_SIZE = 25;
const view = byId('view');
const state = { q: '', role: '', active: 'true', offset: 0 };
let me = null;
let organisations = [];

function field(id, text, control, hint) {
  const hintId = hint ? `${id}-hint` : null;
  if (hint) control.setAttribute('aria-describedby', hintId);
  return h(
    'div',
    { class: 'field', 'data-field': id, 'data-field-id': id, 'data-label': text },
    h('label', { for: id }, text),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control,
  );
}

function roleOptions(roles, selected) {
  return roles.map((role) => h('option', { value: role, selected: role === selected }, label(ROLE, role)));
}

function notice(text) {
  replace(byId('notice'), h('div', { class: 'notice' }, h('p', {}, text)));
  announce(text); // read out once, by the page's live region
}

/** Show an API refusal on a form: field problems at their fields, anything else in the summary. */
function refusal(form, summary, error, fields) {
  const items = [];
  for (const problem of error.errors || []) {
    const name = fields[problem.field];
    const wrapper = name && form.querySelector(`[data-field="${name}"]`);
    if (!wrapper) continue;
    markField(wrapper, problem.message.replace(/^Value error, /, ''));
    const control = wrapper.querySelector('input, select');
    items.push({ label: wrapper.dataset.label, message: problem.message, type: 'custom', field: wrapper, control });
  }
  summary.show(items, error.detail);
}

function inviteForm() {
  const summary = new ErrorSummary();
  const org = h(
    'select',
    { id: 'invite-org' },
    organisations.map((o) => h('option', { value: o.id }, o.name)),
  );
  const role = h('select', { id: 'invite-role' });
  const fillRoles = () => {
    const chosen = organisations.find((o) => o.id === org.value) || organisations[0];
    replace(role, roleOptions(chosen?.roles || [], 'manager'));
  };
  org.addEventListener('change', fillRoles);
  fillRoles();
  const form = h(
    'form',
    { novalidate: true, 'aria-labelledby': 'invite-title' },
    summary.el,
    organisations.length > 1 ? field('invite-org', 'Organisation', org) : null,
    field('invite-role', 'Role', role),
    field('invite-name', 'Full name', h('input', { id: 'invite-name', type: 'text', autocomplete: 'off', maxlength: '200' })),
    field(
      'invite-email',
      'Email address',
      h('input', { id: 'invite-email', type: 'email', autocomplete: 'off', spellcheck: 'false', maxlength: '254' }),
      'We e-mail a link to this address to choose a password.',
    ),
    field('invite-department', 'Department (optional)', h('input', { id: 'invite-department', type: 'text', maxlength: '200' })),
    h('button', { type: 'submit', class: 'button' }, 'Send invitation'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    summary.hide();
    const body = {
      organisation_id: org.value || organisations[0]?.id,
      role: role.value,
      full_name: byId('invite-name').value.trim(),
      email: byId('invite-email').value.trim(),
      department: byId('invite-department').value.trim() || null,
    };
    const missing = [];
    if (!body.full_name) missing.push(['invite-name', 'Enter their full name']);
    if (!body.email) missing.push(['invite-email', 'Enter an email address']);
    if (missing.length) {
      const items = missing.map(([id, message]) => {
        const wrapper = form.querySelector(`[data-field="${id}"]`);
        markField(wrapper, message);
        return { label: wrapper.dataset.label, message, type: 'custom', field: wrapper, control: byId(id) };
      });
      summary.show(items);
      return;
    }
    try {
      const created = await post('/api/v1/users', body);
      form.reset();
      fillRoles();
      notice(`Invitation sent to ${created.email}. They choose a password from the link in it.`);
      await showList();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      refusal(form, summary, error, { email: 'invite-email', full_name: 'invite-name', role: 'invite-role', department: 'invite-department' });
    }
  });
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'invite-title' },
    h('h2', { id: 'invite-title' }, 'Invite someone'),
    form,
  );
}

function searchForm() {
  const q = h('input', { id: 'search-q', type: 'search', value: state.q, maxlength: '200' });
  const roles = [...new Set(organisations.flatMap((o) => o.roles))];
  const role = h('select', { id: 'search-role' }, h('option', { value: '' }, 'All roles'), roleOptions(roles, state.role));
  const active = h(
    'select',
    { id: 'search-active' },
    [['true', 'Active'], ['false', 'Deactivated'], ['', 'Everyone']].map(([value, text]) =>
      h('option', { value, selected: value === state.active }, text),
    ),
  );
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Find people' },
    field('search-q', 'Name, e-mail or department', q),
    field('search-role', 'Role', role),
    field('search-active', 'Status', active),
    h('button', { type: 'submit', class: 'button button--secondary' }, 'Search'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    Object.assign(state, { q: q.value.trim(), role: role.value, active: active.value, offset: 0 });
    await showList();
  });
  return form;
}

function row(user) {
  const change = h('button', { type: 'button', class: 'button button--small button--secondary' }, 'Change', h('span', { class: 'visually-hidden' }, ` ${user.full_name || user.email}`));
  change.addEventListener('click', () => editPanel(user));
  const status = !user.active ? 'Deactivated' : user.has_password ? 'Active' : 'Invited';
  return h(
    'tr',
    {},
    h('th', { scope: 'row' }, user.full_name || user.email, h('div', { class: 'sub' }, user.email)),
    h('td', {}, user.organisation_name),
    h('td', {}, label(ROLE, user.role)),
    h('td', {}, user.department || ''),
    h('td', {}, status),
    h('td', {}, change),
  );
}

function pager(page) {
  const first = page.total ? page.offset + 1 : 0;
  const last = page.offset + page.items.length;
  const go = (offset) => async () => {
    state.offset = offset;
    await showList();
    focusOn(byId('people-title'));
  };
  const prev = h('button', { type: 'button', class: 'button button--secondary', disabled: page.offset === 0 }, 'Previous');
  const next = h('button', { type: 'button', class: 'button button--secondary', disabled: last >= page.total }, 'Next');
  prev.addEventListener('click', go(Math.max(0, page.offset - PAGE_SIZE)));
  next.addEventListener('click', go(page.offset + PAGE_SIZE));
  return h('nav', { class: 'actions', 'aria-label': 'Pages of people' }, prev, h('p', {}, `${first}–${last} of ${page.total}`), next);
}

async function showList() {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(state.offset) });
  if (state.q) query.set('q', state.q);
  if (state.role) query.set('role', state.role);
  if (state.active) query.set('active', state.active);
  const page = await get(`/api/v1/users?${query}`);
  const table = page.items.length
    ? h(
        'div',
        { class: 'table-wrap', role: 'region', 'aria-labelledby': 'people-caption', tabindex: '0' },
        h(
          'table',
          { class: 'table' },
          h('caption', { id: 'people-caption' }, `People (${page.total})`),
          h('thead', {}, h('tr', {}, ['Name', 'Organisation', 'Role', 'Department', 'Status', 'Action'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, page.items.map(row)),
        ),
      )
    : h('p', {}, 'Nobody matches this search.');
  replace(byId('people'), table, page.total > PAGE_SIZE ? pager(page) : null);
  replace(byId('edit'));
}

async function act(path, text) {
  try {
    await request('POST', path);
    notice(text);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    notice(error.detail);
  }
  await showList();
}

function editPanel(user) {
  const own = user.id === me.id;
  const org = organisations.find((o) => o.id === user.organisation_id);
  const summary = new ErrorSummary();
  const role = h('select', { id: 'edit-role', disabled: own }, roleOptions(org?.roles.includes(user.role) ? org.roles : [user.role], user.role));
  const form = h(
    'form',
    { novalidate: true, 'aria-labelledby': 'edit-title' },
    summary.el,
    field('edit-name', 'Full name', h('input', { id: 'edit-name', type: 'text', value: user.full_name, maxlength: '200' })),
    field('edit-role', 'Role', role, own ? 'You cannot change your own role.' : null),
    field('edit-department', 'Department', h('input', { id: 'edit-department', type: 'text', value: user.department || '', maxlength: '200' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button' }, 'Save changes')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    summary.hide();
    const body = { full_name: byId('edit-name').value.trim(), department: byId('edit-department').value.trim() };
    if (!own) body.role = role.value;
    try {
      const saved = await request('PATCH', `/api/v1/users/${user.id}`, body);
      notice(`Saved the changes to ${saved.full_name || saved.email}.`);
      await showList();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      refusal(form, summary, error, { full_name: 'edit-name', role: 'edit-role', department: 'edit-department' });
    }
  });
  const name = user.full_name || user.email;
  const more = [];
  if (!own && user.active) {
    const off = h('button', { type: 'button', class: 'button button--warning' }, `Deactivate ${name}`);
    off.addEventListener('click', () => act(`/api/v1/users/${user.id}/deactivate`, `${name} is deactivated and signed out everywhere.`));
    more.push(off);
  }
  if (!own && !user.active) {
    const on = h('button', { type: 'button', class: 'button button--secondary' }, `Reactivate ${name}`);
    on.addEventListener('click', () => act(`/api/v1/users/${user.id}/reactivate`, `${name} can sign in again.`));
    more.push(on);
  }
  if (user.active && !user.has_password) {
    const again = h('button', { type: 'button', class: 'button button--secondary' }, 'Send the invitation again');
    again.addEventListener('click', () => act(`/api/v1/users/${user.id}/invitation`, `A new invitation is on its way to ${user.email}.`));
    more.push(again);
  }
  const heading = h('h2', { id: 'edit-title', tabindex: '-1' }, `Change ${name}`);
  const cancel = h('button', { type: 'button', class: 'button button--link' }, 'Cancel');
  cancel.addEventListener('click', () => {
    replace(byId('edit'));
    focusOn(byId('people-title'));
  });
  replace(
    byId('edit'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'edit-title' },
      heading,
      h('p', { class: 'muted' }, `${user.email} – ${user.organisation_name}`),
      form,
      more.length ? h('div', { class: 'actions' }, more) : null,
      cancel,
    ),
  );
  focusOn(heading);
}

async function start() {
  me = await requireUser(['provider_admin', 'client_admin']);
  if (!me) return;
  organisations = await get('/api/v1/users/organisations');
  const heading = h('h1', {}, 'Users');
  replace(
    view,
    heading,
    h('p', { class: 'lead' }, me.role === 'provider_admin'
      ? 'People at your occupational health service and at the employers it serves.'
      : 'People at your organisation who use ohconnect.'),
    inviteForm(),
    h(
      'section',
      { 'aria-labelledby': 'people-title' },
      h('h2', { id: 'people-title', tabindex: '-1' }, 'People'),
      searchForm(),
      h('div', { id: 'people' }),
      h('div', { id: 'edit' }),
    ),
  );
  await showList();
}

start().catch((error) => {
  if (!(error instanceof ApiError)) throw error;
  replace(view, h('h1', {}, 'Something went wrong'), h('p', {}, error.detail));
});
