//! Liveness of scheduler instances. Each instance beats every few seconds; `/health` and the heartbeat alert read
//! the latest beat to tell "the scheduler is running" from "jobs are piling up with nobody to run them".

use crate::{Result, Store};
use tochen_domain::clock::{now_ms, Millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    pub instance_id: String,
    pub started_at: Millis,
    pub beat_at: Millis,
    pub version: String,
}

impl Store {
    /// Records that `instance_id` is alive now.
    pub async fn scheduler_beat(&self, instance_id: &str, started_at: Millis, version: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO scheduler_heartbeats (instance_id, started_at, beat_at, version) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (instance_id) DO UPDATE SET beat_at = excluded.beat_at, version = excluded.version",
        )
        .bind(instance_id)
        .bind(started_at)
        .bind(now_ms())
        .bind(version)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes an instance's row on a clean shutdown, so /health does not count it.
    pub async fn scheduler_gone(&self, instance_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM scheduler_heartbeats WHERE instance_id = $1")
            .bind(instance_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Test support (only with the `test-support` feature). All known instances, most recent beat first.
    #[cfg(feature = "test-support")]
    pub async fn scheduler_heartbeats(&self) -> Result<Vec<Heartbeat>> {
        let rows: Vec<(String, i64, i64, String)> = sqlx::query_as(
            "SELECT instance_id, started_at, beat_at, version FROM scheduler_heartbeats ORDER BY beat_at DESC",
        )
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(instance_id, started_at, beat_at, version)| Heartbeat { instance_id, started_at, beat_at, version })
            .collect())
    }

    /// The time of the most recent beat of any instance, for /health.
    pub async fn last_scheduler_beat(&self) -> Result<Option<Millis>> {
        let (beat,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(beat_at) FROM scheduler_heartbeats").fetch_one(self.reader()).await?;
        Ok(beat)
    }

    /// Deletes heartbeats of instances that stopped beating before `cutoff`.
    pub async fn delete_heartbeats_before(&self, cutoff: Millis) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM scheduler_heartbeats WHERE beat_at < $1").bind(cutoff).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
