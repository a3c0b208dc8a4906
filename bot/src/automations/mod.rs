//! Managing destinations and automations from the bot (admins).
//!
//! Commands: `/destinations` (list, send test, event filters, delivery log, replay, enable, delete: `destinations.rs`), `/link` (in a group or channel: this
//! chat becomes a destination), `/webhook <url>` (private chat only: the `whsec_` secret is shown once, there),
//! `/email <address>`, `/automations` (list with the next five runs in local time, run now, pause, resume, run
//! history, delete) and
//! `/automate` (the guided creation of `wizard.rs`; `/automate <report|alert|data_sync> [daily|weekly|monthly|<cron>]`
//! is the one-line shortcut that uses the workspace's time zone and every active destination), and ✏️ on each
//! automation to edit its schedule, time zone, destinations and options. Its buttons are
//! `tochen_telegram::button::{Automation, Wizard}`. Viewers may list destinations, automations, delivery logs and
//! run history; every change needs an admin (the roles are in the command table, `catalog.rs`).
//!
//! The commands are `Command` variants routed here by the handler tree; the wizard's typed answers are this
//! module's own branch (`handlers`), so it stays apart from the draft and schedule flows.

mod destinations;
mod next_runs;
mod view;
mod wizard;

use crate::catalog::{self, Command};
use crate::ctx::{App, ConnectConfig, Ctx, HandlerResult, TgBot};
use crate::state::State;
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{ChatMemberStatus, InlineKeyboardButton, InlineKeyboardMarkup};
use tochen_delivery::outbox;
use tochen_delivery::webhook::{WebhookSecret, WebhookSender};
use tochen_domain::clock::{now_ms, to_datetime};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{DestinationId, SecretString};
use tochen_domain::{DestinationStatus, MissedRunPolicy, Role};
use tochen_store::{Automation, NewAutomation, NewDestination};
use tochen_telegram::button::{Automation as AutoButton, Button, Wizard};

/// This module's branch of the tree (inside the branch that has a `Ctx`).
pub fn handlers() -> UpdateHandler<anyhow::Error> {
    dptree::entry().branch(
        Update::filter_message()
            .filter(|m: Message| m.text().is_some_and(|t| !t.starts_with('/')))
            .filter(|s: State| matches!(s, State::Automation { .. }))
            .endpoint(wizard::on_text),
    )
}

/// A wizard button press (they answer `State::Automation`; `flow.rs` checks such answers first).
pub async fn on_wizard_button(bot: TgBot, app: App, ctx: Ctx, state: State, b: Wizard) -> HandlerResult {
    wizard::on_button(bot, app, ctx, state, b).await
}

/// The bot was removed from or blocked in a chat: its destinations become inactive and the admins are told.
/// Lives outside the `Ctx` branch: such updates carry no message.
pub fn membership_handler() -> UpdateHandler<anyhow::Error> {
    Update::filter_my_chat_member().endpoint(on_membership)
}

async fn on_membership(bot: TgBot, app: App, upd: ChatMemberUpdated) -> HandlerResult {
    if !matches!(upd.new_chat_member.status(), ChatMemberStatus::Left | ChatMemberStatus::Banned) {
        return Ok(());
    }
    let tenants = app.store.deactivate_chat_destinations(upd.chat.id.0, "bot removed from the chat").await?;
    for tenant in tenants {
        let ws = app.store.tenant(tenant).await?;
        let lang = ws.profile.language.clone();
        let title = escape_html(upd.chat.title().unwrap_or_default());
        let text = tf(&lang, "delivery.bot_chat_removed", &[("chat", &title)]);
        for admin in app.store.admin_telegram_ids(tenant).await? {
            // Sent without a `Ctx`, so the length guard `Ctx` applies is applied here (a chat title is short).
            let text = tochen_telegram::text::fit(&text, tochen_telegram::text::MESSAGE_MAX);
            if let Err(e) = bot.send_message(ChatId(admin), text).await {
                tracing::warn!(error = %e, "cannot tell an admin that a destination chat was lost");
            }
        }
    }
    Ok(())
}

