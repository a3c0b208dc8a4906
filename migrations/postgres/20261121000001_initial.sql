-- tochen initial schema.
-- PostgreSQL twin of migrations/sqlite/20261121000001_initial.sql (portable types: see that file).
-- flags are BIGINT 0/1. The PostgreSQL migration with the same version stamp holds the same tables.

CREATE TABLE tenants (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    business_description    TEXT NOT NULL DEFAULT '',
    target_audience         TEXT NOT NULL DEFAULT '',
    tone                    TEXT NOT NULL DEFAULT 'friendly',
    language                TEXT NOT NULL DEFAULT 'en',
    timezone                TEXT NOT NULL DEFAULT 'UTC',
    llm_monthly_token_quota BIGINT NOT NULL DEFAULT 0,
    llm_usage_month         TEXT NOT NULL DEFAULT '',
    llm_tokens_used         BIGINT NOT NULL DEFAULT 0,
    llm_cost_micros_used    BIGINT NOT NULL DEFAULT 0,
    team_chat_id            BIGINT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);

CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    telegram_id       BIGINT NOT NULL UNIQUE,
    username          TEXT,
    first_name        TEXT NOT NULL DEFAULT '',
    last_name         TEXT,
    language_code     TEXT,
    language_override TEXT,
    active_tenant_id  TEXT REFERENCES tenants(id) ON DELETE SET NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE memberships (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE invites (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    code       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    used_by    TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX invites_tenant ON invites (tenant_id);

CREATE TABLE social_accounts (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    platform           TEXT NOT NULL CHECK (platform IN ('facebook', 'instagram', 'tiktok')),
    auth_kind          TEXT NOT NULL,
    external_id        TEXT NOT NULL,
    name               TEXT NOT NULL,
    access_token_enc   TEXT NOT NULL,
    refresh_token_enc  TEXT,
    scopes             TEXT NOT NULL DEFAULT '',
    token_expires_at   BIGINT,
    refresh_expires_at BIGINT,
    token_issued_at    BIGINT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_reconnect', 'disconnected')),
    status_reason      TEXT,
    connected_by       TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (tenant_id, platform, external_id)
);

CREATE TABLE campaigns (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    starts_at   BIGINT,
    ends_at     BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX campaigns_tenant ON campaigns (tenant_id);

CREATE TABLE media (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('image', 'video')),
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    storage_path  TEXT NOT NULL,
    source        TEXT NOT NULL,
    width         BIGINT,
    height        BIGINT,
    duration_ms   BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX media_tenant ON media (tenant_id);

-- A post is a draft until it is scheduled; approval sits between for editors' posts.
CREATE TABLE posts (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    campaign_id      TEXT REFERENCES campaigns(id) ON DELETE SET NULL,
    author_id        TEXT REFERENCES users(id) ON DELETE SET NULL,
    author_chat_id   BIGINT,
    title            TEXT NOT NULL DEFAULT '',
    idea             TEXT NOT NULL DEFAULT '',
    image_prompt     TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('draft', 'pending_approval', 'scheduled', 'publishing',
                                                     'published', 'partially_published', 'failed', 'cancelled',
                                                     'rejected')),
    scheduled_at     BIGINT,
    approved_by      TEXT REFERENCES users(id) ON DELETE SET NULL,
    approved_at      BIGINT,
    rejection_reason TEXT,
    version          BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX posts_tenant_status ON posts (tenant_id, status, scheduled_at);

-- Platform-aware text of a post: one row per platform.
CREATE TABLE post_contents (
    post_id    TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    platform   TEXT NOT NULL CHECK (platform IN ('facebook', 'instagram', 'tiktok')),
    body       TEXT NOT NULL DEFAULT '',
    hashtags   TEXT NOT NULL DEFAULT '[]',
    link       TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, platform)
);

CREATE TABLE post_media (
    post_id   TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    media_id  TEXT NOT NULL REFERENCES media(id) ON DELETE CASCADE,
    position  BIGINT NOT NULL,
    PRIMARY KEY (post_id, media_id)
);

-- One target per (post, platform account); the unit the scheduler publishes.
CREATE TABLE post_targets (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    post_id          TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    account_id       TEXT NOT NULL REFERENCES social_accounts(id) ON DELETE CASCADE,
    platform         TEXT NOT NULL CHECK (platform IN ('facebook', 'instagram', 'tiktok')),
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'publishing', 'published', 'failed',
                                                                           'unknown', 'cancelled')),
    platform_ref     TEXT,
    platform_post_id TEXT,
    permalink        TEXT,
    error_class      TEXT,
    error_message    TEXT,
    attempts         BIGINT NOT NULL DEFAULT 0,
    published_at     BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (post_id, account_id)
);
CREATE INDEX post_targets_tenant_status ON post_targets (tenant_id, status);

CREATE TABLE metrics_snapshots (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES social_accounts(id) ON DELETE CASCADE,
    target_id   TEXT REFERENCES post_targets(id) ON DELETE CASCADE,
    platform    TEXT NOT NULL,
    captured_at BIGINT NOT NULL,
    views       BIGINT,
    reach       BIGINT,
    likes       BIGINT,
    comments    BIGINT,
    shares      BIGINT,
    saves       BIGINT,
    followers   BIGINT,
    raw         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX metrics_tenant_time ON metrics_snapshots (tenant_id, captured_at);
CREATE INDEX metrics_target ON metrics_snapshots (target_id, captured_at);

CREATE TABLE destinations (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('telegram', 'webhook', 'email')),
    name             TEXT NOT NULL,
    telegram_chat_id BIGINT,
    url              TEXT,
    secret_enc       TEXT,
    email            TEXT,
    status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'disabled')),
    status_reason    TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX destinations_tenant ON destinations (tenant_id);
