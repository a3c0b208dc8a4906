//! Runs of automations: starting a slot (which queues the next one), manual runs, finishing a run with its
//! counters, and run history.

use super::{enqueue_slot, Automation};
use crate::{parse_enum, Result, Store, StoreError};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AutomationId, JobId, TenantId};
use tochen_domain::jobs::AutomationRunPayload;
use tochen_domain::RunOutcome;

/// The longest error a run keeps: several failed deliveries of one run are joined up to this many characters.
const MAX_RUN_ERROR_CHARS: i32 = 2000;

/// One run of an automation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationRun {
    pub id: String,
    pub slot_at: Millis,
    pub started_at: Millis,
    pub finished_at: Option<Millis>,
    pub duration_ms: Option<i64>,
    pub outcome: RunOutcome,
    pub error: Option<String>,
}

/// A row of `automation_runs` as stored.
#[derive(sqlx::FromRow)]
struct RunRow {
    id: String,
    slot_at: Millis,
    started_at: Millis,
    finished_at: Option<Millis>,
    duration_ms: Option<i64>,
    outcome: String,
    error: Option<String>,
}

impl TryFrom<RunRow> for AutomationRun {
    type Error = StoreError;

    fn try_from(r: RunRow) -> Result<Self> {
        Ok(AutomationRun {
            id: r.id,
            slot_at: r.slot_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms,
            outcome: parse_enum(&r.outcome, RunOutcome::parse, "run outcome")?,
            error: r.error,
        })
    }
}

/// What starting a slot decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotStart {
    /// Run it; the run row id is given. `resumed` is true when an earlier attempt crashed mid-run.
    Run { run_id: String, resumed: bool },
    /// The schedule moved on (paused, edited, or the slot already ran): do nothing.
    Stale,
}

impl Store {
    /// Queues a manual run now, without moving the schedule.
    pub async fn run_automation_now(&self, tenant: TenantId, id: AutomationId) -> Result<Option<JobId>> {
        self.automation(tenant, id).await?;
        let now = now_ms();
        // Keyed by the moment it was asked for, one attempt: the payload's insert options.
        self.enqueue_args(Some(tenant), &AutomationRunPayload { automation_id: id, slot_at: now, manual: true }).await
    }

