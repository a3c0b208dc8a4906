//! Incoming webhook events (Meta, TikTok, Telegram webhook mode), stored before they are acknowledged and
//! deduplicated by (source, event key): providers deliver at least once.
//!
//! Platform events (Meta, TikTok) are processed by `webhook.event` jobs.
//!
//! The event row and its job are written in ONE transaction, shared with the events that arrive at the same time
//! (`ingest`, the group commit): written separately, a crash between the two would leave an acknowledged event
//! that nothing ever processes. The job's unique key `webhook.event:{event_id}`
//! makes enqueueing idempotent, so the cleanup sweep can re-enqueue events that are still `received` (rows
//! written by an older version that queued the job separately) without ever doubling one.
//!
//! Processing is the mirror image: `apply_inbound_event` writes every change an event causes (keyed `notify`
//! jobs, account and target compare-and-sets, outgoing deliveries) and the event's new status in ONE transaction
//! that starts by claiming the event (`received` -> done). A retried `webhook.event` job therefore finds either
//! nothing written or everything written and the event no longer `received`, and writes nothing twice; two runs
//! at once (a lease that expired under a slow runner) serialize on the event row and the later one writes nothing.

use crate::deliveries::{insert_delivery, NewDelivery};
use crate::ingest::event_job;
use crate::jobs::{insert_job, NewJob};
use crate::targets::publishing::{settle_statement, Settle};
use crate::{Result, Store};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, TargetId, TenantId};
use tochen_domain::TargetStatus;

impl Store {
    /// Test support (only with the `test-support` feature). Stores the event unless one with the same key was stored
    /// before. Returns the new row id, or `None` for a duplicate.
    #[cfg(feature = "test-support")]
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
            .fetch_optional(self.reader())
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

/// The unique key of the job that processes event `event_id`.
pub fn webhook_event_job_key(event_id: &str) -> String {
    crate::jobs::keys::webhook_event(event_id)
}

/// Inserts the `webhook.event` job of `event_id` unless it exists; true when it was inserted.
async fn insert_event_job<'e, E>(exec: E, event_id: &str, now: Millis) -> Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    crate::jobs::insert(exec, &event_job(event_id, now), now, crate::jobs::OnConflict::Keep).await
}

impl Store {
    /// The processing status of an event (`received`, `processed`, `ignored`, `failed`), `None` when it is gone.
    pub async fn webhook_event_status(&self, id: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT status FROM webhook_events WHERE id = $1")
            .bind(id)
            .fetch_optional(self.reader())
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
            self.notify_jobs_changed();
        }
        Ok(added)
    }

    /// Writes what processing event `event_id` decided, all in one transaction with the event's new status
    /// (`processed`, or `ignored` when `effects` is empty). The transaction first claims the event: when it is no
    /// longer `received` (handled by an earlier run), nothing is written and the answer is `None`.
    pub async fn apply_inbound_event(
        &self,
        event_id: &str,
        effects: &[InboundEffect],
    ) -> Result<Option<InboundApplied>> {
        let now = now_ms();
        let status = if effects.is_empty() { "ignored" } else { "processed" };
        let mut tx = self.pool.begin().await?;
        // First, so that a concurrent run waits here (PostgreSQL row lock) and then finds the event handled.
        let claimed = sqlx::query(
            "UPDATE webhook_events SET status = $2, processed_at = $3 WHERE id = $1 AND status = 'received'",
        )
        .bind(event_id)
        .bind(status)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let mut done = InboundApplied::default();
        for effect in effects {
            match effect {
                InboundEffect::Enqueue(job) => {
                    if insert_job(&mut tx, job, now).await? {
                        done.jobs_queued += 1;
                    }
                }
                InboundEffect::NeedsReconnect { tenant, account, reason, deliveries } => {
                    let moved = sqlx::query(
                        "UPDATE social_accounts SET status = 'needs_reconnect', status_reason = $3, updated_at = $4 \
                         WHERE tenant_id = $1 AND id = $2 AND status = 'active'",
                    )
                    .bind(tenant.to_db())
                    .bind(account.to_db())
                    .bind(reason)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    if moved.rows_affected() == 1 {
                        done.accounts_marked += 1;
                        for (delivery, first_attempt) in deliveries {
                            insert_delivery(&mut *tx, delivery, now).await?;
                            insert_job(&mut tx, first_attempt, now).await?;
                            done.deliveries += 1;
                        }
                    }
                }
                InboundEffect::SettleTarget { tenant, target, outcome } => {
                    // The compare-and-set of `settle_target`: only a target whose publish is in flight (or whose
                    // outcome was unknown) moves, so a repeated or late report changes nothing.
                    let from = [TargetStatus::Publishing, TargetStatus::Unknown];
                    let change = match outcome {
                        TargetOutcome::Published { platform_post_id } => {
                            Settle::Published { platform_post_id, permalink: None }
                        }
                        TargetOutcome::Failed { reason } => {
                            Settle::To { from: &from, to: TargetStatus::Failed, class: "permanent", message: reason }
                        }
                    };
                    let (sql, texts) = settle_statement(change);
                    let moved = sqlx::query(&sql)
                        .bind(tenant.to_db())
                        .bind(target.to_db())
                        .bind(texts[0])
                        .bind(texts[1])
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    if moved.rows_affected() == 1 {
                        done.targets_settled += 1;
                    }
                }
            }
        }
        tx.commit().await?;
        if done.jobs_queued + done.deliveries > 0 {
            self.notify_jobs_changed();
        }
        Ok(Some(done))
    }
}

/// One change processing an inbound event makes, decided from reads before the transaction that writes them all
/// (`Store::apply_inbound_event`). Each is idempotent on its own as well, so even effects written by an older
/// version that did not claim the event are not doubled.
#[derive(Debug, Clone, PartialEq)]
pub enum InboundEffect {
    /// Queue a job (a `notify`); a job with the same unique key makes this a no-op.
    Enqueue(NewJob),
    /// Move an `active` account to `needs_reconnect`. `deliveries` (the outgoing `account.needs_reconnect`
    /// event, each with its first attempt's job) are written only when this run moved it.
    NeedsReconnect { tenant: TenantId, account: AccountId, reason: String, deliveries: Vec<(NewDelivery, NewJob)> },
    /// Settle a target whose publish is in flight or unknown, as the platform reported it.
    SettleTarget { tenant: TenantId, target: TargetId, outcome: TargetOutcome },
}

/// What a platform reported about a publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetOutcome {
    Published {
        platform_post_id: String,
    },
    /// Failed for good, with the platform's reason.
    Failed {
        reason: String,
    },
}

/// What `apply_inbound_event` actually changed (repeats and lost compare-and-sets are not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboundApplied {
    pub jobs_queued: usize,
    pub accounts_marked: usize,
    pub deliveries: usize,
    pub targets_settled: usize,
}
