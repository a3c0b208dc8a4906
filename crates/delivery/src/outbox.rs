//! The durable side of outgoing webhooks: events become delivery rows plus `webhook.deliver` jobs, and each job
//! runs ONE attempt, logs it, and either finishes the delivery or enqueues the next attempt at the time the retry
//! schedule says.
//!
//! Retries are separate jobs (not the runner's generic retry) because the schedule is the webhook spec's, a
//! receiver's `Retry-After` must be honoured, and a 410 must stop everything. The `webhook-id` lives on the
//! delivery row, so every attempt and every replay carries the same id. Giving up and disabling a destination are
//! told to the workspace's team chat through a `notify` job.

use super::webhook::{next_retry_delay, AttemptReport, AttemptVerdict, WebhookSecret, WebhookSender};
use tochen_domain::clock::now_ms;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_domain::ids::{DeliveryId, DestinationId, TenantId};
use tochen_domain::jobs::{DeliverPayload, NotifyPayload};
use tochen_domain::{DestinationKind, DestinationStatus};
use tochen_store::events::{enqueue_attempt, PING};
use tochen_store::{DeliveryStatus, NewAttempt, NewJob, Store, StoreError};
use url::Url;

/// What one `webhook.deliver` job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryStep {
    Delivered,
    /// 410 Gone: the destination was disabled and the delivery failed.
    Disabled,
    /// The next attempt was enqueued for this time (unix ms).
    RetryAt(i64),
    /// The schedule is exhausted: the delivery failed and the team was told.
    GaveUp,
    /// Nothing to do: the delivery is no longer pending or its destination is not active.
    Skipped,
}

/// Sends a delivery again with the same `webhook-id` and body, with a fresh retry schedule.
pub async fn replay(store: &Store, tenant: TenantId, delivery: DeliveryId) -> Result<(), StoreError> {
    let d = store.reopen_delivery(tenant, delivery).await?;
    let payload = DeliverPayload { tenant_id: tenant, delivery_id: delivery, round_start: d.attempts };
    enqueue_attempt(store, &payload, now_ms(), d.attempts).await
}

/// What "send test" got from a webhook destination.
#[derive(Debug, Clone)]
pub struct PingOutcome {
    /// The `webhook-id` the ping carried; the delivery log lists it with the attempt.
    pub message_id: String,
    pub report: AttemptReport,
}

/// Sends a signed `ping` event to a webhook destination now, once, whatever its status or event filter, and logs
/// it in the delivery log like any event. A test changes nothing else: a failing ping is not retried, and a 410
/// answer does not disable the destination (the next real event would).
pub async fn ping(
    store: &Store,
    sender: &WebhookSender,
    tenant: TenantId,
    destination: DestinationId,
) -> Result<PingOutcome, StoreError> {
    let d = store.destination(tenant, destination).await?;
    if d.kind != DestinationKind::Webhook {
        return Err(StoreError::NotFound("webhook destination"));
    }
    let data = serde_json::json!({ "destination_id": d.id, "name": d.name });
    let delivery = tochen_store::events::log_event(store, tenant, d.id, PING, data).await?;
    let secret = store.destination_secret(tenant, d.id).await?;
    let url = d.url.as_deref().and_then(|u| Url::parse(u).ok());
    let report = match (url, WebhookSecret::parse(secret.expose())) {
        (Some(url), Ok(secret)) => sender.send(&url, &[secret], &delivery.message_id, &delivery.payload).await,
        _ => AttemptReport::failed(0, "destination url or secret is malformed".into()),
    };
    store.record_delivery_attempt(tenant, delivery.id, &logged(&report)).await?;
    match (&report.verdict, &report.error) {
        (AttemptVerdict::Delivered, _) => store.mark_delivery_delivered(tenant, delivery.id).await?,
        (_, error) => {
            store.mark_delivery_failed(tenant, delivery.id, error.as_deref().unwrap_or("not delivered")).await?
        }
    }
    Ok(PingOutcome { message_id: delivery.message_id, report })
}

