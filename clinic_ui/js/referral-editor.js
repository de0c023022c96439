// The new-referral form: one section at a time, a progress list over the sections, Save as draft
// (POST the first time, then PUT) and Submit (PUT then POST …/submit). Server field errors are
// mapped back onto the inputs and listed in an error summary.

import { ApiError, post, put } from './api.js';
import { attachmentList, loadAttachments, uploadForm } from './attachments.js';
import { focusOn, formatDateTime, h, replace } from './dom.js';
import { ErrorSummary, clearFields, friendly, markField, sentence } from './errors.js';
import { KINDS, fieldId } from './form-fields.js';
import { SECTIONS, getPath, leafFields, sectionComplete, setPath } from './form-model.js';
import { referralView } from './referral-view.js';
import { announce } from './session.js';

const REFERRALS = '/api/v1/referrals';


export class ReferralEditor {
  /**
   * `user` is the signed-in referrer; `onCreated(referral)` runs after the first save;
   * `onSubmitted(result)` after a successful submission; `onSavedChanges(referral)` after saving a
   * referral that is no longer a draft (information requested).
   */
  constructor({ user, onCreated, onSubmitted, onSavedChanges }) {
    this.user = user;
    this.onCreated = onCreated;
    this.onSubmitted = onSubmitted;
    this.onSavedChanges = onSavedChanges;
    this.referral = null;
    this.files = [];
    this.step = 0;
    this.errorSections = new Set();
    this.summary = new ErrorSummary((field) => this.reveal(field));
    this.build();
  }

  get isDraft() {
    return !this.referral || this.referral.status === 'DRAFT';
  }

  build() {
    this.title = h('h1', { tabindex: '-1' }, 'New referral');
    this.saved = h('p', { class: 'saved' });
    this.steps = h('ol', { class: 'steps__list' });
    this.form = h('form', { class: 'editor__form', novalidate: true, 'aria-labelledby': 'editor-title' });
    this.title.id = 'editor-title';
    this.sections = SECTIONS.map((section, index) => this.buildSection(section, index));
    this.form.append(...this.sections);
    this.form.addEventListener('submit', (event) => event.preventDefault());
    this.form.addEventListener('input', () => this.updateProgress());
    this.form.addEventListener('change', () => this.updateProgress());
    this.el = h(
      'div',
      { class: 'editor' },
      this.title,
      this.summary.el,
      h(
        'div',
        { class: 'editor__layout' },
        h('nav', { class: 'steps', 'aria-label': 'Referral sections' }, this.steps),
        h('div', { class: 'editor__main' }, this.form, this.saved),
      ),
    );
  }

  buildSection(section, index) {
    const headingId = `step-${section.id}-title`;
    const body = h('div', { class: 'section__body' });
    const el = h(
      'section',
      {
        class: 'step',
        id: `step-${section.id}`,
        'aria-labelledby': headingId,
        dataset: { section: section.id },
        hidden: true,
      },
      h(
        'h2',
        { id: headingId, tabindex: '-1' },
        h('span', { class: 'step__count' }, `Step ${index + 1} of ${SECTIONS.length}`),
        h('br'),
        section.title,
      ),
      section.intro ? h('p', { class: 'lead' }, section.intro) : null,
      body,
      this.buildNav(index),
    );
    const onChange = () => this.updateProgress();
    for (const field of section.fields) body.append(this.renderField(field, onChange));
    return el;
  }

  renderField(field, onChange) {
    if (field.kind === 'group') {
      const hintId = `${fieldId(field.path)}-hint`;
      return h(
        'fieldset',
        { class: 'group', 'aria-describedby': field.hint ? hintId : null },
        h('legend', {}, field.legend),
        field.hint ? h('p', { class: 'hint', id: hintId }, field.hint) : null,
        field.fields.map((inner) => this.renderField(inner, onChange)),
      );
    }
    return KINDS[field.kind].render(field, onChange);
  }

  buildNav(index) {
    const last = index === SECTIONS.length - 1;
    const buttons = [];
    if (index > 0) {
      buttons.push(
        h(
          'button',
          { type: 'button', class: 'button button--secondary', onclick: () => this.showStep(index - 1) },
          'Previous',
        ),
      );
    }
    buttons.push(
      h(
        'button',
        {
          type: 'button',
          class: 'button button--secondary',
          dataset: { action: 'save' },
          onclick: () => this.save(),
        },
        'Save as draft',
      ),
    );
    if (!last) {
      buttons.push(
        h(
          'button',
          {
            type: 'button',
            class: 'button',
            'aria-label': `Next: ${SECTIONS[index + 1].title}`,
            onclick: () => this.showStep(index + 1),
          },
          'Next',
        ),
      );
    } else {
      buttons.push(
        h(
          'button',
          { type: 'button', class: 'button', dataset: { action: 'submit' }, onclick: () => this.submit() },
          'Submit referral',
        ),
      );
    }
    return h('div', { class: 'actions' }, buttons);
  }

