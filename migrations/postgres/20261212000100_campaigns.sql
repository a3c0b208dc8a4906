-- Campaigns and batch generation (issue 18). The campaigns table of the first migration gains the brief's fields,
-- a status (draft, active, finished, archived: archive is a soft delete, posts and batches stay) and its targets;
-- a batch generates many drafts for a campaign, one durable `batch.item` job per item.
ALTER TABLE campaigns ADD COLUMN brand TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN audience TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN tone TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN goal TEXT NOT NULL DEFAULT '';
-- JSON arrays: platform names and social account ids.
ALTER TABLE campaigns ADD COLUMN platforms TEXT NOT NULL DEFAULT '[]';
ALTER TABLE campaigns ADD COLUMN account_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE campaigns ADD COLUMN status TEXT NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'active', 'finished', 'archived'));
ALTER TABLE campaigns ADD COLUMN archived_at BIGINT;
ALTER TABLE campaigns ADD COLUMN created_by TEXT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE campaigns ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

CREATE INDEX posts_campaign ON posts (tenant_id, campaign_id);

CREATE TABLE campaign_batches (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    campaign_id          TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    started_by           TEXT REFERENCES users(id) ON DELETE SET NULL,
    chat_id              BIGINT,
    with_images          BIGINT NOT NULL DEFAULT 0,
    status               TEXT NOT NULL DEFAULT 'running'
                         CHECK (status IN ('running', 'finished', 'cancelled', 'quota_stopped')),
    total                BIGINT NOT NULL,
    estimate_tokens      BIGINT NOT NULL DEFAULT 0,
    estimate_cost_micros BIGINT NOT NULL DEFAULT 0,
    progress_message_id  BIGINT,
    progress_edited_at   BIGINT,
    created_at           BIGINT NOT NULL,
    finished_at          BIGINT
);
CREATE INDEX campaign_batches_campaign ON campaign_batches (tenant_id, campaign_id, created_at);

CREATE TABLE batch_items (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    batch_id    TEXT NOT NULL REFERENCES campaign_batches(id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    topic       TEXT NOT NULL,
    tone        TEXT NOT NULL DEFAULT '',
    brief       TEXT NOT NULL DEFAULT '',
    audience    TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled', 'skipped')),
    error       TEXT,
    post_id     TEXT REFERENCES posts(id) ON DELETE SET NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    round       BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (batch_id, position)
);
CREATE INDEX batch_items_batch ON batch_items (tenant_id, batch_id, status);
