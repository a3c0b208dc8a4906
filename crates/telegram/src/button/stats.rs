//! `/stats` buttons (`st<x>`): a period and a scope are the whole state of the screen, so every button carries
//! both and the screen needs nothing stored. A period is the last N days (counted back from the moment the
//! button is pressed) or a typed range as unix seconds; a scope is the workspace, a platform, an account or a
//! campaign (the bot checks the account or campaign belongs to the caller's workspace).

use super::fields::{build, id, pack_uuid};
use tochen_domain::{AccountId, CampaignId, Platform};

/// The period a `/stats` screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsPeriod {
    /// The last `n` days up to now: `l<n>`.
    Last(u16),
    /// `[start, end)` in unix seconds (a typed range of whole local days): `r<start>-<end>`.
    Range(i64, i64),
}

impl StatsPeriod {
    fn encode(self) -> String {
        match self {
            Self::Last(n) => format!("l{n}"),
            Self::Range(a, b) => format!("r{a}-{b}"),
        }
    }

    fn parse(s: &str) -> Option<Self> {
        if let Some(n) = s.strip_prefix('l') {
            return n.parse().ok().map(Self::Last);
        }
        let (a, b) = s.strip_prefix('r')?.split_once('-')?;
        let (a, b) = (a.parse().ok()?, b.parse().ok()?);
        (a < b).then_some(Self::Range(a, b))
    }
}

/// What a `/stats` screen covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsScope {
    /// `w`.
    Workspace,
    /// `p<platform>`.
    Platform(Platform),
    /// `a<account>`.
    Account(AccountId),
    /// `c<campaign>`.
    Campaign(CampaignId),
}

impl StatsScope {
    fn encode(self) -> String {
        match self {
            Self::Workspace => "w".to_owned(),
            Self::Platform(p) => format!("p{}", p.as_str()),
            Self::Account(a) => format!("a{}", pack_uuid(a.as_uuid())),
            Self::Campaign(c) => format!("c{}", pack_uuid(c.as_uuid())),
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.split_at_checked(1)? {
            ("w", "") => Some(Self::Workspace),
            ("p", p) => Platform::parse(p).map(Self::Platform),
            ("a", a) => id(&[a], 0).map(|u| Self::Account(AccountId::from_uuid(u))),
            ("c", c) => id(&[c], 0).map(|u| Self::Campaign(CampaignId::from_uuid(u))),
            _ => None,
        }
    }
}

/// A button of `/stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stats {
    /// The numbers of a period and scope: `sts:<period>:<scope>`.
    Show(StatsPeriod, StatsScope),
    /// The scope picker, keeping the period: `stp:<period>`.
    Scopes(StatsPeriod),
    /// Type a date range, keeping the scope: `sta:<scope>`.
    Ask(StatsScope),
    /// The chart of a period and scope as a picture: `stc:<period>:<scope>`.
    Chart(StatsPeriod, StatsScope),
}

impl Stats {
    pub(super) fn encode(&self) -> String {
        match *self {
            Self::Show(p, s) => build("sts", &[&p.encode(), &s.encode()]),
            Self::Scopes(p) => build("stp", &[&p.encode()]),
            Self::Ask(s) => build("sta", &[&s.encode()]),
            Self::Chart(p, s) => build("stc", &[&p.encode(), &s.encode()]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        let period = |i: usize| f.get(i).and_then(|s| StatsPeriod::parse(s));
        let scope = |i: usize| f.get(i).and_then(|s| StatsScope::parse(s));
        Some(match (prefix, f.len()) {
            ("sts", 2) => Self::Show(period(0)?, scope(1)?),
            ("stp", 1) => Self::Scopes(period(0)?),
            ("sta", 1) => Self::Ask(scope(0)?),
            ("stc", 2) => Self::Chart(period(0)?, scope(1)?),
            _ => return None,
        })
    }
}

/// One button of every variant, with the longest fields each can carry.
#[cfg(test)]
pub(super) fn every_variant() -> Vec<Stats> {
    let long = StatsPeriod::Range(99_999_999_999 - 1, 99_999_999_999);
    let mut scopes =
        vec![StatsScope::Workspace, StatsScope::Account(AccountId::new()), StatsScope::Campaign(CampaignId::new())];
    scopes.extend(Platform::ALL.iter().map(|p| StatsScope::Platform(*p)));
    let mut all = Vec::new();
    for scope in scopes {
        for period in [StatsPeriod::Last(7), StatsPeriod::Last(u16::MAX), long] {
            all.extend([Stats::Show(period, scope), Stats::Chart(period, scope), Stats::Scopes(period)]);
        }
        all.push(Stats::Ask(scope));
    }
    all
}

#[cfg(test)]
mod tests {
    use super::super::{Button, MAX_CALLBACK_BYTES};
    use super::*;

    #[test]
    fn every_stats_button_round_trips_within_64_bytes() {
        for b in every_variant() {
            let data = Button::Stats(b).encode();
            assert!(data.len() <= MAX_CALLBACK_BYTES, "{data}");
            assert_eq!(Button::decode(&data), Some(Button::Stats(b)), "{data}");
        }
    }

    #[test]
    fn malformed_stats_data_decodes_to_nothing() {
        for data in [
            "sts:l7",
            "sts:x7:w",
            "sts:l7:q",
            "sts:l7:pmyspace",
            "sts:r20-10:w",
            "sts:r10:w",
            "stp:l-1",
            "sta:ashort",
            "stc:l7:w:1",
            "sts:l70000:w",
        ] {
            assert_eq!(Button::decode(data), None, "{data}");
        }
    }
}
