// The conversation between the referrer and occupational health about one referral.

import { ApiError, get, post } from './api.js';
import { formatDateTime, h, replace } from './dom.js';
import { clearFields, markField } from './errors.js';
import { ROLE, label } from './labels.js';
import { announce } from './session.js';

function thread(comments) {
  if (!comments.length) return h('p', { class: 'muted' }, 'No comments yet.');
  return h(
    'ol',
    { class: 'comments' },
    comments.map((c) =>
      h(
        'li',
        { class: 'comment' },
        h(
          'p',
          { class: 'comment__meta' },
          h('strong', {}, c.author_name || label(ROLE, c.author_role)),
          ` (${label(ROLE, c.author_role)}), `,
          h('time', { datetime: c.created_at }, formatDateTime(c.created_at)),
        ),
        h('p', { class: 'comment__body' }, c.body),
      ),
    ),
  );
}

/** A "Comments" section for a referral; `level` is its heading level. Drafts have no thread yet. */
export function commentsPanel(referral, { level = 2 } = {}) {
  const headingId = `comments-${referral.id}`;
  const section = h(
    'section',
    { class: 'panel', 'aria-labelledby': headingId },
    h(`h${level}`, { id: headingId }, 'Comments'),
  );
  if (referral.status === 'DRAFT') {
    section.append(h('p', { class: 'muted' }, 'Comments open once the referral is submitted.'));
    return section;
  }
  const list = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading comments…'));
  const textId = `comment-body-${referral.id}`;
  const text = h('textarea', { id: textId, rows: 3, maxlength: 5000 });
  const field = h(
    'div',
    { class: 'field', dataset: { fieldId: textId } },
    h('label', { for: textId }, 'Add a comment'),
    text,
  );
  const button = h('button', { type: 'submit', class: 'button button--secondary' }, 'Post comment');
  const form = h('form', { class: 'comment-form', novalidate: true }, field, button);
  section.append(list, form);

  get(`/api/v1/referrals/${referral.id}/comments`)
    .then((comments) => replace(list, thread(comments)))
    .catch((error) =>
      replace(list, h('p', { class: 'muted' }, error.detail || 'Comments could not be loaded.')),
    );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFields(form);
    if (!text.value.trim()) {
      markField(field, 'Write a comment first');
      text.focus();
      return;
    }
    button.disabled = true;
    try {
      replace(
        list,
        thread(await post(`/api/v1/referrals/${referral.id}/comments`, { body: text.value.trim() })),
      );
      text.value = '';
      announce('Comment posted.');
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      markField(field, error.errors[0]?.message || error.detail);
      text.focus();
    } finally {
      button.disabled = false;
    }
  });
  return section;
}
