//! `/slots`: the workspace's weekly queue slots (and optionally an account's own, which replace the workspace's
//! for that account), in the workspace's zone. Everyone sees them; admins pick a preset, type slots to add
//! ("Mon-Fri 09:00, 13:00"), remove one or clear them. "Add to queue" (`schedule.rs`) fills them.
//!
//! `/besttime`: the workspace's engagement heat-map per platform with enough data (a PNG each), the top 3 slots,
//! and for admins a button that adds the suggested slots to the workspace's.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::draft::platform_name;
use crate::screens::slots::{best_data, day_name, describe, next_queue_time, BESTTIME_DAYS};
use crate::screens::time::{local_time, tz_of};
use crate::state::State;
use teloxide::prelude::*;
use teloxide::types::InputFile;
use tochen_domain::besttime::{self, MIN_CELL_POSTS, MIN_PLATFORM_POSTS};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::slots::{self as wslots, Preset, SlotError, WeeklySlot, MAX_SLOTS};
use tochen_domain::{AccountId, Platform, Role};
use tochen_telegram::button::{Button, SlotScope, Slots};
use tochen_telegram::text::{clip, ECHO_MAX};

const DAYS: [chrono::Weekday; 7] = [
    chrono::Weekday::Mon,
    chrono::Weekday::Tue,
    chrono::Weekday::Wed,
    chrono::Weekday::Thu,
    chrono::Weekday::Fri,
    chrono::Weekday::Sat,
    chrono::Weekday::Sun,
];

pub async fn slots(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    show(&bot, &app, &ctx, &a, None).await
}

pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Slots) -> HandlerResult {
    let needed = match b {
        Slots::Show(_) => Role::Viewer,
        _ => Role::Admin,
    };
    let Some(a) = ctx.require(&bot, needed).await? else { return Ok(()) };
    let l = ctx.lang;
    let scope = match b {
        Slots::Show(s) | Slots::Preset(s, _) | Slots::Clear(s) | Slots::Add(s) => s,
        Slots::RemoveDay(s, _) | Slots::Remove(s, _, _) => s,
        Slots::Accounts | Slots::AddBest => None,
    };
    if let Some(acc) = scope {
        if account_name(&app, &a, l, acc).await?.is_none() {
            return ctx.refuse(&bot, t(l, "bot.stale")).await;
        }
    }
    match b {
        Slots::Show(s) => {
            ctx.answer(&bot, None).await?;
            show(&bot, &app, &ctx, &a, s).await
        }
        Slots::Preset(s, p) => {
            app.store.replace_queue_slots(a.tenant.id, s, &p.slots()).await?;
            audit(&app, &ctx, &a, "slots.preset", s).await?;
            ctx.answer(&bot, Some(t(l, "bot.slots.saved"))).await?;
            show(&bot, &app, &ctx, &a, s).await
        }
        Slots::Clear(s) => {
            app.store.clear_queue_slots(a.tenant.id, s).await?;
            audit(&app, &ctx, &a, "slots.cleared", s).await?;
            ctx.answer(&bot, Some(t(l, "bot.slots.cleared"))).await?;
            show(&bot, &app, &ctx, &a, s).await
        }
        Slots::Add(s) => {
            ctx.answer(&bot, None).await?;
            ctx.dlg.update(State::SlotsAdd { account: s }).await?;
            let text = tf(l, "bot.slots.ask", &[("tz", &escape_html(tz_of(&a).name()))]);
            let back = kb(vec![vec![(t(l, "bot.back"), Button::Slots(Slots::Show(s)))]]);
            ctx.show(&bot, text, Some(back)).await
        }
        Slots::RemoveDay(s, d) => {
            ctx.answer(&bot, None).await?;
            remove_screen(&bot, &app, &ctx, &a, s, d).await
        }
        Slots::Remove(s, d, m) => {
            if let Some(slot) = WeeklySlot::from_db(i64::from(d), i64::from(m)) {
                app.store.remove_queue_slot(a.tenant.id, s, slot).await?;
                audit(&app, &ctx, &a, "slots.removed", s).await?;
            }
            ctx.answer(&bot, None).await?;
            remove_screen(&bot, &app, &ctx, &a, s, d).await
        }
        Slots::Accounts => {
            ctx.answer(&bot, None).await?;
            let accounts = app.accounts(a.tenant.id).await?;
            let own = app.store.accounts_with_own_slots(a.tenant.id).await?;
            let mut rows: Vec<Vec<(String, Button)>> = accounts
                .iter()
                .map(|x| {
                    let mark = if own.contains(&x.id) { "🗓 " } else { "" };
                    let label = format!("{mark}{} {}", platform_name(l, x.platform), clip(&x.name, 40));
                    vec![(label, Button::Slots(Slots::Show(Some(x.id))))]
                })
                .collect();
            rows.push(vec![(t(l, "bot.back"), Button::Slots(Slots::Show(None)))]);
            ctx.show(&bot, t(l, "bot.slots.pick_account"), Some(kb(rows))).await
        }
        Slots::AddBest => add_best(&bot, &app, &ctx, &a).await,
    }
}

