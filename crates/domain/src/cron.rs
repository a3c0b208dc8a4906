//! Cron schedules in a time zone, as the automations use them.
//!
//! Parsing and matching are croner's; this module pins the time zone to each schedule, speaks unix milliseconds
//! (so the bot validates what a user typed and the scheduler computes slots with the same code), and owns the
//! daylight-saving rules, which are Vixie cron's:
//!
//! - A **fixed-time** job has no wildcard in its time fields: the minute and hour fields (and the seconds field of
//!   a 6-field expression) contain no `*`, `?` or `/` step. Single values, ranges and lists are fixed
//!   (`30 2 * * *`, `0 1-3 * 11 0`, `0,30 9 * * *`).
//!   - In a repeated (fall-back) hour it runs **once**, at the first occurrence of the wall time (the earlier
//!     UTC offset); the second pass through the same wall time does not run it again.
//!   - When its wall time falls into a skipped (spring-forward) gap it runs **once, right after the gap** (the
//!     first real instant, e.g. 03:00 after a 02:00-03:00 gap). Several of its times in the same gap, or a time in
//!     the gap plus the time the gap ends at (`0 2,3 * * *`), still give one run at that instant.
//! - An **interval** job has a `*`, `?` or a step in one of those fields (`*/15 * * * *`, `30 * * * *`,
//!   `0 */2 * * *`). It runs on every real instant whose wall time matches: in both passes of a repeated hour (in UTC
//!   order), and not at all for wall times a gap skips.
//!
//! croner 4 applies the same rules but calls a job fixed only when each time field holds a single value, so
//! `0 1-3 * 11 0` would run twice in the repeated hour there. Interval jobs are searched by croner in the zone;
//! fixed-time jobs are searched on the wall clock (where nothing is repeated or skipped) and each wall time is then
//! placed on the UTC line by the rules above, which keeps their runs in increasing UTC order.
//!
//! Slots are UTC instants, so the two runs of an interval job at 01:30 in a repeated hour are different slots.

use crate::clock::Millis;
use chrono::offset::LocalResult;
use chrono::{NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// How far ahead [`Schedule::upcoming`] looks: far enough for five runs of a yearly job, and for the five leap
/// days of a 29 February job (2028-2044 seen from 2026).
pub const PREVIEW_YEARS: i64 = 20;

/// How a schedule behaves at daylight-saving changes; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// No `*`, `?` or step in the time fields: once in a repeated hour, right after a gap.
    FixedTime,
    /// A wildcard or step in a time field: both passes of a repeated hour, nothing in a gap.
    Interval,
}

/// A cron expression (5 fields, or 6 with seconds first) bound to an IANA time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    tz: Tz,
    expr: String,
    kind: JobKind,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("cron expression {expr:?} is not valid: {reason}; use 5 fields like \"0 9 * * 1-5\"")]
    BadExpression { expr: String, reason: String },
    #[error("time zone {0:?} is not an IANA zone name like \"Europe/Berlin\"")]
    BadTimeZone(String),
}

/// At most this many wall-clock matches are passed over looking for one after a given instant. Only matches in
/// the second pass of a repeated range are passed over (each maps to its first pass), and a fixed-time job has at
/// most 3600 of them in an hour.
const MAX_PASSED_OVER: usize = 20_000;

impl Schedule {
    pub fn parse(expr: &str, timezone: &str) -> Result<Self, ScheduleError> {
        let tz: Tz = timezone.trim().parse().map_err(|_| ScheduleError::BadTimeZone(timezone.to_owned()))?;
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if !(5..=6).contains(&fields.len()) {
            return Err(ScheduleError::BadExpression {
                expr: expr.to_owned(),
                reason: format!("it has {} fields, not 5 or 6", fields.len()),
            });
        }
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build()
            .parse(expr)
            .map_err(|e| ScheduleError::BadExpression { expr: expr.to_owned(), reason: e.to_string() })?;
        // The time fields are the ones before day of month, month and day of week.
        let time_fields = &fields[..fields.len() - 3];
        let kind = if time_fields.iter().any(|f| f.contains(['*', '?', '/'])) {
            JobKind::Interval
        } else {
            JobKind::FixedTime
        };
        Ok(Self { cron, tz, expr: expr.trim().to_owned(), kind })
    }

