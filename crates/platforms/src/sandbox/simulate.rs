//! Simulated engagement: what a sandbox post would have gathered by now.
//!
//! Everything is derived from stable inputs (the sandbox post id, which is a UUIDv7 and so carries its publication
//! time, and the sandbox account's id), never from a random source or a stored counter: a metrics sync run twice
//! at the same moment reads the same numbers, and numbers only grow. Each workspace gets a pattern, better hours
//! and better weekdays, so reports, alerts and "best time to post" have something real-looking to find.
//!
//! The answer is the [`PostMetrics`] a real reader gives. Numbers follow what each platform reports: Facebook has no saves, TikTok no reach (its API gives views, likes,
//! comments and shares). What a platform does not report stays `None`, as with the real readers.

use crate::metrics::PostMetrics;
use serde_json::json;
use sha2::{Digest, Sha256};
use tochen_domain::clock::Millis;
use tochen_domain::Platform;

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: f64 = 24.0 * HOUR_MS;

/// A number in `[0, 1)` drawn from `key` and `salt`: the same inputs always give the same number.
fn unit(key: &str, salt: &str) -> f64 {
    let digest =
        Sha256::new().chain_update(key.as_bytes()).chain_update([0u8]).chain_update(salt.as_bytes()).finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

/// A workspace's rhythm: the hour of the day (UTC) its audience is most awake and its two best weekdays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pattern {
    pub peak_hour: u32,
    /// Weekdays counted from Monday = 0.
    pub best_days: [u32; 2],
}

impl Pattern {
    pub fn of(account_key: &str) -> Self {
        let peak_hour = 8 + (unit(account_key, "peak") * 12.0) as u32; // 08:00 to 19:00
        let first = (unit(account_key, "day1") * 7.0) as u32 % 7;
        let second = (first + 1 + (unit(account_key, "day2") * 6.0) as u32 % 6) % 7;
        Self { peak_hour, best_days: [first, second] }
    }

    /// How much better than average a post published at `at` does: about 0.6 at night on an ordinary day, up to
    /// about 2.2 at the peak hour of a best day.
    pub fn factor(&self, at: Millis) -> f64 {
        let hour = ((at as f64 / HOUR_MS).floor() as i64).rem_euclid(24) as f64;
        let distance = (hour - self.peak_hour as f64).abs();
        let distance = distance.min(24.0 - distance);
        let hour_bonus = 1.1 * (-(distance * distance) / 18.0).exp();
        // 1970-01-01 was a Thursday (Monday = 0, so Thursday = 3).
        let weekday = ((at as f64 / DAY_MS).floor() as i64 + 3).rem_euclid(7) as u32;
        let day_bonus = if self.best_days.contains(&weekday) { 0.5 } else { 0.0 };
        0.6 + hour_bonus + day_bonus
    }
}

/// The share of a post's final audience it has reached `age_ms` after publication: most of it within two days,
/// a slow tail for weeks.
fn growth(age_ms: i64) -> f64 {
    if age_ms <= 0 {
        return 0.0;
    }
    let hours = age_ms as f64 / HOUR_MS;
    let days = age_ms as f64 / DAY_MS;
    (0.85 * (1.0 - (-hours / 14.0).exp()) + 0.15 * (1.0 - (-days / 12.0).exp())).min(1.0)
}

/// What a post with `post_key`, published at `published_at` to an account with `account_key`, shows at `now`.
pub fn post(platform: Platform, post_key: &str, account_key: &str, published_at: Millis, now: Millis) -> PostMetrics {
    let base = match platform {
        Platform::Facebook => 420.0,
        Platform::Instagram => 650.0,
        Platform::TikTok => 1_500.0,
    };
    // Some posts do far better than others: a spread of about 0.35x to 3x around the base.
    let luck = 0.35 + 2.65 * unit(post_key, "luck").powf(1.6);
    let total = base * luck * Pattern::of(account_key).factor(published_at);
    let views = (total * growth(now - published_at)).round();
    let like_rate = 0.025 + 0.045 * unit(post_key, "likes");
    let likes = (views * like_rate).round();
    let comments = (likes * (0.04 + 0.08 * unit(post_key, "comments"))).round();
    let shares = (likes * (0.02 + 0.06 * unit(post_key, "shares"))).round();
    let saves = (likes * (0.05 + 0.1 * unit(post_key, "saves"))).round();
    let reach = (views * (0.62 + 0.2 * unit(post_key, "reach"))).round();
    let n = |x: f64| Some(x as i64);
    match platform {
        Platform::Facebook => PostMetrics {
            views: n(views),
            reach: n(reach),
            likes: n(likes),
            comments: n(comments),
            shares: n(shares),
            saves: None,
            raw: json!({"simulated": true}),
        },
        Platform::Instagram => PostMetrics {
            views: n(views),
            reach: n(reach),
            likes: n(likes),
            comments: n(comments),
            shares: n(shares),
            saves: n(saves),
            raw: json!({"simulated": true}),
        },
        Platform::TikTok => PostMetrics {
            views: n(views),
            reach: None,
            likes: n(likes),
            comments: n(comments),
            shares: n(shares),
            saves: None,
            raw: json!({"simulated": true}),
        },
    }
}

