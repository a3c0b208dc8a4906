//! Cron schedules in a time zone, as the automations use them.
//!
//! Parsing and the next-slot search are croner's: it follows the usual cron rules around daylight-saving changes
//! (a fixed-time job whose wall time falls in the spring-forward gap runs at the first valid time after the gap, a
//! fixed-time job in the repeated fall-back hour runs once, interval jobs run through both halves of the repeated
//! hour in UTC order). This module only pins the time zone to each schedule and speaks unix milliseconds, so the
//! bot can validate what a user typed and the scheduler can compute slots with the same code.

use crate::clock::Millis;
use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// A cron expression (5 fields, or 6 with seconds first) bound to an IANA time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    tz: Tz,
    expr: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("cron expression {expr:?} is not valid: {reason}; use 5 fields like \"0 9 * * 1-5\"")]
    BadExpression { expr: String, reason: String },
    #[error("time zone {0:?} is not an IANA zone name like \"Europe/Berlin\"")]
    BadTimeZone(String),
}

impl Schedule {
    pub fn parse(expr: &str, timezone: &str) -> Result<Self, ScheduleError> {
        let tz: Tz = timezone.trim().parse().map_err(|_| ScheduleError::BadTimeZone(timezone.to_owned()))?;
        let fields = expr.split_whitespace().count();
        if !(5..=6).contains(&fields) {
            return Err(ScheduleError::BadExpression {
                expr: expr.to_owned(),
                reason: format!("it has {fields} fields, not 5 or 6"),
            });
        }
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build()
            .parse(expr)
            .map_err(|e| ScheduleError::BadExpression { expr: expr.to_owned(), reason: e.to_string() })?;
        Ok(Self { cron, tz, expr: expr.trim().to_owned() })
    }

    pub fn expression(&self) -> &str {
        &self.expr
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first slot strictly after `after` (UTC ms), or `None` when the pattern never matches again.
    pub fn next_after(&self, after: Millis) -> Option<Millis> {
        let start = Utc.timestamp_millis_opt(after).single()?.with_timezone(&self.tz);
        self.cron.find_next_occurrence(&start, false).ok().map(|t| t.timestamp_millis())
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap().and_utc().timestamp_millis()
    }

    #[test]
    fn a_fixed_time_in_the_spring_forward_gap_runs_right_after_the_gap_once() {
        // Europe/Berlin jumps from 02:00 CET to 03:00 CEST on 2026-03-29 (01:00 UTC).
        let s = Schedule::parse("30 2 * * *", "Europe/Berlin").unwrap();
        let slots = s.slots_between(utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 12, 0), 10);
        assert_eq!(slots, vec![utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)]);
    }

    #[test]
    fn a_fixed_time_in_the_fall_back_hour_runs_once() {
        // Europe/Berlin repeats 02:00-03:00 on 2026-10-25: 02:30 CEST is 00:30 UTC, 02:30 CET is 01:30 UTC.
        let s = Schedule::parse("30 2 * * *", "Europe/Berlin").unwrap();
        let slots = s.slots_between(utc(2026, 10, 24, 12, 0), utc(2026, 10, 26, 12, 0), 10);
        assert_eq!(slots, vec![utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]);
    }

    #[test]
    fn every_thirty_minutes_across_the_fall_back_hour_is_strictly_increasing_in_utc() {
        let s = Schedule::parse("*/30 * * * *", "Europe/Berlin").unwrap();
        let slots = s.slots_between(utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 3, 0), 100);
        assert!(slots.windows(2).all(|w| w[0] < w[1]), "{slots:?}");
        // Every 30 minutes of real time, including both passes through the repeated hour: 23:30 .. 03:00 UTC.
        assert_eq!(slots.len(), 8, "{slots:?}");
        assert!(slots.windows(2).all(|w| w[1] - w[0] == 30 * 60_000), "{slots:?}");
    }

    #[test]
    fn every_thirty_minutes_skips_the_spring_forward_gap() {
        let s = Schedule::parse("*/30 * * * *", "Europe/Berlin").unwrap();
        let slots = s.slots_between(utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 2, 0), 100);
        // 01:30 CET (00:30 UTC), then 03:00 CEST (01:00 UTC): the wall times 02:00 and 02:30 do not exist.
        assert_eq!(
            slots,
            vec![utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 0)]
        );
    }

    #[test]
    fn six_fields_mean_seconds_first() {
        let s = Schedule::parse("15 0 9 * * *", "UTC").unwrap();
        assert_eq!(s.next_after(utc(2026, 1, 1, 0, 0)), Some(utc(2026, 1, 1, 9, 0) + 15_000));
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
}
