//! The buttons the scheduler puts under a publish result (`tp`, `tr`, `ts`), pressed in the bot.

use super::fields::{build, id, pack_uuid};
use tochen_domain::TargetId;

/// A decision on one platform target of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// "It's published" on a target whose outcome is unknown: `tp:<target>`.
    Published(TargetId),
    /// "Post again" on a target whose outcome is unknown or that failed: `tr:<target>`.
    Retry(TargetId),
    /// "Skip this platform" on a failed target: `ts:<target>`.
    Skip(TargetId),
}

impl Target {
    /// The target the button is about.
    pub fn target(&self) -> TargetId {
        match *self {
            Self::Published(t) | Self::Retry(t) | Self::Skip(t) => t,
        }
    }

    pub(super) fn encode(&self) -> String {
        let prefix = match self {
            Self::Published(_) => "tp",
            Self::Retry(_) => "tr",
            Self::Skip(_) => "ts",
        };
        build(prefix, &[&pack_uuid(self.target().as_uuid())])
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        let target = || id(f, 0).map(TargetId::from_uuid);
        Some(match (prefix, f.len()) {
            ("tp", 1) => Self::Published(target()?),
            ("tr", 1) => Self::Retry(target()?),
            ("ts", 1) => Self::Skip(target()?),
            _ => return None,
        })
    }
}
