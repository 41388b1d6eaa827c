-- People who act on dossiers, API tokens, and the dossiers with their event log.
CREATE TABLE users (
    username    TEXT PRIMARY KEY,
    full_name   TEXT NOT NULL,
    role        TEXT NOT NULL,
    agency_code TEXT REFERENCES agencies (code),
    created_at  TIMESTAMP NOT NULL
);

-- Only a hash of each token is kept: a stolen table does not give access.
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES users (username),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- The daily sequence of each receiving agency, for dossier codes that never repeat.
CREATE TABLE dossier_sequences (
    agency_code TEXT NOT NULL,
    day         DATE NOT NULL,
    last_value  BIGINT NOT NULL,
    PRIMARY KEY (agency_code, day)
);

CREATE TABLE dossiers (
    code               TEXT PRIMARY KEY,
    procedure_code     TEXT NOT NULL REFERENCES procedures (code),
    procedure_version  DATE NOT NULL,
    agency_code        TEXT NOT NULL REFERENCES agencies (code),
    channel            TEXT NOT NULL,
    applicant          TEXT NOT NULL REFERENCES users (username),
    status             TEXT NOT NULL,
    state              TEXT NOT NULL,
    form               TEXT NOT NULL,
    submitted_at       TIMESTAMP NOT NULL,
    received_at        TIMESTAMP,
    due_at             TIMESTAMP,
    paused_at          TIMESTAMP,
    ended_at           TIMESTAMP,
    version            BIGINT NOT NULL,
    event_count        BIGINT NOT NULL,
    last_event_hash    TEXT NOT NULL
);
CREATE INDEX dossiers_agency_status ON dossiers (agency_code, status);
CREATE INDEX dossiers_applicant ON dossiers (applicant, submitted_at);

-- Append-only: rows are never updated or deleted.
CREATE TABLE dossier_events (
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    sequence     BIGINT NOT NULL,
    at           TIMESTAMP NOT NULL,
    actor        TEXT NOT NULL,
    agency_code  TEXT,
    action       TEXT NOT NULL,
    from_status  TEXT NOT NULL,
    to_status    TEXT NOT NULL,
    payload      TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (dossier_code, sequence)
);

-- A retried submission with the same key returns the first dossier.
CREATE TABLE idempotency_keys (
    username     TEXT NOT NULL,
    key          TEXT NOT NULL,
    dossier_code TEXT NOT NULL REFERENCES dossiers (code),
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (username, key)
);
