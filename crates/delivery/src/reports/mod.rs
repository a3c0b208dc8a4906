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

pub mod calendar;
pub(crate) mod canvas;
pub mod chart;
pub mod export;
pub mod heatmap;
pub mod metrics_sync;
pub mod render;

use crate::sources::Sources;
use serde::Serialize;
use tochen_domain::clock::Millis;
use tochen_domain::ids::{AccountId, CampaignId, PostId, TenantId};
use tochen_domain::Platform;
use tochen_store::{FailedTarget, MetricValues, PublishedGroup, PublishedTarget, Store, StoreError, TargetSelection};

pub use tochen_domain::clock::DAY_MS;
/// The chart never has more points than this (a quarter).
const MAX_CHART_DAYS: i64 = 93;

/// A half-open time range `[start, end)` in unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: Millis,
    pub end: Millis,
}

/// The longest period read, in days (about five years): `/stats` and the API refuse a longer one.
pub const MAX_PERIOD_DAYS: i64 = 5 * 366;

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
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub saves: Option<i64>,
    /// Followers at the end of the period, summed over the accounts measured then.
    pub followers: Option<i64>,
    pub follower_change: Option<i64>,
    /// (likes + comments) / views, a fraction; missing when views are missing or zero.
    pub engagement_rate: Option<f64>,
}

/// Percent change against the previous period; missing when the previous value is missing or zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    pub published: Option<f64>,
    pub views: Option<f64>,
    pub reach: Option<f64>,
    pub likes: Option<f64>,
    pub comments: Option<f64>,
    pub shares: Option<f64>,
    pub saves: Option<f64>,
    pub engagement_rate: Option<f64>,
}

/// What a report covers: the whole workspace (report automations), one platform or account (`/stats`), or one
/// campaign's posts (`/stats`, the API). A campaign has no followers of its own: its follower numbers are missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Workspace,
    Platform(Platform),
    Account(AccountId),
    Campaign(CampaignId),
}

impl Scope {
    /// Whether the numbers of an account of `platform` with id `account` are in scope (a campaign's posts are
    /// picked by the store: every account counts, its followers do not, see [`Scope::counts_followers`]).
    pub fn includes(self, platform: Platform, account: AccountId) -> bool {
        match self {
            Scope::Workspace | Scope::Campaign(_) => true,
            Scope::Platform(p) => p == platform,
            Scope::Account(a) => a == account,
        }
    }

    /// Whether a failed target is in scope.
    fn includes_failed(self, f: &FailedTarget) -> bool {
        match self {
            Scope::Campaign(c) => f.campaign_id == Some(c),
            _ => self.includes(f.platform, f.account_id),
        }
    }

    /// Whether an account's followers count in scope: not for a campaign.
    fn counts_followers(self, platform: Platform, account: AccountId) -> bool {
        !matches!(self, Scope::Campaign(_)) && self.includes(platform, account)
    }

