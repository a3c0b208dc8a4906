//! Alerts: rules evaluated on a schedule that tell a team when something needs attention, once, and tell them
//! again when it is over.
//!
//! Each evaluation observes every enabled rule (`rules`), then for each (rule, subject) a pure decision
//! ([`decide`]) compares the observation with the stored state:
//! - it starts firing: announce it, unless the last announcement of the same alert is younger than the cooldown
//!   (a flapping alert is announced at most once per cooldown; if it is still firing when the cooldown ends, it is
//!   announced then);
//! - it keeps firing: stay quiet (an alert is not repeated while it persists);
//! - it clears: announce "resolved" if its firing was announced, else clear silently.
//!
//! A rule that cannot tell (no data) observes nothing and the state stays as it was. Rules observe only the
//! accounts the given [`Sources`] counts (no sandbox accounts when sandbox mode is off).

pub mod ads;
pub mod rules;

use crate::sources::Sources;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use tochen_domain::clock::Millis;
use tochen_domain::ids::TenantId;
use tochen_store::{AlertState, Store, StoreError};

/// The rule kinds, stored as text in `alert_states.rule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertRule {
    PublishFailed,
    AccountReconnect,
    EngagementDrop,
    FollowersDropped,
    LlmQuota,
    SchedulerStale,
    /// An ad account spent more than `ad_daily_spend_above` today (its own currency).
    AdDailySpend,
    /// This month's ad spend, extrapolated to the month's end, exceeds `ad_monthly_budget`.
    AdBudgetPacing,
    /// Yesterday's CPC above `ad_cpc_above`.
    AdCpcHigh,
    /// Yesterday's CPM above `ad_cpm_above`.
    AdCpmHigh,
    /// Yesterday's CTR (percent) below `ad_ctr_below`.
    AdCtrLow,
    /// A campaign that delivered in the week before has had no impressions for `ad_zero_impressions_hours`.
    AdZeroImpressions,
    /// An ad account is disabled, unsettled or otherwise not active (Meta `account_status`/`disable_reason`, TikTok
    /// status), or its token was refused.
    AdAccountProblem,
}

impl AlertRule {
    pub const ALL: &'static [AlertRule] = &[
        Self::PublishFailed,
        Self::AccountReconnect,
        Self::EngagementDrop,
        Self::FollowersDropped,
        Self::LlmQuota,
        Self::SchedulerStale,
        Self::AdDailySpend,
        Self::AdBudgetPacing,
        Self::AdCpcHigh,
        Self::AdCpmHigh,
        Self::AdCtrLow,
        Self::AdZeroImpressions,
        Self::AdAccountProblem,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PublishFailed => "publish_failed",
            Self::AccountReconnect => "account_reconnect",
            Self::EngagementDrop => "engagement_drop",
            Self::FollowersDropped => "followers_dropped",
            Self::LlmQuota => "llm_quota",
            Self::SchedulerStale => "scheduler_stale",
            Self::AdDailySpend => "ad_daily_spend",
            Self::AdBudgetPacing => "ad_budget_pacing",
            Self::AdCpcHigh => "ad_cpc_high",
            Self::AdCpmHigh => "ad_cpm_high",
            Self::AdCtrLow => "ad_ctr_low",
            Self::AdZeroImpressions => "ad_zero_impressions",
            Self::AdAccountProblem => "ad_account_problem",
        }
    }
}

/// An alert automation's options (its `config` JSON); every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertConfig {
    pub rules: Vec<AlertRule>,
    /// Quiet time after an announcement before the same alert may be announced again.
    pub cooldown_minutes: i64,
    /// Warn when an account's token expires within this many days.
    pub token_expiry_days: i64,
    /// Fire when the last 7 days' engagement rate is this many percent below the trailing average.
    pub engagement_drop_percent: f64,
    /// How many earlier 7-day windows make the trailing average.
    pub trailing_weeks: i64,
    /// Fire when this month's LLM tokens exceed this percent of the quota.
    pub llm_quota_percent: f64,
    /// Fire when no scheduler instance has beaten for this long.
    pub heartbeat_stale_minutes: i64,
    /// Ad rules' thresholds, each in the ad account's own currency (money) or in percent (CTR); a rule whose
    /// threshold is not set observes nothing.
    pub ad_daily_spend_above: Option<f64>,
    pub ad_monthly_budget: Option<f64>,
    /// How far above the budget the projection may go before pacing fires, in percent.
    pub ad_pacing_tolerance_percent: f64,
    pub ad_cpc_above: Option<f64>,
    pub ad_cpm_above: Option<f64>,
    pub ad_ctr_below: Option<f64>,
    /// CTR is only judged on days with at least this many impressions.
    pub ad_min_impressions: i64,
    pub ad_zero_impressions_hours: Option<i64>,
}

