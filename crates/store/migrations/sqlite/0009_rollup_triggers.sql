-- The two roll-ups of dossier_stats kept by triggers inside the statement that writes the day's
-- counters: one statement a batch instead of three (see BENCHMARKS.md, counter upkeep).
CREATE TRIGGER dossier_stats_rolled_up_on_insert AFTER INSERT ON dossier_stats
BEGIN
    INSERT INTO agency_day_stats (agency_code, day, metric, value)
    VALUES (NEW.agency_code, NEW.day, NEW.metric, NEW.value)
    ON CONFLICT (agency_code, day, metric) DO UPDATE SET value = value + excluded.value;
    INSERT INTO agency_month_stats (agency_code, month, metric, value)
    VALUES (NEW.agency_code, date(NEW.day, 'start of month'), NEW.metric, NEW.value)
    ON CONFLICT (agency_code, month, metric) DO UPDATE SET value = value + excluded.value;
END;

CREATE TRIGGER dossier_stats_rolled_up_on_update AFTER UPDATE OF value ON dossier_stats
BEGIN
    UPDATE agency_day_stats SET value = value + NEW.value - OLD.value
    WHERE agency_code = NEW.agency_code AND day = NEW.day AND metric = NEW.metric;
    UPDATE agency_month_stats SET value = value + NEW.value - OLD.value
    WHERE agency_code = NEW.agency_code AND month = date(NEW.day, 'start of month')
      AND metric = NEW.metric;
END;

CREATE TRIGGER dossier_stats_rolled_up_on_delete AFTER DELETE ON dossier_stats
BEGIN
    UPDATE agency_day_stats SET value = value - OLD.value
    WHERE agency_code = OLD.agency_code AND day = OLD.day AND metric = OLD.metric;
    UPDATE agency_month_stats SET value = value - OLD.value
    WHERE agency_code = OLD.agency_code AND month = date(OLD.day, 'start of month')
      AND metric = OLD.metric;
END;