    /// Starts slot `slot` of a scheduled run: if `next_run_at` is still `slot` and the automation is active, moves
    /// it to `next` (queuing that slot's job) and records a running run, all in one transaction. A slot whose run
    /// row is still `running` is resumed instead when `may_resume` (this is a later attempt of the slot's job, so
    /// the earlier attempt crashed or was overtaken; the runner's lease rules out two live attempts).
    pub async fn start_slot(
        &self,
        tenant: TenantId,
        id: AutomationId,
        slot: Millis,
        run_slot: Millis,
        next: Option<Millis>,
        may_resume: bool,
    ) -> Result<SlotStart> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE automations SET next_run_at = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2 \
             AND next_run_at = $3 AND status = 'active'",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(slot)
        .bind(next)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 1 {
            if let Some(next) = next {
                enqueue_slot(&mut *tx, tenant, id, next, now).await?;
            }
            let run_id = insert_run(&mut tx, tenant, id, run_slot, now).await?;
            tx.commit().await?;
            self.notify_jobs_changed();
            return Ok(SlotStart::Run { run_id, resumed: false });
        }
        if !may_resume {
            tx.commit().await?;
            return Ok(SlotStart::Stale);
        }
        let running: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM automation_runs WHERE tenant_id = $1 AND automation_id = $2 AND slot_at = $3 \
             AND outcome = 'running' ORDER BY started_at DESC LIMIT 1",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(run_slot)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(match running {
            Some((run_id,)) => SlotStart::Run { run_id, resumed: true },
            None => SlotStart::Stale,
        })
    }

    /// Records a manual run's start.
    pub async fn start_manual_run(&self, tenant: TenantId, id: AutomationId, at: Millis) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let run_id = insert_run(&mut tx, tenant, id, at, now_ms()).await?;
        tx.commit().await?;
        Ok(run_id)
    }

    /// `start_slot` recorded a running row; a skipped slot turns it into `skipped` without touching the counters
    /// that `finish_run` keeps.
    pub async fn mark_run_skipped(&self, tenant: TenantId, id: AutomationId, run_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE automation_runs SET outcome = 'skipped', error = 'missed while no scheduler ran', \
             finished_at = $4, duration_ms = 0 WHERE tenant_id = $1 AND automation_id = $2 AND id = $3",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(run_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Finishes a run: stores its outcome and duration and updates the automation's counters. Returns the
    /// automation afterwards, so the caller can decide on an automatic pause.
    pub async fn finish_run(
        &self,
        tenant: TenantId,
        id: AutomationId,
        run_id: &str,
        error: Option<&str>,
    ) -> Result<Automation> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        // A delivery of this run may have failed for good while it was still running
        // (`record_run_delivery_failure`): its error stays, after the run's own, and the run counts as failed.
        sqlx::query(
            "UPDATE automation_runs SET finished_at = $4, duration_ms = $4 - started_at, \
             outcome = CASE WHEN CAST($5 AS TEXT) IS NOT NULL OR error IS NOT NULL THEN 'failed' ELSE 'success' END, \
             error = CASE WHEN CAST($5 AS TEXT) IS NULL THEN error WHEN error IS NULL THEN CAST($5 AS TEXT) \
             ELSE substr(CAST($5 AS TEXT) || '; ' || error, 1, $6) END \
             WHERE tenant_id = $1 AND automation_id = $2 AND id = $3",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(run_id)
        .bind(now)
        .bind(error)
        .bind(MAX_RUN_ERROR_CHARS)
        .execute(&mut *tx)
        .await?;
        let outcome: Option<(String,)> = sqlx::query_as(
            "SELECT outcome FROM automation_runs WHERE tenant_id = $1 AND automation_id = $2 AND id = $3",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(run_id)
        .fetch_optional(&mut *tx)
        .await?;
        let failed = error.is_some() || outcome.is_some_and(|(o,)| o == RunOutcome::Failed.as_str());
        let counters = if failed {
            "failure_count = failure_count + 1, consecutive_failures = consecutive_failures + 1"
        } else {
            "consecutive_failures = 0"
        };
        sqlx::query(&format!(
            "UPDATE automations SET run_count = run_count + 1, last_run_at = $3, {counters}, updated_at = $3 \
             WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.automation(tenant, id).await
    }

    /// Records that a delivery queued by run `run_id` failed for good (an email the relay refused, or whose TLS
    /// or login failed): `error` is added to the run's error and a finished successful run turns failed, counted
    /// in the automation's `failure_count` (not in `consecutive_failures`: the automatic pause is decided by runs).
    /// A run still running stays running; finishing it keeps the error and counts it failed. A run no longer in
    /// the history (pruned, or its automation deleted) is left alone.
    pub async fn record_run_delivery_failure(
        &self,
        tenant: TenantId,
        id: AutomationId,
        run_id: &str,
        error: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let turned = sqlx::query(
            "UPDATE automation_runs SET outcome = 'failed' \
             WHERE tenant_id = $1 AND automation_id = $2 AND id = $3 AND outcome = 'success'",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE automation_runs SET error = CASE WHEN error IS NULL THEN CAST($4 AS TEXT) \
             ELSE substr(error || '; ' || CAST($4 AS TEXT), 1, $5) END \
             WHERE tenant_id = $1 AND automation_id = $2 AND id = $3",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(run_id)
        .bind(error)
        .bind(MAX_RUN_ERROR_CHARS)
        .execute(&mut *tx)
        .await?;
        if turned.rows_affected() == 1 {
            sqlx::query(
                "UPDATE automations SET failure_count = failure_count + 1, updated_at = $3 \
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.to_db())
            .bind(id.to_db())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Run history, newest first.
    pub async fn automation_runs(&self, tenant: TenantId, id: AutomationId, limit: i64) -> Result<Vec<AutomationRun>> {
        let rows: Vec<RunRow> = sqlx::query_as(
            "SELECT id, slot_at, started_at, finished_at, duration_ms, outcome, error FROM automation_runs \
             WHERE tenant_id = $1 AND automation_id = $2 ORDER BY started_at DESC, id DESC LIMIT $3",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(AutomationRun::try_from).collect()
    }

    /// Deletes automation run history older than `cutoff`.
    pub async fn delete_automation_runs_before(&self, cutoff: Millis) -> Result<u64> {
        let done = sqlx::query("DELETE FROM automation_runs WHERE started_at < $1 AND outcome <> 'running'")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

async fn insert_run(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    id: AutomationId,
    slot: Millis,
    now: Millis,
) -> Result<String> {
    let run_id = JobId::new().to_db();
    sqlx::query(
        "INSERT INTO automation_runs (id, tenant_id, automation_id, slot_at, started_at, outcome) \
         VALUES ($1, $2, $3, $4, $5, 'running')",
    )
    .bind(&run_id)
    .bind(tenant.to_db())
    .bind(id.to_db())
    .bind(slot)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(run_id)
}
