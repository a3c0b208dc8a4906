//! Processing of stored incoming webhook events (the `webhook.event` job), after the web service verified,
//! stored and acknowledged them.
//!
//! Webhooks name a Page, an Instagram user or a TikTok open_id, never a workspace, so each event is resolved to
//! the workspaces that connected that account (`accounts_by_external_id`). Comments and reactions reach the
//! team chat; TikTok publish events move targets; `authorization.removed` marks the account and tells the admins.
//! Every message to a chat is a `notify` job, so it is retried and rate-limited like any other.

use crate::domain::{AccountStatus, Platform, TargetStatus};
use crate::i18n::tf;
use crate::ids::{TargetId, TenantId};
use crate::jobs::{escape_html, NotifyPayload, NOTIFY};
use crate::store::{Account, NewJob, Store, StoreError};
use serde_json::Value;

/// The `webhook.event` job payload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookEventPayload {
    pub event_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("webhook event {0} does not exist")]
    Missing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ProcessError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// What processing did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Processed {
    pub notifications: usize,
    pub targets_updated: usize,
    pub accounts_marked: usize,
}

/// Processes one stored event and marks it processed (or ignored when it concerned nobody here).
#[tracing::instrument(skip(store))]
pub async fn process_event(store: &Store, event_id: &str) -> Result<Processed, ProcessError> {
    let (source, payload) =
        store.webhook_event_payload(event_id).await?.ok_or_else(|| ProcessError::Missing(event_id.into()))?;
    let body: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
    let done = match source.as_str() {
        "meta" => meta(store, &body).await?,
        "tiktok" => tiktok(store, &body).await?,
        _ => Processed::default(),
    };
    let status = if done == Processed::default() { "ignored" } else { "processed" };
    store.finish_webhook_event(event_id, status).await?;
    Ok(done)
}

async fn notify(store: &Store, tenant: TenantId, chat_id: i64, text: String) -> Result<(), StoreError> {
    let payload =
        serde_json::to_value(NotifyPayload::text(chat_id, text)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store.enqueue(&NewJob::new(NOTIFY, payload).tenant(tenant)).await?;
    Ok(())
}

async fn active(store: &Store, platform: Platform, external_id: &str) -> Result<Vec<Account>, StoreError> {
    Ok(store
        .accounts_by_external_id(platform, external_id)
        .await?
        .into_iter()
        .filter(|a| a.status != AccountStatus::Disconnected)
        .collect())
}

fn text_of(v: &Value, keys: &[&str]) -> String {
    keys.iter().find_map(|k| v[*k].as_str()).unwrap_or("").chars().take(300).collect()
}

async fn meta(store: &Store, body: &Value) -> Result<Processed, StoreError> {
    let mut done = Processed::default();
    let (platform, field) = match body["object"].as_str() {
        Some("page") => (Platform::Facebook, "feed"),
        Some("instagram") => (Platform::Instagram, "comments"),
        _ => return Ok(done),
    };
    for entry in body["entry"].as_array().into_iter().flatten() {
        let owner = match &entry["id"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        let accounts = active(store, platform, &owner).await?;
        for change in entry["changes"].as_array().into_iter().flatten().filter(|c| c["field"] == field) {
            let v = &change["value"];
            let from = &v["from"];
            // The Page's own activity is not news to the team.
            if from["id"].as_str() == Some(owner.as_str()) {
                continue;
            }
            let who = escape_html(&text_of(from, &["name", "username"]));
            for a in &accounts {
                let tenant = store.tenant(a.tenant_id).await?;
                let Some(chat) = tenant.team_chat_id else { continue };
                let wanted = super::alerts::engagement_alerts(store, a.tenant_id).await?;
                let is_reaction = v["item"].as_str() == Some("reaction");
                if (is_reaction && !wanted.reactions) || (!is_reaction && !wanted.comments) {
                    continue;
                }
                let lang = tenant.profile.language.as_str();
                let account = escape_html(&a.name);
                let text = match (platform, v["item"].as_str(), v["verb"].as_str()) {
                    (Platform::Instagram, _, _) => {
                        let msg = escape_html(&text_of(v, &["text"]));
                        tf(lang, "web.webhook_comment", &[("who", &who), ("account", &account), ("text", &msg)])
                    }
                    (_, Some("comment"), Some("add")) => {
                        let msg = escape_html(&text_of(v, &["message"]));
                        tf(lang, "web.webhook_comment", &[("who", &who), ("account", &account), ("text", &msg)])
                    }
                    (_, Some("reaction"), Some("add")) => {
                        let kind = escape_html(&text_of(v, &["reaction_type"]));
                        tf(lang, "web.webhook_reaction", &[("who", &who), ("account", &account), ("reaction", &kind)])
                    }
                    _ => continue,
                };
                notify(store, a.tenant_id, chat, text).await?;
                done.notifications += 1;
            }
        }
    }
    Ok(done)
}

/// The target of `tenant` whose platform reference is this TikTok publish_id.
async fn target_by_ref(store: &Store, tenant: TenantId, publish_id: &str) -> Result<Option<TargetId>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM post_targets WHERE tenant_id = $1 AND platform = 'tiktok' AND platform_ref = $2",
    )
    .bind(tenant.to_db())
    .bind(publish_id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|(id,)| TargetId::from_db(&id)).transpose()
}

async fn tiktok(store: &Store, body: &Value) -> Result<Processed, StoreError> {
    let mut done = Processed::default();
    let open_id = body["user_openid"].as_str().unwrap_or("");
    let content: Value = body["content"].as_str().and_then(|c| serde_json::from_str(c).ok()).unwrap_or(Value::Null);
    let event = body["event"].as_str().unwrap_or("");
    for a in active(store, Platform::TikTok, open_id).await? {
        match event {
            "authorization.removed" => {
                store
                    .set_account_status(a.tenant_id, a.id, AccountStatus::NeedsReconnect, Some("authorization.removed"))
                    .await?;
                crate::delivery::events::account_needs_reconnect(store, a.tenant_id, a.id, "authorization.removed")
                    .await?;
                done.accounts_marked += 1;
                let tenant = store.tenant(a.tenant_id).await?;
                let lang = tenant.profile.language.as_str();
                let text = tf(lang, "web.webhook_authorization_removed", &[("account", &escape_html(&a.name))]);
                for admin in store.admin_telegram_ids(a.tenant_id).await? {
                    notify(store, a.tenant_id, admin, text.clone()).await?;
                    done.notifications += 1;
                }
            }
            "post.publish.complete" | "post.publish.publicly_available" | "post.publish.failed" => {
                let publish_id = content["publish_id"].as_str().unwrap_or("");
                let Some(target) = target_by_ref(store, a.tenant_id, publish_id).await? else { continue };
                let moved = if event == "post.publish.failed" {
                    let reason = content["reason"].as_str().unwrap_or("failed").to_string();
                    let from = [TargetStatus::Publishing, TargetStatus::Unknown];
                    store
                        .move_target(a.tenant_id, target, &from, TargetStatus::Failed, Some(("permanent", &reason)))
                        .await?
                } else {
                    let post_id = match &content["post_id"] {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        _ => publish_id.to_string(),
                    };
                    store.mark_target_published(a.tenant_id, target, &post_id, None).await?
                };
                if moved {
                    done.targets_updated += 1;
                }
            }
            _ => {}
        }
    }
    Ok(done)
}
