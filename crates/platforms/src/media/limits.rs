//! One table of what each publishing endpoint accepts (`docs/contracts/media-formats.md`), and the check of a
//! post's media against it. The bot runs [`check_media`] before scheduling; the publishers choose between
//! endpoints with it (a Facebook video that fits Reels goes as a Reel); the fake platforms in `tochen-testkit`
//! refuse with the same table, so a test of a wrong request fails the way production would.
//!
//! The numbers the providers change without notice come from configuration ([`MediaLimits::from_config`]).

use super::probe::Format;
use tochen_config::Config;
use tochen_domain::{MediaKind, Platform};

const MB: u64 = 1024 * 1024;

/// What is known of one media item (from its stored row, probed at ingest).
#[derive(Debug, Clone, PartialEq)]
pub struct MediaFacts {
    pub kind: MediaKind,
    pub format: Format,
    pub size_bytes: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    pub fps: Option<f64>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
}

impl MediaFacts {
    /// Facts of a probe of a file of `size_bytes`.
    pub fn from_probe(p: &super::probe::Probe, size_bytes: u64) -> Self {
        MediaFacts {
            kind: if p.format.is_video() { MediaKind::Video } else { MediaKind::Image },
            format: p.format,
            size_bytes,
            width: p.width,
            height: p.height,
            duration_ms: p.duration_ms,
            fps: p.fps,
            video_codec: p.video_codec.clone(),
            audio_codec: p.audio_codec.clone(),
        }
    }

    fn ratio(&self) -> Option<f64> {
        match (self.width, self.height) {
            (Some(w), Some(h)) if w > 0 && h > 0 => Some(f64::from(w) / f64::from(h)),
            _ => None,
        }
    }
}

/// The place a file goes to: each has its own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    InstagramImage,
    InstagramReel,
    InstagramCarouselVideo,
    FacebookPhoto,
    FacebookVideo,
    FacebookReel,
    TikTokVideo,
    TikTokPhoto,
}

/// The limits of one target; `None` where the target has none.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub formats: &'static [Format],
    /// Formats converted before upload (a PNG for Instagram becomes a JPEG): accepted, size not checked.
    pub converted: &'static [Format],
    pub video_codecs: &'static [&'static str],
    pub max_bytes: u64,
    pub min_ms: Option<u64>,
    pub max_ms: Option<u64>,
    pub fps: Option<(f64, f64)>,
    /// Smallest and largest side in pixels.
    pub side: Option<(u32, u32)>,
    /// Smallest width and height (Facebook Reels: 540x960).
    pub min_size: Option<(u32, u32)>,
    /// Width over height, inclusive.
    pub ratio: Option<(f64, f64)>,
    /// The ratio to crop to when outside (e.g. "4:5").
    pub suggest: &'static str,
}

const IMAGES_IG: &[Format] = &[Format::Jpeg];
const IMAGES_IG_CONVERTED: &[Format] = &[Format::Png, Format::Webp];
const IMAGES_FB: &[Format] = &[Format::Jpeg, Format::Png, Format::Gif];
const IMAGES_TT: &[Format] = &[Format::Jpeg, Format::Webp];
const IMAGES_TT_CONVERTED: &[Format] = &[Format::Png];
const VIDEO: &[Format] = &[Format::Mp4, Format::Mov];
const H264_HEVC: &[&str] = &["avc1", "avc3", "hvc1", "hev1"];
const TT_CODECS: &[&str] = &["avc1", "avc3", "hvc1", "hev1", "vp08", "vp09"];

/// The whole table, with the configurable numbers applied.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaLimits {
    pub instagram_carousel_max: usize,
    pub instagram_reel_max_bytes: u64,
    pub tiktok_photos_max: usize,
}

impl Default for MediaLimits {
    fn default() -> Self {
        MediaLimits { instagram_carousel_max: 10, instagram_reel_max_bytes: 300 * MB, tiktok_photos_max: 35 }
    }
}

impl MediaLimits {
    pub fn from_config(config: &Config) -> Self {
        MediaLimits {
            instagram_carousel_max: config.meta.instagram_carousel_max,
            instagram_reel_max_bytes: config.meta.instagram_reel_max_mb.saturating_mul(MB),
            ..Default::default()
        }
    }

