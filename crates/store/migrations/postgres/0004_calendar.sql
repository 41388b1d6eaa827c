-- The decreed days off and make-up working days of each year, as the government announces
-- them; the operator edits them (motcua calendar import). Years without a row follow the
-- statutory rules. Seeded with the official announcements shipped in the binary.
CREATE TABLE calendar_decrees (
    year             INTEGER PRIMARY KEY,
    -- JSON: [{"date": "YYYY-MM-DD", "name": "…"}]
    days_off         TEXT NOT NULL,
    -- JSON: ["YYYY-MM-DD"]
    weekend_workdays TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
