//! Retention: what the cleanup sweep deletes. Finished jobs, expired OAuth states, old webhook events, stale
//! heartbeats and old automation run history would otherwise grow without bound.

use super::{Result, Store};
use tochen_domain::clock::Millis;

/// How many rows each part of a cleanup removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupReport {
    pub jobs: u64,
    pub oauth_states: u64,
    pub webhook_events: u64,
    pub heartbeats: u64,
    pub automation_runs: u64,
}

impl Store {
    /// Deletes finished jobs (succeeded, failed, dead, cancelled) that finished before `cutoff`. Their unique keys
    /// go with them, which is safe: a unique key only guards against duplicates while a slot or target is live.
    pub async fn delete_finished_jobs_before(&self, cutoff: Millis) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'dead', 'cancelled') AND finished_at < $1",
        )
        .bind(cutoff)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Deletes heartbeats of instances that stopped beating before `cutoff`.
    pub async fn delete_heartbeats_before(&self, cutoff: Millis) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM scheduler_heartbeats WHERE beat_at < $1").bind(cutoff).execute(&self.pool).await?;
        Ok(done.rows_affected())
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
