//! Pacing an ad account by what the platform says about its usage.
//!
//! Meta sends three usage headers on Marketing API answers (`X-Business-Use-Case-Usage`, `X-Ad-Account-Usage`,
//! `X-FB-Ads-Insights-Throttle`), each with percentages 0-100. Above [`SLOW_ABOVE`] % the client slows down
//! (sleeps between requests, longer the closer it gets); at 100 % or on a throttle error it stops asking for that
//! ad account until the platform's own estimate has passed (`estimated_time_to_regain_access` minutes or
//! `reset_time_duration` seconds) or, without one, an exponential backoff from 60 s doubling to 1 h. The pause is
//! per ad account ([`AccountGate`]): other accounts keep syncing. TikTok sends no usage headers; its 40100 answer
//! pauses the advertiser the same way (60 s doubling to 15 min).

use super::{AdsError, AdsErrorClass};
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::Duration;

/// Usage percentage above which the client slows down.
pub const SLOW_ABOVE: f64 = 75.0;

/// What the usage headers of one answer say.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Usage {
    /// The highest percentage any header reported (0 when none was sent).
    pub pct: f64,
    /// How long until access is back, when the platform said so (a non-zero regain or reset estimate).
    pub regain: Option<Duration>,
}

fn header_json(h: &HeaderMap, name: &str) -> Option<Value> {
    serde_json::from_str(h.get(name)?.to_str().ok()?).ok()
}

fn pct(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Reads Meta's three usage headers. Unknown or malformed headers count as no information.
pub fn meta_usage(h: &HeaderMap) -> Usage {
    let mut u = Usage::default();
    let mut regain_secs: u64 = 0;
    if let Some(Value::Object(buc)) = header_json(h, "x-business-use-case-usage") {
        for entry in buc.values().flat_map(|l| l.as_array().cloned().unwrap_or_default()) {
            for key in ["call_count", "total_cputime", "total_time"] {
                u.pct = u.pct.max(pct(&entry[key]).unwrap_or(0.0));
            }
            regain_secs = regain_secs.max(entry["estimated_time_to_regain_access"].as_u64().unwrap_or(0) * 60);
        }
    }
    if let Some(acc) = header_json(h, "x-ad-account-usage") {
        let p = pct(&acc["acc_id_util_pct"]).unwrap_or(0.0);
        u.pct = u.pct.max(p);
        if p >= 100.0 {
            regain_secs = regain_secs.max(acc["reset_time_duration"].as_u64().unwrap_or(0));
        }
    }
    if let Some(t) = header_json(h, "x-fb-ads-insights-throttle") {
        for key in ["app_id_util_pct", "acc_id_util_pct"] {
            u.pct = u.pct.max(pct(&t[key]).unwrap_or(0.0));
        }
    }
    u.regain = (regain_secs > 0).then(|| Duration::from_secs(regain_secs));
    u
}

/// How the backoff grows when the platform does not say how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    /// Meta: 60 s doubling to 1 h.
    pub const META: Backoff = Backoff { first: Duration::from_secs(60), max: Duration::from_secs(3600) };
    /// TikTok: 60 s doubling to 15 min.
    pub const TIKTOK: Backoff = Backoff { first: Duration::from_secs(60), max: Duration::from_secs(900) };

    /// The wait after `strikes` consecutive throttles (1 = the first).
    pub fn wait(self, strikes: u32) -> Duration {
        let factor = 2u32.saturating_pow(strikes.saturating_sub(1).min(16));
        self.first.saturating_mul(factor).min(self.max)
    }
}

/// The pacing state of one ad account, kept across requests and (through the store) across jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountGate {
    /// No request for this account before this instant.
    pub paused_until: Option<DateTime<Utc>>,
    /// Consecutive throttles without a successful answer in between.
    pub strikes: u32,
    /// The last usage percentage seen.
    pub last_pct: f64,
    /// The longest pause before a request while above [`SLOW_ABOVE`] % (reached at 100 %).
    pub slow_max: Duration,
    pub backoff: Backoff,
    /// Requests made through this gate (for the benchmark and tests).
    pub requests: u64,
}

impl AccountGate {
    pub fn new(backoff: Backoff, paused_until: Option<DateTime<Utc>>) -> Self {
        Self { paused_until, strikes: 0, last_pct: 0.0, slow_max: Duration::from_secs(10), backoff, requests: 0 }
    }

    /// Refuses (without any request) while the account is paused; otherwise the time to sleep before asking.
    pub fn before(&mut self, now: DateTime<Utc>) -> Result<Duration, AdsError> {
        if let Some(until) = self.paused_until {
            if until > now {
                let wait = (until - now).to_std().unwrap_or_default();
                return Err(AdsError::new(
                    AdsErrorClass::Throttled { wait: Some(wait) },
                    "paused",
                    format!("the ad account is paused by its rate limit until {}", until.format("%H:%M:%S UTC")),
                ));
            }
            self.paused_until = None;
        }
        self.requests += 1;
        Ok(self.slow_delay())
    }

