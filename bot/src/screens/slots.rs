//! Queue slots and best times as several flows need them: "Add to queue" and "Best time" when scheduling
//! (`schedule.rs`), `/slots` and `/besttime` (`slots.rs`).

use crate::ctx::{Active, App};
use crate::screens::time::tz_of;
use chrono::Weekday;
use tochen_domain::besttime::{self, PlatformBest};
use tochen_domain::clock::{now_ms, Millis, DAY_MS};
use tochen_domain::i18n::t;
use tochen_domain::slots::{self, WeeklySlot};
use tochen_domain::{AccountId, PostId};

/// How far back "best time to post" looks at published posts.
pub const BESTTIME_DAYS: i64 = 180;

/// A weekday's short name in `lang` (from `date.weekdays`).
pub fn day_name(lang: &str, d: Weekday) -> String {
    let names = t(lang, "date.weekdays");
    names.split(',').nth(d.num_days_from_monday() as usize).unwrap_or_default().trim().to_owned()
}

/// Slots as lines: "Mon-Fri 09:00, 13:00", day names in `lang`.
pub fn describe(lang: &str, s: &[WeeklySlot]) -> Vec<String> {
    slots::describe(s, |d| day_name(lang, d))
}

/// Where "Add to queue" puts a post to `accounts` (leaving `skip`, the post itself, out of the taken times): the
/// next free slot, and whether the slots are configured (`false`: the default slots were used).
pub async fn next_queue_time(
    app: &App,
    a: &Active,
    accounts: &[AccountId],
    skip: Option<PostId>,
) -> anyhow::Result<(Option<Millis>, bool)> {
    Ok(tochen_posting::queue::next_queue_time(&app.store, &a.tenant, accounts, skip, now_ms()).await?)
}

/// The workspace's engagement heat-maps per platform from its posts of the last [`BESTTIME_DAYS`].
pub async fn best_data(app: &App, a: &Active) -> anyhow::Result<Vec<PlatformBest>> {
    let posts = app.store.besttime_posts(a.tenant.id, now_ms() - BESTTIME_DAYS * DAY_MS).await?;
    Ok(besttime::aggregate(&posts, tz_of(a)))
}
