-- Fees paid online, their provider callbacks and receipts; the notification outbox; the
-- claims that let scheduled jobs run once across several `serve` nodes.

-- Where and how a person is told of their dossiers.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT 'vi';
-- Who is told of an agency's dossiers, and the leaders' digest.
CREATE INDEX users_role_agency ON users (role, agency_code);

-- One order at the payment provider for a fee request (the request_payment event).
CREATE TABLE payments (
    id            INTEGER PRIMARY KEY,
    txn_ref       TEXT NOT NULL UNIQUE,
    dossier_code  TEXT NOT NULL REFERENCES dossiers (code),
    request_seq   BIGINT NOT NULL,
    agency_code   TEXT NOT NULL,
    amount_vnd    BIGINT NOT NULL,
    status        TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    settled_at    TIMESTAMP,
    provider_ref  TEXT,
    bank_code     TEXT,
    receipt_no    TEXT UNIQUE,
    refunded_at   TIMESTAMP,
    refund_reason TEXT
);
-- Pressing "pay" twice reuses the pending order; a fee request is paid at most once.
CREATE UNIQUE INDEX payments_one_pending ON payments (dossier_code, request_seq)
    WHERE status = 'pending';
CREATE UNIQUE INDEX payments_one_paid ON payments (dossier_code, request_seq)
    WHERE status IN ('paid', 'refunded');
CREATE INDEX payments_agency_day ON payments (agency_code, created_at);

-- Every call from the provider (or the person's return), with the answer it got.
CREATE TABLE payment_callbacks (
    id      INTEGER PRIMARY KEY,
    at      TIMESTAMP NOT NULL,
    kind    TEXT NOT NULL,
    txn_ref TEXT,
    params  TEXT NOT NULL,
    answer  TEXT NOT NULL
);
CREATE INDEX payment_callbacks_txn ON payment_callbacks (txn_ref);

-- Receipt numbers run per agency and year.
CREATE TABLE receipt_sequences (
    agency_code TEXT NOT NULL,
    year        INTEGER NOT NULL,
    last_value  BIGINT NOT NULL,
    PRIMARY KEY (agency_code, year)
);

-- The outbox: written in the transaction of the event it tells of, delivered after.
-- A row due (next_attempt_at passed) is claimed by moving next_attempt_at to the end of a
-- lease, so a node that dies mid-send lets another retry it.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    recipient       TEXT NOT NULL,
    channel         TEXT NOT NULL,
    address         TEXT NOT NULL,
    lang            TEXT NOT NULL,
    template        TEXT NOT NULL,
    facts           TEXT NOT NULL,
    dossier_code    TEXT,
    dedupe_key      TEXT,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    UNIQUE (dedupe_key, channel, recipient)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_dossier ON notifications (dossier_code);
CREATE INDEX notifications_dead ON notifications (status, created_at) WHERE status = 'dead';

-- A scheduled job's period, claimed by the first node to insert it.
CREATE TABLE job_runs (
    job        TEXT NOT NULL,
    period     TEXT NOT NULL,
    node       TEXT NOT NULL,
    claimed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (job, period)
);

-- The deadline job reads the dossiers being processed by due time.
CREATE INDEX dossiers_held_due ON dossiers (due_at) WHERE status IN ('received', 'in_progress');
