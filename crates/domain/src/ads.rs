//! Ad reporting vocabulary: which ad platform, which level of the ad hierarchy, and exact amounts.
//!
//! Ad platforms send every number as a decimal string ("123.45", "10234", "3.038890"). tochen keeps such a number
//! as an [`Amount`]: an integer count of millionths (six decimal places, enough for Meta's `cpc`/`ctr`). Money is
//! then millionths of the account currency's major unit, so sums are exact integer sums, and sums are only ever
//! taken within one currency (the store keeps the currency on the ad account, never on a number).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ad platform whose reporting API tochen reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum AdPlatform {
    /// Meta Marketing API (Facebook and Instagram ads), ad accounts `act_<id>`.
    Meta,
    /// TikTok API for Business, advertiser ids.
    TikTok,
}

impl AdPlatform {
    pub const ALL: [AdPlatform; 2] = [AdPlatform::Meta, AdPlatform::TikTok];

    /// The stored spelling (never changes).
    pub fn as_str(self) -> &'static str {
        match self {
            AdPlatform::Meta => "meta",
            AdPlatform::TikTok => "tiktok",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A level of the ad hierarchy insights are read at. TikTok's ad group is Meta's ad set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum AdLevel {
    Account,
    Campaign,
    AdSet,
    Ad,
}

impl AdLevel {
    pub const ALL: [AdLevel; 4] = [AdLevel::Account, AdLevel::Campaign, AdLevel::AdSet, AdLevel::Ad];

    /// The stored spelling, which is also Meta's `level` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            AdLevel::Account => "account",
            AdLevel::Campaign => "campaign",
            AdLevel::AdSet => "adset",
            AdLevel::Ad => "ad",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// Six decimal places.
const SCALE: i64 = 1_000_000;

/// An exact decimal number with six decimal places, kept as an integer number of millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(pub i64);

/// A number an ad platform sent that is not a decimal tochen can keep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a decimal number; expected digits with an optional point, e.g. \"123.45\"")]
pub struct BadAmount(pub String);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub fn from_micros(micros: i64) -> Self {
        Amount(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    /// A whole number.
    pub fn from_int(n: i64) -> Self {
        Amount(n.saturating_mul(SCALE))
    }

    /// Parses a decimal string as the platforms send it: `"123.45"`, `"-0.5"`, `"10234"`, `"1e3"` is refused.
    /// Digits past the sixth decimal place are rounded half away from zero.
    pub fn parse(s: &str) -> Result<Self, BadAmount> {
        let bad = || BadAmount(s.chars().take(40).collect());
        let t = s.trim();
        let (neg, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let int_part: i64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| bad())? };
        let mut frac_micros: i64 = 0;
        for (i, c) in frac.chars().take(6).enumerate() {
            frac_micros += i64::from(c as u8 - b'0') * 10_i64.pow(5 - i as u32);
        }
        if frac.chars().nth(6).is_some_and(|c| c >= '5') {
            frac_micros += 1;
        }
        let v = int_part.checked_mul(SCALE).and_then(|v| v.checked_add(frac_micros)).ok_or_else(bad)?;
        Ok(Amount(if neg { -v } else { v }))
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    pub fn saturating_add(self, other: Amount) -> Amount {
        Amount(self.0.saturating_add(other.0))
    }

    /// The whole part (towards zero), for counts.
    pub fn whole(self) -> i64 {
        self.0 / SCALE
    }

    /// `self / other` as an amount (`None` when `other` is zero), rounded half away from zero.
    pub fn ratio(self, other: Amount) -> Option<Amount> {
        if other.0 == 0 {
            return None;
        }
        let n = i128::from(self.0) * i128::from(SCALE);
        let d = i128::from(other.0);
        let q = (2 * n + d.signum() * n.signum() * d.abs()) / (2 * d);
        i64::try_from(q).ok().map(Amount)
    }

    /// Multiplies by a whole number (`cpm` is spend x 1000 / impressions).
    pub fn times(self, n: i64) -> Amount {
        Amount(self.0.saturating_mul(n))
    }

    /// With `places` decimals (0..=6), rounded half away from zero: `Amount::parse("1.005")?.fixed(2) == "1.01"`.
    pub fn fixed(self, places: u32) -> String {
        let places = places.min(6);
        let unit = 10_i64.pow(6 - places);
        let abs = self.0.unsigned_abs() as i128;
        let rounded = (abs + i128::from(unit) / 2) / i128::from(unit);
        let sign = if self.0 < 0 && rounded != 0 { "-" } else { "" };
        let div = 10_i128.pow(places);
        if places == 0 {
            format!("{sign}{rounded}")
        } else {
            format!("{sign}{}.{:0width$}", rounded / div, rounded % div, width = places as usize)
        }
    }
}

impl fmt::Display for Amount {
    /// The shortest exact decimal: `123.45`, `7`, `-0.000001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.fixed(6);
        let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
        f.write_str(&s)
    }
}

impl std::str::FromStr for Amount {
    type Err = BadAmount;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Amount::parse(s)
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, Amount::saturating_add)
    }
}

/// The metrics of one object on one day. `None`: the platform did not send it (no delivery, no such event).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdMetrics {
    /// Account currency, major units.
    pub spend: Option<Amount>,
    pub impressions: Option<i64>,
    /// Deduplicated: never summed across days.
    pub reach: Option<i64>,
    pub frequency: Option<Amount>,
    pub clicks: Option<i64>,
    pub cpc: Option<Amount>,
    pub cpm: Option<Amount>,
    /// A percentage: 3.04 means 3.04 %.
    pub ctr: Option<Amount>,
    /// Results (Meta: the configured action type, default `omni_purchase` then `purchase`; TikTok: `conversion`).
    pub conversions: Option<Amount>,
    /// The value of those results in the account currency (Meta `action_values`; TikTok: not sent).
    pub conversion_value: Option<Amount>,
    /// Return on ad spend as the platform computed it (Meta `purchase_roas`).
    pub roas: Option<Amount>,
}

