-- Posts published to sandbox accounts. The simulated platform keeps what it was sent (the caption as published
-- and the media files it pulled), so its permalink page on the web service shows the post as it went out even if
-- the draft changes later. One row per post target: a retried publish finds the row instead of posting twice.
CREATE TABLE sandbox_posts (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    account_id   TEXT NOT NULL,
    target_id    TEXT NOT NULL UNIQUE,
    platform     TEXT NOT NULL,
    account_name TEXT NOT NULL,
    caption      TEXT NOT NULL,
    media        TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX sandbox_posts_tenant ON sandbox_posts (tenant_id, created_at);
