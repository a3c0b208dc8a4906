//! Free-text times typed by people ("tomorrow 9:30", "fri 18:00", "2026-12-01 14:30", "через 2 часа") read in
//! the workspace's time zone.
//!
//! A time that is in the past, that names a day but no hour, or that falls into a DST gap or fold is refused with
//! a reason the bot can explain, never guessed: a post at the wrong hour is worse than one more question.
//!
//! Anyone who can talk to the bot can type here, so every step from the text to a moment is checked arithmetic
//! (`TimeDelta::try_minutes`, `checked_add_signed`, `checked_add_days`): "in 9223372036854775807 minutes" is a
//! time that cannot be read, not a panic.

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    /// Nothing recognizable.
    Invalid,
    /// A day without an hour ("tomorrow").
    NoHour,
    /// Before now.
    Past,
    /// The local time does not exist (spring-forward gap).
    Nonexistent,
    /// The local time happens twice (fall-back fold).
    Ambiguous,
}

const TODAY: &[&str] = &["today", "сегодня", "сьогодні", "hoy", "heute"];
const TOMORROW: &[&str] = &["tomorrow", "tmrw", "завтра", "mañana", "manana", "morgen"];
const AFTER_TOMORROW: &[&str] = &["послезавтра", "післязавтра", "übermorgen", "pasado"];
/// Only ever gives a time in the past, which is refused as such rather than as unreadable.
const YESTERDAY: &[&str] = &["yesterday", "вчера", "вчора", "ayer", "gestern"];
const FILLER: &[&str] = &["at", "on", "в", "во", "о", "об", "um", "a", "las", "la", "el", "next", "this"];

/// Weekday names and abbreviations in the five languages.
const WEEKDAYS: &[(&[&str], Weekday)] = &[
    (&["mon", "monday", "пн", "понедельник", "понеділок", "lun", "lunes", "mo", "montag"], Weekday::Mon),
    (&["tue", "tues", "tuesday", "вт", "вторник", "вівторок", "mar", "martes", "di", "dienstag"], Weekday::Tue),
    (
        &[
            "wed",
            "wednesday",
            "ср",
            "среда",
            "среду",
            "середа",
            "середу",
            "mié",
            "mie",
            "miércoles",
            "miercoles",
            "mi",
            "mittwoch",
        ],
        Weekday::Wed,
    ),
    (
        &["thu", "thur", "thurs", "thursday", "чт", "четверг", "четвер", "jue", "jueves", "do", "donnerstag"],
        Weekday::Thu,
    ),
    (
        &["fri", "friday", "пт", "пятница", "пятницу", "п'ятниця", "п'ятницю", "vie", "viernes", "fr", "freitag"],
        Weekday::Fri,
    ),
    (
        &[
            "sat",
            "saturday",
            "сб",
            "суббота",
            "субботу",
            "субота",
            "суботу",
            "sáb",
            "sab",
            "sábado",
            "sabado",
            "sa",
            "samstag",
        ],
        Weekday::Sat,
    ),
    (
        &["sun", "sunday", "вс", "воскресенье", "нд", "неділя", "неділю", "dom", "domingo", "so", "sonntag"],
        Weekday::Sun,
    ),
];

fn weekday(word: &str) -> Option<Weekday> {
    let w = word.trim_end_matches('.');
    WEEKDAYS.iter().find(|(names, _)| names.contains(&w)).map(|(_, d)| *d)
}

/// "9", "9:30", "18h", "9am", "9:30pm", "18.30" after a day word.
fn clock(word: &str, next: Option<&str>) -> Option<(NaiveTime, bool)> {
    let (w, mut pm, mut am) = (word.trim_end_matches('h'), false, false);
    let mut w = w.to_owned();
    for (suffix, is_pm) in [("pm", true), ("am", false), ("p.m.", true), ("a.m.", false)] {
        if let Some(s) = w.strip_suffix(suffix) {
            w = s.to_owned();
            if is_pm {
                pm = true
            } else {
                am = true
            }
        }
    }
    let mut consumed_next = false;
    if !pm && !am {
        match next {
            Some("pm") | Some("p.m.") => {
                pm = true;
                consumed_next = true
            }
            Some("am") | Some("a.m.") => {
                am = true;
                consumed_next = true
            }
            _ => {}
        }
    }
    let (h, m) = match w.split_once([':', '.']) {
        Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None if !w.is_empty() && w.len() <= 2 => (w.parse::<u32>().ok()?, 0),
        _ => return None,
    };
    let h = match (pm, am, h) {
        (true, _, 1..=11) => h + 12,
        (_, true, 12) => 0,
        _ => h,
    };
    if (pm || am) && !(0..=23).contains(&h) {
        return None;
    }
    NaiveTime::from_hms_opt(h, m, 0).map(|t| (t, consumed_next))
}

