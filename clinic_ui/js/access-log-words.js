// "Who has seen my records": each audited action in plain words.

const ACTION = {
  'access_log.read': 'Looked at this list of who has seen your records',
  'user.create': 'Created your account',
  'auth.login': 'Signed in',
  'auth.link_login': 'Signed in from an e-mailed link',
  'auth.logout': 'Signed out',
  'auth.session.extend': 'Stayed signed in',
  'referral.create': 'Started a referral about you',
  'referral.update': 'Changed the referral about you',
  'referral.submit': 'Sent the referral about you to occupational health',
  'referral.read': 'Read the referral about you',
  'referral.list': 'Saw the referral about you in a list',
  'referral.events.read': 'Read the history of the referral about you',
  'referral.comments.read': 'Read the messages about the referral',
  'referral.comment': 'Wrote a message about the referral',
  'referral.attachments.read': 'Saw the list of files attached to the referral',
  'referral.attachment.read': 'Opened a file attached to the referral',
  'referral.attachment.add': 'Attached a file to the referral',
  'referral.acknowledge': 'Answered the referral (your reply)',
  'report.read': 'Read your occupational health report',
  'report.draft.read': 'Read the draft of your report',
  'report.draft': 'Wrote or changed your report',
  'report.consent': 'Recorded what you agreed may be shared in your report',
  'report.send_for_review': 'Sent your report to you to read first',
  'report.ready_for_release': 'Marked your report ready to be released',
  'report.release': 'Released your report to the people you agreed',
  'report.correction': 'Asked for a correction to your report',
  'report.addendum': 'Added a note to your released report',
  'report.list_own': 'Looked at the list of your reports',
  'hs_result.read': 'Read your health surveillance result',
  'hs_result.list': 'Saw your health surveillance result in a list',
  'hs_result.create': 'Recorded a health surveillance check',
  'hs_result.update': 'Changed a health surveillance check',
  'hs_result.sign': 'Signed the outcome of your health surveillance check',
  'hs_certificate.read': 'Read your health surveillance certificate',
  'hs_results_letter.read': 'Read your health surveillance results letter',
  'hs_enrolment.create': 'Enrolled you in health surveillance',
  'hs_enrolment.list': 'Saw you in a health surveillance programme list',
  'hs_enrolment.end': 'Ended your health surveillance enrolment',
  'hs_recall.list': 'Saw you on the list of checks due',
  'clinic.appointment.book': 'Booked your appointment',
  'clinic.appointment.read': 'Read your appointment',
  'clinic.appointment.read_own': 'Opened your appointment',
  'clinic.appointment.list_own': 'Looked at the list of your appointments',
  'booking.appointment.list_own': 'Looked at the list of your appointments',
  'booking.appointment.calendar': 'Opened the calendar invitation for your appointment',
  'booking.appointment.reschedule_own': 'Moved your appointment to another time',
  'booking.appointment.cancel': 'Cancelled your appointment',
  'booking.appointment.cancel_own': 'Cancelled your appointment',
  'booking.offer.list_own': 'Looked at the appointment times offered to you',
  'booking.offer.list': 'Saw the appointment times offered to you in a list',
  'booking.offer.book': 'Chose a time for your appointment',
  'booking.offer.create': 'Offered you appointment times to choose from',
  'clinic.session.list': 'Saw your appointment in a clinic list',
  'clinic.session.read': 'Saw your appointment in a clinic',
  'clinic.activity.read': 'Read the activity log of your appointment',
  'clinic.admit': 'Let you into the video appointment',
  'clinic.end': 'Ended your appointment',
};

// Steps of a referral (referral.<step>), in words.
const STEP = {
  triage: 'Triaged the referral about you',
  request_info: 'Asked your manager for more information',
  respond_info: 'Sent more information about you',
  decline: 'Declined the referral about you',
  book: 'Booked an appointment for you',
  reschedule: 'Moved your appointment',
  cancel: 'Cancelled your appointment',
  cancel_booking: 'Cancelled your appointment',
  dna: 'Recorded that you missed your appointment',
  start: 'Started your consultation',
  decline_assessment: 'Recorded that you did not agree to the assessment',
  finish_consultation: 'Finished your consultation',
  approve: 'Approved your report',
  flag_error: 'Asked for a correction to your report',
  withdraw_consent: 'Withheld your report',
  request_clarification: 'Asked occupational health to clarify your report',
  withdraw: 'Withdrew the referral about you',
  close: 'Closed the referral about you',
};

const BY_ENTITY = {
  referral: 'the referral about you',
  hs_result: 'your health surveillance records',
  hs_enrolment: 'your health surveillance enrolment',
  reading_stream: 'your pulse readings',
  reading_consent: 'your consent to pulse readings',
  appointment: 'your appointment',
  document: 'a document about you',
  app_user: 'your account',
};

/** What happened, in words, e.g. "Read your occupational health report". */
export function describe(entry) {
  let text = ACTION[entry.action];
  if (!text && entry.action.startsWith('referral.')) text = STEP[entry.action.slice('referral.'.length)];
  if (!text && entry.action.startsWith('readings.')) text = 'Used your pulse readings';
  if (!text && entry.action.startsWith('document.issue')) text = 'Issued a document (PDF) about you';
  if (!text) text = `Used ${BY_ENTITY[entry.entity] || 'your records'}`;
  if (entry.outcome !== 'ok') text += ' (tried, and was refused)';
  return text;
}
