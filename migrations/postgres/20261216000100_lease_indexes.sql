-- The running job's indexes are keyed on the lease instead of the state (issue 21, item 3).
--
-- Partial on `state = 'running'`, these indexes were a candidate for every statement that names that state,
-- including the single-job updates by primary key (lease extension, retry, finish) and the batched completion.
-- A job queue's statistics are always stale: ANALYZE (autovacuum) sees a moment when few jobs run, so the
-- planner takes the running index for a handful of rows and prefers it to the primary key. Under load it holds
-- hundreds of running jobs and, between vacuums, every finished job's dead entry: a completion of 512 jobs
-- joined the whole running set against its list row by row (80-180 ms each, claim-and-complete of 20,000 jobs
-- at 950 jobs/s after an ANALYZE instead of 7,000-15,000).
--
-- `lease_expires_at` is set exactly while a job runs (the claim sets it, every way out of `running` clears it),
-- so the same rows are indexed; the queries that want these indexes (the rescue of expired leases, the busy count
-- per account, the next lease expiry) bound the lease, which implies the predicate, and the updates by id no
-- longer can use them.
DROP INDEX jobs_lease;
CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE lease_expires_at IS NOT NULL;
DROP INDEX jobs_running_key;
CREATE INDEX jobs_running_key ON jobs (concurrency_key) WHERE lease_expires_at IS NOT NULL;
