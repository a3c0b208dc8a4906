//! "Spread over the campaign": the approved drafts of a batch go into the queue slots between the campaign's
//! dates (the slots of the drafts' accounts, as "Add to queue" uses them), skipping slots a scheduled or waiting
//! post already takes; with no slots configured they are spaced evenly over the period. The plan is shown first and
//! kept in the dialogue; Confirm schedules exactly what was shown (a draft changed since is left out and named).
//!
//! The period runs from the later of now and the campaign's start to its end; without an end, the next free slots
//! (or one post a day) from the start.

use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::draft::{blocking_problems, chosen_accounts};
use crate::screens::time::{local_time, tz_of};
use crate::state::campaign::SpreadPlan;
use crate::state::State;
use chrono_tz::Tz;
use tochen_domain::clock::{now_ms, Millis, DAY_MS};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::slots::{instants, occupied, WeeklySlot};
use tochen_domain::{AccountId, PostStatus, Role};
use tochen_store::ScheduleError;
use tochen_telegram::button::{Button, Campaign as Cb};
use tochen_telegram::text::clip;

/// How far ahead a campaign without an end is spread over slots.
const OPEN_END_DAYS: i64 = 366;
/// The earliest a spread post goes out: a little after now, so Confirm is not late for the first one.
const LEAD_MS: Millis = 10 * 60_000;
/// Lines of the plan shown (the rest are counted).
const SHOWN: usize = 30;

/// Where `n` posts go between `start` and `end` (`None`: open): the free instants of `slots`, or with no slots
/// evenly spaced (one a day from `start` when open), never on an instant in `taken` (or already planned).
pub fn plan_times(
    n: usize,
    slots: &[WeeklySlot],
    tz: Tz,
    start: Millis,
    end: Option<Millis>,
    taken: &[Millis],
) -> Vec<Millis> {
    if n == 0 {
        return Vec::new();
    }
    let mut out: Vec<Millis> = Vec::new();
    if !slots.is_empty() {
        let until = end.unwrap_or(start + OPEN_END_DAYS * DAY_MS);
        for at in instants(slots, tz, start, until) {
            if out.len() == n {
                break;
            }
            if !occupied(at, taken) {
                out.push(at);
            }
        }
        return out;
    }
    let step = match end {
        Some(end) if end > start => (end - start) / n as i64,
        Some(_) => return out,
        None => DAY_MS,
    };
    for i in 0..n as i64 {
        let mut at = start + step * i + if end.is_some() { step / 2 } else { 0 };
        at -= at % 60_000;
        // A taken instant moves the post by an hour at a time, within its share of the period.
        let mut tries = 0;
        while (occupied(at, taken) || occupied(at, &out)) && tries < 24 {
            at += 3_600_000;
            tries += 1;
        }
        if end.is_none_or(|e| at < e) && !occupied(at, taken) && !occupied(at, &out) {
            out.push(at);
        }
    }
    out
}

