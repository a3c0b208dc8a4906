-- The runner's claim on PostgreSQL, as a function so that it is one prepared call with bound values whose plans
-- the server caches per connection. Before, the claim went out as a simple-protocol message (the advisory lock
-- statement, then the claim), which carries no parameters and was planned anew on every claim.
--
-- It first waits for the claim lock (key 0x746f6368656e0001, `CLAIM_LOCK` in core/src/store/job_queue.rs), held
-- until the caller's transaction ends, then claims. The function is VOLATILE, so under READ COMMITTED its claim
-- statement takes a fresh snapshot after the lock was granted: it sees the running jobs of the claim that held the
-- lock before it, and the per-key limit holds across runners. See the module docs of job_queue.rs for the rest
-- (candidate scans, per-key ranking, rescue of expired leases); the SQLite claim there is the same statement.
--
-- p_kinds: the kinds the runner has handlers for, comma-separated (kind names contain no comma).
CREATE FUNCTION tochen_claim_jobs(p_now BIGINT, p_scan BIGINT, p_per_key BIGINT, p_limit BIGINT, p_owner TEXT,
                                  p_lease_until BIGINT, p_kinds TEXT)
RETURNS SETOF jobs LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    wanted TEXT[] := string_to_array(p_kinds, ',');
BEGIN
    PERFORM pg_advisory_xact_lock(8390033930843979777);
    RETURN QUERY
    WITH due AS (SELECT j.id, j.run_at, j.concurrency_key FROM jobs j
        WHERE j.state = 'queued' AND j.run_at <= p_now AND j.kind = ANY (wanted)
        ORDER BY j.run_at LIMIT p_scan FOR UPDATE SKIP LOCKED),
    lost AS (SELECT j.id, j.run_at, j.concurrency_key FROM jobs j
        WHERE j.state = 'running' AND j.lease_expires_at <= p_now AND j.kind = ANY (wanted)
        ORDER BY j.lease_expires_at LIMIT p_scan FOR UPDATE SKIP LOCKED),
    cand AS (SELECT d.id, d.run_at, d.concurrency_key FROM due d
        UNION ALL SELECT l.id, l.run_at, l.concurrency_key FROM lost l),
    ranked AS (SELECT c.id, c.run_at, c.concurrency_key,
        ROW_NUMBER() OVER (PARTITION BY c.concurrency_key ORDER BY c.run_at, c.id) AS rn FROM cand c),
    busy AS (SELECT j.concurrency_key, COUNT(*) AS n FROM jobs j WHERE j.state = 'running'
        AND j.lease_expires_at > p_now AND j.concurrency_key IN (SELECT c.concurrency_key FROM cand c)
        GROUP BY j.concurrency_key),
    pick AS (SELECT r.id FROM ranked r LEFT JOIN busy b ON b.concurrency_key = r.concurrency_key
        WHERE r.concurrency_key IS NULL OR r.rn + COALESCE(b.n, 0) <= p_per_key
        ORDER BY r.run_at, r.id LIMIT p_limit)
    UPDATE jobs SET state = 'running', attempts = jobs.attempts + 1, lease_owner = p_owner,
        lease_expires_at = p_lease_until, updated_at = p_now
    WHERE jobs.id IN (SELECT p.id FROM pick p)
    RETURNING jobs.*;
END;
$$;
