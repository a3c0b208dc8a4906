//! `/calendar`'s buttons (`cv<x>`): a week or a month around a day, today's, and a day's posts. A day is a
//! number of days since 1970-01-01 (the workspace's local date), so the buttons carry no ids and no text; the bot
//! reads the workspace's posts again on every press.

use super::fields::{build, num};

/// Which picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarView {
    Week,
    Month,
}

impl CalendarView {
    fn code(self) -> &'static str {
        match self {
            Self::Week => "w",
            Self::Month => "m",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "w" => Some(Self::Week),
            "m" => Some(Self::Month),
            _ => None,
        }
    }
}

/// A button of the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Calendar {
    /// The week or month holding a day (days since 1970-01-01): `cvs:<w|m>:<day>`.
    Show(CalendarView, i32),
    /// The week or month of today, as it is when pressed: `cvt:<w|m>`.
    Today(CalendarView),
    /// The list of a day's posts: `cvd:<day>`.
    Day(i32),
    /// Another page of a day's list, edited in place: `cvp:<day>:<page>`.
    DayPage(i32, u16),
}

impl Calendar {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::Show(v, d) => build("cvs", &[v.code(), &d.to_string()]),
            Self::Today(v) => build("cvt", &[v.code()]),
            Self::Day(d) => build("cvd", &[&d.to_string()]),
            Self::DayPage(d, p) => build("cvp", &[&d.to_string(), &p.to_string()]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        Some(match (prefix, f.len()) {
            ("cvs", 2) => Self::Show(CalendarView::parse(f[0])?, num(f, 1)?),
            ("cvt", 1) => Self::Today(CalendarView::parse(f[0])?),
            ("cvd", 1) => Self::Day(num(f, 0)?),
            ("cvp", 2) => Self::DayPage(num(f, 0)?, num(f, 1)?),
            _ => return None,
        })
    }
}

/// One button of every variant, with the longest fields each can carry.
#[cfg(test)]
pub(super) fn every_variant() -> Vec<Calendar> {
    vec![
        Calendar::Show(CalendarView::Week, i32::MIN),
        Calendar::Show(CalendarView::Month, i32::MAX),
        Calendar::Show(CalendarView::Week, 20_800),
        Calendar::Today(CalendarView::Week),
        Calendar::Today(CalendarView::Month),
        Calendar::Day(i32::MIN),
        Calendar::Day(0),
        Calendar::DayPage(i32::MIN, u16::MAX),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::{Button, MAX_CALLBACK_BYTES};
    use super::*;

    #[test]
    fn every_calendar_button_round_trips_within_64_bytes() {
        for b in every_variant() {
            let data = Button::Calendar(b.clone()).encode();
            assert!(data.len() <= MAX_CALLBACK_BYTES, "{data}");
            assert_eq!(Button::decode(&data), Some(Button::Calendar(b)), "{data}");
        }
        assert_eq!(Button::Calendar(Calendar::Show(CalendarView::Month, 20_800)).encode(), "cvs:m:20800");
        assert_eq!(Button::Calendar(Calendar::Today(CalendarView::Week)).encode(), "cvt:w");
        assert_eq!(Button::Calendar(Calendar::Day(-3)).encode(), "cvd:-3");
    }

    #[test]
    fn malformed_calendar_data_decodes_to_nothing() {
        for data in ["cvs:x:1", "cvs:w", "cvs:w:1:2", "cvs:w:abc", "cvt:y", "cvt", "cvd", "cvd:1.5", "cvd:99999999999"]
        {
            assert_eq!(Button::decode(data), None, "{data}");
        }
    }
}
