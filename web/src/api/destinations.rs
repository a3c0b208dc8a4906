//! `/api/v1/destinations`: list (scope `read`; a webhook's signing secret never leaves) and a test delivery (scope
//! `write`, an admin's token): a webhook gets a signed `ping` now and the answer says how it went (the same
//! `outbox::ping` as the bot's Test button, logged with the destination's deliveries); a Telegram chat gets a test
//! message through the durable notify queue (`202`); an email address gets a test email through the relay.

use super::{Caller, Problem};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use std::time::Duration;
use tochen_delivery::email::{EmailContent, EmailSender};
use tochen_delivery::outbox;
use tochen_delivery::webhook::{AttemptVerdict, WebhookSender};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{normalize, t, tf};
use tochen_domain::jobs::NotifyPayload;
use tochen_domain::{ApiScope, DestinationId, DestinationKind, Role};
use tochen_store::{Destination, StoreError};
use utoipa::ToSchema;

/// How long a test webhook waits for the receiver.
const PING_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationOut {
    pub id: String,
    /// `telegram`, `webhook` or `email`.
    pub kind: &'static str,
    pub name: String,
    /// `active`, `inactive` or `disabled`.
    pub status: &'static str,
    pub status_reason: Option<String>,
    pub telegram_chat_id: Option<i64>,
    pub url: Option<String>,
    pub email: Option<String>,
    /// The event types a webhook receives; absent: every type.
    pub event_types: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationList {
    pub data: Vec<DestinationOut>,
}

/// What a test delivery did.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestOutcome {
    /// `delivered`, `failed` or `queued` (a Telegram message goes through the notify queue).
    pub outcome: &'static str,
    /// A webhook's HTTP status.
    pub status_code: Option<u16>,
    pub latency_ms: Option<i64>,
    /// A webhook's `webhook-id` (its delivery log lists the attempt).
    pub message_id: Option<String>,
    pub error: Option<String>,
}

fn out(d: Destination) -> DestinationOut {
    DestinationOut {
        id: d.id.to_string(),
        kind: d.kind.as_str(),
        name: d.name,
        status: d.status.as_str(),
        status_reason: d.status_reason,
        telegram_chat_id: d.telegram_chat_id,
        url: d.url,
        email: d.email,
        event_types: d.event_types,
    }
}

/// Where automations and events are delivered.
#[utoipa::path(get, path = "/destinations", tag = "destinations",
    responses((status = 200, body = DestinationList), (status = 401, body = Problem)),
    security(("token" = ["read"])))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<DestinationList>, Problem> {
    caller.require(ApiScope::Read)?;
    let data = state.store.destinations(caller.tenant()).await?.into_iter().map(out).collect();
    Ok(Json(DestinationList { data }))
}

/// Sends a test delivery to the destination now.
#[utoipa::path(post, path = "/destinations/{id}/test", tag = "destinations",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = TestOutcome), (status = 202, body = TestOutcome), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("token" = ["write"])))]
pub async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<TestOutcome>), Problem> {
    caller.require_change(ApiScope::Write)?;
    if caller.role() != Role::Admin {
        return Err(Problem::role("only an admin's token tests destinations, as only admins manage them in the chat"));
    }
    let tenant = caller.tenant();
    let did = DestinationId::parse(&id).ok_or_else(|| Problem::not_found("destination", &id))?;
    let d = match state.store.destination(tenant, did).await {
        Ok(d) => d,
        Err(StoreError::NotFound(_)) => return Err(Problem::not_found("destination", &id)),
        Err(e) => return Err(e.into()),
    };
    let none = TestOutcome { outcome: "queued", status_code: None, latency_ms: None, message_id: None, error: None };
    let workspace = state.store.tenant(tenant).await?;
    let lang = normalize(&workspace.profile.language);
    let name = escape_html(&workspace.name);
    match d.kind {
        DestinationKind::Webhook => {
            let sender = WebhookSender::new(state.config.webhook_allow_private, PING_TIMEOUT).map_err(|e| {
                Problem::unprocessable("webhook-unusable", "The webhook cannot be called", e.to_string())
            })?;
            let p = outbox::ping(&state.store, &sender, tenant, d.id).await?;
            let delivered = p.report.verdict == AttemptVerdict::Delivered;
            Ok((
                StatusCode::OK,
                Json(TestOutcome {
                    outcome: if delivered { "delivered" } else { "failed" },
                    status_code: p.report.status_code,
                    latency_ms: Some(p.report.latency_ms),
                    message_id: Some(p.message_id),
                    error: p.report.error,
                }),
            ))
        }
        DestinationKind::Telegram => {
            let Some(chat) = d.telegram_chat_id else {
                return Err(Problem::unprocessable(
                    "no-chat",
                    "The destination has no chat",
                    t(lang, "delivery.bot_test_no_chat"),
                ));
            };
            let text = tf(lang, "delivery.bot_test_message", &[("workspace", &name)]);
            state.store.enqueue_args(Some(tenant), &NotifyPayload::text(chat, text)).await?;
            Ok((StatusCode::ACCEPTED, Json(none)))
        }
        DestinationKind::Email => {
            let Some(sender) = EmailSender::configured(state.config.smtp.as_ref()) else {
                return Err(Problem::unprocessable(
                    "email-unavailable",
                    "No mail relay",
                    "no mail relay is configured: the operator sets SMTP_URL (README)",
                ));
            };
            let body = tf(lang, "delivery.bot_test_email_body", &[("workspace", &workspace.name)]);
            let content = EmailContent {
                subject: t(lang, "delivery.bot_test_email_subject"),
                html: format!("<p>{}</p>", escape_html(&body)),
                text: body,
                ..Default::default()
            };
            let result = sender.send(d.email.as_deref().unwrap_or_default(), &content).await;
            let failed = result.as_ref().err().map(ToString::to_string);
            let outcome = if failed.is_none() { "delivered" } else { "failed" };
            Ok((StatusCode::OK, Json(TestOutcome { outcome, error: failed, ..none })))
        }
    }
}
