//! Ad numbers as people read them: totals of an ad account over a range of days, its campaigns ranked by a
//! metric, the `/ads` screen's today / yesterday / last 7 days, and the "ads" report automation (period, accounts,
//! level, metric preset; totals, change against the previous period, top and worst campaigns, daily spend and
//! results).
//!
//! Every sum is exact (`Amount` millionths) and taken within ONE ad account, so within one currency; totals across
//! accounts are only ever grouped by currency ([`by_currency`]), never added across currencies. Ratios (CTR, CPC,
//! CPM, cost per result) are computed from the sums, never averaged. A metric no row carried stays missing.

pub mod chart;
pub mod render;

use chrono::{NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tochen_domain::ads::{AdLevel, AdMetrics, Amount, InsightRow};
use tochen_domain::clock::Millis;
use tochen_domain::ids::{AdAccountId, TenantId};
use tochen_store::{AdAccount, Store, StoreError};

/// A metric ads can be ranked and reported by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdMetric {
    Spend,
    Impressions,
    Clicks,
    Ctr,
    Cpc,
    Cpm,
    Results,
    CostPerResult,
}

impl AdMetric {
    pub const ALL: [AdMetric; 8] = [
        Self::Spend,
        Self::Impressions,
        Self::Clicks,
        Self::Ctr,
        Self::Cpc,
        Self::Cpm,
        Self::Results,
        Self::CostPerResult,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spend => "spend",
            Self::Impressions => "impressions",
            Self::Clicks => "clicks",
            Self::Ctr => "ctr",
            Self::Cpc => "cpc",
            Self::Cpm => "cpm",
            Self::Results => "results",
            Self::CostPerResult => "cost_per_result",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether more is better (clicks, CTR, results) or less (costs). Spend counts as "more is better" for
    /// ranking the campaigns that carry the budget.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Self::Spend | Self::Impressions | Self::Clicks | Self::Ctr | Self::Results)
    }

    /// Whether the value is money in the account's currency.
    pub fn is_money(self) -> bool {
        matches!(self, Self::Spend | Self::Cpc | Self::Cpm | Self::CostPerResult)
    }
}

/// Sums of daily rows. `None`: no row carried the metric.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdTotals {
    pub spend: Option<Amount>,
    pub impressions: Option<i64>,
    pub clicks: Option<i64>,
    pub results: Option<Amount>,
    pub result_value: Option<Amount>,
}