/// An account's followers at `now`: a start between 150 and 3,000 that grows a little every day since
/// `connected_at`.
pub fn followers(account_key: &str, connected_at: Millis, now: Millis) -> i64 {
    let start = 150.0 + 2_850.0 * unit(account_key, "followers");
    let per_day = 2.0 + 10.0 * unit(account_key, "follow_rate");
    let days = ((now - connected_at).max(0) as f64 / DAY_MS).floor();
    (start + per_day * days).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Millis = 1_796_000_000_000; // late November 2026

    #[test]
    fn the_same_inputs_give_the_same_numbers() {
        let a = post(Platform::Instagram, "p1", "acc", T0, T0 + 5 * 3_600_000);
        let b = post(Platform::Instagram, "p1", "acc", T0, T0 + 5 * 3_600_000);
        assert_eq!(a, b);
        assert_ne!(a, post(Platform::Instagram, "p2", "acc", T0, T0 + 5 * 3_600_000));
    }

    #[test]
    fn numbers_start_at_zero_and_only_grow() {
        let at = |h: i64| post(Platform::Facebook, "p", "acc", T0, T0 + h * 3_600_000);
        assert_eq!(at(0).views, Some(0));
        assert_eq!(at(-3).likes, Some(0));
        let mut last = at(0);
        for h in [1, 2, 6, 12, 24, 48, 96, 24 * 14, 24 * 60] {
            let now = at(h);
            for (new, old) in [
                (now.views, last.views),
                (now.reach, last.reach),
                (now.likes, last.likes),
                (now.comments, last.comments),
                (now.shares, last.shares),
            ] {
                assert!(new >= old, "{h}h: {new:?} < {old:?}");
            }
            last = now;
        }
        assert!(at(1).views < at(48).views);
        assert!(at(48).views.unwrap() > 50, "{:?}", at(48));
    }

    #[test]
    fn each_platform_reports_what_it_reports() {
        let day = T0 + 24 * 3_600_000;
        let fb = post(Platform::Facebook, "p", "a", T0, day);
        assert!(fb.saves.is_none() && fb.reach.is_some());
        let tt = post(Platform::TikTok, "p", "a", T0, day);
        assert!(tt.reach.is_none() && tt.saves.is_none() && tt.views.is_some());
        let ig = post(Platform::Instagram, "p", "a", T0, day);
        assert!(ig.saves.is_some() && ig.reach <= ig.views);
    }

    #[test]
    fn a_workspace_has_better_hours_and_days() {
        let p = Pattern::of("workspace account");
        assert!((8..20).contains(&p.peak_hour));
        assert_ne!(p.best_days[0], p.best_days[1]);
        let day_start = T0 - T0.rem_euclid(86_400_000);
        let at_hour = |h: u32| day_start + h as i64 * 3_600_000;
        assert!(p.factor(at_hour(p.peak_hour)) > p.factor(at_hour((p.peak_hour + 12) % 24)) + 0.8);
        // Every weekday at the same hour: the two best days beat the others.
        let by_day: Vec<(u32, f64)> = (0..7)
            .map(|d| {
                let t = at_hour(p.peak_hour) + d * 86_400_000;
                (((t / 86_400_000) + 3).rem_euclid(7) as u32, p.factor(t))
            })
            .collect();
        let best = by_day.iter().filter(|(d, _)| p.best_days.contains(d)).map(|x| x.1).fold(f64::MAX, f64::min);
        let rest = by_day.iter().filter(|(d, _)| !p.best_days.contains(d)).map(|x| x.1).fold(0.0, f64::max);
        assert!(best > rest, "{by_day:?} {p:?}");
    }

    #[test]
    fn followers_grow_by_the_day() {
        let f0 = followers("acc", T0, T0);
        assert!((150..=3000).contains(&f0));
        assert!(followers("acc", T0, T0 + 10 * 86_400_000) > f0);
        assert_eq!(followers("acc", T0, T0 - 5), f0);
    }
}
