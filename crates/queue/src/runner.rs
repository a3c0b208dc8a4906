//! The job runner: claims due jobs in batches, runs them under a lease, and records the outcome.
//!
//! It never hot-polls. Between claims it waits on whichever comes first: the store's "jobs changed" signal (an
//! enqueue through the runner's store or a clone of it, or a PostgreSQL NOTIFY from any process), one of its own
//! jobs finishing (a slot freed up), the next due job or lease expiry, or shutdown. Concurrency is bounded by a
//! semaphore overall and by the claim query per concurrency key (platform account), which also holds across
//! processes.
//!
//! Under load the runner holds a few due jobs claimed ahead of its free slots ([`RunnerConfig::claim_ahead`]), and
//! the claim runs beside dispatching: a slot that frees up starts the next job at once instead of waiting a
//! database round trip. Jobs claimed ahead are handed back to the queue at shutdown. A worker may free its slot
//! before it returns ([`JobContext::release_slot`]): a publish does once the platform answered.
//!
//! A running job's lease is extended ([`JobContext::extend_lease`]) while its worker works, so only a dead or
//! frozen runner loses its jobs to rescue. Completion is fenced by attempt number and owner: an overtaken runner's
//! late result is ignored. A job rescued after its last attempt (every attempt took its runner down) is not run
//! again: it is dead.

use crate::context::JobContext;
use crate::error::{Backoff, JobError};
use crate::workers::Workers;
use futures::future::BoxFuture;
use futures::FutureExt;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tochen_config::SchedulerConfig;
use tochen_domain::clock::now_ms;
use tochen_domain::ids::JobId;
use tochen_domain::JobState;
use tochen_store::job_queue::JOBS_CHANNEL;
use tochen_store::Store;
use tochen_store::{ClaimRequest, Job, NextWake};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// This runner's lease owner name; unique per process.
    pub owner: String,
    pub concurrency: usize,
    pub per_key: usize,
    pub lease: Duration,
    pub shutdown_grace: Duration,
    pub backoff: Backoff,
    /// The longest the runner sleeps without a reason to wake (a safety net, e.g. for SQLite writers in other
    /// processes, which cannot notify).
    pub max_idle: Duration,
    /// How long to wait when due jobs exist but none could be claimed (their accounts are busy elsewhere).
    pub blocked_wait: Duration,
    /// PostgreSQL URL to LISTEN on for new jobs; `None` on SQLite.
    pub listen_url: Option<String>,
    /// How many due jobs to hold claimed beyond the free slots, so a slot that frees up starts the next job without
    /// waiting for a claim. They count against their account's limit like running jobs, and are handed back at
    /// shutdown. `None`: half of `concurrency`.
    pub claim_ahead: Option<usize>,
}

impl RunnerConfig {
    pub fn new(owner: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            concurrency: 16,
            per_key: 1,
            lease: Duration::from_secs(300),
            shutdown_grace: Duration::from_secs(30),
            backoff: Backoff::default(),
            max_idle: Duration::from_secs(30),
            blocked_wait: Duration::from_millis(500),
            listen_url: None,
            claim_ahead: None,
        }
    }

    pub fn from_config(owner: impl Into<String>, c: &SchedulerConfig) -> Self {
        Self {
            concurrency: c.concurrency.max(1),
            per_key: c.per_account_concurrency.max(1),
            lease: c.lease,
            shutdown_grace: c.shutdown_grace,
            ..Self::new(owner)
        }
    }
}

/// A unique lease owner name for this process and runner.
pub fn owner_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    format!("{host}:{}:{}", std::process::id(), uuid::Uuid::now_v7().simple())
}

/// Records successful completions in batches: whatever finished while the previous batch was being written goes
/// out in the next single statement, so completion costs one round trip per batch instead of one per job.
#[derive(Clone)]
struct Completer {
    tx: tokio::sync::mpsc::UnboundedSender<(JobId, i64, tokio::sync::oneshot::Sender<bool>)>,
}

impl Completer {
    fn start(store: Store, owner: String) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(JobId, i64, tokio::sync::oneshot::Sender<bool>)>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < 512 {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let pairs: Vec<(JobId, i64)> = batch.iter().map(|(id, attempt, _)| (*id, *attempt)).collect();
                let ok = match store.complete_jobs(&owner, &pairs).await {
                    Ok(n) if n as usize == pairs.len() => {
                        // The finished jobs no longer count against their accounts' limits: a runner that found
                        // only busy accounts looks again now instead of after its blocked wait.
                        store.notify_jobs_changed();
                        true
                    }
                    Ok(n) => {
                        tracing::warn!(
                            done = n,
                            of = pairs.len(),
                            "some completed jobs had been reclaimed; their results are discarded"
                        );
                        store.notify_jobs_changed();
                        true
                    }
                    Err(e) => {
                        tracing::error!(error = %e, jobs = pairs.len(), "could not record completions; the jobs will run again");
                        false
                    }
                };
                for (_, _, reply) in batch {
                    let _ = reply.send(ok);
                }
            }
        });
        Self { tx }
    }

    /// Records one completion and waits until it is durable.
    async fn complete(&self, id: JobId, attempt: i64) -> bool {
        let (reply, done) = tokio::sync::oneshot::channel();
        if self.tx.send((id, attempt, reply)).is_err() {
            return false;
        }
        done.await.unwrap_or(false)
    }
}

