//! Incoming webhook events (Meta, TikTok, Telegram webhook mode), stored before they are acknowledged and
//! deduplicated by (source, event key): providers deliver at least once.

use super::{Result, Store};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::TenantId;

impl Store {
    /// Stores the event unless one with the same key was stored before. Returns the new row id, or `None` for a
    /// duplicate.
    pub async fn record_webhook_event(
        &self,
        source: &str,
        event_key: &str,
        tenant: Option<TenantId>,
        payload: &str,
    ) -> Result<Option<String>> {
        let id = uuid::Uuid::now_v7().to_string();
        let done = sqlx::query(
            "INSERT INTO webhook_events (id, source, event_key, tenant_id, payload, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source, event_key) DO NOTHING",
        )
        .bind(&id)
        .bind(source)
        .bind(event_key)
        .bind(tenant.map(|t| t.to_db()))
        .bind(payload)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok((done.rows_affected() == 1).then_some(id))
    }

    /// The stored payload of an event, for the job that processes it.
    pub async fn webhook_event_payload(&self, id: &str) -> Result<Option<(String, String)>> {
        Ok(sqlx::query_as("SELECT source, payload FROM webhook_events WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Marks an event processed, ignored or failed.
    pub async fn finish_webhook_event(&self, id: &str, status: &str) -> Result<()> {
        sqlx::query("UPDATE webhook_events SET status = $2, processed_at = $3 WHERE id = $1")
            .bind(id)
            .bind(status)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes events received before `cutoff`; returns how many.
    pub async fn delete_webhook_events_before(&self, cutoff: Millis) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM webhook_events WHERE received_at < $1").bind(cutoff).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
