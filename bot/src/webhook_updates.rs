//! Webhook mode: the bot runs the updates the web service stored as `telegram_update` jobs, instead of polling.
//!
//! In webhook mode Telegram POSTs updates to the web service, which stores each one (deduplicated by update_id)
//! with its `telegram_update` job in one transaction before answering 200 (`tochen_store::telegram_updates`). The
//! bot runs a `tochen_queue::Runner` with that one worker, so it never claims the scheduler's jobs and the
//! scheduler (which has no such worker) never claims these. The worker ([`Feed`]) loads the stored update and hands
//! it to teloxide's dispatcher through [`StoredUpdates`], an `UpdateListener` over a channel; the handler tree is
//! wrapped by [`StoredUpdates::acking`], which marks the row processed once the handler ran and only then lets the
//! worker return, so the job completes after its handler. A handler that fails or panics is answered by the panic
//! boundary inside that wrapper and is done at once, not replayed.
//!
//! The queue does the rest: the job's lease is extended while the update waits in the dispatcher or runs, a bot
//! that dies loses its jobs to the next bot once their lease expires (at least once: an update whose handler ran
//! but whose row was not marked runs again), updates of one chat run one at a time in arrival order (the job's
//! concurrency key), and an update whose handler takes the bot down every time ends `dead` after
//! `TELEGRAM_UPDATE_MAX_ATTEMPTS` attempts; [`DeadUpdates`] then marks its row `failed`, kept for inspection.
//!
//! The runner wakes on the store's "jobs changed" signal (the web service in the same process), on PostgreSQL
//! `LISTEN tochen_jobs`, and otherwise on a short idle timer (SQLite across processes).

use futures::stream::BoxStream;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use teloxide::dispatching::{DpHandlerDescription, UpdateHandler};
use teloxide::dptree::{self, di::DependencyMap, HandlerDescription, HandlerSignature};
use teloxide::stop::{mk_stop_token, StopFlag, StopToken};
use teloxide::types::{Update, UpdateId, UpdateKind};
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};
use tochen_config::Config;
use tochen_config::{DatabaseKind, TelegramMode};
use tochen_domain::ids::{AccountId, TenantId};
use tochen_domain::jobs::TelegramUpdatePayload;
use tochen_queue::{Backoff, FailureHooks, JobContext, JobError, Runner, RunnerConfig, Worker, Workers};
use tochen_store::{Job, Store};
use tokio::sync::{mpsc, oneshot};

/// How long a job's lease lasts without being extended (the runner extends it every third of it).
pub const LEASE: Duration = Duration::from_secs(60);
/// How many updates are in the dispatcher at once (of different chats: one chat's run one at a time).
const CONCURRENCY: usize = 16;
/// The idle timer: short on SQLite, which has no notifications across processes.
const IDLE_SQLITE: Duration = Duration::from_millis(500);
const IDLE_POSTGRES: Duration = Duration::from_secs(5);

/// An update on its way to the dispatcher, with what tells its job that the handler ran.
type Handed = (Update, oneshot::Sender<()>);

/// Webhook mode's parts: the listener the dispatcher reads and the runner that feeds it.
pub struct WebhookMode {
    pub listener: StoredUpdates,
    pub runner: Runner,
}

/// Webhook mode's listener and runner; `None` in polling mode. `grace` is how long a stopping runner waits for the
/// updates already handed to the dispatcher.
pub fn for_config(config: &Config, store: &Store, grace: Duration) -> Option<WebhookMode> {
    let TelegramMode::Webhook { .. } = config.telegram.mode else { return None };
    let listen_url = (config.database.kind == DatabaseKind::Postgres).then(|| config.database.url.expose().to_owned());
    let idle = if listen_url.is_some() { IDLE_POSTGRES } else { IDLE_SQLITE };
    let (tx, rx) = mpsc::channel(CONCURRENCY);
    let mut cfg = RunnerConfig::new(format!("bot:{}", tochen_queue::owner_name()));
    cfg.concurrency = CONCURRENCY;
    cfg.per_key = 1;
    cfg.lease = LEASE;
    cfg.shutdown_grace = grace;
    cfg.backoff = Backoff { base: Duration::from_secs(1), cap: Duration::from_secs(60) };
    cfg.max_idle = idle;
    cfg.listen_url = listen_url;
    Some(WebhookMode {
        listener: StoredUpdates::new(rx, store.clone()),
        runner: Runner::new(store.clone(), workers(tx), cfg),
    })
}

