//! Periodic sweeps: token refresh, cleanup, and the automation planner, plus the scheduler heartbeat.
//!
//! tokio-cron-scheduler only *enqueues* a sweep job, with a unique key per period (`sweep.cleanup:{hour}`), so
//! however many scheduler instances run, each period's sweep is one job and runs once, with the runner's leases
//! and retries. The heartbeat is per instance and is written directly.

use crate::notices;
use std::sync::Arc;
use std::time::Duration;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::jobs::{SweepAds, SWEEP_ADS, SWEEP_CLEANUP, SWEEP_METRICS, SWEEP_TOKEN_REFRESH};
use tochen_domain::jobs::{SweepAutomations, SweepCleanup, SweepMetrics, SweepTokenRefresh};
use tochen_domain::AccountStatus;
use tochen_platforms::refresh::{RefreshError, RefreshRequest, RefreshRule, TokenRefresher};
use tochen_queue::{JobContext, JobError, Worker};
use tochen_store::RefreshCandidate;
use tochen_store::Store;
use tochen_store::{AccountTokens, NewJob};
use tokio_cron_scheduler::{Job as CronJob, JobScheduler};
use tokio_util::sync::CancellationToken;

pub use tochen_domain::jobs::SWEEP_AUTOMATIONS;

const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;

/// Enqueues one sweep for the period containing `now`; a no-op when that period's sweep already exists.
/// Each sweep's payload names its period; its insert options key the job by kind and period, with 3 attempts.
pub async fn enqueue_sweep(store: &Store, kind: &str, period_ms: Millis, now: Millis) -> tochen_store::Result<()> {
    let period = now / period_ms;
    let job = match kind {
        SWEEP_AUTOMATIONS => NewJob::new(&SweepAutomations { period }),
        SWEEP_TOKEN_REFRESH => NewJob::new(&SweepTokenRefresh { period }),
        SWEEP_CLEANUP => NewJob::new(&SweepCleanup { period }),
        SWEEP_METRICS => NewJob::new(&SweepMetrics { period }),
        SWEEP_ADS => NewJob::new(&SweepAds { period }),
        _ => return Err(tochen_store::StoreError::NotFound("sweep kind")),
    };
    store.enqueue(&job).await?;
    Ok(())
}

/// The sweeps and their cadence: (kind, cron, period of the unique key).
pub const SWEEPS: &[(&str, &str, Millis)] = &[
    (SWEEP_AUTOMATIONS, "0 * * * * *", 60_000),
    (SWEEP_TOKEN_REFRESH, "0 5 * * * *", HOUR),
    (SWEEP_CLEANUP, "0 17 * * * *", HOUR),
    (SWEEP_METRICS, "0 35 */3 * * *", 3 * HOUR),
    (SWEEP_ADS, "0 40 4 * * *", DAY),
];

/// Starts tokio-cron-scheduler with one cron job per sweep, and enqueues the current period's sweeps right away
/// so a freshly started instance does not wait for the first tick.
pub async fn start(store: Store) -> anyhow::Result<JobScheduler> {
    let sched = JobScheduler::new().await?;
    for (kind, cron, period) in SWEEPS {
        let store = store.clone();
        let (kind, period) = (*kind, *period);
        enqueue_sweep(&store, kind, period, now_ms()).await?;
        sched
            .add(CronJob::new_async(*cron, move |_, _| {
                let store = store.clone();
                Box::pin(async move {
                    if let Err(e) = enqueue_sweep(&store, kind, period, now_ms()).await {
                        tracing::warn!(kind, error = %e, "could not enqueue a sweep");
                    }
                })
            })?)
            .await?;
    }
    sched.start().await?;
    Ok(sched)
}

/// Writes this instance's heartbeat every few seconds until shutdown, then removes it.
pub async fn heartbeat(store: Store, instance: String, every: Duration, shutdown: CancellationToken) {
    let started = now_ms();
    let version = env!("CARGO_PKG_VERSION");
    loop {
        if let Err(e) = store.scheduler_beat(&instance, started, version).await {
            tracing::warn!(error = %e, "could not write the scheduler heartbeat");
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
        }
    }
    let _ = store.scheduler_gone(&instance).await;
}

/// `sweep.automations`: queues any missing slot job of active automations that are due.
pub struct AutomationPlanner;

#[async_trait::async_trait]
impl Worker<SweepAutomations> for AutomationPlanner {
    async fn work(&self, cx: &JobContext, _args: SweepAutomations) -> Result<(), JobError> {
        let store = cx.store();
        for a in store.active_automations_due(now_ms() + 120_000).await? {
            store.ensure_slot_job(&a).await?;
        }
        Ok(())
    }
}

/// Retention periods of the cleanup sweep.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub finished_jobs: Duration,
    pub webhook_events: Duration,
    pub automation_runs: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            finished_jobs: Duration::from_secs(14 * 86_400),
            webhook_events: Duration::from_secs(30 * 86_400),
            automation_runs: Duration::from_secs(90 * 86_400),
        }
    }
}

/// `sweep.cleanup`: expired OAuth states and sign-ins waiting for confirmation or a choice (with their tokens),
/// token revocations stuck for a day, finished jobs, webhook events and run history past retention, and
/// heartbeats of instances gone for a day; re-queues the `webhook.event` job of unprocessed platform events.
pub struct Cleanup {
    pub retention: Retention,
}

