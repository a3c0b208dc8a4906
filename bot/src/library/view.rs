//! What a person filters the library by, saved per person and workspace (`Store::library_view`) because a button
//! carries 64 bytes: status and date presets by number, ids as text, a tag, a typed date range and search words.
//! [`View::filter`] turns it into the store's [`LibraryFilter`], reading the date presets against now in the
//! workspace's zone.

use crate::screens::time::local_midnight;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use tochen_domain::clock::Millis;
use tochen_domain::i18n::t;
use tochen_domain::{AccountId, CampaignId, Platform, PostStatus, UserId};
use tochen_store::LibraryFilter;

/// Status presets, by the number their button carries (never renumbered: buttons in chats carry them).
pub const STATUS_PRESETS: [(u8, &str, &[PostStatus]); 9] = [
    (0, "bot.library.status_any", &[]),
    (1, "bot.library.status_drafts", &[PostStatus::Draft, PostStatus::Rejected]),
    (2, "bot.library.status_waiting", &[PostStatus::PendingApproval]),
    (3, "bot.library.status_scheduled", &[PostStatus::Scheduled]),
    (4, "bot.library.status_upcoming", &[PostStatus::Scheduled, PostStatus::PendingApproval]),
    (5, "bot.library.status_published", &[PostStatus::Published, PostStatus::PartiallyPublished]),
    (6, "bot.library.status_failed", &[PostStatus::Failed]),
    (7, "bot.library.status_history", &[PostStatus::Published, PostStatus::PartiallyPublished, PostStatus::Failed]),
    (8, "bot.library.status_cancelled", &[PostStatus::Cancelled]),
];
pub const DRAFTS: u8 = 1;
pub const HISTORY: u8 = 7;

/// Date presets, by the number their button carries; [`TYPED_RANGE`] is a range the person typed.
pub const DATE_PRESETS: [(u8, &str); 7] = [
    (0, "bot.library.dates_any"),
    (1, "bot.library.dates_last7"),
    (2, "bot.library.dates_last30"),
    (3, "bot.library.dates_this_month"),
    (4, "bot.library.dates_last_month"),
    (5, "bot.library.dates_next7"),
    (6, "bot.library.dates_next30"),
];
/// The date "preset" of a typed range (its bounds are in [`View::range`]).
pub const TYPED_RANGE: u8 = 254;
/// The button that asks for a typed range.
pub const ASK_RANGE: u8 = 255;
/// Longest search kept, in characters, and most words used.
pub const SEARCH_CHARS: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    #[serde(default)]
    pub status: u8,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub dates: u8,
    /// `[start, end)` of a typed range, in unix ms.
    #[serde(default)]
    pub range: Option<(Millis, Millis)>,
    #[serde(default)]
    pub search: Option<String>,
    /// The page last shown, for "Back" from a post's card.
    #[serde(default)]
    pub page: u32,
    /// Only the posts of this campaign (issue 18).
    #[serde(default)]
    pub campaign: Option<String>,
}

impl View {
    /// A view showing only `status` (a preset number).
    pub fn only(status: u8) -> Self {
        Self { status, ..Self::default() }
    }