impl Default for AlertConfig {
    fn default() -> Self {
        Self {
            rules: AlertRule::ALL.to_vec(),
            cooldown_minutes: 6 * 60,
            token_expiry_days: 7,
            engagement_drop_percent: 30.0,
            trailing_weeks: 4,
            llm_quota_percent: 80.0,
            heartbeat_stale_minutes: 10,
            ad_daily_spend_above: None,
            ad_monthly_budget: None,
            ad_pacing_tolerance_percent: 10.0,
            ad_cpc_above: None,
            ad_cpm_above: None,
            ad_ctr_below: None,
            ad_min_impressions: 1000,
            ad_zero_impressions_hours: None,
        }
    }
}

/// What a rule sees about one subject right now.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub rule: AlertRule,
    pub subject: String,
    pub firing: bool,
    /// Names and numbers for the messages; kept with the state so "resolved" can name the subject.
    pub details: serde_json::Value,
}

/// What to announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Trigger,
    Resolve,
    Quiet,
}

/// Decides what an observation means given the stored state, returning the decision and the new state
/// (`None` when nothing needs storing).
pub fn decide(
    prev: Option<&AlertState>,
    obs: &Observation,
    now: Millis,
    cooldown_ms: Millis,
) -> (Decision, Option<AlertState>) {
    let cooled = |s: Option<&AlertState>| s.and_then(|s| s.last_notified_at).is_none_or(|t| now - t >= cooldown_ms);
    let was_firing = prev.is_some_and(|s| s.firing);
    let base = || AlertState {
        rule: obs.rule.as_str().to_owned(),
        subject: obs.subject.clone(),
        firing: true,
        notified: false,
        first_seen_at: now,
        last_notified_at: prev.and_then(|s| s.last_notified_at),
        resolved_at: None,
        details: obs.details.to_string(),
    };
    match (was_firing, obs.firing) {
        (false, true) if cooled(prev) => {
            (Decision::Trigger, Some(AlertState { notified: true, last_notified_at: Some(now), ..base() }))
        }
        (false, true) => (Decision::Quiet, Some(base())),
        (true, true) => {
            let s = prev.expect("firing implies a state");
            if !s.notified && cooled(prev) {
                let next = AlertState {
                    notified: true,
                    last_notified_at: Some(now),
                    details: obs.details.to_string(),
                    ..s.clone()
                };
                (Decision::Trigger, Some(next))
            } else {
                (Decision::Quiet, None)
            }
        }
        (true, false) => {
            let s = prev.expect("firing implies a state");
            let next = AlertState { firing: false, notified: false, resolved_at: Some(now), ..s.clone() };
            (if s.notified { Decision::Resolve } else { Decision::Quiet }, Some(next))
        }
        (false, false) => (Decision::Quiet, None),
    }
}

/// An announcement to deliver: the rule, the subject, and the details the message is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvent {
    pub rule: AlertRule,
    pub subject: String,
    /// True for "resolved".
    pub resolved: bool,
    pub details: serde_json::Value,
}

impl AlertEvent {
    /// `alert.triggered` or `alert.resolved`.
    pub fn event_type(&self) -> &'static str {
        if self.resolved {
            "alert.resolved"
        } else {
            "alert.triggered"
        }
    }

    /// The `data` of the webhook event.
    pub fn webhook_data(&self) -> serde_json::Value {
        serde_json::json!({ "rule": self.rule, "subject": self.subject, "details": self.details })
    }
}

