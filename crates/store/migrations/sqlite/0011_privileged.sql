-- Privileged access: elevations asked for, approved and ended, and the hash chain of every
-- privileged action.

CREATE TABLE elevations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    username     TEXT NOT NULL REFERENCES users (username),
    reason       TEXT NOT NULL,
    minutes      INTEGER NOT NULL,
    break_glass  BOOLEAN NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    approver_1   TEXT REFERENCES users (username),
    approver_2   TEXT REFERENCES users (username),
    granted_at   TIMESTAMP,
    closed_at    TIMESTAMP,
    closed_by    TEXT REFERENCES users (username)
);
CREATE INDEX elevations_username ON elevations (username, requested_at);

-- Append-only: each entry carries the hash of the one before it.
CREATE TABLE privileged_log (
    seq       BIGINT PRIMARY KEY,
    at        TIMESTAMP NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

-- The chain's head: claiming the next number locks it, so appends take turns.
CREATE TABLE privileged_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO privileged_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
