//! Telegram webhook mode: updates stored by the web service, each with its `telegram_update` job.
//!
//! Telegram considers an update delivered once the web service answered 200, so the row in `webhook_events`
//! (source `telegram`, deduplicated by update_id) is the only copy. [`Store::record_telegram_update`] writes the row
//! and its job ([`TelegramUpdatePayload`]) in one transaction; from there the job queue (`job_queue`) does the rest:
//! the bot's runner claims the job with a lease, hands the update to its dispatcher and completes the job after the
//! handler ran; a bot that dies loses the job to rescue once the lease expires, and an update whose handler takes
//! the bot down every time ends `dead` after [`TELEGRAM_UPDATE_MAX_ATTEMPTS`] attempts. The row's `status` says
//! what became of the update: `received` until handled, then `processed`, `ignored` (teloxide cannot read it) or
//! `failed` (its job is dead; the row stays for inspection).

use super::{jobs, Result, Store};
use tochen_domain::clock::now_ms;
use tochen_domain::jobs::TelegramUpdatePayload;
pub use tochen_domain::jobs::TELEGRAM_UPDATE_MAX_ATTEMPTS;

/// One stored update, as the bot's worker reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUpdate {
    pub event_id: String,
    pub update_id: i64,
    pub payload: String,
    /// `received` until handled; then `processed`, `ignored` or `failed`.
    pub status: String,
}

impl Store {
    /// Stores an update before it is acknowledged, and queues its `telegram_update` job in the same transaction
    /// (keyed by `chat_id`, the chat the update belongs to, when it has one). Returns the new row id, or `None` for a
    /// duplicate update_id: nothing is written then.
    pub async fn record_telegram_update(
        &self,
        update_id: i64,
        chat_id: Option<i64>,
        payload: &str,
    ) -> Result<Option<String>> {
        let id = uuid::Uuid::now_v7().to_string();
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "INSERT INTO webhook_events (id, source, event_key, tenant_id, payload, received_at, update_id) \
             VALUES ($1, 'telegram', $2, NULL, $3, $4, $5) ON CONFLICT (source, event_key) DO NOTHING",
        )
        .bind(&id)
        .bind(update_id.to_string())
        .bind(payload)
        .bind(now)
        .bind(update_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let job = jobs::NewJob::new(&TelegramUpdatePayload { event_id: id.clone(), update_id, chat_id });
        jobs::insert_job(&mut tx, &job, now).await?;
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(Some(id))
    }

    /// The stored update of row `event_id`, or `None` when there is no such Telegram update.
    pub async fn telegram_update(&self, event_id: &str) -> Result<Option<StoredUpdate>> {
        let row: Option<(String, Option<i64>, String, String)> = sqlx::query_as(
            "SELECT id, update_id, payload, status FROM webhook_events WHERE id = $1 AND source = 'telegram'",
        )
        .bind(event_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|(event_id, update_id, payload, status)| StoredUpdate {
            event_id,
            update_id: update_id.unwrap_or_default(),
            payload,
            status,
        }))
    }

    /// Marks update `update_id` `processed`, `ignored` or `failed` unless it was marked already. False when it was.
    pub async fn finish_telegram_update(&self, update_id: i64, status: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhook_events SET status = $2, processed_at = $3 \
             WHERE source = 'telegram' AND update_id = $1 AND status = 'received'",
        )
        .bind(update_id)
        .bind(status)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Updates not handled yet (for /health-style checks and tests).
    pub async fn pending_telegram_updates(&self) -> Result<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM webhook_events WHERE source = 'telegram' AND status = 'received'")
                .fetch_one(self.reader())
                .await?;
        Ok(n)
    }
}
