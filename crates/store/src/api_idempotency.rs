//! Idempotency keys of the HTTP API (issue 20): a POST sent again with the same `Idempotency-Key` by the same token
//! gets the first response back instead of running twice. A key is reserved before the request runs (so a retry
//! racing the first attempt is told to wait), finished with the response, or released when the request failed on
//! our side (so a retry runs it again). Keys are kept for [`IDEMPOTENCY_KEEP_MS`].

use crate::{Result, Store};
use tochen_domain::clock::Millis;

/// How long a key's first response is kept.
pub const IDEMPOTENCY_KEEP_MS: Millis = 24 * 3_600_000;

/// What a reservation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// The key is new: run the request, then finish or release it.
    Reserved,
    /// The first request with this key is still running.
    InProgress,
    /// The key was used for a different request (another method, path or body).
    Mismatch,
    /// The first request's response: its status, the headers kept (a JSON object) and its body.
    Done { status: u16, headers: Option<String>, body: String },
}

/// A key's row: fingerprint, status, headers, body.
type KeyRow = (String, Option<i64>, Option<String>, Option<String>);

impl Store {
    /// Reserves `key` of the token whose hash is `token_hash` for a request with `fingerprint` (method, path and
    /// body hashed), or says what the key already holds. Keys older than [`IDEMPOTENCY_KEEP_MS`] are forgotten.
    pub async fn reserve_idempotency(
        &self,
        token_hash: &str,
        key: &str,
        fingerprint: &str,
        now: Millis,
    ) -> Result<Idempotency> {
        sqlx::query("DELETE FROM api_idempotency WHERE created_at < $1")
            .bind(now - IDEMPOTENCY_KEEP_MS)
            .execute(&self.pool)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO api_idempotency (token_hash, idem_key, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (token_hash, idem_key) DO NOTHING",
        )
        .bind(token_hash)
        .bind(key)
        .bind(fingerprint)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Idempotency::Reserved);
        }
        let row: Option<KeyRow> = sqlx::query_as(
            "SELECT fingerprint, status, headers, body FROM api_idempotency WHERE token_hash = $1 AND idem_key = $2",
        )
        .bind(token_hash)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            // Released between the insert and the read: the caller may simply try again.
            None => Idempotency::InProgress,
            Some((_, None, _, _)) => Idempotency::InProgress,
            Some((f, _, _, _)) if f != fingerprint => Idempotency::Mismatch,
            Some((_, Some(status), headers, body)) => Idempotency::Done {
                status: u16::try_from(status).unwrap_or(500),
                headers,
                body: body.unwrap_or_default(),
            },
        })
    }

    /// Keeps the response of the request that reserved `key`.
    pub async fn finish_idempotency(
        &self,
        token_hash: &str,
        key: &str,
        status: u16,
        headers: Option<&str>,
        body: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE api_idempotency SET status = $3, headers = $4, body = $5 \
             WHERE token_hash = $1 AND idem_key = $2 AND status IS NULL",
        )
        .bind(token_hash)
        .bind(key)
        .bind(i64::from(status))
        .bind(headers)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets a reservation whose request did not complete (a retry runs it again).
    pub async fn release_idempotency(&self, token_hash: &str, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM api_idempotency WHERE token_hash = $1 AND idem_key = $2 AND status IS NULL")
            .bind(token_hash)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
