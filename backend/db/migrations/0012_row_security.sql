-- Row-level security: a second wall between client organisations, behind the application's own
-- checks. Every session names the organisations it may see in the setting ohconnect.orgs:
--   '*'                  every organisation (the pool's default: background work, sign-in, links);
--   'uuid,uuid,...'      only these (set per request once the signed-in person is known);
--   unset or ''          none at all (anyone connecting as the application role by hand).
-- The application role is subject to these policies; the tables' owner (migrations, backups)
-- and superusers are not. Tables stay unforced so that pg_dump as the owner keeps working.
--
-- Rows of tables that hang off a referral, a surveillance result or a reading stream are visible
-- with their parent row (the parent's own policy applies inside the check).

CREATE FUNCTION rls_every_organisation() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(current_setting('ohconnect.orgs', true) = '*', false)
$$;

-- The organisations named by the setting; empty for '*', '' and unset (a malformed list errors).
CREATE FUNCTION rls_organisations() RETURNS uuid[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s IS NULL OR s IN ('', '*') THEN '{}'::uuid[] ELSE string_to_array(s, ',')::uuid[] END
    FROM (SELECT current_setting('ohconnect.orgs', true) AS s) AS setting
$$;

-- Each check is written with scalar subqueries so that PostgreSQL evaluates the setting once per
-- statement (an InitPlan), not once per row; the row test is then an array membership test.
DO $$
DECLARE
    direct CONSTANT text[][] := ARRAY[
        ['referral', 'organisation_id'],
        ['entry_link', 'organisation_id'],
        ['hs_programme', 'organisation_id'],
        ['hs_person', 'organisation_id'],
        ['hs_enrolment', 'organisation_id'],
        ['hs_result', 'organisation_id'],
        ['document', 'organisation_id'],
        ['appointment', 'organisation_id'],
        ['booking_offer', 'organisation_id'],
        ['reading_stream', 'employer_id']
    ];
    child CONSTANT text[][] := ARRAY[
        ['referral_event', 'referral_id', 'referral'],
        ['referral_comment', 'referral_id', 'referral'],
        ['referral_attachment', 'referral_id', 'referral'],
        ['mr_report', 'referral_id', 'referral'],
        ['mr_report_version', 'referral_id', 'referral'],
        ['mr_correction', 'referral_id', 'referral'],
        ['hs_result_clinical', 'result_id', 'hs_result'],
        ['hs_result_event', 'result_id', 'hs_result'],
        ['reading_batch', 'stream_id', 'reading_stream'],
        ['reading', 'stream_id', 'reading_stream'],
        ['reading_alert', 'stream_id', 'reading_stream']
    ];
    i integer;
BEGIN
    FOR i IN 1 .. array_length(direct, 1) LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', direct[i][1]);
        EXECUTE format(
            'CREATE POLICY organisation_scope ON %I USING ('
            '(SELECT rls_every_organisation()) OR %I = ANY ((SELECT rls_organisations())::uuid[]))',
            direct[i][1], direct[i][2]
        );
    END LOOP;
    FOR i IN 1 .. array_length(child, 1) LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', child[i][1]);
        EXECUTE format(
            'CREATE POLICY organisation_scope ON %I USING ('
            '(SELECT rls_every_organisation()) OR EXISTS (SELECT 1 FROM %I p WHERE p.id = %I.%I))',
            child[i][1], child[i][3], child[i][1], child[i][2]
        );
    END LOOP;
END
$$;