/// This module's commands: `/destinations`, `/link`, `/webhook`, `/email`, `/automations`, `/automate`, after the
/// role check the command table asks for.
pub async fn on_command(
    bot: TgBot,
    app: App,
    ctx: Ctx,
    msg: Message,
    cfg: ConnectConfig,
    cmd: Command,
) -> HandlerResult {
    let Some(needed) = catalog::entry(&cmd).role else { return Ok(()) };
    let Some(a) = ctx.require(&bot, needed).await? else { return Ok(()) };
    let (l, tenant) = (ctx.lang, a.tenant.id);
    match cmd {
        Command::Destinations => destinations::list(&bot, &app, &ctx).await,
        Command::Link => {
            if ctx.private {
                return ctx.say(&bot, t(l, "delivery.bot_link_in_group"), None).await.map(drop);
            }
            let chat = ctx.chat_id.0;
            let already = app.store.destinations(tenant).await?.into_iter().find(|d| d.telegram_chat_id == Some(chat));
            match already {
                Some(d) => app.store.set_destination_status(tenant, d.id, DestinationStatus::Active, None).await?,
                None => {
                    let name = msg.chat.title().unwrap_or("Telegram").to_owned();
                    app.store.create_destination(tenant, &NewDestination::Telegram { name, chat_id: chat }).await?;
                }
            }
            let text = tf(l, "delivery.bot_linked", &[("workspace", &escape_html(&a.tenant.name))]);
            ctx.say(&bot, text, None).await.map(drop)
        }
        // The signing secret is shown once, in the chat that asked: never in a group, where every member (and
        // every bot in it) would read it. Nothing is created there.
        Command::Webhook(_) if !ctx.private => {
            let link =
                format!("https://t.me/{}", app.bot_username).parse().ok().filter(|_| !app.bot_username.is_empty());
            let kb = link.map(|url| {
                InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::url(t(l, "connect.open_private"), url)]])
            });
            ctx.say(&bot, t(l, "delivery.bot_webhook_private_only"), kb).await.map(drop)
        }
        Command::Webhook(arg) => {
            if arg.is_empty() {
                return ctx.say(&bot, t(l, "delivery.bot_webhook_usage"), None).await.map(drop);
            }
            let sender = WebhookSender::new(cfg.0.webhook_allow_private, std::time::Duration::from_secs(20))?;
            let url = match sender.parse_and_check(&arg).await {
                Ok(url) => url,
                Err(e) => {
                    let text = tf(l, "delivery.bot_webhook_refused", &[("reason", &escape_html(&e.to_string()))]);
                    return ctx.say(&bot, text, None).await.map(drop);
                }
            };
            let secret = WebhookSecret::generate();
            let name = url.host_str().unwrap_or("webhook").to_owned();
            let new =
                NewDestination::Webhook { name, url: url.to_string(), secret: SecretString::new(secret.expose()) };
            app.store.create_destination(tenant, &new).await?;
            let text = tf(
                l,
                "delivery.bot_webhook_added",
                &[("url", &escape_html(url.as_str())), ("secret", &secret.expose())],
            );
            ctx.say(&bot, text, None).await.map(drop)
        }
        Command::Email(arg) => {
            if !arg.contains('@') || arg.contains(char::is_whitespace) {
                return ctx.say(&bot, t(l, "delivery.bot_email_usage"), None).await.map(drop);
            }
            let new = NewDestination::Email { name: arg.clone(), address: arg.clone() };
            app.store.create_destination(tenant, &new).await?;
            let mut text = tf(l, "delivery.bot_email_added", &[("email", &escape_html(&arg))]);
            // Without a mail relay it gets nothing until the operator sets one up: say so, and what they set.
            if app.email.is_none() {
                text = format!("{text}\n\n{}", t(l, "delivery.bot_email_unavailable"));
            }
            ctx.say(&bot, text, None).await.map(drop)
        }
        Command::Automations => list_automations(&bot, &app, &ctx).await,
        Command::Automate(arg) if arg.is_empty() => wizard::start(&bot, &app, &ctx).await,
        Command::Automate(arg) => create_automation(&bot, &app, &ctx, &arg).await,
        _ => Ok(()),
    }
}

/// A moment in zone `tz`, written in `lang` ("Thu 03 Dec 08:00", "Чт 03 дек 08:00").
fn local(lang: &str, ms: i64, tz: &str) -> String {
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    tochen_domain::i18n::datetime_short(lang, &to_datetime(ms).with_timezone(&tz))
}

fn describe(a: &Automation, lang: &str) -> String {
    let next = a.schedule().map(|s| next_runs::next_runs(lang, &s, now_ms())).unwrap_or_default();
    tf(
        lang,
        "delivery.bot_automation",
        &[
            ("name", &escape_html(&a.name)),
            ("kind", &a.kind),
            ("cron", &escape_html(&a.cron)),
            ("tz", &escape_html(&a.timezone)),
            ("status", &a.status),
            ("next", &next.join(", ")),
        ],
    )
}

