//! `/stats`: a period's numbers on demand, for the workspace, one platform or one account. The numbers come from
//! `reports::compute_scoped`, the computation report automations use, so `/stats` and a report of the same
//! period agree; the text is `render::stats_html` and the chart the reports' chart. The screen's whole state (a
//! period, a scope) travels in its buttons: `/stats 7`, `/stats 2026-11-01 2026-11-30` or the buttons change it,
//! and "Chart" sends the chart of what is shown as a picture. Everyone in the workspace may read.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::daterange::{parse_date_range, MAX_DAYS};
use crate::kb::kb;
use crate::screens::draft::platform_name;
use crate::screens::time::tz_of;
use crate::state::State;
use teloxide::prelude::*;
use teloxide::types::InputFile;
use tochen_delivery::reports::{self, chart, render, Period, Report, Scope, DAY_MS};
use tochen_delivery::sources::Sources;
use tochen_domain::clock::now_ms;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{AccountId, CampaignId, Platform};
use tochen_telegram::button::{Button, Stats, StatsPeriod, StatsScope};
use tochen_telegram::text::{clip, CAPTION_MAX};

/// The period buttons, in days.
const PRESETS: [u16; 3] = [7, 30, 90];
/// What `/stats` shows without an argument.
const DEFAULT: StatsPeriod = StatsPeriod::Last(30);
/// Accounts offered in the scope picker (one button each).
const MAX_ACCOUNTS: usize = 20;
/// Campaigns offered in the scope picker (one button each), newest first.
const MAX_CAMPAIGNS: usize = 10;

/// `[start, end)` of `period` in unix ms; `None` for a period no button of ours carries.
fn period_of(period: StatsPeriod, now: i64) -> Option<Period> {
    match period {
        StatsPeriod::Last(n) if (1..=MAX_DAYS).contains(&i64::from(n)) => {
            Some(Period::new(now - i64::from(n) * DAY_MS, now))
        }
        StatsPeriod::Range(a, b) if a < b && (b - a) <= MAX_DAYS * 86_400 + 3_600 => {
            Some(Period::new(a.checked_mul(1000)?, b.checked_mul(1000)?))
        }
        _ => None,
    }
}

fn scope_of(s: StatsScope) -> Scope {
    match s {
        StatsScope::Workspace => Scope::Workspace,
        StatsScope::Platform(p) => Scope::Platform(p),
        StatsScope::Account(a) => Scope::Account(a),
        StatsScope::Campaign(c) => Scope::Campaign(c),
    }
}

fn scope_from_state(
    platform: Option<Platform>,
    account: Option<AccountId>,
    campaign: Option<CampaignId>,
) -> StatsScope {
    match (platform, account, campaign) {
        (_, _, Some(c)) => StatsScope::Campaign(c),
        (_, Some(a), None) => StatsScope::Account(a),
        (Some(p), None, None) => StatsScope::Platform(p),
        (None, None, None) => StatsScope::Workspace,
    }
}

