//! Inbound platform webhooks (Meta, TikTok) and the `webhook.event` jobs that process them.
//!
//! The event row and its job are written in ONE transaction: written separately, a crash between the two would
//! leave an acknowledged event that nothing ever processes. The job's unique key `webhook.event:{event_id}`
//! makes enqueueing idempotent, so the cleanup sweep can re-enqueue events that are still `received` (rows
//! written by an older version that queued the job separately) without ever doubling one.

use super::{Result, Store};
use crate::clock::{now_ms, Millis};
use crate::ids::JobId;
use crate::jobs::WEBHOOK_EVENT;

/// The unique key of the job that processes event `event_id`.
pub fn webhook_event_job_key(event_id: &str) -> String {
    format!("{WEBHOOK_EVENT}:{event_id}")
}

/// Inserts the `webhook.event` job of `event_id` unless it exists; true when it was inserted.
async fn insert_event_job<'e, E>(exec: E, event_id: &str, now: Millis) -> Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let payload = serde_json::json!({ "event_id": event_id }).to_string();
    let done = sqlx::query(
        "INSERT INTO jobs (id, tenant_id, kind, payload, run_at, max_attempts, unique_key, concurrency_key, \
         created_at, updated_at) VALUES ($1, NULL, $2, $3, $4, 8, $5, NULL, $4, $4) ON CONFLICT (unique_key) DO NOTHING",
    )
    .bind(JobId::new().to_db())
    .bind(WEBHOOK_EVENT)
    .bind(payload)
    .bind(now)
    .bind(webhook_event_job_key(event_id))
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

impl Store {
    /// Stores a verified platform event (deduplicated by `(source, event_key)`) and queues its `webhook.event`
    /// job in the same transaction. Returns the new event id, or `None` for a duplicate (nothing is queued).
    pub async fn record_inbound_event(&self, source: &str, event_key: &str, payload: &str) -> Result<Option<String>> {
        let id = uuid::Uuid::now_v7().to_string();
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "INSERT INTO webhook_events (id, source, event_key, tenant_id, payload, received_at) \
             VALUES ($1, $2, $3, NULL, $4, $5) ON CONFLICT (source, event_key) DO NOTHING",
        )
        .bind(&id)
        .bind(source)
        .bind(event_key)
        .bind(payload)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        insert_event_job(&mut *tx, &id, now).await?;
        tx.commit().await?;
        super::job_queue::notify_jobs_changed();
        Ok(Some(id))
    }

    /// The processing status of an event (`received`, `processed`, `ignored`, `failed`), `None` when it is gone.
    pub async fn webhook_event_status(&self, id: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT status FROM webhook_events WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(s,)| s))
    }

    /// Recovery: queues the `webhook.event` job of every platform event (not Telegram updates, which the bot
    /// consumes) still `received` that arrived before `cutoff`, at most `limit` of them. Idempotent thanks to the
    /// unique key; returns how many jobs were actually added.
    pub async fn requeue_unprocessed_webhook_events(&self, cutoff: Millis, limit: i64) -> Result<u64> {
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM webhook_events WHERE status = 'received' AND source <> 'telegram' AND received_at < $1 \
             ORDER BY received_at LIMIT $2",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut added = 0;
        let now = now_ms();
        for (id,) in ids {
            if insert_event_job(&self.pool, &id, now).await? {
                added += 1;
            }
        }
        if added > 0 {
            super::job_queue::notify_jobs_changed();
        }
        Ok(added)
    }
}
