//! Buttons on a post: the draft screen (`d<act>`, `da`), scheduling (`sq`, `sc`) and approval (`ap`, `rj`). Each
//! carries the post's version, so a stale screen changes nothing.

use super::fields::{build, id, num, pack_uuid};
use tochen_domain::{Platform, PostId};

/// What a draft-screen button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftAct {
    Regenerate,
    Edit,
    Rewrite,
    Image,
    Attach,
    Accounts,
    Schedule,
    PublishNow,
    Discard,
    Show,
    /// The media list: order, remove, album preview.
    Media,
    /// The per-platform versions.
    Versions,
    /// Hashtags suggested by the LLM.
    Hashtags,
}

impl DraftAct {
    pub const ALL: [DraftAct; 13] = [
        DraftAct::Regenerate,
        DraftAct::Edit,
        DraftAct::Rewrite,
        DraftAct::Image,
        DraftAct::Attach,
        DraftAct::Accounts,
        DraftAct::Schedule,
        DraftAct::PublishNow,
        DraftAct::Discard,
        DraftAct::Show,
        DraftAct::Media,
        DraftAct::Versions,
        DraftAct::Hashtags,
    ];

    fn code(self) -> &'static str {
        match self {
            Self::Regenerate => "g",
            Self::Edit => "e",
            Self::Rewrite => "w",
            Self::Image => "i",
            Self::Attach => "a",
            Self::Accounts => "p",
            Self::Schedule => "s",
            Self::PublishNow => "n",
            Self::Discard => "x",
            Self::Show => "o",
            Self::Media => "m",
            Self::Versions => "v",
            Self::Hashtags => "t",
        }
    }
}

fn post(f: &[&str], i: usize) -> Option<PostId> {
    id(f, i).map(PostId::from_uuid)
}

/// A button of the draft screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draft {
    /// An action on the post at a version.
    Act(DraftAct, PostId, i64),
    /// Turn the account at this index on or off for the post.
    ToggleAccount(PostId, i64, u8),
    /// An action on one platform's version.
    Version(PostId, i64, VersionAct, Platform),
    /// An action on the media item at this position.
    MediaItem(PostId, i64, MediaAct, u8),
}

/// What a button on a platform's version does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionAct {
    /// Write this platform's own text.
    Edit,
    /// Follow the main text again.
    FollowMain,
    /// Have the LLM rewrite this version.
    Rewrite,
}

impl VersionAct {
    pub const ALL: [VersionAct; 3] = [VersionAct::Edit, VersionAct::FollowMain, VersionAct::Rewrite];

    fn code(self) -> &'static str {
        match self {
            Self::Edit => "e",
            Self::FollowMain => "f",
            Self::Rewrite => "w",
        }
    }
}

/// What a button on a media item does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaAct {
    Remove,
    Earlier,
    Later,
    /// Send the album preview again and the post's screen under it.
    Preview,
}

impl MediaAct {
    pub const ALL: [MediaAct; 4] = [MediaAct::Remove, MediaAct::Earlier, MediaAct::Later, MediaAct::Preview];

    fn code(self) -> &'static str {
        match self {
            Self::Remove => "r",
            Self::Earlier => "u",
            Self::Later => "d",
            Self::Preview => "p",
        }
    }
}

impl Draft {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::Act(act, id, v) => build(&format!("d{}", act.code()), &[&pack_uuid(id.as_uuid()), &v.to_string()]),
            Self::ToggleAccount(id, v, i) => build("da", &[&pack_uuid(id.as_uuid()), &v.to_string(), &i.to_string()]),
            Self::Version(id, v, act, p) => {
                build("dV", &[&pack_uuid(id.as_uuid()), &v.to_string(), act.code(), p.as_str()])
            }
            Self::MediaItem(id, v, act, i) => {
                build("dM", &[&pack_uuid(id.as_uuid()), &v.to_string(), act.code(), &i.to_string()])
            }
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        match (prefix, f.len()) {
            ("da", 3) => Some(Self::ToggleAccount(post(f, 0)?, num(f, 1)?, num(f, 2)?)),
            ("dV", 4) => {
                let act = VersionAct::ALL.into_iter().find(|a| a.code() == f[2])?;
                Some(Self::Version(post(f, 0)?, num(f, 1)?, act, Platform::parse(f[3])?))
            }
            ("dM", 4) => {
                let act = MediaAct::ALL.into_iter().find(|a| a.code() == f[2])?;
                Some(Self::MediaItem(post(f, 0)?, num(f, 1)?, act, num(f, 3)?))
            }
            (p, 2) if p.len() == 2 && p.starts_with('d') => {
                let act = DraftAct::ALL.into_iter().find(|a| a.code() == &p[1..])?;
                Some(Self::Act(act, post(f, 0)?, num(f, 1)?))
            }
            _ => None,
        }
    }
}