async fn list_automations(bot: &TgBot, app: &App, ctx: &Ctx) -> HandlerResult {
    let Some(a) = ctx.active.clone() else { return Ok(()) };
    let l = ctx.lang;
    let list = app.store.automations(a.tenant.id).await?;
    if list.is_empty() {
        return ctx.show(bot, t(l, "delivery.bot_no_automations"), None).await;
    }
    let text = list.iter().map(|x| describe(x, l)).collect::<Vec<_>>().join("\n\n");
    if !a.role.at_least(Role::Admin) {
        let rows = list
            .iter()
            .map(|x| {
                vec![InlineKeyboardButton::callback(
                    format!("{} {}", t(l, "delivery.bot_btn_history"), x.name.chars().take(20).collect::<String>()),
                    Button::from(AutoButton::History(x.id)).encode(),
                )]
            })
            .collect::<Vec<_>>();
        return ctx.show(bot, text, Some(InlineKeyboardMarkup::new(rows))).await;
    }
    let rows = list
        .iter()
        .map(|x| {
            let toggle = if x.status == tochen_domain::AutomationStatus::Active {
                InlineKeyboardButton::callback(
                    t(l, "delivery.bot_btn_pause"),
                    Button::from(AutoButton::Pause(x.id)).encode(),
                )
            } else {
                InlineKeyboardButton::callback(
                    t(l, "delivery.bot_btn_resume"),
                    Button::from(AutoButton::Resume(x.id)).encode(),
                )
            };
            vec![
                InlineKeyboardButton::callback(
                    format!("▶ {}", x.name.chars().take(16).collect::<String>()),
                    Button::from(AutoButton::RunNow(x.id)).encode(),
                ),
                toggle,
                InlineKeyboardButton::callback(
                    t(l, "delivery.bot_btn_history"),
                    Button::from(AutoButton::History(x.id)).encode(),
                ),
                InlineKeyboardButton::callback("✏️".to_owned(), Button::from(AutoButton::Edit(x.id)).encode()),
                InlineKeyboardButton::callback("🗑".to_owned(), Button::from(AutoButton::Delete(x.id)).encode()),
            ]
        })
        .collect::<Vec<_>>();
    ctx.show(bot, text, Some(InlineKeyboardMarkup::new(rows))).await
}

/// `daily`, `weekly`, `monthly`, or a cron expression.
fn preset(kind: &str, schedule: &str) -> String {
    match schedule.trim() {
        "" if kind == "alert" => "*/15 * * * *".into(),
        "" | "weekly" => "0 9 * * 1".into(),
        "daily" => "0 9 * * *".into(),
        "monthly" => "0 9 1 * *".into(),
        "hourly" => "0 * * * *".into(),
        other => other.trim_matches('"').to_owned(),
    }
}

async fn create_automation(bot: &TgBot, app: &App, ctx: &Ctx, arg: &str) -> HandlerResult {
    let Some(a) = ctx.active.clone() else { return Ok(()) };
    let l = ctx.lang;
    let (kind, rest) = arg.split_once(char::is_whitespace).unwrap_or((arg, ""));
    if !["report", "alert", "data_sync", "ads"].contains(&kind) {
        return ctx.say(bot, t(l, "delivery.bot_automate_usage"), None).await.map(drop);
    }
    let cron = preset(kind, rest);
    let config = match (kind, rest.trim()) {
        ("report" | "data_sync" | "ads", "daily") => serde_json::json!({"period_days": 1}),
        ("report" | "data_sync" | "ads", "monthly") => serde_json::json!({"period_days": 30}),
        _ => serde_json::json!({}),
    };
    let new = NewAutomation {
        kind: kind.to_owned(),
        name: format!("{kind} {}", rest.trim()).trim().to_owned(),
        cron,
        timezone: a.tenant.profile.timezone.clone(),
        config,
        missed_run_policy: MissedRunPolicy::RunOnce,
        max_consecutive_failures: 5,
        created_by: Some(ctx.user.id),
    };
    let created = match app.store.create_automation(a.tenant.id, &new).await {
        Ok(x) => x,
        Err(e) => {
            let text = tf(l, "delivery.bot_automate_bad", &[("reason", &escape_html(&e.to_string()))]);
            return ctx.say(bot, text, None).await.map(drop);
        }
    };
    let active: Vec<DestinationId> = app
        .store
        .destinations(a.tenant.id)
        .await?
        .into_iter()
        .filter(|d| d.status == DestinationStatus::Active)
        .map(|d| d.id)
        .collect();
    app.store.set_automation_destinations(a.tenant.id, created.id, &active).await?;
    let text = format!("{}\n\n{}", t(l, "delivery.bot_automation_created"), describe(&created, l));
    ctx.say(bot, text, None).await.map(drop)
}

