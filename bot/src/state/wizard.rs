//! The automation wizard's draft as it is kept in the dialogue (`State::Automation`): plain data, read and
//! changed by `automations/wizard.rs` and drawn by `automations/view.rs`.

use serde::{Deserialize, Serialize};
use tochen_domain::{AutomationId, DestinationId};

/// An automation being created (`editing: None`) or edited.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Wizard {
    pub editing: Option<AutomationId>,
    pub step: Step,
    pub kind: String,
    pub cron: String,
    pub timezone: String,
    pub destinations: Vec<DestinationId>,
    pub config: serde_json::Value,
    /// The name typed by the person; empty while it is the one made from the type and schedule
    /// (`automations::wizard::auto_name`).
    #[serde(default)]
    pub name: String,
}

/// The screen the wizard is on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    #[default]
    Kind,
    Schedule,
    /// The next message is a cron expression.
    Cron,
    Timezone,
    /// The next message is an IANA zone name.
    TypeTimezone,
    Destinations,
    Options,
    /// The next message is the value of an option.
    OptionValue(Opt),
    Confirm,
    /// Editing: the list of what can be changed.
    Menu,
    /// The next message is the automation's name.
    Name,
}

pub use tochen_telegram::button::wizard::Opt;

/// What the wizard does with an option typed as a number (alert thresholds): its range, how a typed answer reads,
/// and where it lives in the automation's configuration.
pub trait OptRules: Copy {
    fn range(self) -> (i64, i64);
    fn parse(self, text: &str) -> Option<i64>;
    fn store(self, config: &mut serde_json::Value, v: i64);
    fn current(self, config: &serde_json::Value) -> i64;
}

impl OptRules for Opt {
    fn range(self) -> (i64, i64) {
        match self {
            Self::EngagementDrop | Self::LlmQuota => (1, 100),
            Self::TokenExpiry => (1, 90),
            Self::CooldownHours => (1, 168),
            Self::TrailingWeeks => (1, 12),
            Self::StaleMinutes => (2, 1440),
            Self::AdSpend | Self::AdBudget => (0, 100_000_000_000),
            Self::AdCpc | Self::AdCpm => (0, 100_000_000),
            Self::AdCtr => (0, 10_000),
            Self::AdZeroHours => (0, 168),
        }
    }

    /// A whole number inside the option's range (`30`, `30%`).
    fn parse(self, text: &str) -> Option<i64> {
        let t = text.trim().trim_end_matches('%').trim();
        let n: i64 = if self.hundredths() {
            // "0.45", "0,45", "12" -> hundredths, at most two decimals.
            let a = tochen_domain::ads::Amount::parse(&t.replace(',', ".")).ok()?;
            if a.0 % 10_000 != 0 {
                return None;
            }
            a.0 / 10_000
        } else {
            t.parse().ok()?
        };
        let (lo, hi) = self.range();
        (lo..=hi).contains(&n).then_some(n)
    }

    fn store(self, config: &mut serde_json::Value, v: i64) {
        match self {
            Self::EngagementDrop => config["engagement_drop_percent"] = (v as f64).into(),
            Self::LlmQuota => config["llm_quota_percent"] = (v as f64).into(),
            Self::TokenExpiry => config["token_expiry_days"] = v.into(),
            Self::CooldownHours => config["cooldown_minutes"] = (v * 60).into(),
            Self::TrailingWeeks => config["trailing_weeks"] = v.into(),
            Self::StaleMinutes => config["heartbeat_stale_minutes"] = v.into(),
            Self::AdSpend | Self::AdBudget | Self::AdCpc | Self::AdCpm | Self::AdCtr | Self::AdZeroHours => {
                let key = self.ad_key().unwrap_or_default();
                config[key] = match (v, self.hundredths()) {
                    (0, _) => serde_json::Value::Null,
                    (v, true) => (v as f64 / 100.0).into(),
                    (v, false) => v.into(),
                };
            }
        }
    }

    fn current(self, config: &serde_json::Value) -> i64 {
        let num = |k: &str| config.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
        match self {
            Self::EngagementDrop => num("engagement_drop_percent").round() as i64,
            Self::LlmQuota => num("llm_quota_percent").round() as i64,
            Self::TokenExpiry => num("token_expiry_days") as i64,
            Self::CooldownHours => (num("cooldown_minutes") / 60.0).round() as i64,
            Self::TrailingWeeks => num("trailing_weeks") as i64,
            Self::StaleMinutes => num("heartbeat_stale_minutes") as i64,
            Self::AdSpend | Self::AdBudget | Self::AdCpc | Self::AdCpm | Self::AdCtr => {
                (num(self.ad_key().unwrap_or_default()) * 100.0).round() as i64
            }
            Self::AdZeroHours => num("ad_zero_impressions_hours") as i64,
        }
    }
}

/// The ad thresholds' places in an alert's configuration.
pub trait AdOpt {
    fn ad_key(self) -> Option<&'static str>;
    /// Whether the number is typed with two decimals (money, CTR) and kept in hundredths.
    fn hundredths(self) -> bool;
}

impl AdOpt for Opt {
    fn ad_key(self) -> Option<&'static str> {
        Some(match self {
            Self::AdSpend => "ad_daily_spend_above",
            Self::AdBudget => "ad_monthly_budget",
            Self::AdCpc => "ad_cpc_above",
            Self::AdCpm => "ad_cpm_above",
            Self::AdCtr => "ad_ctr_below",
            Self::AdZeroHours => "ad_zero_impressions_hours",
            _ => return None,
        })
    }

    fn hundredths(self) -> bool {
        matches!(self, Self::AdSpend | Self::AdBudget | Self::AdCpc | Self::AdCpm | Self::AdCtr)
    }
}
