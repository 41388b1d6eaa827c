-- Flows summed by agency, day and metric: the ragged ends of a period (the days outside its
-- whole months) are read here, a few rows an agency a day, instead of the per-procedure and
-- per-channel rows of dossier_stats. Kept in the same transaction as dossier_stats.
CREATE TABLE agency_day_stats (
    agency_code TEXT NOT NULL,
    day         DATE NOT NULL,
    metric      TEXT NOT NULL,
    value       BIGINT NOT NULL,
    PRIMARY KEY (agency_code, day, metric)
);

INSERT INTO agency_day_stats (agency_code, day, metric, value)
SELECT agency_code, day, metric, SUM(value) FROM dossier_stats GROUP BY agency_code, day, metric;
