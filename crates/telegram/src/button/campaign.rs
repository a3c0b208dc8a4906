//! Buttons of campaigns (`cg<x>`): the list, a campaign's screen and its fields, the guided flow's steps, starting
//! a batch, its progress (cancel, retry failed), its review (approve, drop, spread over the campaign) and putting a
//! post in a campaign. Ids are packed; a step's choices (platforms, accounts) are indexes into what the flow kept.
//! The bot checks every id against the caller's workspace and every step against the flow it belongs to.

use super::fields::{build, id, num, pack_uuid};
use tochen_domain::{BatchId, CampaignId, PostId};

/// A campaign field a person edits on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CampaignField {
    Name,
    Brief,
    Brand,
    Audience,
    Tone,
    Goal,
    Dates,
    Platforms,
}

impl CampaignField {
    pub const ALL: [CampaignField; 8] =
        [Self::Name, Self::Brief, Self::Brand, Self::Audience, Self::Tone, Self::Goal, Self::Dates, Self::Platforms];

    fn code(self) -> &'static str {
        match self {
            Self::Name => "n",
            Self::Brief => "b",
            Self::Brand => "r",
            Self::Audience => "a",
            Self::Tone => "t",
            Self::Goal => "g",
            Self::Dates => "d",
            Self::Platforms => "p",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == s)
    }
}

/// A button of the campaign screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Campaign {
    /// A page of `/campaigns`, with archived ones or without: `cgl:<page>:<a|n>`.
    List(u32, bool),
    /// `/campaign new`: `cgn`.
    New,
    /// A campaign's screen: `cgs:<campaign>`.
    Show(CampaignId),
    /// Edit one field: `cge:<campaign>:<field>`.
    Edit(CampaignId, CampaignField),
    /// Make a draft campaign active: `cgo:<campaign>`.
    Activate(CampaignId),
    /// Archive (soft): `cga:<campaign>`.
    Archive(CampaignId),
    /// Restore an archived one: `cgr:<campaign>`.
    Restore(CampaignId),
    /// Its batch history: `cgh:<campaign>`.
    History(CampaignId),
    /// The guided flow and the platform step: toggle a platform (index in `Platform::ALL`): `cgP:<i>`.
    TogglePlatform(u8),
    /// Toggle an account (index in the list the step shows): `cgA:<i>`.
    ToggleAccount(u8),
    /// Skip the step (leave the field empty): `cgS`.
    Skip,
    /// Done with the step's choices: `cgN`.
    Next,
    /// A new batch for the campaign: how many posts: `cgb:<campaign>`.
    Batch(CampaignId),
    /// That many posts: `cgc:<n>`.
    Count(u16),
    /// Topics proposed by the LLM from the brief (`true`) or typed (`false`): `cgt:<a|t>`.
    Topics(bool),
    /// With images or without: `cgi`.
    Images,
    /// Start the batch shown: `cgk`.
    Start,
    /// Stop a running batch: `cgx:<batch>`.
    Cancel(BatchId),
    /// Retry a batch's failed items: `cgf:<batch>`.
    RetryFailed(BatchId),
    /// A page of a batch's drafts: `cgv:<batch>:<page>`.
    Review(BatchId, u32),
    /// One draft of the batch: `cgp:<batch>:<post>`.
    Post(BatchId, PostId),
    /// Approve one draft: `cgy:<batch>:<post>`.
    Approve(BatchId, PostId),
    /// Approve every draft of the batch: `cgY:<batch>`.
    ApproveAll(BatchId),
    /// Drop one draft (it is discarded): `cgd:<batch>:<post>`.
    Drop(BatchId, PostId),
    /// The plan that spreads the approved drafts over the campaign: `cgw:<batch>`.
    Spread(BatchId),
    /// Schedule as planned: `cgW:<batch>`.
    SpreadConfirm(BatchId),
    /// An editor sends the batch to the admins, one card for the whole batch: `cgq:<batch>`.
    SendForApproval(BatchId),
    /// The campaigns a post may join: `cgu:<post>`.
    PickFor(PostId),
    /// Put a post in a campaign, or take it out: `cgU:<post>:<campaign|->`.
    SetFor(PostId, Option<CampaignId>),
}

