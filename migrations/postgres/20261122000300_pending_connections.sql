-- Accounts an OAuth callback found when there were several (Pages, Instagram accounts): the bot asks which to
-- connect. The candidates, with their tokens, are one encrypted JSON text; the row lives for a few minutes.
CREATE TABLE pending_connections (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_id        BIGINT NOT NULL,
    platform       TEXT NOT NULL,
    candidates_enc TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);
CREATE INDEX pending_connections_expiry ON pending_connections (expires_at);
