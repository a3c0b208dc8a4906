-- Weekly posting slots (issue 17): the workspace's (account_id NULL) and an account's own, which replace the
-- workspace's for that account. `weekday` 0 = Monday .. 6 = Sunday; `minute_of_day` 0..1439 in the workspace's zone.
CREATE TABLE queue_slots (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    account_id    TEXT REFERENCES social_accounts(id) ON DELETE CASCADE,
    weekday       BIGINT NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    minute_of_day BIGINT NOT NULL CHECK (minute_of_day BETWEEN 0 AND 1439),
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX queue_slots_unique ON queue_slots (tenant_id, COALESCE(account_id, ''), weekday, minute_of_day);
