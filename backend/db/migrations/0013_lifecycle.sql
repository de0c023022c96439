-- Data lifecycle: retention passes, rectification of personal details, raw readings that expire.
--
-- retention_pass: one row per record class per retention run (what was due, what was done). The
-- audit row of each pass names this row; neither holds anything about a person.
CREATE TABLE retention_pass (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_id uuid NOT NULL,
    record_class text NOT NULL CHECK (record_class ~ '^[a-z][a-z0-9_]{0,62}$'),
    action text NOT NULL CHECK (action IN ('delete', 'erase', 'drop_partition', 'review')),
    cutoff timestamptz NOT NULL,
    affected integer NOT NULL CHECK (affected >= 0),
    dry_run boolean NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX retention_pass_run_idx ON retention_pass (run_id);

-- Rectification of a person's details: the old and the new value of each field changed, who
-- changed it and why. Rows are only ever added (and removed with the person, on erasure).
CREATE TABLE personal_detail_change (
    id bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES app_user (id),
    field text NOT NULL CHECK (field IN ('full_name', 'email', 'phone', 'date_of_birth')),
    old_value text,
    new_value text,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    changed_by uuid NOT NULL REFERENCES app_user (id),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX personal_detail_change_user_idx ON personal_detail_change (user_id, id);

-- Raw reading batches stay append-only, except for a retention pass, which says so for its own
-- transaction (SET LOCAL ohconnect.retention = 'on').
CREATE FUNCTION forbid_change_unless_retention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('ohconnect.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER reading_batch_append_only ON reading_batch;
CREATE TRIGGER reading_batch_append_only BEFORE UPDATE OR DELETE ON reading_batch
    FOR EACH ROW EXECUTE FUNCTION forbid_change_unless_retention();

-- Monthly reading partitions wholly before the cutoff: their names, and (unless dry_run) dropped.
-- Only the owner may drop a table; the application role calls this function instead.
CREATE FUNCTION reading_partition_drop_before(cutoff timestamptz, dry_run boolean) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public SET "TimeZone" = 'UTC' AS $$
DECLARE
    part record;
BEGIN
    FOR part IN
        SELECT c.relname AS name, to_timestamp(substring(c.relname FROM 'reading_y(\d{4}m\d{2})'), 'YYYY"m"MM')
            AS month_start
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'public.reading'::regclass AND c.relname ~ '^reading_y\d{4}m\d{2}$'
        ORDER BY c.relname
    LOOP
        IF part.month_start + interval '1 month' <= cutoff THEN
            IF NOT dry_run THEN
                EXECUTE format('ALTER TABLE public.reading DETACH PARTITION public.%I', part.name);
                EXECUTE format('DROP TABLE public.%I', part.name);
            END IF;
            RETURN NEXT part.name;
        END IF;
    END LOOP;
END;
$$;
REVOKE ALL ON FUNCTION reading_partition_drop_before(timestamptz, boolean) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ':app_role') THEN
        EXECUTE 'GRANT SELECT, INSERT ON retention_pass TO :app_role';
        EXECUTE 'GRANT SELECT, INSERT, DELETE ON personal_detail_change TO :app_role';
        EXECUTE 'GRANT USAGE, SELECT ON SEQUENCE personal_detail_change_id_seq TO :app_role';
        EXECUTE 'GRANT DELETE ON account_token, outbox_message, reading, reading_batch TO :app_role';
        EXECUTE 'GRANT UPDATE ON app_user TO :app_role';
        EXECUTE 'GRANT SELECT, UPDATE, DELETE ON hs_person TO :app_role';
        EXECUTE 'GRANT EXECUTE ON FUNCTION reading_partition_drop_before(timestamptz, boolean) TO :app_role';
    END IF;
END
$$;
