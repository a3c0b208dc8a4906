//! Cron automations: their definition, the slot bookkeeping that makes each slot fire once, and run history.
//!
//! An active automation always has exactly one future slot queued as an `automation.run` job with the unique key
//! `automation:{id}:{slot_ms}`; `next_run_at` names that slot. Starting a slot advances `next_run_at` with a
//! compare-and-set and queues the following slot in the same transaction, so any number of scheduler instances
//! fire a slot once, and a crash between the two cannot lose the schedule.

use super::jobs::{NewJob, OnConflict};
use super::{col, parse_enum, Result, Store, StoreError};
use sqlx::any::AnyRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::cron::{Schedule, ScheduleError};
use tochen_domain::ids::{AutomationId, JobId, TenantId, UserId};
use tochen_domain::jobs::AutomationRunPayload;
use tochen_domain::{AutomationStatus, MissedRunPolicy, RunOutcome};

#[derive(Debug, Clone, PartialEq)]
pub struct Automation {
    pub id: AutomationId,
    pub tenant_id: TenantId,
    /// Which `AutomationHandler` runs it (e.g. `report.weekly`, `test`).
    pub kind: String,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub config: serde_json::Value,
    pub status: AutomationStatus,
    pub paused_reason: Option<String>,
    pub missed_run_policy: MissedRunPolicy,
    pub next_run_at: Option<Millis>,
    pub last_run_at: Option<Millis>,
    pub run_count: i64,
    pub failure_count: i64,
    pub consecutive_failures: i64,
    pub max_consecutive_failures: i64,
}

impl Automation {
    pub fn schedule(&self) -> std::result::Result<Schedule, ScheduleError> {
        Schedule::parse(&self.cron, &self.timezone)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAutomation {
    pub kind: String,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub config: serde_json::Value,
    pub missed_run_policy: MissedRunPolicy,
    pub max_consecutive_failures: i64,
    pub created_by: Option<UserId>,
}

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

/// A row of `automation_runs`: id, slot, start, finish, duration, outcome, error.
type RunRow = (String, i64, i64, Option<i64>, Option<i64>, String, Option<String>);

/// What starting a slot decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotStart {
    /// Run it; the run row id is given. `resumed` is true when an earlier attempt crashed mid-run.
    Run { run_id: String, resumed: bool },
    /// The schedule moved on (paused, edited, or the slot already ran): do nothing.
    Stale,
}

const COLUMNS: &str = "id, tenant_id, kind, name, cron, timezone, config, status, paused_reason, missed_run_policy, \
     next_run_at, last_run_at, run_count, failure_count, consecutive_failures, max_consecutive_failures";

fn automation_from_row(row: &AnyRow) -> Result<Automation> {
    let config: String = col(row, "config")?;
    Ok(Automation {
        id: AutomationId::from_db(&col::<String>(row, "id")?)?,
        tenant_id: TenantId::from_db(&col::<String>(row, "tenant_id")?)?,
        kind: col(row, "kind")?,
        name: col(row, "name")?,
        cron: col(row, "cron")?,
        timezone: col(row, "timezone")?,
        config: serde_json::from_str(&config).unwrap_or(serde_json::Value::Null),
        status: parse_enum(&col::<String>(row, "status")?, AutomationStatus::parse, "automation status")?,
        paused_reason: col(row, "paused_reason")?,
        missed_run_policy: parse_enum(&col::<String>(row, "missed_run_policy")?, MissedRunPolicy::parse, "policy")?,
        next_run_at: col(row, "next_run_at")?,
        last_run_at: col(row, "last_run_at")?,
        run_count: col(row, "run_count")?,
        failure_count: col(row, "failure_count")?,
        consecutive_failures: col(row, "consecutive_failures")?,
        max_consecutive_failures: col(row, "max_consecutive_failures")?,
    })
}

/// The unique key of an automation slot's job.
pub fn slot_key(id: AutomationId, slot: Millis) -> String {
    super::jobs::keys::automation_slot(id, slot)
}

pub(super) async fn enqueue_slot<'c, E>(
    ex: E,
    tenant: TenantId,
    id: AutomationId,
    slot: Millis,
    now: Millis,
) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    // Due at the slot, keyed by it (`slot_key`), 3 attempts: the payload's insert options.
    let job = NewJob::new(&AutomationRunPayload { automation_id: id, slot_at: slot, manual: false }).tenant(tenant);
    super::jobs::insert(ex, &job, now, OnConflict::Keep).await?;
    Ok(())
}

