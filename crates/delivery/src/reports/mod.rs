//! Period reports computed from stored data: what was published and failed, engagement, followers, the best
//! posts, and the change against the previous period of equal length.
//!
//! What counts for a period: the targets PUBLISHED in it, each with its latest metrics reading captured in it
//! (counters are cumulative, so the latest reading is the post's total so far). Every number a platform may not
//! report is an `Option` from the store to the rendered text: a missing metric shows as missing, never as zero,
//! and a sum over posts is missing only when no post reported that metric. Rendering (Telegram, email, JSON),
//! the chart and the data-sync export live in the submodules.
//!
//! Only the accounts [`Sources`] counts take part: with sandbox mode off, sandbox accounts' posts, failures and
//! followers are left out everywhere (totals, platforms, top posts, daily views) as if they did not exist.

pub mod chart;
pub mod export;
pub mod heatmap;
pub mod metrics_sync;
pub mod render;

use crate::sources::Sources;
use serde::Serialize;
use std::collections::BTreeMap;
use tochen_domain::clock::Millis;
use tochen_domain::ids::{TargetId, TenantId};
use tochen_domain::Platform;
use tochen_store::{MetricValues, PublishedTarget, Store, StoreError};

pub use tochen_domain::clock::DAY_MS;
/// The chart never has more points than this (a quarter).
const MAX_CHART_DAYS: i64 = 93;

/// A half-open time range `[start, end)` in unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: Millis,
    pub end: Millis,
}

impl Period {
    pub fn new(start: Millis, end: Millis) -> Self {
        Self { start, end: end.max(start) }
    }

    /// The period of equal length just before this one.
    pub fn previous(&self) -> Self {
        Self { start: self.start - (self.end - self.start), end: self.start }
    }
}

/// Totals for a period, the whole workspace or one platform.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub published: i64,
    pub failed: i64,
    pub views: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub follower_change: Option<i64>,
    /// (likes + comments) / views, a fraction; missing when views are missing or zero.
    pub engagement_rate: Option<f64>,
}

