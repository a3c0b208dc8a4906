//! What happens once a target settles: the post's status is recomputed, the author's chat is told, and an
//! outgoing-webhook event is queued.
//!
//! Outgoing webhooks are delivered by their own job kind ([`WEBHOOK_EVENT_OUT`]); this module only queues the
//! event, one per target and outcome (unique key `event_out:{target}:{type}`), with the payload documented on
//! [`WebhookEventOut`].

use crate::notices;
use serde::{Deserialize, Serialize};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::ids::{TargetId, TenantId};
use tochen_domain::jobs::{NotifyButton, NotifyPayload};
use tochen_domain::TargetStatus;
use tochen_queue::JobError;
use tochen_store::Store;
use tochen_store::{NewJob, Post, PublishContext, Settle, Target};
use tochen_telegram::button::{Button, Target as TargetButton};

/// Job kind of an outgoing-webhook event waiting to be fanned out to the workspace's webhook destinations.
pub const WEBHOOK_EVENT_OUT: &str = "webhook.event_out";

/// Payload of a [`WEBHOOK_EVENT_OUT`] job. `type` is one of `post.target.published`, `post.target.failed`,
/// `post.target.unknown`; `data` holds `post_id`, `target_id`, `account_id`, `platform`, `status`,
/// `platform_post_id`, `permalink`, `error` (absent values are null) and `at` (unix ms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEventOut {
    pub tenant: TenantId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: serde_json::Value,
}

impl tochen_domain::jobs::JobArgs for WebhookEventOut {
    const KIND: &'static str = WEBHOOK_EVENT_OUT;
}

/// What the caller already holds about the target's post, so settling does not read it again.
#[derive(Clone, Copy)]
pub struct Known<'a> {
    pub post: &'a Post,
    pub account: &'a str,
    pub team_chat_id: Option<i64>,
    /// The workspace has an active webhook destination, so settling queues an outgoing event.
    pub events: bool,
}

impl<'a> From<&'a PublishContext> for Known<'a> {
    fn from(ctx: &'a PublishContext) -> Self {
        Known { post: &ctx.post, account: &ctx.account.name, team_chat_id: ctx.team_chat_id, events: ctx.has_webhooks }
    }
}

pub async fn mark_published(
    store: &Store,
    tenant: TenantId,
    target: TargetId,
    platform_post_id: &str,
    permalink: Option<&str>,
    known: Option<Known<'_>>,
) -> Result<(), JobError> {
    settle(store, tenant, target, Settle::Published { platform_post_id, permalink }, known).await
}

/// Fails a target that is in one of `from`.
pub async fn mark_failed(
    store: &Store,
    tenant: TenantId,
    target: TargetId,
    from: &[TargetStatus],
    class: &str,
    message: &str,
    known: Option<Known<'_>>,
) -> Result<(), JobError> {
    let change = Settle::To { from, to: TargetStatus::Failed, class, message };
    settle(store, tenant, target, change, known).await
}

/// The request may have gone out and the platform cannot be asked: the team decides.
pub async fn mark_unknown(
    store: &Store,
    tenant: TenantId,
    target: TargetId,
    why: &str,
    known: Option<Known<'_>>,
) -> Result<(), JobError> {
    let change =
        Settle::To { from: &[TargetStatus::Publishing], to: TargetStatus::Unknown, class: "unknown", message: why };
    settle(store, tenant, target, change, known).await
}

/// Moves the target and queues its webhook event in one transaction (the post's status is recomputed after it),
/// then tells the author's chat. The event is skipped when the caller read that the workspace has no webhook
/// destination; without that knowledge it is always queued (its handler then finds no destination).
async fn settle(
    store: &Store,
    tenant: TenantId,
    target: TargetId,
    change: Settle<'_>,
    known: Option<Known<'_>>,
) -> Result<(), JobError> {
    if let Some(tg) =
        store.settle_target(tenant, target, change, known.is_none_or(|k| k.events), |t| event_job(tenant, t)).await?
    {
        announce(store, tenant, &tg, known).await?;
    }
    Ok(())
}

/// Recomputes the post's status, queues the webhook event, tells the author's chat. For a target another write
/// already settled; [`mark_published`], [`mark_failed`] and [`mark_unknown`] settle and queue in one transaction.
pub async fn target_settled(store: &Store, tenant: TenantId, target: TargetId) -> Result<(), JobError> {
    let tg = store.target(tenant, target).await?;
    store.refresh_post_status(tenant, tg.post_id).await?;
    let Some(job) = event_job(tenant, &tg) else { return Ok(()) };
    store.enqueue(&job).await?;
    announce(store, tenant, &tg, None).await
}

