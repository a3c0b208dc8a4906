//! The `automation.run` job: one cron slot of one automation, run by the handler registered for its kind.
//!
//! Starting a slot moves the schedule on and queues the next slot in one transaction (see
//! `Store::start_slot`), so the chain of slots never breaks and never forks. A slot that comes up late (the
//! scheduler was down) meets the automation's missed-run policy:
//! - `skip`: late slots are recorded as skipped; the next slot is the first one in the future.
//! - `run_once` (default): if the latest missed slot is recent (within `stale_after`), it runs once for all the
//!   missed ones; otherwise they are skipped. The next slot is the first one in the future.
//! - `catch_up`: every missed slot runs in turn, oldest first.
//!
//! Automation failures do not retry the slot (the next slot is the retry); after `max_consecutive_failures`
//! failures in a row the automation pauses itself and its admins are told.

use crate::notices;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_domain::jobs::{AutomationRunPayload, NotifyPayload};
use tochen_domain::{AutomationStatus, MissedRunPolicy};
use tochen_queue::{JobContext, JobError, Worker};
use tochen_store::{Automation, SlotStart};
use tochen_store::{Store, StoreError};

/// What an automation handler gets to work with.
pub struct AutomationRun<'a> {
    pub store: &'a Store,
    pub automation: &'a Automation,
    /// The slot this run is for (UTC ms); for a manual run, the time it was asked for.
    pub slot_at: Millis,
    pub manual: bool,
    /// The run's row in the history (deliveries that fail later are recorded there).
    pub run_id: &'a str,
}

/// One automation type (a weekly report, an alert, a data sync). Register it under its `kind`.
#[async_trait::async_trait]
pub trait AutomationHandler: Send + Sync + 'static {
    /// Does the work. An `Err` is recorded in the run history and counts towards the automatic pause.
    async fn run(&self, run: &AutomationRun<'_>) -> Result<(), String>;
}

/// Automation handlers by kind.
#[derive(Clone, Default)]
pub struct AutomationRegistry {
    map: HashMap<String, Arc<dyn AutomationHandler>>,
}

impl AutomationRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry with the built-in kinds (`test`).
    pub fn with_builtins() -> Self {
        let mut r = Self::new();
        r.register(TEST_KIND, Arc::new(TestAutomation));
        r
    }

    pub fn register(&mut self, kind: impl Into<String>, handler: Arc<dyn AutomationHandler>) -> &mut Self {
        self.map.insert(kind.into(), handler);
        self
    }

    pub fn get(&self, kind: &str) -> Option<&Arc<dyn AutomationHandler>> {
        self.map.get(kind)
    }
}

/// The test automation type: sends "test automation ran" to the workspace's team chat (or its admins).
/// Config `{"fail": true}` makes it fail, to exercise failure counting and the automatic pause.
pub const TEST_KIND: &str = "test";

pub struct TestAutomation;

