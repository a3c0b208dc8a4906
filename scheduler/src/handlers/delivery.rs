//! Outgoing deliveries: the `webhook.deliver`, `webhook.event_out` and `email.deliver` jobs, the `sweep.metrics`
//! job that feeds reports, and the `report`, `alert` and `data_sync` automation types.
//!
//! Thin adapters: the work (signing, retry schedule, report computation, alert rules, fan-out to destinations)
//! lives in `tochen_delivery`, `reports` and `alerts`, where it is tested against both databases.

use super::automation::{AutomationHandler, AutomationRegistry, AutomationRun};
use super::results::WebhookEventOut;
use crate::notices;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tochen_config::Config;
use tochen_delivery::automations::{
    run_ads_report, run_alerts, run_data_sync, run_report, DeliveryDeps, RunRef, KIND_ADS, KIND_ALERT, KIND_DATA_SYNC,
    KIND_REPORT,
};
use tochen_delivery::email::EmailSender;
use tochen_delivery::email_queue::{self, EmailJob, EmailJobError};
use tochen_delivery::outbox;
use tochen_delivery::reports::metrics_sync::{sync_all, SyncOptions};
use tochen_delivery::sources::Sources;
use tochen_delivery::webhook::WebhookSender;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_domain::ids::TenantId;
use tochen_domain::jobs::{DeliverPayload, SweepMetrics};
use tochen_domain::AuthKind;
use tochen_platforms::MetricsReader;
use tochen_queue::Workers;
use tochen_queue::{JobContext, JobError, Worker};
use tochen_store::{Store, StoreError};

/// Registers the delivery job kinds; the metrics sync reads the accounts `sources` counts.
pub fn register_jobs(w: &mut Workers, config: &Config, store: &Store, sources: Sources) {
    match WebhookSender::new(config.webhook_allow_private, Duration::from_secs(20)) {
        Ok(sender) => {
            w.register::<DeliverPayload, _>(WebhookDeliverHandler { sender });
        }
        Err(e) => tracing::error!(error = %e, "webhook deliveries are disabled: the http client cannot be built"),
    }
    w.register::<WebhookEventOut, _>(WebhookEventOutHandler);
    // Without SMTP no email job is ever queued (the automation run reports the missing configuration instead).
    if let Some(sender) = email_sender(config) {
        w.register::<EmailJob, _>(EmailDeliverHandler { sender, data_dir: config.data_dir.clone() });
    }
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap_or_default();
    let readers = tochen_platforms::metrics_readers(config, http, store);
    w.register::<SweepMetrics, _>(MetricsSweep { readers, sources });
}

/// The `sweep.metrics` job: reads engagement and followers for every workspace (see
/// `tochen_delivery::reports::metrics_sync`).
pub struct MetricsSweep {
    pub readers: HashMap<AuthKind, Arc<dyn MetricsReader>>,
    pub sources: Sources,
}

#[async_trait::async_trait]
impl Worker<SweepMetrics> for MetricsSweep {
    async fn work(&self, cx: &JobContext, _args: SweepMetrics) -> Result<(), JobError> {
        let store = cx.store();
        let report =
            sync_all(store, &self.readers, SyncOptions::default(), self.sources, tochen_domain::clock::now_ms())
                .await?;
        tracing::info!(
            accounts = report.accounts,
            posts = report.posts,
            stopped = report.stopped.len(),
            "metrics synced"
        );
        Ok(())
    }
}

/// Adds the `report`, `alert` and `data_sync` automation types to `registry`; they count the accounts `sources`
/// counts.
pub fn with_delivery_automations(
    mut registry: AutomationRegistry,
    config: &Config,
    sources: Sources,
) -> AutomationRegistry {
    let email = email_sender(config);
    let deps = Arc::new(DeliveryDeps { email, data_dir: config.data_dir.clone(), sources, run: None });
    registry
        .register(KIND_REPORT, Arc::new(Delivering { deps: deps.clone(), kind: Kind::Report }))
        .register(KIND_ALERT, Arc::new(Delivering { deps: deps.clone(), kind: Kind::Alert }))
        .register(KIND_ADS, Arc::new(Delivering { deps: deps.clone(), kind: Kind::Ads }))
        .register(KIND_DATA_SYNC, Arc::new(Delivering { deps, kind: Kind::DataSync }));
    registry
}

fn email_sender(config: &Config) -> Option<EmailSender> {
    EmailSender::configured(config.smtp.as_ref())
}