/// Tells the author's chat (else the team chat) how the target ended.
async fn announce(store: &Store, tenant: TenantId, tg: &Target, known: Option<Known<'_>>) -> Result<(), JobError> {
    let read;
    let (post, account, team_chat) = match known {
        Some(k) => (k.post, k.account.to_owned(), Some(k.team_chat_id)),
        None => {
            read = store.post(tenant, tg.post_id).await?;
            let account = store.account(tenant, tg.account_id).await.map(|a| a.name).unwrap_or_default();
            (&read, account, None)
        }
    };
    let chat = match (post.author_chat_id, team_chat) {
        (Some(c), _) => Some(c),
        (None, Some(team)) => team,
        (None, None) => store.tenant(tenant).await?.team_chat_id,
    };
    let Some(chat) = chat else { return Ok(()) };
    let lang = notices::language_of(store, chat, Some(tenant)).await;
    let title = if post.title.is_empty() { post.idea.chars().take(60).collect() } else { post.title.clone() };
    let args = |extra: &str| -> Vec<(String, String)> {
        vec![
            ("title".into(), escape_html(&title)),
            ("platform".into(), tg.platform.name().into()),
            ("account".into(), escape_html(&account)),
            ("extra".into(), extra.to_owned()),
        ]
    };
    let render = |key: &str, extra: &str| {
        let a = args(extra);
        let refs: Vec<(&str, &dyn std::fmt::Display)> =
            a.iter().map(|(k, v)| (k.as_str(), v as &dyn std::fmt::Display)).collect();
        match key {
            "published" => tf(&lang, "sched.target_published", &refs),
            "failed" => tf(&lang, "sched.target_failed", &refs),
            _ => tf(&lang, "sched.target_unknown", &refs),
        }
    };
    let button = |key: &str, b: fn(TargetId) -> TargetButton| NotifyButton {
        text: t(&lang, key),
        callback_data: Some(Button::Target(b(tg.id)).encode()),
        url: None,
    };
    let (text, buttons) = match tg.status {
        TargetStatus::Published => {
            let link =
                tg.permalink.as_deref().map(|l| format!("<a href=\"{}\">{}</a>", escape_html(l), escape_html(l)));
            (render("published", &link.unwrap_or_default()), Vec::new())
        }
        // A refusal: the team may post it again (after fixing the cause) or give this platform up.
        TargetStatus::Failed => (
            render("failed", &escape_html(tg.error_message.as_deref().unwrap_or(""))),
            vec![vec![
                button("sched.button_retry", TargetButton::Retry),
                button("sched.button_skip", TargetButton::Skip),
            ]],
        ),
        _ => (
            render("unknown", &escape_html(tg.error_message.as_deref().unwrap_or(""))),
            vec![
                vec![
                    button("sched.button_confirm_published", TargetButton::Published),
                    button("sched.button_retry", TargetButton::Retry),
                ],
                vec![button("sched.button_skip", TargetButton::Skip)],
            ],
        ),
    };
    let payload = NotifyPayload { chat_id: chat, text_html: text, buttons, attachment_path: None };
    let key = format!("result:{}:{}:{}", tg.id, tg.status, tg.attempts);
    notices::send(store, Some(tenant), payload, Some(key)).await?;
    Ok(())
}

/// The outgoing-webhook job of a settled target; `None` for a target that is not in a final state.
fn event_job(tenant: TenantId, t: &Target) -> Option<NewJob> {
    let event_type = match t.status {
        TargetStatus::Published => "post.target.published",
        TargetStatus::Failed => "post.target.failed",
        TargetStatus::Unknown => "post.target.unknown",
        _ => return None,
    };
    let event = WebhookEventOut {
        tenant,
        event_type: event_type.to_owned(),
        data: serde_json::json!({
            "post_id": t.post_id,
            "target_id": t.id,
            "account_id": t.account_id,
            "platform": t.platform,
            "status": t.status,
            "platform_post_id": t.platform_post_id,
            "permalink": t.permalink,
            "error": t.error_message,
            "at": t.updated_at,
        }),
    };
    let job = NewJob::new(&event).tenant(tenant).unique(format!("event_out:{}:{}:{}", t.id, event_type, t.attempts));
    Some(job)
}
