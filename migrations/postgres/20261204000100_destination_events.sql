-- Per-destination event filters: which event types a webhook destination receives, as a JSON array of type names
-- (e.g. ["post.published","post.failed"]). NULL means every event, including types added later. A `ping` sent by
-- "send test" ignores the filter.
ALTER TABLE destinations ADD COLUMN event_types TEXT;
