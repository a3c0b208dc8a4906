//! A platform's rules for a post: caption length, hashtag count, media it needs, and what the writer (the LLM)
//! aims for inside those limits. Each platform declares its own in its folder (`facebook/`, `instagram/`,
//! `tiktok/`); the draft screen checks a post against them so the team sees a problem before scheduling, the
//! publisher refuses what the platform would refuse, and the LLM prompt is written from the same numbers.

use std::collections::HashMap;
use tochen_domain::Platform;

/// The rules of every platform under one configuration, read once (the bot keeps one; `RuleBook::new` in the
/// registry builds it from every platform module).
#[derive(Debug, Clone)]
pub struct RuleBook(HashMap<Platform, Rules>);

impl RuleBook {
    pub(crate) fn from_modules(rules: HashMap<Platform, Rules>) -> Self {
        Self(rules)
    }

    pub fn get(&self, platform: Platform) -> Rules {
        // Built from every module, and every platform has one (`every_platform_has_exactly_one_module`).
        self.0[&platform]
    }
}

/// How a platform counts caption length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Unicode scalar values (Meta).
    Chars,
    /// UTF-16 code units (TikTok).
    Utf16,
}

/// What media a post on the platform must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaNeed {
    /// Text alone is a valid post.
    Optional,
    /// An image or a video (Instagram).
    ImageOrVideo,
    /// A video or photos (TikTok).
    VideoOrPhotos,
}

/// One platform's rules, with limits that come from configuration already applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub platform: Platform,
    /// Longest caption the platform accepts, body and hashtags together.
    pub max_caption: usize,
    pub counting: Counting,
    /// Most hashtags the platform accepts.
    pub max_hashtags: usize,
    pub media: MediaNeed,
    /// The caption length a good post aims for (the LLM is asked to stay under it).
    pub aim_caption: usize,
    /// The hashtag range a good post aims for; never above `max_hashtags`.
    pub aim_hashtags: (usize, usize),
    /// Most @-mentions (tags of other accounts) a caption may carry; `None`: no limit is documented.
    pub max_mentions: Option<usize>,
    /// Whether links in a caption can be clicked (on Instagram and TikTok they are plain text).
    pub links_clickable: bool,
}

/// Why a post does not fit a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    TooLong {
        len: usize,
        max: usize,
    },
    TooManyHashtags {
        count: usize,
        max: usize,
    },
    NeedsImageOrVideo,
    NeedsVideoOrPhotos,
    TooManyMentions {
        count: usize,
        max: usize,
    },
    /// A link the platform shows as plain text: a warning, the post may still go out.
    LinkNotClickable,
}

impl Problem {
    /// Whether the platform would refuse the post (a warning does not stop scheduling).
    pub fn blocks(&self) -> bool {
        !matches!(self, Problem::LinkNotClickable)
    }
}

/// The words of `text` that start with `mark` (`#` hashtags, `@` mentions) and carry at least one letter, digit
/// or underscore, as the platforms recognise them.
pub fn tokens(text: &str, mark: char) -> usize {
    let mut count = 0;
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let starts_word = prev.is_none_or(|p| p.is_whitespace() || "([{,.;:!?\"'".contains(p));
        if c == mark && starts_word && chars.peek().is_some_and(|n| n.is_alphanumeric() || *n == '_') {
            count += 1;
        }
        prev = Some(c);
    }
    count
}

/// Whether `text` holds a web link.
pub fn has_link(text: &str) -> bool {
    text.split_whitespace().any(|w| {
        let w = w.trim_start_matches(|c: char| "([{<\"'".contains(c)).to_ascii_lowercase();
        w.starts_with("http://") || w.starts_with("https://") || w.starts_with("www.")
    })
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

impl Rules {
    /// The length of `text` as the platform counts it.
    pub fn length(&self, text: &str) -> usize {
        match self.counting {
            Counting::Chars => text.chars().count(),
            Counting::Utf16 => text.encode_utf16().count(),
        }
    }

    /// Every way the post breaks these rules (and warnings: see [`Problem::blocks`]); empty when it fits. Hashtags
    /// and mentions are counted in the whole caption, as the platform sees it (tags typed in the text count too).
    pub fn check(&self, body: &str, hashtags: &[String], has_media: bool) -> Vec<Problem> {
        let mut problems = Vec::new();
        let text = caption(body, hashtags);
        let len = self.length(&text);
        if len > self.max_caption {
            problems.push(Problem::TooLong { len, max: self.max_caption });
        }
        let tags = tokens(&text, '#');
        if tags > self.max_hashtags {
            problems.push(Problem::TooManyHashtags { count: tags, max: self.max_hashtags });
        }
        if let Some(max) = self.max_mentions {
            let count = tokens(&text, '@');
            if count > max {
                problems.push(Problem::TooManyMentions { count, max });
            }
        }
        if !self.links_clickable && has_link(&text) {
            problems.push(Problem::LinkNotClickable);
        }
        if !has_media {
            match self.media {
                MediaNeed::Optional => {}
                MediaNeed::ImageOrVideo => problems.push(Problem::NeedsImageOrVideo),
                MediaNeed::VideoOrPhotos => problems.push(Problem::NeedsVideoOrPhotos),
            }
        }
        problems
    }

    /// The rules as the LLM is told them, e.g. `instagram: caption under 2000 characters (never over 2200),
    /// 3-10 hashtags (never more than 30)`.
    pub fn prompt_hint(&self) -> String {
        let most = self.max_hashtags;
        let (low, high) = (self.aim_hashtags.0.min(most), self.aim_hashtags.1.min(most));
        let aim = self.aim_caption.min(self.max_caption);
        format!(
            "{}: caption under {aim} characters (never over {}), {low}-{high} hashtags (never more than {most})",
            self.platform.as_str(),
            self.max_caption
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_mentions_are_counted_as_words() {
        assert_eq!(tokens("#a #b c#d # #_e (#f)", '#'), 4);
        assert_eq!(tokens("@anna, write to me@example.com or @bob_1", '@'), 2);
        assert_eq!(tokens("", '#'), 0);
    }

    #[test]
    fn links_are_found() {
        assert!(has_link("see https://example.com today"));
        assert!(has_link("(www.example.com)"));
        assert!(!has_link("no link here, just example.com"));
    }
}
