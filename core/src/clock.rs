//! Time as the store keeps it: UTC unix milliseconds.
//!
//! Both databases store times as BIGINT milliseconds, which sort and compare the same way everywhere and keep the
//! store free of dialect-specific date types.

use chrono::{DateTime, TimeZone, Utc};

/// Milliseconds since the unix epoch, UTC.
pub type Millis = i64;

/// The current time in unix milliseconds.
pub fn now_ms() -> Millis {
    Utc::now().timestamp_millis()
}

/// Converts stored milliseconds back to a `DateTime<Utc>`.
pub fn to_datetime(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_through_datetime() {
        let ms = 1_795_000_000_123;
        assert_eq!(to_datetime(ms).timestamp_millis(), ms);
    }
}
