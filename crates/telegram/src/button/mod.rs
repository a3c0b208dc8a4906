//! Every inline button tochen sends, as one `Button` type with one sub-enum per flow, and its callback data.
//!
//! The bot draws most buttons, but the scheduler (publish results: [`Target`]) and the web service (the account
//! pick after a sign-in: [`Connect::Pick`]) send some too, and the bot must read them back, so the type lives
//! here, where all three reach it. Telegram allows 1-64 bytes of data. Most buttons are `<prefix>:<field>...`
//! with ids packed to 22 characters of url-safe base64; the management buttons are `a:<op>:<uuid as 32 hex>` and
//! the automation wizard's `aw:<op>[:<arg>]`, the operator's
//! `op:<screen>[:<arg>]`. The strings are what buttons already in chats carry, so they never
//! change. User text never goes in.
//!
//! Decoding yields only a shape: the bot still checks every id against the caller's active workspace and role,
//! and compares the post version a button carries with the post's current one, so a forged or stale button
//! cannot reach another workspace's data or change a post twice.

mod admin;
mod ads;
mod api;
mod automation;
mod calendar;
mod campaign;
mod connect;
mod fields;
mod library;
mod onboarding;
mod options;
mod post;
mod published;
mod slots;
mod stats;
mod target;
mod team;
pub mod wizard;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

pub use admin::Admin;
pub use ads::{pick_rows as ads_pick_rows, Ads};
pub use api::{ApiTokens, TokenSettings};
pub use automation::Automation;
pub use calendar::{Calendar, CalendarView};
pub use campaign::{Campaign, CampaignField};
pub use connect::Connect;
pub use fields::{pack_uuid, split, unpack_uuid};
pub use library::{Library, LibraryField};
pub use onboarding::{Ideas, Menu, Onboarding};
pub use options::{OptToggle, PostOpt};
pub use post::{Approval, Draft, DraftAct, MediaAct, Queue, Quick, Schedule, VersionAct};
pub use published::Published;
pub use slots::{SlotScope, Slots};
pub use stats::{Stats, StatsPeriod, StatsScope};
pub use target::Target;
pub use team::Team;
pub use wizard::Wizard;

/// Telegram's limit on callback data, in bytes.
pub const MAX_CALLBACK_BYTES: usize = 64;

/// A pressed (or to be drawn) inline button, by flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Button {
    /// The profile questions.
    Onboarding(Onboarding),
    /// The menu under the welcome.
    Menu(Menu),
    /// The list of post ideas.
    Ideas(Ideas),
    /// The draft screen.
    Draft(Draft),
    /// Picking a time.
    Schedule(Schedule),
    /// An admin's decision on a post waiting for approval.
    Approval(Approval),
    /// The post lists and a queued post's screen.
    Queue(Queue),
    /// Members, roles, workspaces and the bot's language.
    Team(Team),
    /// A publish result's follow-up (sent by the scheduler).
    Target(Target),
    /// Connecting accounts (the pick after a sign-in is sent by the web service).
    Connect(Connect),
    /// Managing destinations and automations.
    Automation(Automation),
    /// The automation wizard.
    Wizard(Wizard),
    /// The operator's `/admin` screens.
    Admin(Admin),
    /// A post's platform options (TikTok privacy and toggles, Facebook Reel or video).
    PostOpt(PostOpt),
    /// A published post's screen, and "Duplicate" on any post.
    Published(Published),
    /// The content library: its list, filters, a post's card and tags.
    Library(Library),
    /// `/stats`: a period's numbers, its scope and its chart.
    Stats(Stats),
    /// Ad accounts: connecting them and `/ads`.
    Ads(Ads),
    /// `/calendar`: weeks and months as pictures, and a day's posts.
    Calendar(Calendar),
    /// Queue slots (`/slots`) and adding the suggested best times (`/besttime`).
    Slots(Slots),
    /// `/api`: the workspace's HTTP API tokens.
    ApiTokens(ApiTokens),
    /// Campaigns, their batches and reviews.
    Campaign(Campaign),
}