/// Runs one attempt of a delivery (the `webhook.deliver` job handler's body).
#[tracing::instrument(skip(store, sender))]
pub async fn run_delivery(
    store: &Store,
    sender: &WebhookSender,
    p: &DeliverPayload,
) -> Result<DeliveryStep, StoreError> {
    let delivery = store.delivery(p.tenant_id, p.delivery_id).await?;
    if delivery.status != DeliveryStatus::Pending {
        return Ok(DeliveryStep::Skipped);
    }
    let destination = store.destination(p.tenant_id, delivery.destination_id).await?;
    if destination.status != DestinationStatus::Active || destination.kind != DestinationKind::Webhook {
        store.mark_delivery_failed(p.tenant_id, delivery.id, "destination is not active").await?;
        return Ok(DeliveryStep::Skipped);
    }
    let url = destination.url.as_deref().and_then(|u| Url::parse(u).ok());
    let secret = store.destination_secret(p.tenant_id, destination.id).await?;
    let report = match (url, WebhookSecret::parse(secret.expose())) {
        (Some(url), Ok(secret)) => sender.send(&url, &[secret], &delivery.message_id, &delivery.payload).await,
        _ => {
            store.mark_delivery_failed(p.tenant_id, delivery.id, "destination url or secret is malformed").await?;
            return Ok(DeliveryStep::Skipped);
        }
    };
    let attempts = store.record_delivery_attempt(p.tenant_id, delivery.id, &logged(&report)).await?;
    let retry_after = match report.verdict {
        AttemptVerdict::Delivered => {
            store.mark_delivery_delivered(p.tenant_id, delivery.id).await?;
            return Ok(DeliveryStep::Delivered);
        }
        AttemptVerdict::Gone => {
            store.mark_delivery_failed(p.tenant_id, delivery.id, "receiver answered 410 gone").await?;
            store
                .set_destination_status(p.tenant_id, destination.id, DestinationStatus::Disabled, Some("410 gone"))
                .await?;
            tell_team(store, p.tenant_id, "delivery.webhook_disabled", &destination.name, &delivery.event_type).await?;
            return Ok(DeliveryStep::Disabled);
        }
        AttemptVerdict::SlowDown { retry_after } => retry_after,
        AttemptVerdict::Retry => None,
    };
    let in_round = (attempts - p.round_start).max(1) as u32;
    match next_retry_delay(in_round, rand::random::<f64>(), retry_after) {
        Some(wait) => {
            // The wait is bounded (schedule and Retry-After are capped); saturate anyway rather than wrap.
            let at = now_ms().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
            enqueue_attempt(store, p, at, attempts).await?;
            Ok(DeliveryStep::RetryAt(at))
        }
        None => {
            let error = report.error.unwrap_or_else(|| "gave up".into());
            store.mark_delivery_failed(p.tenant_id, delivery.id, &error).await?;
            tell_team(store, p.tenant_id, "delivery.webhook_gave_up", &destination.name, &delivery.event_type).await?;
            Ok(DeliveryStep::GaveUp)
        }
    }
}

/// An attempt as the delivery log keeps it.
fn logged(report: &AttemptReport) -> NewAttempt {
    NewAttempt {
        status_code: report.status_code,
        latency_ms: report.latency_ms,
        response_snippet: report.response_snippet.clone(),
        error: report.error.clone(),
    }
}

async fn tell_team(store: &Store, tenant: TenantId, key: &str, name: &str, event: &str) -> Result<(), StoreError> {
    let t = store.tenant(tenant).await?;
    let Some(chat) = t.team_chat_id else { return Ok(()) };
    let lang = t.profile.language.as_str();
    let text = match key {
        "delivery.webhook_disabled" => {
            tf(lang, "delivery.webhook_disabled", &[("name", &escape_html(name)), ("event", &escape_html(event))])
        }
        _ => tf(lang, "delivery.webhook_gave_up", &[("name", &escape_html(name)), ("event", &escape_html(event))]),
    };
    let job = NewJob::new(&NotifyPayload::text(chat, text)).tenant(tenant);
    store.enqueue(&job).await?;
    Ok(())
}
