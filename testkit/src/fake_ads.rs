//! The delivery data the two fake ad platforms report on: one [`AdDay`] per ad and day, summed per level the way
//! the platforms do, and printed the way they print numbers (strings; money with two decimals in major units,
//! ratios with six). Shared by [`crate::fake_meta_ads`] and [`crate::fake_tiktok_ads`].

use chrono::NaiveDate;
use std::collections::BTreeMap;
use tochen_domain::ads::{AdLevel, Amount};

/// What one ad delivered on one day. Money in minor units (cents) of the account currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdDay {
    pub day: NaiveDate,
    pub campaign_id: String,
    pub campaign_name: String,
    pub adset_id: String,
    pub adset_name: String,
    pub ad_id: String,
    pub ad_name: String,
    pub spend_cents: i64,
    pub impressions: i64,
    pub reach: i64,
    pub clicks: i64,
    pub purchases: i64,
    pub purchase_value_cents: i64,
}

impl AdDay {
    /// A row for a campaign with one ad set and one ad (ids derived from the campaign id).
    pub fn campaign(
        day: NaiveDate,
        campaign_id: &str,
        name: &str,
        spend_cents: i64,
        impressions: i64,
        clicks: i64,
    ) -> Self {
        AdDay {
            day,
            campaign_id: campaign_id.into(),
            campaign_name: name.into(),
            adset_id: format!("{campaign_id}1"),
            adset_name: format!("{name} set"),
            ad_id: format!("{campaign_id}11"),
            ad_name: format!("{name} ad"),
            spend_cents,
            impressions,
            reach: impressions * 4 / 5,
            clicks,
            purchases: 0,
            purchase_value_cents: 0,
        }
    }

    pub fn with_purchases(mut self, purchases: i64, value_cents: i64) -> Self {
        self.purchases = purchases;
        self.purchase_value_cents = value_cents;
        self
    }

    /// The id of the object this row belongs to at `level` (`account` gives the account's own id).
    pub fn id_at<'a>(&'a self, level: AdLevel, account: &'a str) -> &'a str {
        match level {
            AdLevel::Account => account,
            AdLevel::Campaign => &self.campaign_id,
            AdLevel::AdSet => &self.adset_id,
            AdLevel::Ad => &self.ad_id,
        }
    }

    pub fn name_at<'a>(&'a self, level: AdLevel, account_name: &'a str) -> &'a str {
        match level {
            AdLevel::Account => account_name,
            AdLevel::Campaign => &self.campaign_name,
            AdLevel::AdSet => &self.adset_name,
            AdLevel::Ad => &self.ad_name,
        }
    }
}

/// The sum of rows of one object over one day (or the whole range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agg {
    pub id: String,
    pub name: String,
    pub campaign_id: String,
    pub start: NaiveDate,
    pub stop: NaiveDate,
    pub spend_cents: i64,
    pub impressions: i64,
    pub reach: i64,
    pub clicks: i64,
    pub purchases: i64,
    pub purchase_value_cents: i64,
}

/// Sums `rows` in `since..=until` per object at `level`, per day when `daily`, else over the whole range. Objects
/// that delivered nothing (no spend, no impressions) have no row, as on the platforms.
pub fn aggregate(
    rows: &[AdDay],
    level: AdLevel,
    account: &str,
    account_name: &str,
    since: NaiveDate,
    until: NaiveDate,
    daily: bool,
) -> Vec<Agg> {
    let mut out: BTreeMap<(NaiveDate, String), Agg> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.day >= since && r.day <= until) {
        let (start, stop) = if daily { (r.day, r.day) } else { (since, until) };
        let id = r.id_at(level, account).to_string();
        let a = out.entry((start, id.clone())).or_insert_with(|| Agg {
            id,
            name: r.name_at(level, account_name).to_string(),
            campaign_id: r.campaign_id.clone(),
            start,
            stop,
            spend_cents: 0,
            impressions: 0,
            reach: 0,
            clicks: 0,
            purchases: 0,
            purchase_value_cents: 0,
        });
        a.spend_cents += r.spend_cents;
        a.impressions += r.impressions;
        a.reach += r.reach;
        a.clicks += r.clicks;
        a.purchases += r.purchases;
        a.purchase_value_cents += r.purchase_value_cents;
    }
    out.into_values().filter(|a| a.spend_cents > 0 || a.impressions > 0).collect()
}

/// Cents as the platforms print money: `"123.45"`.
pub fn money(cents: i64) -> String {
    Amount::from_micros(cents * 10_000).fixed(2)
}

/// `num / den` with six decimals, `None` when `den` is zero.
pub fn ratio(num: Amount, den: Amount) -> Option<String> {
    num.ratio(den).map(|a| a.fixed(6))
}

impl Agg {
    pub fn spend(&self) -> Amount {
        Amount::from_micros(self.spend_cents * 10_000)
    }
    pub fn cpc(&self) -> Option<String> {
        ratio(self.spend(), Amount::from_int(self.clicks))
    }
    pub fn cpm(&self) -> Option<String> {
        ratio(self.spend().times(1000), Amount::from_int(self.impressions))
    }
    pub fn ctr(&self) -> Option<String> {
        ratio(Amount::from_int(self.clicks * 100), Amount::from_int(self.impressions))
    }
    pub fn frequency(&self) -> Option<String> {
        ratio(Amount::from_int(self.impressions), Amount::from_int(self.reach))
    }
    pub fn roas(&self) -> Option<String> {
        if self.purchase_value_cents == 0 {
            return None;
        }
        ratio(Amount::from_micros(self.purchase_value_cents * 10_000), self.spend())
    }
}

/// Deterministic delivery of `campaigns` campaigns over the `days` days ending `last` (for the benchmark): every
/// campaign spends every day, some numbers vary with the campaign and the day.
pub fn generated(prefix: &str, campaigns: usize, days: u32, last: NaiveDate) -> Vec<AdDay> {
    let mut out = Vec::with_capacity(campaigns * days as usize);
    for c in 0..campaigns {
        for d in 0..days {
            let day = last - chrono::Duration::days(i64::from(d));
            let k = (c as i64 + 1) * 7 + i64::from(d) * 3;
            let id = format!("{prefix}{:04}", c + 1);
            out.push(
                AdDay::campaign(
                    day,
                    &id,
                    &format!("Campaign {}", c + 1),
                    500 + k % 900,
                    1000 + k * 13 % 5000,
                    10 + k % 90,
                )
                .with_purchases(k % 5, (k % 5) * 2599),
            );
        }
    }
    out
}
