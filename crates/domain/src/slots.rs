//! Weekly queue slots: "Mon-Fri 09:00, 13:00" in a workspace's zone, and the UTC instants they stand for.
//!
//! A slot is a weekday and a wall time. "Add to queue" puts a post into the first slot after now that no scheduled
//! or pending post occupies (a post occupies a slot when it is scheduled within the same minute).
//!
//! Daylight-saving changes follow the rule of fixed-time cron automations ([`crate::cron`]), so a slot and an
//! automation at the same wall time behave the same:
//!
//! - A wall time that a **spring-forward gap** skips (02:30 on 2026-03-29 in Europe/Berlin) moves to the **first
//!   real instant after the gap** (03:00 CEST). Several slots in the same gap, or one in the gap and one at the
//!   instant the gap ends, give that instant once.
//! - A wall time that a **fall-back** change repeats (02:30 on 2026-10-25 in Europe/Berlin) is used **once, at its
//!   earliest occurrence** (02:30 CEST = 00:30 UTC).

use crate::clock::{Millis, DAY_MS};
use crate::cron::gap_end;
use chrono::offset::LocalResult;
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// At most this many slots a workspace (or an account) keeps: one per hour of the week.
pub const MAX_SLOTS: usize = 7 * 24;

/// A post scheduled within this distance of a slot occupies it.
pub const OCCUPIED_WITHIN_MS: Millis = 60_000;

/// How many weeks ahead [`next_free`] searches.
pub const SEARCH_WEEKS: i64 = 53;

/// A weekly posting time in the workspace's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeeklySlot {
    pub weekday: Weekday,
    pub hour: u8,
    pub minute: u8,
}

impl WeeklySlot {
    /// `None` when the hour or minute is out of range.
    pub fn new(weekday: Weekday, hour: u8, minute: u8) -> Option<Self> {
        (hour < 24 && minute < 60).then_some(Self { weekday, hour, minute })
    }

    /// Minutes since local midnight (0..1440).
    pub fn minute_of_day(self) -> i32 {
        i32::from(self.hour) * 60 + i32::from(self.minute)
    }

    /// The weekday as stored: 0 = Monday .. 6 = Sunday.
    pub fn weekday_index(self) -> i32 {
        self.weekday.num_days_from_monday() as i32
    }

    /// From the stored numbers (weekday 0 = Monday, minutes since midnight); `None` when out of range.
    pub fn from_db(weekday: i64, minute_of_day: i64) -> Option<Self> {
        let weekday = weekday_from_index(weekday)?;
        if !(0..1440).contains(&minute_of_day) {
            return None;
        }
        Self::new(weekday, (minute_of_day / 60) as u8, (minute_of_day % 60) as u8)
    }

    /// "09:00".
    pub fn time_text(self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }

    fn sort_key(self) -> (u32, u8, u8) {
        (self.weekday.num_days_from_monday(), self.hour, self.minute)
    }
}

fn weekday_from_index(i: i64) -> Option<Weekday> {
    Some(match i {
        0 => Weekday::Mon,
        1 => Weekday::Tue,
        2 => Weekday::Wed,
        3 => Weekday::Thu,
        4 => Weekday::Fri,
        5 => Weekday::Sat,
        6 => Weekday::Sun,
        _ => return None,
    })
}

const ALL_DAYS: [Weekday; 7] =
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

/// Sorts by weekday (Monday first) and time, without duplicates.
pub fn normalize(mut slots: Vec<WeeklySlot>) -> Vec<WeeklySlot> {
    slots.sort_by_key(|s| s.sort_key());
    slots.dedup();
    slots
}

/// Why typed slots were not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("no slots given; type days and times like \"Mon-Fri 09:00, 13:00\"")]
    Empty,
    #[error("{0:?} is not a weekday or a range like \"Mon-Fri\"")]
    UnknownDay(String),
    #[error("{0:?} is not a time like \"09:00\"")]
    BadTime(String),
    #[error("the days {0:?} have no time after them")]
    NoTime(String),
    #[error("more than {MAX_SLOTS} slots")]
    TooMany,
}