fn packed(u: uuid::Uuid) -> String {
    pack_uuid(u)
}

impl Campaign {
    pub(super) fn encode(&self) -> String {
        let c = |x: &CampaignId| packed(x.as_uuid());
        let b = |x: &BatchId| packed(x.as_uuid());
        let p = |x: &PostId| packed(x.as_uuid());
        match self {
            Self::List(page, archived) => build("cgl", &[&page.to_string(), if *archived { "a" } else { "n" }]),
            Self::New => "cgn".to_owned(),
            Self::Show(x) => build("cgs", &[&c(x)]),
            Self::Edit(x, f) => build("cge", &[&c(x), f.code()]),
            Self::Activate(x) => build("cgo", &[&c(x)]),
            Self::Archive(x) => build("cga", &[&c(x)]),
            Self::Restore(x) => build("cgr", &[&c(x)]),
            Self::History(x) => build("cgh", &[&c(x)]),
            Self::TogglePlatform(i) => build("cgP", &[&i.to_string()]),
            Self::ToggleAccount(i) => build("cgA", &[&i.to_string()]),
            Self::Skip => "cgS".to_owned(),
            Self::Next => "cgN".to_owned(),
            Self::Batch(x) => build("cgb", &[&c(x)]),
            Self::Count(n) => build("cgc", &[&n.to_string()]),
            Self::Topics(ai) => build("cgt", &[if *ai { "a" } else { "t" }]),
            Self::Images => "cgi".to_owned(),
            Self::Start => "cgk".to_owned(),
            Self::Cancel(x) => build("cgx", &[&b(x)]),
            Self::RetryFailed(x) => build("cgf", &[&b(x)]),
            Self::Review(x, page) => build("cgv", &[&b(x), &page.to_string()]),
            Self::Post(x, post) => build("cgp", &[&b(x), &p(post)]),
            Self::Approve(x, post) => build("cgy", &[&b(x), &p(post)]),
            Self::ApproveAll(x) => build("cgY", &[&b(x)]),
            Self::Drop(x, post) => build("cgd", &[&b(x), &p(post)]),
            Self::Spread(x) => build("cgw", &[&b(x)]),
            Self::SpreadConfirm(x) => build("cgW", &[&b(x)]),
            Self::SendForApproval(x) => build("cgq", &[&b(x)]),
            Self::PickFor(post) => build("cgu", &[&p(post)]),
            Self::SetFor(post, x) => build("cgU", &[&p(post), &x.as_ref().map(c).unwrap_or_else(|| "-".into())]),
        }
    }