    pub fn expression(&self) -> &str {
        &self.expr
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// Whether the daylight-saving rules treat it as a fixed-time or an interval job.
    pub fn kind(&self) -> JobKind {
        self.kind
    }

    /// The first slot strictly after `after` (UTC ms), or `None` when the pattern never matches again.
    pub fn next_after(&self, after: Millis) -> Option<Millis> {
        let start = Utc.timestamp_millis_opt(after).single()?.with_timezone(&self.tz);
        match self.kind {
            JobKind::Interval => self.cron.find_next_occurrence(&start, false).ok().map(|t| t.timestamp_millis()),
            JobKind::FixedTime => {
                // No wall time before `start`'s maps to an instant after `after`: a gap lies wholly after it, and
                // a repeated range's wall times map to its first pass.
                let mut cursor = start.naive_local().with_nanosecond(0)?;
                let mut inclusive = true;
                for _ in 0..MAX_PASSED_OVER {
                    let wall = self.cron.find_next_occurrence(&cursor, inclusive).ok()?;
                    let at = self.fixed_time_instant(wall)?;
                    if at > after {
                        return Some(at);
                    }
                    (cursor, inclusive) = (wall, false);
                }
                None
            }
        }
    }

    /// When a fixed-time job scheduled at wall time `wall` runs: at its first occurrence, or right after the gap
    /// that skips it.
    fn fixed_time_instant(&self, wall: NaiveDateTime) -> Option<Millis> {
        match self.tz.from_local_datetime(&wall) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.timestamp_millis()),
            LocalResult::None => gap_end(self.tz, wall),
        }
    }

    /// Slots in `(after, until]`, oldest first, at most `limit` of them.
    pub fn slots_between(&self, after: Millis, until: Millis, limit: usize) -> Vec<Millis> {
        let mut out = Vec::new();
        let mut cursor = after;
        while out.len() < limit {
            match self.next_after(cursor) {
                Some(next) if next <= until => {
                    out.push(next);
                    cursor = next;
                }
                _ => break,
            }
        }
        out
    }

    /// The next `n` slots after `now` for a preview, searching at most [`PREVIEW_YEARS`] ahead (a schedule that
    /// matches more rarely shows fewer).
    pub fn upcoming(&self, now: Millis, n: usize) -> Vec<Millis> {
        self.slots_between(now, now.saturating_add(PREVIEW_YEARS * 366 * crate::clock::DAY_MS), n)
    }

    /// The latest slot at or before `at`, searching no further back than `not_before`.
    pub fn latest_at_or_before(&self, at: Millis, not_before: Millis) -> Option<Millis> {
        let mut cursor = not_before - 1;
        let mut latest = None;
        while let Some(next) = self.next_after(cursor) {
            if next > at {
                break;
            }
            latest = Some(next);
            cursor = next;
        }
        latest
    }
}

