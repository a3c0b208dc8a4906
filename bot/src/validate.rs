//! Each platform's rules for a post (docs/contracts/meta.md, docs/contracts/tiktok.md), checked on the draft screen so
//! the team sees a problem before scheduling instead of a failed publish at 8 am.

use tochen_domain::Platform;

/// Limits that change with platform policy; the Instagram hashtag count is configurable
/// (`TOCHEN_INSTAGRAM_MAX_HASHTAGS`) because Instagram announced a cut from 30 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub instagram_max_hashtags: usize,
    pub tiktok_max_hashtags: usize,
    pub facebook_max_hashtags: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Self { instagram_max_hashtags: 30, tiktok_max_hashtags: 30, facebook_max_hashtags: 30 }
    }
}

impl Rules {
    pub fn from_env() -> Self {
        let mut r = Self::default();
        if let Some(n) = std::env::var("TOCHEN_INSTAGRAM_MAX_HASHTAGS").ok().and_then(|v| v.parse().ok()) {
            r.instagram_max_hashtags = n;
        }
        r
    }

    pub fn max_hashtags(&self, p: Platform) -> usize {
        match p {
            Platform::Instagram => self.instagram_max_hashtags,
            Platform::TikTok => self.tiktok_max_hashtags,
            Platform::Facebook => self.facebook_max_hashtags,
        }
    }
}

/// Caption length limit in characters (TikTok counts UTF-16 units).
pub fn max_caption(p: Platform) -> usize {
    match p {
        Platform::Instagram => 2200,
        Platform::TikTok => 2200,
        Platform::Facebook => 63_206,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    TooLong { len: usize, max: usize },
    TooManyHashtags { count: usize, max: usize },
    NeedsImageOrVideo,
    NeedsVideoOrPhotos,
}

/// The caption as published: body, a blank line, then the hashtags.
pub fn caption(body: &str, hashtags: &[String]) -> String {
    if hashtags.is_empty() {
        body.to_owned()
    } else {
        let tags: Vec<String> = hashtags.iter().map(|t| format!("#{t}")).collect();
        format!("{body}\n\n{}", tags.join(" "))
    }
}

pub fn check(rules: &Rules, p: Platform, body: &str, hashtags: &[String], has_media: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    let text = caption(body, hashtags);
    let len = match p {
        Platform::TikTok => text.encode_utf16().count(),
        _ => text.chars().count(),
    };
    if len > max_caption(p) {
        problems.push(Problem::TooLong { len, max: max_caption(p) });
    }
    if hashtags.len() > rules.max_hashtags(p) {
        problems.push(Problem::TooManyHashtags { count: hashtags.len(), max: rules.max_hashtags(p) });
    }
    if !has_media {
        match p {
            Platform::Instagram => problems.push(Problem::NeedsImageOrVideo),
            Platform::TikTok => problems.push(Problem::NeedsVideoOrPhotos),
            Platform::Facebook => {}
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instagram_needs_media_and_respects_the_configured_hashtag_limit() {
        let rules = Rules { instagram_max_hashtags: 5, ..Rules::default() };
        let tags: Vec<String> = (0..6).map(|i| format!("t{i}")).collect();
        let p = check(&rules, Platform::Instagram, "hi", &tags, false);
        assert!(p.contains(&Problem::NeedsImageOrVideo));
        assert!(p.contains(&Problem::TooManyHashtags { count: 6, max: 5 }));
        assert!(check(&rules, Platform::Facebook, "hi", &tags[..3], false).is_empty());
    }

    #[test]
    fn long_captions_are_flagged() {
        let body = "x".repeat(2300);
        let p = check(&Rules::default(), Platform::Instagram, &body, &[], true);
        assert_eq!(p, vec![Problem::TooLong { len: 2300, max: 2200 }]);
    }
}