/// A weekday name or abbreviation in English, German, Spanish, Russian or Ukrainian.
fn day_named(word: &str) -> Option<Weekday> {
    let w = word.trim_end_matches('.');
    Some(match w {
        "mon" | "monday" | "mo" | "montag" | "lun" | "lunes" | "пн" | "понедельник" | "понеділок" => {
            Weekday::Mon
        }
        "tue" | "tues" | "tuesday" | "di" | "dienstag" | "mar" | "martes" | "вт" | "вторник" | "вівторок" => {
            Weekday::Tue
        }
        "wed" | "wednesday" | "mi" | "mittwoch" | "mié" | "mie" | "miércoles" | "miercoles" | "ср" | "среда"
        | "середа" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" | "do" | "donnerstag" | "jue" | "jueves" | "чт" | "четверг"
        | "четвер" => Weekday::Thu,
        "fri" | "friday" | "fr" | "freitag" | "vie" | "viernes" | "пт" | "пятница" | "пʼятниця" | "п'ятниця" => {
            Weekday::Fri
        }
        "sat" | "saturday" | "sa" | "samstag" | "sáb" | "sab" | "sábado" | "sabado" | "сб" | "суббота" | "субота" => {
            Weekday::Sat
        }
        "sun" | "sunday" | "so" | "sonntag" | "dom" | "domingo" | "вс" | "нд" | "воскресенье" | "неділя" => {
            Weekday::Sun
        }
        _ => return None,
    })
}

/// The days a word names: a day, a range "mon-fri" (wrapping "fri-mon" allowed), or a word for every day,
/// weekdays or the weekend.
fn days_of(word: &str) -> Option<Vec<Weekday>> {
    match word {
        "*" | "day" | "days" | "daily" | "everyday" | "täglich" | "tag" | "diario" | "día" | "dia" | "ежедневно"
        | "день" | "щодня" | "дня" => return Some(ALL_DAYS.to_vec()),
        "weekdays" | "workdays" | "werktags" => return Some(ALL_DAYS[..5].to_vec()),
        "weekend" | "weekends" | "wochenende" => return Some(ALL_DAYS[5..].to_vec()),
        _ => {}
    }
    if let Some(d) = day_named(word) {
        return Some(vec![d]);
    }
    let (a, b) = word.split_once(['-', '–'])?;
    let (a, b) = (day_named(a)?, day_named(b)?);
    let mut out = vec![a];
    let mut d = a;
    while d != b {
        d = d.succ();
        out.push(d);
    }
    Some(out)
}

/// "9:00", "09:00", "21:30"; `None` for anything else.
fn time_of(word: &str) -> Option<(u8, u8)> {
    let (h, m) = word.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = (h.parse::<u8>().ok()?, m.parse::<u8>().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

/// Parses typed slots: groups of days followed by times, e.g. `Mon-Fri 09:00, 13:00; Sat 10:00`. Days are
/// names or abbreviations (English, German, Spanish, Russian, Ukrainian), ranges like `Mon-Fri`, or `daily`,
/// `every day`, `weekdays`, `weekend`; times are `HH:MM` (24-hour). Times without days mean every day. Commas,
/// semicolons and new lines separate like spaces; a day after a time starts a new group.
pub fn parse(input: &str) -> Result<Vec<WeeklySlot>, SlotError> {
    let lower = input.to_lowercase();
    let words = lower.split(|c: char| c.is_whitespace() || c == ',' || c == ';').filter(|w| !w.is_empty());
    let mut out = Vec::new();
    let (mut days, mut day_words, mut times): (Vec<Weekday>, Vec<&str>, Vec<(u8, u8)>) = (vec![], vec![], vec![]);
    let flush = |days: &mut Vec<Weekday>, times: &mut Vec<(u8, u8)>, out: &mut Vec<WeeklySlot>| {
        let ds = if days.is_empty() { ALL_DAYS.to_vec() } else { std::mem::take(days) };
        for d in ds {
            for &(h, m) in times.iter() {
                out.push(WeeklySlot { weekday: d, hour: h, minute: m });
            }
        }
        times.clear();
    };
    for word in words {
        if let Some(t) = time_of(word) {
            times.push(t);
            day_words.clear();
            continue;
        }
        // "every day" / "jeden Tag": the filler word is skipped, the day word does the work.
        if matches!(word, "every" | "each" | "jeden" | "cada" | "каждый" | "кожен" | "кожного") {
            continue;
        }
        if word.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            return Err(SlotError::BadTime(word.to_owned()));
        }
        let Some(ds) = days_of(word) else { return Err(SlotError::UnknownDay(word.to_owned())) };
        if !times.is_empty() {
            flush(&mut days, &mut times, &mut out);
        }
        days.extend(ds);
        day_words.push(word);
        if out.len() > MAX_SLOTS * 7 {
            return Err(SlotError::TooMany);
        }
    }
    if !day_words.is_empty() && times.is_empty() {
        return Err(SlotError::NoTime(day_words.join(" ")));
    }
    if !times.is_empty() {
        flush(&mut days, &mut times, &mut out);
    }
    let out = normalize(out);
    match out.len() {
        0 => Err(SlotError::Empty),
        n if n > MAX_SLOTS => Err(SlotError::TooMany),
        _ => Ok(out),
    }
}

/// Ready-made slot sets offered by the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Monday to Friday at 09:00, 13:00 and 18:00.
    Weekdays,
    /// Every day at 10:00 and 19:00.
    EveryDay,
}

