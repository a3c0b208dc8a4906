//! The automation wizard's buttons: `aw:<op>[:<arg>]`, at most 38 bytes. They carry no state of their own: the
//! draft lives in the person's dialogue.

use serde::{Deserialize, Serialize};
use tochen_domain::{CampaignId, DestinationId};
use uuid::Uuid;

pub(super) const PREFIX: &str = "aw:";

/// The automation types the wizard offers.
pub const KINDS: [&str; 4] = ["report", "alert", "data_sync", "ads"];
/// The schedule presets the wizard offers (the bot maps each to a cron expression).
pub const PRESETS: [&str; 5] = ["q15", "hourly", "daily", "weekly", "monthly"];

/// An option typed as a number (alert thresholds); report periods are buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Opt {
    EngagementDrop,
    LlmQuota,
    TokenExpiry,
    CooldownHours,
    TrailingWeeks,
    StaleMinutes,
    /// Ad thresholds: money in hundredths of the ad account's currency unit, CTR in hundredths of a percent,
    /// hours whole; 0 switches the rule's threshold off.
    AdSpend,
    AdBudget,
    AdCpc,
    AdCpm,
    AdCtr,
    AdZeroHours,
}

impl Opt {
    pub const ALL: [Opt; 12] = [
        Opt::EngagementDrop,
        Opt::TrailingWeeks,
        Opt::LlmQuota,
        Opt::TokenExpiry,
        Opt::StaleMinutes,
        Opt::CooldownHours,
        Opt::AdSpend,
        Opt::AdBudget,
        Opt::AdCpc,
        Opt::AdCpm,
        Opt::AdCtr,
        Opt::AdZeroHours,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::EngagementDrop => "ed",
            Self::LlmQuota => "lq",
            Self::TokenExpiry => "te",
            Self::CooldownHours => "cd",
            Self::TrailingWeeks => "tw",
            Self::StaleMinutes => "sm",
            Self::AdSpend => "as",
            Self::AdBudget => "ab",
            Self::AdCpc => "ac",
            Self::AdCpm => "am",
            Self::AdCtr => "at",
            Self::AdZeroHours => "az",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.code() == code)
    }
}

/// What an edit menu button opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Schedule,
    Timezone,
    Destinations,
    Options,
    Name,
}

/// A wizard button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wizard {
    Kind(String),
    Preset(String),
    TypeCron,
    TzKeep,
    TzType,
    Toggle(DestinationId),
    Period(i64),
    SkipEmpty,
    /// Switches an alert rule on or off, by its index in the bot's list of rules.
    Rule(u8),
    /// The next message is the automation's name.
    Rename,
    Ask(Opt),
    Next,
    Save,
    Back,
    Cancel,
    Menu(Section),
    /// A report's or data sync's campaign, or the whole workspace (issue 18).
    Campaign(Option<CampaignId>),
    /// Ads report: switch the level (account totals / campaigns ranked).
    AdsLevel,
    /// Ads report: the next metric preset.
    AdsPreset,
    /// Ads report: the next metric campaigns are ranked by.
    AdsRank,
    /// Ads report: include or leave out one ad account (none included: every account).
    AdsAccount(tochen_domain::ids::AdAccountId),
}

impl Wizard {
    pub(super) fn encode(&self) -> String {
        let body = match self {
            Self::Kind(k) => format!("k:{k}"),
            Self::Preset(p) => format!("p:{p}"),
            Self::TypeCron => "c".into(),
            Self::TzKeep => "zk".into(),
            Self::TzType => "zt".into(),
            Self::Toggle(d) => format!("d:{}", d.as_uuid().simple()),
            Self::Period(n) => format!("pd:{n}"),
            Self::SkipEmpty => "se".into(),
            Self::Rule(n) => format!("r:{n}"),
            Self::Rename => "nm".into(),
            Self::Ask(o) => format!("o:{}", o.code()),
            Self::Next => "nx".into(),
            Self::Save => "ok".into(),
            Self::Back => "bk".into(),
            Self::Cancel => "x".into(),
            Self::Campaign(c) => {
                format!("cp:{}", c.map_or_else(|| "-".to_owned(), |c| c.as_uuid().simple().to_string()))
            }
            Self::AdsLevel => "al".into(),
            Self::AdsPreset => "ap".into(),
            Self::AdsRank => "ar".into(),
            Self::AdsAccount(a) => format!("aa:{}", a.as_uuid().simple()),
            Self::Menu(s) => format!(
                "m:{}",
                match s {
                    Section::Schedule => "s",
                    Section::Timezone => "z",
                    Section::Destinations => "d",
                    Section::Options => "o",
                    Section::Name => "n",
                }
            ),
        };
        format!("{PREFIX}{body}")
    }

    /// Decodes what follows `aw:`.
    pub(super) fn decode(body: &str) -> Option<Self> {
        let (op, arg) = body.split_once(':').unwrap_or((body, ""));
        Some(match (op, arg) {
            ("k", k) if KINDS.contains(&k) => Self::Kind(k.to_owned()),
            ("p", p) if PRESETS.contains(&p) => Self::Preset(p.to_owned()),
            ("c", "") => Self::TypeCron,
            ("zk", "") => Self::TzKeep,
            ("zt", "") => Self::TzType,
            ("d", id) => Self::Toggle(DestinationId::from_uuid(Uuid::try_parse(id).ok()?)),
            ("pd", n) => Self::Period(n.parse().ok().filter(|n| (1..=366).contains(n))?),
            ("se", "") => Self::SkipEmpty,
            // Only the spelling `encode` writes, so one button has one spelling.
            ("r", n) => Self::Rule(n.parse().ok().filter(|v: &u8| v.to_string() == n)?),
            ("nm", "") => Self::Rename,
            ("o", o) => Self::Ask(Opt::from_code(o)?),
            ("nx", "") => Self::Next,
            ("ok", "") => Self::Save,
            ("bk", "") => Self::Back,
            ("x", "") => Self::Cancel,
            ("al", "") => Self::AdsLevel,
            ("ap", "") => Self::AdsPreset,
            ("ar", "") => Self::AdsRank,
            ("aa", id) if id.len() == 32 => {
                Self::AdsAccount(tochen_domain::ids::AdAccountId::from_uuid(Uuid::try_parse(id).ok()?))
            }
            ("m", "s") => Self::Menu(Section::Schedule),
            ("m", "z") => Self::Menu(Section::Timezone),
            ("m", "d") => Self::Menu(Section::Destinations),
            ("m", "o") => Self::Menu(Section::Options),
            ("m", "n") => Self::Menu(Section::Name),
            ("cp", "-") => Self::Campaign(None),
            ("cp", id) if id.len() == 32 => Self::Campaign(Some(CampaignId::from_uuid(Uuid::try_parse(id).ok()?))),
            _ => return None,
        })
    }
}
