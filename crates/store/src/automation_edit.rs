//! Editing an automation from the bot: its schedule (cron and time zone), options and name.
//!
//! A new schedule is checked with the same `Schedule::parse` that creation uses, and `next_run_at` is recomputed
//! from it. The queued slot job of the old schedule is cancelled and the new slot's job queued in the same
//! transaction, so the "exactly one future slot" rule of `automations.rs` still holds; a slot job of the old
//! schedule that is already running finds `next_run_at` moved and ends as stale. Manual runs are left alone.

use super::automations::enqueue_slot;
use super::{Store, StoreError};
use tochen_domain::clock::now_ms;
use tochen_domain::cron::{Schedule, ScheduleError};
use tochen_domain::ids::{AutomationId, TenantId};
use tochen_domain::AutomationStatus;

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
    ) -> std::result::Result<super::Automation, EditError> {
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
                .bind(super::automations::slot_key(id, next))
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