impl Preset {
    pub const ALL: [Preset; 2] = [Preset::Weekdays, Preset::EveryDay];

    pub fn slots(self) -> Vec<WeeklySlot> {
        let (days, times): (&[Weekday], &[u8]) = match self {
            Preset::Weekdays => (&ALL_DAYS[..5], &[9, 13, 18]),
            Preset::EveryDay => (&ALL_DAYS, &[10, 19]),
        };
        normalize(
            days.iter()
                .flat_map(|&d| times.iter().map(move |&h| WeeklySlot { weekday: d, hour: h, minute: 0 }))
                .collect(),
        )
    }
}

/// The slots a workspace uses while it has configured none: the weekday preset.
pub fn defaults() -> Vec<WeeklySlot> {
    Preset::Weekdays.slots()
}

/// A short text of the slots, one line per group of days with the same times: `Mon-Fri 09:00, 13:00`.
/// `day` names a weekday (the bot passes a localized abbreviation).
pub fn describe(slots: &[WeeklySlot], day: impl Fn(Weekday) -> String) -> Vec<String> {
    let times_of = |d: Weekday| -> Vec<WeeklySlot> {
        normalize(slots.iter().copied().filter(|s| s.weekday == d).collect())
            .into_iter()
            .map(|s| WeeklySlot { weekday: Weekday::Mon, ..s })
            .collect()
    };
    let mut lines = Vec::new();
    let mut i = 0;
    while i < 7 {
        let times = times_of(ALL_DAYS[i]);
        let mut j = i;
        while j + 1 < 7 && times_of(ALL_DAYS[j + 1]) == times {
            j += 1;
        }
        if !times.is_empty() {
            let days = if i == j { day(ALL_DAYS[i]) } else { format!("{}-{}", day(ALL_DAYS[i]), day(ALL_DAYS[j])) };
            let ts: Vec<String> = times.iter().map(|s| s.time_text()).collect();
            lines.push(format!("{days} {}", ts.join(", ")));
        }
        i = j + 1;
    }
    lines
}

/// The instant a slot's wall time on `date` stands for, by the module's daylight-saving rule.
fn instant_on(tz: Tz, date: NaiveDate, slot: WeeklySlot) -> Option<Millis> {
    let wall = date.and_hms_opt(u32::from(slot.hour), u32::from(slot.minute), 0)?;
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.timestamp_millis()),
        LocalResult::None => gap_end(tz, wall),
    }
}