pub struct Runner {
    store: Store,
    workers: Arc<Workers>,
    config: Arc<RunnerConfig>,
}

impl Runner {
    pub fn new(store: Store, workers: Workers, config: RunnerConfig) -> Self {
        Self { store, workers: Arc::new(workers), config: Arc::new(config) }
    }

    /// Runs until `shutdown`; then stops claiming, hands back the jobs claimed ahead, and gives in-flight jobs
    /// `shutdown_grace` to finish. Jobs still running after that keep their lease and are rescued by another runner
    /// once it expires.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let cfg = self.config.clone();
        let kinds = Arc::new(self.workers.kinds());
        let slots = Arc::new(Semaphore::new(cfg.concurrency));
        let finished = Arc::new(Notify::new());
        let mut tasks = JoinSet::new();
        let min_batch = (cfg.concurrency / 8).max(1);
        let ahead = cfg.claim_ahead.unwrap_or(cfg.concurrency / 2);
        let listener =
            cfg.listen_url.clone().map(|url| tokio::spawn(listen(self.store.clone(), url, shutdown.clone())));
        let completer = Completer::start(self.store.clone(), cfg.owner.clone());
        tracing::info!(owner = %cfg.owner, kinds = ?kinds, concurrency = cfg.concurrency, ahead, "job runner started");

        // Claimed jobs waiting for a slot, oldest due first.
        let mut ready: VecDeque<Job> = VecDeque::new();
        // A claim under way; it runs beside dispatching, so a freed slot never waits for the database.
        let mut claiming: Option<BoxFuture<'static, Claimed>> = None;
        // Set when the last claim took fewer jobs than it asked for: when to look again (the next due job or lease
        // expiry, the blocked wait, or the idle limit). New work, a freed slot or a written completion clears it.
        let mut resume_at: Option<i64> = None;

        loop {
            let changed = self.store.jobs_changed().notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let freed = finished.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if shutdown.is_cancelled() {
                break;
            }
            while tasks.try_join_next().is_some() {}

            while !ready.is_empty() {
                let Ok(permit) = slots.clone().try_acquire_owned() else { break };
                let job = ready.pop_front().expect("a job is ready");
                let (workers, completer) = (self.workers.clone(), completer.clone());
                let finished = finished.clone();
                let release: Box<dyn FnOnce() + Send> = Box::new(move || {
                    drop(permit);
                    finished.notify_one();
                });
                let cx = JobContext::held(self.store.clone(), job, cfg.owner.clone(), cfg.lease, release);
                let cfg = cfg.clone();
                tasks.spawn(async move {
                    execute(&workers, &cfg, &completer, cx).await;
                });
            }

            // Claim for the free slots plus `ahead` jobs, so the next slot to free up starts at once. Under load
            // (no free slot, the buffer not yet low) claims wait until a batch's worth is wanted.
            let free = slots.available_permits();
            let want = (free + ahead).saturating_sub(ready.len());
            if claiming.is_none() && resume_at.is_none() && want > 0 && (free > 0 || want >= min_batch) {
                claiming = Some(claim(self.store.clone(), cfg.clone(), kinds.clone(), want));
            }

            let pause = resume_at.map(|at| Duration::from_millis((at - now_ms()).max(0) as u64));
            tokio::select! {
                _ = shutdown.cancelled() => break,
                claimed = async { claiming.as_mut().expect("a claim is under way").await }, if claiming.is_some() => {
                    claiming = None;
                    resume_at = claimed.resume_at(&cfg, &mut ready);
                }
                _ = &mut changed, if resume_at.is_some() => resume_at = None,
                _ = &mut freed => resume_at = None,
                _ = tokio::time::sleep(pause.unwrap_or_default()), if pause.is_some() => resume_at = None,
            }
        }