  /** Fill the form from a referral (or start a new one) and show the first section. */
  async load(referral) {
    this.referral = referral;
    const form = referral
      ? referral.form
      : { referrer: { name: this.user.full_name, email: this.user.email } };
    for (const section of SECTIONS) {
      for (const field of leafFields(section.fields)) this.write(field, getPath(form, field.path));
    }
    replace(
      this.title,
      referral ? `Referral for ${referral.employee_name || 'an employee'}` : 'New referral',
    );
    if (referral && !this.isDraft) {
      this.title.append(h('span', { class: 'tag' }, 'More information requested'));
      for (const button of this.form.querySelectorAll('[data-action="save"]'))
        replace(button, 'Save changes');
      for (const button of this.form.querySelectorAll('[data-action="submit"]')) button.hidden = true;
    }
    this.files = referral ? await loadAttachments(referral.id) : [];
    this.renderAttachments();
    this.showStep(0, { focus: false });
    // The title takes focus unless the person has already moved it within this view (a field, or
    // "Delete this draft" clicked while the attachments were loading).
    const view = this.el.parentElement;
    const active = document.activeElement;
    if (!(view && active && active !== document.body && view.contains(active))) focusOn(this.title);
  }

  write(field, value) {
    const el = this.form.querySelector(`[data-field="${field.path}"]`);
    KINDS[field.kind].write(el, field, value, () => this.updateProgress());
  }

  /** The form as JSON: empty inputs are left out (never sent as ""). */
  collect() {
    const form = {};
    for (const section of SECTIONS) {
      for (const field of leafFields(section.fields)) {
        const el = this.form.querySelector(`[data-field="${field.path}"]`);
        const value = KINDS[field.kind].read(el, field);
        if (value !== undefined) setPath(form, field.path, value);
      }
    }
    return form;
  }

  showStep(index, { focus = true } = {}) {
    this.step = index;
    this.sections.forEach((section, i) => {
      section.hidden = i !== index;
    });
    const section = SECTIONS[index];
    if (section.preview) this.renderPreview();
    this.updateProgress();
    if (focus) focusOn(this.sections[index].querySelector('h2'));
  }

  /** Show the section that holds `field` (used before focusing it from the error summary). */
  reveal(field) {
    const section = field?.closest('[data-section]');
    const index = this.sections.indexOf(section);
    if (index >= 0 && index !== this.step) this.showStep(index, { focus: false });
  }

  updateProgress() {
    const form = this.collect();
    const attachmentsComplete =
      Boolean(this.referral) &&
      (!(form.reason?.categories || []).includes('accident_at_work') ||
        this.files.some((f) => f.kind === 'accident_report'));
    replace(
      this.steps,
      SECTIONS.map((section, index) => {
        const complete = sectionComplete(section, form, { attachmentsComplete });
        const problem = this.errorSections.has(section.id);
        const state = problem ? 'problem' : complete ? 'complete' : 'todo';
        const marker = { problem: '!', complete: '✓', todo: String(index + 1) }[state];
        const words = { problem: 'has problems', complete: 'complete', todo: 'not complete' }[state];
        const current = index === this.step;
        return h(
          'li',
          { class: `steps__item steps__item--${state}` },
          h(
            'button',
            {
              type: 'button',
              class: 'steps__button',
              'aria-current': current ? 'step' : null,
              'aria-label': `${index + 1} ${section.title}${section.preview ? '' : `, ${words}`}`,
              onclick: () => this.showStep(index),
            },
            h('span', { class: 'steps__marker', 'aria-hidden': 'true' }, marker),
            ' ',
            h('span', { class: 'steps__title' }, section.title),
          ),
        );
      }),
    );
  }

  renderPreview() {
    const section = this.sections.find((s) => s.dataset.section === 'check');
    const body = section.querySelector('.section__body');
    replace(
      body,
      referralView(this.collect(), { level: 3, questions: this.referral?.standard_questions }),
      h('h3', {}, 'Files'),
      this.referral ? attachmentList(this.referral.id, this.files) : h('p', {}, 'No files.'),
    );
  }