/// Why an automation was not created: its schedule is invalid, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateAutomationError {
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Creates an active automation and queues its first slot. The expression and zone are checked first.
    pub async fn create_automation(
        &self,
        tenant: TenantId,
        new: &NewAutomation,
    ) -> Result<Automation, CreateAutomationError> {
        let schedule = Schedule::parse(&new.cron, &new.timezone)?;
        let now = now_ms();
        let next = schedule.next_after(now);
        let id = AutomationId::new();
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        sqlx::query(
            "INSERT INTO automations (id, tenant_id, kind, name, cron, timezone, config, status, missed_run_policy, \
             next_run_at, max_consecutive_failures, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $10, $11, $12, $12)",
        )
        .bind(id.to_db())
        .bind(tenant.to_db())
        .bind(&new.kind)
        .bind(&new.name)
        .bind(schedule.expression())
        .bind(new.timezone.trim())
        .bind(new.config.to_string())
        .bind(new.missed_run_policy.as_str())
        .bind(next)
        .bind(new.max_consecutive_failures.max(1))
        .bind(new.created_by.map(|u| u.to_db()))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        if let Some(next) = next {
            enqueue_slot(&mut *tx, tenant, id, next, now).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        self.notify_jobs_changed();
        Ok(self.automation(tenant, id).await?)
    }

    pub async fn automation(&self, tenant: TenantId, id: AutomationId) -> Result<Automation> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM automations WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.to_db())
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("automation"))?;
        automation_from_row(&row)
    }

    pub async fn automations(&self, tenant: TenantId) -> Result<Vec<Automation>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM automations WHERE tenant_id = $1 ORDER BY name, id"))
            .bind(tenant.to_db())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(automation_from_row).collect()
    }

    /// Active automations of all workspaces whose next slot is at or before `until`: the planner sweep makes sure
    /// each has its slot job. A system sweep, so not scoped by tenant.
    pub async fn active_automations_due(&self, until: Millis) -> Result<Vec<Automation>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM automations WHERE status = 'active' AND next_run_at <= $1 ORDER BY next_run_at"
        ))
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(automation_from_row).collect()
    }

    /// Queues the job of the automation's current `next_run_at` if it is missing (idempotent by unique key).
    pub async fn ensure_slot_job(&self, a: &Automation) -> Result<()> {
        if let (AutomationStatus::Active, Some(next)) = (a.status, a.next_run_at) {
            enqueue_slot(&self.pool, a.tenant_id, a.id, next, now_ms()).await?;
        }
        Ok(())
    }

    pub async fn pause_automation(&self, tenant: TenantId, id: AutomationId, reason: Option<&str>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE automations SET status = 'paused', paused_reason = $3, updated_at = $4 WHERE tenant_id = $1 \
             AND id = $2 AND status = 'active'",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(reason)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Resumes a paused automation from now on (slots missed while paused are not run) and queues its next slot.
    pub async fn resume_automation(&self, tenant: TenantId, id: AutomationId) -> Result<bool> {
        let a = self.automation(tenant, id).await?;
        let schedule = a.schedule().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let now = now_ms();
        let next = schedule.next_after(now);
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE automations SET status = 'active', paused_reason = NULL, consecutive_failures = 0, \
             next_run_at = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'paused'",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(next)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            if let Some(next) = next {
                enqueue_slot(&mut *tx, tenant, id, next, now).await?;
            }
        }
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(done.rows_affected() == 1)
    }

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

    /// Records a slot that was skipped by the missed-run policy, without running it.
    pub async fn record_skipped_run(&self, tenant: TenantId, id: AutomationId, slot: Millis, why: &str) -> Result<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO automation_runs (id, tenant_id, automation_id, slot_at, started_at, finished_at, duration_ms, \
             outcome, error) VALUES ($1, $2, $3, $4, $5, $5, 0, 'skipped', $6)",
        )
        .bind(JobId::new().to_db())
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(slot)
        .bind(now)
        .bind(why)
        .execute(&self.pool)
        .await?;
        Ok(())
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
        let outcome = if error.is_some() { RunOutcome::Failed } else { RunOutcome::Success };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE automation_runs SET finished_at = $4, duration_ms = $4 - started_at, outcome = $5, error = $6 \
             WHERE tenant_id = $1 AND automation_id = $2 AND id = $3",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(run_id)
        .bind(now)
        .bind(outcome.as_str())
        .bind(error)
        .execute(&mut *tx)
        .await?;
        let counters = if error.is_some() {
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

    /// Run history, newest first.
    #[allow(clippy::type_complexity)]
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
        rows.into_iter()
            .map(|(id, slot_at, started_at, finished_at, duration_ms, outcome, error)| {
                Ok(AutomationRun {
                    id,
                    slot_at,
                    started_at,
                    finished_at,
                    duration_ms,
                    outcome: parse_enum(&outcome, RunOutcome::parse, "run outcome")?,
                    error,
                })
            })
            .collect()
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

impl Store {
    /// Deleting an automation from the bot. Its runs and destination links go with it (foreign keys), and its
    /// queued slot jobs are cancelled in the same transaction so no orphan slot fires later. A slot job already
    /// running finds the automation gone and ends quietly.
    ///
    /// Returns false when there was none.
    pub async fn delete_automation(&self, tenant: TenantId, id: AutomationId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE jobs SET state = 'cancelled', updated_at = $3, finished_at = $3 \
             WHERE tenant_id = $1 AND state = 'queued' AND unique_key LIKE $2",
        )
        .bind(tenant.to_db())
        .bind(format!("automation:{id}:%"))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM automations WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(id.to_db())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