/// Observes the enabled rules at `now` over the accounts `sources` counts, stores the new states, and returns what
/// to announce.
#[tracing::instrument(skip(store, config))]
pub async fn evaluate(
    store: &Store,
    tenant: TenantId,
    config: &AlertConfig,
    sources: Sources,
    now: Millis,
) -> Result<Vec<AlertEvent>, StoreError> {
    let states = store.alert_states(tenant).await?;
    let mut observations = Vec::new();
    for rule in &config.rules {
        let found = rules::observe(store, tenant, *rule, config, sources, now).await?;
        let seen: HashSet<&str> = found.observations.iter().map(|o| o.subject.as_str()).collect();
        // A rule that lists every subject it watches: a firing subject it no longer lists has cleared.
        let cleared: Vec<Observation> = if found.complete {
            states
                .iter()
                .filter(|s| s.firing && s.rule == rule.as_str() && !seen.contains(s.subject.as_str()))
                .map(|s| Observation {
                    rule: *rule,
                    subject: s.subject.clone(),
                    firing: false,
                    details: serde_json::from_str(&s.details).unwrap_or_default(),
                })
                .collect()
        } else {
            Vec::new()
        };
        observations.extend(found.observations);
        observations.extend(cleared);
    }
    let cooldown = config.cooldown_minutes.max(0) * 60_000;
    let mut events = Vec::new();
    for obs in observations {
        let prev = states.iter().find(|s| s.rule == obs.rule.as_str() && s.subject == obs.subject);
        let (decision, next) = decide(prev, &obs, now, cooldown);
        if let Some(next) = next {
            store.save_alert_state(tenant, &next).await?;
        }
        let details = match (decision, prev) {
            // "Resolved" names the subject as it was when it fired.
            (Decision::Resolve, Some(p)) => serde_json::from_str(&p.details).unwrap_or(obs.details),
            _ => obs.details,
        };
        match decision {
            Decision::Trigger => {
                events.push(AlertEvent { rule: obs.rule, subject: obs.subject, resolved: false, details })
            }
            Decision::Resolve => {
                events.push(AlertEvent { rule: obs.rule, subject: obs.subject, resolved: true, details })
            }
            Decision::Quiet => {}
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(firing: bool) -> Observation {
        Observation { rule: AlertRule::LlmQuota, subject: "workspace".into(), firing, details: serde_json::json!({}) }
    }

    #[test]
    fn an_alert_fires_once_stays_quiet_and_resolves_once() {
        let cd = 60_000;
        let (d, s1) = decide(None, &obs(true), 1_000, cd);
        assert_eq!(d, Decision::Trigger);
        let s1 = s1.unwrap();
        assert_eq!(decide(Some(&s1), &obs(true), 2_000, cd), (Decision::Quiet, None));
        let (d, s2) = decide(Some(&s1), &obs(false), 3_000, cd);
        assert_eq!(d, Decision::Resolve);
        let s2 = s2.unwrap();
        assert_eq!(decide(Some(&s2), &obs(false), 4_000, cd), (Decision::Quiet, None));
        // Flapping inside the cooldown: quiet, then announced once the cooldown is over.
        let (d, s3) = decide(Some(&s2), &obs(true), 5_000, cd);
        assert_eq!(d, Decision::Quiet);
        let s3 = s3.unwrap();
        assert!(s3.firing && !s3.notified);
        assert_eq!(decide(Some(&s3), &obs(true), 61_000, cd).0, Decision::Trigger);
        // Cleared before it was ever announced: no "resolved" either.
        let (d, s4) = decide(Some(&s3), &obs(false), 30_000, cd);
        assert_eq!(d, Decision::Quiet);
        assert!(!s4.unwrap().firing);
    }

    #[test]
    fn the_config_has_defaults_for_every_field() {
        let c: AlertConfig =
            serde_json::from_value(serde_json::json!({"rules": ["llm_quota"], "llm_quota_percent": 90})).unwrap();
        assert_eq!(c.rules, [AlertRule::LlmQuota]);
        assert_eq!(c.llm_quota_percent, 90.0);
        assert_eq!(c.cooldown_minutes, 360);
    }
}