/// A management button press: viewers may read logs and histories, every change needs an admin.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, cfg: ConnectConfig, b: AutoButton) -> HandlerResult {
    if let AutoButton::Edit(x) = b {
        return wizard::start_edit(&bot, &app, &ctx, x).await;
    }
    let needed =
        if matches!(b, AutoButton::History(_) | AutoButton::DestinationLog(_)) { Role::Viewer } else { Role::Admin };
    let Some(a) = ctx.require(&bot, needed).await? else { return Ok(()) };
    let (l, tenant) = (ctx.lang, a.tenant.id);
    match b {
        AutoButton::DestinationLog(d) => {
            ctx.answer(&bot, None).await?;
            destinations::log(&bot, &app, &ctx, tenant, d).await
        }
        AutoButton::DestinationTest(d) => destinations::send_test(&bot, &app, &ctx, &cfg, tenant, d).await,
        AutoButton::DestinationEvents(d) => destinations::events(&bot, &app, &ctx, tenant, d).await,
        AutoButton::DestinationEvent(d, n) => destinations::toggle_event(&bot, &app, &ctx, tenant, d, n).await,
        AutoButton::DestinationEventsAll(d) => destinations::all_events(&bot, &app, &ctx, tenant, d).await,
        AutoButton::DestinationEnable(d) => {
            app.store.set_destination_status(tenant, d, DestinationStatus::Active, None).await?;
            ctx.answer(&bot, None).await?;
            destinations::list(&bot, &app, &ctx).await
        }
        AutoButton::DestinationDelete(d) => {
            app.store.delete_destination(tenant, d).await?;
            ctx.answer(&bot, None).await?;
            destinations::list(&bot, &app, &ctx).await
        }
        AutoButton::Replay(d) => {
            outbox::replay(&app.store, tenant, d).await?;
            ctx.answer(&bot, Some(t(l, "delivery.bot_replayed"))).await
        }
        AutoButton::RunNow(x) => {
            app.store.run_automation_now(tenant, x).await?;
            ctx.answer(&bot, Some(t(l, "delivery.bot_run_queued"))).await
        }
        AutoButton::Pause(x) => {
            app.store.pause_automation(tenant, x, None).await?;
            ctx.answer(&bot, None).await?;
            list_automations(&bot, &app, &ctx).await
        }
        AutoButton::Resume(x) => {
            app.store.resume_automation(tenant, x).await?;
            ctx.answer(&bot, None).await?;
            list_automations(&bot, &app, &ctx).await
        }
        AutoButton::Delete(x) => {
            app.store.delete_automation(tenant, x).await?;
            ctx.answer(&bot, None).await?;
            list_automations(&bot, &app, &ctx).await
        }
        AutoButton::Edit(_) => Ok(()),
        AutoButton::History(x) => {
            if app.store.automation(tenant, x).await.is_err() {
                let text = tf(l, "error.not_found", &[("what", &"automation")]);
                return ctx.refuse(&bot, text).await;
            }
            ctx.answer(&bot, None).await?;
            let runs = app.store.automation_runs(tenant, x, 10).await?;
            if runs.is_empty() {
                return ctx.say(&bot, t(l, "delivery.bot_history_empty"), None).await.map(drop);
            }
            let lines: Vec<String> = runs
                .iter()
                .map(|r| {
                    let error = r.error.as_deref().map(|e| format!(": {}", escape_html(e))).unwrap_or_default();
                    format!("{} · {}{error}", local(l, r.slot_at, &a.tenant.profile.timezone), r.outcome)
                })
                .collect();
            ctx.say(&bot, lines.join("\n"), None).await.map(drop)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_schedules_read_presets_and_cron() {
        assert_eq!(preset("alert", ""), "*/15 * * * *");
        assert_eq!(preset("report", "\"0 8 * * 5\""), "0 8 * * 5");
    }
}