/// The instants of `slots` in `(after, until]`, oldest first, each once.
pub fn instants(slots: &[WeeklySlot], tz: Tz, after: Millis, until: Millis) -> Vec<Millis> {
    if slots.is_empty() || until <= after {
        return Vec::new();
    }
    let local_date = |ms: Millis| Utc.timestamp_millis_opt(ms).single().map(|d| d.with_timezone(&tz).date_naive());
    let (Some(first), Some(last)) = (local_date(after - DAY_MS), local_date(until + DAY_MS)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut date = first;
    while date <= last {
        for s in slots.iter().filter(|s| s.weekday == date.weekday()) {
            if let Some(at) = instant_on(tz, date, *s) {
                if at > after && at <= until {
                    out.push(at);
                }
            }
        }
        date += Duration::days(1);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether a post at one of `taken` occupies the slot at `at`.
pub fn occupied(at: Millis, taken: &[Millis]) -> bool {
    taken.iter().any(|t| (t - at).abs() < OCCUPIED_WITHIN_MS)
}

/// The first slot instant after `after` that no instant in `taken` occupies, searching [`SEARCH_WEEKS`] ahead.
pub fn next_free(slots: &[WeeklySlot], tz: Tz, after: Millis, taken: &[Millis]) -> Option<Millis> {
    let week = 7 * DAY_MS;
    (0..SEARCH_WEEKS).find_map(|w| {
        let from = after + w * week;
        instants(slots, tz, from, from + week).into_iter().find(|at| !occupied(*at, taken))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().timestamp_millis()
    }

    fn berlin() -> Tz {
        "Europe/Berlin".parse().unwrap()
    }

    fn slot(d: Weekday, h: u8, m: u8) -> WeeklySlot {
        WeeklySlot::new(d, h, m).unwrap()
    }

    #[test]
    fn parses_days_ranges_and_times() {
        let s = parse("Mon-Fri 09:00, 13:00").unwrap();
        assert_eq!(s.len(), 10);
        assert_eq!(s[0], slot(Weekday::Mon, 9, 0));
        assert_eq!(s[1], slot(Weekday::Mon, 13, 0));
        assert_eq!(s[9], slot(Weekday::Fri, 13, 0));
        let s = parse("Sat 10:30; sun 9:05").unwrap();
        assert_eq!(s, vec![slot(Weekday::Sat, 10, 30), slot(Weekday::Sun, 9, 5)]);
        // A day after a time starts a new group; times alone are every day.
        assert_eq!(parse("Mon 09:00 Tue 10:00").unwrap(), vec![slot(Weekday::Mon, 9, 0), slot(Weekday::Tue, 10, 0)]);
        assert_eq!(parse("18:00").unwrap().len(), 7);
        assert_eq!(parse("every day 10:00 19:00").unwrap(), Preset::EveryDay.slots());
        assert_eq!(parse("weekdays 9:00 13:00 18:00").unwrap(), Preset::Weekdays.slots());
        assert_eq!(parse("Mo-Fr 09:00").unwrap().len(), 5);
        assert_eq!(parse("пн, ср 12:00").unwrap(), vec![slot(Weekday::Mon, 12, 0), slot(Weekday::Wed, 12, 0)]);
        // A wrapping range and duplicates.
        assert_eq!(parse("Sat-Mon 08:00 08:00").unwrap().len(), 3);
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        assert_eq!(parse(""), Err(SlotError::Empty));
        assert_eq!(parse("Mon-Fri"), Err(SlotError::NoTime("mon-fri".into())));
        assert_eq!(parse("Mon 25:00"), Err(SlotError::BadTime("25:00".into())));
        assert_eq!(parse("Mon 9"), Err(SlotError::BadTime("9".into())));
        assert_eq!(parse("Funday 09:00"), Err(SlotError::UnknownDay("funday".into())));
        assert_eq!(parse("Mon 09:60"), Err(SlotError::BadTime("09:60".into())));
    }

    #[test]
    fn db_numbers_round_trip() {
        for s in parse("Mon-Sun 00:00 23:59 12:34").unwrap() {
            assert_eq!(WeeklySlot::from_db(s.weekday_index().into(), s.minute_of_day().into()), Some(s));
        }
        assert_eq!(WeeklySlot::from_db(7, 0), None);
        assert_eq!(WeeklySlot::from_db(0, 1440), None);
    }

    #[test]
    fn describes_groups_of_days() {
        let s = parse("Mon-Fri 09:00, 13:00; Sat 10:00").unwrap();
        let d = describe(&s, |d| format!("{d}"));
        assert_eq!(d, vec!["Mon-Fri 09:00, 13:00".to_string(), "Sat 10:00".to_string()]);
        assert!(describe(&[], |d| format!("{d}")).is_empty());
    }

    #[test]
    fn expands_in_the_zone() {
        // 2026-12-07 is a Monday; Berlin is UTC+1 in winter.
        let s = parse("Mon 09:00 Wed 18:30").unwrap();
        let got = instants(&s, berlin(), utc(2026, 12, 6, 0, 0), utc(2026, 12, 14, 8, 0));
        assert_eq!(got, vec![utc(2026, 12, 7, 8, 0), utc(2026, 12, 9, 17, 30), utc(2026, 12, 14, 8, 0)]);
    }

    #[test]
    fn a_slot_in_the_spring_forward_gap_moves_to_the_end_of_the_gap_once() {
        // 2026-03-29 (Sunday) in Berlin: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let s = parse("Sun 02:30 02:45 03:00 09:00").unwrap();
        let got = instants(&s, berlin(), utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 0, 0));
        assert_eq!(got, vec![utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 7, 0)]);
        // The same as a fixed-time cron automation at that wall time.
        let cron = crate::cron::Schedule::parse("30 2 * * 0", "Europe/Berlin").unwrap();
        assert_eq!(cron.next_after(utc(2026, 3, 28, 12, 0)), Some(got[0]));
    }

    #[test]
    fn a_slot_in_the_fall_back_hour_is_used_once_at_its_first_occurrence() {
        // 2026-10-25 (Sunday) in Berlin: 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:30 happens twice.
        let s = parse("Sun 02:30 09:00").unwrap();
        let got = instants(&s, berlin(), utc(2026, 10, 24, 12, 0), utc(2026, 10, 26, 0, 0));
        assert_eq!(got, vec![utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 8, 0)]);
        let cron = crate::cron::Schedule::parse("30 2 * * 0", "Europe/Berlin").unwrap();
        assert_eq!(cron.next_after(utc(2026, 10, 24, 12, 0)), Some(got[0]));
    }

    #[test]
    fn the_offset_changes_across_dst() {
        // 09:00 Berlin is 08:00 UTC before 2026-03-29 and 07:00 UTC after.
        let s = parse("daily 09:00").unwrap();
        let got = instants(&s, berlin(), utc(2026, 3, 28, 0, 0), utc(2026, 3, 30, 0, 0));
        assert_eq!(got, vec![utc(2026, 3, 28, 8, 0), utc(2026, 3, 29, 7, 0)]);
    }

    #[test]
    fn next_free_skips_taken_slots() {
        let s = parse("Mon-Fri 09:00 13:00").unwrap();
        let now = utc(2026, 12, 7, 7, 0); // Monday 08:00 Berlin
        let first = next_free(&s, berlin(), now, &[]).unwrap();
        assert_eq!(first, utc(2026, 12, 7, 8, 0));
        let second = next_free(&s, berlin(), now, &[first]).unwrap();
        assert_eq!(second, utc(2026, 12, 7, 12, 0));
        // Friday 13:00 taken too: the weekend is skipped.
        let friday = utc(2026, 12, 11, 12, 0);
        let taken: Vec<Millis> = instants(&s, berlin(), now, friday);
        assert_eq!(next_free(&s, berlin(), now, &taken), Some(utc(2026, 12, 14, 8, 0)));
        // A post 30 s off the slot occupies it, one 2 min off does not.
        assert_eq!(next_free(&s, berlin(), now, &[first + 30_000]), Some(second));
        assert_eq!(next_free(&s, berlin(), now, &[first + 120_000]), Some(first));
        assert_eq!(next_free(&[], berlin(), now, &[]), None);
    }

    #[test]
    fn presets_are_what_they_say() {
        assert_eq!(Preset::Weekdays.slots().len(), 15);
        assert_eq!(Preset::EveryDay.slots().len(), 14);
        assert_eq!(defaults(), Preset::Weekdays.slots());
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            /// Every instant lies in the window, in increasing order, and its wall time is the slot's, or it is
            /// the end of a gap that skipped the slot.
            #[test]
            fn instants_are_ordered_and_match_their_slots(
                day in 0i64..7, minute in 0i64..1440, start in 0i64..(2 * 365), tzi in 0usize..4,
            ) {
                let tz: Tz = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"][tzi].parse().unwrap();
                let s = WeeklySlot::from_db(day, minute).unwrap();
                let after = utc(2026, 1, 1, 0, 0) + start * DAY_MS;
                let got = instants(&[s], tz, after, after + 21 * DAY_MS);
                prop_assert!(got.len() >= 2 && got.len() <= 4);
                prop_assert!(got.windows(2).all(|w| w[0] < w[1]));
                for at in got {
                    prop_assert!(at > after && at <= after + 21 * DAY_MS);
                    let local: NaiveDateTime = Utc.timestamp_millis_opt(at).unwrap().with_timezone(&tz).naive_local();
                    let exact = local.weekday() == s.weekday
                        && local.format("%H:%M").to_string() == s.time_text();
                    let after_gap = matches!(tz.from_local_datetime(&(local - Duration::seconds(1))), LocalResult::None);
                    prop_assert!(exact || after_gap);
                }
            }
        }
    }
}
