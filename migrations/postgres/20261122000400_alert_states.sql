-- Alert rule states: one row per (workspace, rule, subject) that ever fired, so an alert is announced once while
-- it persists, respects its cooldown, and gets a "resolved" message when it clears.
CREATE TABLE alert_states (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    rule             TEXT NOT NULL,
    subject          TEXT NOT NULL,
    firing           BIGINT NOT NULL DEFAULT 0,
    notified         BIGINT NOT NULL DEFAULT 0,
    first_seen_at    BIGINT NOT NULL,
    last_notified_at BIGINT,
    resolved_at      BIGINT,
    details          TEXT NOT NULL DEFAULT '{}',
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, rule, subject)
);
