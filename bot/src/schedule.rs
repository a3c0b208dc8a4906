//! Scheduling a draft: quick choices or typed times in the workspace's zone, a confirmation that shows the local
//! time, then `schedule_post` (targets + publish jobs). Editors' posts wait for an admin (`cards::submit`:
//! targets + approval cards), who gets approve and reject buttons; the author hears the outcome. Moving a waiting
//! post submits it again (`cards::resubmit`: the old cards are replaced by new ones).

use crate::cards;
use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::draft::{blocking_problems, chosen_accounts, load_for_change, platform_name};
use crate::screens::slots;
use crate::screens::time::{local_time, tz_of};
use crate::state::State;
use crate::timeparse::{parse_when, TimeError};
use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use teloxide::prelude::*;
use tochen_domain::besttime;
use tochen_domain::clock::now_ms;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::PostId;
use tochen_domain::{Platform, PostStatus, Role};
use tochen_store::{Post, ScheduleError};
use tochen_telegram::button::{Button, Draft, DraftAct, Queue, Quick, Schedule};
use tochen_telegram::text::{clip, ECHO_MAX};

async fn ask_time(bot: &TgBot, ctx: &Ctx, a: &Active, post: &Post, reschedule: bool) -> HandlerResult {
    let l = ctx.lang;
    let q = |label: String, quick| (label, Button::Schedule(Schedule::When(post.id, post.version, quick)));
    let buttons = kb(vec![
        vec![q(t(l, "bot.schedule.in_hour"), Quick::InHour), q(t(l, "bot.schedule.evening"), Quick::Evening)],
        vec![q(t(l, "bot.schedule.tomorrow"), Quick::TomorrowMorning), q(t(l, "bot.schedule.queue"), Quick::Queue)],
        vec![q(t(l, "bot.schedule.best"), Quick::Best)],
        // Back to where the person came from: the draft, or the post in /queue when rescheduling.
        vec![(
            t(l, "bot.back"),
            if reschedule {
                Button::Queue(Queue::Item(post.id))
            } else {
                Button::Draft(Draft::Act(DraftAct::Show, post.id, post.version))
            },
        )],
    ]);
    ctx.dlg.update(State::ScheduleAt { post: post.id, version: post.version, reschedule }).await?;
    let msg_text = tf(l, "bot.schedule.when", &[("tz", &escape_html(tz_of(a).name()))]);
    ctx.show(bot, msg_text, Some(buttons)).await
}

/// The draft screen's Schedule button: the time prompt for that draft.
/// The buttons of the scheduling screens.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Schedule) -> HandlerResult {
    match b {
        Schedule::When(id, v, q) => on_quick(bot, app, ctx, id, v, q).await,
        Schedule::Confirm(id, v, at) => confirm(bot, app, ctx, id, v, at).await,
    }
}

pub async fn from_draft(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &[PostStatus::Draft]).await? else {
        return Ok(());
    };
    ctx.answer(&bot, None).await?;
    ask_time(&bot, &ctx, &a, &post, false).await
}

/// The draft screen's Publish now button: the draft, confirmed for now.
pub async fn draft_now(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    if load_for_change(&bot, &app, &ctx, &a, id, version, &[PostStatus::Draft]).await?.is_none() {
        return Ok(());
    }
    confirm(bot, app, ctx, id, version, now_ms() / 1000).await
}

/// Reschedule on a post in `/queue`: the time prompt, whose Back returns to the post.
pub async fn reschedule(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let upcoming = [PostStatus::Scheduled, PostStatus::PendingApproval];
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &upcoming).await? else { return Ok(()) };
    ctx.answer(&bot, None).await?;
    ask_time(&bot, &ctx, &a, &post, true).await
}

fn at_local(tz: Tz, day: chrono::NaiveDate, hour: u32) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&day.and_hms_opt(hour, 0, 0)?).earliest().map(|d| d.with_timezone(&Utc))
}

