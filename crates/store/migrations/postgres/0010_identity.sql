-- Identity: national e-ID attributes, the second factor, lockout, sessions and the log of
-- who read whose data.

-- What the national e-ID vouched for at the account's last sign-in (personal identification
-- number, date of birth, tax code), sealed: encrypted under a data key, never stored in the
-- clear. NULL for local accounts.
ALTER TABLE users ADD COLUMN identity_issuer TEXT;
ALTER TABLE users ADD COLUMN identity_sealed TEXT;

-- Data keys for sealed values, each encrypted (wrapped) under the master key, which is never
-- in the database. The newest seals; older ones still open what they sealed.
CREATE TABLE data_keys (
    id         BIGSERIAL PRIMARY KEY,
    wrapped    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
-- TOTP (RFC 6238): the base32 secret, whether a first code has confirmed it, and the last
-- time step accepted, so no code is used twice.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_confirmed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
-- Failed sign-ins in a row, and until when the next attempt must wait.
ALTER TABLE users ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMPTZ;

-- Browser sessions made before sessions had a kind (12 hours; API tokens last a day or
-- more) end here: everyone signs in again, officials with their second factor.
DELETE FROM api_tokens WHERE expires_at - created_at < INTERVAL '23 hours';

-- A token is an API token, a browser session, or a sign-in waiting for its second factor.
ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
ALTER TABLE api_tokens ADD COLUMN assurance SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN client TEXT NOT NULL DEFAULT '';
CREATE INDEX api_tokens_username ON api_tokens (username);

-- National e-ID sign-ins under way: the hash of the state sent to the provider, with the
-- nonce and PKCE verifier to check its answer against. Each is taken once.
CREATE TABLE eid_logins (
    state_hash    TEXT PRIMARY KEY,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

-- Every read of a person's dossier or personal data by someone else: shown to that person.
-- A record may be withheld from them for an investigation until a date; who withheld it and
-- why stays on the record.
CREATE TABLE access_log (
    id              BIGSERIAL PRIMARY KEY,
    subject         TEXT NOT NULL REFERENCES users (username),
    dossier_code    TEXT,
    reader          TEXT NOT NULL REFERENCES users (username),
    reader_agency   TEXT,
    purpose         TEXT NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    withheld_until  TIMESTAMPTZ,
    withheld_by     TEXT,
    withheld_reason TEXT
);
CREATE INDEX access_log_subject ON access_log (subject, at);