fn date(word: &str, today: NaiveDate) -> Option<NaiveDate> {
    if let Ok(d) = NaiveDate::parse_from_str(word, "%Y-%m-%d") {
        return Some(d);
    }
    for f in ["%d.%m.%Y", "%d/%m/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(word, f) {
            return Some(d);
        }
    }
    let (d, m) = word.split_once(['.', '/'])?;
    let (d, m): (u32, u32) = (d.parse().ok()?, m.trim_end_matches('.').parse().ok()?);
    let this_year = NaiveDate::from_ymd_opt(today.year(), m, d)?;
    Some(if this_year < today { NaiveDate::from_ymd_opt(today.year() + 1, m, d)? } else { this_year })
}

/// A word that is a date rather than a time: has `-` or `/`, two dots, or one dot with a clock time after it.
fn looks_like_date(w: &str, rest: &[&str]) -> bool {
    let dots = w.matches('.').count();
    w.contains(['-', '/'])
        || dots == 2
        || (dots == 1 && rest.iter().any(|r| r.contains(':') || r.ends_with("am") || r.ends_with("pm")))
}

/// The words that lead a relative time, and its units.
const RELATIVE_LEADS: &[&str] = &["in", "через", "en", "dentro"];
const MINUTES: &[&str] = &[
    "min",
    "mins",
    "minute",
    "minutes",
    "минут",
    "минуты",
    "минуту",
    "хвилин",
    "хвилини",
    "хвилину",
    "minuten",
    "minuto",
    "minutos",
];
const HOURS: &[&str] =
    &["h", "hour", "hours", "час", "часа", "часов", "годину", "години", "годин", "stunde", "stunden", "hora", "horas"];
const DAYS: &[&str] =
    &["day", "days", "день", "дня", "дней", "днів", "дні", "tag", "tage", "tagen", "día", "días", "dia", "dias"];

/// What a "in <n> <unit>" phrase says.
enum Relative {
    /// Not such a phrase.
    No,
    /// Such a phrase, but the amount is beyond any representable time.
    TooFar,
    Delta(TimeDelta),
}

/// "in 2 hours", "через 30 минут", "in 2 Stunden", "en 2 horas".
fn relative(words: &[&str]) -> Relative {
    let [lead, n, unit] = words else { return Relative::No };
    if !RELATIVE_LEADS.contains(lead) {
        return Relative::No;
    }
    // A number past i64 is not read as one; the words then make no time either.
    let Ok(n) = n.parse::<i64>() else { return Relative::No };
    let u = *unit;
    let delta = if MINUTES.contains(&u) {
        TimeDelta::try_minutes(n)
    } else if HOURS.contains(&u) {
        TimeDelta::try_hours(n)
    } else if DAYS.contains(&u) {
        TimeDelta::try_days(n)
    } else {
        return Relative::No;
    };
    delta.map_or(Relative::TooFar, Relative::Delta)
}

/// `day` moved `n` days on, or `Invalid` past the calendar's end.
fn days_after(day: NaiveDate, n: u64) -> Result<NaiveDate, TimeError> {
    day.checked_add_days(Days::new(n)).ok_or(TimeError::Invalid)
}

