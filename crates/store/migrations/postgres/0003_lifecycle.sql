-- Local sign-in, e-form designs, drafts and attachments.

-- Argon2id PHC strings; NULL for accounts that sign in another way.
ALTER TABLE users ADD COLUMN password_hash TEXT;

-- How a procedure is served from a version on: its e-form, documents and workflow steps
-- (a JSON ServiceDesign). A dossier uses the latest design in force for its version.
CREATE TABLE service_designs (
    procedure_code TEXT NOT NULL REFERENCES procedures (code),
    effective_from DATE NOT NULL,
    body           TEXT NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (procedure_code, effective_from)
);

-- A citizen's unfinished application: not a dossier, so it takes no code and no event.
CREATE TABLE drafts (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL REFERENCES users (username),
    procedure_code TEXT NOT NULL REFERENCES procedures (code),
    agency_code    TEXT REFERENCES agencies (code),
    form           TEXT NOT NULL,
    attachments    TEXT NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX drafts_user ON drafts (username, updated_at);

-- Files in the object store. A file belongs to its uploader until it is attached to a
-- dossier, in the same transaction as the event that attaches it.
CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    owner        TEXT NOT NULL REFERENCES users (username),
    dossier_code TEXT REFERENCES dossiers (code),
    document     TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_dossier ON attachments (dossier_code);
