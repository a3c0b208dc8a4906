//! The runner's side of the job queue: claiming with leases, completing with fencing, retrying and burying.
//!
//! A claim is one round trip on both backends. PostgreSQL locks the candidate rows with `FOR UPDATE SKIP LOCKED`
//! so concurrent runners never see the same row; SQLite has a single writer, so a single `UPDATE ... RETURNING`
//! is atomic by itself. A running job whose lease has expired (its runner died) is claimable again by the same
//! statement, so rescue needs no separate sweep.
//!
//! SKIP LOCKED alone does not keep the per-key limit on PostgreSQL: two claims whose snapshots were taken before
//! either committed both count an account as idle and each start one of its jobs. So on PostgreSQL a claim first
//! waits for a transaction-scoped advisory lock ([`CLAIM_LOCK`]) and only then runs the claim statement with a
//! snapshot taken after the previous claim committed and released the lock, so it sees that claim's running jobs.
//! Both steps live in the PL/pgSQL function `tochen_claim_jobs` (migration 20261123000500, replaced by
//! 20261203000200 to hold the jobs of suspended workspaces): a VOLATILE function
//! takes a fresh snapshot for each statement it runs under READ COMMITTED. The runner calls it as one prepared
//! statement with bound values (one round trip, the plans cached on the connection); the lock is held for the
//! claim and its commit only, and a runner that dies mid-claim cannot leave it held (the server ends the call's
//! transaction by itself). Claims are therefore serialized across processes. SQLite needs none of this: a writing
//! statement holds the database's write lock from its start, so a concurrent claim on another connection waits
//! and then sees the first one's jobs.
//!
//! Every claim bumps `attempts`; completion, retry and failure only touch a row whose `attempts` and
//! `lease_owner` still match what the runner claimed. A runner that stalled past its lease and was overtaken
//! therefore cannot overwrite the newer attempt's result (fencing by attempt number).
//!
//! [`Store::notify_jobs_changed`] wakes the idle runners on this store; PostgreSQL also wakes other processes
//! with a trigger on `jobs` (LISTEN/NOTIFY channel [`JOBS_CHANNEL`]).

pub use super::job_signal::JOBS_CHANNEL;
use super::jobs::{job_from_row, Job, JOB_COLUMNS};
use super::{Backend, Result, Store};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::JobId;
use tochen_domain::JobState;

/// The PostgreSQL advisory lock key that serializes claims (taken by `tochen_claim_jobs`): the bytes of "tochen"
/// followed by 0x0001, so it does not collide with another application's advisory locks in a shared database by
/// accident.
pub const CLAIM_LOCK: i64 = 0x746f_6368_656e_0001;

/// SQL matching exactly the given (id, attempt) pairs: `(attempts = 1 AND id IN ('a', 'b')) OR (attempts = 2 AND
/// id IN ('c'))`. Each group is a primary-key lookup of a constant list (PostgreSQL hashes a long one), so a batch
/// costs the same whatever else the table holds; a `(id, attempts) IN (VALUES ...)` join was planned, under stale
/// statistics, as a scan of every running job against the whole list. Ids are UUIDs and attempts numbers, never
/// input, so they are inlined and a whole batch is one statement. Such a statement is sent unprepared
/// (`persistent(false)`): each text is used once, and caching it would push the hot prepared statements out of the
/// connection's cache.
fn id_attempt_list(jobs: &[(JobId, i64)]) -> String {
    let mut by_attempt: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
    for (id, attempt) in jobs {
        by_attempt.entry(*attempt).or_default().push(format!("'{id}'"));
    }
    let groups: Vec<String> =
        by_attempt.into_iter().map(|(a, ids)| format!("(attempts = {a} AND id IN ({}))", ids.join(", "))).collect();
    format!("({})", groups.join(" OR "))
}

/// The update of `jobs` held by `$1` at the given attempts, applying `set` (which may bind `$2`). On SQLite the
/// state test is written `+state`, SQLite's documented way to keep a term from choosing the index: its indexes
/// on `(state, ...)` would otherwise win over the primary key (without statistics it takes an equality on an
/// index's first column for a few rows, and a list of ids for many).
fn held_jobs_update(backend: Backend, set: &str, jobs: &[(JobId, i64)]) -> String {
    let state = if backend == Backend::Sqlite { "+state" } else { "state" };
    format!("UPDATE jobs SET {set} WHERE lease_owner = $1 AND {state} = 'running' AND {}", id_attempt_list(jobs))
}

/// The lease extension of a held job (binding id, attempt, owner, new expiry, now).
const EXTEND_LEASE: &str = "UPDATE jobs SET lease_expires_at = $4, updated_at = $5 WHERE id = $1 AND attempts = $2 \
                            AND lease_owner = $3 AND state = 'running'";

/// How a runner claims: who it is, how many, for how long, and which kinds it can run.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    pub owner: &'a str,
    pub limit: i64,
    pub lease_ms: i64,
    /// Jobs sharing a concurrency key (a platform account) run at most this many at once.
    pub per_key: i64,
    /// Only these kinds are claimed, so a runner never takes a job it has no handler for.
    pub kinds: &'a [String],
}

