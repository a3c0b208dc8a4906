//! Messages the scheduler sends on its own (dead jobs, reconnect requests, publish results, paused automations).
//!
//! They are `notify` jobs, not direct sends, so they are retried and rate-limited like everything else. Each admin
//! gets the text in their own language; a unique key per event and recipient keeps a retried job from telling
//! anyone twice.

use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::ids::{AccountId, TenantId};
use tochen_domain::jobs::{keys, NotifyButton, NotifyPayload, NOTIFY};
use tochen_store::{Job, NewJob};
use tochen_store::{Store, StoreError};

/// The language to write to a Telegram user in: their own setting, else the workspace's, else English.
pub async fn language_of(store: &Store, telegram_id: i64, tenant: Option<TenantId>) -> String {
    if let Ok(Some(user)) = store.user_by_telegram_id(telegram_id).await {
        return user.language().to_owned();
    }
    match tenant {
        Some(t) => store.tenant(t).await.map(|t| t.profile.language).unwrap_or_else(|_| "en".into()),
        None => "en".into(),
    }
}

/// Queues one message to a chat. `unique` (if any) makes a repeat of the same event a no-op.
pub async fn send(
    store: &Store,
    tenant: Option<TenantId>,
    payload: NotifyPayload,
    unique: Option<String>,
) -> Result<(), StoreError> {
    let mut job = NewJob::new(&payload).concurrency(keys::chat(payload.chat_id));
    job.tenant_id = tenant;
    job.unique_key = unique;
    store.enqueue(&job).await?;
    Ok(())
}

/// Queues a message to every admin of the workspace, each in their language. `event` names the occurrence for
/// the unique key (e.g. `dead:{job_id}`).
pub async fn to_admins<F>(store: &Store, tenant: TenantId, event: &str, text: F) -> Result<(), StoreError>
where
    F: Fn(&str) -> (String, Vec<Vec<NotifyButton>>),
{
    for admin in store.admin_telegram_ids(tenant).await? {
        let lang = language_of(store, admin, Some(tenant)).await;
        let (text_html, buttons) = text(&lang);
        let payload = NotifyPayload { chat_id: admin, text_html, buttons, attachment_path: None };
        send(store, Some(tenant), payload, Some(format!("notice:{event}:{admin}"))).await?;
    }
    Ok(())
}

/// Tells the admins that a job gave up after its last attempt.
pub async fn job_dead(
    store: &Store,
    tenant: TenantId,
    job_id: &str,
    kind: &str,
    error: &str,
) -> Result<(), StoreError> {
    to_admins(store, tenant, &format!("dead:{job_id}"), |lang| {
        let text = tf(lang, "sched.job_dead", &[("kind", &escape_html(kind)), ("error", &escape_html(error))]);
        (text, Vec::new())
    })
    .await
}

/// Marks an account as needing reconnection and tells the admins how to reconnect it.
pub async fn needs_reconnect(
    store: &Store,
    tenant: TenantId,
    account: AccountId,
    error: &str,
) -> Result<(), StoreError> {
    let name = match store.account(tenant, account).await {
        Ok(a) => format!("{} ({})", a.name, a.platform),
        Err(StoreError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    store.set_account_status(tenant, account, tochen_domain::AccountStatus::NeedsReconnect, Some(error)).await?;
    tochen_store::events::account_needs_reconnect(store, tenant, account, error).await?;
    to_admins(store, tenant, &format!("reconnect:{account}:{}", tochen_domain::clock::now_ms() / 3_600_000), |lang| {
        let text = tf(
            lang,
            "sched.account_needs_reconnect",
            &[("account", &escape_html(&name)), ("error", &escape_html(error))],
        );
        (format!("{text}\n\n{}", t(lang, "sched.reconnect_hint")), Vec::new())
    })
    .await
}

/// The scheduler's answer to the queue's failures: a dead job is told to the workspace's admins (except a dead
/// `notify`, which would only queue another message to a chat that does not take them), and an account that
/// must be reconnected is marked and its admins told.
pub struct Notices;

#[async_trait::async_trait]
impl tochen_queue::FailureHooks for Notices {
    async fn job_dead(&self, store: &Store, job: &Job, message: &str) -> Result<(), StoreError> {
        match job.tenant_id {
            Some(tenant) if job.kind != NOTIFY => {
                job_dead(store, tenant, &job.id.to_string(), &job.kind, message).await
            }
            _ => Ok(()),
        }
    }

    async fn needs_reconnect(
        &self,
        store: &Store,
        tenant: TenantId,
        account: AccountId,
        message: &str,
    ) -> Result<(), StoreError> {
        needs_reconnect(store, tenant, account, message).await
    }
}
