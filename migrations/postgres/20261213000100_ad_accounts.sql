-- Ad accounts (Meta Marketing API ad accounts, TikTok advertisers) and their daily insights.
-- Numbers are exact: integer millionths of the value (money: millionths of the account currency's major unit),
-- NULL when the platform did not send the metric. Sums are only taken within one ad account's currency.
CREATE TABLE ad_accounts (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    platform         TEXT NOT NULL CHECK (platform IN ('meta', 'tiktok')),
    account_ref      TEXT NOT NULL,
    name             TEXT NOT NULL,
    currency         TEXT NOT NULL,
    zone             TEXT NOT NULL,
    status           TEXT NOT NULL,
    disable_reason   BIGINT,
    token_enc        TEXT NOT NULL,
    last_validated   BIGINT,
    is_valid         BIGINT NOT NULL DEFAULT 1,
    invalid_reason   TEXT,
    throttled_until  BIGINT,
    synced_through   TEXT,
    connected_by     TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (tenant_id, platform, account_ref)
);

CREATE TABLE ad_insights (
    ad_account_id    TEXT NOT NULL REFERENCES ad_accounts(id) ON DELETE CASCADE,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    level            TEXT NOT NULL CHECK (level IN ('account', 'campaign', 'adset', 'ad')),
    object_id        TEXT NOT NULL,
    day              TEXT NOT NULL,
    object_name      TEXT,
    campaign_id      TEXT,
    spend            BIGINT,
    impressions      BIGINT,
    reach            BIGINT,
    frequency        BIGINT,
    clicks           BIGINT,
    cpc              BIGINT,
    cpm              BIGINT,
    ctr              BIGINT,
    conversions      BIGINT,
    conversion_value BIGINT,
    roas             BIGINT,
    fetched_at       BIGINT NOT NULL,
    PRIMARY KEY (ad_account_id, level, object_id, day)
);

CREATE INDEX ad_insights_by_tenant_day ON ad_insights (tenant_id, level, day);