impl Button {
    /// The callback data, at most [`MAX_CALLBACK_BYTES`].
    pub fn encode(&self) -> String {
        match self {
            Self::Onboarding(b) => b.encode(),
            Self::Menu(b) => b.encode(),
            Self::Ideas(b) => b.encode(),
            Self::Draft(b) => b.encode(),
            Self::Schedule(b) => b.encode(),
            Self::Approval(b) => b.encode(),
            Self::Queue(b) => b.encode(),
            Self::Team(b) => b.encode(),
            Self::Target(b) => b.encode(),
            Self::Connect(b) => b.encode(),
            Self::Automation(b) => b.encode(),
            Self::Wizard(b) => b.encode(),
            Self::Admin(b) => b.encode(),
            Self::PostOpt(b) => b.encode(),
            Self::Published(b) => b.encode(),
            Self::Library(b) => b.encode(),
            Self::Stats(b) => b.encode(),
            Self::Calendar(b) => b.encode(),
            Self::Ads(b) => b.encode(),
            Self::Slots(b) => b.encode(),
            Self::ApiTokens(b) => b.encode(),
            Self::Campaign(b) => b.encode(),
        }
    }

    /// The button `data` names; `None` for anything tochen never sent.
    pub fn decode(data: &str) -> Option<Button> {
        if let Some(body) = data.strip_prefix(wizard::PREFIX) {
            return Wizard::decode(body).map(Self::Wizard);
        }
        if let Some(body) = data.strip_prefix(automation::PREFIX) {
            return Automation::decode(body).map(Self::Automation);
        }
        let (prefix, f) = split(data);
        let f = f.as_slice();
        None.or_else(|| Onboarding::decode(prefix, f).map(Self::Onboarding))
            .or_else(|| Menu::decode(prefix, f).map(Self::Menu))
            .or_else(|| Ideas::decode(prefix, f).map(Self::Ideas))
            .or_else(|| Draft::decode(prefix, f).map(Self::Draft))
            .or_else(|| Schedule::decode(prefix, f).map(Self::Schedule))
            .or_else(|| Approval::decode(prefix, f).map(Self::Approval))
            .or_else(|| Queue::decode(prefix, f).map(Self::Queue))
            .or_else(|| Team::decode(prefix, f).map(Self::Team))
            .or_else(|| Target::decode(prefix, f).map(Self::Target))
            .or_else(|| Connect::decode(prefix, f).map(Self::Connect))
            .or_else(|| Admin::decode(prefix, f).map(Self::Admin))
            .or_else(|| PostOpt::decode(prefix, f).map(Self::PostOpt))
            .or_else(|| Published::decode(prefix, f).map(Self::Published))
            .or_else(|| Library::decode(prefix, f).map(Self::Library))
            .or_else(|| Stats::decode(prefix, f).map(Self::Stats))
            .or_else(|| Calendar::decode(prefix, f).map(Self::Calendar))
            .or_else(|| Slots::decode(prefix, f).map(Self::Slots))
            .or_else(|| ApiTokens::decode(prefix, f).map(Self::ApiTokens))
            .or_else(|| Campaign::decode(prefix, f).map(Self::Campaign))
            .or_else(|| Ads::decode(prefix, f).map(Self::Ads))
    }
}

macro_rules! from_flow {
    ($($flow:ident),*) => {$(
        impl From<$flow> for Button {
            fn from(b: $flow) -> Self {
                Button::$flow(b)
            }
        }
    )*};
}

from_flow!(
    Onboarding, Menu, Ideas, Draft, Schedule, Approval, Queue, Team, Target, Connect, Automation, Wizard, Admin,
    PostOpt, Published, Library, Stats, Calendar, Slots, ApiTokens, Campaign, Ads
);