/// The first instant after the daylight-saving gap that skips wall time `wall` (`wall` must be in a gap).
pub(crate) fn gap_end(tz: Tz, wall: NaiveDateTime) -> Option<Millis> {
    let real = |n: NaiveDateTime| tz.from_local_datetime(&n).earliest();
    // Gaps last from minutes to a day: double the step until it lands past the gap, then halve back to its end.
    // Offsets are whole seconds, so the first real second after the gap is the instant the clocks jumped.
    let (mut inside, mut step) = (wall, TimeDelta::seconds(1));
    let mut past = loop {
        let probe = wall.checked_add_signed(step)?;
        if real(probe).is_some() {
            break probe;
        }
        if step > TimeDelta::days(4) {
            return None;
        }
        (inside, step) = (probe, step * 2);
    };
    while past - inside > TimeDelta::seconds(1) {
        let mid = inside + (past - inside) / 2;
        if real(mid).is_some() {
            past = mid;
        } else {
            inside = mid;
        }
    }
    real(past).map(|at| at.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap().and_utc().timestamp_millis()
    }

    fn slots(expr: &str, tz: &str, after: Millis, until: Millis) -> Vec<Millis> {
        Schedule::parse(expr, tz).unwrap().slots_between(after, until, 100)
    }

    // The 2026 changes, written out once:
    // Europe/Berlin (CET UTC+1, CEST UTC+2): 2026-03-29 01:00 UTC the clocks jump 02:00 -> 03:00 (02:xx is
    // skipped); 2026-10-25 01:00 UTC they go back 03:00 -> 02:00 (02:xx is 00:xx UTC, then again 01:xx UTC).
    // America/New_York (EST UTC-5, EDT UTC-4): 2026-03-08 07:00 UTC 02:00 -> 03:00 (02:xx skipped);
    // 2026-11-01 06:00 UTC 02:00 -> 01:00 (01:xx is 05:xx UTC, then again 06:xx UTC).

    #[test]
    fn the_time_fields_decide_the_job_kind() {
        for fixed in ["30 2 * * *", "0 1-3 * 11 0", "0,30 9 * * *", "0 0 9 * * *", "5-10 2,3 * * 1-5"] {
            assert_eq!(Schedule::parse(fixed, "UTC").unwrap().kind(), JobKind::FixedTime, "{fixed}");
        }
        for interval in ["*/15 * * * *", "30 * * * *", "0 */2 * * *", "* 0 9 * * *", "0-59/15 9 * * *", "* 9 * * *"] {
            assert_eq!(Schedule::parse(interval, "UTC").unwrap().kind(), JobKind::Interval, "{interval}");
        }
    }

    // Rule 1: a fixed-time job runs once in a repeated hour, at the first occurrence.

    #[test]
    fn a_fixed_time_in_the_fall_back_hour_runs_once() {
        // 02:30 CEST is 00:30 UTC; 02:30 CET (01:30 UTC) is not run; the next day 02:30 CET is 01:30 UTC.
        let s = slots("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 12, 0), utc(2026, 10, 26, 12, 0));
        assert_eq!(s, vec![utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]);
        // 01:30 EDT is 05:30 UTC; 01:30 EST (06:30 UTC) is not run; the next day 01:30 EST is 06:30 UTC.
        let s = slots("30 1 * * *", "America/New_York", utc(2026, 10, 31, 12, 0), utc(2026, 11, 2, 12, 0));
        assert_eq!(s, vec![utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]);
    }

    #[test]
    fn ranges_and_lists_are_fixed_times_and_run_once_in_the_fall_back_hour() {
        // The example: 01:00 EDT (05:00), 02:00 EST (07:00), 03:00 EST (08:00) on Sunday 1 November, and
        // 01:00, 02:00, 03:00 EST (06:00, 07:00, 08:00) on Sunday 8 November. 01:00 EST on 1 November (06:00) is
        // the second pass and does not run.
        let s = slots("0 1-3 * 11 0", "America/New_York", utc(2026, 10, 31, 12, 0), utc(2026, 11, 8, 12, 0));
        assert_eq!(
            s,
            vec![
                utc(2026, 11, 1, 5, 0),
                utc(2026, 11, 1, 7, 0),
                utc(2026, 11, 1, 8, 0),
                utc(2026, 11, 8, 6, 0),
                utc(2026, 11, 8, 7, 0),
                utc(2026, 11, 8, 8, 0),
            ]
        );
        // 02:00 and 02:30 CEST (00:00, 00:30 UTC) once; the next day 02:00 and 02:30 CET (01:00, 01:30 UTC).
        let s = slots("0,30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 23, 30), utc(2026, 10, 26, 2, 0));
        assert_eq!(
            s,
            vec![utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 0), utc(2026, 10, 26, 1, 30)]
        );
    }

    #[test]
    fn a_fixed_time_job_is_not_run_again_when_asked_from_inside_the_second_pass() {
        // Asking at 02:10 CET (01:10 UTC, second pass): 02:30 CET would be a second run on the same wall time.
        let s = Schedule::parse("30 2 * * *", "Europe/Berlin").unwrap();
        assert_eq!(s.next_after(utc(2026, 10, 25, 1, 10)), Some(utc(2026, 10, 26, 1, 30)));
        let s = Schedule::parse("0 1-3 * 11 0", "America/New_York").unwrap();
        assert_eq!(s.next_after(utc(2026, 11, 1, 6, 0)), Some(utc(2026, 11, 1, 7, 0)));
        assert_eq!(
            s.latest_at_or_before(utc(2026, 11, 1, 6, 59), utc(2026, 11, 1, 0, 0)),
            Some(utc(2026, 11, 1, 5, 0))
        );
    }

    // Rule 2: an interval job runs in both passes of a repeated hour, in UTC order.

    #[test]
    fn an_interval_job_runs_in_both_passes_of_the_fall_back_hour() {
        // 01:30 CEST (23:30), 02:30 CEST (00:30), 02:30 CET (01:30), 03:30 CET (02:30).
        let s = slots("30 * * * *", "Europe/Berlin", utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 3, 0));
        assert_eq!(
            s,
            vec![
                utc(2026, 10, 24, 23, 30),
                utc(2026, 10, 25, 0, 30),
                utc(2026, 10, 25, 1, 30),
                utc(2026, 10, 25, 2, 30)
            ]
        );
        // 01:00, 01:20, 01:40 EDT, then the same wall times in EST, then 01:00 and 01:20 EST the next day.
        let s = slots("*/20 1 * * *", "America/New_York", utc(2026, 10, 31, 12, 0), utc(2026, 11, 2, 6, 30));
        assert_eq!(
            s,
            vec![
                utc(2026, 11, 1, 5, 0),
                utc(2026, 11, 1, 5, 20),
                utc(2026, 11, 1, 5, 40),
                utc(2026, 11, 1, 6, 0),
                utc(2026, 11, 1, 6, 20),
                utc(2026, 11, 1, 6, 40),
                utc(2026, 11, 2, 6, 0),
                utc(2026, 11, 2, 6, 20),
            ]
        );
    }

    #[test]
    fn every_thirty_minutes_across_the_fall_back_hour_is_every_thirty_minutes_of_real_time() {
        let s = slots("*/30 * * * *", "Europe/Berlin", utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 3, 0));
        let expected: Vec<Millis> = (1..=8).map(|i| utc(2026, 10, 24, 23, 0) + i * 30 * 60_000).collect();
        assert_eq!(s, expected);
    }

    // Rule 3: a fixed-time job in a skipped hour runs once, right after the gap.

    #[test]
    fn a_fixed_time_in_the_spring_forward_gap_runs_right_after_the_gap_once() {
        // 02:30 does not exist on 29 March: 03:00 CEST (01:00 UTC); the next day 02:30 CEST (00:30 UTC).
        let s = slots("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 12, 0));
        assert_eq!(s, vec![utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)]);
        // 02:30 does not exist on 8 March: 03:00 EDT (07:00 UTC); the next day 02:30 EDT (06:30 UTC).
        let s = slots("30 2 * * *", "America/New_York", utc(2026, 3, 7, 12, 0), utc(2026, 3, 9, 12, 0));
        assert_eq!(s, vec![utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30)]);
    }

    #[test]
    fn several_fixed_times_in_one_gap_run_once_after_it() {
        // 02:00 and 02:30 are both skipped: one run at 03:00 CEST (01:00); then 02:00, 02:30 CEST (00:00, 00:30).
        let s = slots("0,30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 12, 0));
        assert_eq!(s, vec![utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 0), utc(2026, 3, 30, 0, 30)]);
        // 02:00 moves to 03:00, where the job runs anyway: once at 03:00 EDT (07:00), then 02:00, 03:00 EDT.
        let s = slots("0 2,3 * * *", "America/New_York", utc(2026, 3, 7, 12, 0), utc(2026, 3, 9, 12, 0));
        assert_eq!(s, vec![utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 0), utc(2026, 3, 9, 7, 0)]);
    }

    #[test]
    fn a_yearly_fixed_time_in_the_gap_runs_after_it_that_year_only() {
        // 8 March 2026 02:15 is skipped (runs 03:00 EDT, 07:00 UTC); in 2027 the change is on 14 March, so 8 March
        // 02:15 is EST (07:15 UTC).
        let s = slots("15 2 8 3 *", "America/New_York", utc(2026, 1, 1, 0, 0), utc(2028, 1, 1, 0, 0));
        assert_eq!(s, vec![utc(2026, 3, 8, 7, 0), utc(2027, 3, 8, 7, 15)]);
    }

    // Rule 4: an interval job skips the wall times a gap removes.

    #[test]
    fn every_thirty_minutes_skips_the_spring_forward_gap() {
        // 01:30 CET (00:30 UTC), then 03:00 CEST (01:00 UTC): the wall times 02:00 and 02:30 do not exist.
        let s = slots("*/30 * * * *", "Europe/Berlin", utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 2, 0));
        assert_eq!(
            s,
            vec![utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 0)]
        );
        // 01:30 EST (06:30 UTC), then 03:00 EDT (07:00 UTC).
        let s = slots("*/30 * * * *", "America/New_York", utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 8, 0));
        assert_eq!(
            s,
            vec![utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 8, 0)]
        );
    }

    #[test]
    fn an_interval_job_inside_the_skipped_hour_does_not_run_that_day() {
        let s = slots("*/30 2 * * *", "America/New_York", utc(2026, 3, 7, 12, 0), utc(2026, 3, 9, 12, 0));
        assert_eq!(s, vec![utc(2026, 3, 9, 6, 0), utc(2026, 3, 9, 6, 30)]);
        let s = slots("0 * * * *", "Europe/Berlin", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 2, 30));
        assert_eq!(s, vec![utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0)], "03:00 and 04:00 CEST, no 02:00");
    }

    // The preview.

    #[test]
    fn the_preview_shows_five_runs_of_a_yearly_schedule() {
        let now = utc(2026, 12, 3, 12, 0);
        let s = Schedule::parse("0 9 1 1 *", "Europe/Berlin").unwrap();
        assert_eq!(s.upcoming(now, 5), (2027..=2031).map(|y| utc(y, 1, 1, 8, 0)).collect::<Vec<_>>());
        let s = Schedule::parse("0 9 29 2 *", "America/New_York").unwrap();
        assert_eq!(s.upcoming(now, 5), [2028, 2032, 2036, 2040, 2044].map(|y| utc(y, 2, 29, 14, 0)).to_vec());
    }

    #[test]
    fn the_preview_of_a_date_that_never_comes_is_empty_and_quick() {
        let started = std::time::Instant::now();
        let s = Schedule::parse("0 9 30 2 *", "Europe/Berlin").unwrap();
        assert_eq!(s.upcoming(utc(2026, 12, 3, 12, 0), 5), Vec::<Millis>::new());
        let s = Schedule::parse("*/5 9 31 4 *", "Europe/Berlin").unwrap();
        assert_eq!(s.upcoming(utc(2026, 12, 3, 12, 0), 5), Vec::<Millis>::new());
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn six_fields_mean_seconds_first() {
        let s = Schedule::parse("15 0 9 * * *", "UTC").unwrap();
        assert_eq!(s.next_after(utc(2026, 1, 1, 0, 0)), Some(utc(2026, 1, 1, 9, 0) + 15_000));
        assert_eq!(s.next_after(utc(2026, 1, 1, 9, 0) + 15_000), Some(utc(2026, 1, 2, 9, 0) + 15_000));
        assert_eq!(s.next_after(utc(2026, 1, 1, 9, 0) + 14_999), Some(utc(2026, 1, 1, 9, 0) + 15_000));
    }

    #[test]
    fn bad_input_is_refused_naming_the_value() {
        let e = Schedule::parse("0 9 * *", "UTC").unwrap_err();
        assert!(e.to_string().contains("\"0 9 * *\""), "{e}");
        assert!(Schedule::parse("61 9 * * *", "UTC").is_err());
        assert_eq!(
            Schedule::parse("0 9 * * *", "Mars/Base").unwrap_err(),
            ScheduleError::BadTimeZone("Mars/Base".into())
        );
    }

    #[test]
    fn the_latest_missed_slot_is_found() {
        let s = Schedule::parse("0 * * * *", "UTC").unwrap();
        assert_eq!(s.latest_at_or_before(utc(2026, 1, 1, 5, 30), utc(2026, 1, 1, 1, 0)), Some(utc(2026, 1, 1, 5, 0)));
        assert_eq!(s.latest_at_or_before(utc(2026, 1, 1, 1, 30), utc(2026, 1, 1, 1, 1)), None);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// A time field: a single value, a range, a list, `*`, a step, or a stepped range.
        fn field(max: u32) -> impl Strategy<Value = String> {
            prop_oneof![
                (0..=max).prop_map(|v| v.to_string()),
                (0..=max, 0..=max).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
                (0..=max, 0..=max).prop_map(|(a, b)| format!("{a},{b}")),
                Just("*".to_owned()),
                (1..=max / 2).prop_map(|k| format!("*/{k}")),
                (0..=max, 1..=max / 2).prop_map(move |(a, k)| format!("{a}-{max}/{k}")),
            ]
        }

        /// Hours around the changes (0-4) most of the time, so the rules are exercised.
        fn hour() -> impl Strategy<Value = String> {
            prop_oneof![3 => field(4), 1 => field(23)]
        }

        fn expression() -> impl Strategy<Value = String> {
            let dow = prop_oneof![3 => Just("*".to_owned()), 1 => (0..=6u32).prop_map(|d| d.to_string())];
            (field(59), hour(), dow).prop_map(|(m, h, d)| format!("{m} {h} * * {d}"))
        }

        /// The 2026 changes of zones with 1 h changes at 02:00/03:00 local, 30 min changes, and changes at midnight.
        const ZONES: [(&str, [(u32, u32); 2]); 4] = [
            ("Europe/Berlin", [(3, 29), (10, 25)]),
            ("America/New_York", [(3, 8), (11, 1)]),
            ("Australia/Lord_Howe", [(4, 5), (10, 4)]),
            ("America/Santiago", [(4, 5), (9, 6)]),
        ];

        /// The runs by the rules, found minute by minute on the UTC line: an instant runs when its wall time
        /// matches (a fixed-time job only on the first pass), and a fixed-time job also runs at the end of a gap
        /// that skipped one of its wall times.
        fn oracle(s: &Schedule, after: Millis, until: Millis) -> Vec<Millis> {
            let local = |ms: Millis| Utc.timestamp_millis_opt(ms).unwrap().with_timezone(&s.tz).naive_local();
            let matches = |n: &NaiveDateTime| s.cron.is_time_matching(n).unwrap();
            let mut out = Vec::new();
            let mut u = (after / 60_000 + 1) * 60_000;
            while u <= until {
                let wall = local(u);
                let expected_wall = local(u - 60_000) + TimeDelta::minutes(1);
                let run = match s.kind {
                    JobKind::Interval => matches(&wall),
                    JobKind::FixedTime => {
                        let first_pass = s.tz.from_local_datetime(&wall).earliest().unwrap().timestamp_millis() == u;
                        let mut skipped = expected_wall;
                        let mut gap_match = false;
                        while skipped < wall {
                            gap_match |= matches(&skipped);
                            skipped += TimeDelta::minutes(1);
                        }
                        (matches(&wall) && first_pass) || gap_match
                    }
                };
                if run {
                    out.push(u);
                }
                u += 60_000;
            }
            out
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            #[test]
            fn runs_follow_the_rules_around_every_change(
                expr in expression(),
                zone in 0..ZONES.len(),
                change in 0..2usize,
                offset_minutes in -2 * 24 * 60..24 * 60i64,
                extra_ms in 0..60_000i64,
            ) {
                let (tz, changes) = ZONES[zone];
                let (month, day) = changes[change];
                let s = Schedule::parse(&expr, tz).unwrap();
                let after = utc(2026, month, day, 0, 0) + offset_minutes * 60_000 + extra_ms;
                let until = after + 3 * 24 * 3_600_000;
                let got = s.slots_between(after, until, 10_000);
                prop_assert!(got.windows(2).all(|w| w[0] < w[1]), "{expr} in {tz}: {got:?}");
                prop_assert_eq!(got, oracle(&s, after, until), "{} in {}", expr, tz);
            }
        }
    }
}