    /// The limits of one target.
    pub fn spec(&self, target: Target) -> Spec {
        let none = Spec {
            formats: VIDEO,
            converted: &[],
            video_codecs: &[],
            max_bytes: u64::MAX,
            min_ms: None,
            max_ms: None,
            fps: None,
            side: None,
            min_size: None,
            ratio: None,
            suggest: "",
        };
        match target {
            Target::InstagramImage => Spec {
                formats: IMAGES_IG,
                converted: IMAGES_IG_CONVERTED,
                max_bytes: 8 * MB,
                ratio: Some((0.8, 1.91)),
                suggest: "4:5",
                ..none
            },
            Target::InstagramReel => Spec {
                video_codecs: H264_HEVC,
                max_bytes: self.instagram_reel_max_bytes,
                min_ms: Some(3_000),
                max_ms: Some(15 * 60_000),
                fps: Some((23.0, 60.0)),
                ratio: Some((0.01, 10.0)),
                suggest: "9:16",
                ..none
            },
            Target::InstagramCarouselVideo => Spec {
                video_codecs: H264_HEVC,
                max_bytes: 100 * MB,
                min_ms: Some(3_000),
                max_ms: Some(60_000),
                fps: Some((23.0, 60.0)),
                ..none
            },
            Target::FacebookPhoto => Spec { formats: IMAGES_FB, max_bytes: 4 * MB, ..none },
            Target::FacebookVideo => Spec { max_bytes: 1024 * MB, max_ms: Some(20 * 60_000), ..none },
            Target::FacebookReel => Spec {
                formats: &[Format::Mp4],
                min_ms: Some(3_000),
                max_ms: Some(90_000),
                fps: Some((24.0, 60.0)),
                min_size: Some((540, 960)),
                ratio: Some((0.55, 0.575)),
                suggest: "9:16",
                ..none
            },
            Target::TikTokVideo => Spec {
                video_codecs: TT_CODECS,
                max_bytes: 4096 * MB,
                min_ms: Some(1_000),
                max_ms: Some(10 * 60_000),
                fps: Some((23.0, 60.0)),
                side: Some((360, 4096)),
                ..none
            },
            Target::TikTokPhoto => Spec {
                formats: IMAGES_TT,
                converted: IMAGES_TT_CONVERTED,
                max_bytes: 20 * MB,
                side: Some((1, 1920)),
                ..none
            },
        }
    }

    /// Problems of one item sent to `target` (`item` is its 0-based position, for the messages).
    pub fn check_item(&self, target: Target, item: usize, f: &MediaFacts) -> Vec<MediaProblem> {
        let s = self.spec(target);
        let mut out = Vec::new();
        let converted = s.converted.contains(&f.format);
        if !s.formats.contains(&f.format) && !converted {
            out.push(MediaProblem::Format { item, target, found: f.format });
            return out;
        }
        if !converted && f.size_bytes > s.max_bytes {
            out.push(MediaProblem::TooBig { item, target, size_bytes: f.size_bytes, max_bytes: s.max_bytes });
        }
        if f.format.is_video() {
            if let Some(c) = &f.video_codec {
                if !s.video_codecs.is_empty() && !s.video_codecs.contains(&c.as_str()) {
                    out.push(MediaProblem::Codec { item, target, found: c.clone() });
                }
            }
            if let Some(d) = f.duration_ms {
                if let Some(min) = s.min_ms.filter(|m| d < *m) {
                    out.push(MediaProblem::TooShort { item, target, duration_ms: d, min_ms: min });
                }
                if let Some(max) = s.max_ms.filter(|m| d > *m) {
                    out.push(MediaProblem::TooLong { item, target, duration_ms: d, max_ms: max });
                }
            }
            if let (Some(fps), Some((lo, hi))) = (f.fps, s.fps) {
                // Rates like 23.976 count as 24: compare with a little slack.
                if fps + 0.5 < lo || fps > hi + 0.5 {
                    out.push(MediaProblem::FrameRate { item, target, fps, min: lo, max: hi });
                }
            }
        }
        if let (Some(w), Some(h)) = (f.width, f.height) {
            let side_bad = s.side.is_some_and(|(lo, hi)| w.min(h) < lo || w.max(h) > hi);
            let small = s.min_size.is_some_and(|(mw, mh)| w.min(h) < mw.min(mh) || w.max(h) < mw.max(mh));
            if side_bad || small {
                out.push(MediaProblem::Dimensions { item, target, width: w, height: h });
            }
        }
        if let (Some(r), Some((lo, hi))) = (f.ratio(), s.ratio) {
            if r < lo - 0.005 || r > hi + 0.005 {
                out.push(MediaProblem::AspectRatio {
                    item,
                    target,
                    width: f.width.unwrap_or(0),
                    height: f.height.unwrap_or(0),
                    suggest: s.suggest,
                });
            }
        }
        out
    }

