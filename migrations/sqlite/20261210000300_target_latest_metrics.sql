-- Each target's latest metrics reading, kept on the target as readings arrive (issue 17): /stats and reports read a
-- period's publications with their numbers from post_targets alone whenever the latest reading lies inside the
-- period, instead of searching the snapshots of every target. `Store::insert_metrics_snapshot` keeps it; ties on
-- the capture time go to the greater snapshot id, as in the reads.
ALTER TABLE post_targets ADD COLUMN latest_snapshot_id TEXT;
ALTER TABLE post_targets ADD COLUMN latest_captured_at BIGINT;
ALTER TABLE post_targets ADD COLUMN latest_views BIGINT;
ALTER TABLE post_targets ADD COLUMN latest_reach BIGINT;
ALTER TABLE post_targets ADD COLUMN latest_likes BIGINT;
ALTER TABLE post_targets ADD COLUMN latest_comments BIGINT;
ALTER TABLE post_targets ADD COLUMN latest_shares BIGINT;
ALTER TABLE post_targets ADD COLUMN latest_saves BIGINT;
UPDATE post_targets SET latest_snapshot_id = (SELECT s.id FROM metrics_snapshots s WHERE s.target_id = post_targets.id
    ORDER BY s.captured_at DESC, s.id DESC LIMIT 1);
UPDATE post_targets SET latest_captured_at = m.captured_at, latest_views = m.views, latest_reach = m.reach,
    latest_likes = m.likes, latest_comments = m.comments, latest_shares = m.shares, latest_saves = m.saves
    FROM metrics_snapshots m WHERE m.id = post_targets.latest_snapshot_id;
-- The latest reading in a period that ends before a target's latest: the newest by time, then id, from the index.
DROP INDEX metrics_target;
CREATE INDEX metrics_target ON metrics_snapshots (target_id, captured_at, id);