/// Sends one queued email (`tochen_delivery::email_queue`): anything transient is retried with the runner's
/// backoff; a permanent failure (5xx, TLS, login) fails the job at once, is written into the history of the
/// automation run that queued it, and is told to the workspace's admins once a day per destination (a broken
/// relay would otherwise repeat the same notice with every run).
pub struct EmailDeliverHandler {
    pub sender: EmailSender,
    pub data_dir: std::path::PathBuf,
}

#[async_trait::async_trait]
impl Worker<EmailJob> for EmailDeliverHandler {
    async fn work(&self, cx: &JobContext, p: EmailJob) -> Result<(), JobError> {
        match email_queue::deliver(&self.sender, &self.data_dir, &p).await {
            Ok(()) => Ok(()),
            Err(EmailJobError::Transient(m)) => Err(JobError::retry(m)),
            Err(EmailJobError::Permanent(m)) => {
                if let Some(tenant) = cx.job().tenant_id {
                    email_failed(cx.store(), tenant, &p, &m).await?;
                }
                Err(JobError::permanent(m))
            }
        }
    }
}

/// Records a permanent email failure in the run history and tells the admins (at most once a day per
/// destination).
async fn email_failed(store: &Store, tenant: TenantId, p: &EmailJob, error: &str) -> Result<(), StoreError> {
    email_queue::record_failure(store, tenant, p, error).await?;
    let name = match store.destination(tenant, p.destination_id).await {
        Ok(d) => d.name,
        Err(StoreError::NotFound(_)) => p.to.clone(),
        Err(e) => return Err(e),
    };
    let day = tochen_domain::clock::now_ms() / tochen_domain::clock::DAY_MS;
    // The relay's reply is outside text: a notice shows its start only, so it always fits one message.
    let error: String = error.chars().take(600).collect();
    notices::to_admins(store, tenant, &format!("email_failed:{}:{day}", p.destination_id), |lang| {
        let text = tf(
            lang,
            "delivery.email_failed",
            &[("name", &escape_html(&name)), ("to", &escape_html(&p.to)), ("error", &escape_html(&error))],
        );
        (text, Vec::new())
    })
    .await
}

/// One attempt of one webhook delivery; the next attempt is its own job, scheduled by the outbox.
pub struct WebhookDeliverHandler {
    pub sender: WebhookSender,
}

#[async_trait::async_trait]
impl Worker<DeliverPayload> for WebhookDeliverHandler {
    async fn work(&self, cx: &JobContext, p: DeliverPayload) -> Result<(), JobError> {
        let store = cx.store();
        outbox::run_delivery(store, &self.sender, &p).await?;
        Ok(())
    }
}

/// Fans a post result out to the workspace's webhook destinations as `post.published`, `post.failed` or
/// `post.unknown` (see docs/webhooks.md).
pub struct WebhookEventOutHandler;

#[async_trait::async_trait]
impl Worker<WebhookEventOut> for WebhookEventOutHandler {
    async fn work(&self, cx: &JobContext, e: WebhookEventOut) -> Result<(), JobError> {
        let store = cx.store();
        let event_type = e.event_type.replacen("post.target.", "post.", 1);
        tochen_store::events::queue_event(store, e.tenant, &event_type, e.data).await?;
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Report,
    Alert,
    DataSync,
    Ads,
}

struct Delivering {
    deps: Arc<DeliveryDeps>,
    kind: Kind,
}

#[async_trait::async_trait]
impl AutomationHandler for Delivering {
    async fn run(&self, run: &AutomationRun<'_>) -> Result<(), String> {
        let a = run.automation;
        let deps = DeliveryDeps {
            run: Some(RunRef { automation_id: a.id, run_id: run.run_id.to_owned() }),
            ..self.deps.as_ref().clone()
        };
        let (store, deps) = (run.store, &deps);
        match self.kind {
            Kind::Report => {
                run_report(store, deps, a.tenant_id, a.id, &a.config, &a.timezone, run.slot_at).await.map(drop)
            }
            Kind::DataSync => {
                run_data_sync(store, deps, a.tenant_id, a.id, &a.config, &a.timezone, run.slot_at).await.map(drop)
            }
            Kind::Ads => run_ads_report(store, deps, a.tenant_id, a.id, &a.config, run.slot_at).await.map(drop),
            Kind::Alert => {
                let now = tochen_domain::clock::now_ms();
                run_alerts(store, deps, a.tenant_id, a.id, &a.config, &a.timezone, now).await.map(drop)
            }
        }
    }
}