    fn campaign(self) -> Option<CampaignId> {
        match self {
            Scope::Campaign(c) => Some(c),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlatformTotals {
    pub platform: Platform,
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopPost {
    pub post_id: PostId,
    pub title: String,
    pub platform: Platform,
    pub account_name: String,
    pub permalink: Option<String>,
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub saves: Option<i64>,
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
    pub scope: Scope,
    pub totals: Totals,
    pub previous: Totals,
    pub change: Changes,
    pub platforms: Vec<PlatformTotals>,
    /// The five posts with the most views, most first.
    pub top_posts: Vec<TopPost>,
    /// Up to five posts with the fewest views, fewest first; never one of `top_posts`.
    pub bottom_posts: Vec<TopPost>,
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
    /// Some post or follower change counted is a sandbox account's.
    simulated: bool,
    /// The most and least viewed publications, as many as asked for.
    top: Vec<(PublishedTarget, MetricValues)>,
    bottom: Vec<(PublishedTarget, MetricValues)>,
}

impl Scope {
    /// The published targets this scope covers of the accounts `sources` counts, for the store's period reads.
    fn selection(self, sources: Sources) -> TargetSelection {
        match self {
            Scope::Workspace => sources.selection(None, None),
            Scope::Platform(p) => sources.selection(Some(p), None),
            Scope::Account(a) => sources.selection(None, Some(a)),
            Scope::Campaign(c) => TargetSelection { campaign: Some(c), ..sources.selection(None, None) },
        }
    }
}

/// Everything a period's totals are made of, from the accounts `sources` counts that are in `scope`, and its
/// `ranked` most and least viewed publications. Publications arrive summed per platform and auth kind
/// (`Store::published_summary`), so what crosses from the database follows the number of platforms, not of posts.
async fn compute(
    store: &Store,
    tenant: TenantId,
    period: Period,
    scope: Scope,
    sources: Sources,
    ranked: i64,
) -> Result<Computed, StoreError> {
    let summary = store.published_summary(tenant, period.start, period.end, &scope.selection(sources), ranked).await?;
    let groups = &summary.groups;
    let mut failed = sources.failed_targets(store, tenant, period.start, period.end).await?;
    failed.retain(|f| scope.includes_failed(f));
    let mut followers = sources.follower_changes(store, tenant, period.start, period.end).await?;
    followers.retain(|f| scope.counts_followers(f.platform, f.account_id));
    let simulated = groups.iter().any(|g| g.auth_kind.is_sandbox() && g.published > 0)
        || followers.iter().any(|f| f.auth_kind.is_sandbox() && f.at_start.is_some() && f.at_end.is_some());
    let totals_where = |keep: &dyn Fn(Platform) -> bool| {
        let mine: Vec<&PublishedGroup> = groups.iter().filter(|g| keep(g.platform)).collect();
        let sum = |f: fn(&MetricValues) -> Option<i64>| sum_present(mine.iter().map(|g| f(&g.values)));
        let (views, likes, comments) = (sum(|m| m.views), sum(|m| m.likes), sum(|m| m.comments));
        let accounts = || followers.iter().filter(|f| keep(f.platform));
        Totals {
            published: mine.iter().map(|g| g.published).sum(),
            failed: failed.iter().filter(|f| keep(f.platform)).count() as i64,
            views,
            reach: sum(|m| m.reach),
            likes,
            comments,
            shares: sum(|m| m.shares),
            saves: sum(|m| m.saves),
            followers: sum_present(accounts().map(|f| f.at_end)),
            follower_change: sum_present(accounts().map(|f| Some(f.at_end? - f.at_start?))),
            engagement_rate: engagement_rate(views, likes, comments),
        }
    };
    let totals = totals_where(&|_| true);
    let platforms = Platform::ALL
        .iter()
        .map(|p| PlatformTotals { platform: *p, totals: totals_where(&|q| q == *p) })
        .filter(|p| p.totals != Totals::default())
        .collect();
    Ok(Computed { totals, platforms, simulated, top: summary.top, bottom: summary.bottom })
}

/// Only the workspace totals of a period (what alerts compare), from the accounts `sources` counts.
pub async fn totals(store: &Store, tenant: TenantId, period: Period, sources: Sources) -> Result<Totals, StoreError> {
    Ok(compute(store, tenant, period, Scope::Workspace, sources, 0).await?.totals)
}

/// Computes the report of `period` for a whole workspace, from the accounts `sources` counts: what report
/// automations send.
pub async fn compute_report(
    store: &Store,
    tenant: TenantId,
    period: Period,
    sources: Sources,
) -> Result<Report, StoreError> {
    compute_scoped(store, tenant, period, Scope::Workspace, sources, true).await
}

fn post_line(t: &PublishedTarget, m: &MetricValues) -> TopPost {
    TopPost {
        post_id: t.post_id,
        title: t.title.clone(),
        platform: t.platform,
        account_name: t.account_name.clone(),
        permalink: t.permalink.clone(),
        views: m.views,
        reach: m.reach,
        likes: m.likes,
        comments: m.comments,
        shares: m.shares,
        saves: m.saves,
    }
}

/// Computes the report of `period` for what `scope` covers, from the accounts `sources` counts: `/stats` and
/// report automations share it, so the same period gives the same numbers in both. The chart's series
/// (`daily_views`, the costliest read: every reading in the period) is left empty unless `chart`; `/stats` reads
/// it with [`daily_views`] only when the chart is asked for.
#[tracing::instrument(skip(store))]
pub async fn compute_scoped(
    store: &Store,
    tenant: TenantId,
    period: Period,
    scope: Scope,
    sources: Sources,
    chart: bool,
) -> Result<Report, StoreError> {
    let workspace = store.tenant(tenant).await?.name;
    let current = compute(store, tenant, period, scope, sources, 5).await?;
    let previous = compute(store, tenant, period.previous(), scope, sources, 0).await?.totals;
    let t = &current.totals;
    let f = |v: Option<i64>| v.map(|v| v as f64);
    let change = Changes {
        published: percent_change(Some(t.published as f64), Some(previous.published as f64)),
        views: percent_change(f(t.views), f(previous.views)),
        reach: percent_change(f(t.reach), f(previous.reach)),
        likes: percent_change(f(t.likes), f(previous.likes)),
        comments: percent_change(f(t.comments), f(previous.comments)),
        shares: percent_change(f(t.shares), f(previous.shares)),
        saves: percent_change(f(t.saves), f(previous.saves)),
        engagement_rate: percent_change(t.engagement_rate, previous.engagement_rate),
    };
    // Ranked by views (the one counter every platform reports), ties by publication time; the bottom five are
    // the end of the same ranking, never one of the top five.
    let top_posts = current.top.iter().map(|(t, m)| post_line(t, m)).collect();
    let bottom_posts = current
        .bottom
        .iter()
        .filter(|(t, _)| !current.top.iter().any(|(s, _)| s.target_id == t.target_id))
        .map(|(t, m)| post_line(t, m))
        .collect();
    let daily_views =
        if chart { daily_views(store, tenant, period, scope, sources).await? } else { DailyViews::default() };
    Ok(Report {
        workspace,
        period,
        scope,
        totals: current.totals,
        previous,
        change,
        platforms: current.platforms,
        top_posts,
        bottom_posts,
        daily_views,
        simulated: current.simulated,
    })
}

/// New views per day and platform of the posts published in the period (`Store::daily_view_additions`): a
/// platform's day is the growth of its posts' cumulative views over that day, never below zero.
pub async fn daily_views(
    store: &Store,
    tenant: TenantId,
    period: Period,
    scope: Scope,
    sources: Sources,
) -> Result<DailyViews, StoreError> {
    let n = ((period.end - period.start + DAY_MS - 1) / DAY_MS).clamp(1, MAX_CHART_DAYS);
    let days: Vec<Millis> = (0..n).map(|i| period.start + i * DAY_MS).collect();
    let mut by_platform: std::collections::HashMap<Platform, Vec<i64>> = Default::default();
    for a in store.daily_view_additions(tenant, period.start, period.end, DAY_MS, n, scope.campaign()).await? {
        if sources.counts(a.auth_kind) && scope.includes(a.platform, a.account_id) {
            if let Some(day) = usize::try_from(a.day).ok().filter(|d| *d < days.len()) {
                by_platform.entry(a.platform).or_insert_with(|| vec![0; days.len()])[day] += a.views;
            }
        }
    }
    let series = Platform::ALL
        .iter()
        .filter_map(|p| by_platform.remove(p).map(|c| (*p, c.into_iter().map(|v| v.max(0)).collect())))
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