/// The name of what `scope` covers; `None` when it names an account the workspace does not show (another
/// workspace's, a sandbox account with sandbox mode off, a removed one).
async fn scope_name(app: &App, ctx: &Ctx, a: &Active, scope: StatsScope) -> anyhow::Result<Option<String>> {
    Ok(match scope {
        StatsScope::Workspace => Some(t(ctx.lang, "bot.stats.all")),
        StatsScope::Platform(p) => Some(platform_name(ctx.lang, p)),
        StatsScope::Account(id) => app
            .accounts(a.tenant.id)
            .await?
            .into_iter()
            .find(|x| x.id == id)
            .map(|x| format!("{} ({})", x.name, platform_name(ctx.lang, x.platform))),
        StatsScope::Campaign(id) => match app.store.campaign(a.tenant.id, id).await {
            Ok(c) => Some(format!("📣 {}", c.fields.name)),
            Err(tochen_store::StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
    })
}

/// `/stats`, `/stats 7`, `/stats 2026-11-01 2026-11-30`.
pub async fn stats(bot: TgBot, app: App, ctx: Ctx, arg: String) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let arg = arg.trim();
    let period = if arg.is_empty() {
        DEFAULT
    } else if let Some(n) = arg.parse::<u16>().ok().filter(|n| (1..=MAX_DAYS).contains(&i64::from(*n))) {
        StatsPeriod::Last(n)
    } else {
        match parse_date_range(arg, tz_of(&a)) {
            Ok((start, end)) => StatsPeriod::Range(start / 1000, end / 1000),
            Err(e) => return ctx.say(&bot, e.explain(ctx.lang), None).await.map(|_| ()),
        }
    };
    show(&bot, &app, &ctx, &a, period, StatsScope::Workspace).await
}

/// The report of `period` for `scope` from the accounts the workspace shows (without the chart's series).
async fn report(app: &App, a: &Active, period: Period, scope: StatsScope) -> anyhow::Result<Report> {
    let sources = Sources::new(app.sandbox);
    Ok(reports::compute_scoped(&app.store, a.tenant.id, period, scope_of(scope), sources, false).await?)
}

async fn show(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, p: StatsPeriod, scope: StatsScope) -> HandlerResult {
    let l = ctx.lang;
    let (Some(period), Some(name)) = (period_of(p, now_ms()), scope_name(app, ctx, a, scope).await?) else {
        return ctx.refuse(bot, t(l, "bot.stale")).await;
    };
    ctx.answer(bot, None).await?;
    let report = report(app, a, period, scope).await?;
    let heading = match scope {
        StatsScope::Workspace => a.tenant.name.clone(),
        _ => format!("{} · {name}", a.tenant.name),
    };
    let text = render::stats_html(&report, &heading, l, tz_of(a));
    let preset = |n: u16| {
        let label = tf(l, "bot.stats.last", &[("days", &n)]);
        let label = if p == StatsPeriod::Last(n) { format!("• {label}") } else { label };
        (label, Button::Stats(Stats::Show(StatsPeriod::Last(n), scope)))
    };
    let mut rows = vec![
        PRESETS.iter().map(|n| preset(*n)).collect(),
        vec![
            (t(l, "bot.stats.range"), Button::Stats(Stats::Ask(scope))),
            (tf(l, "bot.stats.scope", &[("scope", &clip(&name, 30))]), Button::Stats(Stats::Scopes(p))),
        ],
    ];
    if report.totals.views.is_some() {
        rows.push(vec![(t(l, "bot.stats.chart"), Button::Stats(Stats::Chart(p, scope)))]);
    }
    ctx.show(bot, text, Some(crate::miniapp::with_button(kb(rows), app, ctx, "stats"))).await
}

/// The scope picker: everything, each platform with an account, each account, each campaign not archived.
async fn scopes(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, p: StatsPeriod) -> HandlerResult {
    let l = ctx.lang;
    if period_of(p, now_ms()).is_none() {
        return ctx.refuse(bot, t(l, "bot.stale")).await;
    }
    ctx.answer(bot, None).await?;
    let accounts = app.accounts(a.tenant.id).await?;
    let show = |label: String, s: StatsScope| vec![(label, Button::Stats(Stats::Show(p, s)))];
    let mut rows = vec![show(t(l, "bot.stats.all"), StatsScope::Workspace)];
    let platforms: Vec<Platform> =
        Platform::ALL.iter().copied().filter(|p| accounts.iter().any(|x| x.platform == *p)).collect();
    if platforms.len() > 1 {
        rows.push(platforms.iter().map(|x| show(platform_name(l, *x), StatsScope::Platform(*x)).remove(0)).collect());
    }
    for x in accounts.iter().take(MAX_ACCOUNTS) {
        let label = format!("{} · {}", clip(&x.name, 40), platform_name(l, x.platform));
        rows.push(show(label, StatsScope::Account(x.id)));
    }
    for c in app.store.campaigns(a.tenant.id, false).await?.iter().take(MAX_CAMPAIGNS) {
        rows.push(show(format!("📣 {}", clip(&c.campaign.fields.name, 50)), StatsScope::Campaign(c.campaign.id)));
    }
    ctx.show(bot, t(l, "bot.stats.pick_scope"), Some(kb(rows))).await
}

/// The chart of what the screen shows, as a new picture.
async fn chart(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, p: StatsPeriod, scope: StatsScope) -> HandlerResult {
    let l = ctx.lang;
    let (Some(period), Some(name)) = (period_of(p, now_ms()), scope_name(app, ctx, a, scope).await?) else {
        return ctx.refuse(bot, t(l, "bot.stale")).await;
    };
    let sources = Sources::new(app.sandbox);
    let daily = reports::daily_views(&app.store, a.tenant.id, period, scope_of(scope), sources).await?;
    if daily.series.is_empty() {
        return ctx.answer(bot, Some(t(l, "bot.stats.no_chart"))).await;
    }
    ctx.answer(bot, None).await?;
    let tz = tz_of(a);
    let png = chart::render_png(&daily, &t(l, "report.chart_title"), tz)?;
    let caption = tf(
        l,
        "bot.stats.chart_caption",
        &[("scope", &escape_html(&name)), ("period", &render::period_label_of(period, tz))],
    );
    bot.send_photo(ctx.chat_id, InputFile::memory(png).file_name("stats.png"))
        .caption(clip(&caption, CAPTION_MAX).into_owned())
        .await?;
    Ok(())
}

/// The buttons of `/stats`.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Stats) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    match b {
        Stats::Show(p, s) => show(&bot, &app, &ctx, &a, p, s).await,
        Stats::Scopes(p) => scopes(&bot, &app, &ctx, &a, p).await,
        Stats::Chart(p, s) => chart(&bot, &app, &ctx, &a, p, s).await,
        Stats::Ask(s) => {
            if scope_name(&app, &ctx, &a, s).await?.is_none() {
                return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await;
            }
            ctx.answer(&bot, None).await?;
            let (platform, account, campaign) = match s {
                StatsScope::Workspace => (None, None, None),
                StatsScope::Platform(p) => (Some(p), None, None),
                StatsScope::Account(id) => (None, Some(id), None),
                StatsScope::Campaign(id) => (None, None, Some(id)),
            };
            ctx.dlg.update(State::StatsRange { platform, account, campaign }).await?;
            let text = tf(ctx.lang, "bot.stats.ask_range", &[("tz", &escape_html(tz_of(&a).name()))]);
            let back = kb(vec![vec![(t(ctx.lang, "bot.back"), Button::Stats(Stats::Show(DEFAULT, s)))]]);
            ctx.show(&bot, text, Some(back)).await
        }
    }
}