fn add_opt<T: Copy>(a: Option<T>, b: Option<T>, f: impl Fn(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(f(x, y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl AdTotals {
    pub fn add(&mut self, m: &AdMetrics) {
        self.spend = add_opt(self.spend, m.spend, Amount::saturating_add);
        self.impressions = add_opt(self.impressions, m.impressions, i64::saturating_add);
        self.clicks = add_opt(self.clicks, m.clicks, i64::saturating_add);
        self.results = add_opt(self.results, m.conversions, Amount::saturating_add);
        self.result_value = add_opt(self.result_value, m.conversion_value, Amount::saturating_add);
    }

    pub fn merge(&mut self, o: &AdTotals) {
        self.spend = add_opt(self.spend, o.spend, Amount::saturating_add);
        self.impressions = add_opt(self.impressions, o.impressions, i64::saturating_add);
        self.clicks = add_opt(self.clicks, o.clicks, i64::saturating_add);
        self.results = add_opt(self.results, o.results, Amount::saturating_add);
        self.result_value = add_opt(self.result_value, o.result_value, Amount::saturating_add);
    }

    pub fn of(rows: &[InsightRow]) -> Self {
        let mut t = Self::default();
        for r in rows {
            t.add(&r.metrics);
        }
        t
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Clicks per impression, in percent.
    pub fn ctr(&self) -> Option<Amount> {
        Amount::from_int(self.clicks?).times(100).ratio(Amount::from_int(self.impressions?))
    }

    pub fn cpc(&self) -> Option<Amount> {
        self.spend?.ratio(Amount::from_int(self.clicks?))
    }

    /// Spend per 1000 impressions.
    pub fn cpm(&self) -> Option<Amount> {
        self.spend?.times(1000).ratio(Amount::from_int(self.impressions?))
    }

    pub fn cost_per_result(&self) -> Option<Amount> {
        self.spend?.ratio(self.results?)
    }

    pub fn metric(&self, m: AdMetric) -> Option<Amount> {
        match m {
            AdMetric::Spend => self.spend,
            AdMetric::Impressions => self.impressions.map(Amount::from_int),
            AdMetric::Clicks => self.clicks.map(Amount::from_int),
            AdMetric::Ctr => self.ctr(),
            AdMetric::Cpc => self.cpc(),
            AdMetric::Cpm => self.cpm(),
            AdMetric::Results => self.results,
            AdMetric::CostPerResult => self.cost_per_result(),
        }
    }
}

/// One campaign's sums over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignLine {
    pub id: String,
    pub name: String,
    pub totals: AdTotals,
}

/// Sums campaign-level rows per campaign (the latest name wins).
pub fn campaign_lines(rows: &[InsightRow]) -> Vec<CampaignLine> {
    let mut by: BTreeMap<String, CampaignLine> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.level == AdLevel::Campaign) {
        let line = by.entry(r.object_id.clone()).or_insert_with(|| CampaignLine {
            id: r.object_id.clone(),
            name: r.object_id.clone(),
            totals: AdTotals::default(),
        });
        if let Some(n) = r.object_name.as_deref().filter(|n| !n.is_empty()) {
            line.name = n.to_string();
        }
        line.totals.add(&r.metrics);
    }
    by.into_values().collect()
}

/// The campaigns that spent, best first by `metric` (campaigns without a value for it last, by spend).
pub fn ranked(lines: &[CampaignLine], metric: AdMetric) -> Vec<CampaignLine> {
    let mut v: Vec<CampaignLine> = lines.iter().filter(|l| l.totals.spend.is_some_and(|s| s.0 > 0)).cloned().collect();
    v.sort_by(|a, b| {
        let (x, y) = (a.totals.metric(metric), b.totals.metric(metric));
        match (x, y) {
            (Some(x), Some(y)) if metric.higher_is_better() => y.cmp(&x),
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => b.totals.spend.cmp(&a.totals.spend),
        }
        .then_with(|| a.name.cmp(&b.name))
    });
    v
}

/// Worst performers first: campaigns that spent without any result (most spend first), then by cost per result,
/// highest first; campaigns that spent nothing are left out.
pub fn worst_first(lines: &[CampaignLine]) -> Vec<CampaignLine> {
    let mut v: Vec<CampaignLine> = lines.iter().filter(|l| l.totals.spend.is_some_and(|s| s.0 > 0)).cloned().collect();
    v.sort_by(|a, b| {
        let key = |l: &CampaignLine| match l.totals.cost_per_result() {
            None => (0, std::cmp::Reverse(l.totals.spend.unwrap_or_default())),
            Some(c) => (1, std::cmp::Reverse(c)),
        };
        key(a).cmp(&key(b)).then_with(|| a.name.cmp(&b.name))
    });
    v
}

/// The day `at` falls on in the account's zone.
pub fn day_in(account: &AdAccount, at: Millis) -> NaiveDate {
    let zone: chrono_tz::Tz = account.zone.parse().unwrap_or(chrono_tz::UTC);
    Utc.timestamp_millis_opt(at).single().unwrap_or_else(Utc::now).with_timezone(&zone).date_naive()
}

/// `days` days ending with `last` (inclusive).
pub fn days_ending(last: NaiveDate, days: i64) -> (NaiveDate, NaiveDate) {
    let back = chrono::Days::new(days.clamp(1, 366) as u64 - 1);
    (last.checked_sub_days(back).unwrap_or(last), last)
}

/// The `/ads` screen's numbers of one ad account: today, yesterday and the last 7 days (today included), in the
/// account's own zone and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountGlance {
    pub account: AdAccount,
    pub today: AdTotals,
    pub yesterday: AdTotals,
    pub week: AdTotals,
}

pub async fn glance(store: &Store, account: &AdAccount, now: Millis) -> Result<AccountGlance, StoreError> {
    let today = day_in(account, now);
    let week = days_ending(today, 7);
    let rows = store.ad_insights(account.tenant_id, account.id, AdLevel::Account, week).await?;
    let on = |d: NaiveDate| AdTotals::of(&rows.iter().filter(|r| r.day == d).cloned().collect::<Vec<_>>());
    let yesterday = today.pred_opt().unwrap_or(today);
    Ok(AccountGlance {
        account: account.clone(),
        today: on(today),
        yesterday: on(yesterday),
        week: AdTotals::of(&rows),
    })
}

/// One ad account's campaigns over the last 7 days, worst first.
pub async fn campaigns_worst_first(
    store: &Store,
    account: &AdAccount,
    now: Millis,
) -> Result<Vec<CampaignLine>, StoreError> {
    let range = days_ending(day_in(account, now), 7);
    let rows = store.ad_insights(account.tenant_id, account.id, AdLevel::Campaign, range).await?;
    Ok(worst_first(&campaign_lines(&rows)))
}

/// Which numbers an ads report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdPreset {
    /// Spend, impressions, clicks, CTR, CPC, CPM, results.
    Performance,
    /// Spend, results, cost per result, result value.
    Conversions,
    /// Spend, clicks, CTR, CPC.
    Traffic,
}

impl AdPreset {
    pub const ALL: [AdPreset; 3] = [Self::Performance, Self::Conversions, Self::Traffic];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Performance => "performance",
            Self::Conversions => "conversions",
            Self::Traffic => "traffic",
        }
    }

    pub fn metrics(self) -> &'static [AdMetric] {
        match self {
            Self::Performance => &[
                AdMetric::Spend,
                AdMetric::Impressions,
                AdMetric::Clicks,
                AdMetric::Ctr,
                AdMetric::Cpc,
                AdMetric::Cpm,
                AdMetric::Results,
            ],
            Self::Conversions => &[AdMetric::Spend, AdMetric::Results, AdMetric::CostPerResult],
            Self::Traffic => &[AdMetric::Spend, AdMetric::Clicks, AdMetric::Ctr, AdMetric::Cpc],
        }
    }
}

