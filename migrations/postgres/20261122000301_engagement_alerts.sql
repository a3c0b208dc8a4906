-- Which incoming engagement (comments, reactions) a workspace wants in its team chat. No row: both on.
CREATE TABLE engagement_alerts (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    comments   BIGINT NOT NULL DEFAULT 1,
    reactions  BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);