#[async_trait::async_trait]
impl Worker<SweepCleanup> for Cleanup {
    async fn work(&self, cx: &JobContext, _args: SweepCleanup) -> Result<(), JobError> {
        let store = cx.store();
        let now = now_ms();
        let ago = |d: Duration| now - d.as_millis() as i64;
        let states = store.delete_expired_oauth_states(now).await?;
        // Sign-ins nobody confirmed or chose from in time: their parked tokens go.
        let pending =
            tochen_platforms::pending::delete_expired(store, now).await.map_err(|e| JobError::retry(e.to_string()))?;
        let ad_sign_ins = store.delete_expired_ad_sign_ins(now).await?;
        // A revocation whose job could not finish within a day: the token goes all the same.
        let revocations = store.delete_token_revocations_before(now - DAY).await?;
        let jobs = store.delete_finished_jobs_before(ago(self.retention.finished_jobs)).await?;
        let events = store.delete_webhook_events_before(ago(self.retention.webhook_events)).await?;
        let runs = store.delete_automation_runs_before(ago(self.retention.automation_runs)).await?;
        let beats = store.delete_heartbeats_before(now - DAY).await?;
        // Platform events still `received` a minute on have no job (stored by an older version): queue it.
        let requeued = store.requeue_unprocessed_webhook_events(now - 60_000, 1000).await?;
        tracing::info!(states, pending, ad_sign_ins, revocations, jobs, events, runs, beats, requeued, "cleanup done");
        Ok(())
    }
}

/// `sweep.token_refresh`: refreshes what can be refreshed and warns about what cannot.
pub struct TokenRefresh {
    pub refresher: Arc<dyn TokenRefresher>,
}

/// What the sweep does with one account at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshAction {
    Refresh,
    /// Warn the admins: the token expires within this many days (7 or 1).
    Warn(i64),
    /// The token has expired and cannot be refreshed.
    Expired,
    Nothing,
}

/// What the account's connector's refresh rule (`Connector::refresh_rule`) asks for at `now`: TikTok access tokens
/// (24 h) are refreshed when less than 6 hours remain; Instagram-login tokens once they are more than 24 hours old;
/// Facebook long-lived tokens cannot be refreshed, so the admins are warned 7 days and 1 day before they expire.
pub fn action_for(c: &RefreshCandidate, now: Millis) -> RefreshAction {
    let left = c.token_expires_at.map(|e| e - now);
    match tochen_platforms::registry::owner(c.auth_kind).refresh_rule(c.auth_kind) {
        RefreshRule::Never => RefreshAction::Nothing,
        RefreshRule::BeforeExpiry(margin) => match left {
            Some(l) if l < margin => RefreshAction::Refresh,
            _ => RefreshAction::Nothing,
        },
        RefreshRule::OlderThan(age) if now - c.token_issued_at > age => RefreshAction::Refresh,
        RefreshRule::OlderThan(_) => RefreshAction::Nothing,
        RefreshRule::WarnBeforeExpiry => match left {
            Some(l) if l <= 0 => RefreshAction::Expired,
            Some(l) if l <= DAY => RefreshAction::Warn(1),
            Some(l) if l <= 7 * DAY => RefreshAction::Warn(7),
            _ => RefreshAction::Nothing,
        },
    }
}

#[async_trait::async_trait]
impl Worker<SweepTokenRefresh> for TokenRefresh {
    async fn work(&self, cx: &JobContext, _args: SweepTokenRefresh) -> Result<(), JobError> {
        let store = cx.store();
        let now = now_ms();
        for c in store.refresh_candidates().await? {
            match action_for(&c, now) {
                RefreshAction::Nothing => {}
                RefreshAction::Refresh => self.refresh(store, &c).await?,
                RefreshAction::Warn(days) => warn_expiry(store, &c, days).await?,
                RefreshAction::Expired => {
                    notices::needs_reconnect(store, c.tenant_id, c.account_id, "the access token has expired").await?
                }
            }
        }
        Ok(())
    }
}

impl TokenRefresh {
    async fn refresh(&self, store: &Store, c: &RefreshCandidate) -> Result<(), JobError> {
        let tokens = store.account_tokens(c.tenant_id, c.account_id).await?;
        let account = store.account(c.tenant_id, c.account_id).await?;
        let req = RefreshRequest {
            tenant_id: c.tenant_id,
            account_id: c.account_id,
            auth_kind: c.auth_kind,
            external_id: account.external_id,
            tokens,
        };
        match self.refresher.refresh(&req).await {
            Ok(fresh) => {
                // One write stores the new access token and the rotated refresh token together, before anything
                // uses the new access token: the old refresh token is already dead.
                let tokens = AccountTokens { access_token: fresh.access_token, refresh_token: fresh.refresh_token };
                store
                    .update_account_tokens(
                        c.tenant_id,
                        c.account_id,
                        &tokens,
                        fresh.token_expires_at,
                        fresh.refresh_expires_at,
                    )
                    .await?;
                tracing::info!(account = %c.account_id, kind = %c.auth_kind, "token refreshed");
            }
            Err(RefreshError::Invalid(why)) => {
                notices::needs_reconnect(store, c.tenant_id, c.account_id, &why).await?;
            }
            Err(e) => tracing::warn!(account = %c.account_id, error = %e, "token refresh failed; next sweep retries"),
        }
        Ok(())
    }
}

async fn warn_expiry(store: &Store, c: &RefreshCandidate, days: i64) -> Result<(), JobError> {
    if store.account(c.tenant_id, c.account_id).await?.status != AccountStatus::Active {
        return Ok(());
    }
    let expires = c.token_expires_at.unwrap_or_default();
    let event = format!("expiry:{}:{days}:{expires}", c.account_id);
    let name = escape_html(&c.name);
    notices::to_admins(store, c.tenant_id, &event, |lang| {
        let text = tf(lang, "sched.token_expires_soon", &[("account", &name), ("days", &days)]);
        (format!("{text}\n\n{}", t(lang, "sched.reconnect_hint")), Vec::new())
    })
    .await?;
    Ok(())
}