/// The bot's only worker: `telegram_update` jobs, handed to the dispatcher through `tx`.
fn workers(tx: mpsc::Sender<Handed>) -> Workers {
    let mut w = Workers::new();
    w.register::<TelegramUpdatePayload, _>(Feed { tx }).hooks(Arc::new(DeadUpdates));
    w
}

/// Hands each job's stored update to the dispatcher and returns once its handler ran.
struct Feed {
    tx: mpsc::Sender<Handed>,
}

#[async_trait::async_trait]
impl Worker<TelegramUpdatePayload> for Feed {
    async fn work(&self, cx: &JobContext, args: TelegramUpdatePayload) -> Result<(), JobError> {
        let store = cx.store();
        let Some(stored) = store.telegram_update(&args.event_id).await? else {
            return Err(JobError::permanent(format!(
                "telegram update {} is not stored (row {}); there is nothing to hand to the bot",
                args.update_id, args.event_id
            )));
        };
        if stored.status != "received" {
            // Handled before, and the job's completion was lost (the bot died in between): not again.
            tracing::info!(update_id = args.update_id, status = %stored.status, "a stored update was handled already");
            return Ok(());
        }
        let Some(update) = parse_stored(&stored.payload) else {
            tracing::warn!(update_id = args.update_id, "a stored update cannot be read; ignored");
            store.finish_telegram_update(args.update_id, "ignored").await?;
            return Ok(());
        };
        let (done, handled) = oneshot::channel();
        self.tx.send((update, done)).await.map_err(|_| stopped(args.update_id))?;
        handled.await.map_err(|_| stopped(args.update_id))
    }
}

/// The dispatcher stopped (or its handler unwound) before the update was handled: the job is tried again soon.
fn stopped(update_id: i64) -> JobError {
    JobError::retry_after(format!("the bot stopped before update {update_id} was handled"), Duration::ZERO)
}

/// Marks the row of an update whose job is dead `failed`, so it is kept for inspection and never pending.
struct DeadUpdates;

#[async_trait::async_trait]
impl FailureHooks for DeadUpdates {
    async fn job_dead(&self, store: &Store, job: &Job, message: &str) -> tochen_store::Result<()> {
        let Ok(args) = serde_json::from_value::<TelegramUpdatePayload>(job.payload.clone()) else { return Ok(()) };
        tracing::error!(update_id = args.update_id, attempts = job.attempts, error = %message,
            "a stored update was given up on (status failed); its row is kept for inspection");
        store.finish_telegram_update(args.update_id, "failed").await?;
        Ok(())
    }

    async fn needs_reconnect(&self, _: &Store, _: TenantId, _: AccountId, _: &str) -> tochen_store::Result<()> {
        Ok(())
    }
}

/// Updates handed to the dispatcher, by update_id, waiting for their handler.
#[derive(Clone, Default)]
struct Waiting(Arc<Mutex<HashMap<UpdateId, oneshot::Sender<()>>>>);

impl Waiting {
    fn insert(&self, update_id: UpdateId, done: oneshot::Sender<()>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(update_id, done);
    }

    fn take(&self, update_id: UpdateId) -> Option<oneshot::Sender<()>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&update_id)
    }

    /// Lets go of every update still waiting: their jobs are tried again soon.
    fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// The dispatcher's listener: the updates the runner's jobs hand over, in the order they come.
pub struct StoredUpdates {
    rx: mpsc::Receiver<Handed>,
    store: Store,
    waiting: Waiting,
    stop_token: StopToken,
    stop_flag: StopFlag,
}

impl StoredUpdates {
    fn new(rx: mpsc::Receiver<Handed>, store: Store) -> Self {
        let (stop_token, stop_flag) = mk_stop_token();
        Self { rx, store, waiting: Waiting::default(), stop_token, stop_flag }
    }

