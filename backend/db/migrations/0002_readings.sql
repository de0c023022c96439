-- Pulse and SpO2 readings from phones: the employee's consent to collection (domain C6),
-- measurement streams with their running summaries, received batches (raw payloads kept;
-- idempotent on stream and sequence number), decoded readings partitioned by month, and the
-- per-band alert counts that flag a stream for the clinician.

CREATE TABLE reading_consent (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    employee_id uuid NOT NULL REFERENCES app_user (id),
    statement_version text NOT NULL CHECK (length(statement_version) BETWEEN 1 AND 40),
    -- SHA-256 of the exact statement shown, so the wording agreed to can be proven later.
    statement_sha256 bytea NOT NULL,
    method text NOT NULL DEFAULT 'in_app' CHECK (method IN ('in_app')),
    appointment_id uuid,
    given_at timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,
    CONSTRAINT reading_consent_withdrawal_after_consent CHECK (withdrawn_at IS NULL OR withdrawn_at >= given_at)
);
CREATE UNIQUE INDEX reading_consent_active_uq ON reading_consent (employee_id) WHERE withdrawn_at IS NULL;

CREATE TABLE reading_stream (
    id uuid PRIMARY KEY,
    employee_id uuid NOT NULL REFERENCES app_user (id),
    employer_id uuid NOT NULL REFERENCES organisation (id),
    provider_id uuid NOT NULL REFERENCES organisation (id),
    consent_id uuid NOT NULL REFERENCES reading_consent (id),
    -- The video appointment the measurement belongs to; a plain id until clinics link it.
    appointment_id uuid,
    device_kind text NOT NULL CHECK (device_kind IN ('ble-hr', 'ble-plx', 'camera', 'manual')),
    device_model text NOT NULL CHECK (length(device_model) BETWEEN 1 AND 100),
    device_token_hash bytea UNIQUE,
    device_token_expires_at timestamptz,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz,
    -- The phone's start of the stream; every batch's offsets count from it.
    started_at timestamptz,
    -- Running summary, kept current by every stored batch in the same transaction.
    batches integer NOT NULL DEFAULT 0,
    samples bigint NOT NULL DEFAULT 0,
    readings integer NOT NULL DEFAULT 0,
    absent integer NOT NULL DEFAULT 0,
    hr_count integer NOT NULL DEFAULT 0,
    hr_sum double precision NOT NULL DEFAULT 0,
    hr_min real,
    hr_max real,
    spo2_count integer NOT NULL DEFAULT 0,
    spo2_sum double precision NOT NULL DEFAULT 0,
    spo2_min real,
    quality_count integer NOT NULL DEFAULT 0,
    quality_sum double precision NOT NULL DEFAULT 0,
    first_offset_s double precision,
    last_offset_s double precision,
    max_seq integer,
    last_at timestamptz,
    last_heart_rate_bpm real,
    last_spo2_pct real,
    last_quality real,
    last_received_at timestamptz,
    clock_skew_s double precision,
    max_abs_clock_skew_s double precision,
    -- Highest alert band flagged so far (for the live view; reads recompute it from reading_alert).
    alert_level text CHECK (alert_level IN ('low', 'medium', 'high')),
    CONSTRAINT reading_stream_closed CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX reading_stream_employee_idx ON reading_stream (employee_id, created_at DESC);
CREATE INDEX reading_stream_provider_idx ON reading_stream (provider_id, created_at DESC);
CREATE INDEX reading_stream_appointment_idx ON reading_stream (appointment_id) WHERE appointment_id IS NOT NULL;

-- One row per accepted batch, exactly as received (values or BLE payloads as JSON, PPG samples
-- as numbers), with the receipt sent back: a repeat of (stream_id, seq) gets that same receipt.
CREATE TABLE reading_batch (
    stream_id uuid NOT NULL REFERENCES reading_stream (id),
    seq integer NOT NULL CHECK (seq >= 0),
    body_sha256 bytea NOT NULL,
    payload_kind text NOT NULL CHECK (payload_kind IN ('values', 'ble_payloads', 'ppg')),
    device jsonb NOT NULL,
    sent_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    -- received_at minus the phone's sent_at: the phone's clock error plus the network delay.
    clock_skew_s double precision NOT NULL,
    first_offset_s double precision NOT NULL,
    last_offset_s double precision NOT NULL CHECK (last_offset_s >= first_offset_s),
    payload jsonb,
    ppg_fs double precision,
    ppg_samples double precision[],
    receipt jsonb NOT NULL,
    CONSTRAINT reading_batch_pk PRIMARY KEY (stream_id, seq),
    CONSTRAINT reading_batch_raw_kept CHECK (
        (payload_kind = 'ppg' AND ppg_samples IS NOT NULL AND ppg_fs IS NOT NULL AND payload IS NULL)
        OR (payload_kind <> 'ppg' AND ppg_samples IS NULL AND payload IS NOT NULL)
    )
);
CREATE TRIGGER reading_batch_append_only BEFORE UPDATE OR DELETE ON reading_batch
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Decoded readings: one row per heart rate / SpO2 / RR value set, by the time it was taken.
-- A PPG run becomes a row only when a pulse was found in it; special device values (NaN,
-- infinity, no contact) are kept as the FHIR data-absent-reason code instead of a number.
CREATE TABLE reading (
    stream_id uuid NOT NULL,
    seq integer NOT NULL,
    taken_at timestamptz NOT NULL,
    offset_s double precision NOT NULL,
    source text NOT NULL CHECK (source IN ('value', '2a37', '2a5e', '2a5f', 'ppg')),
    heart_rate_bpm real CHECK (heart_rate_bpm BETWEEN 20 AND 250),
    spo2_pct real CHECK (spo2_pct BETWEEN 50 AND 100),
    rr_intervals_s real[],
    quality real CHECK (quality BETWEEN 0 AND 1),
    heart_rate_absent text CHECK (heart_rate_absent IN ('not-a-number', 'positive-infinity', 'negative-infinity', 'error')),
    spo2_absent text CHECK (spo2_absent IN ('not-a-number', 'positive-infinity', 'negative-infinity', 'error')),
    CONSTRAINT reading_has_something CHECK (
        heart_rate_bpm IS NOT NULL OR spo2_pct IS NOT NULL OR rr_intervals_s IS NOT NULL
        OR heart_rate_absent IS NOT NULL OR spo2_absent IS NOT NULL
    ),
    CONSTRAINT reading_batch_fk FOREIGN KEY (stream_id, seq) REFERENCES reading_batch (stream_id, seq)
) PARTITION BY RANGE (taken_at);
CREATE INDEX reading_stream_taken_idx ON reading (stream_id, taken_at);

-- Monthly partitions (UTC months) are created ahead here and on demand by the application
-- through this function, which runs with the owner's rights: the application role may add a
-- partition but cannot otherwise change the table.
CREATE FUNCTION reading_partition_ensure(at timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public SET "TimeZone" = 'UTC' AS $$
DECLARE
    month_start timestamp := date_trunc('month', at AT TIME ZONE 'UTC');
    part text := 'reading_y' || to_char(month_start, 'YYYY"m"MM');
BEGIN
    IF to_regclass('public.' || part) IS NOT NULL THEN
        RETURN part;
    END IF;
    PERFORM pg_advisory_xact_lock(7316220002);
    IF to_regclass('public.' || part) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE public.%I PARTITION OF public.reading FOR VALUES FROM (%L) TO (%L)',
            part, month_start AT TIME ZONE 'UTC', (month_start + interval '1 month') AT TIME ZONE 'UTC'
        );
    END IF;
    RETURN part;
END;
$$;
REVOKE ALL ON FUNCTION reading_partition_ensure(timestamptz) FROM PUBLIC;
SELECT reading_partition_ensure(now() + make_interval(months => m)) FROM generate_series(-1, 2) AS m;

-- Readings of a stream that fell in an alert band, per measure and level.
CREATE TABLE reading_alert (
    stream_id uuid NOT NULL REFERENCES reading_stream (id),
    measure text NOT NULL CHECK (measure IN ('heart_rate', 'spo2')),
    level text NOT NULL CHECK (level IN ('low', 'medium', 'high')),
    readings integer NOT NULL CHECK (readings > 0),
    min_value real NOT NULL,
    max_value real NOT NULL,
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    CONSTRAINT reading_alert_pk PRIMARY KEY (stream_id, measure, level)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ':app_role') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON reading_consent, reading_stream, reading_alert TO :app_role';
        EXECUTE 'GRANT SELECT, INSERT ON reading_batch, reading TO :app_role';
        EXECUTE 'GRANT EXECUTE ON FUNCTION reading_partition_ensure(timestamptz) TO :app_role';
    END IF;
END
$$;
