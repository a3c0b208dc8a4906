//! `/destinations`: the list, "send test", a webhook's event filter and its delivery log.
//!
//! "Send test" checks a destination while the admin waits: a webhook gets a signed `ping` event (logged in its
//! delivery log with its `webhook-id`), a Telegram chat a short message, an email address a short email. The
//! result is shown in the chat; a test changes nothing else (a chat that turns out to be closed to the bot is
//! paused, as any delivery there would do). A webhook's event filter is edited in place: one toggle per event type
//! and "All events", which also receives event types added later.

use super::local;
use crate::ctx::{App, ConnectConfig, Ctx, HandlerResult, TgBot};
use crate::kb::{kb, toggles};
use chrono_tz::Tz;
use teloxide::prelude::*;
use tochen_delivery::email::EmailContent;
use tochen_delivery::outbox;
use tochen_delivery::webhook::{AttemptVerdict, WebhookSender};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{DestinationId, DestinationKind, DestinationStatus, Role, TenantId};
use tochen_store::events::EVENT_TYPES;
use tochen_store::{DeliveryStatus, Destination};
use tochen_telegram::button::{Automation as AutoButton, Button};

/// Deliveries the log shows, newest first, and attempts shown per delivery (the latest ones).
const LOG_DELIVERIES: i64 = 8;
const LOG_ATTEMPTS: usize = 4;

/// How long "send test" waits for a webhook receiver.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn button(text: String, b: AutoButton) -> (String, Button) {
    (text, Button::from(b))
}

fn short(name: &str, n: usize) -> String {
    name.chars().take(n).collect()
}

/// The event types a destination receives, for the list ("all events" or their names).
fn events_summary(l: &str, d: &Destination) -> String {
    match &d.event_types {
        None => t(l, "delivery.bot_events_all"),
        Some(types) => types.join(", "),
    }
}

/// The destinations of the active workspace with their buttons.
pub(super) async fn list(bot: &TgBot, app: &App, ctx: &Ctx) -> HandlerResult {
    let Some(a) = ctx.active.clone() else { return Ok(()) };
    let l = ctx.lang;
    let all = app.store.destinations(a.tenant.id).await?;
    // Without a mail relay the screen says why email is unavailable and what the operator sets.
    let no_email =
        if app.email.is_some() { String::new() } else { format!("\n\n{}", t(l, "delivery.bot_email_unavailable")) };
    if all.is_empty() {
        return ctx.show(bot, format!("{}{no_email}", t(l, "delivery.bot_no_destinations")), None).await;
    }
    let mut lines = vec![t(l, "delivery.bot_destinations")];
    let mut rows = Vec::new();
    for d in &all {
        let target = match d.kind {
            DestinationKind::Telegram => d.telegram_chat_id.map(|c| c.to_string()).unwrap_or_default(),
            DestinationKind::Webhook => d.url.clone().unwrap_or_default(),
            DestinationKind::Email => d.email.clone().unwrap_or_default(),
        };
        let status = match d.status {
            DestinationStatus::Active => "✅",
            DestinationStatus::Inactive => "⏸",
            DestinationStatus::Disabled => "⛔",
        };
        lines.push(format!("{status} <b>{}</b> ({}) {}", escape_html(&d.name), d.kind, escape_html(&target)));
        if d.kind == DestinationKind::Webhook {
            let events = tf(l, "delivery.bot_events_line", &[("events", &escape_html(&events_summary(l, d)))]);
            lines.push(format!("    {events}"));
        }
        let mut row = Vec::new();
        if d.kind == DestinationKind::Webhook {
            row.push(button(t(l, "delivery.bot_btn_log"), AutoButton::DestinationLog(d.id)));
        }
        // Viewers may read the list and a webhook's log; testing, filtering, enabling and deleting are an admin's.
        if a.role == Role::Admin {
            if d.status != DestinationStatus::Active {
                row.push(button(t(l, "delivery.bot_btn_enable"), AutoButton::DestinationEnable(d.id)));
            }
            row.push(button(format!("🗑 {}", short(&d.name, 20)), AutoButton::DestinationDelete(d.id)));
        }
        rows.push(row);
        if a.role == Role::Admin {
            let mut row = vec![button(
                tf(l, "delivery.bot_btn_test", &[("name", &short(&d.name, 20))]),
                AutoButton::DestinationTest(d.id),
            )];
            if d.kind == DestinationKind::Webhook {
                row.push(button(t(l, "delivery.bot_btn_events"), AutoButton::DestinationEvents(d.id)));
            }
            rows.push(row);
        }
    }
    ctx.show(bot, format!("{}{no_email}", lines.join("\n")), Some(kb(rows))).await
}

/// A moment in zone `tz` to the second, for attempts ("08:00:05").
fn clock(ms: i64, tz: &str) -> String {
    let tz: Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    tochen_domain::clock::to_datetime(ms).with_timezone(&tz).format("%H:%M:%S").to_string()
}