    /// The pause before the next request: none below [`SLOW_ABOVE`] %, growing linearly to `slow_max` at 100 %.
    pub fn slow_delay(&self) -> Duration {
        if self.last_pct <= SLOW_ABOVE {
            return Duration::ZERO;
        }
        let share = ((self.last_pct - SLOW_ABOVE) / (100.0 - SLOW_ABOVE)).clamp(0.0, 1.0);
        self.slow_max.mul_f64(share)
    }

    /// Takes in the usage of a successful answer. At 100 % the account pauses for the platform's estimate (or the
    /// backoff) even though this answer succeeded, so the next request is not the one that gets refused.
    pub fn answered(&mut self, usage: Usage, now: DateTime<Utc>) {
        self.last_pct = usage.pct;
        if usage.pct >= 100.0 {
            self.strikes += 1;
            let wait = usage.regain.unwrap_or_else(|| self.backoff.wait(self.strikes));
            self.pause(now, wait);
        } else {
            self.strikes = 0;
        }
    }

    /// A throttle error: pause for what the platform said, or the next backoff step. Returns the error with the
    /// wait filled in.
    pub fn throttled(&mut self, mut e: AdsError, now: DateTime<Utc>) -> AdsError {
        self.strikes += 1;
        let wait = match e.class {
            AdsErrorClass::Throttled { wait: Some(w) } if !w.is_zero() => w,
            _ => self.backoff.wait(self.strikes),
        };
        self.pause(now, wait);
        e.class = AdsErrorClass::Throttled { wait: Some(wait) };
        e
    }

    fn pause(&mut self, now: DateTime<Utc>, wait: Duration) {
        let until = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
        self.paused_until = Some(self.paused_until.map_or(until, |u| u.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_highest_percentage_of_the_three_headers_counts() {
        let h = headers(&[
            (
                "x-business-use-case-usage",
                r#"{"123":[{"type":"ads_insights","call_count":28,"total_cputime":12,"total_time":15,"estimated_time_to_regain_access":0}]}"#,
            ),
            ("x-ad-account-usage", r#"{"acc_id_util_pct":9.67,"reset_time_duration":100}"#),
            ("x-fb-ads-insights-throttle", r#"{"app_id_util_pct":0,"acc_id_util_pct":3}"#),
        ]);
        assert_eq!(meta_usage(&h), Usage { pct: 28.0, regain: None });
        let full = headers(&[
            ("x-ad-account-usage", r#"{"acc_id_util_pct":100,"reset_time_duration":120}"#),
            (
                "x-business-use-case-usage",
                r#"{"1":[{"type":"ads_insights","call_count":100,"estimated_time_to_regain_access":3}]}"#,
            ),
        ]);
        assert_eq!(meta_usage(&full), Usage { pct: 100.0, regain: Some(Duration::from_secs(180)) });
        assert_eq!(meta_usage(&headers(&[("x-ad-account-usage", "not json")])), Usage::default());
    }

    #[test]
    fn the_gate_slows_down_near_the_limit_and_stops_on_it() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
        let mut g = AccountGate::new(Backoff::META, None);
        assert_eq!(g.before(now).unwrap(), Duration::ZERO);
        g.answered(Usage { pct: 50.0, regain: None }, now);
        assert_eq!(g.before(now).unwrap(), Duration::ZERO);
        g.answered(Usage { pct: 87.5, regain: None }, now);
        assert_eq!(g.before(now).unwrap(), Duration::from_secs(5));
        g.answered(Usage { pct: 100.0, regain: Some(Duration::from_secs(120)) }, now);
        let e = g.before(now + chrono::Duration::seconds(119)).unwrap_err();
        assert!(matches!(e.class, AdsErrorClass::Throttled { wait: Some(w) } if w == Duration::from_secs(1)));
        assert_eq!(g.requests, 3, "no request counted while paused");
        assert!(g.before(now + chrono::Duration::seconds(120)).is_ok());
    }

    #[test]
    fn throttle_errors_back_off_doubling_up_to_the_cap() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
        let mut g = AccountGate::new(Backoff::TIKTOK, None);
        let err = || AdsError::new(AdsErrorClass::Throttled { wait: None }, "40100", "too many");
        let waits: Vec<u64> = (0..6)
            .map(|_| match g.throttled(err(), now).class {
                AdsErrorClass::Throttled { wait: Some(w) } => w.as_secs(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(waits, vec![60, 120, 240, 480, 900, 900]);
        let told = AdsError::new(AdsErrorClass::Throttled { wait: Some(Duration::from_secs(300)) }, "80000", "x");
        assert_eq!(g.throttled(told, now).class, AdsErrorClass::Throttled { wait: Some(Duration::from_secs(300)) });
    }
}
