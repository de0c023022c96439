// Provider admin's page: messages that could not be delivered (e-mail or text), with the reason
// and a Resend button each. Message bodies are never shown here.

import { ApiError, get, post } from '../api.js';
import { byId, focusOn, formatDateTime, h, replace } from '../dom.js';
import { announce, requireUser } from '../session.js';

const view = byId('view');
const notice = byId('notice');
const PAGE = 50;
let offset = 0;

const CHANNEL = { email: 'E-mail', sms: 'Text message' };

function kindText(kind) {
  return kind.replaceAll('_', ' ').replace('.', ': ');
}

function resendButton(m) {
  const button = h('button', { type: 'button', class: 'button button--small' }, 'Resend', h('span', { class: 'visually-hidden' }, ` to ${m.recipient}: ${m.subject}`));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await post(`/api/v1/messages/${m.id}/resend`);
      showNotice(`Queued again: “${m.subject}” to ${m.recipient}. It is sent within a few seconds.`);
      await render();
    } catch (error) {
      button.disabled = false;
      showNotice(error instanceof ApiError ? error.detail : 'The message could not be queued again.', true);
    }
  });
  return button;
}

function showNotice(text, warning = false) {
  replace(notice, h('p', { class: `notice${warning ? ' notice--warning' : ''}`, tabindex: '-1' }, text));
  focusOn(notice.firstChild);
  announce(text);
}

function row(m) {
  return h(
    'tr',
    {},
    h('th', { scope: 'row' }, m.recipient, h('span', { class: 'sub' }, CHANNEL[m.channel] || m.channel)),
    h('td', {}, m.subject, h('span', { class: 'sub' }, kindText(m.kind))),
    h('td', {}, m.last_error || 'Not known'),
    h('td', {}, String(m.attempts), m.resend_count ? h('span', { class: 'sub' }, `resent ${m.resend_count}×`) : null),
    h('td', {}, formatDateTime(m.failed_at || m.created_at), h('span', { class: 'sub' }, `queued ${formatDateTime(m.created_at)}`)),
    h('td', {}, resendButton(m)),
  );
}

function pager(total) {
  const buttons = [];
  const go = (next) => { offset = Math.max(0, next); render(); };
  if (offset > 0) buttons.push(h('button', { type: 'button', class: 'button button--secondary button--small', onclick: () => go(offset - PAGE) }, 'Newer failures'));
  if (offset + PAGE < total) buttons.push(h('button', { type: 'button', class: 'button button--secondary button--small', onclick: () => go(offset + PAGE) }, 'Older failures'));
  return buttons.length ? h('p', {}, buttons) : null;
}

async function render() {
  const page = await get(`/api/v1/messages?status=failed&limit=${PAGE}&offset=${offset}`);
  if (!page.items.length && offset > 0) {
    offset = 0;
    return render();
  }
  const heading = h('h1', {}, 'Failed messages');
  const intro = h('p', {}, 'E-mails and text messages that could not be delivered, after retries. Correct the cause (for example a mistyped address on the referral, or the mail settings), then resend.');
  const table = page.items.length
    ? h(
        'div',
        { class: 'table-wrap', role: 'region', 'aria-labelledby': 'failed-caption', tabindex: '0' },
        h(
          'table',
          { class: 'table' },
          h('caption', { id: 'failed-caption' }, `Failed messages (${page.total})`),
          h('thead', {}, h('tr', {}, ['Recipient', 'Subject', 'Reason', 'Attempts', 'Failed', 'Action'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, page.items.map(row)),
        ),
      )
    : h('p', { id: 'no-failures' }, 'No failed messages: everything has been delivered or is still being tried.');
  replace(view, heading, intro, table, pager(page.total));
  return heading;
}

async function start() {
  const user = await requireUser(['provider_admin']);
  if (!user) return;
  try {
    focusOn(await render());
  } catch (error) {
    replace(view, h('p', { class: 'notice notice--warning', role: 'alert' }, error instanceof ApiError ? error.detail : 'The messages could not be loaded.'));
  }
}

start();