/// Reads `input` as a moment in `tz`, relative to `now`.
pub fn parse_when(input: &str, tz: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, TimeError> {
    let lower = input.trim().to_lowercase().replace(',', " ");
    let words: Vec<&str> = lower.split_whitespace().filter(|w| !FILLER.contains(w)).collect();
    match relative(&words) {
        Relative::No => {}
        Relative::TooFar => return Err(TimeError::Invalid),
        Relative::Delta(d) if d <= TimeDelta::zero() => return Err(TimeError::Past),
        Relative::Delta(d) => return now.checked_add_signed(d).ok_or(TimeError::Invalid),
    }
    let local_now = now.with_timezone(&tz);
    let today = local_now.date_naive();
    let (mut day, mut time, mut explicit_day) = (None::<NaiveDate>, None::<NaiveTime>, false);
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if TODAY.contains(&w) {
            day = Some(today);
            explicit_day = true;
        } else if YESTERDAY.contains(&w) {
            day = Some(today.pred_opt().ok_or(TimeError::Invalid)?);
            explicit_day = true;
        } else if TOMORROW.contains(&w) {
            day = Some(days_after(today, 1)?);
            explicit_day = true;
        } else if AFTER_TOMORROW.contains(&w) {
            day = Some(days_after(today, 2)?);
            explicit_day = true;
        } else if let Some(wd) = weekday(w) {
            let ahead = (7 + wd.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
            day = Some(days_after(today, u64::from(ahead))?);
            explicit_day = true;
        } else if w == "am" && words.get(i + 1).is_some_and(|n| weekday(n).is_some()) {
            // German "am Freitag".
        } else if looks_like_date(w, &words[i + 1..]) {
            day = Some(date(w, today).ok_or(TimeError::Invalid)?);
            explicit_day = true;
        } else if let Some((t, consumed)) = time.is_none().then(|| clock(w, words.get(i + 1).copied())).flatten() {
            time = Some(t);
            if consumed {
                i += 1;
            }
        } else {
            return Err(TimeError::Invalid);
        }
        i += 1;
    }
    let Some(time) = time else {
        return Err(if explicit_day { TimeError::NoHour } else { TimeError::Invalid });
    };
    let day = match day {
        Some(d) => {
            // "fri 18:00" on a Friday evening means next Friday.
            if !explicit_day || d != today || to_utc(tz, d.and_time(time)).is_ok_and(|t| t > now) {
                d
            } else if words.iter().any(|w| weekday(w).is_some()) {
                days_after(d, 7)?
            } else {
                d
            }
        }
        None => {
            if to_utc(tz, today.and_time(time)).is_ok_and(|t| t > now) {
                today
            } else {
                days_after(today, 1)?
            }
        }
    };
    let at = to_utc(tz, day.and_time(time))?;
    if at <= now {
        return Err(TimeError::Past);
    }
    Ok(at)
}

fn to_utc(tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, TimeError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(_, _) => Err(TimeError::Ambiguous),
        LocalResult::None => Err(TimeError::Nonexistent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    // Sunday 22 Nov 2026, 10:00 in Lisbon (UTC+0 in winter).
    const NOW: &str = "2026-11-22T10:00:00Z";
    const LISBON: Tz = chrono_tz::Europe::Lisbon;

    #[test]
    fn english_forms_are_read_in_the_workspace_zone() {
        let now = at(NOW);
        assert_eq!(parse_when("tomorrow 9:30", LISBON, now), Ok(at("2026-11-23T09:30:00Z")));
        assert_eq!(parse_when("fri 18:00", LISBON, now), Ok(at("2026-11-27T18:00:00Z")));
        assert_eq!(parse_when("2026-12-01 14:30", LISBON, now), Ok(at("2026-12-01T14:30:00Z")));
        assert_eq!(parse_when("thursday 8am", LISBON, now), Ok(at("2026-11-26T08:00:00Z")));
        assert_eq!(parse_when("Friday at 6:15 pm", LISBON, now), Ok(at("2026-11-27T18:15:00Z")));
        assert_eq!(parse_when("in 2 hours", LISBON, now), Ok(at("2026-11-22T12:00:00Z")));
        assert_eq!(parse_when("18:00", LISBON, now), Ok(at("2026-11-22T18:00:00Z")));
        assert_eq!(parse_when("9:00", LISBON, now), Ok(at("2026-11-23T09:00:00Z")));
        let kyiv = chrono_tz::Europe::Kyiv;
        assert_eq!(parse_when("tomorrow 9:30", kyiv, now), Ok(at("2026-11-23T07:30:00Z")));
    }

    #[test]
    fn other_languages_are_understood() {
        let now = at(NOW);
        assert_eq!(parse_when("завтра 9:30", LISBON, now), Ok(at("2026-11-23T09:30:00Z")));
        assert_eq!(parse_when("пт 18:00", LISBON, now), Ok(at("2026-11-27T18:00:00Z")));
        assert_eq!(parse_when("через 2 часа", LISBON, now), Ok(at("2026-11-22T12:00:00Z")));
        assert_eq!(parse_when("mañana a las 9:30", LISBON, now), Ok(at("2026-11-23T09:30:00Z")));
        assert_eq!(parse_when("morgen um 9:30", LISBON, now), Ok(at("2026-11-23T09:30:00Z")));
        assert_eq!(parse_when("01.12.2026 14:30", LISBON, now), Ok(at("2026-12-01T14:30:00Z")));
        assert_eq!(parse_when("в п'ятницю 18:00", LISBON, now), Ok(at("2026-11-27T18:00:00Z")));
    }

    #[test]
    fn past_vague_and_garbage_times_are_refused() {
        let now = at(NOW);
        assert_eq!(parse_when("2020-01-01 10:00", LISBON, now), Err(TimeError::Past));
        assert_eq!(parse_when("today 9:00", LISBON, now), Err(TimeError::Past));
        assert_eq!(parse_when("tomorrow", LISBON, now), Err(TimeError::NoHour));
        assert_eq!(parse_when("banana o'clock", LISBON, now), Err(TimeError::Invalid));
        assert_eq!(parse_when("25:99", LISBON, now), Err(TimeError::Invalid));
        assert_eq!(parse_when("2026-13-45 10:00", LISBON, now), Err(TimeError::Invalid));
    }

    #[test]
    fn amounts_beyond_the_calendar_are_unreadable_not_a_panic() {
        let now = at(NOW);
        for input in [
            "in 9223372036854775807 minutes",
            "in 9223372036854775807 hours",
            "in 9223372036854775807 days",
            "через 9223372036854775807 минут",
            "in 153722867280912930 minutes",
            "in 106751991167300 days",
            "in 99999999999999999999999 minutes",
        ] {
            assert_eq!(parse_when(input, LISBON, now), Err(TimeError::Invalid), "{input}");
        }
        assert_eq!(parse_when("in -9223372036854775808 minutes", LISBON, now), Err(TimeError::Invalid));
        assert_eq!(parse_when("in -5 minutes", LISBON, now), Err(TimeError::Past));
        // Near the end of the calendar, "tomorrow" and weekdays have no day to land on.
        let end = DateTime::<Utc>::MAX_UTC - TimeDelta::try_hours(1).unwrap();
        for input in ["tomorrow 9:00", "послезавтра 9:00", "fri 9:00", "9:00", "in 2 days"] {
            assert!(parse_when(input, chrono_tz::UTC, end).is_err(), "{input}");
        }
    }

    #[test]
    fn yesterday_in_every_language_is_in_the_past() {
        let now = at(NOW);
        for input in ["yesterday 9:00", "вчера 9:00", "вчора о 9:00", "ayer a las 9:00", "gestern um 9:00"] {
            assert_eq!(parse_when(input, LISBON, now), Err(TimeError::Past), "{input}");
        }
        assert_eq!(parse_when("yesterday", LISBON, now), Err(TimeError::NoHour));
    }

    #[test]
    fn dst_gaps_and_folds_are_refused() {
        let now = at("2027-03-01T00:00:00Z");
        // Lisbon springs forward 2027-03-28 01:00 -> 02:00, falls back 2027-10-31 02:00 -> 01:00.
        assert_eq!(parse_when("2027-03-28 01:30", LISBON, now), Err(TimeError::Nonexistent));
        assert_eq!(parse_when("2027-10-31 01:30", LISBON, now), Err(TimeError::Ambiguous));
        assert_eq!(parse_when("2027-03-29 01:30", LISBON, now), Ok(at("2027-03-29T00:30:00Z")));
    }
}

/// Generated input, realistic and not: the words of every table above in the five languages, numbers around the
/// limits of i64 and of the clock, dates, punctuation and arbitrary unicode, at any moment in any zone.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn table_word() -> impl Strategy<Value = String> {
        let mut words: Vec<&'static str> = Vec::new();
        for t in [TODAY, TOMORROW, AFTER_TOMORROW, YESTERDAY, FILLER, RELATIVE_LEADS, MINUTES, HOURS, DAYS] {
            words.extend_from_slice(t);
        }
        for (names, _) in WEEKDAYS {
            words.extend_from_slice(names);
        }
        words.extend_from_slice(&["am", "pm", "a.m.", "p.m.", "h"]);
        prop::sample::select(words).prop_map(str::to_owned)
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            (0i64..100).prop_map(|n| n.to_string()),
            prop::sample::select(vec![
                i64::MAX,
                i64::MIN,
                i64::MAX / 60,
                i64::MAX / 1000,
                i64::MAX / 60_000,
                i64::MAX / 3_600_000,
                i64::MAX / 86_400_000,
                106_751_991_167_300,
                153_722_867_280_912_930,
                -1,
                0,
            ])
            .prop_map(|n| n.to_string()),
            "[0-9]{19,30}",
        ]
    }

    fn clock_word() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u32..30, 0u32..70).prop_map(|(h, m)| format!("{h}:{m:02}")),
            (0u32..30, 0u32..70).prop_map(|(h, m)| format!("{h}.{m:02}")),
            (0u32..15).prop_map(|h| format!("{h}am")),
            (0u32..15).prop_map(|h| format!("{h}pm")),
            (0u32..30).prop_map(|h| format!("{h}h")),
        ]
    }

    fn date_word() -> impl Strategy<Value = String> {
        prop_oneof![
            (-300_000i32..300_000, 0u32..14, 0u32..33).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
            (0u32..33, 0u32..14, 0i32..10_000).prop_map(|(d, m, y)| format!("{d:02}.{m:02}.{y}")),
            (0u32..33, 0u32..14).prop_map(|(d, m)| format!("{d}/{m}")),
            (0u32..33, 0u32..14).prop_map(|(d, m)| format!("{d}.{m}.")),
        ]
    }

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => table_word(),
            2 => number(),
            2 => clock_word(),
            1 => date_word(),
            1 => "\\PC{0,12}",
            1 => "[-:./,+ ]{1,3}",
        ]
    }

    fn input() -> impl Strategy<Value = String> {
        prop::collection::vec(word(), 0..6).prop_map(|ws| ws.join(" "))
    }

    /// `now` is the wall clock: around today, or any moment of years 1970-9999 (the typed dates range wider).
    fn moment() -> impl Strategy<Value = DateTime<Utc>> {
        prop_oneof![(1_700_000_000i64..2_100_000_000), (0i64..253_402_300_800)]
            .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH))
    }

    fn zone() -> impl Strategy<Value = Tz> {
        prop::sample::select(vec![
            chrono_tz::UTC,
            chrono_tz::Europe::Lisbon,
            chrono_tz::Europe::Kyiv,
            chrono_tz::Europe::Berlin,
            chrono_tz::Europe::Madrid,
            chrono_tz::America::Sao_Paulo,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Pacific::Pago_Pago,
            chrono_tz::Asia::Kathmandu,
            chrono_tz::Australia::Lord_Howe,
        ])
    }

    proptest! {
        #![proptest_config(tochen_testkit::props::config(512))]

        /// No input panics, and a time that is read is always after now.
        #[test]
        fn any_input_is_read_into_the_future_or_refused(text in input(), now in moment(), tz in zone()) {
            if let Ok(at) = parse_when(&text, tz, now) {
                prop_assert!(at > now, "{text:?} at {now} in {tz} gave {at}");
            }
        }

        /// Arbitrary unicode, whatever its shape.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC*", now in moment(), tz in zone()) {
            let _ = parse_when(&text, tz, now);
        }

        /// "in <n> <unit>" is exactly now plus that much, or refused when it is not representable.
        #[test]
        fn relative_times_add_exactly_or_are_refused(
            lead in prop::sample::select(RELATIVE_LEADS.to_vec()),
            n in prop_oneof![any::<i64>(), 1i64..10_000],
            (unit, ms) in prop_oneof![
                prop::sample::select(MINUTES.to_vec()).prop_map(|u| (u, 60_000i64)),
                prop::sample::select(HOURS.to_vec()).prop_map(|u| (u, 3_600_000i64)),
                prop::sample::select(DAYS.to_vec()).prop_map(|u| (u, 86_400_000i64)),
            ],
            now in moment(),
        ) {
            let got = parse_when(&format!("{lead} {n} {unit}"), chrono_tz::UTC, now);
            let expected = n
                .checked_mul(ms)
                .and_then(TimeDelta::try_milliseconds)
                .filter(|d| *d > TimeDelta::zero())
                .and_then(|d| now.checked_add_signed(d));
            match expected {
                Some(at) => prop_assert_eq!(got, Ok(at)),
                None => prop_assert!(got.is_err(), "{n} {unit} gave {got:?}"),
            }
        }
    }
}
