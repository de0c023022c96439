-- Health surveillance (programmes, enrolment, results), issued documents, management reports.
--
-- The employer's health record (hs_result) and the confidential clinical record
-- (hs_result_clinical) are separate tables: employer-facing queries never touch the second.

CREATE TABLE hs_programme (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    provider_id uuid NOT NULL REFERENCES organisation (id),
    kind text NOT NULL CHECK (kind IN ('noise', 'havs', 'respiratory', 'skin', 'night', 'fitness_for_task')),
    task_type text CHECK (task_type IN ('confined_space', 'work_at_height', 'rpe', 'safety_critical', 'driving', 'other')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    recall jsonb NOT NULL,
    standards jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid NOT NULL REFERENCES app_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz,
    CONSTRAINT hs_programme_task_type CHECK ((kind = 'fitness_for_task') = (task_type IS NOT NULL))
);
CREATE UNIQUE INDEX hs_programme_name_uq ON hs_programme (organisation_id, lower(name));

-- The people under surveillance at one employer (they need not have an account).
CREATE TABLE hs_person (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    full_name text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    employee_number text NOT NULL CHECK (length(employee_number) BETWEEN 1 AND 40),
    date_of_birth date NOT NULL,
    sex text NOT NULL CHECK (sex IN ('female', 'male')),
    department text NOT NULL DEFAULT '' CHECK (length(department) <= 200),
    job_title text NOT NULL DEFAULT '' CHECK (length(job_title) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT hs_person_email_uq UNIQUE (organisation_id, email),
    CONSTRAINT hs_person_number_uq UNIQUE (organisation_id, employee_number)
);
CREATE INDEX hs_person_department_idx ON hs_person (organisation_id, lower(department));

CREATE TABLE hs_enrolment (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    programme_id uuid NOT NULL REFERENCES hs_programme (id),
    person_id uuid NOT NULL REFERENCES hs_person (id),
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    exposure text NOT NULL DEFAULT '' CHECK (length(exposure) <= 1000),
    start_date date NOT NULL,
    next_due_date date NOT NULL,
    checks_done integer NOT NULL DEFAULT 0 CHECK (checks_done >= 0),
    last_check_date date,
    enrolled_by uuid NOT NULL REFERENCES app_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz
);
CREATE UNIQUE INDEX hs_enrolment_active_uq ON hs_enrolment (programme_id, person_id) WHERE ended_at IS NULL;
CREATE INDEX hs_enrolment_due_idx ON hs_enrolment (organisation_id, next_due_date) WHERE ended_at IS NULL;

-- One surveillance check and its outcome: the employer's health record. Drafts are editable;
-- a signed result is final (signing is one transition, recorded in hs_result_event).
CREATE TABLE hs_result (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enrolment_id uuid NOT NULL REFERENCES hs_enrolment (id),
    programme_id uuid NOT NULL REFERENCES hs_programme (id),
    person_id uuid NOT NULL REFERENCES hs_person (id),
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    provider_id uuid NOT NULL REFERENCES organisation (id),
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed')),
    performed_on date NOT NULL,
    modality text NOT NULL CHECK (modality IN ('in_person', 'video', 'phone')),
    procedure text NOT NULL CHECK (length(procedure) BETWEEN 1 AND 200),
    outcome text CHECK (outcome IN ('FIT', 'FIT_WITH_RESTRICTIONS', 'TEMPORARILY_UNFIT', 'UNFIT',
                                    'FURTHER_ASSESSMENT', 'INCOMPLETE')),
    restrictions jsonb NOT NULL DEFAULT '[]'::jsonb,
    review_date date,
    refer_to text CHECK (refer_to IN ('OHA', 'OHP', 'specialist', 'HAVS_T3', 'HAVS_T4', 'retest')),
    due_by date,
    incomplete_reason text CHECK (incomplete_reason IN ('DNA', 'declined', 'consent_withheld', 'equipment')),
    employer_actions jsonb NOT NULL DEFAULT '[]'::jsonb,
    next_due_date date,
    outcome_consent boolean NOT NULL DEFAULT false,
    assessor_id uuid NOT NULL REFERENCES app_user (id),
    assessor_name text NOT NULL,
    assessor_role text NOT NULL,
    assessor_registration text NOT NULL DEFAULT '',
    signed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT hs_result_signed_complete CHECK (
        status = 'draft' OR (outcome IS NOT NULL AND signed_at IS NOT NULL AND next_due_date IS NOT NULL)
    )
);
CREATE INDEX hs_result_org_idx ON hs_result (organisation_id, status, signed_at);
CREATE INDEX hs_result_person_idx ON hs_result (person_id, performed_on DESC);
CREATE INDEX hs_result_enrolment_idx ON hs_result (enrolment_id);

-- The confidential clinical record of a check: never read by an employer-facing query.
CREATE TABLE hs_result_clinical (
    result_id uuid PRIMARY KEY REFERENCES hs_result (id),
    questionnaire jsonb NOT NULL DEFAULT '{}'::jsonb,
    measurements jsonb NOT NULL DEFAULT '{}'::jsonb,
    readings_stream_id uuid,
    proposal jsonb,
    clinical_category text,
    override_reason text,
    clinical_notes text NOT NULL DEFAULT ''
);

CREATE TABLE hs_result_event (
    id bigserial PRIMARY KEY,
    result_id uuid NOT NULL REFERENCES hs_result (id),
    at timestamptz NOT NULL DEFAULT now(),
    actor_id uuid REFERENCES app_user (id),
    action text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX hs_result_event_result_idx ON hs_result_event (result_id, id);
CREATE TRIGGER hs_result_event_append_only BEFORE UPDATE OR DELETE ON hs_result_event
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Every issued PDF: its id and issue time are printed on it; its SHA-256 is kept for checking.
CREATE TABLE document (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('hs_certificate', 'hs_results_letter', 'aggregate_report',
                                       'management_report', 'management_report_preview')),
    entity text NOT NULL,
    entity_id uuid NOT NULL,
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    issued_at timestamptz NOT NULL,
    issued_by uuid REFERENCES app_user (id),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes integer NOT NULL CHECK (size_bytes > 0),
    data bytea
);
CREATE INDEX document_entity_idx ON document (entity, entity_id, kind);
CREATE INDEX document_sha_idx ON document (sha256);
-- One stored certificate and one results letter per signed result.
CREATE UNIQUE INDEX document_one_per_result_uq ON document (entity_id, kind)
    WHERE kind IN ('hs_certificate', 'hs_results_letter');
CREATE TRIGGER document_append_only BEFORE UPDATE OR DELETE ON document
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Management referral report: the current draft (sections) and every version as it was.
CREATE TABLE mr_report (
    referral_id uuid PRIMARY KEY REFERENCES referral (id),
    author_id uuid NOT NULL REFERENCES app_user (id),
    content jsonb NOT NULL,
    consent jsonb NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mr_report_version (
    id bigserial PRIMARY KEY,
    referral_id uuid NOT NULL REFERENCES referral (id),
    version integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('draft', 'consent', 'released', 'addendum')),
    content jsonb NOT NULL,
    consent jsonb NOT NULL,
    recipients jsonb NOT NULL DEFAULT '[]'::jsonb,
    actor_id uuid REFERENCES app_user (id),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mr_report_version_idx ON mr_report_version (referral_id, id);
CREATE TRIGGER mr_report_version_append_only BEFORE UPDATE OR DELETE ON mr_report_version
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE TABLE mr_correction (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    referral_id uuid NOT NULL REFERENCES referral (id),
    employee_id uuid NOT NULL REFERENCES app_user (id),
    section text NOT NULL,
    message text NOT NULL CHECK (length(message) BETWEEN 1 AND 5000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mr_correction_referral_idx ON mr_correction (referral_id, created_at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ':app_role') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON hs_programme, hs_person, hs_enrolment, hs_result,'
             || ' hs_result_clinical, mr_report TO :app_role';
        EXECUTE 'GRANT SELECT, INSERT ON hs_result_event, document, mr_report_version, mr_correction TO :app_role';
        EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :app_role';
    END IF;
END
$$;

CREATE INDEX hs_result_org_performed_idx ON hs_result (organisation_id, performed_on) WHERE status = 'signed';