/// The moment a quick choice stands for, and a note to show with it (a fallback to default slots or times).
async fn quick_time(
    app: &App,
    ctx: &Ctx,
    a: &Active,
    id: PostId,
    quick: Quick,
) -> anyhow::Result<(DateTime<Utc>, Option<String>)> {
    let l = ctx.lang;
    let tz = tz_of(a);
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let from_ms = |ms: i64| Utc.timestamp_millis_opt(ms).single().unwrap_or(now + Duration::hours(1));
    let at = match quick {
        Quick::InHour => (now + Duration::hours(1)).with_second(0).unwrap_or(now),
        Quick::Evening => at_local(tz, today, 18)
            .filter(|t| *t > now)
            .or_else(|| at_local(tz, today + Duration::days(1), 18))
            .unwrap_or(now),
        Quick::TomorrowMorning => at_local(tz, today + Duration::days(1), 9).unwrap_or(now),
        Quick::Queue => {
            // The next slot of the post's accounts that no scheduled or waiting post occupies.
            let accounts = match app.store.post(a.tenant.id, id).await {
                Ok(post) => chosen_accounts(app, a, &post).await?.1,
                Err(_) => Vec::new(),
            };
            let (at, configured) = slots::next_queue_time(app, a, &accounts, Some(id)).await?;
            let note = (!configured).then(|| t(l, "bot.slots.queue_defaults"));
            return Ok((at.map_or(now + Duration::hours(1), from_ms), note));
        }
        Quick::Best => {
            let platforms: Vec<Platform> = match app.store.post(a.tenant.id, id).await {
                Ok(post) => {
                    let (all, chosen) = chosen_accounts(app, a, &post).await?;
                    let mut p: Vec<Platform> =
                        all.iter().filter(|x| chosen.contains(&x.id)).map(|x| x.platform).collect();
                    p.sort_by_key(|x| x.as_str());
                    p.dedup();
                    p
                }
                Err(_) => Vec::new(),
            };
            let bests = slots::best_data(app, a).await?;
            let from_data = platforms.iter().all(|p| besttime::suggested(*p, &bests, 3).1);
            let at = besttime::next_best(&platforms, &bests, tz, now.timestamp_millis());
            let note = (!from_data || platforms.is_empty())
                .then(|| tf(l, "bot.besttime.quick_defaults", &[("min", &besttime::MIN_PLATFORM_POSTS)]));
            return Ok((at.map_or(now + Duration::hours(1), from_ms), note));
        }
    };
    Ok((at, None))
}

pub async fn on_quick(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64, quick: Quick) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let (at, note) = quick_time(&app, &ctx, &a, id, quick).await?;
    ctx.answer(&bot, None).await?;
    show_confirm(&bot, &app, &ctx, &a, id, version, at, note).await
}

pub async fn got_time(
    bot: TgBot,
    app: App,
    ctx: Ctx,
    msg: Message,
    (id, version, _re): (PostId, i64, bool),
) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    let text = msg.text().unwrap_or_default();
    let tzname = escape_html(tz_of(&a).name());
    let at = match parse_when(text, tz_of(&a), Utc::now()) {
        Ok(at) => at,
        Err(e) => {
            let why = match e {
                // Only the start of what was typed is quoted back: a long answer must not make a reply
                // longer than Telegram takes.
                TimeError::Invalid => tf(l, "bot.time.invalid", &[("input", &escape_html(&clip(text, ECHO_MAX)))]),
                TimeError::NoHour => t(l, "bot.time.no_hour"),
                TimeError::Past => tf(l, "bot.time.past", &[("tz", &tzname)]),
                TimeError::Nonexistent => tf(l, "bot.time.nonexistent", &[("tz", &tzname)]),
                TimeError::Ambiguous => tf(l, "bot.time.ambiguous", &[("tz", &tzname)]),
            };
            return ctx.say(&bot, why, None).await.map(|_| ());
        }
    };
    show_confirm(&bot, &app, &ctx, &a, id, version, at, None).await
}

#[allow(clippy::too_many_arguments)]
async fn show_confirm(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    id: PostId,
    version: i64,
    at: DateTime<Utc>,
    note: Option<String>,
) -> HandlerResult {
    let l = ctx.lang;
    let Ok(post) = app.store.post(a.tenant.id, id).await else {
        return ctx.refuse(bot, t(l, "bot.post.not_found")).await;
    };
    if post.version != version {
        return ctx.refuse(bot, t(l, "bot.stale")).await;
    }
    let (all, chosen) = chosen_accounts(app, a, &post).await?;
    let names: Vec<String> = all
        .iter()
        .filter(|x| chosen.contains(&x.id))
        .map(|x| format!("{} {}", platform_name(l, x.platform), escape_html(&x.name)))
        .collect();
    if names.is_empty() {
        // Nothing to post to: no Confirm that would only refuse, but the way to choose (or connect) accounts.
        let text = t(l, "bot.draft.no_accounts");
        let buttons = kb(vec![vec![
            (t(l, "bot.draft.btn_accounts"), Button::Draft(Draft::Act(DraftAct::Accounts, id, version))),
            (t(l, "bot.back"), Button::Draft(Draft::Act(DraftAct::Show, id, version))),
        ]]);
        return ctx.show(bot, text, Some(buttons)).await;
    }
    let mut text = note.map(|n| format!("{n}\n\n")).unwrap_or_default();
    text += &tf(
        l,
        "bot.schedule.confirm",
        &[
            ("when", &local_time(l, a, at.timestamp_millis())),
            ("utc", &at.format("%H:%M").to_string()),
            ("accounts", &names.join(", ")),
        ],
    );
    let buttons = kb(vec![
        vec![(t(l, "bot.schedule.btn_confirm"), Button::Schedule(Schedule::Confirm(id, version, at.timestamp())))],
        vec![
            (t(l, "bot.schedule.btn_change"), Button::Draft(Draft::Act(DraftAct::Schedule, id, version))),
            (t(l, "bot.back"), Button::Draft(Draft::Act(DraftAct::Show, id, version))),
        ],
    ]);
    // "Change time" re-asks: the text state stays on this post.
    let buttons = if post.status == PostStatus::Draft {
        buttons
    } else {
        kb(vec![
            vec![(t(l, "bot.schedule.btn_confirm"), Button::Schedule(Schedule::Confirm(id, version, at.timestamp())))],
            vec![(t(l, "bot.back"), Button::Queue(Queue::Item(id)))],
        ])
    };
    ctx.show(bot, text, Some(buttons)).await
}