        tracing::info!(owner = %cfg.owner, in_flight = tasks.len(), "job runner stopping");
        if let Some(under_way) = claiming.take() {
            if let Ok(jobs) = under_way.await.jobs {
                ready.extend(jobs);
            }
        }
        if !ready.is_empty() {
            let held: Vec<(JobId, i64)> = ready.iter().map(|j| (j.id, j.attempts)).collect();
            match self.store.release_jobs(&cfg.owner, &held).await {
                Ok(n) => tracing::info!(released = n, "jobs claimed ahead were handed back"),
                Err(e) => {
                    tracing::warn!(error = %e, jobs = held.len(), "could not hand back jobs claimed ahead; they are rescued when their lease expires")
                }
            }
        }
        let grace = tokio::time::sleep(cfg.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                next = tasks.join_next() => if next.is_none() { break },
                _ = &mut grace => {
                    tracing::warn!(left = tasks.len(), "shutdown grace elapsed; leaving jobs to lease expiry");
                    tasks.abort_all();
                    break;
                }
            }
        }
        if let Some(l) = listener {
            l.abort();
        }
        Ok(())
    }
}

/// What a claim brought back: the jobs, how many it asked for, when it looked, and, when it took fewer than it
/// asked, when the queue has work next.
struct Claimed {
    asked: usize,
    looked_at: i64,
    jobs: tochen_store::Result<Vec<Job>>,
    next: Option<tochen_store::Result<NextWake>>,
}

/// Claims up to `limit` jobs; when fewer come back, also reads when the queue has work next.
fn claim(store: Store, cfg: Arc<RunnerConfig>, kinds: Arc<Vec<String>>, limit: usize) -> BoxFuture<'static, Claimed> {
    async move {
        let looked_at = now_ms();
        let req = ClaimRequest {
            owner: &cfg.owner,
            limit: limit as i64,
            lease_ms: cfg.lease.as_millis() as i64,
            per_key: cfg.per_key as i64,
            kinds: &kinds,
        };
        let jobs = store.claim_jobs(&req).await;
        let next = match &jobs {
            Ok(j) if j.len() < limit => Some(store.next_wake(&kinds).await),
            _ => None,
        };
        Claimed { asked: limit, looked_at, jobs, next }
    }
    .boxed()
}

impl Claimed {
    /// Moves the jobs into `ready`; returns when to claim again if the queue had no more to give (`None`: at once).
    fn resume_at(self, cfg: &RunnerConfig, ready: &mut VecDeque<Job>) -> Option<i64> {
        let now = now_ms();
        let jobs = match self.jobs {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "claiming jobs failed; retrying shortly");
                return Some(now + 1000);
            }
        };
        let took_all = jobs.len() == self.asked;
        ready.extend(jobs);
        if took_all {
            return None;
        }
        let idle_until = now + cfg.max_idle.as_millis() as i64;
        Some(match self.next {
            Some(Ok(w)) => match w.earliest() {
                Some(at) if at > now => at.min(idle_until),
                // Due since the claim looked: it was not there to take, so look again at once.
                Some(at) if at > self.looked_at => now,
                // Due when the claim looked and still not taken: its account is busy. Wait for a slot or a
                // completion to free it, or the blocked wait.
                Some(_) => now + cfg.blocked_wait.as_millis() as i64,
                None => idle_until,
            },
            Some(Err(e)) => {
                tracing::warn!(error = %e, "reading the next due job failed");
                now + 1000
            }
            None => now,
        })
    }
}

/// Runs one claimed job and records its outcome, extending the lease while the worker works. The job's slot (see
/// [`JobContext::release_slot`]) is freed for a success as soon as the worker returns, so the runner claims the
/// next jobs while the batched completion is being written (the job still counts as running for its concurrency
/// key until then); for any other outcome once it is recorded, unless the worker freed it earlier.
async fn execute(workers: &Workers, cfg: &RunnerConfig, completer: &Completer, cx: JobContext) {
    let (store, job) = (cx.store(), cx.job());
    if job.attempts > job.max_attempts {
        bury_exhausted(workers, store, job, &cfg.owner).await;
        cx.release_slot();
        store.notify_jobs_changed();
        return;
    }
    if !lease_kept(store, cfg, job).await {
        cx.release_slot();
        return;
    }
    let started = std::time::Instant::now();
    let result = {
        let work = std::panic::AssertUnwindSafe(workers.run(&cx)).catch_unwind();
        tokio::pin!(work);
        let every = (cfg.lease / 3).max(Duration::from_millis(100));
        loop {
            tokio::select! {
                r = &mut work => break r.unwrap_or_else(|_| Err(JobError::retry("the job handler panicked"))),
                _ = tokio::time::sleep(every) => {
                    match cx.extend_lease().await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = %job.id, "lost the lease; the result will be discarded"),
                        Err(e) => tracing::warn!(job = %job.id, error = %e, "could not extend the lease"),
                    }
                }
            }
        }
    };
    let (id, attempt, owner) = (job.id, job.attempts, cfg.owner.as_str());
    let recorded = match &result {
        Ok(()) => {
            cx.release_slot();
            Ok(completer.complete(id, attempt).await)
        }
        Err(JobError::Retryable { message, retry_after }) if attempt < job.max_attempts => {
            let delay = cfg.backoff.delay(attempt, *retry_after);
            tracing::info!(job = %id, kind = %job.kind, attempt, ?delay, error = %message, "job will be retried");
            store.retry_job(id, attempt, owner, now_ms() + delay.as_millis() as i64, message).await
        }
        Err(JobError::Retryable { message, .. }) => bury(workers, store, job, owner, message).await,
        Err(JobError::Permanent(message)) => {
            tracing::warn!(job = %id, kind = %job.kind, error = %message, "job failed permanently");
            store.finish_job(id, attempt, owner, JobState::Failed, Some(message)).await
        }
        Err(JobError::NeedsReconnect { tenant, account, message }) => {
            if let Some(hooks) = workers.failure_hooks() {
                if let Err(e) = hooks.needs_reconnect(store, *tenant, *account, message).await {
                    tracing::warn!(error = %e, "could not mark the account for reconnection");
                }
            }
            store.finish_job(id, attempt, owner, JobState::Failed, Some(message)).await
        }
    };
    cx.release_slot();
    if result.is_err() {
        // A retry is queued again at a new time, and a finished job frees its account's capacity: a runner that
        // looked while this job was still running (its slot may have been freed early) must look again.
        store.notify_jobs_changed();
    }
    match recorded {
        Ok(true) => tracing::debug!(job = %id, kind = %job.kind, ms = started.elapsed().as_millis() as u64, "job done"),
        Ok(false) => {
            tracing::warn!(job = %id, attempt, "job was reclaimed by another runner; this result is discarded")
        }
        Err(e) => tracing::error!(job = %id, error = %e, "could not record the job's outcome; it will run again"),
    }
}

