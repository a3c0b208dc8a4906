//! Webhook mode: the bot reads the updates the web service stored, instead of long polling.
//!
//! In webhook mode Telegram POSTs updates to the web service, which stores each one (deduplicated by update_id)
//! before answering 200; from then on the row is the only copy. `StoredUpdates` is a teloxide `UpdateListener`
//! over those rows: it claims batches with a lease in update_id order (`tochen_store::telegram_updates`),
//! and the handler tree is wrapped by [`StoredUpdates::acking`] so a row is marked processed only after the
//! dispatcher ran its handler. A bot that dies keeps its claims until the lease expires, then any bot takes them
//! over, so a crash loses nothing; while this bot lives, a background task keeps extending its leases, so an
//! update waiting behind a slow handler in the same chat is not taken over by another instance.
//!
//! It wakes on PostgreSQL `LISTEN tochen_telegram_updates` (a trigger on insert), on the in-process signal when
//! the web service runs in the same process, and otherwise on a short idle timer (SQLite across processes, and
//! rescuing expired leases).

use futures::stream::BoxStream;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use teloxide::dispatching::{DpHandlerDescription, UpdateHandler};
use teloxide::dptree::{self, di::DependencyMap, HandlerDescription, HandlerSignature};
use teloxide::stop::{mk_stop_token, StopFlag, StopToken};
use teloxide::types::{Update, UpdateKind};
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};
use tochen_config::Config;
use tochen_config::{DatabaseKind, TelegramMode};
use tochen_store::telegram_updates::{self, StoredUpdate};
use tochen_store::Store;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How long a claim lasts without being extended (the extension runs every third of it).
pub const LEASE: Duration = Duration::from_secs(60);
/// How many updates one claim takes.
const BATCH: i64 = 50;
/// The idle timer: short on SQLite, which has no notifications across processes.
const IDLE_SQLITE: Duration = Duration::from_millis(500);
const IDLE_POSTGRES: Duration = Duration::from_secs(5);

/// The listener over stored updates; `None` in polling mode.
pub fn for_config(config: &Config, store: &Store) -> Option<StoredUpdates> {
    match config.telegram.mode {
        TelegramMode::Webhook { .. } => {
            let url = (config.database.kind == DatabaseKind::Postgres).then(|| config.database.url.expose().to_owned());
            Some(StoredUpdates::new(store.clone(), url))
        }
        TelegramMode::Polling => None,
    }
}

pub struct StoredUpdates {
    store: Store,
    owner: String,
    wake: Arc<Notify>,
    idle: Duration,
    stop_token: StopToken,
    stop_flag: StopFlag,
    tasks: Vec<JoinHandle<()>>,
}

impl StoredUpdates {
    /// A listener with a fresh owner name; `listen_url` is the PostgreSQL URL to LISTEN on.
    pub fn new(store: Store, listen_url: Option<String>) -> Self {
        let owner = format!("bot-{}", uuid::Uuid::now_v7());
        let wake = Arc::new(Notify::new());
        let (stop_token, stop_flag) = mk_stop_token();
        let mut tasks = vec![tokio::spawn(extend_leases(store.clone(), owner.clone()))];
        let idle = match listen_url {
            Some(url) => {
                tasks.push(tokio::spawn(telegram_updates::listen_for_telegram_updates(url, wake.clone())));
                IDLE_POSTGRES
            }
            None => IDLE_SQLITE,
        };
        Self { store, owner, wake, idle, stop_token, stop_flag, tasks }
    }

    /// Who this listener claims as (the `lease_owner` of its rows).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Wraps the handler tree so each update is marked processed once its handler returned (handled, ignored or
    /// failed alike: a handler error is logged by the dispatcher, retrying it would only fail again).
    pub fn acking(&self, handler: UpdateHandler<anyhow::Error>) -> UpdateHandler<anyhow::Error> {
        let (store, owner) = (self.store.clone(), self.owner.clone());
        let ack = dptree::from_fn_with_description(
            DpHandlerDescription::entry(),
            move |deps: DependencyMap, cont| {
                let (store, owner) = (store.clone(), owner.clone());
                async move {
                    let update_id = deps.try_get::<Update>().map(|u| i64::from(u.id.0));
                    let out = cont(deps).await;
                    if let Some(id) = update_id {
                        match store.finish_telegram_update(id, &owner, "processed").await {
                            Ok(true) => {}
                            Ok(false) => tracing::warn!(update_id = id, "a stored update was taken over meanwhile"),
                            Err(e) => tracing::warn!(update_id = id, error = %e, "could not mark an update processed"),
                        }
                    }
                    out
                }
            },
            HandlerSignature::Entry,
        );
        ack.chain(handler)
    }
}

