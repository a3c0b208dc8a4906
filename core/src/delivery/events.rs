//! The outgoing webhook events other parts of tochen raise, with their payloads defined in one place (and
//! documented in docs/webhooks.md). Each call only writes rows (deliveries and their jobs), so it is safe in a
//! request path; the sending happens in `webhook.deliver` jobs.
//!
//! Events raised elsewhere: `post.published` / `post.failed` / `post.unknown` (the scheduler's
//! `webhook.event_out`), `report.generated`, `data_sync.exported`, `alert.triggered` / `alert.resolved`
//! (`delivery::automations`).

use super::outbox::queue_event;
use crate::clock::{to_datetime, Millis};
use crate::ids::{AccountId, PostId, TenantId};
use crate::store::{Account, Store, StoreError};
use chrono::SecondsFormat;
use serde_json::json;

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
