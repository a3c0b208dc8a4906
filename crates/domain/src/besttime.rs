//! Best time to post: engagement by weekday and hour, per platform, from a workspace's own published posts.
//!
//! - A post's **engagement rate** is `(likes + comments + shares + saves) / reach`, or `/ views` when the reach is
//!   missing (or zero). Counters the platform did not report are left out of the sum; a post with none of the four
//!   counters, or with neither reach nor views, has no rate and is not measured. The numbers are the post's
//!   latest metrics snapshot.
//! - Posts are placed by their publish time in the workspace's zone: weekday x hour (7 x 24 cells) per platform.
//!   A cell's value is the **mean of its posts' rates**.
//! - A cell **counts** with at least [`MIN_CELL_POSTS`] measured posts; a platform has **enough data** with at
//!   least [`MIN_PLATFORM_POSTS`] measured posts. Suggestions are the best counting cells of a platform with
//!   enough data, otherwise the platform's defaults ([`default_slots`]).

use crate::clock::Millis;
use crate::slots::{self, WeeklySlot};
use crate::Platform;
use chrono::{Datelike, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;

/// A cell counts with at least this many measured posts.
pub const MIN_CELL_POSTS: u32 = 3;
/// A platform's heat-map and suggestions need at least this many measured posts.
pub const MIN_PLATFORM_POSTS: u32 = 20;

/// A published post's latest counters on one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostMetrics {
    pub platform: Platform,
    pub published_at: Millis,
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub saves: Option<i64>,
}

/// The engagement rate of one post (see the module documentation), `None` when it cannot be computed.
pub fn engagement(m: &PostMetrics) -> Option<f64> {
    let parts = [m.likes, m.comments, m.shares, m.saves];
    if parts.iter().all(Option::is_none) {
        return None;
    }
    let interactions: i64 = parts.iter().flatten().sum();
    let base = m.reach.filter(|r| *r > 0).or(m.views.filter(|v| *v > 0))?;
    Some(interactions as f64 / base as f64)
}

/// One weekday x hour cell: how many measured posts and their mean rate.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cell {
    pub posts: u32,
    pub sum: f64,
}

impl Cell {
    pub fn mean(&self) -> Option<f64> {
        (self.posts > 0).then(|| self.sum / f64::from(self.posts))
    }

    /// Whether the cell has [`MIN_CELL_POSTS`].
    pub fn counts(&self) -> bool {
        self.posts >= MIN_CELL_POSTS
    }
}

/// A platform's heat-map: `cells[weekday from Monday][hour]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformBest {
    pub platform: Platform,
    /// Posts with an engagement rate.
    pub measured: u32,
    pub cells: [[Cell; 24]; 7],
}

impl PlatformBest {
    fn new(platform: Platform) -> Self {
        Self { platform, measured: 0, cells: [[Cell::default(); 24]; 7] }
    }

    /// Whether it has [`MIN_PLATFORM_POSTS`] measured posts.
    pub fn enough(&self) -> bool {
        self.measured >= MIN_PLATFORM_POSTS
    }

    /// The mean rate of a counting cell.
    pub fn rate(&self, weekday: Weekday, hour: u32) -> Option<f64> {
        let c = self.cells.get(weekday.num_days_from_monday() as usize)?.get(hour as usize)?;
        if c.counts() {
            c.mean()
        } else {
            None
        }
    }

    /// The `n` counting cells with the highest mean rate (ties: earlier in the week first), as slots on the hour.
    pub fn top(&self, n: usize) -> Vec<(WeeklySlot, f64)> {
        let mut all: Vec<(WeeklySlot, f64)> = Vec::new();
        for (d, row) in self.cells.iter().enumerate() {
            for (h, c) in row.iter().enumerate() {
                if let (true, Some(mean)) = (c.counts(), c.mean()) {
                    if let Some(s) = WeeklySlot::from_db(d as i64, h as i64 * 60) {
                        all.push((s, mean));
                    }
                }
            }
        }
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        all.truncate(n);
        all
    }
}

/// Aggregates posts into one heat-map per platform that has any (in `Platform` order), in zone `tz`.
pub fn aggregate(posts: &[PostMetrics], tz: Tz) -> Vec<PlatformBest> {
    let mut out: Vec<PlatformBest> = Vec::new();
    for p in posts {
        let Some(rate) = engagement(p) else { continue };
        let Some(at) = Utc.timestamp_millis_opt(p.published_at).single() else { continue };
        let local = at.with_timezone(&tz);
        let i = match out.iter().position(|b| b.platform == p.platform) {
            Some(i) => i,
            None => {
                out.push(PlatformBest::new(p.platform));
                out.len() - 1
            }
        };
        let b = &mut out[i];
        b.measured += 1;
        let c = &mut b.cells[local.weekday().num_days_from_monday() as usize][local.hour() as usize];
        c.posts += 1;
        c.sum += rate;
    }
    out.sort_by_key(|b| b.platform.as_str());
    out
}

