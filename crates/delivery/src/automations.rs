//! The bodies of the delivering automation types (`report`, `alert`, `data_sync`) and the fan-out of one result
//! to an automation's destinations.
//!
//! They live in core, next to what they compute and how they deliver, so they are tested against real stores
//! here; the scheduler only registers thin adapters. Fan-out never sends to Telegram directly: a Telegram
//! destination gets a `notify` job (retried, rate-limited, survives restarts) whose attachment is a file written
//! under the data directory; a webhook destination gets a logged delivery and its `webhook.deliver` job; email gets
//! an `email.deliver` job (see `email_queue`), so a slow or refusing mail server is retried by the job runner. When an automation has no destinations, the workspace's team chat is used.

use super::email::{EmailAttachment, EmailContent, EmailSender};
use super::email_queue;
pub use super::email_queue::RunRef;
use crate::alerts::{self, AlertConfig};
use crate::reports::{self, chart, export, render, Period, DAY_MS};
use crate::sources::Sources;
use chrono::{TimeZone, Timelike};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tochen_domain::clock::Millis;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::ids::{AutomationId, CampaignId, TenantId};
use tochen_domain::jobs::NotifyPayload;
use tochen_domain::{DestinationKind, DestinationStatus};
use tochen_store::{Destination, NewJob, Store};

pub const KIND_REPORT: &str = "report";
pub const KIND_ALERT: &str = "alert";
pub const KIND_DATA_SYNC: &str = "data_sync";
/// Ad accounts' report (`crate::ads_report`).
pub const KIND_ADS: &str = "ads";

/// What an automation run needs besides the store.
#[derive(Clone, Debug)]
pub struct DeliveryDeps {
    /// `None` when SMTP is not configured: email destinations are then skipped (the others still get everything).
    pub email: Option<EmailSender>,
    /// Where attachments for `notify` jobs are written (their paths are relative to it).
    pub data_dir: PathBuf,
    /// Whose numbers reports, data sync and alerts count: sandbox accounts only when sandbox mode is on.
    pub sources: Sources,
    /// The automation run being delivered, so a queued email that fails for good is written into its history.
    pub run: Option<RunRef>,
}

/// One result in every shape a destination may want.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    pub telegram_html: String,
    /// A file for Telegram (`.png` is sent as a photo, anything else as a document): name and bytes.
    pub attachment: Option<(String, Vec<u8>)>,
    /// Further documents for Telegram, each its own message after the first (a data sync's ad CSV).
    pub more_documents: Vec<(String, Vec<u8>)>,
    pub email: Option<EmailContent>,
    /// Event type and data for webhook destinations.
    pub webhook: Option<(String, serde_json::Value)>,
}

/// Options of `report` and `data_sync` automations (their `config` JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeriodConfig {
    /// Length of the period, ending at local midnight of the run's day.
    pub period_days: i64,
    /// Send nothing when the period has no data.
    pub skip_when_empty: bool,
    /// Only this campaign's posts (a report's scope, the rows of a data sync); the whole workspace without it.
    pub campaign: Option<CampaignId>,
}

impl Default for PeriodConfig {
    fn default() -> Self {
        Self { period_days: 7, skip_when_empty: false, campaign: None }
    }
}

/// The `days` whole local days before the local midnight that starts the day of `slot_at`.
pub fn period_before(slot_at: Millis, days: i64, tz: chrono_tz::Tz) -> Period {
    let local = tochen_domain::clock::to_datetime(slot_at).with_timezone(&tz);
    let midnight = local
        .with_hour(0)
        .and_then(|d| d.with_minute(0))
        .and_then(|d| d.with_second(0))
        .and_then(|d| d.with_nanosecond(0))
        .map(|d| d.timestamp_millis())
        .unwrap_or(slot_at);
    Period::new(midnight - days.clamp(1, 366) * DAY_MS, midnight)
}