    pub(super) fn decode(prefix: &str, f: &[&str]) -> Option<Self> {
        let c = |i: usize| id(f, i).map(CampaignId::from_uuid);
        let b = |i: usize| id(f, i).map(BatchId::from_uuid);
        let p = |i: usize| id(f, i).map(PostId::from_uuid);
        Some(match (prefix, f.len()) {
            ("cgl", 2) => Self::List(
                num(f, 0)?,
                match f[1] {
                    "a" => true,
                    "n" => false,
                    _ => return None,
                },
            ),
            ("cgn", 0) => Self::New,
            ("cgs", 1) => Self::Show(c(0)?),
            ("cge", 2) => Self::Edit(c(0)?, CampaignField::parse(f[1])?),
            ("cgo", 1) => Self::Activate(c(0)?),
            ("cga", 1) => Self::Archive(c(0)?),
            ("cgr", 1) => Self::Restore(c(0)?),
            ("cgh", 1) => Self::History(c(0)?),
            ("cgP", 1) => Self::TogglePlatform(num(f, 0)?),
            ("cgA", 1) => Self::ToggleAccount(num(f, 0)?),
            ("cgS", 0) => Self::Skip,
            ("cgN", 0) => Self::Next,
            ("cgb", 1) => Self::Batch(c(0)?),
            ("cgc", 1) => Self::Count(num(f, 0)?),
            ("cgt", 1) => Self::Topics(match f[0] {
                "a" => true,
                "t" => false,
                _ => return None,
            }),
            ("cgi", 0) => Self::Images,
            ("cgk", 0) => Self::Start,
            ("cgx", 1) => Self::Cancel(b(0)?),
            ("cgf", 1) => Self::RetryFailed(b(0)?),
            ("cgv", 2) => Self::Review(b(0)?, num(f, 1)?),
            ("cgp", 2) => Self::Post(b(0)?, p(1)?),
            ("cgy", 2) => Self::Approve(b(0)?, p(1)?),
            ("cgY", 1) => Self::ApproveAll(b(0)?),
            ("cgd", 2) => Self::Drop(b(0)?, p(1)?),
            ("cgw", 1) => Self::Spread(b(0)?),
            ("cgW", 1) => Self::SpreadConfirm(b(0)?),
            ("cgq", 1) => Self::SendForApproval(b(0)?),
            ("cgu", 1) => Self::PickFor(p(0)?),
            ("cgU", 2) => Self::SetFor(
                p(0)?,
                match f[1] {
                    "-" => None,
                    _ => Some(c(1)?),
                },
            ),
            _ => return None,
        })
    }
}

/// One button of every variant, with the longest fields each can carry.
#[cfg(test)]
pub(super) fn every_variant() -> Vec<Campaign> {
    let (c, b, p) = (CampaignId::new(), BatchId::new(), PostId::new());
    let mut all = vec![
        Campaign::List(u32::MAX, true),
        Campaign::List(0, false),
        Campaign::New,
        Campaign::Show(c),
        Campaign::Activate(c),
        Campaign::Archive(c),
        Campaign::Restore(c),
        Campaign::History(c),
        Campaign::TogglePlatform(u8::MAX),
        Campaign::ToggleAccount(u8::MAX),
        Campaign::Skip,
        Campaign::Next,
        Campaign::Batch(c),
        Campaign::Count(u16::MAX),
        Campaign::Topics(true),
        Campaign::Topics(false),
        Campaign::Images,
        Campaign::Start,
        Campaign::Cancel(b),
        Campaign::RetryFailed(b),
        Campaign::Review(b, u32::MAX),
        Campaign::Post(b, p),
        Campaign::Approve(b, p),
        Campaign::ApproveAll(b),
        Campaign::Drop(b, p),
        Campaign::Spread(b),
        Campaign::SpreadConfirm(b),
        Campaign::SendForApproval(b),
        Campaign::PickFor(p),
        Campaign::SetFor(p, Some(c)),
        Campaign::SetFor(p, None),
    ];
    all.extend(CampaignField::ALL.map(|f| Campaign::Edit(c, f)));
    all
}

#[cfg(test)]
mod tests {
    use super::super::{Button, MAX_CALLBACK_BYTES};
    use super::*;

    #[test]
    fn every_campaign_button_round_trips_within_64_bytes() {
        for b in every_variant() {
            let data = Button::Campaign(b).encode();
            assert!(data.len() <= MAX_CALLBACK_BYTES, "{data}");
            assert_eq!(Button::decode(&data), Some(Button::Campaign(b)), "{data}");
        }
    }

    #[test]
    fn malformed_campaign_data_decodes_to_nothing() {
        for data in
            ["cgl:1:x", "cgl:-1:a", "cge:AAAA:n", "cgt:z", "cgU:short:-", "cgs", "cgv:x:1", "cgk:1", "cgc:70000"]
        {
            assert_eq!(Button::decode(data), None, "{data}");
        }
    }
}