/// Whether an ads report ranks campaigns or only shows account totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportLevel {
    Account,
    Campaign,
}

/// The options of an "ads" report automation (its `config` JSON); every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdsReportConfig {
    /// Whole days before the run's day (in each account's zone).
    pub period_days: i64,
    /// The ad accounts reported on; empty: every ad account of the workspace.
    pub accounts: Vec<AdAccountId>,
    pub level: ReportLevel,
    pub preset: AdPreset,
    /// What "top" and "worst" campaigns are ranked by.
    pub rank_by: AdMetric,
    /// How many top and worst campaigns to show.
    pub top: usize,
    pub skip_when_empty: bool,
}

impl Default for AdsReportConfig {
    fn default() -> Self {
        Self {
            period_days: 7,
            accounts: Vec::new(),
            level: ReportLevel::Campaign,
            preset: AdPreset::Performance,
            rank_by: AdMetric::CostPerResult,
            top: 3,
            skip_when_empty: false,
        }
    }
}

/// One ad account's part of an ads report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountReport {
    pub account: AdAccount,
    pub range: (NaiveDate, NaiveDate),
    pub totals: AdTotals,
    pub previous: AdTotals,
    /// Each day of the range with its sums (days without delivery have empty sums).
    pub daily: Vec<(NaiveDate, AdTotals)>,
    pub top: Vec<CampaignLine>,
    pub worst: Vec<CampaignLine>,
}

/// A whole ads report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdsReport {
    pub workspace: String,
    pub config: AdsReportConfig,
    pub accounts: Vec<AccountReport>,
}

impl AdsReport {
    pub fn has_data(&self) -> bool {
        self.accounts.iter().any(|a| !a.totals.is_empty())
    }

    /// The report's totals per currency: accounts in the same currency are added; different currencies never.
    pub fn by_currency(&self) -> Vec<(String, AdTotals, usize)> {
        by_currency(self.accounts.iter().map(|a| (a.account.currency.as_str(), &a.totals)))
    }
}

/// Sums per currency (sorted by currency), with how many accounts each has.
pub fn by_currency<'a>(items: impl Iterator<Item = (&'a str, &'a AdTotals)>) -> Vec<(String, AdTotals, usize)> {
    let mut m: BTreeMap<String, (AdTotals, usize)> = BTreeMap::new();
    for (cur, t) in items {
        let e = m.entry(cur.to_string()).or_default();
        e.0.merge(t);
        e.1 += 1;
    }
    m.into_iter().map(|(c, (t, n))| (c, t, n)).collect()
}