/// Confirms a time: schedules a draft (or reschedules a scheduled post) at `at_secs`.
pub async fn confirm(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64, at_secs: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    let statuses = [PostStatus::Draft, PostStatus::Rejected, PostStatus::Scheduled, PostStatus::PendingApproval];
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &statuses).await? else { return Ok(()) };
    let now = now_ms();
    let at = (at_secs * 1000).max(now);
    if at_secs * 1000 < now - 120_000 {
        let msg_text = tf(l, "bot.time.past", &[("tz", &escape_html(tz_of(&a).name()))]);
        return ctx.refuse(&bot, msg_text).await;
    }
    if matches!(post.status, PostStatus::Scheduled | PostStatus::PendingApproval) {
        let pending = post.status == PostStatus::PendingApproval;
        // A waiting post that changes is a new request: its old cards are replaced by new ones.
        let moved = if pending {
            match cards::resubmit(&bot, &app, &ctx, &a, &post, at).await {
                Ok(_) => true,
                Err(ScheduleError::Store(e)) => return Err(e.into()),
                Err(_) => false,
            }
        } else {
            app.store.reschedule_post(a.tenant.id, id, version, at).await?
        };
        if !moved {
            return ctx.refuse(&bot, t(l, "bot.stale")).await;
        }
        app.store
            .audit(
                a.tenant.id,
                Some(ctx.user.id),
                "post.rescheduled",
                "post",
                Some(&id.to_db()),
                serde_json::json!({"at": at}),
            )
            .await?;
        ctx.answer(&bot, None).await?;
        ctx.dlg.exit().await?;
        let when = local_time(l, &a, at);
        let msg_text = if pending {
            tf(l, "bot.approval.resent", &[("when", &when)])
        } else {
            tf(l, "bot.schedule.rescheduled", &[("when", &when)])
        };
        return ctx.show(&bot, msg_text, None).await;
    }
    let problems = blocking_problems(&app, &a, id, l).await?;
    if !problems.is_empty() {
        ctx.answer(&bot, None).await?;
        let text = format!("{}\n⚠ {}", t(l, "bot.schedule.blocked"), problems.join("\n⚠ "));
        return ctx.say(&bot, text, None).await.map(|_| ());
    }
    let (_, accounts) = chosen_accounts(&app, &a, &post).await?;
    let needs_approval = a.role == Role::Editor;
    let scheduled = if needs_approval {
        cards::submit(&app, &ctx, &a, &post, at, &accounts).await
    } else {
        app.store.schedule_post(a.tenant.id, id, version, at, &accounts, false).await
    };
    match scheduled {
        Ok(_) => {}
        Err(ScheduleError::NoAccounts) => return ctx.refuse(&bot, t(l, "bot.draft.connect_first")).await,
        Err(ScheduleError::Stale) | Err(ScheduleError::WrongStatus(_)) => {
            return ctx.refuse(&bot, t(l, "bot.stale")).await
        }
        Err(ScheduleError::UnknownAccount(_)) => return ctx.refuse(&bot, t(l, "bot.draft.connect_first")).await,
        Err(ScheduleError::Store(e)) => return Err(e.into()),
    }
    let action = if needs_approval { "post.submitted" } else { "post.scheduled" };
    app.store
        .audit(a.tenant.id, Some(ctx.user.id), action, "post", Some(&id.to_db()), serde_json::json!({"at": at}))
        .await?;
    if !needs_approval {
        tochen_store::events::post_scheduled(&app.store, a.tenant.id, id).await?;
    }
    ctx.answer(&bot, None).await?;
    ctx.dlg.exit().await?;
    if needs_approval {
        let msg_text = tf(l, "bot.approval.sent", &[("when", &local_time(l, &a, at))]);
        ctx.show(&bot, msg_text, None).await
    } else {
        let msg_text = tf(l, "bot.schedule.done", &[("when", &local_time(l, &a, at))]);
        ctx.show(&bot, msg_text, None).await
    }
}
