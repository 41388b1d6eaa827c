-- The inter-agency exchange: the registry of member systems, the services this instance
-- offers and who may call them, the hash-chained message log and its figures; federation
-- (the national side's copy of each province's dossier-sync records, the provincial side's
-- push cursor); the signatures of result documents; and documents reused from the data
-- warehouse.

CREATE TABLE exchange_members (
    member     TEXT PRIMARY KEY,            -- agency code '/' system name
    name       TEXT NOT NULL,
    public_key TEXT NOT NULL,               -- Ed25519, base64
    url        TEXT NOT NULL,               -- where its exchange answers; empty if it only calls
    added_at   TIMESTAMP NOT NULL
);

-- The catalogue of services each member offers (this instance's own included).
CREATE TABLE exchange_services (
    provider    TEXT NOT NULL,
    service     TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (provider, service)
);

-- Who may call which of this instance's services.
CREATE TABLE exchange_grants (
    service    TEXT NOT NULL,
    client     TEXT NOT NULL REFERENCES exchange_members (member) ON DELETE CASCADE,
    granted_by TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (service, client)
);

-- Append-only: each entry carries the hash of the one before it.
CREATE TABLE exchange_log (
    seq           BIGINT PRIMARY KEY,
    at            TIMESTAMP NOT NULL,
    client        TEXT NOT NULL,
    service       TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    status        INTEGER NOT NULL,
    outcome       TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    response_hash TEXT NOT NULL,
    millis        BIGINT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);

CREATE TABLE exchange_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO exchange_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Each accepted nonce, per client, while its timestamp could still be accepted: a second use
-- finds the row, on whichever node it arrives.
CREATE TABLE exchange_nonces (
    client TEXT NOT NULL,
    nonce  TEXT NOT NULL,
    at     TIMESTAMP NOT NULL,
    PRIMARY KEY (client, nonce)
);
CREATE INDEX exchange_nonces_at ON exchange_nonces (at);

-- Operational figures per day, service and client: counters added by each logged batch.
CREATE TABLE exchange_figures (
    day      TEXT NOT NULL,
    service  TEXT NOT NULL,
    client   TEXT NOT NULL,
    calls    BIGINT NOT NULL,
    errors   BIGINT NOT NULL,
    total_ms BIGINT NOT NULL,
    max_ms   BIGINT NOT NULL,
    PRIMARY KEY (day, service, client)
);

-- National side: how far each province's push has come.
CREATE TABLE federation_cursors (
    member     TEXT PRIMARY KEY,
    cursor     BIGINT NOT NULL,
    records    BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- National side: each dossier's latest sync record, per province that sent it.
CREATE TABLE federated_dossiers (
    code       TEXT NOT NULL,
    province   TEXT NOT NULL,
    status     INTEGER NOT NULL,
    reached    INTEGER NOT NULL,            -- the statuses reached, one bit per code
    record     TEXT NOT NULL,
    cursor     BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (code, province)
);

-- National side: per province, the counters the records add (received, resolved, …).
CREATE TABLE federated_stats (
    province TEXT NOT NULL,
    metric   TEXT NOT NULL,
    value    BIGINT NOT NULL,
    PRIMARY KEY (province, metric)
);

-- Provincial side: the last sync record the national instance accepted.
CREATE TABLE federation_push (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    cursor     BIGINT NOT NULL,
    pushed     BIGINT NOT NULL,
    last_error TEXT,
    updated_at TIMESTAMP
);
INSERT INTO federation_push (id, cursor, pushed) VALUES (1, 0, 0);

-- A result document signed by the issuing agency: what the QR code's page checks.
CREATE TABLE result_signatures (
    id          TEXT PRIMARY KEY,           -- random, in the QR code
    dossier     TEXT NOT NULL,
    agency_code TEXT NOT NULL,
    document    TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    signed_at   TIMESTAMP NOT NULL,
    public_key  TEXT NOT NULL,
    signature   TEXT NOT NULL
);
CREATE INDEX result_signatures_dossier ON result_signatures (dossier);

-- Once-only reuse: an upload that is a copy of a document from the applicant's data warehouse
-- (an earlier dossier's document or e-result here), or of a signed result fetched from another
-- member with the applicant's consent, instead of a file sent again.
CREATE TABLE reused_documents (
    upload_id      TEXT PRIMARY KEY REFERENCES attachments (id),
    source_member  TEXT,                    -- NULL: this instance
    source_id      TEXT NOT NULL,           -- the attachment here, or the signed result there
    source_dossier TEXT NOT NULL,
    at             TIMESTAMP NOT NULL
);