/// Computes the ads report for the slot at `slot_at`: for each chosen account, the `period_days` whole days before
/// the slot's day in the account's zone, and the same number of days before that.
pub async fn compute(
    store: &Store,
    tenant: TenantId,
    config: &AdsReportConfig,
    slot_at: Millis,
) -> Result<AdsReport, StoreError> {
    let workspace = store.tenant(tenant).await?.name;
    let mut accounts = store.ad_accounts(tenant).await?;
    if !config.accounts.is_empty() {
        accounts.retain(|a| config.accounts.contains(&a.id));
    }
    let days = config.period_days.clamp(1, 366);
    let mut out = Vec::new();
    for account in accounts {
        let last = day_in(&account, slot_at).pred_opt().unwrap_or(NaiveDate::MIN);
        let range = days_ending(last, days);
        let prev_last = range.0.pred_opt().unwrap_or(range.0);
        let previous_range = days_ending(prev_last, days);
        let rows = store.ad_insights(tenant, account.id, AdLevel::Account, range).await?;
        let prev_rows = store.ad_insights(tenant, account.id, AdLevel::Account, previous_range).await?;
        let mut daily = Vec::new();
        let mut d = range.0;
        while d <= range.1 {
            daily.push((d, AdTotals::of(&rows.iter().filter(|r| r.day == d).cloned().collect::<Vec<_>>())));
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
        let (top, worst) = if config.level == ReportLevel::Campaign {
            let lines = campaign_lines(&store.ad_insights(tenant, account.id, AdLevel::Campaign, range).await?);
            let best = ranked(&lines, config.rank_by);
            let n = config.top.clamp(1, 10);
            let top: Vec<CampaignLine> = best.iter().take(n).cloned().collect();
            let worst: Vec<CampaignLine> = best.iter().rev().filter(|l| !top.contains(l)).take(n).cloned().collect();
            (top, worst)
        } else {
            (Vec::new(), Vec::new())
        };
        out.push(AccountReport {
            account,
            range,
            totals: AdTotals::of(&rows),
            previous: AdTotals::of(&prev_rows),
            daily,
            top,
            worst,
        });
    }
    Ok(AdsReport { workspace, config: config.clone(), accounts: out })
}

/// Percent change from `before` to `now`; `None` without a base.
pub fn change_pct(now: Option<Amount>, before: Option<Amount>) -> Option<f64> {
    let (n, b) = (now?.0 as f64, before?.0 as f64);
    (b != 0.0).then(|| (n - b) / b * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(spend: &str, impressions: i64, clicks: i64, results: Option<&str>) -> AdMetrics {
        AdMetrics {
            spend: Some(Amount::parse(spend).unwrap()),
            impressions: Some(impressions),
            clicks: Some(clicks),
            conversions: results.map(|r| Amount::parse(r).unwrap()),
            ..Default::default()
        }
    }

    #[test]
    fn ratios_come_from_the_sums_and_missing_stays_missing() {
        let mut t = AdTotals::default();
        t.add(&m("10.00", 1000, 10, None));
        t.add(&m("20.00", 3000, 50, Some("3")));
        assert_eq!(t.spend, Some(Amount::parse("30").unwrap()));
        assert_eq!(t.ctr(), Some(Amount::parse("1.5").unwrap()));
        assert_eq!(t.cpc(), Some(Amount::parse("0.5").unwrap()));
        assert_eq!(t.cpm(), Some(Amount::parse("7.5").unwrap()));
        assert_eq!(t.cost_per_result(), Some(Amount::parse("10").unwrap()));
        let none = AdTotals::of(&[]);
        assert_eq!((none.spend, none.ctr(), none.cost_per_result()), (None, None, None));
    }

    #[test]
    fn worst_campaigns_are_the_ones_that_spent_without_results_then_the_dearest() {
        let line = |id: &str, spend: &str, results: Option<&str>| {
            let mut totals = AdTotals::default();
            totals.add(&m(spend, 100, 1, results));
            CampaignLine { id: id.into(), name: id.into(), totals }
        };
        let lines = vec![
            line("cheap", "10", Some("10")),
            line("dear", "50", Some("1")),
            line("nothing-small", "5", None),
            line("nothing-big", "40", None),
            line("idle", "0", None),
        ];
        let order: Vec<String> = worst_first(&lines).into_iter().map(|l| l.id).collect();
        assert_eq!(order, ["nothing-big", "nothing-small", "dear", "cheap"]);
        let best: Vec<String> = ranked(&lines, AdMetric::CostPerResult).into_iter().map(|l| l.id).collect();
        assert_eq!(best, ["cheap", "dear", "nothing-big", "nothing-small"]);
    }

    #[test]
    fn currencies_are_grouped_never_added_together() {
        let mut eur = AdTotals::default();
        eur.add(&m("10", 1, 1, None));
        let mut usd = AdTotals::default();
        usd.add(&m("7", 1, 1, None));
        let g = by_currency([("EUR", &eur), ("USD", &usd), ("EUR", &eur)].into_iter());
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].0.as_str(), g[0].1.spend, g[0].2), ("EUR", Some(Amount::parse("20").unwrap()), 2));
        assert_eq!((g[1].0.as_str(), g[1].1.spend), ("USD", Some(Amount::parse("7").unwrap())));
    }
}
