//! The durable job queue: enqueueing and reading. A job is built from its typed payload ([`NewJob::new`] over a
//! [`JobArgs`]); claiming, leasing and completion are in `job_queue`, run by `tochen-queue`'s runner.

use super::{col, parse_enum, Result, Store};
use sqlx::any::AnyRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, JobId, TargetId, TenantId};
use tochen_domain::jobs::{JobArgs, PublishCheckPayload, PublishPayload, DEFAULT_MAX_ATTEMPTS};
use tochen_domain::JobState;

/// The unique and concurrency keys of jobs (defined beside the payloads, in `tochen_domain::jobs::keys`).
pub use tochen_domain::jobs::keys;

/// What inserting a job does when a job with its unique key exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Leave the existing job as it is: at most one job ever per key (a cron slot, a sweep period, an event).
    Keep,
    /// Queue the existing job again at the new `run_at` with its attempts reset, unless it is running right now
    /// (a target published again reuses its `publish:{target}` job, which ran before).
    Requeue,
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub tenant_id: Option<TenantId>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: Millis,
    pub max_attempts: i64,
    /// At most one job ever exists with a given key (a cron slot, a sweep period, a post target's publish).
    pub unique_key: Option<String>,
    /// Jobs sharing this key (a platform account) are limited in how many run at once.
    pub concurrency_key: Option<String>,
}

impl NewJob {
    /// The job of a typed payload: its kind, and the insert options it implies (unique and concurrency keys, due
    /// time, attempts); due now with 8 attempts unless the payload says otherwise. The builder methods override.
    pub fn new<A: JobArgs>(args: &A) -> Self {
        let opts = args.insert_opts();
        Self {
            tenant_id: None,
            kind: A::KIND.to_owned(),
            payload: serde_json::to_value(args).expect("a job payload serializes"),
            run_at: opts.run_at.unwrap_or_else(now_ms),
            max_attempts: opts.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS),
            unique_key: opts.unique_key,
            concurrency_key: opts.concurrency_key,
        }
    }

    /// A job of `kind` with a payload no type describes (tests of the queue itself, kinds from a newer version),
    /// due now, with the default 8 attempts. Producers use [`NewJob::new`].
    pub fn untyped(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            tenant_id: None,
            kind: kind.into(),
            payload,
            run_at: now_ms(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            unique_key: None,
            concurrency_key: None,
        }
    }

    pub fn tenant(mut self, tenant: TenantId) -> Self {
        self.tenant_id = Some(tenant);
        self
    }

    pub fn run_at(mut self, at: Millis) -> Self {
        self.run_at = at;
        self
    }

    pub fn unique(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    pub fn concurrency(mut self, key: impl Into<String>) -> Self {
        self.concurrency_key = Some(key.into());
        self
    }

    pub fn max_attempts(mut self, n: i64) -> Self {
        self.max_attempts = n;
        self
    }

    /// The publish job of a target, due at `at`: one per target, one at a time per account.
    pub fn publish(tenant: TenantId, target: TargetId, account: AccountId, at: Millis) -> Self {
        Self::new(&PublishPayload { target_id: target }).tenant(tenant).run_at(at).concurrency(keys::account(account))
    }

    /// A `publish.check` of a target, due at `at`, queued by the job `after`; asked up to 120 times.
    pub fn publish_check(tenant: TenantId, target: TargetId, account: AccountId, after: JobId, at: Millis) -> Self {
        Self::new(&PublishCheckPayload { target_id: target })
            .tenant(tenant)
            .run_at(at)
            .unique(keys::publish_check(target, after))
            .concurrency(keys::account(account))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub tenant_id: Option<TenantId>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: Millis,
    pub attempts: i64,
    pub max_attempts: i64,
    pub state: JobState,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<Millis>,
    pub last_error: Option<String>,
    pub unique_key: Option<String>,
    pub concurrency_key: Option<String>,
}

pub(crate) const JOB_COLUMNS: &str =
    "id, tenant_id, kind, payload, run_at, attempts, max_attempts, state, lease_owner, \
                                      lease_expires_at, last_error, unique_key, concurrency_key";

pub fn job_from_row(row: &AnyRow) -> Result<Job> {
    let tenant: Option<String> = col(row, "tenant_id")?;
    let payload: String = col(row, "payload")?;
    Ok(Job {
        id: JobId::from_db(&col::<String>(row, "id")?)?,
        tenant_id: tenant.as_deref().map(TenantId::from_db).transpose()?,
        kind: col(row, "kind")?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| super::StoreError::Corrupt(format!("job payload is not json: {e}")))?,
        run_at: col(row, "run_at")?,
        attempts: col(row, "attempts")?,
        max_attempts: col(row, "max_attempts")?,
        state: parse_enum(&col::<String>(row, "state")?, JobState::parse, "job state")?,
        lease_owner: col(row, "lease_owner")?,
        lease_expires_at: col(row, "lease_expires_at")?,
        last_error: col(row, "last_error")?,
        unique_key: col(row, "unique_key")?,
        concurrency_key: col(row, "concurrency_key")?,
    })
}

