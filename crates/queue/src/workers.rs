//! Workers registered by payload type, and what happens around a failure that people must hear about.

use crate::context::JobContext;
use crate::error::JobError;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use tochen_domain::ids::{AccountId, TenantId};
use tochen_domain::jobs::JobArgs;
use tochen_store::{Job, Store};

/// Runs the jobs of one payload type `A`, already decoded.
#[async_trait::async_trait]
pub trait Worker<A: Send + 'static>: Send + Sync + 'static {
    async fn work(&self, cx: &JobContext, args: A) -> Result<(), JobError>;
}

#[async_trait::async_trait]
impl<A: Send + 'static, W: Worker<A> + ?Sized> Worker<A> for Arc<W> {
    async fn work(&self, cx: &JobContext, args: A) -> Result<(), JobError> {
        (**self).work(cx, args).await
    }
}

/// Runs a worker on one stored job outside any runner: decodes the payload as the runner does and hands the
/// worker a [`JobContext::detached`]. For tests and tools.
#[async_trait::async_trait]
pub trait RunJob<A> {
    async fn run(&self, store: &Store, job: &Job) -> Result<(), JobError>;
}

#[async_trait::async_trait]
impl<A, W> RunJob<A> for W
where
    A: DeserializeOwned + Send + 'static,
    W: Worker<A>,
{
    async fn run(&self, store: &Store, job: &Job) -> Result<(), JobError> {
        let args = decode::<A>(job)?;
        self.work(&JobContext::detached(store.clone(), job.clone()), args).await
    }
}

/// Decodes a job's payload; one that does not decode will never run, so the job fails permanently.
fn decode<A: DeserializeOwned>(job: &Job) -> Result<A, JobError> {
    serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::permanent(format!("{} payload is not valid: {e}", job.kind)))
}

/// What the runner tells people about, through the consumer (the scheduler writes notices).
#[async_trait::async_trait]
pub trait FailureHooks: Send + Sync + 'static {
    /// A job ran out of attempts; called once, after it was recorded dead.
    async fn job_dead(&self, store: &Store, job: &Job, message: &str) -> tochen_store::Result<()>;

    /// A worker reported that an account must be reconnected; called before the job is recorded failed.
    async fn needs_reconnect(
        &self,
        store: &Store,
        tenant: TenantId,
        account: AccountId,
        message: &str,
    ) -> tochen_store::Result<()>;
}

/// A registered worker with its payload type erased: decodes, then works.
#[async_trait::async_trait]
trait Erased: Send + Sync {
    async fn run(&self, cx: &JobContext) -> Result<(), JobError>;
}

struct Typed<A, W> {
    worker: W,
    args: PhantomData<fn() -> A>,
}

#[async_trait::async_trait]
impl<A, W> Erased for Typed<A, W>
where
    A: DeserializeOwned + Send + 'static,
    W: Worker<A>,
{
    async fn run(&self, cx: &JobContext) -> Result<(), JobError> {
        let args = decode::<A>(cx.job())?;
        self.worker.work(cx, args).await
    }
}

/// The workers a runner knows, by job kind, and the hooks it calls on failures. A runner only claims kinds it has
/// a worker for, so jobs of a kind added by a newer version wait for a runner that understands them.
#[derive(Clone, Default)]
pub struct Workers {
    map: HashMap<String, Arc<dyn Erased>>,
    hooks: Option<Arc<dyn FailureHooks>>,
}

impl Workers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the worker of payload type `A`, for jobs of kind `A::KIND`.
    pub fn register<A, W>(&mut self, worker: W) -> &mut Self
    where
        A: JobArgs,
        W: Worker<A>,
    {
        self.register_as::<A, W>(A::KIND, worker)
    }

    /// Registers a worker for jobs of `kind` whose payload decodes as `A`, a type that does not name its kind
    /// (tests of the queue itself run `serde_json::Value` payloads of made-up kinds).
    pub fn register_as<A, W>(&mut self, kind: impl Into<String>, worker: W) -> &mut Self
    where
        A: DeserializeOwned + Send + 'static,
        W: Worker<A>,
    {
        self.map.insert(kind.into(), Arc::new(Typed { worker, args: PhantomData::<fn() -> A> }));
        self
    }

    /// Sets what the runner calls when a job dies or an account must be reconnected (nothing, by default).
    pub fn hooks(&mut self, hooks: Arc<dyn FailureHooks>) -> &mut Self {
        self.hooks = Some(hooks);
        self
    }

    pub(crate) fn failure_hooks(&self) -> Option<&Arc<dyn FailureHooks>> {
        self.hooks.as_ref()
    }

    /// The kinds registered, sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.map.keys().cloned().collect();
        k.sort();
        k
    }

    pub fn has(&self, kind: &str) -> bool {
        self.map.contains_key(kind)
    }

    /// Runs the job of `cx` with the worker of its kind: decodes its payload (one that does not decode fails
    /// permanently) and works. A kind without a worker fails permanently.
    pub async fn run(&self, cx: &JobContext) -> Result<(), JobError> {
        match self.map.get(&cx.job().kind) {
            Some(worker) => worker.run(cx).await,
            None => Err(JobError::permanent(format!("no handler for job kind {:?}", cx.job().kind))),
        }
    }
}