/// The delivery log of a webhook: each delivery with its `webhook-id` and its latest attempts (time, status,
/// latency, error), and a replay button for each failed one.
pub(super) async fn log(bot: &TgBot, app: &App, ctx: &Ctx, tenant: TenantId, d: DestinationId) -> HandlerResult {
    let l = ctx.lang;
    let tz = ctx.active.as_ref().map(|a| a.tenant.profile.timezone.clone()).unwrap_or_else(|| "UTC".into());
    let deliveries = app.store.deliveries(tenant, d, LOG_DELIVERIES).await?;
    if deliveries.is_empty() {
        return ctx.say(bot, t(l, "delivery.bot_log_empty"), None).await.map(drop);
    }
    let mut rows = Vec::new();
    let mut blocks = Vec::new();
    for x in &deliveries {
        if x.status == DeliveryStatus::Failed {
            rows.push(vec![button(format!("↻ {}", x.event_type), AutoButton::Replay(x.id))]);
        }
        let mut block = vec![
            format!(
                "{} <code>{}</code> {} · {}×",
                local(l, x.created_at, &tz),
                escape_html(&x.event_type),
                x.status.as_str(),
                x.attempts
            ),
            format!("webhook-id <code>{}</code>", escape_html(&x.message_id)),
        ];
        let attempts = app.store.delivery_attempts(tenant, x.id).await?;
        let skipped = attempts.len().saturating_sub(LOG_ATTEMPTS);
        if skipped > 0 {
            block.push(format!("  … +{skipped}"));
        }
        for at in attempts.iter().skip(skipped) {
            let code = at.status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into());
            let error = at.error.as_deref().map(|e| format!(" · {}", escape_html(&short(e, 120)))).unwrap_or_default();
            block.push(format!(
                "  #{} {} · {code} · {} ms{error}",
                at.attempt,
                clock(at.created_at, &tz),
                at.latency_ms
            ));
        }
        blocks.push(block.join("\n"));
    }
    let keyboard = (!rows.is_empty()).then(|| kb(rows));
    ctx.say(bot, blocks.join("\n\n"), keyboard).await.map(drop)
}

/// "Send test" on a destination of the caller's workspace.
pub(super) async fn send_test(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    cfg: &ConnectConfig,
    tenant: TenantId,
    id: DestinationId,
) -> HandlerResult {
    let l = ctx.lang;
    let Ok(d) = app.store.destination(tenant, id).await else {
        return ctx.refuse(bot, tf(l, "error.not_found", &[("what", &"destination")])).await;
    };
    ctx.answer(bot, None).await?;
    let workspace = ctx.active.as_ref().map(|a| a.tenant.name.clone()).unwrap_or_default();
    let name = escape_html(&d.name);
    let text = match d.kind {
        DestinationKind::Webhook => {
            let sender = WebhookSender::new(cfg.0.webhook_allow_private, PING_TIMEOUT)?;
            let p = outbox::ping(&app.store, &sender, tenant, d.id).await?;
            let id = escape_html(&p.message_id);
            match (p.report.verdict, p.report.status_code) {
                (AttemptVerdict::Delivered, Some(status)) => tf(
                    l,
                    "delivery.bot_test_webhook_ok",
                    &[("name", &name), ("status", &status), ("ms", &p.report.latency_ms), ("id", &id)],
                ),
                _ => {
                    let reason = p.report.error.unwrap_or_else(|| "no answer".into());
                    let reason = escape_html(&short(&reason, 300));
                    tf(l, "delivery.bot_test_webhook_failed", &[("name", &name), ("reason", &reason), ("id", &id)])
                }
            }
        }
        DestinationKind::Telegram => {
            let Some(chat) = d.telegram_chat_id else {
                return ctx.say(bot, t(l, "delivery.bot_test_no_chat"), None).await.map(drop);
            };
            let message = tf(l, "delivery.bot_test_message", &[("workspace", &escape_html(&workspace))]);
            let message = tochen_telegram::text::fit(&message, tochen_telegram::text::MESSAGE_MAX).into_owned();
            match bot.send_message(ChatId(chat), message).await {
                Ok(_) => tf(l, "delivery.bot_test_telegram_ok", &[("name", &name)]),
                Err(e) if tochen_telegram::closed::chat_is_closed(&e) => {
                    let reason = e.to_string();
                    app.store.set_destination_status(tenant, d.id, DestinationStatus::Inactive, Some(&reason)).await?;
                    let reason = escape_html(&short(&reason, 200));
                    tf(l, "delivery.bot_test_telegram_closed", &[("name", &name), ("reason", &reason)])
                }
                Err(e) => {
                    let reason = escape_html(&short(&e.to_string(), 200));
                    tf(l, "delivery.bot_test_telegram_failed", &[("name", &name), ("reason", &reason)])
                }
            }
        }
        DestinationKind::Email => test_email(l, app, &d, &workspace).await,
    };
    ctx.say(bot, text, None).await.map(drop)
}

