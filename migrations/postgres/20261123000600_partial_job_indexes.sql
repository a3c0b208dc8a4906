-- Fewer index entries written per job and per published target. Every status change of a job or a target is an
-- update of an indexed column, so PostgreSQL writes a new entry into every index whose predicate the new row
-- matches, and each entry costs WAL that the next commit waits to flush: the drain benchmark's publishes were
-- bound by WAL flushes (wal_sync ~0.75 ms each, about one per publish).
--
-- The job queue's indexes only ever serve one state each, so they become partial: a claim no longer writes into
-- the due index, a completion no longer into the due, lease or running indexes. Every query that uses them names
-- the state as a literal (claim, next wake, cleanup), which a partial index needs.
DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
DROP INDEX jobs_lease;
CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE state = 'running';
DROP INDEX jobs_finished;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('succeeded', 'failed', 'dead', 'cancelled');
-- A post's targets are found by the unique (post_id, account_id) index; (tenant_id, post_id, status) repeated it
-- for the few targets a post has, and cost two more index entries per publish.
DROP INDEX post_targets_tenant_post_status;
