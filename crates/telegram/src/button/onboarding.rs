//! The profile questions (`sk`, `to`, `cl`, `tz`) and the main menu under the welcome (`mn`).

use super::fields::{build, num};

/// An answer to a profile question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Onboarding {
    Skip,
    Tone(u8),
    /// A content language of the profile, by index into `i18n::LANGUAGES`.
    ContentLang(u8),
    TzKeep,
    TzChange,
}

impl Onboarding {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::Skip => build("sk", &[]),
            Self::Tone(i) => build("to", &[&i.to_string()]),
            Self::ContentLang(i) => build("cl", &[&i.to_string()]),
            Self::TzKeep => build("tz", &["k"]),
            Self::TzChange => build("tz", &["c"]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        Some(match (prefix, f.len()) {
            ("sk", 0) => Self::Skip,
            ("to", 1) => Self::Tone(num(f, 0)?),
            ("cl", 1) => Self::ContentLang(num(f, 0)?),
            ("tz", 1) if f[0] == "k" => Self::TzKeep,
            ("tz", 1) if f[0] == "c" => Self::TzChange,
            _ => return None,
        })
    }
}

/// A button of the menu shown after the welcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Menu {
    Ideas,
    Invite,
    Connect,
    /// Compose a post by hand (`/new`).
    NewPost,
}

impl Menu {
    pub(super) fn encode(&self) -> String {
        build(
            "mn",
            &[match self {
                Self::Ideas => "i",
                Self::Invite => "v",
                Self::Connect => "c",
                Self::NewPost => "n",
            }],
        )
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        match (prefix, f) {
            ("mn", ["i"]) => Some(Self::Ideas),
            ("mn", ["v"]) => Some(Self::Invite),
            ("mn", ["c"]) => Some(Self::Connect),
            ("mn", ["n"]) => Some(Self::NewPost),
            _ => None,
        }
    }
}

/// A button under a list of ideas (`id`, `im`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ideas {
    /// The idea at this index of the list in the dialogue.
    Pick(u8),
    More,
}

impl Ideas {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::Pick(i) => build("id", &[&i.to_string()]),
            Self::More => build("im", &[]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        Some(match (prefix, f.len()) {
            ("id", 1) => Self::Pick(num(f, 0)?),
            ("im", 0) => Self::More,
            _ => return None,
        })
    }
}
