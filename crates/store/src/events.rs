//! Outgoing webhook events: raising one only writes rows (a delivery per subscribed webhook destination and the job
//! of its first attempt), so it is safe in a request path and inside the transaction of the change it reports; the
//! sending happens in `webhook.deliver` jobs (the delivery crate). The payloads are defined here, in one place, and
//! documented in docs/webhooks.md.
//!
//! Events raised elsewhere: `post.published` / `post.failed` / `post.unknown` (the scheduler's
//! `webhook.event_out`), `report.generated`, `data_sync.exported`, `alert.triggered` / `alert.resolved`
//! (the delivery crate's automations).

use crate::{Account, Delivery, NewDelivery, NewJob, Store, StoreError};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use tochen_domain::clock::{now_ms, to_datetime, Millis};
use tochen_domain::jobs::DeliverPayload;
use tochen_domain::{AccountId, DeliveryId, DestinationId, DestinationKind, DestinationStatus, PostId, TenantId};

/// The event "send test" sends to a webhook destination; it ignores the destination's event filter.
pub const PING: &str = "ping";

/// Every event type a webhook destination can subscribe to, in the order the bot lists them (docs/webhooks.md
/// describes each).
pub const EVENT_TYPES: &[&str] = &[
    "post.scheduled",
    "post.published",
    "post.failed",
    "post.unknown",
    "account.connected",
    ACCOUNT_NEEDS_RECONNECT,
    "report.generated",
    "data_sync.exported",
    "alert.triggered",
    "alert.resolved",
];

/// A new message id (`msg_` + a time-ordered uuid). It is the receiver's idempotency key and never changes
/// across retries or replays of the same event.
pub(crate) fn new_message_id() -> String {
    format!("msg_{}", uuid::Uuid::now_v7().simple())
}

/// The body every event shares: `{"type", "timestamp", "data"}`.
pub fn envelope(event_type: &str, at: DateTime<Utc>, data: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "type": event_type,
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "data": data,
    })
}

/// Sends `data` as an event of `event_type` to every active webhook destination of the workspace that subscribes
/// to it.
pub async fn queue_event(
    store: &Store,
    tenant: TenantId,
    event_type: &str,
    data: serde_json::Value,
) -> Result<Vec<DeliveryId>, StoreError> {
    let mut ids = Vec::new();
    for d in store.destinations(tenant).await? {
        if d.kind == DestinationKind::Webhook && d.status == DestinationStatus::Active && d.receives(event_type) {
            ids.push(queue_to(store, tenant, d.id, event_type, data.clone()).await?);
        }
    }
    Ok(ids)
}

/// Sends one event to one webhook destination: logs the delivery and enqueues its first attempt now.
pub async fn queue_to(
    store: &Store,
    tenant: TenantId,
    destination: DestinationId,
    event_type: &str,
    data: serde_json::Value,
) -> Result<DeliveryId, StoreError> {
    let delivery = log_event(store, tenant, destination, event_type, data).await?;
    enqueue_attempt(
        store,
        &DeliverPayload { tenant_id: tenant, delivery_id: delivery.id, round_start: 0 },
        now_ms(),
        0,
    )
    .await?;
    Ok(delivery.id)
}

/// Logs one event for one destination without queueing an attempt, for a caller that sends it at once itself
/// ("send test" sends its `ping` while the person waits).
pub async fn log_event(
    store: &Store,
    tenant: TenantId,
    destination: DestinationId,
    event_type: &str,
    data: serde_json::Value,
) -> Result<Delivery, StoreError> {
    let body = envelope(event_type, chrono::Utc::now(), data).to_string();
    store.create_delivery(tenant, destination, &new_message_id(), event_type, &body).await
}

