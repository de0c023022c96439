// Demo mailbox (development and demo only): every message "sent", newest first, links clickable,
// calendar invitations downloadable. Bodies are plain text; links are made into anchors, never HTML.

import { get } from '../api.js';
import { byId, formatDateTime, h, replace } from '../dom.js';
import { announce } from '../session.js';

const view = byId('view');
const URL_PATTERN = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)])/g;
const PAGE = 50;
let offset = 0;

function linkified(text) {
  return text.split(URL_PATTERN).map((part, i) => (i % 2 === 1 ? h('a', { href: part }, part) : part));
}

function messageCard(m) {
  const channel = m.channel === 'sms' ? 'Text message' : 'E-mail';
  return h(
    'article',
    { class: 'card mailbox-message' },
    h('h2', { class: 'mailbox-message__subject' }, m.subject || channel),
    h(
      'dl',
      { class: 'mailbox-message__meta' },
      h('dt', {}, 'To'), h('dd', {}, m.recipient),
      h('dt', {}, 'Sent'), h('dd', {}, formatDateTime(m.sent_at || m.created_at), m.sent_at ? '' : ' (queued)'),
      h('dt', {}, 'Kind'), h('dd', {}, `${channel}, ${m.kind}`),
    ),
    h('p', { class: 'mailbox-message__body' }, linkified(m.body)),
    m.has_calendar
      ? h('p', {}, h('a', { href: `/api/v1/mailbox/${m.id}/invite.ics`, download: 'invite.ics' }, 'Download the calendar invitation (invite.ics)'))
      : null,
  );
}

function pager(total) {
  const buttons = [];
  if (offset > 0) buttons.push(h('button', { type: 'button', class: 'button button--small', onclick: () => go(offset - PAGE) }, 'Newer messages'));
  if (offset + PAGE < total) buttons.push(h('button', { type: 'button', class: 'button button--small', onclick: () => go(offset + PAGE) }, 'Older messages'));
  return buttons.length ? h('p', { class: 'mailbox-pager' }, buttons) : null;
}

async function render() {
  try {
    const page = await get(`/api/v1/mailbox?limit=${PAGE}&offset=${offset}`);
    if (!page.items.length) {
      replace(view, h('p', {}, 'No messages yet. Messages appear here as soon as the platform sends them.'));
    } else {
      replace(
        view,
        h('p', {}, `${page.total} message${page.total === 1 ? '' : 's'}; showing ${offset + 1} to ${offset + page.items.length}.`),
        page.items.map(messageCard),
        pager(page.total),
      );
    }
    announce(`${page.total} messages in the mailbox.`);
  } catch (error) {
    replace(view, h('p', { class: 'notice notice--warning', role: 'alert' }, error.message));
  }
}

function go(next) {
  offset = Math.max(0, next);
  render();
}

byId('refresh').addEventListener('click', () => go(0));
render();
