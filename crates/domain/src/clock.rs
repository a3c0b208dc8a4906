//! Time as the store keeps it: UTC unix milliseconds.
//!
//! Both databases store times as BIGINT milliseconds, which sort and compare the same way everywhere and keep the
//! store free of dialect-specific date types.

use chrono::{DateTime, Datelike, TimeZone, Utc};

/// Milliseconds since the unix epoch, UTC.
pub type Millis = i64;

/// One day in milliseconds.
pub const DAY_MS: Millis = 24 * 3600 * 1000;

/// The current time in unix milliseconds.
pub fn now_ms() -> Millis {
    Utc::now().timestamp_millis()
}

/// Converts stored milliseconds back to a `DateTime<Utc>`.
pub fn to_datetime(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The first instant of the month containing `now_ms`, in time zone `tz` (UTC when the name is unknown).
pub fn month_start_ms(tz: &str, now_ms: i64) -> i64 {
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    let now = tz.timestamp_millis_opt(now_ms).single().unwrap_or_else(|| tz.timestamp_millis_opt(0).unwrap());
    let first = chrono::NaiveDate::from_ymd_opt(now.year(), now.month(), 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("the first of a month exists");
    // Midnight never falls into a DST gap in practice; if it does, the earliest mapping is fine for a quota.
    tz.from_local_datetime(&first).earliest().map(|d| d.timestamp_millis()).unwrap_or(now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_through_datetime() {
        let ms = 1_795_000_000_123;
        assert_eq!(to_datetime(ms).timestamp_millis(), ms);
    }

    #[test]
    fn month_starts_in_the_workspace_time_zone() {
        // 2026-12-01 03:00 UTC is still November in Los Angeles.
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0).unwrap().timestamp_millis();
        let la = month_start_ms("America/Los_Angeles", now);
        assert_eq!(la, chrono::Utc.with_ymd_and_hms(2026, 11, 1, 7, 0, 0).unwrap().timestamp_millis());
        let utc = month_start_ms("UTC", now);
        assert_eq!(utc, chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap().timestamp_millis());
    }
}
