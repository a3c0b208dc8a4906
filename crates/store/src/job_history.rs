//! The history of the `jobs` table: finished jobs, which the cleanup sweep deletes after a while. (It belongs with
//! the queue's own files, `jobs.rs` and `job_queue.rs`, and moves there when they are next rewritten.)

use crate::{Result, Store};
use tochen_domain::clock::Millis;

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
}
