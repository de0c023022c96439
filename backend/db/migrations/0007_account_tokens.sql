-- Account links e-mailed to people: setting a first password (invitation), resetting a forgotten
-- one, and signing in once without a password. Only the SHA-256 of each token is stored; a token
-- works once, until it expires, and only while its account is active.
CREATE TABLE account_token (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    purpose text NOT NULL CHECK (purpose IN ('set_password', 'reset_password', 'sign_in')),
    user_id uuid NOT NULL REFERENCES app_user (id),
    created_by uuid REFERENCES app_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    CONSTRAINT account_token_hash_uq UNIQUE (token_hash),
    CONSTRAINT account_token_expiry_ck CHECK (expires_at > created_at)
);
CREATE INDEX account_token_user_idx ON account_token (user_id, purpose) WHERE used_at IS NULL;

-- Requests for account links and failed redemptions, by address and by client address: the
-- throttle counts these rows, so it holds across every app process.
CREATE TABLE account_token_attempt (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('request', 'redeem_failed')),
    email text,
    client_ip text,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_token_attempt_email_idx ON account_token_attempt (email, at DESC);
CREATE INDEX account_token_attempt_ip_idx ON account_token_attempt (client_ip, at DESC);

-- A session may also start from an e-mailed sign-in link.
ALTER TABLE auth_session DROP CONSTRAINT auth_session_via_check;
ALTER TABLE auth_session ADD CONSTRAINT auth_session_via_check
    CHECK (via IN ('password', 'link', 'sign_in_link'));

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ':app_role') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON account_token TO :app_role';
        EXECUTE 'GRANT SELECT, INSERT, DELETE ON account_token_attempt TO :app_role';
        EXECUTE 'GRANT USAGE, SELECT ON SEQUENCE account_token_attempt_id_seq TO :app_role';
    END IF;
END
$$;
