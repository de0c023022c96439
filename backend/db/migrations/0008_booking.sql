-- Booking: clinics of every kind (video, phone, face-to-face, on-site at a client employer's site)
-- on any day, appointments that can be moved and cancelled (calendar invitations carry a sequence
-- number), appointments for surveillance recalls, and offers of slots employees book themselves.
-- Existing rows are kept: columns are renamed and added, never dropped.

ALTER TABLE clinic_session RENAME COLUMN modality TO kind;
ALTER TABLE clinic_session DROP CONSTRAINT clinic_session_modality_check;
ALTER TABLE clinic_session ADD CONSTRAINT clinic_session_kind_check
    CHECK (kind IN ('video', 'phone', 'face_to_face', 'on_site'));
-- An on-site clinic is held at one client employer's site.
ALTER TABLE clinic_session ADD COLUMN employer_id uuid REFERENCES organisation (id);
ALTER TABLE clinic_session ADD CONSTRAINT clinic_session_on_site_employer
    CHECK ((kind = 'on_site') = (employer_id IS NOT NULL));
-- People have to be told where to go: face-to-face and on-site clinics name their address.
ALTER TABLE clinic_session ADD CONSTRAINT clinic_session_place
    CHECK (kind NOT IN ('face_to_face', 'on_site') OR location IS NOT NULL) NOT VALID;
CREATE INDEX clinic_session_employer_idx ON clinic_session (employer_id, session_date) WHERE employer_id IS NOT NULL;

-- An appointment is for a referral or for a surveillance recall (an enrolment that is due).
ALTER TABLE appointment ALTER COLUMN referral_id DROP NOT NULL;
ALTER TABLE appointment ADD COLUMN enrolment_id uuid REFERENCES hs_enrolment (id);
ALTER TABLE appointment ADD CONSTRAINT appointment_purpose
    CHECK ((referral_id IS NULL) <> (enrolment_id IS NULL));
-- iCalendar SEQUENCE: 0 when booked, one more at each reschedule and at cancellation.
ALTER TABLE appointment ADD COLUMN sequence integer NOT NULL DEFAULT 0 CHECK (sequence >= 0);
ALTER TABLE appointment ADD COLUMN cancelled_at timestamptz;
ALTER TABLE appointment ADD COLUMN cancelled_by uuid REFERENCES app_user (id);
ALTER TABLE appointment ADD COLUMN rescheduled_at timestamptz;
ALTER TABLE appointment ADD COLUMN employee_user_id uuid REFERENCES app_user (id);
CREATE UNIQUE INDEX appointment_enrolment_active_uq ON appointment (enrolment_id)
    WHERE status IN ('booked', 'in_progress') AND enrolment_id IS NOT NULL;
CREATE INDEX appointment_employee_idx ON appointment (employee_user_id) WHERE employee_user_id IS NOT NULL;

ALTER TABLE call_event DROP CONSTRAINT call_event_kind_check;
ALTER TABLE call_event ADD CONSTRAINT call_event_kind_check CHECK (kind IN (
    'booked', 'invited', 'link_used', 'consent', 'testing', 'precall', 'arrived', 'joined', 'left',
    'reconnected', 'admitted', 'held', 'message', 'quality', 'started', 'ended', 'dna', 'reminder',
    'rescheduled', 'cancelled'
));

-- Slots offered to one employee for a referral awaiting booking or a surveillance recall: either
-- every free slot of one clinic, or a chosen set of slots. The employee books one of them.
CREATE TABLE booking_offer (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id uuid NOT NULL REFERENCES organisation (id),
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    employee_email text NOT NULL CHECK (employee_email = lower(employee_email)),
    referral_id uuid REFERENCES referral (id),
    enrolment_id uuid REFERENCES hs_enrolment (id),
    session_id uuid REFERENCES clinic_session (id),
    slot_ids uuid[] NOT NULL DEFAULT '{}',
    created_by uuid NOT NULL REFERENCES app_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    appointment_id uuid REFERENCES appointment (id),
    withdrawn_at timestamptz,
    CONSTRAINT booking_offer_purpose CHECK ((referral_id IS NULL) <> (enrolment_id IS NULL)),
    CONSTRAINT booking_offer_slots CHECK ((session_id IS NULL) <> (cardinality(slot_ids) = 0)),
    CONSTRAINT booking_offer_size CHECK (cardinality(slot_ids) <= 200)
);
CREATE INDEX booking_offer_employee_idx ON booking_offer (employee_email, created_at DESC);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ':app_role') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON booking_offer TO :app_role';
    END IF;
END
$$;
