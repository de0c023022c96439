// Human-readable words for the API's codes (statuses, enums, actions).

export const STATUS = {
  DRAFT: 'Draft',
  SUBMITTED: 'Submitted',
  AWAITING_TRIAGE: 'Awaiting triage',
  INFO_REQUESTED: 'More information requested',
  DECLINED: 'Declined',
  AWAITING_BOOKING: 'Awaiting booking',
  BOOKED: 'Appointment booked',
  DNA: 'Did not attend',
  CLOSED_DNA: 'Closed: did not attend',
  IN_CONSULTATION: 'In consultation',
  CLOSED_NO_CONSENT: 'Closed: no consent to assessment',
  REPORT_DRAFTING: 'Report being written',
  AWAITING_FME: 'Awaiting further medical evidence',
  EMPLOYEE_REVIEW: 'Report with employee for review',
  READY_FOR_RELEASE: 'Report ready for release',
  CLOSED_NOT_RELEASED: 'Closed: report not released',
  RELEASED: 'Report released',
  CLARIFICATION: 'Clarification requested',
  REVIEW_DUE: 'Review due',
  CLOSED: 'Closed',
  WITHDRAWN: 'Withdrawn',
};

export const REFERRAL_TYPE = {
  management: 'Management referral',
  health_surveillance: 'Health surveillance referral',
  workplace_assessment: 'Workplace assessment',
  other: 'Other',
};

export const URGENCY = { routine: 'Routine', urgent: 'Urgent' };

export const WORKING_PATTERN = { full_time: 'Full time', part_time: 'Part time' };

export const SHIFT_PATTERN = {
  days: 'Days',
  nights: 'Nights',
  twelve_hour: '12-hour shifts',
  rotating: 'Rotating shifts',
  on_call: 'On call',
  weekends: 'Weekends',
};

export const HAZARD = {
  manual_handling: 'Manual handling',
  vibrating_tools: 'Vibrating tools',
  noise: 'Noise',
  driving_car_van: 'Driving (car or van)',
  driving_lgv_pcv: 'Driving (LGV or PCV)',
  work_at_height: 'Work at height',
  confined_spaces: 'Confined spaces',
  rpe: 'Uses respiratory protective equipment (RPE)',
  dusts_fumes_sensitisers: 'Dusts, fumes or sensitisers',
  skin_exposure: 'Skin exposure (wet work, chemicals)',
  night_lone_unsociable: 'Night, lone or unsociable-hours work',
  dse: 'Display screen equipment',
  food_handling: 'Food handling',
  vulnerable_clients: 'Work with vulnerable clients',
  psychological_stress: 'Psychologically demanding work',
  other: 'Other hazard',
};

/** Hazards that make a role safety-critical (domain.md §2.3). */
export const SAFETY_CRITICAL = new Set([
  'driving_lgv_pcv',
  'work_at_height',
  'confined_spaces',
  'driving_car_van',
]);

export const REASON = {
  long_term_absence: 'Long-term sickness absence',
  recurrent_short_term_absence: 'Recurrent short-term absence',
  performance_or_conduct: 'Health affecting performance or conduct',
  work_related_ill_health: 'Possible work-related ill health',
  accident_at_work: 'Accident or injury at work',
  rehabilitation_return_to_work: 'Rehabilitation or return to work',
  adjustments_equality_act: 'Adjustments or Equality Act advice',
  ill_health_retirement: 'Ill-health retirement',
  other: 'Other reason',
};

/** The standard questions (backend/referrals/form.py); a ReferralRead's `standard_questions` takes precedence. */
export const STANDARD_QUESTIONS = {
  1: 'Is the employee currently fit to carry out their role (all duties)? Are there tasks they cannot do?',
  2: 'If absent: when is a return likely; full or phased return; what should a phased return look like?',
  3: 'What adjustments (temporary or permanent) would help attendance, performance or return?',
  4: 'Is there an underlying health condition likely to affect future attendance or performance?',
  5: 'Is the condition caused or made worse by work?',
  6: 'Could medication side effects affect safe performance of the role?',
  7: 'Is the employee likely to be considered disabled under the Equality Act 2010?',
  8: 'What is the prognosis or timescale for improvement, in functional terms?',
  9: 'Should redeployment be considered; what type of role or hours would suit?',
  10: 'Should ill-health retirement be considered?',
  11: 'Are further supports or interventions (e.g. EAP, physiotherapy) recommended?',
  12: 'Is a review appointment recommended, and when?',
};

export const ATTACHMENT_KIND = {
  job_description: 'Job description',
  absence_record: 'Absence record',
  fit_note: 'Fit note',
  risk_assessment: 'Risk assessment',
  accident_report: 'Accident report',
  previous_oh_report: 'Previous occupational health report',
  meeting_notes: 'Meeting notes',
  other: 'Other document',
};

export const MODALITY = { phone: 'Telephone', video: 'Video', face_to_face: 'Face to face' };
export const GRADE = { ohn: 'OH nurse (adviser)', ohp: 'OH physician' };
export const PRIORITY = { routine: 'Routine', soon: 'Soon', urgent: 'Urgent' };

export const ROLE = {
  provider_admin: 'OH administrator',
  clinician: 'Clinician',
  client_admin: 'Client administrator',
  manager: 'Manager',
  employee: 'Employee',
};

export const ACTION = {
  create: 'Created',
  edit: 'Edited',
  submit: 'Submitted',
  queue: 'Queued for triage',
  triage: 'Triaged',
  request_info: 'More information requested',
  respond_info: 'Information sent',
  decline: 'Declined',
  withdraw: 'Withdrawn',
  acknowledge: 'Employee responded',
  delete: 'Draft deleted',
  book: 'Appointment booked',
  reschedule: 'Appointment changed',
  cancel_booking: 'Appointment cancelled',
  call_started: 'Video call started',
  call_ended: 'Video call ended',
  mark_dna: 'Did not attend',
  rebook: 'To be booked again',
  close_dna: 'Closed after a missed appointment',
  start: 'Consultation started',
  decline_assessment: 'Employee declined the assessment',
  finish_consultation: 'Consultation ended',
  request_fme: 'Further medical evidence requested',
  fme_received: 'Further medical evidence received',
  send_for_review: 'Report sent to the employee',
  approve: 'Employee approved the report',
  flag_error: 'Employee asked for a correction',
  withdraw_consent: 'Employee withdrew consent to release',
  withhold: 'Report withheld',
  ready_for_release: 'Report ready for release',
  release: 'Report released',
  request_clarification: 'Clarification requested',
  add_addendum: 'Addendum added',
  mark_review_due: 'Review due',
  close: 'Closed',
};

/** Label for a code, falling back to the code with underscores as spaces. */
export function label(table, code) {
  if (code === null || code === undefined || code === '') return '';
  return table[code] || String(code).replaceAll('_', ' ');
}