/// Delivers `out` to every active destination; returns how many got it, or the errors joined when any failed
/// (the others still got it).
pub async fn deliver(
    store: &Store,
    deps: &DeliveryDeps,
    tenant: TenantId,
    destinations: &[Destination],
    out: &Outgoing,
) -> Result<usize, String> {
    let mut errors = Vec::new();
    let mut sent = 0;
    let attachment_path = match &out.attachment {
        Some((name, bytes)) => Some(write_attachment(&deps.data_dir, tenant, name, bytes).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut more = Vec::new();
    for (name, bytes) in &out.more_documents {
        let path = write_attachment(&deps.data_dir, tenant, name, bytes).map_err(|e| e.to_string())?;
        more.push((name.clone(), path));
    }
    for d in destinations.iter().filter(|d| d.status == DestinationStatus::Active) {
        let result = match d.kind {
            DestinationKind::Telegram => match d.telegram_chat_id {
                Some(chat) => notify(store, tenant, chat, out, attachment_path.as_deref(), &more).await,
                None => Err("telegram destination has no chat id".to_owned()),
            },
            DestinationKind::Webhook => match &out.webhook {
                // The destination's event filter leaves this event out: nothing to send, nothing failed.
                Some((event, _)) if !d.receives(event) => continue,
                Some((event, data)) => tochen_store::events::queue_to(store, tenant, d.id, event, data.clone())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                None => Ok(()),
            },
            DestinationKind::Email => match (&deps.email, &out.email, &d.email) {
                (Some(_), Some(content), Some(to)) => {
                    email_queue::queue(store, &deps.data_dir, tenant, d.id, to, content, deps.run.as_ref())
                        .await
                        .map(drop)
                }
                // No mail relay on this instance (`/destinations` tells the admins what the operator sets): the
                // email destination is left out, so the run neither fails nor pauses the automation, and Telegram
                // and webhooks still get the result.
                (None, Some(_), _) => {
                    tracing::warn!(destination = %d.id, "email destination skipped: SMTP_URL is not set");
                    continue;
                }
                _ => Ok(()),
            },
        };
        match result {
            Ok(()) => sent += 1,
            Err(e) => errors.push(format!("{} ({}): {e}", d.name, d.kind)),
        }
    }
    if errors.is_empty() {
        Ok(sent)
    } else {
        Err(errors.join("; "))
    }
}

fn write_attachment(data_dir: &Path, tenant: TenantId, name: &str, bytes: &[u8]) -> std::io::Result<String> {
    let relative = format!("automations/{tenant}/{}-{name}", uuid::Uuid::now_v7().simple());
    let full = data_dir.join(&relative);
    if let Some(dir) = full.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(full, bytes)?;
    Ok(relative)
}

/// The Telegram messages of one result: the text as the file's caption when Telegram takes it as one (measured as
/// Telegram counts, so emoji-heavy reports are not cut), otherwise the text first and the file with the title.
fn notify_messages(chat: i64, html: &str, attachment: Option<&str>) -> Vec<NotifyPayload> {
    match attachment {
        Some(path) if tochen_telegram::text::fits(html, tochen_telegram::text::CAPTION_MAX) => {
            vec![NotifyPayload { attachment_path: Some(path.to_owned()), ..NotifyPayload::text(chat, html) }]
        }
        Some(path) => {
            let title = html.lines().next().unwrap_or_default().to_owned();
            vec![
                NotifyPayload::text(chat, html),
                NotifyPayload { attachment_path: Some(path.to_owned()), ..NotifyPayload::text(chat, title) },
            ]
        }
        None => vec![NotifyPayload::text(chat, html)],
    }
}

async fn notify(
    store: &Store,
    tenant: TenantId,
    chat: i64,
    out: &Outgoing,
    attachment: Option<&str>,
    more: &[(String, String)],
) -> Result<(), String> {
    let mut messages = notify_messages(chat, &out.telegram_html, attachment);
    for (name, path) in more {
        let caption = escape_html(name);
        messages.push(NotifyPayload { attachment_path: Some(path.clone()), ..NotifyPayload::text(chat, caption) });
    }
    let now = tochen_domain::clock::now_ms();
    for (i, m) in messages.into_iter().enumerate() {
        let job = NewJob::new(&m).tenant(tenant).run_at(now + i as i64 * 1000);
        store.enqueue(&job).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The automation's destinations, or the team chat when it has none.
pub async fn targets(store: &Store, tenant: TenantId, automation: AutomationId) -> Result<Vec<Destination>, String> {
    let linked = store.automation_destinations(tenant, automation).await.map_err(|e| e.to_string())?;
    if !linked.is_empty() {
        return Ok(linked);
    }
    let t = store.tenant(tenant).await.map_err(|e| e.to_string())?;
    Ok(t.team_chat_id
        .map(|chat| Destination {
            id: tochen_domain::ids::DestinationId::new(),
            tenant_id: tenant,
            kind: DestinationKind::Telegram,
            name: t.name.clone(),
            telegram_chat_id: Some(chat),
            url: None,
            email: None,
            status: DestinationStatus::Active,
            status_reason: None,
            event_types: None,
            created_at: t.created_at,
        })
        .into_iter()
        .collect())
}

fn tz_of(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// Runs a `report` automation for the slot: computes the period before it and delivers the report.
/// Returns `Ok(false)` when it was skipped for lack of data.
pub async fn run_report(
    store: &Store,
    deps: &DeliveryDeps,
    tenant: TenantId,
    automation: AutomationId,
    config: &serde_json::Value,
    timezone: &str,
    slot_at: Millis,
) -> Result<bool, String> {
    let c: PeriodConfig = serde_json::from_value(config.clone()).unwrap_or_default();
    let tz = tz_of(timezone);
    let lang = store.tenant(tenant).await.map_err(|e| e.to_string())?.profile.language;
    let scope = c.campaign.map_or(reports::Scope::Workspace, reports::Scope::Campaign);
    let period = period_before(slot_at, c.period_days, tz);
    let report =
        reports::compute_scoped(store, tenant, period, scope, deps.sources, true).await.map_err(|e| e.to_string())?;
    if c.skip_when_empty && !report.has_data() {
        return Ok(false);
    }
    let png = if report.has_data() {
        Some(chart::render_png(&report.daily_views, &t(&lang, "report.chart_title"), tz).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let out = Outgoing {
        telegram_html: render::telegram_html(&report, &lang, tz),
        attachment: png.clone().map(|p| ("chart.png".to_owned(), p)),
        more_documents: Vec::new(),
        email: Some(render::email(&report, &lang, tz, png)),
        webhook: Some(("report.generated".to_owned(), render::json(&report))),
    };
    deliver(store, deps, tenant, &targets(store, tenant, automation).await?, &out).await?;
    Ok(true)
}

/// Runs an `ads` report automation for the slot: each chosen ad account's period before the slot's day in its own
/// zone, to every destination (chat message with the chart, email, `report.generated` webhook). Returns `Ok(false)`
/// when skipped for lack of data.
pub async fn run_ads_report(
    store: &Store,
    deps: &DeliveryDeps,
    tenant: TenantId,
    automation: AutomationId,
    config: &serde_json::Value,
    slot_at: Millis,
) -> Result<bool, String> {
    use crate::ads_report::{self, AdsReportConfig};
    let c: AdsReportConfig =
        serde_json::from_value(config.clone()).map_err(|e| format!("ads report config is invalid: {e}"))?;
    let lang = store.tenant(tenant).await.map_err(|e| e.to_string())?.profile.language;
    let report = ads_report::compute(store, tenant, &c, slot_at).await.map_err(|e| e.to_string())?;
    if c.skip_when_empty && !report.has_data() {
        return Ok(false);
    }
    let png = if report.has_data() {
        let (spend, results) = (t(&lang, "ads.chart_spend"), t(&lang, "ads.chart_results"));
        Some(ads_report::chart::render_png(&report, &spend, &results).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let out = Outgoing {
        telegram_html: ads_report::render::telegram_html(&report, &lang),
        attachment: png.clone().map(|p| ("ads.png".to_owned(), p)),
        more_documents: Vec::new(),
        email: Some(ads_report::render::email(&report, &lang, png)),
        webhook: Some(("report.generated".to_owned(), ads_report::render::json(&report))),
    };
    deliver(store, deps, tenant, &targets(store, tenant, automation).await?, &out).await?;
    Ok(true)
}

/// Runs a `data_sync` automation: JSON to webhooks, a CSV document to Telegram chats and email.
pub async fn run_data_sync(
    store: &Store,
    deps: &DeliveryDeps,
    tenant: TenantId,
    automation: AutomationId,
    config: &serde_json::Value,
    timezone: &str,
    slot_at: Millis,
) -> Result<bool, String> {
    let c: PeriodConfig = serde_json::from_value(config.clone()).unwrap_or_default();
    let tz = tz_of(timezone);
    let period = period_before(slot_at, c.period_days, tz);
    let mut rows = export::export_rows(store, tenant, period, deps.sources).await.map_err(|e| e.to_string())?;
    let local_day = |ms: Millis| tz.timestamp_millis_opt(ms).single().map(|d| d.date_naive());
    // Ad campaigns are the ad platforms' own, not the workspace's campaigns: a sync for one campaign leaves them
    // out. Their days are the ad accounts' own, matched to the period's local dates.
    let ads = match (c.campaign, local_day(period.start), local_day(period.end - 1)) {
        (None, Some(since), Some(until)) => {
            export::ad_export_rows(store, tenant, since, until).await.map_err(|e| e.to_string())?
        }
        _ => Vec::new(),
    };
    if let Some(campaign) = c.campaign {
        rows.retain(|r| r.campaign_id == Some(campaign));
    }
    if c.skip_when_empty && rows.is_empty() && ads.is_empty() {
        return Ok(false);
    }
    let tenant_row = store.tenant(tenant).await.map_err(|e| e.to_string())?;
    let lang = tenant_row.profile.language.as_str();
    let d =
        |ms: Millis| tz.timestamp_millis_opt(ms).single().map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    let label = format!("{}–{}", d(period.start), d(period.end - 1));
    let caption =
        tf(lang, "report.export_caption", &[("workspace", &escape_html(&tenant_row.name)), ("period", &label)]);
    let csv = export::to_csv(&rows);
    let filename = format!("tochen-{}-{}.csv", d(period.start), d(period.end - 1));
    let mut attachments =
        vec![EmailAttachment { filename: filename.clone(), content_type: "text/csv".into(), bytes: csv.clone() }];
    let mut more_documents = Vec::new();
    if !ads.is_empty() {
        let name = format!("tochen-ads-{}-{}.csv", d(period.start), d(period.end - 1));
        let bytes = export::ads_to_csv(&ads);
        attachments.push(EmailAttachment {
            filename: name.clone(),
            content_type: "text/csv".into(),
            bytes: bytes.clone(),
        });
        more_documents.push((name, bytes));
    }
    let email = EmailContent {
        subject: render::html_to_text(&caption),
        text: render::html_to_text(&caption),
        html: format!("<p>{caption}</p>"),
        chart_png: None,
        attachments,
    };
    let out = Outgoing {
        telegram_html: caption,
        attachment: Some((filename, csv)),
        more_documents,
        email: Some(email),
        webhook: Some(("data_sync.exported".to_owned(), export::to_json(period, &rows, &ads))),
    };
    deliver(store, deps, tenant, &targets(store, tenant, automation).await?, &out).await?;
    Ok(true)
}

/// Runs an `alert` automation: evaluates its rules and delivers each announcement. Returns how many there were.
pub async fn run_alerts(
    store: &Store,
    deps: &DeliveryDeps,
    tenant: TenantId,
    automation: AutomationId,
    config: &serde_json::Value,
    timezone: &str,
    now: Millis,
) -> Result<usize, String> {
    let c: AlertConfig = serde_json::from_value(config.clone()).map_err(|e| format!("alert config is invalid: {e}"))?;
    let events = alerts::evaluate(store, tenant, &c, deps.sources, now).await.map_err(|e| e.to_string())?;
    if events.is_empty() {
        return Ok(0);
    }
    let lang = store.tenant(tenant).await.map_err(|e| e.to_string())?.profile.language;
    let tz = tz_of(timezone);
    let destinations = targets(store, tenant, automation).await?;
    let mut errors = Vec::new();
    for e in &events {
        let html = alerts::rules::message(e, &lang, tz);
        let text = render::html_to_text(&html);
        let out = Outgoing {
            telegram_html: html.clone(),
            attachment: None,
            more_documents: Vec::new(),
            email: Some(EmailContent {
                subject: text.clone(),
                text,
                html: format!("<p>{html}</p>"),
                ..Default::default()
            }),
            webhook: Some((e.event_type().to_owned(), e.webhook_data())),
        };
        if let Err(err) = deliver(store, deps, tenant, &destinations, &out).await {
            errors.push(err);
        }
    }
    if errors.is_empty() {
        Ok(events.len())
    } else {
        Err(errors.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_goes_out_as_a_caption_only_when_telegram_counts_it_short_enough() {
        let short = "<b>Week 47</b>\nViews 12,480";
        assert_eq!(notify_messages(1, short, Some("c.png")).len(), 1);
        // 600 emoji are 600 characters but 1,200 UTF-16 units: too long for a caption.
        let emoji = format!("<b>Week 47</b>\n{}", "📈".repeat(600));
        let split = notify_messages(1, &emoji, Some("c.png"));
        assert_eq!(split.len(), 2);
        assert_eq!((split[0].attachment_path.as_deref(), split[1].attachment_path.as_deref()), (None, Some("c.png")));
        assert_eq!(split[1].text_html, "<b>Week 47</b>");
        assert_eq!(notify_messages(1, short, None).len(), 1);
    }
}
