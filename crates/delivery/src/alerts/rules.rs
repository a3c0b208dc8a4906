//! What each alert rule observes, and the localized messages for its announcements.
//!
//! Observers read the store only. Rules about a list of things (failed targets, accounts, followers per account)
//! return one observation per thing; a rule that has no data returns nothing, so an unknown is never read as
//! "fine" or "broken". Only the accounts [`Sources`] counts are observed: with sandbox mode off, sandbox accounts'
//! failures, followers, tokens and engagement are not looked at. (A failure of a sandbox post that was already
//! firing when sandbox mode was switched off stays as it was: nothing is announced about it either way.)

use super::{AlertConfig, AlertEvent, AlertRule, Observation};
use crate::reports::{totals, Period, DAY_MS};
use crate::sources::Sources;
use serde_json::json;
use tochen_domain::clock::Millis;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::ids::{TargetId, TenantId};
use tochen_domain::{AccountStatus, Platform, TargetStatus};
use tochen_store::{Store, StoreError};

/// What a rule found.
pub struct Found {
    pub observations: Vec<Observation>,
    /// True when the observations list every subject the rule watches, so a firing subject missing from them has
    /// cleared.
    pub complete: bool,
}

const PUBLISH_LOOKBACK_MS: Millis = 7 * DAY_MS;
const WEEK: Millis = 7 * DAY_MS;

fn firing(rule: AlertRule, subject: impl Into<String>, firing: bool, details: serde_json::Value) -> Observation {
    Observation { rule, subject: subject.into(), firing, details }
}

pub async fn observe(
    store: &Store,
    tenant: TenantId,
    rule: AlertRule,
    c: &AlertConfig,
    sources: Sources,
    now: Millis,
) -> Result<Found, StoreError> {
    if let Some(found) = super::ads::observe(store, tenant, rule, c, now).await? {
        return Ok(found);
    }
    let mut out = Vec::new();
    let complete = match rule {
        AlertRule::PublishFailed => {
            for f in sources.failed_targets(store, tenant, now - PUBLISH_LOOKBACK_MS, now + 1).await? {
                let details = json!({"title": f.title, "platform": f.platform, "status": f.status,
                    "error": f.error_message, "account": f.account_name});
                out.push(firing(rule, f.target_id.to_db(), true, details));
            }
            // Older failures that are still failed stay firing; the rest (retried, confirmed, deleted) clear.
            for s in store.alert_states(tenant).await? {
                if s.rule != rule.as_str() || !s.firing || out.iter().any(|o| o.subject == s.subject) {
                    continue;
                }
                let still = match TargetId::parse(&s.subject) {
                    Some(id) => match store.target(tenant, id).await {
                        Ok(t) => matches!(t.status, TargetStatus::Failed | TargetStatus::Unknown),
                        Err(StoreError::NotFound(_)) => false,
                        Err(e) => return Err(e),
                    },
                    None => false,
                };
                out.push(firing(rule, s.subject, still, serde_json::from_str(&s.details).unwrap_or_default()));
            }
            true
        }
        AlertRule::AccountReconnect => {
            let soon = now + c.token_expiry_days * DAY_MS;
            for a in sources.accounts(store, tenant).await? {
                let expiring = a.token_expires_at.filter(|e| *e <= soon);
                let fire = a.status == AccountStatus::NeedsReconnect || expiring.is_some();
                let details = json!({"name": a.name, "platform": a.platform, "expires_at": expiring,
                    "needs_reconnect": a.status == AccountStatus::NeedsReconnect});
                out.push(firing(rule, a.id.to_db(), fire, details));
            }
            true
        }
        AlertRule::EngagementDrop => {
            let current = totals(store, tenant, Period::new(now - WEEK, now), sources).await?.engagement_rate;
            let mut earlier = Vec::new();
            for w in 1..=c.trailing_weeks.max(1) {
                let end = now - w * WEEK;
                if let Some(r) = totals(store, tenant, Period::new(end - WEEK, end), sources).await?.engagement_rate {
                    earlier.push(r);
                }
            }
            if let (Some(cur), false) = (current, earlier.is_empty()) {
                let avg = earlier.iter().sum::<f64>() / earlier.len() as f64;
                let drop = if avg > 0.0 { (avg - cur) / avg * 100.0 } else { 0.0 };
                let details = json!({"current": cur, "average": avg, "drop_percent": drop});
                out.push(firing(rule, "workspace", drop > c.engagement_drop_percent, details));
            }
            false
        }
        AlertRule::FollowersDropped => {
            let names: std::collections::HashMap<_, _> =
                store.accounts(tenant).await?.into_iter().map(|a| (a.id, a.name)).collect();
            for f in sources.follower_changes(store, tenant, now - WEEK, now).await? {
                if let (Some(start), Some(end)) = (f.at_start, f.at_end) {
                    let details = json!({"name": names.get(&f.account_id), "platform": f.platform,
                        "from": start, "to": end});
                    out.push(firing(rule, f.account_id.to_db(), end < start, details));
                }
            }
            false
        }
        AlertRule::LlmQuota => {
            let tenant_row = store.tenant(tenant).await?;
            let quota = tenant_row.llm_monthly_token_quota;
            if quota > 0 {
                let since = tochen_domain::clock::month_start_ms(&tenant_row.profile.timezone, now);
                let used = store.llm_usage_since(tenant, since).await?.tokens;
                let percent = used as f64 / quota as f64 * 100.0;
                let details = json!({"used": used, "quota": quota, "percent": percent});
                out.push(firing(rule, "workspace", percent > c.llm_quota_percent, details));
            }
            false
        }
        // Observed by `super::ads` above.
        AlertRule::AdDailySpend
        | AlertRule::AdBudgetPacing
        | AlertRule::AdCpcHigh
        | AlertRule::AdCpmHigh
        | AlertRule::AdCtrLow
        | AlertRule::AdZeroImpressions
        | AlertRule::AdAccountProblem => false,
        AlertRule::SchedulerStale => {
            if let Some(beat) = store.last_scheduler_beat().await? {
                let stale = now - beat > c.heartbeat_stale_minutes * 60_000;
                let details = json!({"last_beat_at": beat, "minutes": (now - beat) / 60_000});
                out.push(firing(rule, "scheduler", stale, details));
            }
            false
        }
    };
    Ok(Found { observations: out, complete })
}

