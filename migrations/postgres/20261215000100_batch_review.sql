-- Reviewing a campaign batch in the chat (issue 18): an admin approves a generated draft (kept on its item, so
-- "approve all", "approve one" and "spread over the campaign" work on the batch's own list) before it is spread
-- over the campaign's queue slots.
ALTER TABLE batch_items ADD COLUMN approved_at BIGINT;
ALTER TABLE batch_items ADD COLUMN approved_by TEXT REFERENCES users(id) ON DELETE SET NULL;
