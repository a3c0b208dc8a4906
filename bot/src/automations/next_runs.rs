//! The "next runs" of an automation as the bot lists them (`/automations` and the wizard's summary).
//!
//! Five runs in the automation's zone, found by `Schedule::upcoming` (up to `PREVIEW_YEARS` ahead, so a yearly
//! schedule shows five years). When the runs fall in more than one calendar year each carries its year. A wall
//! time that happens twice (the repeated hour when the clocks go back) carries its UTC offset, "Sun 01 Nov 01:30
//! (UTC-4)" and "Sun 01 Nov 01:30 (UTC-5)", so two runs never read the same; other times are shown without it,
//! as they are unambiguous in the zone the list names.

use chrono::{DateTime, Datelike, Offset, TimeZone};
use chrono_tz::Tz;
use tochen_domain::clock::{to_datetime, Millis};
use tochen_domain::cron::Schedule;
use tochen_domain::i18n::{datetime, datetime_short, tf};

/// How many runs the lists show.
pub const SHOWN: usize = 5;

/// The next runs after `now`, each written in `lang` in the schedule's zone.
pub fn next_runs(lang: &str, schedule: &Schedule, now: Millis) -> Vec<String> {
    let tz = schedule.timezone();
    let runs: Vec<DateTime<Tz>> =
        schedule.upcoming(now, SHOWN).into_iter().map(|ms| to_datetime(ms).with_timezone(&tz)).collect();
    let with_year = runs.first().zip(runs.last()).is_some_and(|(a, b)| a.year() != b.year());
    runs.iter()
        .map(|at| {
            let text = if with_year { datetime(lang, at) } else { datetime_short(lang, at) };
            if tz.from_local_datetime(&at.naive_local()).single().is_some() {
                text
            } else {
                tf(lang, "date.with_offset", &[("time", &text), ("offset", &utc_offset(at))])
            }
        })
        .collect()
}

/// The offset from UTC in the short form people read: "+1", "-4", "+10:30", "+0".
fn utc_offset(at: &DateTime<Tz>) -> String {
    let secs = at.offset().fix().local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
    if m == 0 {
        format!("{sign}{h}")
    } else {
        format!("{sign}{h}:{m:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap().and_utc().timestamp_millis()
    }

    #[test]
    fn the_two_passes_of_a_repeated_hour_show_their_offsets() {
        let s = Schedule::parse("*/30 1 * * *", "America/New_York").unwrap();
        assert_eq!(
            next_runs("en", &s, utc(2026, 10, 31, 12, 0)),
            [
                "Sun 01 Nov 01:00 (UTC-4)",
                "Sun 01 Nov 01:30 (UTC-4)",
                "Sun 01 Nov 01:00 (UTC-5)",
                "Sun 01 Nov 01:30 (UTC-5)",
                "Mon 02 Nov 01:00",
            ]
        );
        let s = Schedule::parse("30 2 * * *", "Europe/Berlin").unwrap();
        let runs = next_runs("de", &s, utc(2026, 10, 24, 12, 0));
        assert_eq!(runs[0], "So., 25. Okt. 02:30 (UTC+2)", "{runs:?}");
        assert_eq!(runs[1], "Mo., 26. Okt. 02:30", "{runs:?}");
    }

    #[test]
    fn a_yearly_schedule_shows_five_years() {
        let s = Schedule::parse("0 9 1 1 *", "Europe/Berlin").unwrap();
        let runs = next_runs("en", &s, utc(2026, 12, 3, 12, 0));
        assert_eq!(runs.len(), 5, "{runs:?}");
        assert_eq!(runs[0], "Fri 01 Jan 2027, 09:00");
        assert_eq!(runs[4], "Wed 01 Jan 2031, 09:00");
        let s = Schedule::parse("0 9 29 2 *", "Europe/Berlin").unwrap();
        let runs = next_runs("en", &s, utc(2026, 12, 3, 12, 0));
        assert_eq!(runs.last().map(String::as_str), Some("Mon 29 Feb 2044, 09:00"), "{runs:?}");
    }

    #[test]
    fn offsets_read_as_people_write_them() {
        let at = |tz: Tz| to_datetime(utc(2026, 7, 1, 0, 0)).with_timezone(&tz);
        assert_eq!(utc_offset(&at(chrono_tz::America::New_York)), "-4");
        assert_eq!(utc_offset(&at(chrono_tz::Asia::Kolkata)), "+5:30");
        assert_eq!(utc_offset(&at(chrono_tz::Europe::London)), "+1");
        assert_eq!(utc_offset(&at(chrono_tz::UTC)), "+0");
    }
}