/// The defaults used without enough data, common advice for each platform (in the workspace's zone):
/// Facebook weekdays 09:00 and 13:00; Instagram weekdays 11:00 and 19:00, weekends 10:00; TikTok every day 12:00
/// and 19:00.
pub fn default_slots(platform: Platform) -> Vec<WeeklySlot> {
    let text = match platform {
        Platform::Facebook => "Mon-Fri 09:00, 13:00",
        Platform::Instagram => "Mon-Fri 11:00, 19:00; Sat-Sun 10:00",
        Platform::TikTok => "daily 12:00, 19:00",
    };
    slots::parse(text).unwrap_or_default()
}

/// The suggested slots of a platform: its top `n` cells with enough data, otherwise its defaults. The flag says
/// whether they come from the data.
pub fn suggested(platform: Platform, bests: &[PlatformBest], n: usize) -> (Vec<WeeklySlot>, bool) {
    match bests.iter().find(|b| b.platform == platform) {
        Some(b) if b.enough() && !b.top(n).is_empty() => {
            (slots::normalize(b.top(n).into_iter().map(|(s, _)| s).collect()), true)
        }
        _ => (default_slots(platform), false),
    }
}

/// The next "best time" after `after` for a post going to `platforms`: the soonest of their suggested slots
/// (top 3 with enough data, else defaults). `None` without platforms.
pub fn next_best(platforms: &[Platform], bests: &[PlatformBest], tz: Tz, after: Millis) -> Option<Millis> {
    let all: Vec<WeeklySlot> = platforms.iter().flat_map(|p| suggested(*p, bests, 3).0).collect();
    slots::next_free(&slots::normalize(all), tz, after, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32) -> Millis {
        Utc.with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap().timestamp_millis()
    }

    fn post(platform: Platform, at: Millis, likes: i64, reach: Option<i64>, views: Option<i64>) -> PostMetrics {
        PostMetrics {
            platform,
            published_at: at,
            views,
            reach,
            likes: Some(likes),
            comments: Some(1),
            shares: None,
            saves: Some(0),
        }
    }

    #[test]
    fn the_rate_uses_reach_then_views_and_never_invents_zeroes() {
        let p = post(Platform::Instagram, 0, 9, Some(100), Some(1000));
        assert_eq!(engagement(&p), Some(0.1));
        assert_eq!(engagement(&post(Platform::Instagram, 0, 9, None, Some(50))), Some(0.2));
        assert_eq!(engagement(&post(Platform::Instagram, 0, 9, Some(0), Some(50))), Some(0.2));
        assert_eq!(engagement(&post(Platform::Instagram, 0, 9, None, None)), None);
        let none = PostMetrics { likes: None, comments: None, saves: None, ..p };
        assert_eq!(engagement(&none), None);
    }

    #[test]
    fn cells_need_three_posts_and_platforms_twenty() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // Monday 2026-12-07 10:00 UTC = 11:00 Berlin.
        let mon = utc(2026, 12, 7, 10);
        let mut posts = vec![
            post(Platform::Facebook, mon, 9, Some(100), None),  // 0.10
            post(Platform::Facebook, mon, 19, Some(100), None), // 0.20
            post(Platform::Facebook, mon, 29, Some(100), None), // 0.30
        ];
        // Two posts on Tuesday 11:00: does not count.
        posts.push(post(Platform::Facebook, mon + 86_400_000, 99, Some(100), None));
        posts.push(post(Platform::Facebook, mon + 86_400_000, 99, Some(100), None));
        let b = aggregate(&posts, tz);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].measured, 5);
        assert!(!b[0].enough());
        assert!((b[0].rate(Weekday::Mon, 11).unwrap() - 0.2).abs() < 1e-9);
        assert_eq!(b[0].rate(Weekday::Tue, 11), None);
        assert_eq!(b[0].top(3).len(), 1);
        // Not enough data: the defaults.
        assert_eq!(suggested(Platform::Facebook, &b, 3), (default_slots(Platform::Facebook), false));
        // 20 measured posts: the data.
        for _ in 0..15 {
            posts.push(post(Platform::Facebook, mon + 7 * 3_600_000, 4, Some(100), None));
        }
        let b = aggregate(&posts, tz);
        assert!(b[0].enough());
        let (s, from_data) = suggested(Platform::Facebook, &b, 3);
        assert!(from_data);
        assert_eq!(s, slots::parse("Mon 11:00 18:00").unwrap());
    }

    #[test]
    fn defaults_exist_for_every_platform_and_next_best_is_in_the_future() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        for p in [Platform::Facebook, Platform::Instagram, Platform::TikTok] {
            assert!(!default_slots(p).is_empty());
        }
        // Saturday 2026-12-12 12:00 UTC: Facebook's next default is Monday 09:00 Berlin.
        let at = next_best(&[Platform::Facebook], &[], tz, utc(2026, 12, 12, 12)).unwrap();
        assert_eq!(at, utc(2026, 12, 14, 8));
        assert_eq!(next_best(&[], &[], tz, 0), None);
    }
}
