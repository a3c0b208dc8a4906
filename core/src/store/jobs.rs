//! The durable job queue: enqueueing and reading. Claiming, leasing and completion belong to the scheduler's
//! runner, which owns the dialect-specific SQL (see `tochen-scheduler`).

use super::{col, parse_enum, Result, Store};
use crate::clock::{now_ms, Millis};
use crate::domain::JobState;
use crate::ids::{JobId, TenantId};
use sqlx::any::AnyRow;

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
    /// A job of `kind` due now, with the default 8 attempts.
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            tenant_id: None,
            kind: kind.into(),
            payload,
            run_at: now_ms(),
            max_attempts: 8,
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
        let done = insert_query(&id, job, now_ms()).execute(&self.pool).await?;
        super::job_queue::notify_jobs_changed();
        Ok((done.rows_affected() == 1).then_some(id))
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
}

fn insert_query<'q>(
    id: &JobId,
    job: &'q NewJob,
    now: Millis,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(
        "INSERT INTO jobs (id, tenant_id, kind, payload, run_at, max_attempts, unique_key, concurrency_key, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (unique_key) DO NOTHING",
    )
    .bind(id.to_db())
    .bind(job.tenant_id.map(|t| t.to_db()))
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(job.run_at)
    .bind(job.max_attempts)
    .bind(&job.unique_key)
    .bind(&job.concurrency_key)
    .bind(now)
}

/// Enqueues a job inside the caller's transaction (the caller wakes the runners after the commit). `false` when
/// a job with the same unique key already exists.
pub(crate) async fn insert_job(tx: &mut sqlx::Transaction<'_, sqlx::Any>, job: &NewJob, now: Millis) -> Result<bool> {
    let done = insert_query(&JobId::new(), job, now).execute(&mut **tx).await?;
    Ok(done.rows_affected() == 1)
}
