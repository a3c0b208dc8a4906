-- The operator: the person who runs this instance.
--
-- A suspended workspace keeps everything; its jobs stay queued and are not claimed until it is resumed (the claim
-- statements skip jobs of tenants listed by `tenants_suspended`).
ALTER TABLE tenants ADD COLUMN suspended_at BIGINT;
CREATE INDEX tenants_suspended ON tenants (id) WHERE suspended_at IS NOT NULL;

-- When TOCHEN_OPERATORS is empty, the first person to /start becomes the operator. One row at most: the primary
-- key is the constant slot 1, so two people starting at once cannot both win.
CREATE TABLE instance_operator (
    slot        INTEGER PRIMARY KEY CHECK (slot = 1),
    telegram_id BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Single-use codes that let someone create a workspace under TOCHEN_WORKSPACE_CREATION=code, handed out as
-- t.me/<bot>?start=new_<code> deep links. Claimed by the person who opens the link (`claimed_by`), spent when
-- that person's workspace is created (`tenant_id`), in the same transaction.
CREATE TABLE workspace_codes (
    code       TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    claimed_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    claimed_at BIGINT,
    tenant_id  TEXT REFERENCES tenants(id) ON DELETE SET NULL,
    spent_at   BIGINT
);
CREATE INDEX workspace_codes_claimed ON workspace_codes (claimed_by) WHERE spent_at IS NULL;

-- What the operator did, from the bot or the command line. Not tied to a workspace's lifetime: an entry about a
-- workspace stays when the workspace is deleted.
CREATE TABLE operator_audit (
    id         TEXT PRIMARY KEY,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    tenant_id  TEXT,
    subject    TEXT,
    details    TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE INDEX operator_audit_time ON operator_audit (created_at);

-- The claim function of 20261123000500, with jobs of suspended workspaces skipped (held until resumed).
CREATE OR REPLACE FUNCTION tochen_claim_jobs(p_now BIGINT, p_scan BIGINT, p_per_key BIGINT, p_limit BIGINT,
                                             p_owner TEXT, p_lease_until BIGINT, p_kinds TEXT)
RETURNS SETOF jobs LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    wanted TEXT[] := string_to_array(p_kinds, ',');
BEGIN
    PERFORM pg_advisory_xact_lock(8390033930843979777);
    RETURN QUERY
    WITH held AS (SELECT t.id FROM tenants t WHERE t.suspended_at IS NOT NULL),
    due AS (SELECT j.id, j.run_at, j.concurrency_key FROM jobs j
        WHERE j.state = 'queued' AND j.run_at <= p_now AND j.kind = ANY (wanted)
          AND (j.tenant_id IS NULL OR j.tenant_id NOT IN (SELECT h.id FROM held h))
        ORDER BY j.run_at LIMIT p_scan FOR UPDATE OF j SKIP LOCKED),
    lost AS (SELECT j.id, j.run_at, j.concurrency_key FROM jobs j
        WHERE j.state = 'running' AND j.lease_expires_at <= p_now AND j.kind = ANY (wanted)
          AND (j.tenant_id IS NULL OR j.tenant_id NOT IN (SELECT h.id FROM held h))
        ORDER BY j.lease_expires_at LIMIT p_scan FOR UPDATE OF j SKIP LOCKED),
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