fn text(v: &serde_json::Value, key: &str) -> String {
    escape_html(v.get(key).and_then(|x| x.as_str()).unwrap_or_default())
}

fn platform(v: &serde_json::Value) -> String {
    let raw = v.get("platform").and_then(|p| p.as_str()).unwrap_or_default();
    match Platform::parse(raw) {
        Some(p) => p.name().into(),
        None => escape_html(raw),
    }
}

fn num(v: &serde_json::Value, key: &str) -> f64 {
    v.get(key).and_then(|x| x.as_f64()).unwrap_or_default()
}

/// The Telegram HTML of an announcement, in `lang`; dates in `tz`.
pub fn message(e: &AlertEvent, lang: &str, tz: chrono_tz::Tz) -> String {
    if let Some(m) = super::ads::message(e, lang) {
        return m;
    }
    let d = &e.details;
    let p = platform(d);
    match (e.rule, e.resolved) {
        (AlertRule::PublishFailed, false) => {
            let reason =
                d.get("error").and_then(|x| x.as_str()).map(escape_html).unwrap_or_else(|| t(lang, "report.missing"));
            tf(
                lang,
                "delivery.alert_publish_failed",
                &[("title", &text(d, "title")), ("platform", &p), ("reason", &reason)],
            )
        }
        (AlertRule::PublishFailed, true) => {
            tf(lang, "delivery.alert_publish_failed_resolved", &[("title", &text(d, "title")), ("platform", &p)])
        }
        (AlertRule::AccountReconnect, false) => match d.get("expires_at").and_then(|x| x.as_i64()) {
            Some(at) if !d["needs_reconnect"].as_bool().unwrap_or(false) => {
                let date =
                    tochen_domain::clock::to_datetime(at).with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string();
                tf(
                    lang,
                    "delivery.alert_account_expiring",
                    &[("name", &text(d, "name")), ("platform", &p), ("date", &date)],
                )
            }
            _ => tf(lang, "delivery.alert_account_reconnect", &[("name", &text(d, "name")), ("platform", &p)]),
        },
        (AlertRule::AccountReconnect, true) => {
            tf(lang, "delivery.alert_account_resolved", &[("name", &text(d, "name")), ("platform", &p)])
        }
        (AlertRule::EngagementDrop, false) => tf(
            lang,
            "delivery.alert_engagement_drop",
            &[
                ("current", &format!("{:.1}%", num(d, "current") * 100.0)),
                ("average", &format!("{:.1}%", num(d, "average") * 100.0)),
                ("drop", &format!("{:.0}", num(d, "drop_percent"))),
            ],
        ),
        (AlertRule::EngagementDrop, true) => t(lang, "delivery.alert_engagement_resolved"),
        (AlertRule::FollowersDropped, false) => tf(
            lang,
            "delivery.alert_followers_dropped",
            &[("name", &text(d, "name")), ("platform", &p), ("lost", &(num(d, "from") - num(d, "to")))],
        ),
        (AlertRule::FollowersDropped, true) => {
            tf(lang, "delivery.alert_followers_resolved", &[("name", &text(d, "name")), ("platform", &p)])
        }
        (AlertRule::LlmQuota, false) => {
            tf(lang, "delivery.alert_llm_quota", &[("percent", &format!("{:.0}", num(d, "percent")))])
        }
        (AlertRule::LlmQuota, true) => t(lang, "delivery.alert_llm_quota_resolved"),
        (AlertRule::SchedulerStale, false) => {
            tf(lang, "delivery.alert_scheduler_stale", &[("minutes", &num(d, "minutes"))])
        }
        (AlertRule::SchedulerStale, true) => t(lang, "delivery.alert_scheduler_resolved"),
        // Worded by `super::ads::message` above.
        (
            AlertRule::AdDailySpend
            | AlertRule::AdBudgetPacing
            | AlertRule::AdCpcHigh
            | AlertRule::AdCpmHigh
            | AlertRule::AdCtrLow
            | AlertRule::AdZeroImpressions
            | AlertRule::AdAccountProblem,
            _,
        ) => String::new(),
    }
}
