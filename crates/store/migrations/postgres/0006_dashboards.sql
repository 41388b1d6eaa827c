-- Roll-ups for dashboards whose cost must not grow with the number of dossiers.
-- Flows summed by agency, month and metric: a period's whole months are read here, only its
-- ragged ends from dossier_stats. Kept in the same transaction as dossier_stats.
CREATE TABLE agency_month_stats (
    agency_code TEXT NOT NULL,
    month       DATE NOT NULL,
    metric      TEXT NOT NULL,
    value       BIGINT NOT NULL,
    PRIMARY KEY (agency_code, month, metric)
);

-- Dossiers held now (domain::stats::Metric::is_stock), by their due day: whether they are
-- overdue is a comparison with today, so the counts never go stale.
CREATE TABLE dossier_holdings (
    agency_code    TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    channel        TEXT NOT NULL,
    metric         TEXT NOT NULL,
    due_day        DATE NOT NULL,
    value          BIGINT NOT NULL,
    PRIMARY KEY (agency_code, procedure_code, channel, metric, due_day)
);

-- The overdue list: held dossiers of an agency by due time.
CREATE INDEX dossiers_agency_status_due ON dossiers (agency_code, status, due_at);
DROP INDEX dossiers_agency_status;

-- Counters kept before this migration; holdings come from `motcua stats rebuild`.
INSERT INTO agency_month_stats (agency_code, month, metric, value)
SELECT agency_code, CAST(date_trunc('month', day) AS DATE), metric, SUM(value)
FROM dossier_stats GROUP BY agency_code, CAST(date_trunc('month', day) AS DATE), metric;
