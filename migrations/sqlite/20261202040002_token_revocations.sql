-- Who granted an account at the provider (the Facebook user behind a Page token, the TikTok open_id): a
-- disconnect revokes the grant at the provider only when no other connected account relies on the same one.
ALTER TABLE social_accounts ADD COLUMN grantor_id TEXT;

-- The token of a disconnected account, kept (encrypted) only until its `account.revoke` job has revoked it at the
-- provider or given up; then the row is deleted. The account itself keeps no token once disconnected.
CREATE TABLE token_revocations (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    auth_kind  TEXT NOT NULL,
    grantor_id TEXT,
    token_enc  TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX token_revocations_created ON token_revocations (created_at);