impl Store {
    /// Enqueues a job. Returns its id, or `None` when a job with the same unique key already exists.
    pub async fn enqueue(&self, job: &NewJob) -> Result<Option<JobId>> {
        let id = JobId::new();
        let inserted = insert_with_id(&self.pool, id, job, now_ms(), OnConflict::Keep).await?;
        self.notify_jobs_changed();
        Ok(inserted.then_some(id))
    }

    /// Enqueues the job of a typed payload with the options it implies, for a workspace or none (see
    /// [`NewJob::new`] to override any of them). Returns its id, or `None` when its unique key was taken.
    pub async fn enqueue_args<A: JobArgs>(&self, tenant: Option<TenantId>, args: &A) -> Result<Option<JobId>> {
        let mut job = NewJob::new(args);
        job.tenant_id = tenant;
        self.enqueue(&job).await
    }

    pub async fn job(&self, id: JobId) -> Result<Option<Job>> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// Jobs of a workspace in a state, oldest due first (for the bot's views and for tests).
    pub async fn tenant_jobs(&self, tenant: TenantId, state: JobState, limit: i64) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 AND state = $2 ORDER BY run_at, id LIMIT $3"
        ))
        .bind(tenant.to_db())
        .bind(state.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

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

/// The one statement that inserts a job, per conflict rule: the rule is part of the text so each text is prepared
/// once.
fn insert_statement(on_conflict: OnConflict) -> &'static str {
    match on_conflict {
        OnConflict::Keep => {
            "INSERT INTO jobs (id, tenant_id, kind, payload, run_at, max_attempts, unique_key, concurrency_key, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (unique_key) DO NOTHING"
        }
        OnConflict::Requeue => {
            "INSERT INTO jobs (id, tenant_id, kind, payload, run_at, max_attempts, unique_key, concurrency_key, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (unique_key) DO UPDATE \
             SET run_at = excluded.run_at, state = 'queued', attempts = 0, lease_owner = NULL, lease_expires_at = NULL, \
             finished_at = NULL, updated_at = excluded.updated_at WHERE jobs.state <> 'running'"
        }
    }
}

/// Inserts a job with `ex` (the pool, or a transaction's connection: the caller then wakes the runners after the
/// commit). `false` when its unique key was taken and `on_conflict` left that job as it was. Every job insert in
/// the store goes through here.
pub(crate) async fn insert<'e, E>(ex: E, job: &NewJob, now: Millis, on_conflict: OnConflict) -> Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    insert_with_id(ex, JobId::new(), job, now, on_conflict).await
}

async fn insert_with_id<'e, E>(ex: E, id: JobId, job: &NewJob, now: Millis, on_conflict: OnConflict) -> Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query(insert_statement(on_conflict))
        .bind(id.to_db())
        .bind(job.tenant_id.map(|t| t.to_db()))
        .bind(&job.kind)
        .bind(job.payload.to_string())
        .bind(job.run_at)
        .bind(job.max_attempts)
        .bind(&job.unique_key)
        .bind(&job.concurrency_key)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Enqueues a job inside the caller's transaction (the caller wakes the runners after the commit). `false` when
/// a job with the same unique key already exists.
pub(crate) async fn insert_job(tx: &mut sqlx::Transaction<'_, sqlx::Any>, job: &NewJob, now: Millis) -> Result<bool> {
    insert(&mut **tx, job, now, OnConflict::Keep).await
}