#[async_trait::async_trait]
impl AutomationHandler for TestAutomation {
    async fn run(&self, run: &AutomationRun<'_>) -> Result<(), String> {
        let a = run.automation;
        if a.config.get("fail").and_then(|v| v.as_bool()).unwrap_or(false) {
            return Err("the test automation was configured to fail".into());
        }
        let store = run.store;
        let tenant = store.tenant(a.tenant_id).await.map_err(|e| e.to_string())?;
        let chats = match tenant.team_chat_id {
            Some(c) => vec![c],
            None => store.admin_telegram_ids(a.tenant_id).await.map_err(|e| e.to_string())?,
        };
        let when = tochen_domain::clock::to_datetime(run.slot_at).format("%Y-%m-%d %H:%M UTC").to_string();
        for chat in chats {
            let lang = notices::language_of(store, chat, Some(a.tenant_id)).await;
            let text = tf(&lang, "sched.test_automation_ran", &[("name", &escape_html(&a.name)), ("slot", &when)]);
            let key = format!("auto:{}:{}:{}:{chat}", a.id, run.slot_at, run.manual);
            notices::send(store, Some(a.tenant_id), NotifyPayload::text(chat, text), Some(key))
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

pub struct AutomationRunHandler {
    pub registry: Arc<AutomationRegistry>,
    /// A missed slot older than this is not run by `run_once`.
    pub stale_after: Duration,
    /// At most this many missed slots are run by `catch_up`; older ones are skipped.
    pub max_catch_up: usize,
}

impl AutomationRunHandler {
    pub fn new(registry: Arc<AutomationRegistry>) -> Self {
        Self { registry, stale_after: Duration::from_secs(24 * 3600), max_catch_up: 100 }
    }
}

/// Slots count as on time within this margin; later, the missed-run policy decides.
const ON_TIME: i64 = 60_000;

#[async_trait::async_trait]
impl Worker<AutomationRunPayload> for AutomationRunHandler {
    async fn work(&self, cx: &JobContext, p: AutomationRunPayload) -> Result<(), JobError> {
        let (store, job) = (cx.store(), cx.job());
        let tenant = job.tenant_id.ok_or_else(|| JobError::permanent("automation job without a workspace"))?;
        let a = match store.automation(tenant, p.automation_id).await {
            Ok(a) => a,
            Err(StoreError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if p.manual {
            let run_id = store.start_manual_run(tenant, a.id, p.slot_at).await?;
            return self.execute(store, &a, run_id, p.slot_at, true).await;
        }
        if a.status != AutomationStatus::Active {
            return Ok(());
        }
        let schedule = a.schedule().map_err(|e| JobError::permanent(e.to_string()))?;
        let now = now_ms();
        let slot = p.slot_at;
        let late = now - slot > ON_TIME;
        let (run_slot, next, skipped) = if !late {
            (Some(slot), schedule.next_after(slot), Vec::new())
        } else {
            let upcoming = schedule.next_after(now);
            match a.missed_run_policy {
                MissedRunPolicy::CatchUp => {
                    let behind = schedule.slots_between(slot, now, self.max_catch_up + 1);
                    if behind.len() > self.max_catch_up {
                        // Too far behind: skip to the first of the last `max_catch_up` missed slots.
                        let keep = &behind[behind.len() - self.max_catch_up..];
                        (Some(slot), keep.first().copied(), Vec::new())
                    } else {
                        (Some(slot), schedule.next_after(slot), Vec::new())
                    }
                }
                MissedRunPolicy::Skip => (None, upcoming, vec![slot]),
                MissedRunPolicy::RunOnce => {
                    let latest = schedule.latest_at_or_before(now, slot).unwrap_or(slot);
                    if now - latest <= self.stale_after.as_millis() as i64 {
                        (Some(latest), upcoming, Vec::new())
                    } else {
                        (None, upcoming, vec![slot])
                    }
                }
            }
        };
        let start = store.start_slot(tenant, a.id, slot, run_slot.unwrap_or(slot), next, job.attempts > 1).await?;
        let SlotStart::Run { run_id, resumed } = start else {
            return Ok(());
        };
        let Some(run_slot) = run_slot else {
            tracing::info!(automation = %a.id, slots = ?skipped, "missed slot skipped by policy");
            store.mark_run_skipped(tenant, a.id, &run_id).await.map_err(|e| JobError::retry(e.to_string()))?;
            return Ok(());
        };
        if resumed {
            tracing::info!(automation = %a.id, slot = run_slot, "resuming a slot whose earlier run was interrupted");
        }
        self.execute(store, &a, run_id, run_slot, false).await
    }
}

impl AutomationRunHandler {
    async fn execute(
        &self,
        store: &Store,
        a: &Automation,
        run_id: String,
        slot_at: Millis,
        manual: bool,
    ) -> Result<(), JobError> {
        let result = match self.registry.get(&a.kind) {
            Some(h) => h.run(&AutomationRun { store, automation: a, slot_at, manual, run_id: &run_id }).await,
            None => Err(format!("no automation handler for kind {:?}", a.kind)),
        };
        let error = result.err();
        let after = store.finish_run(a.tenant_id, a.id, &run_id, error.as_deref()).await?;
        if let Some(e) = &error {
            tracing::warn!(automation = %a.id, error = %e, failures = after.consecutive_failures, "automation run failed");
        }
        if error.is_some()
            && after.status == AutomationStatus::Active
            && after.consecutive_failures >= after.max_consecutive_failures
        {
            let reason = format!("paused after {} failures in a row", after.consecutive_failures);
            if store.pause_automation(a.tenant_id, a.id, Some(&reason)).await? {
                let last = error.unwrap_or_default();
                let n = after.consecutive_failures;
                notices::to_admins(store, a.tenant_id, &format!("autopause:{}:{run_id}", a.id), |lang| {
                    let text = tf(
                        lang,
                        "sched.automation_paused",
                        &[("name", &escape_html(&a.name)), ("count", &n), ("error", &escape_html(&last))],
                    );
                    (text, Vec::new())
                })
                .await?;
            }
        }
        Ok(())
    }
}
