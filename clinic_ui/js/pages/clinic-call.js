// The nurse's side of a call: the video, both sides' connection quality, recording consent to the
// assessment, hold, inviting an interpreter or companion, ending; and the referral and the
// employee's live pulse measurement (when one is in progress) alongside.

import { RELEASE_CHOICE } from '../actions.js';
import { ApiError, get, post } from '../api.js';
import { CallView } from '../call-view.js';
import { focusOn, h, replace } from '../dom.js';
import { livePanel } from '../pulse-live.js';
import { referralView } from '../referral-view.js';
import { announce } from '../session.js';

const LEVEL = { good: 'Good', fair: 'Fair', poor: 'Poor' };

export class CallPanel {
  constructor(socket, clinic) {
    this.socket = socket;
    this.clinic = clinic;
    this.appointment = null;
    this.referralId = null;
    this.view = new CallView({ heading: 'Call', level: 2 });
    this.theirs = h('p', { class: 'muted', id: 'their-quality' });
    this.consent = h('button', { type: 'button', class: 'button', onclick: () => this.startAssessment() },
      'Employee consents: start assessment');
    this.hold = h('button', { type: 'button', class: 'button button--secondary', onclick: () => this.holdAll() },
      'Put on hold');
    this.end = h('button', { type: 'button', class: 'button button--warning', onclick: () => this.askToEnd() },
      'End consultation');
    this.endQuestion = h('p', { tabindex: '-1' }, 'End the consultation? The call ends for everyone in it.');
    this.endState = h('p', {});
    this.endChoice = this.releaseChoice();
    this.endConfirm = h('div', { class: 'notice notice--warning', hidden: true }, this.endQuestion,
      this.endState, this.endChoice,
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'button button--warning', onclick: () => this.endCall() },
          'Yes, end the consultation'),
        h('button', { type: 'button', class: 'button button--secondary', onclick: () => this.keepCall() },
          'No, carry on')));
    this.inviteToggle = h('button', { type: 'button', class: 'button button--secondary', 'aria-expanded': 'false',
      onclick: () => this.toggleInvite() }, 'Invite interpreter or companion');
    this.note = h('p', { role: 'status' });
    this.inviteBox = this.inviteForm();
    this.linkBox = h('div', { hidden: true });
    this.el = h('section', { class: 'call-panel', hidden: true, 'aria-label': 'Current call' }, this.view.el,
      this.theirs, h('div', { class: 'actions' }, this.consent, this.hold, this.inviteToggle, this.end), this.endConfirm,
      this.note,
      this.inviteBox, this.linkBox);
    // Focusable: on wide screens it scrolls on its own, and keyboards must be able to scroll it.
    this.referral = h('section', { class: 'referral-panel', hidden: true, tabindex: '0', 'aria-labelledby': 'referral-title' });
  }

  hooks() {
    return {
      onRemote: (pid, stream, peer) => this.view.addRemote(pid, stream, peer),
      onGone: (pid) => this.view.removeRemote(pid),
      onPeerStatus: (peer, status, state) => {
        this.view.peerStatus(peer, status, state);
        if (status === 'left') replace(this.theirs, ''); // their last quality no longer applies
      },
      onQuality: (level, sample) => this.view.setQuality(level, sample),
      onAudioOnly: (on) => this.view.showAudioOnly(on),
      onAutoAudioOnly: () => {
        this.view.showAudioOnly(true, true);
        announce('Your video is paused because the connection is weak. Sound continues.');
      },
    };
  }

  bind(manager, stream) {
    this.view.bind(manager, stream);
  }

  async showCall(appointment, entry) {
    const layout = document.getElementById('clinic-layout');
    if (!appointment) {
      this.appointment = null;
      this.el.hidden = true;
      this.referral.hidden = true;
      this.pulse?.stop();
      this.pulse = null;
      this.view.clear();
      layout?.classList.remove('clinic__layout--in-call');
      this.clinic.active = null;
      return;
    }
    const changed = appointment !== this.appointment;
    this.appointment = appointment;
    this.clinic.active = appointment;
    this.el.hidden = false;
    layout?.classList.add('clinic__layout--in-call');
    replace(this.view.heading, `Call with ${entry?.name || 'the employee'}`);
    if (changed) {
      this.endConfirm.hidden = true;
      this.consent.hidden = false;
      replace(this.note, '');
      this.linkBox.hidden = true;
      focusOn(this.view.heading);
      announce(`In a call with ${entry?.name || 'the employee'}.`);
      if (entry) await this.showReferral(entry.referral);
    }
  }

  async showReferral(referralId) {
    if (referralId === this.referralId && !this.referral.hidden) return;
    this.referralId = referralId;
    try {
      const referral = await get(`/api/v1/referrals/${referralId}`);
      replace(this.referral, h('h2', { id: 'referral-title' }, 'Referral'),
        h('p', {}, h('a', { href: `triage.html#referral=${referralId}`, target: '_blank', rel: 'noopener' },
          'Open the full referral in a new tab')),
        referralView(referral.form, { level: 3, questions: referral.standard_questions }),
        this.pulseSection(referral.employee_user_id));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(this.referral, h('h2', { id: 'referral-title' }, 'Referral'), h('p', {}, error.detail));
    }
    this.referral.hidden = false;
  }

  /** The employee's open pulse stream, live, or a way to look again once they start measuring. */
  pulseSection(employeeId) {
    this.pulse?.stop();
    this.pulse = null;
    const box = h('div', { class: 'pulse-alongside' });
    const section = h('section', { 'aria-labelledby': 'pulse-title' },
      h('h3', { id: 'pulse-title' }, 'Pulse measurement'), box);
    const look = async () => {
      if (!employeeId) {
        replace(box, h('p', { class: 'muted' }, 'The employee has no account yet, so no measurement.'));
        return;
      }
      const query = new URLSearchParams({ employee_id: employeeId, status: 'open', limit: '1' });
      try {
        const page = await get(`/api/v1/readings/streams?${query}`);
        const stream = page.items[0];
        if (stream) {
          this.pulse = livePanel(stream.id);
          replace(box, this.pulse.el);
          return;
        }
        replace(box, h('p', {}, 'No measurement in progress. Ask the employee to open "Measure my pulse".'),
          h('button', { type: 'button', class: 'button button--secondary', onclick: look }, 'Look again'));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        replace(box, h('p', {}, error.detail));
      }
    };
    look();
    return section;
  }

  peerQuality(m, entry) {
    const who = entry?.name || 'The other person';
    replace(this.theirs, `${who}'s connection: ${LEVEL[m.level] || m.level}${m.audio_only ? ' (sound only)' : ''}`);
  }

  updateEntry() {}

  async startAssessment() {
    try {
      await post(`/api/v1/clinics/appointments/${this.appointment}/start`, { consent_to_assessment: true });
      this.consent.hidden = true;
      replace(this.note, `Consent to assessment recorded at ${new Date().toLocaleTimeString('en-GB')}.`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(this.note, error.detail);
    }
  }

  holdAll() {
    for (const entry of this.clinic.entries.values())
      if (entry.appointment === this.appointment && entry.state === 'in_call')
        this.socket.send({ t: 'hold', participant: entry.participant });
  }

  /** The employee's choice about the report, recorded as the call ends (domain.md: the clinician
   * records it at the end of the consultation); optional, as it can be recorded on the referral. */
  releaseChoice() {
    const options = Object.entries(RELEASE_CHOICE).map(([value, label]) => h('div', { class: 'choice' },
      h('input', { type: 'radio', id: `end-choice-${value}`, name: 'end-choice', value }),
      h('label', { for: `end-choice-${value}` }, label)));
    return h('fieldset', { class: 'group', hidden: true },
      h('legend', {}, "The employee's choice about the report"),
      h('p', { class: 'hint' }, 'Choosing one also ends the consultation on the referral, which moves on to '
        + 'writing the report. Leave it to record the choice on the referral page later.'),
      h('div', { class: 'choices choices--radio' }, options));
  }

  /** Ending is asked about first (it ends the call for everyone and cannot be undone). */
  async askToEnd() {
    this.endChoice.hidden = true;
    this.endChoice.querySelectorAll('input').forEach((i) => { i.checked = false; });
    replace(this.endState, '');
    this.endConfirm.hidden = false;
    focusOn(this.endQuestion);
    if (!this.referralId) return;
    try {
      const referral = await get(`/api/v1/referrals/${this.referralId}`);
      if (referral.status === 'IN_CONSULTATION') this.endChoice.hidden = false;
      else if (referral.status === 'BOOKED') {
        replace(this.endState, 'Consent to assessment has not been recorded, so the referral stays booked. '
          + 'If the employee consented, record it first.');
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
    }
  }

  keepCall() {
    this.endConfirm.hidden = true;
    this.end.focus();
  }

  async endCall() {
    const chosen = this.endChoice.hidden ? null : this.endChoice.querySelector('input:checked');
    if (chosen) {
      try {
        await post(`/api/v1/referrals/${this.referralId}/transitions`,
          { action: 'finish_consultation', release_choice: chosen.value });
        announce('Consultation ended on the referral: the report can now be written.');
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        replace(this.note, error.detail);
        return;
      }
    }
    this.endConfirm.hidden = true;
    this.socket.send({ t: 'end', appointment: this.appointment });
  }

  toggleInvite() {
    const open = this.inviteBox.hidden;
    this.inviteBox.hidden = !open;
    this.inviteToggle.setAttribute('aria-expanded', String(open));
    if (open) this.inviteBox.querySelector('input')?.focus();
  }

  inviteForm() {
    const name = h('input', { id: 'guest-name', type: 'text', autocomplete: 'off' });
    const role = h('select', { id: 'guest-role' }, h('option', { value: 'interpreter' }, 'Interpreter'),
      h('option', { value: 'companion' }, 'Companion or supporter'), h('option', { value: 'other' }, 'Other'));
    const email = h('input', { id: 'guest-email', type: 'email', autocomplete: 'off', spellcheck: 'false',
      'aria-describedby': 'guest-email-hint' });
    const form = h('form', { class: 'message-form', hidden: true, novalidate: true, 'aria-label': 'Invite someone' },
      h('div', { class: 'field' }, h('label', { for: 'guest-name' }, 'Their name'), name),
      h('div', { class: 'field' }, h('label', { for: 'guest-role' }, 'Role'), role),
      h('div', { class: 'field' }, h('label', { for: 'guest-email' }, 'Their email (optional)'),
        h('p', { class: 'hint', id: 'guest-email-hint' }, 'We email them the link. Otherwise copy it for them.'), email),
      h('button', { type: 'submit', class: 'button' }, 'Create invitation'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!name.value.trim()) {
        replace(this.note, 'Enter their name.');
        name.focus();
        return;
      }
      const message = { t: 'invite', appointment: this.appointment, name: name.value.trim(), role: role.value };
      if (email.value.trim()) message.email = email.value.trim();
      this.socket.send(message);
    });
    return form;
  }

  invited(m) {
    this.inviteBox.hidden = true;
    this.inviteToggle.setAttribute('aria-expanded', 'false');
    const copy = h('button', { type: 'button', class: 'button button--small button--secondary' }, 'Copy link');
    copy.addEventListener('click', () => navigator.clipboard?.writeText(m.url).then(() => announce('Link copied.')));
    replace(this.linkBox, h('h3', { tabindex: '-1', id: 'invited-title' }, `Invitation for ${m.name}`),
      h('p', {}, 'This link works once. They will appear in your list when they arrive, for you to admit.'),
      h('p', { class: 'link-box' }, m.url), copy);
    this.linkBox.hidden = false;
    focusOn(document.getElementById('invited-title'));
  }
}
