//! Free-text times typed by people ("tomorrow 9:30", "fri 18:00", "2026-12-01 14:30", "через 2 часа") read in
//! the workspace's time zone.
//!
//! A time that is in the past, that names a day but no hour, or that falls into a DST gap or fold is refused with
//! a reason the bot can explain, never guessed: a post at the wrong hour is worse than one more question.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
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
const FILLER: &[&str] = &["at", "on", "в", "во", "о", "об", "um", "a", "las", "la", "el", "next", "this"];

fn weekday(word: &str) -> Option<Weekday> {
    use Weekday::*;
    let w = word.trim_end_matches('.');
    let table: &[(&[&str], Weekday)] = &[
        (&["mon", "monday", "пн", "понедельник", "понеділок", "lun", "lunes", "mo", "montag"], Mon),
        (&["tue", "tues", "tuesday", "вт", "вторник", "вівторок", "mar", "martes", "di", "dienstag"], Tue),
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
            Wed,
        ),
        (&["thu", "thur", "thurs", "thursday", "чт", "четверг", "четвер", "jue", "jueves", "do", "donnerstag"], Thu),
        (
            &["fri", "friday", "пт", "пятница", "пятницу", "п'ятниця", "п'ятницю", "vie", "viernes", "fr", "freitag"],
            Fri,
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
            Sat,
        ),
        (&["sun", "sunday", "вс", "воскресенье", "нд", "неділя", "неділю", "dom", "domingo", "so", "sonntag"], Sun),
    ];
    table.iter().find(|(names, _)| names.contains(&w)).map(|(_, d)| *d)
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

/// "in 2 hours", "через 30 минут", "in 2 Stunden", "en 2 horas".
fn relative(words: &[&str]) -> Option<Duration> {
    let [lead, n, unit] = words else { return None };
    if !["in", "через", "en", "dentro"].contains(lead) {
        return None;
    }
    let n: i64 = n.parse().ok()?;
    let u = *unit;
    let minutes = [
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
    let hours = [
        "h",
        "hour",
        "hours",
        "час",
        "часа",
        "часов",
        "годину",
        "години",
        "годин",
        "stunde",
        "stunden",
        "hora",
        "horas",
    ];
    let days =
        ["day", "days", "день", "дня", "дней", "днів", "дні", "tag", "tage", "tagen", "día", "días", "dia", "dias"];
    if minutes.contains(&u) {
        Some(Duration::minutes(n))
    } else if hours.contains(&u) {
        Some(Duration::hours(n))
    } else if days.contains(&u) {
        Some(Duration::days(n))
    } else {
        None
    }
}

/// Reads `input` as a moment in `tz`, relative to `now`.
pub fn parse_when(input: &str, tz: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, TimeError> {
    let lower = input.trim().to_lowercase().replace(',', " ");
    let words: Vec<&str> = lower.split_whitespace().filter(|w| !FILLER.contains(w)).collect();
    if let Some(d) = relative(&words) {
        return if d <= Duration::zero() { Err(TimeError::Past) } else { Ok(now + d) };
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
        } else if TOMORROW.contains(&w) {
            day = Some(today + Duration::days(1));
            explicit_day = true;
        } else if AFTER_TOMORROW.contains(&w) {
            day = Some(today + Duration::days(2));
            explicit_day = true;
        } else if let Some(wd) = weekday(w) {
            let ahead =
                (wd.num_days_from_monday() as i64 - today.weekday().num_days_from_monday() as i64).rem_euclid(7);
            day = Some(today + Duration::days(ahead));
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
                d + Duration::days(7)
            } else {
                d
            }
        }
        None => {
            if to_utc(tz, today.and_time(time)).is_ok_and(|t| t > now) {
                today
            } else {
                today + Duration::days(1)
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
    fn dst_gaps_and_folds_are_refused() {
        let now = at("2027-03-01T00:00:00Z");
        // Lisbon springs forward 2027-03-28 01:00 -> 02:00, falls back 2027-10-31 02:00 -> 01:00.
        assert_eq!(parse_when("2027-03-28 01:30", LISBON, now), Err(TimeError::Nonexistent));
        assert_eq!(parse_when("2027-10-31 01:30", LISBON, now), Err(TimeError::Ambiguous));
        assert_eq!(parse_when("2027-03-29 01:30", LISBON, now), Ok(at("2027-03-29T00:30:00Z")));
    }
}