CREATE INDEX destinations_chat ON destinations (telegram_chat_id);

CREATE TABLE automations (
    id                       TEXT PRIMARY KEY,
    tenant_id                TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind                     TEXT NOT NULL,
    name                     TEXT NOT NULL,
    cron                     TEXT NOT NULL,
    timezone                 TEXT NOT NULL,
    config                   TEXT NOT NULL DEFAULT '{}',
    status                   TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    paused_reason            TEXT,
    missed_run_policy        TEXT NOT NULL DEFAULT 'run_once' CHECK (missed_run_policy IN ('skip', 'run_once', 'catch_up')),
    next_run_at              BIGINT,
    last_run_at              BIGINT,
    run_count                BIGINT NOT NULL DEFAULT 0,
    failure_count            BIGINT NOT NULL DEFAULT 0,
    consecutive_failures     BIGINT NOT NULL DEFAULT 0,
    max_consecutive_failures BIGINT NOT NULL DEFAULT 5,
    created_by               TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL
);
CREATE INDEX automations_due ON automations (status, next_run_at);
CREATE INDEX automations_tenant ON automations (tenant_id);

CREATE TABLE automation_destinations (
    automation_id  TEXT NOT NULL REFERENCES automations(id) ON DELETE CASCADE,
    destination_id TEXT NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    PRIMARY KEY (automation_id, destination_id)
);

CREATE TABLE automation_runs (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    automation_id TEXT NOT NULL REFERENCES automations(id) ON DELETE CASCADE,
    slot_at       BIGINT NOT NULL,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    duration_ms   BIGINT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('running', 'success', 'failed', 'skipped')),
    error         TEXT
);
CREATE INDEX automation_runs_automation ON automation_runs (automation_id, started_at);

-- The durable job queue. tenant_id is NULL for system jobs (sweeps).
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL DEFAULT '{}',
    run_at           BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    max_attempts     BIGINT NOT NULL DEFAULT 8,
    state            TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed',
                                                                         'dead', 'cancelled')),
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    last_error       TEXT,
    unique_key       TEXT UNIQUE,
    concurrency_key  TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    finished_at      BIGINT
);
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX jobs_lease ON jobs (state, lease_expires_at);
CREATE INDEX jobs_tenant ON jobs (tenant_id);

CREATE TABLE llm_usage (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id           TEXT REFERENCES users(id) ON DELETE SET NULL,
    provider          TEXT NOT NULL,
    model             TEXT NOT NULL,
    request_type      TEXT NOT NULL,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    total_tokens      BIGINT NOT NULL DEFAULT 0,
    images            BIGINT NOT NULL DEFAULT 0,
    cost_micros       BIGINT NOT NULL DEFAULT 0,
    latency_ms        BIGINT NOT NULL DEFAULT 0,
    outcome           TEXT NOT NULL CHECK (outcome IN ('success', 'error')),
    error             TEXT,
    created_at        BIGINT NOT NULL
);
CREATE INDEX llm_usage_tenant_time ON llm_usage (tenant_id, created_at);

-- OAuth state values are stored as SHA-256 hashes: the raw value only ever lives in the user's browser.
CREATE TABLE oauth_states (
    state_hash        TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id           TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_id           BIGINT NOT NULL,
    platform          TEXT NOT NULL,
    auth_kind         TEXT NOT NULL,
    pkce_verifier_enc TEXT,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    used_at           BIGINT
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

-- Incoming webhook events (Meta, TikTok, Telegram webhook mode), deduplicated by (source, event_key).
CREATE TABLE webhook_events (
    id           TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    event_key    TEXT NOT NULL,
    tenant_id    TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'ignored', 'failed')),
    received_at  BIGINT NOT NULL,
    processed_at BIGINT,
    UNIQUE (source, event_key)
);
CREATE INDEX webhook_events_received ON webhook_events (received_at);

-- Dialogue state keyed by chat AND user, so two people in one group never share a conversation.
CREATE TABLE dialogue_states (
    chat_id    BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    state      TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    destination_id   TEXT NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
    message_id       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    last_status_code BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT
);
CREATE INDEX webhook_deliveries_destination ON webhook_deliveries (tenant_id, destination_id, created_at);

CREATE TABLE webhook_delivery_attempts (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt          BIGINT NOT NULL,
    status_code      BIGINT,
    latency_ms       BIGINT NOT NULL,
    response_snippet TEXT,
    error            TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX webhook_delivery_attempts_delivery ON webhook_delivery_attempts (delivery_id);

CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    actor_id     TEXT REFERENCES users(id) ON DELETE SET NULL,
    action       TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id   TEXT,
    details      TEXT NOT NULL DEFAULT '{}',
    created_at   BIGINT NOT NULL
);
CREATE INDEX audit_log_tenant_time ON audit_log (tenant_id, created_at);

-- Liveness of scheduler instances, read by /health and the heartbeat alert.
CREATE TABLE scheduler_heartbeats (
    instance_id TEXT PRIMARY KEY,
    started_at  BIGINT NOT NULL,
    beat_at     BIGINT NOT NULL,
    version     TEXT NOT NULL
);