/// One row of daily insights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightRow {
    pub day: NaiveDate,
    pub level: AdLevel,
    /// The id of the account, campaign, ad set or ad the row is about.
    pub object_id: String,
    pub object_name: Option<String>,
    /// The campaign the row belongs to (the row's own id at campaign level; `None` at account level).
    pub campaign_id: Option<String>,
    pub metrics: AdMetrics,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_become_exact_millionths() {
        assert_eq!(Amount::parse("123.45").unwrap(), Amount(123_450_000));
        assert_eq!(Amount::parse("10234").unwrap(), Amount(10_234_000_000));
        assert_eq!(Amount::parse("0.396945").unwrap(), Amount(396_945));
        assert_eq!(Amount::parse("0.0000005").unwrap(), Amount(1));
        assert_eq!(Amount::parse("0.0000004").unwrap(), Amount(0));
        assert_eq!(Amount::parse("-1.5").unwrap(), Amount(-1_500_000));
        assert_eq!(Amount::parse(".5").unwrap(), Amount(500_000));
        for bad in ["", "-", ".", "1e3", "12,5", "abc", "1.2.3", "99999999999999999999"] {
            assert!(Amount::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn amounts_print_exactly_and_round_half_away_from_zero() {
        assert_eq!(Amount::parse("123.45").unwrap().to_string(), "123.45");
        assert_eq!(Amount::parse("7").unwrap().to_string(), "7");
        assert_eq!(Amount::parse("1.005").unwrap().fixed(2), "1.01");
        assert_eq!(Amount::parse("-1.005").unwrap().fixed(2), "-1.01");
        assert_eq!(Amount::parse("-0.001").unwrap().fixed(2), "0.00");
        assert_eq!(Amount::parse("2.5").unwrap().fixed(0), "3");
    }

    #[test]
    fn sums_and_ratios_are_exact() {
        let a: Amount = ["0.10", "0.20", "0.30"].iter().map(|s| Amount::parse(s).unwrap()).sum();
        assert_eq!(a, Amount::parse("0.6").unwrap());
        let spend = Amount::parse("123.45").unwrap();
        assert_eq!(spend.ratio(Amount::from_int(311)).unwrap(), Amount(396_945));
        assert_eq!(spend.ratio(Amount::ZERO), None);
        assert_eq!(Amount::from_int(-1).ratio(Amount::from_int(3)).unwrap(), Amount(-333_333));
    }

    #[test]
    fn stored_spellings_round_trip() {
        for p in AdPlatform::ALL {
            assert_eq!(AdPlatform::parse(p.as_str()), Some(p));
        }
        for l in AdLevel::ALL {
            assert_eq!(AdLevel::parse(l.as_str()), Some(l));
        }
    }
}
