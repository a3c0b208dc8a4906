-- Sign-ins to ad platforms (Facebook Login with ads_read, the TikTok for Business advertiser flow), from the link
-- the bot hands out to the ad accounts the admin keeps. One row per sign-in:
-- 1. created with the SHA-256 of the OAuth state (single use, short-lived);
-- 2. the callback spends the state (state_used_at), exchanges the code and parks the token and the ad accounts
--    found, encrypted, with the SHA-256 of the confirmation form's one-time token (confirm_hash);
-- 3. the browser confirms (confirm_hash cleared) or cancels (row deleted);
-- 4. the admin ticks ad accounts in the chat (picked: comma-separated indexes) and keeps them: the row is deleted
--    with every token of the accounts not chosen. Expired rows are deleted by the cleanup sweep.
CREATE TABLE ad_sign_ins (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_id         BIGINT NOT NULL,
    platform        TEXT NOT NULL CHECK (platform IN ('meta', 'tiktok')),
    state_hash      TEXT NOT NULL UNIQUE,
    state_used_at   BIGINT,
    token_enc       TEXT,
    candidates_enc  TEXT,
    confirm_hash    TEXT UNIQUE,
    picked          TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX ad_sign_ins_expiry ON ad_sign_ins (expires_at);