/// A typed range for `/stats` (`-` goes back to the last 30 days); a range that does not read is explained and
/// asked for again.
pub async fn got_range(
    bot: TgBot,
    app: App,
    ctx: Ctx,
    msg: Message,
    (platform, account, campaign): (Option<Platform>, Option<AccountId>, Option<CampaignId>),
) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let text = msg.text().unwrap_or_default().trim();
    let period = if text == "-" {
        DEFAULT
    } else {
        match parse_date_range(text, tz_of(&a)) {
            Ok((start, end)) => StatsPeriod::Range(start / 1000, end / 1000),
            Err(e) => return ctx.say(&bot, e.explain(ctx.lang), None).await.map(|_| ()),
        }
    };
    ctx.dlg.exit().await?;
    show(&bot, &app, &ctx.in_new_message(), &a, period, scope_from_state(platform, account, campaign)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_bounded_and_ranges_are_whole_seconds() {
        let now = 1_800_000_000_000;
        assert_eq!(period_of(StatsPeriod::Last(7), now), Some(Period::new(now - 7 * DAY_MS, now)));
        assert_eq!(period_of(StatsPeriod::Last(0), now), None);
        assert_eq!(period_of(StatsPeriod::Last(u16::MAX), now), None);
        assert_eq!(period_of(StatsPeriod::Range(10, 20), now), Some(Period::new(10_000, 20_000)));
        assert_eq!(period_of(StatsPeriod::Range(20, 10), now), None);
        assert_eq!(period_of(StatsPeriod::Range(0, 10 * 366 * 86_400), now), None);
        assert_eq!(scope_from_state(Some(Platform::Instagram), None, None), StatsScope::Platform(Platform::Instagram));
        assert_eq!(scope_from_state(None, None, None), StatsScope::Workspace);
        let c = CampaignId::new();
        assert_eq!(scope_from_state(Some(Platform::Instagram), None, Some(c)), StatsScope::Campaign(c));
    }
}
