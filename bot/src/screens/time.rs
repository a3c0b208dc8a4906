//! Moments as people read them: in the workspace's zone, in the reader's language.

use crate::ctx::Active;
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

pub use tochen_delivery::reports::calendar::local_midnight;
