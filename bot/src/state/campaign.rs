//! What the campaign flows keep between messages (`campaigns/`): the guided flow's fields, a batch being set up,
//! and the spread plan shown before it is confirmed.

use serde::{Deserialize, Serialize};
use tochen_domain::clock::Millis;
use tochen_domain::{AccountId, BatchId, CampaignId, Platform, PostId};
use tochen_telegram::button::CampaignField;

/// A campaign being created (`editing: None`, one step after another) or one field of a campaign being edited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignDraft {
    pub editing: Option<CampaignId>,
    /// The step: the field asked for now.
    pub step: CampaignField,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub brief: String,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub tone: String,
    #[serde(default)]
    pub goal: String,
    #[serde(default)]
    pub starts_at: Option<Millis>,
    #[serde(default)]
    pub ends_at: Option<Millis>,
    #[serde(default)]
    pub platforms: Vec<Platform>,
    #[serde(default)]
    pub accounts: Vec<AccountId>,
}

/// One post of a batch being set up: its topic and, optionally, its own tone, brief and audience.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchTopic {
    pub topic: String,
    #[serde(default)]
    pub tone: String,
    #[serde(default)]
    pub brief: String,
    #[serde(default)]
    pub audience: String,
}

/// A batch being set up from a campaign's screen: how many posts (0 until chosen), the topics once proposed or
/// typed, with images or not, and whether the next message is the typed topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchDraft {
    pub campaign: CampaignId,
    #[serde(default)]
    pub count: u16,
    #[serde(default)]
    pub topics: Vec<BatchTopic>,
    #[serde(default)]
    pub with_images: bool,
    #[serde(default)]
    pub typing: bool,
}

/// The spread shown: each approved draft (at the version planned) and its time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpreadPlan {
    pub batch: BatchId,
    pub slots: Vec<(PostId, i64, Millis)>,
}
