-- Account-level readings (followers) by time, apart from the posts' readings (issue 17): reports and /stats read
-- a period's follower readings without walking every post reading of those days.
CREATE INDEX metrics_account_readings ON metrics_snapshots (tenant_id, captured_at) WHERE target_id IS NULL;