    pub fn statuses(&self) -> &'static [PostStatus] {
        STATUS_PRESETS.iter().find(|(n, _, _)| *n == self.status).map(|(_, _, s)| *s).unwrap_or(&[])
    }

    pub fn platform(&self) -> Option<Platform> {
        self.platform.as_deref().and_then(Platform::parse)
    }

    pub fn account(&self) -> Option<AccountId> {
        self.account.as_deref().and_then(|a| AccountId::from_db(a).ok())
    }

    pub fn campaign(&self) -> Option<CampaignId> {
        self.campaign.as_deref().and_then(|c| CampaignId::from_db(c).ok())
    }

    pub fn author(&self) -> Option<UserId> {
        self.author.as_deref().and_then(|u| UserId::from_db(u).ok())
    }

    /// Whether no filter is on (the page does not count).
    pub fn is_everything(&self) -> bool {
        Self { page: self.page, ..Self::default() } == *self
    }

    /// `[start, end)` of the date filter, read at `now` in `tz`.
    pub fn date_bounds(&self, tz: Tz, now: DateTime<Utc>) -> (Option<Millis>, Option<Millis>) {
        let today = now.with_timezone(&tz).date_naive();
        let day = |d: NaiveDate| Some(local_midnight(tz, d));
        let first = today.with_day(1).unwrap_or(today);
        let now_ms = now.timestamp_millis();
        match self.dates {
            1 => (day(today - Duration::days(6)), day(today + Duration::days(1))),
            2 => (day(today - Duration::days(29)), day(today + Duration::days(1))),
            3 => (day(first), day(next_month(first))),
            4 => (day(prev_month(first)), day(first)),
            5 => (Some(now_ms), day(today + Duration::days(8))),
            6 => (Some(now_ms), day(today + Duration::days(31))),
            TYPED_RANGE => self.range.map_or((None, None), |(s, e)| (Some(s), Some(e))),
            _ => (None, None),
        }
    }

    /// The store's filter for this view at `now` in `tz`.
    pub fn filter(&self, tz: Tz, now: DateTime<Utc>) -> LibraryFilter {
        let (since, until) = self.date_bounds(tz, now);
        LibraryFilter {
            statuses: self.statuses().to_vec(),
            platform: self.platform(),
            account: self.account(),
            author: self.author(),
            tag: self.tag.clone(),
            since,
            until,
            search: self.search.clone(),
            campaign: self.campaign(),
        }
    }

    /// The name of the status preset in `lang`.
    pub fn status_label(&self, lang: &str) -> String {
        let key = STATUS_PRESETS.iter().find(|(n, _, _)| *n == self.status).map_or(STATUS_PRESETS[0].1, |p| p.1);
        t(lang, key)
    }
}

fn next_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 { (first.year() + 1, 1) } else { (first.year(), first.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
}

fn prev_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 1 { (first.year() - 1, 12) } else { (first.year(), first.month() - 1) };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
}

/// A short, stable hash of a tag for its button (FNV-1a, 32 bits): the tag's text never goes in a button.
pub fn tag_hash(tag: &str) -> u32 {
    tag.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn date_presets_are_local_days() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let now = at("2026-11-03T10:00:00Z");
        let v = View { dates: 4, ..View::default() };
        // October 2026 in Berlin: from 1 Oct 00:00 CEST (UTC+2) to 1 Nov 00:00 CET (UTC+1).
        assert_eq!(
            v.date_bounds(tz, now),
            (Some(at("2026-09-30T22:00:00Z").timestamp_millis()), Some(at("2026-10-31T23:00:00Z").timestamp_millis()))
        );
        let v = View { dates: 1, ..View::default() };
        assert_eq!(v.date_bounds(tz, now).1, Some(at("2026-11-03T23:00:00Z").timestamp_millis()));
        assert_eq!(View::default().date_bounds(tz, now), (None, None));
        let typed = View { dates: TYPED_RANGE, range: Some((5, 9)), ..View::default() };
        assert_eq!(typed.date_bounds(tz, now), (Some(5), Some(9)));
    }

    #[test]
    fn a_view_turns_into_the_store_filter() {
        let tz: Tz = "UTC".parse().unwrap();
        let v = View {
            status: HISTORY,
            platform: Some("instagram".into()),
            tag: Some("bread".into()),
            search: Some("sourdough".into()),
            ..View::default()
        };
        let f = v.filter(tz, Utc::now());
        assert_eq!(f.statuses.len(), 3);
        assert_eq!(f.platform, Some(Platform::Instagram));
        assert_eq!((f.tag.as_deref(), f.search.as_deref()), (Some("bread"), Some("sourdough")));
        assert!(!v.is_everything() && View { page: 3, ..View::default() }.is_everything());
        // A forged or outdated value filters by nothing rather than failing.
        let odd = View { status: 200, platform: Some("myspace".into()), account: Some("x".into()), ..View::default() };
        let f = odd.filter(tz, Utc::now());
        assert!(f.statuses.is_empty() && f.platform.is_none() && f.account.is_none());
    }

    #[test]
    fn tag_hashes_are_stable() {
        assert_eq!(tag_hash(""), 0x811c_9dc5);
        assert_eq!(tag_hash("a"), 0xe40c_292c);
        assert_ne!(tag_hash("bread"), tag_hash("bakery"));
    }
}
