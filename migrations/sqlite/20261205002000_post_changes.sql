-- Changes to posts already published (issue 16): editing a published post's text and deleting it from the
-- platform. One row per request, run by a `post.change` job with the same exactly-once care as publishing:
-- `sending` is committed before the platform is called, and a retried job that finds `sending` never sends
-- blindly (an edit sends the same text again, which changes nothing twice; a delete first asks whether the post
-- is still there). At most one open change per target at a time.
CREATE TABLE post_changes (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    post_id           TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    target_id         TEXT NOT NULL REFERENCES post_targets(id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('edit_text', 'delete')),
    new_text          TEXT,
    requested_by      TEXT REFERENCES users(id) ON DELETE SET NULL,
    requested_chat_id BIGINT,
    status            TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'done', 'failed',
                                                                       'unknown')),
    error             TEXT,
    attempts          BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    finished_at       BIGINT
);
CREATE INDEX post_changes_post ON post_changes (tenant_id, post_id, created_at);
CREATE UNIQUE INDEX post_changes_open ON post_changes (target_id) WHERE status IN ('queued', 'sending');

-- What a published target is now: deleted from the platform (when), and its text after the last edit.
ALTER TABLE post_targets ADD COLUMN deleted_at BIGINT;
ALTER TABLE post_targets ADD COLUMN current_text TEXT;
