-- Consuming stored inbound events.
-- Telegram webhook-mode updates are claimed by the bot with a lease (owner, expiry) in update_id order, and a
-- claim counter stops an update that crashes the bot every time from being retried forever.
ALTER TABLE webhook_events ADD COLUMN update_id BIGINT;
ALTER TABLE webhook_events ADD COLUMN lease_owner TEXT;
ALTER TABLE webhook_events ADD COLUMN lease_expires_at BIGINT;
ALTER TABLE webhook_events ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
UPDATE webhook_events SET update_id = CAST(event_key AS BIGINT) WHERE source = 'telegram';
CREATE INDEX webhook_events_telegram_pending ON webhook_events (update_id)
    WHERE source = 'telegram' AND status = 'received';
CREATE INDEX webhook_events_pending ON webhook_events (received_at) WHERE status = 'received';
-- The bot reads stored updates itself now; `telegram.update` jobs had no handler and would wait forever.
DELETE FROM jobs WHERE kind = 'telegram.update';
-- `webhook.event` jobs are keyed `webhook.event:{event_id}` now (was `webhook:{event_id}`), so the recovery
-- sweep recognises jobs queued before this change.
UPDATE jobs SET unique_key = 'webhook.event:' || substr(unique_key, 9)
    WHERE kind = 'webhook.event' AND unique_key LIKE 'webhook:%';