    /// A handle that lets go of the updates still in the dispatcher once it stopped (see [`Abandon::now`]).
    pub fn abandon(&self) -> Abandon {
        Abandon(self.waiting.clone())
    }

    /// Wraps the handler tree so each update is marked processed once its handler returned (handled, ignored or
    /// failed alike: a handler error is logged by the dispatcher, retrying it would only fail again), and its job
    /// completes after that. A handler that unwinds lets go of its job, which is tried again.
    pub fn acking(&self, handler: UpdateHandler<anyhow::Error>) -> UpdateHandler<anyhow::Error> {
        let (waiting, store) = (self.waiting.clone(), self.store.clone());
        let ack = dptree::from_fn_with_description(
            DpHandlerDescription::entry(),
            move |deps: DependencyMap, cont| {
                let (waiting, store) = (waiting.clone(), store.clone());
                async move {
                    let update = deps.try_get::<Update>();
                    // Held across the handler: a handler that unwinds drops it, and its job is tried again.
                    let done = update.as_ref().and_then(|u| waiting.take(u.id));
                    let out = cont(deps).await;
                    if let Some(update) = update {
                        let id = i64::from(update.id.0);
                        if let Err(e) = store.finish_telegram_update(id, "processed").await {
                            tracing::warn!(update_id = id, error = %e, "could not mark an update processed");
                        }
                    }
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                    out
                }
            },
            HandlerSignature::Entry,
        );
        ack.chain(handler)
    }
}

/// Lets go of the updates still waiting in a stopped dispatcher.
pub struct Abandon(Waiting);

impl Abandon {
    pub fn now(&self) {
        self.0.clear();
    }
}

/// A stored body as the update the dispatcher takes, or `None` for what teloxide cannot read.
pub fn parse_stored(payload: &str) -> Option<Update> {
    serde_json::from_str::<Update>(payload).ok().filter(|u| !matches!(u.kind, UpdateKind::Error(_)))
}

impl UpdateListener for StoredUpdates {
    type Err = Infallible;

    fn stop_token(&mut self) -> StopToken {
        self.stop_token.clone()
    }
}

impl<'a> AsUpdateStream<'a> for StoredUpdates {
    type StreamErr = Infallible;
    type Stream = BoxStream<'a, Result<Update, Infallible>>;

    fn as_stream(&'a mut self) -> Self::Stream {
        let state = (&mut self.rx, self.waiting.clone(), self.stop_flag.clone());
        Box::pin(futures::stream::unfold(state, |(rx, waiting, stop)| async move {
            if stop.is_stopped() {
                return None;
            }
            let (update, done) = tokio::select! {
                _ = stop.clone() => return None,
                next = rx.recv() => next?,
            };
            waiting.insert(update.id, done);
            Some((Ok(update), (rx, waiting, stop)))
        }))
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn payload() -> impl Strategy<Value = String> {
        let text = "\\PC{0,60}";
        prop_oneof![
            "\\PC{0,300}",
            (any::<i32>(), any::<i64>(), any::<i64>(), text).prop_map(|(id, chat, from, t)| {
                serde_json::json!({"update_id": id, "message": {"message_id": 1, "date": 1790000000,
                    "chat": {"id": chat, "type": "private", "first_name": "A"},
                    "from": {"id": from, "is_bot": false, "first_name": "A"}, "text": t}})
                .to_string()
            }),
            (any::<i64>(), "\\PC{0,80}").prop_map(|(id, data)| {
                serde_json::json!({"update_id": id, "callback_query": {"id": "q", "chat_instance": "c",
                    "from": {"id": 1, "is_bot": false, "first_name": "A"}, "data": data}})
                .to_string()
            }),
            (any::<i64>(), "[a-z_]{0,20}").prop_map(|(id, kind)| format!("{{\"update_id\":{id},\"{kind}\":{{}}}}")),
        ]
    }

    proptest! {
        #![proptest_config(tochen_testkit::props::config(1024))]

        /// Whatever the web service stored, the bot reads it as an update or ignores it; it never panics.
        #[test]
        fn any_stored_payload_is_read_or_ignored(p in payload()) {
            if let Some(u) = parse_stored(&p) {
                prop_assert!(!matches!(u.kind, UpdateKind::Error(_)));
            }
        }
    }
}