pub async fn on_button(bot: &TgBot, app: &App, ctx: &Ctx, state: State, b: Cb) -> HandlerResult {
    let Some(a) = ctx.require(bot, Role::Admin).await? else { return Ok(()) };
    let l = ctx.lang;
    match b {
        Cb::Spread(id) => {
            let Some((batch, campaign)) = super::load_batch(bot, app, ctx, &a, id).await? else { return Ok(()) };
            let items = app.store.batch_items(a.tenant.id, batch.id).await?;
            let approved: Vec<_> = super::review::drafts(app, &a, &items)
                .await?
                .into_iter()
                .filter(|(i, p)| i.approved_at.is_some() && p.status == PostStatus::Draft)
                .map(|(_, p)| p)
                .collect();
            if approved.is_empty() {
                return ctx.refuse(bot, t(l, "campaign.spread.nothing")).await;
            }
            let now = now_ms();
            let start = campaign.fields.starts_at.unwrap_or(now).max(now + LEAD_MS);
            if campaign.fields.ends_at.is_some_and(|e| e <= start) {
                return ctx.refuse(bot, t(l, "campaign.spread.ended")).await;
            }
            let mut accounts: Vec<AccountId> = Vec::new();
            for p in &approved {
                for x in chosen_accounts(app, &a, p).await?.1 {
                    if !accounts.contains(&x) {
                        accounts.push(x);
                    }
                }
            }
            let slots = app.store.effective_queue_slots(a.tenant.id, &accounts).await?;
            let taken = app.store.queue_taken_instants(a.tenant.id, &accounts, now, None).await?;
            let times = plan_times(approved.len(), &slots, tz_of(&a), start, campaign.fields.ends_at, &taken);
            let plan: Vec<_> = approved.iter().zip(&times).map(|(p, at)| (p.id, p.version, *at)).collect();
            let key = if slots.is_empty() { "campaign.spread.plan_even" } else { "campaign.spread.plan_slots" };
            let mut text = tf(
                l,
                key,
                &[
                    ("name", &escape_html(&clip(&campaign.fields.name, 60))),
                    ("period", &super::period_text(l, &a, &campaign)),
                    ("n", &plan.len()),
                ],
            );
            for (n, (p, at)) in approved.iter().zip(&times).enumerate().take(SHOWN) {
                text.push_str(&format!(
                    "\n{}. {} · {}",
                    n + 1,
                    local_time(l, &a, *at),
                    escape_html(&clip(&p.title, 50))
                ));
            }
            if plan.len() > SHOWN {
                text.push_str(&format!("\n{}", tf(l, "campaign.batch.more_topics", &[("n", &(plan.len() - SHOWN))])));
            }
            if plan.len() < approved.len() {
                text.push_str("\n\n");
                text.push_str(&tf(l, "campaign.spread.no_room", &[("n", &(approved.len() - plan.len()))]));
            }
            let mut rows = Vec::new();
            if !plan.is_empty() {
                rows.push(vec![(t(l, "campaign.spread.btn_confirm"), Button::Campaign(Cb::SpreadConfirm(id)))]);
            }
            rows.push(vec![(t(l, "bot.back"), Button::Campaign(Cb::Review(id, 0)))]);
            ctx.dlg.update(State::CampaignSpread { plan: SpreadPlan { batch: id, slots: plan } }).await?;
            ctx.answer(bot, None).await?;
            ctx.show(bot, text, Some(kb(rows))).await
        }
        Cb::SpreadConfirm(id) => {
            let State::CampaignSpread { plan } = state else { return ctx.refuse(bot, t(l, "bot.stale")).await };
            if plan.batch != id {
                return ctx.refuse(bot, t(l, "bot.stale")).await;
            }
            let Some((batch, _)) = super::load_batch(bot, app, ctx, &a, id).await? else { return Ok(()) };
            ctx.dlg.exit().await?;
            ctx.answer(bot, None).await?;
            let (mut scheduled, mut left) = (0usize, Vec::new());
            for (post, version, at) in &plan.slots {
                let Ok(p) = app.store.post(a.tenant.id, *post).await else { continue };
                if !blocking_problems(app, &a, p.id, l).await?.is_empty() {
                    left.push(p.title.clone());
                    continue;
                }
                let (_, accounts) = chosen_accounts(app, &a, &p).await?;
                match app.store.schedule_post(a.tenant.id, p.id, *version, *at, &accounts, false).await {
                    Ok(_) => {
                        tochen_store::events::post_scheduled(&app.store, a.tenant.id, p.id).await?;
                        scheduled += 1;
                    }
                    Err(ScheduleError::Store(e)) => return Err(e.into()),
                    Err(_) => left.push(p.title.clone()),
                }
            }
            let details = serde_json::json!({"batch": batch.id.to_db(), "scheduled": scheduled, "left": left.len()});
            app.store
                .audit(
                    a.tenant.id,
                    Some(ctx.user.id),
                    "campaign.spread",
                    "campaign",
                    Some(&batch.campaign_id.to_db()),
                    details,
                )
                .await?;
            let mut text = tf(l, "campaign.spread.done", &[("n", &scheduled)]);
            if !left.is_empty() {
                let names: Vec<String> = left.iter().take(10).map(|x| escape_html(&clip(x, 50))).collect();
                text.push_str("\n\n");
                text.push_str(&tf(l, "campaign.spread.left", &[("list", &names.join(", "))]));
            }
            let back = kb(vec![vec![(t(l, "campaign.review.btn_list"), Button::Campaign(Cb::Review(id, 0)))]]);
            ctx.show(bot, text, Some(back)).await
        }
        _ => ctx.refuse(bot, t(l, "bot.stale")).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc, Weekday};

    fn utc(d: u32, h: u32) -> Millis {
        Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap().timestamp_millis()
    }

    #[test]
    fn slots_between_the_dates_are_taken_in_order_skipping_taken_ones() {
        // Every day at 09:00 and 15:00 UTC; the period is 1-3 December; 1 Dec 15:00 is taken.
        let slots: Vec<WeeklySlot> = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu]
            .iter()
            .flat_map(|d| [WeeklySlot::new(*d, 9, 0).unwrap(), WeeklySlot::new(*d, 15, 0).unwrap()])
            .collect();
        let got = plan_times(4, &slots, chrono_tz::UTC, utc(1, 0), Some(utc(3, 0)), &[utc(1, 15)]);
        assert_eq!(got, vec![utc(1, 9), utc(2, 9), utc(2, 15)], "only three free slots before the end");
    }

    #[test]
    fn without_slots_posts_are_spaced_evenly_over_the_period() {
        let got = plan_times(4, &[], chrono_tz::UTC, utc(1, 0), Some(utc(5, 0)), &[]);
        assert_eq!(got, vec![utc(1, 12), utc(2, 12), utc(3, 12), utc(4, 12)]);
        // A taken instant moves its post by an hour.
        let got = plan_times(2, &[], chrono_tz::UTC, utc(1, 0), Some(utc(3, 0)), &[utc(1, 12)]);
        assert_eq!(got, vec![utc(1, 13), utc(2, 12)]);
        // Open-ended: one a day from the start.
        let got = plan_times(3, &[], chrono_tz::UTC, utc(1, 8), None, &[]);
        assert_eq!(got, vec![utc(1, 8), utc(2, 8), utc(3, 8)]);
        assert!(plan_times(3, &[], chrono_tz::UTC, utc(2, 0), Some(utc(1, 0)), &[]).is_empty());
    }
}
