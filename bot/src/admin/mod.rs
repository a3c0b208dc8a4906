//! `/admin`: the operator's screens in the bot, for the people who run this tochen instance (`TOCHEN_OPERATORS`,
//! or whoever claimed it): every workspace with its use this month, quotas, suspending and resuming, AI cost per
//! model, the queue's health with dead-job retries, and single-use links to create a workspace.
//!
//! The screens read and act through the same store functions as `tochen admin` at a shell, over the same month
//! (UTC), so both show the same numbers; every action is audited by the store as `telegram:<user id>`. Whether
//! the person is an operator is checked again on every command, button and prompt answer, so a button kept from
//! before (or forged) by someone who is not one any more changes nothing.

mod costs;
mod health;
mod home;
mod menu;
mod workspaces;

pub use menu::register_commands;

use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use teloxide::types::Message;
use tochen_domain::clock::{month_start_ms, now_ms, to_datetime, Millis};
use tochen_domain::i18n::t;
use tochen_domain::money::usd_from_micros as dollars;
use tochen_domain::TenantId;
use tochen_telegram::button::Admin;

/// `/admin`: the home screen, for an operator in a private chat.
pub async fn admin(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    if !allowed(&bot, &app, &ctx).await? {
        return Ok(());
    }
    home::home(&bot, &app, &ctx).await
}

/// The buttons of the operator's screens.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Admin) -> HandlerResult {
    if !allowed(&bot, &app, &ctx).await? {
        return Ok(());
    }
    match b {
        Admin::Home => home::home(&bot, &app, &ctx).await?,
        Admin::NewLink => home::new_link(&bot, &app, &ctx).await?,
        Admin::Workspaces(page) => workspaces::list(&bot, &app, &ctx, page).await?,
        Admin::Workspace(id) => workspaces::one(&bot, &app, &ctx, id, None).await?,
        Admin::Quota(id) => workspaces::ask_quota(&bot, &app, &ctx, id).await?,
        Admin::Suspend(id) => workspaces::ask_suspend(&bot, &app, &ctx, id).await?,
        Admin::SuspendConfirmed(id) => workspaces::suspend(&bot, &app, &ctx, id, true).await?,
        Admin::Resume(id) => workspaces::suspend(&bot, &app, &ctx, id, false).await?,
        Admin::Costs => costs::costs(&bot, &app, &ctx).await?,
        Admin::Health => health::health(&bot, &app, &ctx).await?,
        Admin::RetryAll => health::retry(&bot, &app, &ctx, None).await?,
        Admin::Retry(job) => health::retry(&bot, &app, &ctx, Some(job)).await?,
    }
    // Every press is answered (a screen that had a notice to give answered it already).
    ctx.answer(&bot, None).await
}

/// The answer to the quota prompt.
pub async fn got_quota(bot: TgBot, app: App, ctx: Ctx, msg: Message, tenant: TenantId) -> HandlerResult {
    if !app.is_operator(ctx.user.telegram_id).await? {
        // Not an operator any more: the prompt is closed (before saying so) and nothing is set.
        ctx.dlg.exit().await?;
        return ctx.refuse(&bot, t(ctx.lang, "admin.not_operator")).await;
    }
    workspaces::got_quota(&bot, &app, &ctx, msg.text().unwrap_or_default(), tenant).await
}

/// Whether the person may use the operator's screens here; when not, says why and changes nothing.
async fn allowed(bot: &TgBot, app: &App, ctx: &Ctx) -> anyhow::Result<bool> {
    if !app.is_operator(ctx.user.telegram_id).await? {
        ctx.refuse(bot, t(ctx.lang, "admin.not_operator")).await?;
        return Ok(false);
    }
    if !ctx.private {
        ctx.refuse(bot, t(ctx.lang, "admin.private_only")).await?;
        return Ok(false);
    }
    Ok(true)
}

/// Who acts, as the operator audit log records it.
fn actor(ctx: &Ctx) -> String {
    format!("telegram:{}", ctx.user.telegram_id)
}

/// The month the screens count from: the UTC month, as `tochen admin` counts it.
fn month() -> Millis {
    month_start_ms("UTC", now_ms())
}

/// A monthly token quota; 0 is unlimited.
fn quota(lang: &str, tokens: i64) -> String {
    if tokens == 0 {
        t(lang, "admin.unlimited")
    } else {
        tokens.to_string()
    }
}

/// A moment as a UTC date and time.
fn when(at: Millis) -> String {
    to_datetime(at).format("%Y-%m-%d %H:%M UTC").to_string()
}

/// At most `max` UTF-16 units of `s`, with an ellipsis when cut (before escaping).
fn clip(s: &str, max: usize) -> String {
    tochen_telegram::text::clip(s, max).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_quotas_read_as_on_the_command_line() {
        assert_eq!(quota("en", 0), "unlimited");
        assert_eq!(quota("en", 5000), "5000");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
