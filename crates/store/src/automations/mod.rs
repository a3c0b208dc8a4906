//! Cron automations: their definition, the slot bookkeeping that makes each slot fire once (run history is
//! `runs.rs`).
//!
//! An active automation always has exactly one future slot queued as an `automation.run` job with the unique key
//! `automation:{id}:{slot_ms}`; `next_run_at` names that slot. Starting a slot advances `next_run_at` with a
//! compare-and-set and queues the following slot in the same transaction, so any number of scheduler instances
//! fire a slot once, and a crash between the two cannot lose the schedule.
//!
//! Editing an automation (`update_automation`): its schedule (cron and time zone), options and name.
//!
//! A new schedule is checked with the same `Schedule::parse` that creation uses, and `next_run_at` is recomputed
//! from it. The queued slot job of the old schedule is cancelled and the new slot's job queued in the same
//! transaction, so the "exactly one future slot" rule above still holds; a slot job of the old
//! schedule that is already running finds `next_run_at` moved and ends as stale. Manual runs are left alone.

use crate::jobs::{NewJob, OnConflict};
use crate::{parse_enum, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::cron::{Schedule, ScheduleError};
use tochen_domain::ids::{AutomationId, TenantId, UserId};
use tochen_domain::jobs::AutomationRunPayload;
use tochen_domain::{AutomationStatus, MissedRunPolicy};

mod runs;

pub use runs::{AutomationRun, SlotStart};

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

const COLUMNS: &str = "id, tenant_id, kind, name, cron, timezone, config, status, paused_reason, missed_run_policy, \
     next_run_at, last_run_at, run_count, failure_count, consecutive_failures, max_consecutive_failures";

/// A row of `automations` as stored.
#[derive(sqlx::FromRow)]
struct AutomationRow {
    id: String,
    tenant_id: String,
    kind: String,
    name: String,
    cron: String,
    timezone: String,
    config: String,
    status: String,
    paused_reason: Option<String>,
    missed_run_policy: String,
    next_run_at: Option<Millis>,
    last_run_at: Option<Millis>,
    run_count: i64,
    failure_count: i64,
    consecutive_failures: i64,
    max_consecutive_failures: i64,
}

impl TryFrom<AutomationRow> for Automation {
    type Error = StoreError;

    fn try_from(r: AutomationRow) -> Result<Self> {
        Ok(Automation {
            id: AutomationId::from_db(&r.id)?,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            kind: r.kind,
            name: r.name,
            cron: r.cron,
            timezone: r.timezone,
            config: serde_json::from_str(&r.config).unwrap_or(serde_json::Value::Null),
            status: parse_enum(&r.status, AutomationStatus::parse, "automation status")?,
            paused_reason: r.paused_reason,
            missed_run_policy: parse_enum(&r.missed_run_policy, MissedRunPolicy::parse, "policy")?,
            next_run_at: r.next_run_at,
            last_run_at: r.last_run_at,
            run_count: r.run_count,
            failure_count: r.failure_count,
            consecutive_failures: r.consecutive_failures,
            max_consecutive_failures: r.max_consecutive_failures,
        })
    }
}

fn automation_from_row(row: &AnyRow) -> Result<Automation> {
    AutomationRow::from_row(row)?.try_into()
}

/// The unique key of an automation slot's job.
pub fn slot_key(id: AutomationId, slot: Millis) -> String {
    crate::jobs::keys::automation_slot(id, slot)
}

pub(crate) async fn enqueue_slot<'c, E>(
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
    crate::jobs::insert(ex, &job, now, OnConflict::Keep).await?;
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

/// What an edit changes; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AutomationChanges {
    pub name: Option<String>,
    pub cron: Option<String>,
    pub timezone: Option<String>,
    pub config: Option<serde_json::Value>,
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for EditError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

impl Store {
    /// Applies `changes` to an automation of the workspace and returns it as stored. A changed schedule moves
    /// `next_run_at` to its next slot after now (queued when the automation is active).
    pub async fn update_automation(
        &self,
        tenant: TenantId,
        id: AutomationId,
        changes: &AutomationChanges,
    ) -> std::result::Result<crate::Automation, EditError> {
        let current = self.automation(tenant, id).await?;
        let cron = changes.cron.clone().unwrap_or_else(|| current.cron.clone());
        let timezone = changes.timezone.clone().unwrap_or_else(|| current.timezone.clone());
        let schedule = Schedule::parse(&cron, &timezone)?;
        let now = now_ms();
        let rescheduled = schedule.expression() != current.cron || timezone.trim() != current.timezone;
        let next = if rescheduled { schedule.next_after(now) } else { current.next_run_at };
        let name = changes.name.clone().unwrap_or_else(|| current.name.clone());
        let config = changes.config.clone().unwrap_or_else(|| current.config.clone());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE automations SET name = $3, cron = $4, timezone = $5, config = $6, next_run_at = $7, \
             updated_at = $8 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(&name)
        .bind(schedule.expression())
        .bind(timezone.trim())
        .bind(config.to_string())
        .bind(next)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if rescheduled {
            sqlx::query(
                "UPDATE jobs SET state = 'cancelled', updated_at = $4, finished_at = $4 WHERE tenant_id = $1 \
                 AND state = 'queued' AND unique_key LIKE $2 AND unique_key NOT LIKE $3",
            )
            .bind(tenant.to_db())
            .bind(format!("automation:{id}:%"))
            .bind(format!("automation:{id}:manual:%"))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if let (AutomationStatus::Active, Some(next)) = (current.status, next) {
                enqueue_slot(&mut *tx, tenant, id, next, now).await?;
                // Unique keys outlive cancellation: editing back to an earlier schedule revives that slot's job.
                sqlx::query(
                    "UPDATE jobs SET state = 'queued', finished_at = NULL, updated_at = $3 WHERE tenant_id = $1 \
                     AND unique_key = $2 AND state = 'cancelled'",
                )
                .bind(tenant.to_db())
                .bind(crate::automations::slot_key(id, next))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(self.automation(tenant, id).await?)
    }
}
