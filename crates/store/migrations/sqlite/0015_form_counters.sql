-- How citizens use each procedure's e-form, for re-engineering: forms opened and submitted,
-- validation errors per field, the time to submit in buckets. Counters, added to in place.
CREATE TABLE form_counters (
    procedure_code TEXT NOT NULL,
    metric         TEXT NOT NULL,
    detail         TEXT NOT NULL,
    value          BIGINT NOT NULL,
    PRIMARY KEY (procedure_code, metric, detail)
);
