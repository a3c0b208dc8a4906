//! The ad alert rules: daily spend above an amount, monthly budget pacing, CPC or CPM above, CTR below, zero
//! impressions on an active campaign for N hours, and an ad account disabled or with a payment problem.
//!
//! Each rule looks at every ad account of the workspace on its own, in the account's zone (its days) and currency
//! (thresholds are compared with the account's own numbers; a threshold is never converted). Subjects are
//! `ad:<ad account>` (and `ad:<ad account>:<campaign>` for a campaign). Numbers come from the synced daily
//! insights: a day the sync has not read yet is not judged (missing is not zero), so the day-based rules observe
//! an account only when its insights reach the day they judge. "Active campaign" means a campaign that delivered
//! (impressions) in the 7 days before the window; campaign statuses are not read from the platforms.

use super::rules::Found;
use super::{AlertConfig, AlertEvent, AlertRule, Observation};
use crate::ads_report::render::{format_amount, platform_name};
use crate::ads_report::{campaign_lines, day_in, days_ending, AdTotals};
use chrono::{Datelike, NaiveDate};
use serde_json::json;
use tochen_domain::ads::{AdLevel, Amount};
use tochen_domain::clock::Millis;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_domain::ids::TenantId;
use tochen_store::{AdAccount, Store, StoreError};

fn threshold(x: Option<f64>) -> Option<Amount> {
    x.filter(|v| v.is_finite() && *v >= 0.0).and_then(|v| Amount::parse(&format!("{v}")).ok())
}

fn subject(a: &AdAccount) -> String {
    format!("ad:{}", a.id.to_db())
}

fn base(a: &AdAccount) -> serde_json::Value {
    json!({"account": a.name, "platform": a.platform.as_str(), "currency": a.currency})
}

fn with(mut v: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in e {
            m.insert(k.clone(), x.clone());
        }
    }
    v
}

/// Whether the account's insights have been read through `day`.
fn read_through(a: &AdAccount, day: NaiveDate) -> bool {
    a.synced_through.is_some_and(|s| s >= day)
}

fn day_totals(rows: &[tochen_domain::ads::InsightRow], d: NaiveDate) -> AdTotals {
    AdTotals::of(&rows.iter().filter(|r| r.day == d).cloned().collect::<Vec<_>>())
}

/// Observes an ad rule; `None` for the other rules.
pub async fn observe(
    store: &Store,
    tenant: TenantId,
    rule: AlertRule,
    c: &AlertConfig,
    now: Millis,
) -> Result<Option<Found>, StoreError> {
    let limit = match rule {
        AlertRule::AdDailySpend => threshold(c.ad_daily_spend_above),
        AlertRule::AdBudgetPacing => threshold(c.ad_monthly_budget),
        AlertRule::AdCpcHigh => threshold(c.ad_cpc_above),
        AlertRule::AdCpmHigh => threshold(c.ad_cpm_above),
        AlertRule::AdCtrLow => threshold(c.ad_ctr_below),
        AlertRule::AdZeroImpressions => c.ad_zero_impressions_hours.filter(|h| *h > 0).map(Amount::from_int),
        AlertRule::AdAccountProblem => Some(Amount::ZERO),
        _ => return Ok(None),
    };
    let Some(limit) = limit else {
        return Ok(Some(Found { observations: Vec::new(), complete: false }));
    };
    let mut out = Vec::new();
    for a in store.ad_accounts(tenant).await? {
        let today = day_in(&a, now);
        let yesterday = today.pred_opt().unwrap_or(today);
        let fire = |firing: bool, details: serde_json::Value| Observation {
            rule,
            subject: subject(&a),
            firing,
            details: with(base(&a), details),
        };
        match rule {
            AlertRule::AdAccountProblem => {
                let active = tochen_platforms::ads::status_is_active(a.platform, &a.status);
                let details = json!({"status": a.status, "disable_reason": a.disable_reason,
                    "needs_reconnect": !a.is_valid});
                out.push(fire(!active || !a.is_valid, details));
            }
            AlertRule::AdDailySpend => {
                if !read_through(&a, today) {
                    continue;
                }
                let rows = store.ad_insights(tenant, a.id, AdLevel::Account, (today, today)).await?;
                let spend = day_totals(&rows, today).spend.unwrap_or(Amount::ZERO);
                out.push(fire(spend > limit, json!({"value": spend.to_string(), "limit": limit.to_string()})));
            }
            AlertRule::AdBudgetPacing => {
                if !read_through(&a, today) {
                    continue;
                }
                let first = today.with_day(1).unwrap_or(today);
                let rows = store.ad_insights(tenant, a.id, AdLevel::Account, (first, today)).await?;
                let spend = AdTotals::of(&rows).spend.unwrap_or(Amount::ZERO);
                let elapsed = i64::from(today.day());
                let next_month = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
                let month_days = (next_month - first).num_days().max(1);
                let projected = spend.times(month_days).ratio(Amount::from_int(elapsed)).unwrap_or(spend);
                let tolerance = Amount::parse(&format!("{}", c.ad_pacing_tolerance_percent.clamp(0.0, 1000.0)))
                    .unwrap_or(Amount::ZERO);
                // budget x (100 + tolerance) / 100, exactly.
                let scaled = i128::from(limit.0) * (100_000_000 + i128::from(tolerance.0)) / 100_000_000;
                let allowed = Amount(i64::try_from(scaled).unwrap_or(i64::MAX));
                let details = json!({"value": spend.to_string(), "projected": projected.to_string(),
                    "limit": limit.to_string()});
                out.push(fire(projected > allowed, details));
            }
            AlertRule::AdCpcHigh | AlertRule::AdCpmHigh | AlertRule::AdCtrLow => {
                if !read_through(&a, yesterday) {
                    continue;
                }
                let rows = store.ad_insights(tenant, a.id, AdLevel::Account, (yesterday, yesterday)).await?;
                let t = day_totals(&rows, yesterday);
                let (value, firing) = match rule {
                    AlertRule::AdCpcHigh => (t.cpc(), t.cpc().map(|v| v > limit)),
                    AlertRule::AdCpmHigh => (t.cpm(), t.cpm().map(|v| v > limit)),
                    _ => {
                        let enough = t.impressions.is_some_and(|i| i >= c.ad_min_impressions.max(1));
                        (t.ctr(), t.ctr().filter(|_| enough).map(|v| v < limit))
                    }
                };
                // No clicks or impressions yesterday: nothing to judge.
                if let (Some(v), Some(f)) = (value, firing) {
                    let details =
                        json!({"value": v.to_string(), "limit": limit.to_string(), "day": yesterday.to_string()});
                    out.push(fire(f, details));
                }
            }
            AlertRule::AdZeroImpressions => {
                if !read_through(&a, today) {
                    continue;
                }
                let hours = limit.whole();
                let start = day_in(&a, now - hours * 3_600_000);
                let window = (start, today);
                let before = days_ending(start.pred_opt().unwrap_or(start), 7);
                let earlier = campaign_lines(&store.ad_insights(tenant, a.id, AdLevel::Campaign, before).await?);
                let recent = campaign_lines(&store.ad_insights(tenant, a.id, AdLevel::Campaign, window).await?);
                for l in earlier.iter().filter(|l| l.totals.impressions.unwrap_or(0) > 0) {
                    let now_impr = recent.iter().find(|r| r.id == l.id).and_then(|r| r.totals.impressions).unwrap_or(0);
                    out.push(Observation {
                        rule,
                        subject: format!("{}:{}", subject(&a), l.id),
                        firing: now_impr == 0,
                        details: with(base(&a), json!({"campaign": l.name, "hours": hours})),
                    });
                }
            }
            _ => {}
        }
    }
    // Only the account problem rule lists every subject it watches.
    Ok(Some(Found { observations: out, complete: rule == AlertRule::AdAccountProblem }))
}

