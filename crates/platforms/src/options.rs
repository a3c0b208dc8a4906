//! Per-post platform options: TikTok's privacy level and toggles (`docs/contracts/tiktok.md`, from
//! `creator_info`), and whether a Facebook video goes as a Reel or a Page video. Stored as a JSON object on the
//! post (`posts.platform_options`) over the workspace's defaults (`tenants.post_defaults`), and carried to the
//! publisher in [`crate::publish::PublishRequest::options`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The privacy levels TikTok knows, in the order the bot offers them.
pub const TIKTOK_PRIVACY_LEVELS: &[&str] =
    &["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TikTokOptions {
    /// Chosen by the user; `None` until then (TikTok requires the user to pick; there is no default).
    pub privacy_level: Option<String>,
    pub comments: bool,
    pub duet: bool,
    pub stitch: bool,
    /// Promotes the creator's own business.
    pub brand_organic: bool,
    /// A paid partnership; cannot be `SELF_ONLY`.
    pub brand_content: bool,
}

impl Default for TikTokOptions {
    fn default() -> Self {
        TikTokOptions {
            privacy_level: None,
            comments: true,
            duet: true,
            stitch: true,
            brand_organic: false,
            brand_content: false,
        }
    }
}

/// How a Facebook video is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FacebookVideo {
    Reel,
    Page,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FacebookOptions {
    /// `None`: a Reel when the video fits Reels, else a Page video.
    pub video: Option<FacebookVideo>,
}

/// Every platform's options of one post.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PostOptions {
    pub tiktok: TikTokOptions,
    pub facebook: FacebookOptions,
    /// Set by the publishing pipeline, not the user: a media item was made by the image model, so TikTok's
    /// AI-generated label is set.
    #[serde(skip)]
    pub ai_generated: bool,
}

impl PostOptions {
    /// Options from the stored JSON (unknown or broken fields fall back to their defaults).
    pub fn from_map(map: &Map<String, Value>) -> Self {
        let section = |k: &str| map.get(k).cloned().unwrap_or(Value::Object(Map::new()));
        PostOptions {
            tiktok: serde_json::from_value(section("tiktok")).unwrap_or_default(),
            facebook: serde_json::from_value(section("facebook")).unwrap_or_default(),
            ai_generated: false,
        }
    }

    pub fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

/// What the creator allows, from `creator_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorInfo {
    pub username: String,
    pub privacy_level_options: Vec<String>,
    pub comment_disabled: bool,
    pub duet_disabled: bool,
    pub stitch_disabled: bool,
    pub max_video_post_duration_sec: Option<u64>,
}

impl CreatorInfo {
    pub fn from_data(v: &Value) -> Self {
        CreatorInfo {
            username: v["creator_username"].as_str().unwrap_or_default().to_owned(),
            privacy_level_options: v["privacy_level_options"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default(),
            comment_disabled: v["comment_disabled"].as_bool().unwrap_or(false),
            duet_disabled: v["duet_disabled"].as_bool().unwrap_or(false),
            stitch_disabled: v["stitch_disabled"].as_bool().unwrap_or(false),
            max_video_post_duration_sec: v["max_video_post_duration_sec"].as_u64(),
        }
    }

    /// The creator info the sandbox's simulated TikTok answers with: every option open.
    pub fn everything() -> Self {
        CreatorInfo {
            username: "sandbox".into(),
            privacy_level_options: TIKTOK_PRIVACY_LEVELS.iter().map(|s| s.to_string()).collect(),
            comment_disabled: false,
            duet_disabled: false,
            stitch_disabled: false,
            max_video_post_duration_sec: Some(600),
        }
    }
}

/// Why TikTok options cannot be sent as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionProblem {
    /// No privacy level was chosen.
    PrivacyNotChosen,
    /// The chosen level is not one the creator has (any more).
    PrivacyNotOffered(String),
    /// Branded content cannot be private.
    BrandedPrivate,
}

/// The problems of `o` for a creator with `info` (`None`: the creator's options are unknown, only the choice is
/// checked).
pub fn tiktok_problems(o: &TikTokOptions, info: Option<&CreatorInfo>) -> Vec<OptionProblem> {
    let mut out = Vec::new();
    match &o.privacy_level {
        None => out.push(OptionProblem::PrivacyNotChosen),
        Some(p) if info.is_some_and(|i| !i.privacy_level_options.contains(p)) => {
            out.push(OptionProblem::PrivacyNotOffered(p.clone()))
        }
        Some(p) if o.brand_content && p == "SELF_ONLY" => out.push(OptionProblem::BrandedPrivate),
        Some(_) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_and_default_when_broken() {
        let mut o = PostOptions::default();
        o.tiktok.privacy_level = Some("SELF_ONLY".into());
        o.tiktok.duet = false;
        o.facebook.video = Some(FacebookVideo::Page);
        assert_eq!(PostOptions::from_map(&o.to_map()), o);
        let broken: Map<String, Value> = serde_json::from_str(r#"{"tiktok": 5, "facebook": {"video": "x"}}"#).unwrap();
        assert_eq!(PostOptions::from_map(&broken), PostOptions::default());
    }

    #[test]
    fn the_privacy_level_must_be_chosen_offered_and_public_for_branded_content() {
        let info = CreatorInfo { privacy_level_options: vec!["SELF_ONLY".into()], ..CreatorInfo::everything() };
        let mut o = TikTokOptions::default();
        assert_eq!(tiktok_problems(&o, Some(&info)), vec![OptionProblem::PrivacyNotChosen]);
        o.privacy_level = Some("PUBLIC_TO_EVERYONE".into());
        assert_eq!(
            tiktok_problems(&o, Some(&info)),
            vec![OptionProblem::PrivacyNotOffered("PUBLIC_TO_EVERYONE".into())]
        );
        assert!(tiktok_problems(&o, None).is_empty());
        o.privacy_level = Some("SELF_ONLY".into());
        o.brand_content = true;
        assert_eq!(tiktok_problems(&o, Some(&info)), vec![OptionProblem::BrandedPrivate]);
    }
}
