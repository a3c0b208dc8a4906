//! Buttons of a post's platform options screen (`bot/src/post_options.rs`): `ov` shows it, `ol` picks a TikTok
//! privacy level by its index in `TIKTOK_PRIVACY_LEVELS`, `ot` flips a TikTok toggle, `of` chooses how a Facebook
//! video goes (Reel or Page video), `os` saves the post's options as the workspace's defaults. Options are not
//! content, so these carry no post version; the bot still checks the post's workspace and the caller's role.

use super::fields::{build, id, num, pack_uuid};
use tochen_domain::PostId;

/// A TikTok toggle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptToggle {
    Comments,
    Duet,
    Stitch,
    BrandOrganic,
    BrandContent,
}

impl OptToggle {
    pub const ALL: [OptToggle; 5] =
        [OptToggle::Comments, OptToggle::Duet, OptToggle::Stitch, OptToggle::BrandOrganic, OptToggle::BrandContent];

    fn code(self) -> &'static str {
        match self {
            Self::Comments => "c",
            Self::Duet => "d",
            Self::Stitch => "s",
            Self::BrandOrganic => "o",
            Self::BrandContent => "b",
        }
    }
}

/// A button of the options screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostOpt {
    Show(PostId),
    Privacy(PostId, u8),
    Toggle(PostId, OptToggle),
    /// `true`: a Reel; `false`: a Page video.
    FacebookReel(PostId, bool),
    SaveDefaults(PostId),
}

impl PostOpt {
    pub(super) fn encode(&self) -> String {
        let p = |id: &PostId| pack_uuid(id.as_uuid());
        match self {
            Self::Show(id) => build("ov", &[&p(id)]),
            Self::Privacy(id, i) => build("ol", &[&p(id), &i.to_string()]),
            Self::Toggle(id, t) => build("ot", &[&p(id), t.code()]),
            Self::FacebookReel(id, reel) => build("of", &[&p(id), if *reel { "r" } else { "p" }]),
            Self::SaveDefaults(id) => build("os", &[&p(id)]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        let post = || id(f, 0).map(PostId::from_uuid);
        match (prefix, f.len()) {
            ("ov", 1) => Some(Self::Show(post()?)),
            ("ol", 2) => Some(Self::Privacy(post()?, num(f, 1)?)),
            ("ot", 2) => {
                let t = OptToggle::ALL.into_iter().find(|t| t.code() == f[1])?;
                Some(Self::Toggle(post()?, t))
            }
            ("of", 2) => match f[1] {
                "r" => Some(Self::FacebookReel(post()?, true)),
                "p" => Some(Self::FacebookReel(post()?, false)),
                _ => None,
            },
            ("os", 1) => Some(Self::SaveDefaults(post()?)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Button;
    use super::*;

    fn every() -> Vec<PostOpt> {
        let pid = PostId::new();
        let mut v = vec![
            PostOpt::Show(pid),
            PostOpt::Privacy(pid, u8::MAX),
            PostOpt::FacebookReel(pid, true),
            PostOpt::FacebookReel(pid, false),
            PostOpt::SaveDefaults(pid),
        ];
        v.extend(OptToggle::ALL.map(|t| PostOpt::Toggle(pid, t)));
        v
    }

    #[test]
    fn every_options_button_round_trips_and_fits_64_bytes() {
        for b in every() {
            let data = Button::PostOpt(b).encode();
            assert!(data.len() <= super::super::MAX_CALLBACK_BYTES, "{data}");
            assert_eq!(Button::decode(&data), Some(Button::PostOpt(b)), "{data}");
        }
    }

    #[test]
    fn options_callback_data_is_spelled_as_designed() {
        let pid = PostId::new();
        let packed = pack_uuid(pid.as_uuid());
        assert_eq!(Button::PostOpt(PostOpt::Show(pid)).encode(), format!("ov:{packed}"));
        assert_eq!(Button::PostOpt(PostOpt::Privacy(pid, 3)).encode(), format!("ol:{packed}:3"));
        assert_eq!(Button::PostOpt(PostOpt::Toggle(pid, OptToggle::Duet)).encode(), format!("ot:{packed}:d"));
        assert_eq!(Button::PostOpt(PostOpt::FacebookReel(pid, false)).encode(), format!("of:{packed}:p"));
        assert_eq!(Button::PostOpt(PostOpt::SaveDefaults(pid)).encode(), format!("os:{packed}"));
    }

    #[test]
    fn malformed_options_data_does_not_decode() {
        let packed = pack_uuid(PostId::new().as_uuid());
        for bad in [
            format!("ot:{packed}:z"),
            format!("of:{packed}:x"),
            format!("ol:{packed}:999"),
            format!("ol:{packed}"),
            "ov:notanid".to_owned(),
            format!("os:{packed}:1"),
        ] {
            assert_eq!(Button::decode(&bad), None, "{bad}");
        }
    }
}
