-- The national portal's sync feed: each event gets a feed number when a feed reader first
-- sees it committed, so numbers follow commit order and a reader resuming after number N
-- misses nothing and sees nothing twice (an id given at insert time could commit out of order).
ALTER TABLE dossier_events ADD COLUMN feed_seq BIGINT;
CREATE INDEX dossier_events_feed ON dossier_events (feed_seq);
