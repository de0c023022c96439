-- Spine: organisations, users, sessions, audit, referrals.

CREATE TABLE organisation (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind text NOT NULL CHECK (kind IN ('provider', 'employer')),
    provider_id uuid REFERENCES organisation (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organisation_provider_link CHECK (
        (kind = 'provider' AND provider_id IS NULL) OR (kind = 'employer' AND provider_id IS NOT NULL)
    )
);
CREATE UNIQUE INDEX organisation_name_uq ON organisation (lower(name));

CREATE TABLE app_user (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    role text NOT NULL CHECK (role IN ('provider_admin', 'clinician', 'client_admin', 'manager', 'employee')),
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    full_name text NOT NULL DEFAULT '' CHECK (length(full_name) <= 200),
    department text CHECK (length(department) <= 200),
    password_hash text,
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz,
    CONSTRAINT app_user_email_uq UNIQUE (email)
);
CREATE INDEX app_user_org_idx ON app_user (organisation_id, role);

CREATE TABLE auth_session (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES app_user (id),
    token_hash bytea NOT NULL UNIQUE,
    csrf_hash bytea NOT NULL,
    via text NOT NULL CHECK (via IN ('password', 'link')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX auth_session_user_idx ON auth_session (user_id);

CREATE TABLE login_attempt (
    id bigserial PRIMARY KEY,
    email text NOT NULL,
    succeeded boolean NOT NULL,
    client_ip text,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempt_email_at_idx ON login_attempt (email, at DESC);

-- Append-only audit trail: who did what to which record, and whether it was allowed.
CREATE TABLE audit_event (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_id uuid,
    actor_role text,
    organisation_id uuid,
    action text NOT NULL,
    entity text NOT NULL,
    entity_id text,
    subject_user_id uuid,
    subject_email text,
    outcome text NOT NULL CHECK (outcome IN ('ok', 'denied', 'not_found', 'invalid', 'error')),
    request_id text
);
CREATE INDEX audit_event_entity_idx ON audit_event (entity, entity_id);
CREATE INDEX audit_event_subject_idx ON audit_event (subject_user_id, at DESC);
CREATE INDEX audit_event_subject_email_idx ON audit_event (subject_email, at DESC);

CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();

CREATE TABLE referral (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    provider_id uuid NOT NULL REFERENCES organisation (id),
    referrer_id uuid NOT NULL REFERENCES app_user (id),
    employee_email text NOT NULL CHECK (employee_email = lower(employee_email)),
    employee_user_id uuid REFERENCES app_user (id),
    employee_name text NOT NULL DEFAULT '',
    department text NOT NULL DEFAULT '',
    status text NOT NULL,
    form jsonb NOT NULL,
    priority text CHECK (priority IN ('routine', 'soon', 'urgent')),
    modality text CHECK (modality IN ('phone', 'video', 'face_to_face')),
    clinician_grade text CHECK (clinician_grade IN ('ohn', 'ohp')),
    decision jsonb NOT NULL DEFAULT '{}'::jsonb,
    acknowledged_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX referral_org_status_idx ON referral (organisation_id, status);
CREATE INDEX referral_provider_status_idx ON referral (provider_id, status);
CREATE INDEX referral_employee_email_idx ON referral (employee_email);
CREATE INDEX referral_employee_user_idx ON referral (employee_user_id);

CREATE TABLE referral_event (
    id bigserial PRIMARY KEY,
    referral_id uuid NOT NULL REFERENCES referral (id),
    at timestamptz NOT NULL DEFAULT now(),
    actor_id uuid REFERENCES app_user (id),
    actor_role text NOT NULL,
    action text NOT NULL,
    from_status text,
    to_status text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX referral_event_referral_idx ON referral_event (referral_id, id);
CREATE TRIGGER referral_event_append_only BEFORE UPDATE OR DELETE ON referral_event
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE TABLE referral_comment (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    referral_id uuid NOT NULL REFERENCES referral (id),
    author_id uuid NOT NULL REFERENCES app_user (id),
    author_role text NOT NULL,
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referral_comment_referral_idx ON referral_comment (referral_id, created_at);

CREATE TABLE referral_attachment (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    referral_id uuid NOT NULL REFERENCES referral (id),
    kind text NOT NULL,
    filename text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type text NOT NULL,
    size_bytes integer NOT NULL CHECK (size_bytes > 0),
    sha256 text NOT NULL,
    scan_status text NOT NULL DEFAULT 'clean',
    data bytea NOT NULL,
    uploaded_by uuid NOT NULL REFERENCES app_user (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referral_attachment_referral_idx ON referral_attachment (referral_id);

-- A referral names its employee by e-mail; it is linked to the employee's account as soon as
-- both exist, whichever comes first, so no code path can forget to link them.
CREATE FUNCTION referral_link_employee() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.employee_user_id IS NULL THEN
        SELECT u.id INTO NEW.employee_user_id FROM app_user u
        WHERE u.email = NEW.employee_email AND u.role = 'employee' AND u.organisation_id = NEW.organisation_id;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER referral_link_employee BEFORE INSERT OR UPDATE OF employee_email ON referral
    FOR EACH ROW EXECUTE FUNCTION referral_link_employee();

CREATE FUNCTION employee_link_referrals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.role = 'employee' THEN
        UPDATE referral SET employee_user_id = NEW.id
        WHERE employee_email = NEW.email AND organisation_id = NEW.organisation_id AND employee_user_id IS NULL;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER app_user_link_referrals AFTER INSERT ON app_user
    FOR EACH ROW EXECUTE FUNCTION employee_link_referrals();

-- Single-use, expiring entry links for employees (acknowledgement of a referral).
CREATE TABLE entry_link (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash bytea NOT NULL UNIQUE,
    purpose text NOT NULL CHECK (purpose IN ('referral_ack')),
    email text NOT NULL,
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    referral_id uuid REFERENCES referral (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);

-- The restricted role the application runs as: it may read and write its tables but
-- may never rewrite the audit trail or referral history. Roles belong to the whole cluster:
-- databases of one cluster migrated at the same time (each under its own lock) may both find
-- the role missing, so creating it and joining it tolerate the other having done it first.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ':app_role') THEN
        IF (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
            BEGIN
                EXECUTE 'CREATE ROLE :app_role NOLOGIN';
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ':app_role') THEN
        BEGIN
            EXECUTE 'GRANT :app_role TO ' || quote_ident(current_user);
        EXCEPTION WHEN unique_violation THEN
            NULL;
        END;
        EXECUTE 'GRANT USAGE ON SCHEMA public TO :app_role';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON organisation, app_user, auth_session, login_attempt,'
             || ' referral, referral_comment, referral_attachment, entry_link TO :app_role';
        EXECUTE 'GRANT SELECT, INSERT ON audit_event, referral_event TO :app_role';
        EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :app_role';
        EXECUTE 'GRANT SELECT ON schema_migration TO :app_role';
    END IF;
END
$$;

-- Messages to people (e-mail/SMS), written in the same transaction as the change that causes
-- them and delivered afterwards by whichever process picks them up first.
CREATE TABLE outbox_message (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    channel text NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms')),
    recipient text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_message_unsent_idx ON outbox_message (created_at) WHERE sent_at IS NULL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ':app_role') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON outbox_message TO :app_role';
    END IF;
END
$$;
