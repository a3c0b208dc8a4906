//! Moments as people read them: in the workspace's zone, in the reader's language.

use crate::ctx::Active;
use chrono::TimeZone;
use chrono_tz::Tz;
use tochen_domain::i18n::datetime;

/// The workspace's zone (UTC when its name does not parse).
pub fn tz_of(a: &Active) -> Tz {
    a.tenant.profile.timezone.parse().unwrap_or(chrono_tz::UTC)
}

/// A moment in the workspace's zone, written in `lang`: "Thu 26 Nov 2026, 08:00 (Europe/Lisbon)",
/// "Чт 26 ноя 2026, 08:00 (Europe/Lisbon)".
pub fn local_time(lang: &str, a: &Active, at_ms: i64) -> String {
    local_time_in(lang, tz_of(a), at_ms)
}

/// [`local_time`] in zone `tz`.
pub fn local_time_in(lang: &str, tz: Tz, at_ms: i64) -> String {
    let local = tz.timestamp_millis_opt(at_ms).single().map(|d| datetime(lang, &d)).unwrap_or_default();
    format!("{local} ({})", tz.name())
}

pub use tochen_delivery::reports::calendar::local_midnight;
