//! Moments as people read them: in the workspace's zone, in the reader's language.

use crate::ctx::Active;
use chrono::TimeZone;
use chrono_tz::Tz;

/// The workspace's zone (UTC when its name does not parse).
pub fn tz_of(a: &Active) -> Tz {
    tochen_posting::approval::zone_of(&a.tenant)
}

/// A moment in the workspace's zone, written in `lang`: "Thu 26 Nov 2026, 08:00 (Europe/Lisbon)",
/// "Чт 26 ноя 2026, 08:00 (Europe/Lisbon)".
pub fn local_time(lang: &str, a: &Active, at_ms: i64) -> String {
    local_time_in(lang, tz_of(a), at_ms)
}

pub use tochen_posting::approval::local_time_in;

/// The first instant of local day `d` in `tz` (a day starting in a DST gap starts at the first valid instant).
pub fn local_midnight(tz: Tz, d: chrono::NaiveDate) -> tochen_domain::clock::Millis {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive).earliest() {
        Some(t) => t.timestamp_millis(),
        // Midnight skipped by a DST change: the day starts an hour later.
        None => tz
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
            .map_or_else(|| naive.and_utc().timestamp_millis(), |t| t.timestamp_millis()),
    }
}
