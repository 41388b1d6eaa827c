-- Statistics counters kept by the events (domain::stats): one row per day (in Vietnam),
-- agency, procedure, channel and metric, added to in the same transaction as each event.
-- Roll-ups over the agency tree and over months read these rows, never the dossiers.
CREATE TABLE dossier_stats (
    day            DATE NOT NULL,
    agency_code    TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    channel        TEXT NOT NULL,
    metric         TEXT NOT NULL,
    value          BIGINT NOT NULL,
    PRIMARY KEY (agency_code, day, procedure_code, channel, metric)
);