  renderAttachments() {
    const section = this.sections.find((s) => s.dataset.section === 'attachments');
    const body = section.querySelector('.section__body');
    if (!this.referral) {
      replace(body, h('p', {}, 'Save the referral as a draft first; then you can add files here.'));
      return;
    }
    const list = h('div', {}, attachmentList(this.referral.id, this.files));
    const upload = uploadForm(this.referral.id, {
      onProblem: (problems, detail) => this.summary.show(problems, detail),
      onUploaded: (files) => {
        this.files = files;
        this.summary.hide();
        replace(list, attachmentList(this.referral.id, files));
        this.updateProgress();
      },
      announce,
    });
    replace(body, h('h3', {}, 'Attached files'), list, h('h3', {}, 'Add a file'), upload);
  }

  async save({ quiet = false } = {}) {
    this.clearErrors();
    const form = this.collect();
    const busy = this.busy();
    try {
      if (this.referral) {
        this.referral = await put(`${REFERRALS}/${this.referral.id}`, form);
      } else {
        this.referral = await post(REFERRALS, form);
        this.renderAttachments();
        this.onCreated(this.referral);
      }
    } catch (error) {
      this.showProblem(error);
      return false;
    } finally {
      busy();
    }
    const time = formatDateTime(this.referral.updated_at);
    replace(this.saved, this.isDraft ? `Draft saved (${time}).` : `Changes saved (${time}).`);
    if (!quiet) announce(this.isDraft ? 'Draft saved.' : 'Changes saved.');
    if (!this.isDraft && !quiet) this.onSavedChanges(this.referral);
    return true;
  }

  async submit() {
    if (!(await this.save({ quiet: true }))) return;
    const busy = this.busy();
    try {
      const result = await post(`${REFERRALS}/${this.referral.id}/submit`);
      this.onSubmitted(result);
    } catch (error) {
      this.showProblem(error);
    } finally {
      busy();
    }
  }

  /** Disable the form's buttons while a request is in flight; returns the undo function. */
  busy() {
    const buttons = [...this.el.querySelectorAll('button:not([disabled])')];
    for (const button of buttons) button.disabled = true;
    this.form.setAttribute('aria-busy', 'true');
    return () => {
      for (const button of buttons) button.disabled = false;
      this.form.removeAttribute('aria-busy');
    };
  }

  clearErrors() {
    clearFields(this.form);
    this.errorSections.clear();
    this.summary.hide();
  }

  /** Map an ApiError's field errors onto the inputs and show them in the summary. */
  showProblem(error) {
    if (!(error instanceof ApiError)) throw error;
    const problems = this.expand(error.errors).map((problem) => {
      const field = this.resolve(problem.field);
      if (!field) return { ...problem, label: '', field: null, control: null };
      const section = field.closest('[data-section]');
      if (section) this.errorSections.add(section.dataset.section);
      const key = field.dataset.field;
      const own = key === problem.field || problem.field.startsWith(`${key}.`);
      const sectionTitle = SECTIONS.find((s) => s.id === section?.dataset.section)?.title;
      const type =
        problem.type === 'missing' && field.matches('.field--checkbox') ? 'literal_error' : problem.type;
      return {
        ...problem,
        type,
        label: own ? field.dataset.label : sectionTitle || problem.field,
        field,
        control: field.querySelector('input, select, textarea, button') || field,
      };
    });
    for (const p of problems) if (p.field) markField(p.field, sentence(friendly(p)));
    const detail =
      error.status === 422 && problems.length ? 'Correct the following, then try again.' : error.detail;
    this.updateProgress();
    this.summary.show(problems, detail);
  }

  /**
   * A section left out entirely is reported by the API as one missing field; list each of its
   * required fields instead, so every one is linked from the summary.
   */
  expand(errors) {
    const form = this.collect();
    return errors.flatMap((problem) => {
      const section = SECTIONS.find((s) => s.id === problem.field);
      if (problem.type !== 'missing' || !section) return [problem];
      const needed = leafFields(section.fields)
        .filter((f) => f.required || (f.requiredWhen && f.requiredWhen(form)))
        .map((f) => ({ field: f.path, type: 'missing', message: 'Field required' }));
      if (needed.length) return needed;
      return [section.missing ? { ...problem, type: 'custom', message: section.missing } : problem];
    });
  }

  /** The field wrapper for an API error path, trying shorter paths and then the whole section. */
  resolve(path) {
    const parts = String(path || '').split('.');
    while (parts.length) {
      const key = parts.join('.');
      const field = this.form.querySelector(`[data-field="${CSS.escape(key)}"]`);
      if (field) return field;
      const section = this.form.querySelector(`[data-section="${CSS.escape(key)}"]`);
      if (section) return section.querySelector('.field') || null;
      parts.pop();
    }
    return null;
  }
}