/// A stored body as the update the dispatcher takes, or `None` for what teloxide cannot read.
pub fn parse_stored(payload: &str) -> Option<Update> {
    serde_json::from_str::<Update>(payload).ok().filter(|u| !matches!(u.kind, UpdateKind::Error(_)))
}

impl Drop for StoredUpdates {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Keeps this bot's claims alive while their updates wait in the dispatcher or run.
async fn extend_leases(store: Store, owner: String) {
    loop {
        tokio::time::sleep(LEASE / 3).await;
        if let Err(e) = store.extend_telegram_leases(&owner, LEASE).await {
            tracing::warn!(error = %e, "could not extend the leases of stored updates");
        }
    }
}

impl UpdateListener for StoredUpdates {
    type Err = Infallible;

    fn stop_token(&mut self) -> StopToken {
        self.stop_token.clone()
    }
}

struct Cursor {
    store: Store,
    owner: String,
    wake: Arc<Notify>,
    idle: Duration,
    stop: StopFlag,
    ready: VecDeque<Update>,
}

impl<'a> AsUpdateStream<'a> for StoredUpdates {
    type StreamErr = Infallible;
    type Stream = BoxStream<'a, Result<Update, Infallible>>;

    fn as_stream(&'a mut self) -> Self::Stream {
        let cursor = Cursor {
            store: self.store.clone(),
            owner: self.owner.clone(),
            wake: self.wake.clone(),
            idle: self.idle,
            stop: self.stop_flag.clone(),
            ready: VecDeque::new(),
        };
        Box::pin(futures::stream::unfold(cursor, |mut c| async move { c.next().await.map(|u| (Ok(u), c)) }))
    }
}

impl Cursor {
    /// The next update to dispatch, or `None` once the dispatcher asked to stop.
    async fn next(&mut self) -> Option<Update> {
        loop {
            if self.stop.is_stopped() {
                self.release().await;
                return None;
            }
            if let Some(u) = self.ready.pop_front() {
                return Some(u);
            }
            let wake = self.wake.clone();
            let woken = wake.notified();
            let store = self.store.clone();
            let local = store.telegram_updates_changed().notified();
            tokio::pin!(woken, local);
            woken.as_mut().enable();
            local.as_mut().enable();
            match self.store.dead_letter_telegram_updates().await {
                Ok(dead) => {
                    for (update_id, attempts) in dead {
                        tracing::error!(update_id, attempts, "a stored update took down every bot that claimed it; dead-lettered (status failed), not claimed again");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not set aside stored updates that keep failing"),
            }
            match self.store.claim_telegram_updates(&self.owner, BATCH, LEASE).await {
                Ok(rows) if !rows.is_empty() => {
                    for row in rows {
                        self.accept(row).await;
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "claiming stored telegram updates failed; retrying shortly"),
            }
            let stop = self.stop.clone();
            tokio::select! {
                _ = stop => {}
                _ = &mut woken => {}
                _ = &mut local => {}
                _ = tokio::time::sleep(self.idle) => {}
            }
        }
    }

    /// Queues a claimed row for the dispatcher, or marks it `ignored` when it is not an update teloxide reads.
    async fn accept(&mut self, row: StoredUpdate) {
        if let Some(update) = parse_stored(&row.payload) {
            self.ready.push_back(update);
            return;
        }
        tracing::warn!(update_id = row.update_id, "a stored update cannot be read; ignored");
        if let Err(e) = self.store.finish_telegram_update(row.update_id, &self.owner, "ignored").await {
            tracing::warn!(update_id = row.update_id, error = %e, "could not mark a stored update");
        }
    }

    /// Gives back claimed updates the dispatcher never received, so the next bot takes them at once.
    async fn release(&mut self) {
        let ids: Vec<i64> = self.ready.drain(..).map(|u| i64::from(u.id.0)).collect();
        if ids.is_empty() {
            return;
        }
        if let Err(e) = self.store.release_telegram_updates(&self.owner, &ids).await {
            tracing::warn!(error = %e, "could not release stored updates; they return when their lease expires");
        }
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
