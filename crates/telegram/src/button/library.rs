//! The content library's buttons (`lb<x>`): pages of the list, the filter pickers, a post's library card and its
//! tags. The filter itself is too big for 64 bytes, so it is kept per person and workspace in the store and the
//! buttons only change it; a choice names its value (a status preset, a platform, an account or person id, a
//! tag's short hash), never text a person typed. The bot checks every id against the caller's workspace.

use super::fields::{build, id, num, pack_uuid};
use tochen_domain::{AccountId, CampaignId, Platform, PostId, UserId};

/// Which filter a picker sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibraryField {
    Status,
    Platform,
    Account,
    Author,
    Tag,
    Dates,
    Campaign,
}

impl LibraryField {
    pub const ALL: [LibraryField; 7] =
        [Self::Status, Self::Platform, Self::Account, Self::Author, Self::Tag, Self::Dates, Self::Campaign];

    fn code(self) -> &'static str {
        match self {
            Self::Status => "s",
            Self::Platform => "p",
            Self::Account => "a",
            Self::Author => "u",
            Self::Tag => "t",
            Self::Dates => "d",
            Self::Campaign => "n",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == s)
    }
}

/// A button of the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Library {
    /// A page of the list under the saved filter: `lbp:<page>`.
    Page(u32),
    /// The filter menu: `lbm`.
    Menu,
    /// The choices of one filter: `lbk:<field>`.
    Pick(LibraryField),
    /// A status preset (the bot's numbering; 0 = any): `lbs:<n>`.
    Status(u8),
    /// A platform, or any: `lbf:<platform|->`.
    Platform(Option<Platform>),
    /// An account, or any: `lba:<account|->`.
    Account(Option<AccountId>),
    /// An author, or anyone: `lbu:<user|->`.
    Author(Option<UserId>),
    /// A tag by the first 8 hex digits of its hash, or any: `lbt:<hash|->`.
    Tag(Option<u32>),
    /// A date preset (the bot's numbering; 0 = any time, 255 = type a range): `lbd:<n>`.
    Dates(u8),
    /// Type words to search for: `lbq`.
    Search,
    /// Every filter off: `lbc`.
    Clear,
    /// A post's library card: `lbi:<post>`.
    Item(PostId),
    /// Type the tags of a post: `lbg:<post>`.
    Tags(PostId),
    /// Back to the page of the list last shown: `lbb`.
    Back,
    /// A campaign, or any: `lbn:<campaign|->`.
    Campaign(Option<CampaignId>),
}

fn opt(v: Option<String>) -> String {
    v.unwrap_or_else(|| "-".to_owned())
}

impl Library {
    pub(super) fn encode(&self) -> String {
        match self {
            Self::Page(n) => build("lbp", &[&n.to_string()]),
            Self::Menu => "lbm".to_owned(),
            Self::Pick(f) => build("lbk", &[f.code()]),
            Self::Status(n) => build("lbs", &[&n.to_string()]),
            Self::Platform(p) => build("lbf", &[&opt(p.map(|p| p.as_str().to_owned()))]),
            Self::Account(a) => build("lba", &[&opt(a.map(|a| pack_uuid(a.as_uuid())))]),
            Self::Author(u) => build("lbu", &[&opt(u.map(|u| pack_uuid(u.as_uuid())))]),
            Self::Tag(h) => build("lbt", &[&opt(h.map(|h| format!("{h:08x}")))]),
            Self::Dates(n) => build("lbd", &[&n.to_string()]),
            Self::Search => "lbq".to_owned(),
            Self::Clear => "lbc".to_owned(),
            Self::Item(p) => build("lbi", &[&pack_uuid(p.as_uuid())]),
            Self::Tags(p) => build("lbg", &[&pack_uuid(p.as_uuid())]),
            Self::Back => "lbb".to_owned(),
            Self::Campaign(c) => build("lbn", &[&opt(c.map(|c| pack_uuid(c.as_uuid())))]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        // `-` is "any"; anything else must decode as the field's type.
        fn any_or<T>(f: &[&str], parse: impl FnOnce(&str) -> Option<T>) -> Option<Option<T>> {
            match f.first()? {
                &"-" => Some(None),
                s => parse(s).map(Some),
            }
        }
        Some(match (prefix, f.len()) {
            ("lbp", 1) => Self::Page(num(f, 0)?),
            ("lbm", 0) => Self::Menu,
            ("lbk", 1) => Self::Pick(LibraryField::parse(f[0])?),
            ("lbs", 1) => Self::Status(num(f, 0)?),
            ("lbf", 1) => Self::Platform(any_or(f, Platform::parse)?),
            ("lba", 1) => Self::Account(any_or(f, |_| id(f, 0).map(AccountId::from_uuid))?),
            ("lbu", 1) => Self::Author(any_or(f, |_| id(f, 0).map(UserId::from_uuid))?),
            ("lbt", 1) => Self::Tag(any_or(f, |s| (s.len() == 8).then(|| u32::from_str_radix(s, 16).ok()).flatten())?),
            ("lbd", 1) => Self::Dates(num(f, 0)?),
            ("lbq", 0) => Self::Search,
            ("lbc", 0) => Self::Clear,
            ("lbi", 1) => Self::Item(id(f, 0).map(PostId::from_uuid)?),
            ("lbg", 1) => Self::Tags(id(f, 0).map(PostId::from_uuid)?),
            ("lbb", 0) => Self::Back,
            ("lbn", 1) => Self::Campaign(any_or(f, |_| id(f, 0).map(CampaignId::from_uuid))?),
            _ => return None,
        })
    }
}

/// One button of every variant, with the longest fields each can carry.
#[cfg(test)]
pub(super) fn every_variant() -> Vec<Library> {
    let mut all = vec![
        Library::Page(u32::MAX),
        Library::Menu,
        Library::Status(u8::MAX),
        Library::Platform(None),
        Library::Account(Some(AccountId::new())),
        Library::Account(None),
        Library::Author(Some(UserId::new())),
        Library::Author(None),
        Library::Tag(Some(u32::MAX)),
        Library::Tag(Some(0)),
        Library::Tag(None),
        Library::Dates(u8::MAX),
        Library::Search,
        Library::Clear,
        Library::Item(PostId::new()),
        Library::Tags(PostId::new()),
        Library::Back,
        Library::Campaign(Some(CampaignId::new())),
        Library::Campaign(None),
    ];
    all.extend(LibraryField::ALL.map(Library::Pick));
    all.extend(Platform::ALL.iter().map(|p| Library::Platform(Some(*p))));
    all
}

#[cfg(test)]
mod tests {
    use super::super::{Button, MAX_CALLBACK_BYTES};
    use super::*;

    #[test]
    fn every_library_button_round_trips_within_64_bytes() {
        for b in every_variant() {
            let data = Button::Library(b.clone()).encode();
            assert!(data.len() <= MAX_CALLBACK_BYTES, "{data}");
            assert_eq!(Button::decode(&data), Some(Button::Library(b)), "{data}");
        }
    }

    #[test]
    fn malformed_library_data_decodes_to_nothing() {
        for data in ["lbt:xyz", "lbt:123", "lbt:0000000g", "lba:short", "lbk:z", "lbf:myspace", "lbp:-1", "lbm:1"] {
            assert_eq!(Button::decode(data), None, "{data}");
        }
    }
}