/// Quick scheduling choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quick {
    InHour,
    Evening,
    TomorrowMorning,
    /// "Add to queue": the next free queue slot of the post's accounts (code `f`, which buttons of the earlier
    /// "Next free slot" carry).
    Queue,
    /// The next best-engagement hour of the post's platforms, or their default.
    Best,
}

impl Quick {
    pub const ALL: [Quick; 5] = [Quick::InHour, Quick::Evening, Quick::TomorrowMorning, Quick::Queue, Quick::Best];

    fn code(self) -> &'static str {
        match self {
            Self::InHour => "h",
            Self::Evening => "e",
            Self::TomorrowMorning => "m",
            Self::Queue => "f",
            Self::Best => "b",
        }
    }
}

/// A button of the scheduling screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// A quick choice of time.
    When(PostId, i64, Quick),
    /// Confirm the time (unix seconds) shown.
    Confirm(PostId, i64, i64),
}

impl Schedule {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::When(id, v, q) => build("sq", &[&pack_uuid(id.as_uuid()), &v.to_string(), q.code()]),
            Self::Confirm(id, v, at) => build("sc", &[&pack_uuid(id.as_uuid()), &v.to_string(), &at.to_string()]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        Some(match (prefix, f.len()) {
            ("sq", 3) => Self::When(post(f, 0)?, num(f, 1)?, Quick::ALL.into_iter().find(|q| q.code() == f[2])?),
            ("sc", 3) => Self::Confirm(post(f, 0)?, num(f, 1)?, num(f, 2)?),
            _ => return None,
        })
    }
}

/// An admin's decision on a post waiting for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Approve(PostId, i64),
    Reject(PostId, i64),
}

impl Approval {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::Approve(id, v) => build("ap", &[&pack_uuid(id.as_uuid()), &v.to_string()]),
            Self::Reject(id, v) => build("rj", &[&pack_uuid(id.as_uuid()), &v.to_string()]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        Some(match (prefix, f.len()) {
            ("ap", 2) => Self::Approve(post(f, 0)?, num(f, 1)?),
            ("rj", 2) => Self::Reject(post(f, 0)?, num(f, 1)?),
            _ => return None,
        })
    }
}

/// A button of the post lists: `/queue`, `/drafts`, `/history`, and a queued post's screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// A page of `/queue` (0 = the soonest).
    Page(u32),
    /// A page of `/drafts` (0 = the newest).
    DraftsPage(u32),
    /// A page of `/history` (0 = the newest).
    HistoryPage(u32),
    Item(PostId),
    Reschedule(PostId, i64),
    Cancel(PostId, i64),
    PublishNow(PostId, i64),
    /// Swap the post's time with the previous queued post's.
    Earlier(PostId, i64),
    /// Swap the post's time with the next queued post's.
    Later(PostId, i64),
}

impl Queue {
    pub(super) fn encode(&self) -> String {
        let versioned = |p: &str, id: &PostId, v: &i64| build(p, &[&pack_uuid(id.as_uuid()), &v.to_string()]);
        match self {
            Self::Page(n) => build("qp", &[&n.to_string()]),
            Self::DraftsPage(n) => build("ld", &[&n.to_string()]),
            Self::HistoryPage(n) => build("lh", &[&n.to_string()]),
            Self::Item(id) => build("qi", &[&pack_uuid(id.as_uuid())]),
            Self::Reschedule(id, v) => versioned("qr", id, v),
            Self::Cancel(id, v) => versioned("qc", id, v),
            Self::PublishNow(id, v) => versioned("qn", id, v),
            Self::Earlier(id, v) => versioned("qe", id, v),
            Self::Later(id, v) => versioned("ql", id, v),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        Some(match (prefix, f.len()) {
            ("qp", 1) => Self::Page(num(f, 0)?),
            ("ld", 1) => Self::DraftsPage(num(f, 0)?),
            ("lh", 1) => Self::HistoryPage(num(f, 0)?),
            ("qi", 1) => Self::Item(post(f, 0)?),
            ("qr", 2) => Self::Reschedule(post(f, 0)?, num(f, 1)?),
            ("qc", 2) => Self::Cancel(post(f, 0)?, num(f, 1)?),
            ("qn", 2) => Self::PublishNow(post(f, 0)?, num(f, 1)?),
            ("qe", 2) => Self::Earlier(post(f, 0)?, num(f, 1)?),
            ("ql", 2) => Self::Later(post(f, 0)?, num(f, 1)?),
            _ => return None,
        })
    }
}
