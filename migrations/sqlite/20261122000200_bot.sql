-- The bot: which accounts a draft will go to, chosen on the draft screen before it is scheduled.
-- (Once scheduled, post_targets is the truth.)
CREATE TABLE draft_accounts (
    post_id    TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES social_accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, account_id)
);
CREATE INDEX draft_accounts_tenant ON draft_accounts (tenant_id, post_id);