/// Percent change against the previous period; missing when the previous value is missing or zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    pub published: Option<f64>,
    pub views: Option<f64>,
    pub likes: Option<f64>,
    pub comments: Option<f64>,
    pub shares: Option<f64>,
    pub engagement_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlatformTotals {
    pub platform: Platform,
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopPost {
    pub title: String,
    pub platform: Platform,
    pub account_name: String,
    pub permalink: Option<String>,
    pub views: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
}

/// New views per day and platform over the period, for the chart.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DailyViews {
    /// Start of each day (the period's start plus whole days).
    pub days: Vec<Millis>,
    pub series: Vec<(Platform, Vec<i64>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub workspace: String,
    pub period: Period,
    pub totals: Totals,
    pub previous: Totals,
    pub change: Changes,
    pub platforms: Vec<PlatformTotals>,
    pub top_posts: Vec<TopPost>,
    pub daily_views: DailyViews,
    /// Some of the numbers come from sandbox accounts (a published post or a follower change in the period): they
    /// are simulated, and the report says so in one line (`report.simulated`, "Includes sandbox accounts: their
    /// numbers are simulated"). The line names the simulated part, sandbox accounts, so the same line is true of a
    /// report that mixes real and sandbox accounts and of one with sandbox accounts only; real accounts' numbers
    /// in a mixed report are real. Always false when sandbox mode is off, as sandbox accounts are then left out.
    pub simulated: bool,
}

impl Report {
    /// False when nothing happened and nothing was measured: the "skip when empty" option uses it.
    pub fn has_data(&self) -> bool {
        let t = &self.totals;
        t.published > 0 || t.failed > 0 || t.views.is_some() || t.follower_change.is_some()
    }
}

/// Sum of the values that are present; missing only when none is.
pub fn sum_present(values: impl IntoIterator<Item = Option<i64>>) -> Option<i64> {
    values.into_iter().flatten().fold(None, |acc, v| Some(acc.unwrap_or(0) + v))
}

/// (likes + comments) / views.
pub fn engagement_rate(views: Option<i64>, likes: Option<i64>, comments: Option<i64>) -> Option<f64> {
    let views = views.filter(|v| *v > 0)?;
    let engaged = sum_present([likes, comments])?;
    Some(engaged as f64 / views as f64)
}

/// Percent change from `previous` to `current`.
pub fn percent_change(current: Option<f64>, previous: Option<f64>) -> Option<f64> {
    let previous = previous.filter(|p| *p != 0.0)?;
    Some((current? - previous) / previous * 100.0)
}

struct Computed {
    totals: Totals,
    platforms: Vec<PlatformTotals>,
    posts: Vec<(PublishedTarget, MetricValues)>,
    /// Some post or follower change counted is a sandbox account's.
    simulated: bool,
}

/// Everything a period's numbers are made of, from the accounts `sources` counts.
async fn compute(store: &Store, tenant: TenantId, period: Period, sources: Sources) -> Result<Computed, StoreError> {
    let published = sources.published_targets(store, tenant, period.start, period.end).await?;
    let failed = sources.failed_targets(store, tenant, period.start, period.end).await?;
    let mut latest = store.latest_target_metrics(tenant, period.start, period.end).await?;
    let followers = sources.follower_changes(store, tenant, period.start, period.end).await?;
    let simulated = published.iter().any(|t| t.auth_kind.is_sandbox())
        || followers.iter().any(|f| f.auth_kind.is_sandbox() && f.at_start.is_some() && f.at_end.is_some());
    let posts: Vec<(PublishedTarget, MetricValues)> = published
        .into_iter()
        .map(|t| {
            let m = latest.remove(&t.target_id).unwrap_or_default();
            (t, m)
        })
        .collect();
    let totals_where = |keep: &dyn Fn(Platform) -> bool| {
        let mine: Vec<&MetricValues> = posts.iter().filter(|(t, _)| keep(t.platform)).map(|(_, m)| m).collect();
        let views = sum_present(mine.iter().map(|m| m.views));
        let likes = sum_present(mine.iter().map(|m| m.likes));
        let comments = sum_present(mine.iter().map(|m| m.comments));
        Totals {
            published: mine.len() as i64,
            failed: failed.iter().filter(|f| keep(f.platform)).count() as i64,
            views,
            likes,
            comments,
            shares: sum_present(mine.iter().map(|m| m.shares)),
            follower_change: sum_present(
                followers.iter().filter(|f| keep(f.platform)).map(|f| Some(f.at_end? - f.at_start?)),
            ),
            engagement_rate: engagement_rate(views, likes, comments),
        }
    };
    let totals = totals_where(&|_| true);
    let platforms = Platform::ALL
        .iter()
        .map(|p| PlatformTotals { platform: *p, totals: totals_where(&|q| q == *p) })
        .filter(|p| p.totals != Totals::default())
        .collect();
    Ok(Computed { totals, platforms, posts, simulated })
}

/// Only the workspace totals of a period (what alerts compare), from the accounts `sources` counts.
pub async fn totals(store: &Store, tenant: TenantId, period: Period, sources: Sources) -> Result<Totals, StoreError> {
    Ok(compute(store, tenant, period, sources).await?.totals)
}

/// Computes the report of `period` for a workspace, from the accounts `sources` counts.
#[tracing::instrument(skip(store))]
pub async fn compute_report(
    store: &Store,
    tenant: TenantId,
    period: Period,
    sources: Sources,
) -> Result<Report, StoreError> {
    let workspace = store.tenant(tenant).await?.name;
    let current = compute(store, tenant, period, sources).await?;
    let previous = compute(store, tenant, period.previous(), sources).await?.totals;
    let t = &current.totals;
    let f = |v: Option<i64>| v.map(|v| v as f64);
    let change = Changes {
        published: percent_change(Some(t.published as f64), Some(previous.published as f64)),
        views: percent_change(f(t.views), f(previous.views)),
        likes: percent_change(f(t.likes), f(previous.likes)),
        comments: percent_change(f(t.comments), f(previous.comments)),
        shares: percent_change(f(t.shares), f(previous.shares)),
        engagement_rate: percent_change(t.engagement_rate, previous.engagement_rate),
    };
    let mut ranked: Vec<&(PublishedTarget, MetricValues)> =
        current.posts.iter().filter(|(_, m)| m.views.is_some()).collect();
    ranked.sort_by(|a, b| b.1.views.cmp(&a.1.views).then(a.0.published_at.cmp(&b.0.published_at)));
    let top_posts = ranked
        .into_iter()
        .take(5)
        .map(|(t, m)| TopPost {
            title: t.title.clone(),
            platform: t.platform,
            account_name: t.account_name.clone(),
            permalink: t.permalink.clone(),
            views: m.views,
            likes: m.likes,
            comments: m.comments,
        })
        .collect();
    let daily_views = daily_views(store, tenant, period, &current.posts).await?;
    Ok(Report {
        workspace,
        period,
        totals: current.totals,
        previous,
        change,
        platforms: current.platforms,
        top_posts,
        daily_views,
        simulated: current.simulated,
    })
}

/// New views per day and platform: each target's cumulative views at the end of each day (its latest reading
/// before then), differenced day over day.
async fn daily_views(
    store: &Store,
    tenant: TenantId,
    period: Period,
    posts: &[(PublishedTarget, MetricValues)],
) -> Result<DailyViews, StoreError> {
    let n = ((period.end - period.start + DAY_MS - 1) / DAY_MS).clamp(1, MAX_CHART_DAYS);
    let days: Vec<Millis> = (0..n).map(|i| period.start + i * DAY_MS).collect();
    let platform_of: BTreeMap<TargetId, Platform> = posts.iter().map(|(t, _)| (t.target_id, t.platform)).collect();
    let mut readings: BTreeMap<TargetId, Vec<(Millis, i64)>> = BTreeMap::new();
    for (target, at, values) in store.target_snapshots(tenant, period.start, period.end).await? {
        if let (true, Some(views)) = (platform_of.contains_key(&target), values.views) {
            readings.entry(target).or_default().push((at, views));
        }
    }
    let mut cumulative: std::collections::HashMap<Platform, Vec<i64>> = Default::default();
    for (target, points) in &readings {
        let series = cumulative.entry(platform_of[target]).or_insert_with(|| vec![0; days.len()]);
        for (i, day) in days.iter().enumerate() {
            let day_end = (day + DAY_MS).min(period.end);
            if let Some((_, v)) = points.iter().rev().find(|(at, _)| *at < day_end) {
                series[i] += v;
            }
        }
    }
    let series = Platform::ALL
        .iter()
        .filter_map(|p| cumulative.get(p).map(|c| (*p, c)))
        .map(|(p, c)| {
            let daily = c.iter().enumerate().map(|(i, v)| (v - if i == 0 { 0 } else { c[i - 1] }).max(0)).collect();
            (p, daily)
        })
        .collect();
    Ok(DailyViews { days, series })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_stay_missing_and_present_ones_add_up() {
        assert_eq!(sum_present([None, None]), None);
        assert_eq!(sum_present([None, Some(0)]), Some(0));
        assert_eq!(sum_present([Some(2), None, Some(3)]), Some(5));
    }

    #[test]
    fn engagement_and_change_are_missing_without_a_base() {
        assert_eq!(engagement_rate(Some(200), Some(10), Some(6)), Some(0.08));
        assert_eq!(engagement_rate(Some(0), Some(10), Some(6)), None);
        assert_eq!(engagement_rate(None, Some(10), Some(6)), None);
        assert_eq!(engagement_rate(Some(100), None, None), None);
        assert_eq!(percent_change(Some(118.0), Some(100.0)), Some(18.0));
        assert_eq!(percent_change(Some(5.0), Some(0.0)), None);
        assert_eq!(percent_change(None, Some(3.0)), None);
        let p = Period::new(1000, 3000);
        assert_eq!(p.previous(), Period::new(-1000, 1000));
    }
}
