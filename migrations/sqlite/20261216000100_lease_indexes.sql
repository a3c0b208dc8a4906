-- PostgreSQL's running-job indexes move from `state = 'running'` to `lease_expires_at IS NOT NULL` in this
-- version, so that its planner, misled by stale statistics, no longer prefers them to the primary key. SQLite
-- keeps no statistics here (the product never runs ANALYZE) and plans a lookup by primary key as one, so its
-- indexes stay as they are; this file keeps the two migration histories in step.
SELECT 1;
