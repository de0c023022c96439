-- The video room across app processes.
--
-- clinic_process: each app process that holds room sockets renews a lease (beat_at) every few
-- seconds. A process whose lease has run out has died (or was stopped); any other process (or
-- the next one to start) closes the connections it held and records each in the call's
-- activity log.
--
-- clinic_connection: one row per room socket (its id is clinic_participant.connection_id while
-- it holds the place), the process holding it, and when and why it closed. A connection still
-- open when its process dies is how a dropped call is found, even after the person has resumed
-- on another process. Closed rows are deleted after a day.
--
-- clinic_signal.to_gen: the receiver's call generation when a signalling message was sent, so a
-- receiver who resumes the same generation on another process is given what it missed.
CREATE TABLE clinic_process (
    id uuid PRIMARY KEY,
    host text NOT NULL DEFAULT '' CHECK (length(host) <= 200),
    pid integer NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    beat_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clinic_process_beat_idx ON clinic_process (beat_at);

CREATE TABLE clinic_connection (
    id uuid PRIMARY KEY,
    participant_id uuid NOT NULL REFERENCES clinic_participant (id),
    process_id uuid NOT NULL,
    gen integer NOT NULL,
    opened_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz,
    close_reason text CHECK (length(close_reason) <= 200)
);
CREATE INDEX clinic_connection_open_idx ON clinic_connection (process_id) WHERE closed_at IS NULL;
CREATE INDEX clinic_connection_participant_idx ON clinic_connection (participant_id, opened_at);
CREATE INDEX clinic_connection_closed_idx ON clinic_connection (closed_at) WHERE closed_at IS NOT NULL;

ALTER TABLE clinic_signal ADD COLUMN to_gen integer NOT NULL DEFAULT 0;
CREATE INDEX clinic_signal_to_idx ON clinic_signal (to_participant, to_gen, id);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ':app_role') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON clinic_process TO :app_role';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON clinic_connection TO :app_role';
    END IF;
END
$$;
