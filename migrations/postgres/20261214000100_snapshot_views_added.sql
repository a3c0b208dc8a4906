-- The views a target's reading added to the one before it (issue 17): the chart of new views per day sums this
-- column instead of running a window over every reading of the period. It is the reading's views minus the
-- views of the target's previous reading that has views (ordered by capture time, then id), all of them for the
-- first; missing when the reading has no views. `Store::insert_metrics_snapshot` keeps it, for the new reading
-- and for the one after it when a reading arrives out of order.
ALTER TABLE metrics_snapshots ADD COLUMN views_added BIGINT;
UPDATE metrics_snapshots SET views_added = views - COALESCE((SELECT p.views FROM metrics_snapshots p
    WHERE p.target_id = metrics_snapshots.target_id AND p.views IS NOT NULL
    AND (p.captured_at < metrics_snapshots.captured_at
         OR (p.captured_at = metrics_snapshots.captured_at AND p.id < metrics_snapshots.id))
    ORDER BY p.captured_at DESC, p.id DESC LIMIT 1), 0)
    WHERE target_id IS NOT NULL AND views IS NOT NULL;
-- The chart reads a target's readings of the period from the index alone.
DROP INDEX metrics_target;
CREATE INDEX metrics_target ON metrics_snapshots (target_id, captured_at, id, views_added);
