//! Ad reporting clients: the Meta Marketing API ([`meta`]) and the TikTok API for Business ([`tiktok`]).
//!
//! Both read ad accounts and daily insights, nothing else: nothing here creates or edits ads. Numbers arrive as
//! decimal strings and become [`Amount`]s; a metric the platform did not send stays `None` (never zero). Errors are
//! one [`AdsError`] whose [`AdsErrorClass`] tells the sync what to do: wait (throttled), ask the owner to reconnect,
//! retry later, read the range as an asynchronous report run, or give up on this request. The rules behind each
//! client are in `docs/ads.md`.

pub mod connect;
pub mod meta;
pub mod tiktok;
pub mod usage;

use chrono::NaiveDate;
use std::time::Duration;
pub use tochen_domain::ads::{AdLevel, AdMetrics, AdPlatform, Amount, InsightRow};

/// What the caller should do about a failed ad-platform request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdsErrorClass {
    /// The platform's rate limit is reached (or a usage header says 100 %): pause this ad account for `wait`
    /// (when the platform said how long) or back off, then read the same days again.
    Throttled { wait: Option<Duration> },
    /// The token is expired, revoked or lacks the permission: the owner has to reconnect; no retry with it.
    Reconnect,
    /// A failure on the platform's side or in transport: retry with backoff.
    Retryable,
    /// Meta could not answer the range synchronously: read it through an asynchronous report run.
    TooMuchData,
    /// The request itself is wrong (a bad parameter, an unknown account): retrying does not help.
    Permanent,
}

/// A failed ad-platform request: its class, the platform's code and its message (never a token or a URL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (code {code})")]
pub struct AdsError {
    pub class: AdsErrorClass,
    pub code: String,
    pub message: String,
}

impl AdsError {
    pub fn new(class: AdsErrorClass, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { class, code: code.into(), message: message.into() }
    }

    fn transport(e: &reqwest::Error) -> Self {
        let text = match e.url() {
            Some(u) => e.to_string().replace(u.as_str(), "<url>"),
            None => e.to_string(),
        };
        Self::new(AdsErrorClass::Retryable, "transport", format!("the request to the ad platform failed: {text}"))
    }

    fn malformed(what: &str) -> Self {
        Self::new(AdsErrorClass::Retryable, "malformed", format!("the ad platform answered without {what}"))
    }
}

/// An ad account as the platform lists it, before the owner picks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdAccountInfo {
    pub platform: AdPlatform,
    /// Meta: the bare account number (without `act_`); TikTok: the advertiser id. Always a string.
    pub account_ref: String,
    pub name: String,
    /// ISO 4217, e.g. `EUR`; empty when the platform did not say.
    pub currency: String,
    /// IANA zone name the platform's days are counted in, e.g. `Europe/Berlin`.
    pub zone: String,
    /// The platform's status as it sends it (`1`, `2`, `STATUS_ENABLE`, ...).
    pub status: String,
    /// Meta's `disable_reason` (0 = none); TikTok has none.
    pub disable_reason: Option<i64>,
}

impl AdAccountInfo {
    /// Whether the platform reports the account as delivering normally (Meta status 1, TikTok `STATUS_ENABLE`).
    pub fn is_active(&self) -> bool {
        status_is_active(self.platform, &self.status)
    }
}

/// Whether a stored status means "active" on `platform`.
pub fn status_is_active(platform: AdPlatform, status: &str) -> bool {
    match platform {
        AdPlatform::Meta => status == "1",
        AdPlatform::TikTok => status == "STATUS_ENABLE",
    }
}

/// Parses a string-typed number; an absent key or JSON null stays `None`, a present but malformed one is an error.
fn amount_field(v: &serde_json::Value, key: &str) -> Result<Option<Amount>, AdsError> {
    match &v[key] {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) if s.is_empty() || s == "-" => Ok(None),
        serde_json::Value::String(s) => Amount::parse(s)
            .map(Some)
            .map_err(|e| AdsError::new(AdsErrorClass::Permanent, "malformed", format!("metric {key}: {e}"))),
        serde_json::Value::Number(n) => Amount::parse(&n.to_string())
            .map(Some)
            .map_err(|e| AdsError::new(AdsErrorClass::Permanent, "malformed", format!("metric {key}: {e}"))),
        other => Err(AdsError::new(
            AdsErrorClass::Permanent,
            "malformed",
            format!("metric {key} is {other}, not a number in a string"),
        )),
    }
}

/// A count metric ("10234"): the whole part of the decimal.
fn count_field(v: &serde_json::Value, key: &str) -> Result<Option<i64>, AdsError> {
    Ok(amount_field(v, key)?.map(Amount::whole))
}

/// A string or number id as a string (ids exceed 2^53: never through f64).
fn id_field(v: &serde_json::Value, key: &str) -> Option<String> {
    match &v[key] {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Splits `since..=until` into windows of at most `days` days.
pub fn windows(since: NaiveDate, until: NaiveDate, days: u32) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let step = chrono::Days::new(u64::from(days.max(1) - 1));
    let mut start = since;
    while start <= until {
        let end = start.checked_add_days(step).map_or(until, |e| e.min(until));
        out.push((start, end));
        let Some(next) = end.succ_opt() else { break };
        start = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_strings_parse_and_missing_stays_missing() {
        let v = serde_json::json!({"spend":"123.45","impressions":"10234","reach":null,"ctr":"","n":7,"bad":"1,5"});
        assert_eq!(amount_field(&v, "spend").unwrap(), Some(Amount::parse("123.45").unwrap()));
        assert_eq!(count_field(&v, "impressions").unwrap(), Some(10234));
        assert_eq!(amount_field(&v, "reach").unwrap(), None);
        assert_eq!(amount_field(&v, "absent").unwrap(), None);
        assert_eq!(amount_field(&v, "ctr").unwrap(), None);
        assert_eq!(count_field(&v, "n").unwrap(), Some(7));
        assert!(amount_field(&v, "bad").is_err());
    }

    #[test]
    fn ranges_split_into_windows() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let w = windows(d("2026-10-01"), d("2026-11-30"), 30);
        assert_eq!(
            w,
            vec![
                (d("2026-10-01"), d("2026-10-30")),
                (d("2026-10-31"), d("2026-11-29")),
                (d("2026-11-30"), d("2026-11-30"))
            ]
        );
        assert!(windows(d("2026-11-02"), d("2026-11-01"), 30).is_empty());
    }
}
