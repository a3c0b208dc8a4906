//! The `webhook.event` job: processes one incoming platform event the web service stored and acknowledged.
//!
//! The work (resolving the account's workspaces, telling the team chat, moving TikTok targets, marking revoked
//! accounts) is `tochen_platforms::webhook_events::process_event`. This adapter classifies failures: a
//! database hiccup is retried; an event that can never be processed (its payload is not JSON, or the row is
//! corrupt) fails at once and the event is marked `failed`, so it does not look pending forever. An event that
//! was already handled (a job queued twice by an older version, or re-queued by the recovery sweep) is skipped.
//!
//! `process_event` writes everything it changes in one transaction, so a retried job never repeats its effects.
//! What settling a TikTok target means beyond core (the post's status, the author's message, the outgoing
//! `post.target.*` event, [`results::target_settled`]) runs after it, on every run, including one that finds
//! the event already processed: a crash between the two then only delays it. Each of those is idempotent.

use super::results;
use tochen_domain::TargetStatus;
use tochen_platforms::webhook_events::{process_event, reported_targets, ProcessError, WebhookEventPayload};
use tochen_queue::{JobContext, JobError, Worker};
use tochen_store::{Store, StoreError};

pub struct WebhookEventHandler;

#[async_trait::async_trait]
impl Worker<WebhookEventPayload> for WebhookEventHandler {
    async fn work(&self, cx: &JobContext, p: WebhookEventPayload) -> Result<(), JobError> {
        let store = cx.store();
        let id = p.event_id.as_str();
        match store.webhook_event_status(id).await? {
            None => return Err(JobError::permanent(format!("webhook event {id} does not exist"))),
            Some(status) if status != "received" => {
                tracing::debug!(event = id, %status, "webhook event already handled");
                if status == "processed" {
                    settle_reported_targets(store, id).await?;
                }
                return Ok(());
            }
            Some(_) => {}
        }
        if let Some((source, payload)) = store.webhook_event_payload(id).await? {
            if serde_json::from_str::<serde_json::Value>(&payload).is_err() {
                return Err(give_up(store, id, format!("{source} webhook event {id} is not json")).await);
            }
        }
        match process_event(store, id).await {
            Ok(done) => {
                tracing::info!(
                    event = id,
                    notifications = done.notifications,
                    targets = done.targets_updated,
                    accounts = done.accounts_marked,
                    already_handled = done.already_handled,
                    "webhook event processed"
                );
                settle_reported_targets(store, id).await
            }
            Err(ProcessError::Missing(_)) => Err(JobError::permanent(format!("webhook event {id} does not exist"))),
            Err(ProcessError::Store(e)) => match JobError::from(e) {
                JobError::Permanent(message) => Err(give_up(store, id, message).await),
                retry => Err(retry),
            },
        }
    }
}

/// Runs the consequences of settling for every target the event reports on that is settled (by this event or
/// otherwise: the unique keys of the message and the outgoing event make a repeat a no-op).
async fn settle_reported_targets(store: &Store, id: &str) -> Result<(), JobError> {
    for (tenant, target) in reported_targets(store, id).await? {
        let status = match store.target(tenant, target).await {
            Ok(t) => t.status,
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        if matches!(status, TargetStatus::Published | TargetStatus::Failed) {
            results::target_settled(store, tenant, target).await?;
        }
    }
    Ok(())
}

/// Marks the event failed (best effort: the job fails permanently either way) and returns the job's error.
async fn give_up(store: &Store, id: &str, message: String) -> JobError {
    if let Err(e) = store.finish_webhook_event(id, "failed").await {
        tracing::warn!(event = id, error = %e, "could not mark a webhook event failed");
    }
    JobError::Permanent(message)
}
