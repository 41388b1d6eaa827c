-- The two roll-ups of dossier_stats kept by a trigger inside the statement that writes the
-- day's counters: one statement a batch instead of three (see BENCHMARKS.md, counter upkeep).
CREATE FUNCTION dossier_stats_roll_up() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change BIGINT;
    row_of dossier_stats%ROWTYPE;
BEGIN
    IF TG_OP = 'INSERT' THEN
        change := NEW.value; row_of := NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        change := NEW.value - OLD.value; row_of := NEW;
    ELSE
        change := -OLD.value; row_of := OLD;
    END IF;
    INSERT INTO agency_day_stats (agency_code, day, metric, value)
    VALUES (row_of.agency_code, row_of.day, row_of.metric, change)
    ON CONFLICT (agency_code, day, metric)
      DO UPDATE SET value = agency_day_stats.value + excluded.value;
    INSERT INTO agency_month_stats (agency_code, month, metric, value)
    VALUES (row_of.agency_code, CAST(date_trunc('month', row_of.day) AS DATE), row_of.metric, change)
    ON CONFLICT (agency_code, month, metric)
      DO UPDATE SET value = agency_month_stats.value + excluded.value;
    RETURN NULL;
END;
$$;

CREATE TRIGGER dossier_stats_rolled_up AFTER INSERT OR UPDATE OF value OR DELETE ON dossier_stats
FOR EACH ROW EXECUTE FUNCTION dossier_stats_roll_up();
