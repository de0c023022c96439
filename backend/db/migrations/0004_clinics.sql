-- Clinics: a clinician's sessions and slots, appointments booked from referrals, the virtual
-- waiting room (participants and their presence), join links, call signalling and the call
-- activity log.

CREATE TABLE clinic_session (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id uuid NOT NULL REFERENCES organisation (id),
    clinician_id uuid NOT NULL REFERENCES app_user (id),
    session_date date NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    modality text NOT NULL CHECK (modality IN ('video', 'phone', 'face_to_face')),
    slot_minutes integer NOT NULL CHECK (slot_minutes BETWEEN 5 AND 240),
    location text CHECK (length(location) <= 200),
    -- The appointment whose call the clinician is in now (NULL between calls).
    active_appointment_id uuid,
    created_by uuid NOT NULL REFERENCES app_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz,
    CONSTRAINT clinic_session_times CHECK (ends_at > starts_at AND ends_at - starts_at <= interval '14 hours')
);
CREATE INDEX clinic_session_clinician_idx ON clinic_session (clinician_id, starts_at);
CREATE INDEX clinic_session_provider_idx ON clinic_session (provider_id, session_date);

CREATE TABLE clinic_slot (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL REFERENCES clinic_session (id),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
    CONSTRAINT clinic_slot_start_uq UNIQUE (session_id, starts_at)
);

CREATE TABLE appointment (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL REFERENCES clinic_session (id),
    slot_id uuid NOT NULL REFERENCES clinic_slot (id),
    referral_id uuid NOT NULL REFERENCES referral (id),
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    employee_email text NOT NULL CHECK (employee_email = lower(employee_email)),
    employee_name text NOT NULL DEFAULT '',
    -- Copied from the referral at booking, for the identity check on the join page.
    employee_birth_date date,
    employee_phone text CHECK (length(employee_phone) <= 40),
    referrer_email text,
    status text NOT NULL DEFAULT 'booked'
        CHECK (status IN ('booked', 'in_progress', 'completed', 'dna', 'cancelled')),
    identity_code_hash bytea,
    video_consent_at timestamptz,
    first_admitted_at timestamptz,
    ended_at timestamptz,
    -- Per-consultation call quality, summarised per participant kind.
    quality jsonb NOT NULL DEFAULT '{}'::jsonb,
    reminder_sent_at timestamptz,
    booked_by uuid NOT NULL REFERENCES app_user (id),
    booked_at timestamptz NOT NULL DEFAULT now(),
    dna_at timestamptz
);
CREATE UNIQUE INDEX appointment_slot_active_uq ON appointment (slot_id) WHERE status IN ('booked', 'in_progress');
CREATE UNIQUE INDEX appointment_referral_active_uq ON appointment (referral_id)
    WHERE status IN ('booked', 'in_progress');
CREATE INDEX appointment_session_idx ON appointment (session_id);
CREATE INDEX appointment_referral_idx ON appointment (referral_id);

ALTER TABLE clinic_session ADD CONSTRAINT clinic_session_active_fk
    FOREIGN KEY (active_appointment_id) REFERENCES appointment (id);

-- Everyone who may be in a session's waiting room: the clinician (one row per session), each
-- booked employee and each invited third party (interpreter, companion). Presence lives here:
-- connection_id is the WebSocket currently holding the place, last_seen_at its heartbeat.
CREATE TABLE clinic_participant (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL REFERENCES clinic_session (id),
    appointment_id uuid REFERENCES appointment (id),
    kind text NOT NULL CHECK (kind IN ('clinician', 'employee', 'guest')),
    user_id uuid REFERENCES app_user (id),
    display_name text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
    guest_role text CHECK (guest_role IN ('interpreter', 'companion', 'other')),
    pass_hash bytea UNIQUE,
    pass_expires_at timestamptz,
    state text NOT NULL DEFAULT 'not_arrived'
        CHECK (state IN ('not_arrived', 'testing', 'waiting', 'in_call', 'held', 'left', 'done', 'dna')),
    arrived_at timestamptz,
    waiting_since timestamptz,
    state_changed_at timestamptz NOT NULL DEFAULT now(),
    connection_id uuid,
    last_seen_at timestamptz,
    gen integer NOT NULL DEFAULT 0,
    verdict jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT clinic_participant_shape CHECK ((kind = 'clinician') = (appointment_id IS NULL)),
    CONSTRAINT clinic_participant_guest CHECK ((kind = 'guest') = (guest_role IS NOT NULL))
);
CREATE UNIQUE INDEX clinic_participant_clinician_uq ON clinic_participant (session_id, user_id)
    WHERE kind = 'clinician';
CREATE UNIQUE INDEX clinic_participant_employee_uq ON clinic_participant (appointment_id) WHERE kind = 'employee';
CREATE INDEX clinic_participant_session_idx ON clinic_participant (session_id, state);
CREATE INDEX clinic_participant_appointment_idx ON clinic_participant (appointment_id);
CREATE INDEX clinic_participant_connection_idx ON clinic_participant (connection_id)
    WHERE connection_id IS NOT NULL;
CREATE INDEX clinic_participant_user_idx ON clinic_participant (user_id) WHERE user_id IS NOT NULL;

-- Single-use, expiring invitation links to a waiting room (only their SHA-256 is stored).
CREATE TABLE clinic_join_link (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash bytea NOT NULL UNIQUE,
    participant_id uuid NOT NULL REFERENCES clinic_participant (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    failures integer NOT NULL DEFAULT 0
);
CREATE INDEX clinic_join_link_participant_idx ON clinic_join_link (participant_id);

-- WebRTC signalling between two members of one call, stored so that any app process can relay
-- it (the notification carries only the id). Rows are short-lived and swept.
CREATE TABLE clinic_signal (
    id bigserial PRIMARY KEY,
    appointment_id uuid NOT NULL REFERENCES appointment (id),
    from_participant uuid NOT NULL REFERENCES clinic_participant (id),
    to_participant uuid NOT NULL REFERENCES clinic_participant (id),
    from_gen integer NOT NULL,
    body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clinic_signal_created_idx ON clinic_signal (created_at);

-- The call activity log of an appointment: arrivals, joins, leaves, admits, holds, messages,
-- invitations, quality changes and the end. Append-only.
CREATE TABLE call_event (
    id bigserial PRIMARY KEY,
    appointment_id uuid NOT NULL REFERENCES appointment (id),
    at timestamptz NOT NULL DEFAULT now(),
    participant_id uuid REFERENCES clinic_participant (id),
    actor_id uuid REFERENCES app_user (id),
    kind text NOT NULL CHECK (kind IN (
        'booked', 'invited', 'link_used', 'consent', 'testing', 'precall', 'arrived', 'joined', 'left',
        'reconnected', 'admitted', 'held', 'message', 'quality', 'started', 'ended', 'dna', 'reminder'
    )),
    detail jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX call_event_appointment_idx ON call_event (appointment_id, id);
CREATE TRIGGER call_event_append_only BEFORE UPDATE OR DELETE ON call_event
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ':app_role') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON clinic_session, clinic_slot, appointment, clinic_participant,'
             || ' clinic_join_link TO :app_role';
        EXECUTE 'GRANT SELECT, INSERT, DELETE ON clinic_signal TO :app_role';
        EXECUTE 'GRANT SELECT, INSERT ON call_event TO :app_role';
        EXECUTE 'GRANT USAGE, SELECT ON SEQUENCE clinic_signal_id_seq, call_event_id_seq TO :app_role';
    END IF;
END
$$;
