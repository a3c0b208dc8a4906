//! Telegram webhook mode: updates stored by the web service, consumed by the bot.
//!
//! Telegram considers an update delivered once the web service answered 200, so the row in `webhook_events`
//! (source `telegram`, deduplicated by update_id) is the only copy. The bot claims rows with a lease, in
//! update_id order, feeds them to its dispatcher and marks each one processed after its handler ran. A bot that
//! dies keeps its lease until it expires; then any bot claims those rows again, so a crash loses no update (an
//! update whose handler ran but whose mark was lost runs again: at least once). A row claimed `MAX_CLAIMS` times
//! without being marked is poison (it took down every bot that claimed it): once its last lease expires it is
//! dead-lettered, marked `failed` (kept for inspection, logged by the bot with its update_id) and never claimed
//! again. A handler that fails or panics is not poison: the bot's panic boundary answers it and it is marked
//! `processed` at once, so it is not replayed.
//!
//! Claiming is one statement per dialect, like job claiming: PostgreSQL locks candidate rows with
//! `FOR UPDATE SKIP LOCKED`, SQLite's single writer makes one `UPDATE ... RETURNING` atomic.

use super::{Backend, Result, Store};
use std::time::Duration;
use tochen_domain::clock::now_ms;
use tokio::sync::Notify;

/// The PostgreSQL channel a trigger on `webhook_events` notifies when a Telegram update is stored.
pub const TELEGRAM_UPDATES_CHANNEL: &str = "tochen_telegram_updates";

/// A row claimed this many times without being marked processed is given up on.
pub const MAX_CLAIMS: i64 = 5;

/// One stored update, claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUpdate {
    pub event_id: String,
    pub update_id: i64,
    pub payload: String,
    /// How many times it was claimed, this claim included.
    pub attempts: i64,
}

impl Store {
    /// The in-process "a Telegram update was stored" signal (the web service and the bot on clones of one store).
    pub fn telegram_updates_changed(&self) -> &Notify {
        &self.signals.telegram_updates
    }

    /// Stores an update before it is acknowledged. Returns the new row id, or `None` for a duplicate update_id.
    pub async fn record_telegram_update(&self, update_id: i64, payload: &str) -> Result<Option<String>> {
        let id = uuid::Uuid::now_v7().to_string();
        let done = sqlx::query(
            "INSERT INTO webhook_events (id, source, event_key, tenant_id, payload, received_at, update_id) \
             VALUES ($1, 'telegram', $2, NULL, $3, $4, $5) ON CONFLICT (source, event_key) DO NOTHING",
        )
        .bind(&id)
        .bind(update_id.to_string())
        .bind(payload)
        .bind(now_ms())
        .bind(update_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        self.signals.telegram_updates.notify_waiters();
        Ok(Some(id))
    }

    /// Claims up to `limit` unprocessed updates for `owner` for `lease`, lowest update_id first: rows never
    /// claimed and rows whose lease expired (their bot died), except those already claimed `MAX_CLAIMS` times
    /// (see [`Store::dead_letter_telegram_updates`]).
    pub async fn claim_telegram_updates(&self, owner: &str, limit: i64, lease: Duration) -> Result<Vec<StoredUpdate>> {
        let now = now_ms();
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE webhook_events SET lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM webhook_events WHERE source = 'telegram' AND status = 'received' \
             AND (lease_expires_at IS NULL OR lease_expires_at < $3) AND attempts < $5 \
             ORDER BY update_id LIMIT $4{lock}) \
             RETURNING id, update_id, payload, attempts"
        );
        let rows: Vec<(String, Option<i64>, String, i64)> = sqlx::query_as(&sql)
            .bind(owner)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .bind(limit)
            .bind(MAX_CLAIMS)
            .fetch_all(&self.pool)
            .await?;
        let mut out: Vec<StoredUpdate> = rows
            .into_iter()
            .map(|(event_id, update_id, payload, attempts)| StoredUpdate {
                event_id,
                update_id: update_id.unwrap_or_default(),
                payload,
                attempts,
            })
            .collect();
        out.sort_by_key(|u| u.update_id);
        Ok(out)
    }

    /// Sets aside the updates claimed `MAX_CLAIMS` times whose last lease expired without a mark (each claim's bot
    /// died on it): marked `failed`, never claimed again. Returns their (update_id, attempts) for the log.
    pub async fn dead_letter_telegram_updates(&self) -> Result<Vec<(i64, i64)>> {
        let now = now_ms();
        let rows: Vec<(Option<i64>, i64)> = sqlx::query_as(
            "UPDATE webhook_events SET status = 'failed', processed_at = $1, lease_owner = NULL, \
             lease_expires_at = NULL WHERE source = 'telegram' AND status = 'received' AND attempts >= $2 \
             AND (lease_expires_at IS NULL OR lease_expires_at < $1) RETURNING update_id, attempts",
        )
        .bind(now)
        .bind(MAX_CLAIMS)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, attempts)| (id.unwrap_or_default(), attempts)).collect())
    }

    /// Extends every lease `owner` holds on unprocessed updates (still queued in its dispatcher or running).
    pub async fn extend_telegram_leases(&self, owner: &str, lease: Duration) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE webhook_events SET lease_expires_at = $2 \
             WHERE source = 'telegram' AND status = 'received' AND lease_owner = $1",
        )
        .bind(owner)
        .bind(now_ms() + lease.as_millis() as i64)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Marks update `update_id` `processed` (or `failed`/`ignored`) if `owner` still holds it. False when the
    /// lease was lost: another bot took the update over and will mark it.
    pub async fn finish_telegram_update(&self, update_id: i64, owner: &str, status: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhook_events SET status = $3, processed_at = $4, lease_owner = NULL, lease_expires_at = NULL \
             WHERE source = 'telegram' AND update_id = $1 AND lease_owner = $2 AND status = 'received'",
        )
        .bind(update_id)
        .bind(owner)
        .bind(status)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives back claimed updates that were never handed to the dispatcher (a stopping bot), so the next bot
    /// takes them at once instead of after the lease.
    pub async fn release_telegram_updates(&self, owner: &str, update_ids: &[i64]) -> Result<u64> {
        let mut released = 0;
        for id in update_ids {
            let done = sqlx::query(
                "UPDATE webhook_events SET lease_owner = NULL, lease_expires_at = NULL, attempts = attempts - 1 \
                 WHERE source = 'telegram' AND update_id = $1 AND lease_owner = $2 AND status = 'received'",
            )
            .bind(id)
            .bind(owner)
            .execute(&self.pool)
            .await?;
            released += done.rows_affected();
        }
        Ok(released)
    }

    /// Unprocessed updates, claimed or not (for /health-style checks and tests).
    pub async fn pending_telegram_updates(&self) -> Result<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE source = 'telegram' AND status = 'received'")
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }
}

/// Forwards PostgreSQL notifications on [`TELEGRAM_UPDATES_CHANNEL`] to `wake` until the task is aborted,
/// reconnecting after failures with a growing wait (`super::listen`). Without it the bot still finds updates on
/// its bounded idle timer.
pub async fn listen_for_telegram_updates(url: String, wake: std::sync::Arc<Notify>) {
    // Anything stored while (re)connecting is found by the claim the wake-up triggers.
    let on_connected = || wake.notify_one();
    let on_notify = || wake.notify_one();
    super::listen::listen(&url, TELEGRAM_UPDATES_CHANNEL, on_connected, on_notify, std::future::pending()).await
}