    /// Whether a Facebook video goes as a Reel (it fits Reels: MP4, 9:16, 3-90 s...) rather than a Page video.
    pub fn fits_facebook_reel(&self, f: &MediaFacts) -> bool {
        f.kind == MediaKind::Video && self.check_item(Target::FacebookReel, 0, f).is_empty()
    }

    /// Every problem of `facts` (the post's media, in order) for `platform`. For Facebook a lone video is
    /// checked as a Reel when `facebook_reel` is `Some(true)`, as a Page video when `Some(false)`, and as whichever
    /// it fits when `None` (the default: a Reel when it fits).
    pub fn check(&self, platform: Platform, facts: &[MediaFacts], facebook_reel: Option<bool>) -> Vec<MediaProblem> {
        let videos = facts.iter().filter(|f| f.kind == MediaKind::Video).count();
        let images = facts.len() - videos;
        let mut out = Vec::new();
        let each = |out: &mut Vec<MediaProblem>, target: &dyn Fn(&MediaFacts) -> Target| {
            for (i, f) in facts.iter().enumerate() {
                out.extend(self.check_item(target(f), i, f));
            }
        };
        match platform {
            Platform::Instagram => match facts.len() {
                0 => out.push(MediaProblem::Missing { platform }),
                1 => each(&mut out, &|f| {
                    if f.kind == MediaKind::Video {
                        Target::InstagramReel
                    } else {
                        Target::InstagramImage
                    }
                }),
                n if n > self.instagram_carousel_max => {
                    out.push(MediaProblem::TooMany { platform, count: n, max: self.instagram_carousel_max })
                }
                _ => each(&mut out, &|f| {
                    if f.kind == MediaKind::Video {
                        Target::InstagramCarouselVideo
                    } else {
                        Target::InstagramImage
                    }
                }),
            },
            Platform::Facebook => {
                if videos > 0 && facts.len() > 1 {
                    out.push(MediaProblem::Mixed { platform });
                } else if videos == 1 {
                    let reel = facebook_reel.unwrap_or_else(|| self.fits_facebook_reel(&facts[0]));
                    each(&mut out, &|_| if reel { Target::FacebookReel } else { Target::FacebookVideo });
                } else {
                    each(&mut out, &|_| Target::FacebookPhoto);
                }
            }
            Platform::TikTok => {
                if facts.is_empty() {
                    out.push(MediaProblem::Missing { platform });
                } else if videos > 0 && facts.len() > 1 {
                    out.push(MediaProblem::Mixed { platform });
                } else if videos == 1 {
                    each(&mut out, &|_| Target::TikTokVideo);
                } else if images > self.tiktok_photos_max {
                    out.push(MediaProblem::TooMany { platform, count: images, max: self.tiktok_photos_max });
                } else {
                    each(&mut out, &|_| Target::TikTokPhoto);
                }
            }
        }
        out
    }
}

/// [`MediaLimits::check`] with the default table and Facebook's default choice.
pub fn check_media(platform: Platform, facts: &[MediaFacts]) -> Vec<MediaProblem> {
    MediaLimits::default().check(platform, facts, None)
}

