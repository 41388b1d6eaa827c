-- Catalogue: levels, agencies, procedures and their versions, life events, form templates.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('catalogue_generation', 0);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE levels (
    code           TEXT PRIMARY KEY,
    name_vi        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    catalogue_name TEXT NOT NULL,
    rank           INTEGER NOT NULL,
    valid_until    DATE
);
INSERT INTO levels (code, name_vi, name_en, catalogue_name, rank, valid_until) VALUES
    ('central',  'Trung ương', 'Central',  'Cấp Bộ',    0, NULL),
    ('province', 'Cấp tỉnh',   'Province', 'Cấp Tỉnh',  1, NULL),
    ('district', 'Cấp huyện',  'District', 'Cấp Huyện', 2, '2025-06-30'),
    ('commune',  'Cấp xã',     'Commune',  'Cấp Xã',    3, NULL);

CREATE TABLE agencies (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    parent_code TEXT REFERENCES agencies (code),
    level_code  TEXT NOT NULL REFERENCES levels (code)
);
CREATE INDEX agencies_parent ON agencies (parent_code);

CREATE TABLE procedures (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE procedure_versions (
    procedure_code TEXT NOT NULL REFERENCES procedures (code),
    effective_from DATE NOT NULL,
    content_hash   TEXT NOT NULL,
    body           TEXT NOT NULL,
    PRIMARY KEY (procedure_code, effective_from)
);

CREATE TABLE life_events (
    code           TEXT PRIMARY KEY,
    name_vi        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    description_vi TEXT NOT NULL,
    position       INTEGER NOT NULL
);

-- No foreign key to procedures: an event may list a procedure not yet imported.
CREATE TABLE life_event_procedures (
    life_event_code TEXT NOT NULL REFERENCES life_events (code),
    procedure_code  TEXT NOT NULL,
    PRIMARY KEY (life_event_code, procedure_code)
);

CREATE TABLE form_templates (
    procedure_code TEXT NOT NULL REFERENCES procedures (code),
    file_name      TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    content        BLOB NOT NULL,
    PRIMARY KEY (procedure_code, file_name)
);

CREATE INDEX agencies_level ON agencies (level_code, code);
