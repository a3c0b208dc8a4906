//! Typed date ranges ("2026-11-01 2026-11-30", "1.11.2026 - 30.11.2026", one date for one day), read as whole
//! local days in the workspace's zone: `[start of the first day, start of the day after the last)`.
//!
//! Like typed times, a range is refused with a reason rather than guessed: an unreadable date is quoted back, a
//! range ending before it starts or longer than [`MAX_DAYS`] is named as such.

use crate::screens::time::local_midnight;
use chrono::{Days, NaiveDate};
use chrono_tz::Tz;
use tochen_domain::clock::Millis;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_telegram::text::{clip, ECHO_MAX};

/// The longest range read, in days (about five years).
pub const MAX_DAYS: i64 = tochen_delivery::reports::MAX_PERIOD_DAYS;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeError {
    /// This piece is not a date.
    NotADate(String),
    /// No date, or more than two.
    Shape,
    /// The end is before the start.
    Reversed,
    /// Longer than [`MAX_DAYS`].
    TooLong,
}

impl RangeError {
    /// What to tell the person, in `lang` (the prompt stays, so they can send the range again).
    pub fn explain(&self, lang: &str) -> String {
        match self {
            RangeError::NotADate(w) => {
                tf(lang, "bot.library.range_not_a_date", &[("input", &escape_html(&clip(w, ECHO_MAX)))])
            }
            RangeError::Shape => t(lang, "bot.library.range_shape"),
            RangeError::Reversed => t(lang, "bot.library.range_reversed"),
            RangeError::TooLong => tf(lang, "bot.library.range_too_long", &[("days", &MAX_DAYS)]),
        }
    }
}

/// Words and signs people put between the two dates.
const BETWEEN: &[&str] = &["-", "–", "—", "..", "to", "bis", "a", "al", "до", "по"];

fn date(word: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%d.%m.%Y", "%Y.%m.%d"].iter().find_map(|f| NaiveDate::parse_from_str(word, f).ok())
}

/// The local days `text` names, as `[start, end)` in unix ms in zone `tz`.
pub fn parse_date_range(text: &str, tz: Tz) -> Result<(Millis, Millis), RangeError> {
    let spaced = text.replace("..", " .. ").replace(['–', '—'], " - ");
    let words: Vec<&str> = spaced
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty() && !BETWEEN.contains(&w.to_lowercase().as_str()))
        .collect();
    let days: Vec<NaiveDate> =
        words.iter().map(|w| date(w).ok_or_else(|| RangeError::NotADate((*w).to_owned()))).collect::<Result<_, _>>()?;
    let (first, last) = match days.as_slice() {
        [one] => (*one, *one),
        [a, b] => (*a, *b),
        _ => return Err(RangeError::Shape),
    };
    if last < first {
        return Err(RangeError::Reversed);
    }
    if (last - first).num_days() >= MAX_DAYS {
        return Err(RangeError::TooLong);
    }
    let after = last.checked_add_days(Days::new(1)).ok_or(RangeError::TooLong)?;
    Ok((local_midnight(tz, first), local_midnight(tz, after)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn ms(s: &str) -> Millis {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc).timestamp_millis()
    }

    #[test]
    fn ranges_are_whole_local_days() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let nov = (ms("2026-10-31T23:00:00Z"), ms("2026-11-30T23:00:00Z"));
        for text in [
            "2026-11-01 2026-11-30",
            "2026-11-01 - 2026-11-30",
            "1.11.2026 – 30.11.2026",
            "2026-11-01..2026-11-30",
            "2026-11-01 to 2026-11-30",
        ] {
            assert_eq!(parse_date_range(text, tz), Ok(nov), "{text}");
        }
        // Across the end of summer time: 25 local hours in that day.
        assert_eq!(parse_date_range("2026-10-25", tz), Ok((ms("2026-10-24T22:00:00Z"), ms("2026-10-25T23:00:00Z"))));
    }

    #[test]
    fn bad_ranges_say_why() {
        let tz: Tz = "UTC".parse().unwrap();
        assert_eq!(parse_date_range("2026-11-31 2026-12-01", tz), Err(RangeError::NotADate("2026-11-31".into())));
        assert_eq!(parse_date_range("yesterday", tz), Err(RangeError::NotADate("yesterday".into())));
        assert_eq!(parse_date_range("", tz), Err(RangeError::Shape));
        assert_eq!(parse_date_range("2026-01-01 2026-01-02 2026-01-03", tz), Err(RangeError::Shape));
        assert_eq!(parse_date_range("2026-12-01 2026-11-01", tz), Err(RangeError::Reversed));
        assert_eq!(parse_date_range("2000-01-01 2026-01-01", tz), Err(RangeError::TooLong));
        assert!(parse_date_range("9999-12-31", tz).is_ok());
    }
}