/// One reason a platform would refuse the media. `item` is the 0-based position in the post.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaProblem {
    Missing {
        platform: Platform,
    },
    TooMany {
        platform: Platform,
        count: usize,
        max: usize,
    },
    /// Photos and a video in one post where the platform cannot take both.
    Mixed {
        platform: Platform,
    },
    Format {
        item: usize,
        target: Target,
        found: Format,
    },
    Codec {
        item: usize,
        target: Target,
        found: String,
    },
    TooBig {
        item: usize,
        target: Target,
        size_bytes: u64,
        max_bytes: u64,
    },
    TooShort {
        item: usize,
        target: Target,
        duration_ms: u64,
        min_ms: u64,
    },
    TooLong {
        item: usize,
        target: Target,
        duration_ms: u64,
        max_ms: u64,
    },
    FrameRate {
        item: usize,
        target: Target,
        fps: f64,
        min: f64,
        max: f64,
    },
    Dimensions {
        item: usize,
        target: Target,
        width: u32,
        height: u32,
    },
    AspectRatio {
        item: usize,
        target: Target,
        width: u32,
        height: u32,
        suggest: &'static str,
    },
}

impl MediaProblem {
    /// Instagram's error subcode for this problem (`docs/contracts/meta.md`).
    pub fn instagram_subcode(&self) -> i64 {
        match self {
            MediaProblem::Format { found, .. } if found.is_image() || *found == Format::Unknown => 2207005,
            MediaProblem::TooBig { target: Target::InstagramImage, .. } => 2207004,
            MediaProblem::AspectRatio { target: Target::InstagramImage, .. } => 2207009,
            _ => 2207026,
        }
    }

    /// TikTok's `fail_reason` for this problem (`docs/contracts/tiktok.md`).
    pub fn tiktok_fail_reason(&self) -> &'static str {
        match self {
            MediaProblem::TooShort { .. } | MediaProblem::TooLong { .. } => "duration_check_failed",
            MediaProblem::FrameRate { .. } => "frame_rate_check_failed",
            MediaProblem::Dimensions { .. } | MediaProblem::AspectRatio { .. } => "picture_size_check_failed",
            _ => "file_format_check_failed",
        }
    }

    /// An English description (logs, fakes, and platform errors); the bot localizes through its keys.
    pub fn describe(&self) -> String {
        let n = |item: &usize| item + 1;
        match self {
            MediaProblem::Missing { platform } => format!("{platform:?} needs an image or a video"),
            MediaProblem::TooMany { platform, count, max } => {
                format!("{platform:?} takes at most {max} items in one post, this one has {count}")
            }
            MediaProblem::Mixed { platform } => format!("{platform:?} cannot take photos and a video in one post"),
            MediaProblem::Format { item, found, .. } => {
                format!("item {} is {} which is not accepted", n(item), found.as_str())
            }
            MediaProblem::Codec { item, found, .. } => {
                format!("item {} uses the {} codec which is not accepted", n(item), super::probe::codec_name(found))
            }
            MediaProblem::TooBig { item, size_bytes, max_bytes, .. } => {
                format!("item {} has {} MB, at most {} MB", n(item), size_bytes.div_ceil(MB), max_bytes / MB)
            }
            MediaProblem::TooShort { item, duration_ms, min_ms, .. } => {
                format!("item {} lasts {:.1} s, at least {} s", n(item), *duration_ms as f64 / 1000.0, min_ms / 1000)
            }
            MediaProblem::TooLong { item, duration_ms, max_ms, .. } => {
                format!("item {} lasts {:.1} s, at most {} s", n(item), *duration_ms as f64 / 1000.0, max_ms / 1000)
            }
            MediaProblem::FrameRate { item, fps, min, max, .. } => {
                format!("item {} has {fps:.2} frames per second, {min}-{max} accepted", n(item))
            }
            MediaProblem::Dimensions { item, width, height, .. } => {
                format!("item {} is {width}x{height} pixels, which is outside the accepted size", n(item))
            }
            MediaProblem::AspectRatio { item, width, height, suggest, .. } => {
                format!("item {} is {width}x{height}: crop it to {suggest}", n(item))
            }
        }
    }
}