/// Prepares `event_type` for every active webhook destination of the workspace that subscribes to it, without
/// writing anything: each
/// delivery row with the job of its first attempt, for a caller that writes them in its own transaction together
/// with the change they report (`Store::apply_inbound_event`).
pub async fn prepare_event(
    store: &Store,
    tenant: TenantId,
    event_type: &str,
    data: serde_json::Value,
) -> Result<Vec<(NewDelivery, NewJob)>, StoreError> {
    let mut prepared = Vec::new();
    for d in store.destinations(tenant).await? {
        if d.kind == DestinationKind::Webhook && d.status == DestinationStatus::Active && d.receives(event_type) {
            let delivery = NewDelivery {
                id: DeliveryId::new(),
                tenant_id: tenant,
                destination_id: d.id,
                message_id: new_message_id(),
                event_type: event_type.to_owned(),
                payload: envelope(event_type, chrono::Utc::now(), data.clone()).to_string(),
            };
            let first = DeliverPayload { tenant_id: tenant, delivery_id: delivery.id, round_start: 0 };
            prepared.push((delivery, attempt_job(&first, now_ms(), 0)));
        }
    }
    Ok(prepared)
}

pub fn attempt_job(p: &DeliverPayload, at: i64, attempt_no: i64) -> NewJob {
    // Network failures are attempts too (logged, scheduled here); the runner retries only crashes (the payload's
    // 3 attempts).
    NewJob::new(p).tenant(p.tenant_id).run_at(at).unique(format!("webhook:{}:{}", p.delivery_id, attempt_no))
}

pub async fn enqueue_attempt(store: &Store, p: &DeliverPayload, at: i64, attempt_no: i64) -> Result<(), StoreError> {
    store.enqueue(&attempt_job(p, at, attempt_no)).await?;
    Ok(())
}

fn rfc3339(ms: Millis) -> String {
    to_datetime(ms).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `post.scheduled`: a post got its publish time (directly, or when an admin approved it).
pub async fn post_scheduled(store: &Store, tenant: TenantId, post: PostId) -> Result<(), StoreError> {
    let p = store.post(tenant, post).await?;
    let targets = store.targets_of_post(tenant, post).await?;
    let data = json!({
        "post_id": p.id,
        "title": p.title,
        "scheduled_at": p.scheduled_at.map(rfc3339),
        "targets": targets.iter().map(|t| json!({
            "target_id": t.id, "account_id": t.account_id, "platform": t.platform,
        })).collect::<Vec<_>>(),
    });
    queue_event(store, tenant, "post.scheduled", data).await.map(drop)
}

/// `account.connected`: an account was connected or reconnected.
pub async fn account_connected(store: &Store, account: &Account) -> Result<(), StoreError> {
    let data = json!({
        "account_id": account.id,
        "platform": account.platform,
        "name": account.name,
        "external_id": account.external_id,
        "token_expires_at": account.token_expires_at.map(rfc3339),
    });
    queue_event(store, account.tenant_id, "account.connected", data).await.map(drop)
}

/// `account.needs_reconnect`: the platform refused the account's token; someone must sign in again.
pub async fn account_needs_reconnect(
    store: &Store,
    tenant: TenantId,
    account: AccountId,
    reason: &str,
) -> Result<(), StoreError> {
    let a = store.account(tenant, account).await?;
    queue_event(store, tenant, ACCOUNT_NEEDS_RECONNECT, account_needs_reconnect_data(&a, reason)).await.map(drop)
}

/// The type of the `account.needs_reconnect` event.
pub const ACCOUNT_NEEDS_RECONNECT: &str = "account.needs_reconnect";

/// The `data` of `account.needs_reconnect`, for callers that queue it inside their own transaction
/// (`outbox::prepare_event`).
pub fn account_needs_reconnect_data(a: &Account, reason: &str) -> serde_json::Value {
    json!({
        "account_id": a.id,
        "platform": a.platform,
        "name": a.name,
        "reason": reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_has_type_timestamp_and_data() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").unwrap().with_timezone(&Utc);
        let v = envelope("post.published", at, serde_json::json!({"post_id": "p"}));
        assert_eq!(v["type"], "post.published");
        assert_eq!(v["timestamp"], "2026-11-22T10:00:00Z");
        assert_eq!(v["data"]["post_id"], "p");
        assert!(new_message_id().starts_with("msg_"));
    }
}