/// A job claimed ahead may have waited for its slot: unless a good part of its lease is left, the lease is renewed
/// before the job starts. A job whose lease cannot be renewed is not started: it may already have been rescued by
/// another runner, and is rescued when its lease expires otherwise.
async fn lease_kept(store: &Store, cfg: &RunnerConfig, job: &Job) -> bool {
    let lease = cfg.lease.as_millis() as i64;
    let left = job.lease_expires_at.map_or(0, |at| at - now_ms());
    if left > lease * 2 / 3 {
        return true;
    }
    match store.extend_lease(job.id, job.attempts, &cfg.owner, lease).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!(job = %job.id, "a job claimed ahead was overtaken before it started; it is not run here");
            false
        }
        Err(e) => {
            tracing::warn!(job = %job.id, error = %e, "could not renew the lease of a job claimed ahead; not starting it");
            false
        }
    }
}

/// Retries are exhausted: the job is dead, and the failure hooks tell people (the scheduler's tell the
/// workspace's admins).
async fn bury(workers: &Workers, store: &Store, job: &Job, owner: &str, message: &str) -> tochen_store::Result<bool> {
    tracing::error!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = %message, "job is dead");
    let buried = store.finish_job(job.id, job.attempts, owner, JobState::Dead, Some(message)).await?;
    if buried {
        if let Some(hooks) = workers.failure_hooks() {
            hooks.job_dead(store, job, message).await?;
        }
    }
    Ok(buried)
}

/// A job claimed again after its last attempt: each attempt ended without an outcome, its runner having died on it
/// (a job that takes its runner down every time). It is dead without running again, and the failure hooks are told.
async fn bury_exhausted(workers: &Workers, store: &Store, job: &Job, owner: &str) {
    let message = format!(
        "each of its {} attempts ended without an outcome (its runner stopped or died during it); not run again",
        job.max_attempts
    );
    tracing::error!(job = %job.id, kind = %job.kind, attempts = job.max_attempts, "job is dead: {message}");
    match store.bury_exhausted_job(job.id, job.attempts, owner, &message).await {
        Ok(true) => {
            if let Some(hooks) = workers.failure_hooks() {
                if let Err(e) = hooks.job_dead(store, job, &message).await {
                    tracing::warn!(job = %job.id, error = %e, "could not tell about a dead job");
                }
            }
        }
        Ok(false) => tracing::warn!(job = %job.id, "a job given up on was reclaimed by another runner meanwhile"),
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, "could not bury a job out of attempts; it is claimed again")
        }
    }
}

/// Forwards PostgreSQL notifications on `tochen_jobs` to the store's signal, reconnecting after failures with a
/// growing wait (`tochen_store::listen`); also wakes the runner after each (re)connection, for jobs queued while
/// it was disconnected.
async fn listen(store: Store, url: String, shutdown: CancellationToken) {
    let connected = store.clone();
    tochen_store::listen::listen(
        &url,
        JOBS_CHANNEL,
        move || connected.notify_jobs_changed(),
        move || store.notify_jobs_changed(),
        shutdown.cancelled(),
    )
    .await
}
