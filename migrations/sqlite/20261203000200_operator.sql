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