/// When the runner should look again: the earliest queued job and the earliest lease that will expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextWake {
    pub next_due: Option<Millis>,
    pub next_lease_expiry: Option<Millis>,
}

impl NextWake {
    pub fn earliest(&self) -> Option<Millis> {
        match (self.next_due, self.next_lease_expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Store {
    /// Claims up to `limit` due jobs (and jobs whose lease expired), marking them running under `owner`.
    #[tracing::instrument(skip(self, req), fields(owner = req.owner, limit = req.limit))]
    pub async fn claim_jobs(&self, req: &ClaimRequest<'_>) -> Result<Vec<Job>> {
        if req.limit <= 0 || req.kinds.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let (sql, kinds) = crate::dialect::claim_jobs(self.backend, req.kinds);
        let mut claim = sqlx::query(&sql)
            .bind(now)
            .bind(req.limit * 4)
            .bind(req.per_key)
            .bind(req.limit)
            .bind(req.owner)
            .bind(now + req.lease_ms);
        if let Some(kinds) = kinds {
            claim = claim.bind(kinds);
        }
        let rows = claim.fetch_all(&self.pool).await?;
        let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    /// Extends the lease of a job this runner still holds. `false` when it was overtaken.
    pub async fn extend_lease(&self, id: JobId, attempt: i64, owner: &str, lease_ms: i64) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(EXTEND_LEASE)
            .bind(id.to_db())
            .bind(attempt)
            .bind(owner)
            .bind(now + lease_ms)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a held job succeeded. `false` when the attempt was overtaken (fenced): nothing changes.
    pub async fn complete_job(&self, id: JobId, attempt: i64, owner: &str) -> Result<bool> {
        self.finish_job(id, attempt, owner, JobState::Succeeded, None).await
    }

    /// Marks many held jobs succeeded in one statement (the runner batches completions under load). Each entry is
    /// (id, attempt); entries whose attempt was overtaken are left alone. Returns how many rows changed.
    pub async fn complete_jobs(&self, owner: &str, done: &[(JobId, i64)]) -> Result<u64> {
        self.update_held_jobs(
            owner,
            done,
            "state = 'succeeded', lease_owner = NULL, lease_expires_at = NULL, finished_at = $2, updated_at = $2",
        )
        .await
    }

    /// Test support (only with the `test-support` feature): the query plans of the batched completion of `done`
    /// and of a lease extension, as the database would run them now (`EXPLAIN` on PostgreSQL, in the generic plan
    /// a prepared statement settles on, `EXPLAIN QUERY PLAN` on SQLite), one text each.
    #[cfg(feature = "test-support")]
    pub async fn held_job_update_plans(&self, owner: &str, done: &[(JobId, i64)]) -> Result<[String; 2]> {
        use sqlx::Row;
        let explain = match self.backend {
            Backend::Postgres => "EXPLAIN",
            Backend::Sqlite => "EXPLAIN QUERY PLAN",
        };
        let plan = |rows: Vec<sqlx::any::AnyRow>| -> Result<String> {
            let column = if self.backend == Backend::Postgres { 0 } else { 3 };
            let lines: Vec<String> =
                rows.iter().map(|r| r.try_get::<String, _>(column)).collect::<std::result::Result<_, _>>()?;
            Ok(lines.join("\n"))
        };
        // Planned the way a prepared statement ends up after a few runs: once for any values (PostgreSQL's generic
        // plan).
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET LOCAL plan_cache_mode = force_generic_plan").execute(&mut *tx).await?;
        }
        let set = "state = 'succeeded', finished_at = $2, updated_at = $2";
        let complete = sqlx::query(&format!("{explain} {}", held_jobs_update(self.backend, set, done)))
            .persistent(false)
            .bind(owner)
            .bind(now_ms())
            .fetch_all(&mut *tx)
            .await?;
        let (id, attempt) = done.first().copied().unwrap_or((JobId::new(), 1));
        let extend = sqlx::query(&format!("{explain} {EXTEND_LEASE}"))
            .persistent(false)
            .bind(id.to_db())
            .bind(attempt)
            .bind(owner)
            .bind(now_ms())
            .bind(now_ms())
            .fetch_all(&mut *tx)
            .await?;
        tx.rollback().await?;
        Ok([plan(complete)?, plan(extend)?])
    }

    /// Hands back held jobs that never started (claimed ahead, then the runner stopped): they are queued again as
    /// they were, the claim's attempt undone, due at their old time. Entries whose attempt was overtaken are left
    /// alone. Returns how many rows changed.
    pub async fn release_jobs(&self, owner: &str, held: &[(JobId, i64)]) -> Result<u64> {
        let set =
            "state = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL, updated_at = $2";
        let released = self.update_held_jobs(owner, held, set).await?;
        self.notify_jobs_changed();
        Ok(released)
    }

    /// Applies `set` (SQL binding `$2` now) to the jobs `owner` still holds at the given attempts, in one statement.
    async fn update_held_jobs(&self, owner: &str, jobs: &[(JobId, i64)], set: &str) -> Result<u64> {
        if jobs.is_empty() {
            return Ok(0);
        }
        let result = sqlx::query(&held_jobs_update(self.backend, set, jobs))
            .persistent(false)
            .bind(owner)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    /// Ends a held job as `failed` (permanent error) or `dead` (retries exhausted), with its error.
    pub async fn finish_job(
        &self,
        id: JobId,
        attempt: i64,
        owner: &str,
        state: JobState,
        error: Option<&str>,
    ) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET state = $4, last_error = COALESCE($5, last_error), lease_owner = NULL, \
             lease_expires_at = NULL, finished_at = $6, updated_at = $6 WHERE id = $1 AND attempts = $2 \
             AND lease_owner = $3 AND state = 'running'",
        )
        .bind(id.to_db())
        .bind(attempt)
        .bind(owner)
        .bind(state.as_str())
        .bind(error)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends a held job `dead` without running it: it was claimed again after its last attempt, every attempt having
    /// ended without an outcome (its runner died on it). The claim that found it so is undone, so `attempts` stays
    /// at `max_attempts`. `false` when the attempt was overtaken.
    pub async fn bury_exhausted_job(&self, id: JobId, attempt: i64, owner: &str, error: &str) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET state = 'dead', attempts = attempts - 1, last_error = $4, lease_owner = NULL, \
             lease_expires_at = NULL, finished_at = $5, updated_at = $5 WHERE id = $1 AND attempts = $2 \
             AND lease_owner = $3 AND state = 'running'",
        )
        .bind(id.to_db())
        .bind(attempt)
        .bind(owner)
        .bind(error)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a held job back in the queue to run again at `run_at`.
    pub async fn retry_job(&self, id: JobId, attempt: i64, owner: &str, run_at: Millis, error: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = $4, last_error = $5, lease_owner = NULL, \
             lease_expires_at = NULL, updated_at = $6 WHERE id = $1 AND attempts = $2 AND lease_owner = $3 \
             AND state = 'running'",
        )
        .bind(id.to_db())
        .bind(attempt)
        .bind(owner)
        .bind(run_at)
        .bind(error)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The earliest due queued job and the earliest lease expiry among the given kinds. Written as `ORDER BY ..
    /// LIMIT 1` rather than `MIN`: with the kind filter PostgreSQL computes `MIN` over every queued row, while the
    /// ordered scan of `jobs_due`/`jobs_lease` stops at the first row of a matching kind.
    pub async fn next_wake(&self, kinds: &[String]) -> Result<NextWake> {
        if kinds.is_empty() {
            return Ok(NextWake { next_due: None, next_lease_expiry: None });
        }
        let kinds = crate::dialect::kind_list(kinds);
        let not_held = crate::dialect::NOT_HELD;
        let (next_due, next_lease_expiry): (Option<i64>, Option<i64>) = sqlx::query_as(&format!(
            "SELECT (SELECT run_at FROM jobs WHERE state = 'queued' AND kind IN ({kinds}) AND {not_held} \
                     ORDER BY run_at LIMIT 1), \
                    (SELECT lease_expires_at FROM jobs WHERE state = 'running' AND lease_expires_at IS NOT NULL \
                     AND kind IN ({kinds}) AND {not_held} \
                     ORDER BY lease_expires_at LIMIT 1)"
        ))
        .fetch_one(&self.pool)
        .await?;
        Ok(NextWake { next_due, next_lease_expiry })
    }

    /// Jobs by unique key, for the bot's views and for tests.
    pub async fn job_by_unique_key(&self, unique_key: &str) -> Result<Option<Job>> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE unique_key = $1"))
            .bind(unique_key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// System-wide jobs of a kind in a state (sweeps are not tenant-owned), oldest due first.
    pub async fn jobs_of_kind(&self, kind: &str, state: JobState, limit: i64) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND state = $2 ORDER BY run_at, id LIMIT $3"
        ))
        .bind(kind)
        .bind(state.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// How many jobs are in each state, for metrics and tests.
    pub async fn job_state_counts(&self) -> Result<Vec<(JobState, i64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")
            .fetch_all(self.reader())
            .await?;
        rows.into_iter().map(|(s, n)| Ok((super::parse_enum(&s, JobState::parse, "job state")?, n))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_function_takes_the_documented_lock() {
        let migration = include_str!("../../../migrations/postgres/20261123000500_claim_function.sql");
        assert!(migration.contains(&format!("pg_advisory_xact_lock({CLAIM_LOCK});")));
        assert!(migration.contains(&format!("{CLAIM_LOCK:#x}").trim_start_matches("0x").to_string()));
        let current = include_str!("../../../migrations/postgres/20261203000200_operator.sql");
        assert!(current.contains(&format!("pg_advisory_xact_lock({CLAIM_LOCK});")));
        assert!(current.contains("held AS (SELECT t.id FROM tenants t WHERE t.suspended_at IS NOT NULL)"));
        assert_eq!(current.matches("NOT IN (SELECT h.id FROM held h)").count(), 2, "both scans skip held jobs");
        assert_eq!(&CLAIM_LOCK.to_be_bytes()[..6], b"tochen");
    }
}