fn s(v: &serde_json::Value, k: &str) -> String {
    escape_html(v.get(k).and_then(|x| x.as_str()).unwrap_or_default())
}

fn money(v: &serde_json::Value, k: &str, lang: &str) -> String {
    let a = v.get(k).and_then(|x| x.as_str()).and_then(|x| Amount::parse(x).ok()).unwrap_or_default();
    format!("{} {}", format_amount(a, 2, lang), s(v, "currency"))
}

fn pct(v: &serde_json::Value, k: &str, lang: &str) -> String {
    let a = v.get(k).and_then(|x| x.as_str()).and_then(|x| Amount::parse(x).ok()).unwrap_or_default();
    format!("{}%", format_amount(a, 2, lang))
}

/// The Telegram HTML of an ad alert's announcement; `None` for the other rules.
pub fn message(e: &AlertEvent, lang: &str) -> Option<String> {
    let d = &e.details;
    let platform = tochen_domain::ads::AdPlatform::parse(d.get("platform").and_then(|p| p.as_str()).unwrap_or(""))
        .map(platform_name)
        .unwrap_or_default();
    let account = s(d, "account");
    let key = format!("ads.alert_{}{}", e.rule.as_str(), if e.resolved { "_resolved" } else { "" });
    let args: Vec<(&str, String)> = match e.rule {
        AlertRule::AdDailySpend => vec![("value", money(d, "value", lang)), ("limit", money(d, "limit", lang))],
        AlertRule::AdBudgetPacing => vec![
            ("value", money(d, "value", lang)),
            ("projected", money(d, "projected", lang)),
            ("limit", money(d, "limit", lang)),
        ],
        AlertRule::AdCpcHigh | AlertRule::AdCpmHigh => {
            vec![("value", money(d, "value", lang)), ("limit", money(d, "limit", lang))]
        }
        AlertRule::AdCtrLow => vec![("value", pct(d, "value", lang)), ("limit", pct(d, "limit", lang))],
        AlertRule::AdZeroImpressions => vec![
            ("campaign", s(d, "campaign")),
            ("hours", d.get("hours").and_then(|h| h.as_i64()).unwrap_or(0).to_string()),
        ],
        AlertRule::AdAccountProblem => {
            let status = if d["needs_reconnect"].as_bool().unwrap_or(false) {
                tochen_domain::i18n::t(lang, "ads.needs_reconnect")
            } else {
                let mut st = s(d, "status");
                if let Some(r) = d.get("disable_reason").and_then(|r| r.as_i64()).filter(|r| *r != 0) {
                    st = format!("{st}/{r}");
                }
                st
            };
            vec![("status", status)]
        }
        _ => return None,
    };
    let mut all: Vec<(&str, &dyn std::fmt::Display)> = vec![("account", &account), ("platform", &platform)];
    for (k, v) in &args {
        all.push((k, v));
    }
    Some(tf(lang, &key, &all))
}
