//! What a worker gets beside its payload: the store, the claimed job, and the two things a runner lets a job do
//! while it works: free its concurrency slot early, and extend its lease.

use std::sync::Mutex;
use std::time::Duration;
use tochen_store::{Job, Store};

/// The lease a runner holds on the job: who holds it and for how long each extension is.
#[derive(Debug, Clone)]
struct Lease {
    owner: String,
    length: Duration,
}

/// The context of one running job. A runner builds it for each job it starts; [`JobContext::detached`] builds one
/// outside a runner (tests, tools), where freeing the slot and extending the lease do nothing.
pub struct JobContext {
    store: Store,
    job: Job,
    lease: Option<Lease>,
    slot: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl std::fmt::Debug for JobContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext").field("job", &self.job.id).field("kind", &self.job.kind).finish_non_exhaustive()
    }
}

impl JobContext {
    /// The context of a job a runner holds: `release` frees its concurrency slot.
    pub(crate) fn held(
        store: Store,
        job: Job,
        owner: String,
        lease: Duration,
        release: Box<dyn FnOnce() + Send>,
    ) -> Self {
        Self { store, job, lease: Some(Lease { owner, length: lease }), slot: Mutex::new(Some(release)) }
    }

    /// A context outside any runner: no slot to free, no lease to extend.
    pub fn detached(store: Store, job: Job) -> Self {
        Self { store, job, lease: None, slot: Mutex::new(None) }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The job as claimed (its `attempts` counts this attempt).
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// True on the job's last attempt: a retryable failure now makes it dead.
    pub fn is_last_attempt(&self) -> bool {
        self.job.attempts >= self.job.max_attempts
    }

    /// Frees the job's concurrency slot now, so the runner starts its next job while this one finishes work that
    /// should not hold a slot: a publish frees it once the platform answered, and records the outcome beside the
    /// next platform call. The job keeps its lease and counts as running for its concurrency key (its platform
    /// account) until its outcome is recorded. Does nothing once the slot is free, or outside a runner.
    pub fn release_slot(&self) {
        let release = self.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(release) = release {
            release();
        }
    }

    /// Extends the job's lease by the runner's lease length. `Ok(false)` when the attempt was overtaken (another
    /// runner rescued the job: this attempt's result will be discarded). The runner calls it while the worker
    /// works; a worker may call it too. Outside a runner, `Ok(true)` without touching the database.
    pub async fn extend_lease(&self) -> tochen_store::Result<bool> {
        match &self.lease {
            Some(lease) => {
                let ms = lease.length.as_millis() as i64;
                self.store.extend_lease(self.job.id, self.job.attempts, &lease.owner, ms).await
            }
            None => Ok(true),
        }
    }
}