async fn audit(app: &App, ctx: &Ctx, a: &Active, action: &str, scope: SlotScope) -> anyhow::Result<()> {
    let details = serde_json::json!({"account": scope.map(|x| x.to_db())});
    app.store.audit(a.tenant.id, Some(ctx.user.id), action, "tenant", Some(&a.tenant.id.to_db()), details).await?;
    Ok(())
}

/// The account's name when it is one of the workspace's.
async fn account_name(app: &App, a: &Active, l: &str, acc: AccountId) -> anyhow::Result<Option<String>> {
    let accounts = app.accounts(a.tenant.id).await?;
    Ok(accounts.iter().find(|x| x.id == acc).map(|x| format!("{} {}", platform_name(l, x.platform), x.name)))
}

/// The slot screen of a scope.
async fn show(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, scope: SlotScope) -> HandlerResult {
    let l = ctx.lang;
    let tz = escape_html(tz_of(a).name());
    let slots = app.store.queue_slots(a.tenant.id, scope).await?;
    let mut text = match scope {
        None => tf(l, "bot.slots.title", &[("tz", &tz)]),
        Some(acc) => {
            let name = account_name(app, a, l, acc).await?.unwrap_or_default();
            tf(l, "bot.slots.title_account", &[("tz", &tz), ("account", &escape_html(&name))])
        }
    };
    text.push('\n');
    if slots.is_empty() {
        let key = if scope.is_some() { "bot.slots.none_account" } else { "bot.slots.none" };
        text.push_str(&tf(l, key, &[("defaults", &describe(l, &wslots::defaults()).join("; "))]));
    } else {
        for line in describe(l, &slots) {
            text.push_str(&format!("\n• {line}"));
        }
    }
    let accounts: Vec<AccountId> = scope.into_iter().collect();
    if let (Some(next), _) = next_queue_time(app, a, &accounts, None).await? {
        text.push_str("\n\n");
        text.push_str(&tf(l, "bot.slots.next", &[("when", &local_time(l, a, next))]));
    }
    if a.role != Role::Admin {
        return ctx.show(bot, text, None).await;
    }
    let mut rows = vec![
        vec![
            (t(l, "bot.slots.preset_weekdays"), Button::Slots(Slots::Preset(scope, Preset::Weekdays))),
            (t(l, "bot.slots.preset_every_day"), Button::Slots(Slots::Preset(scope, Preset::EveryDay))),
        ],
        vec![(t(l, "bot.slots.btn_add"), Button::Slots(Slots::Add(scope)))],
    ];
    if !slots.is_empty() {
        let first = slots[0].weekday_index() as u8;
        rows.push(vec![
            (t(l, "bot.slots.btn_remove"), Button::Slots(Slots::RemoveDay(scope, first))),
            (t(l, "bot.slots.btn_clear"), Button::Slots(Slots::Clear(scope))),
        ]);
    }
    rows.push(vec![match scope {
        None => (t(l, "bot.slots.btn_accounts"), Button::Slots(Slots::Accounts)),
        Some(_) => (t(l, "bot.slots.btn_workspace"), Button::Slots(Slots::Show(None))),
    }]);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// One weekday's slots as remove buttons, with the days around it.
async fn remove_screen(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, scope: SlotScope, d: u8) -> HandlerResult {
    let l = ctx.lang;
    let day = DAYS[usize::from(d % 7)];
    let slots = app.store.queue_slots(a.tenant.id, scope).await?;
    let of_day: Vec<WeeklySlot> = slots.iter().copied().filter(|s| s.weekday == day).collect();
    let text = tf(l, "bot.slots.remove_title", &[("day", &day_name(l, day)), ("n", &of_day.len())]);
    let mut rows: Vec<Vec<(String, Button)>> = of_day
        .chunks(4)
        .map(|c| {
            c.iter()
                .map(|s| {
                    let b = Slots::Remove(scope, d, s.minute_of_day() as u16);
                    (format!("✖ {}", s.time_text()), Button::Slots(b))
                })
                .collect()
        })
        .collect();
    rows.push(vec![
        (format!("‹ {}", day_name(l, day.pred())), Button::Slots(Slots::RemoveDay(scope, (d + 6) % 7))),
        (format!("{} ›", day_name(l, day.succ())), Button::Slots(Slots::RemoveDay(scope, (d + 1) % 7))),
    ]);
    rows.push(vec![(t(l, "bot.back"), Button::Slots(Slots::Show(scope)))]);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// The typed slots of `State::SlotsAdd`.
pub async fn got_slots(bot: TgBot, app: App, ctx: Ctx, msg: Message, account: Option<AccountId>) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let l = ctx.lang;
    let text = msg.text().unwrap_or_default();
    let parsed = match wslots::parse(text) {
        Ok(s) => s,
        Err(e) => {
            let why = match e {
                SlotError::Empty => t(l, "bot.slots.err_empty"),
                SlotError::UnknownDay(w) => tf(l, "bot.slots.err_day", &[("input", &escape_html(&clip(&w, ECHO_MAX)))]),
                SlotError::BadTime(w) => tf(l, "bot.slots.err_time", &[("input", &escape_html(&clip(&w, ECHO_MAX)))]),
                SlotError::NoTime(w) => tf(l, "bot.slots.err_no_time", &[("input", &escape_html(&clip(&w, ECHO_MAX)))]),
                SlotError::TooMany => tf(l, "bot.slots.err_too_many", &[("max", &MAX_SLOTS)]),
            };
            return ctx.say(&bot, why, None).await.map(|_| ());
        }
    };
    if let Some(acc) = account {
        if account_name(&app, &a, l, acc).await?.is_none() {
            ctx.dlg.exit().await?;
            return ctx.say(&bot, t(l, "bot.stale"), None).await.map(|_| ());
        }
    }
    let added = app.store.add_queue_slots(a.tenant.id, account, &parsed).await?;
    audit(&app, &ctx, &a, "slots.added", account).await?;
    ctx.dlg.exit().await?;
    let done = tf(l, "bot.slots.added", &[("n", &added)]);
    ctx.say(&bot, done, None).await?;
    show(&bot, &app, &ctx.in_new_message(), &a, account).await
}

/// The platforms `/besttime` talks about: those of the workspace's accounts, else those with data.
async fn platforms(app: &App, a: &Active, bests: &[besttime::PlatformBest]) -> anyhow::Result<Vec<Platform>> {
    let mut ps: Vec<Platform> = app.accounts(a.tenant.id).await?.iter().map(|x| x.platform).collect();
    ps.extend(bests.iter().map(|b| b.platform));
    ps.sort_by_key(|p| p.as_str());
    ps.dedup();
    Ok(ps)
}

pub async fn besttime(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let l = ctx.lang;
    let bests = best_data(&app, &a).await?;
    let days: Vec<String> = DAYS.iter().map(|d| day_name(l, *d)).collect();
    let mut lines = vec![tf(
        l,
        "bot.besttime.title",
        &[
            ("tz", &escape_html(tz_of(&a).name())),
            ("days", &BESTTIME_DAYS),
            ("cell", &MIN_CELL_POSTS),
            ("min", &MIN_PLATFORM_POSTS),
        ],
    )];
    let ps = platforms(&app, &a, &bests).await?;
    if ps.is_empty() {
        lines.push(t(l, "bot.besttime.no_accounts"));
    }
    for p in &ps {
        let name = platform_name(l, *p);
        let best = bests.iter().find(|b| b.platform == *p);
        let measured = best.map_or(0, |b| b.measured);
        match best.filter(|b| b.enough()) {
            Some(b) => {
                let top: Vec<String> = b
                    .top(3)
                    .iter()
                    .map(|(s, rate)| format!("{} {} ({:.1}%)", day_name(l, s.weekday), s.time_text(), rate * 100.0))
                    .collect();
                let caption =
                    tf(l, "bot.besttime.platform", &[("platform", &name), ("n", &measured), ("top", &top.join(", "))]);
                let title = tf(l, "bot.besttime.chart_title", &[("platform", &name)]);
                match tochen_delivery::reports::heatmap::render_png(b, &title, &days) {
                    Ok(png) => {
                        let photo = InputFile::memory(png).file_name("besttime.png");
                        if let Err(e) = bot.send_photo(ctx.chat_id, photo).caption(caption.clone()).await {
                            tracing::warn!(error = %e, "cannot send the best-time heat-map");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot draw the best-time heat-map"),
                }
                lines.push(caption);
            }
            None => {
                let defaults = describe(l, &besttime::default_slots(*p)).join("; ");
                lines.push(tf(
                    l,
                    "bot.besttime.not_enough",
                    &[("platform", &name), ("n", &measured), ("min", &MIN_PLATFORM_POSTS), ("defaults", &defaults)],
                ));
            }
        }
    }
    let buttons = (a.role == Role::Admin && !ps.is_empty())
        .then(|| kb(vec![vec![(t(l, "bot.besttime.btn_add"), Button::Slots(Slots::AddBest))]]));
    ctx.say(&bot, lines.join("\n\n"), buttons).await?;
    Ok(())
}

/// Adds every platform's suggested slots (top 3 with enough data, else its defaults) to the workspace's slots.
async fn add_best(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active) -> HandlerResult {
    let l = ctx.lang;
    let bests = best_data(app, a).await?;
    let ps = platforms(app, a, &bests).await?;
    let suggested: Vec<WeeklySlot> = ps.iter().flat_map(|p| besttime::suggested(*p, &bests, 3).0).collect();
    let added = app.store.add_queue_slots(a.tenant.id, None, &suggested).await?;
    audit(app, ctx, a, "slots.added_best", None).await?;
    ctx.answer(bot, None).await?;
    let done = tf(l, "bot.slots.added", &[("n", &added)]);
    ctx.say(bot, done, None).await?;
    show(bot, app, &ctx.in_new_message(), a, None).await
}
