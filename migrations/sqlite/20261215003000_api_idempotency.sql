-- Idempotency keys of the HTTP API (issue 20): the first response to a POST with an `Idempotency-Key` is kept for a
-- day, so a retry (after a dropped response) gets it again instead of doing the work twice. `status` is NULL while
-- the first request runs; `headers` is a JSON object of the response headers replayed (content type, ETag,
-- Location). Keyed by the SHA-256 of the caller's token, so keys of different tokens never meet.
CREATE TABLE api_idempotency (
    token_hash   TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    status       BIGINT,
    headers      TEXT,
    body         TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (token_hash, idem_key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);