/// A short email to the destination's address, sent now through the configured relay.
async fn test_email(l: &str, app: &App, d: &Destination, workspace: &str) -> String {
    let address = d.email.clone().unwrap_or_default();
    let email = escape_html(&address);
    let Some(sender) = app.email.as_ref() else {
        return t(l, "delivery.bot_email_unavailable");
    };
    let body = tf(l, "delivery.bot_test_email_body", &[("workspace", &workspace)]);
    let content = EmailContent {
        subject: t(l, "delivery.bot_test_email_subject"),
        html: format!("<p>{}</p>", escape_html(&body)),
        text: body,
        ..Default::default()
    };
    match sender.send(&address, &content).await {
        Ok(()) => tf(l, "delivery.bot_test_email_ok", &[("email", &email)]),
        Err(e) => {
            let reason = escape_html(&short(&e.to_string(), 300));
            tf(l, "delivery.bot_test_email_failed", &[("email", &email), ("reason", &reason)])
        }
    }
}

/// The event filter screen of a webhook destination.
pub(super) async fn events(bot: &TgBot, app: &App, ctx: &Ctx, tenant: TenantId, id: DestinationId) -> HandlerResult {
    let l = ctx.lang;
    let d = match app.store.destination(tenant, id).await {
        Ok(d) if d.kind == DestinationKind::Webhook => d,
        Ok(_) => return ctx.refuse(bot, t(l, "delivery.bot_events_not_webhook")).await,
        Err(_) => return ctx.refuse(bot, tf(l, "error.not_found", &[("what", &"destination")])).await,
    };
    ctx.answer(bot, None).await?;
    let mut rows =
        toggles(EVENT_TYPES, |e| d.receives(e), |e| (*e).to_owned(), |i| AutoButton::DestinationEvent(d.id, i).into());
    let all_mark = if d.event_types.is_none() { "✅ " } else { "" };
    rows.push(vec![button(
        format!("{all_mark}{}", t(l, "delivery.bot_btn_events_all")),
        AutoButton::DestinationEventsAll(d.id),
    )]);
    let text = tf(l, "delivery.bot_events_title", &[("name", &escape_html(&d.name))]);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// What the filter becomes when `event` is switched: `None` when every type is on again.
pub(super) fn toggled(current: Option<&[String]>, event: &str) -> Option<Vec<String>> {
    let on: Vec<&str> = match current {
        None => EVENT_TYPES.to_vec(),
        Some(types) => EVENT_TYPES.iter().copied().filter(|e| types.iter().any(|t| t == e)).collect(),
    };
    let next: Vec<String> = EVENT_TYPES
        .iter()
        .filter(|e| if **e == event { !on.contains(e) } else { on.contains(e) })
        .map(|e| (*e).to_owned())
        .collect();
    (next.len() != EVENT_TYPES.len()).then_some(next)
}

/// Switches one event type of a webhook's filter; the last one cannot be switched off.
pub(super) async fn toggle_event(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    tenant: TenantId,
    id: DestinationId,
    index: u8,
) -> HandlerResult {
    let l = ctx.lang;
    let (Ok(d), Some(event)) = (app.store.destination(tenant, id).await, EVENT_TYPES.get(usize::from(index))) else {
        return ctx.refuse(bot, t(l, "bot.stale")).await;
    };
    if d.kind != DestinationKind::Webhook {
        return ctx.refuse(bot, t(l, "delivery.bot_events_not_webhook")).await;
    }
    let next = toggled(d.event_types.as_deref(), event);
    if next.as_ref().is_some_and(Vec::is_empty) {
        return ctx.refuse(bot, t(l, "delivery.bot_events_keep_one")).await;
    }
    app.store.set_destination_events(tenant, id, next.as_deref()).await?;
    events(bot, app, ctx, tenant, id).await
}

/// "All events": the filter is dropped, so event types added later are received too.
pub(super) async fn all_events(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    tenant: TenantId,
    id: DestinationId,
) -> HandlerResult {
    match app.store.destination(tenant, id).await {
        Ok(d) if d.kind == DestinationKind::Webhook => {
            app.store.set_destination_events(tenant, id, None).await?;
            events(bot, app, ctx, tenant, id).await
        }
        Ok(_) => ctx.refuse(bot, t(ctx.lang, "delivery.bot_events_not_webhook")).await,
        Err(_) => ctx.refuse(bot, tf(ctx.lang, "error.not_found", &[("what", &"destination")])).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switching_events_keeps_the_list_order_and_all_on_means_no_filter() {
        let off = toggled(None, "post.scheduled").expect("a filter");
        assert_eq!(off.len(), EVENT_TYPES.len() - 1);
        assert!(!off.iter().any(|e| e == "post.scheduled"));
        assert_eq!(toggled(Some(&off), "post.scheduled"), None, "every type on again is no filter");
        let only = vec!["alert.triggered".to_owned()];
        assert_eq!(toggled(Some(&only), "post.published").unwrap(), vec!["post.published", "alert.triggered"]);
        assert_eq!(toggled(Some(&only), "alert.triggered").unwrap(), Vec::<String>::new());
        // Unknown stored types are dropped at the next change.
        let odd = vec!["gone.type".to_owned(), "post.failed".to_owned()];
        assert_eq!(toggled(Some(&odd), "post.unknown").unwrap(), vec!["post.failed", "post.unknown"]);
    }
}
