//! Where each person is in a conversation, persisted per (chat, user).
//!
//! teloxide's `Dialogue` keys state by chat only, so two people in a team's group would share one conversation.
//! `ChatUserDialogue` is the same idea keyed by both, stored through `Store::dialogue_state` as JSON so it
//! survives restarts: stop the bot mid-conversation, start another on the same database, and the next message
//! continues where the person was. A state that no longer deserializes (an older release) resets to `Idle`.
//!
//! A flow belongs to the workspace it started in. The stored row carries that workspace (`ws`) beside the state,
//! written from the workspace the handler acted in, so an answer arriving after the person switched workspaces
//! (in another chat, say) or lost their role is recognised and refused by `flow.rs` instead of landing in
//! whatever workspace is active by then.

pub mod campaign;
pub mod wizard;

use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use tochen_domain::Role;
use tochen_domain::{AccountId, CampaignId, Platform, PostId, TargetId, TenantId};
use tochen_llm::Idea;
use tochen_store::Store;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "s")]
pub enum State {
    #[default]
    Idle,
    /// A new workspace: waiting for its name.
    SetupName,
    /// Profile questions; `editing` means /profile (one answer, then done) rather than first setup.
    SetupDescription {
        editing: bool,
    },
    SetupAudience {
        editing: bool,
    },
    SetupTone {
        editing: bool,
    },
    /// The language posts and reports are written in (not the person's own).
    SetupLanguage {
        editing: bool,
    },
    SetupTimezone {
        editing: bool,
    },
    /// Ideas shown as buttons.
    Ideas {
        topic: String,
        ideas: Vec<Idea>,
    },
    /// The next message replaces the draft's text.
    EditText {
        post: PostId,
        version: i64,
    },
    /// The next message is a rewrite instruction (for one platform's version, or for all).
    Rewrite {
        post: PostId,
        version: i64,
        #[serde(default)]
        platform: Option<Platform>,
    },
    /// The next message is one platform's own text.
    EditVersion {
        post: PostId,
        version: i64,
        platform: Platform,
    },
    /// `/new`: the next message (text, photos, videos, an album, a forward) becomes a draft.
    Compose,
    /// The next photo or video is attached.
    Attach {
        post: PostId,
        version: i64,
    },
    /// The next message is a time.
    ScheduleAt {
        post: PostId,
        version: i64,
        reschedule: bool,
    },
    /// The next message is the reason of a rejection.
    RejectReason {
        post: PostId,
        version: i64,
        /// The approval card the admin pressed, edited to show the rejection (absent in states saved before).
        #[serde(default)]
        card: Option<i32>,
    },
    /// Creating or editing an automation (bot/src/automations/wizard.rs).
    Automation {
        wizard: wizard::Wizard,
    },
    /// The operator's prompt for a workspace's monthly token quota (`/admin`).
    AdminQuota {
        tenant: TenantId,
    },
    /// The next message is the new text of a published target (`published.rs`); once sent, `text` holds it until
    /// the person confirms.
    EditPublished {
        post: PostId,
        target: TargetId,
        version: i64,
        #[serde(default)]
        text: Option<String>,
    },
    /// The next message is words to search the library for (`library/filters.rs`).
    LibrarySearch,
    /// The next message is a date range for the library.
    LibraryRange,
    /// The next message is a post's tags (`library/card.rs`).
    LibraryTags {
        post: PostId,
    },
    /// The next message is a date range for `/stats` (`stats.rs`), for the workspace or one platform or account.
    StatsRange {
        #[serde(default)]
        platform: Option<Platform>,
        #[serde(default)]
        account: Option<AccountId>,
        #[serde(default)]
        campaign: Option<CampaignId>,
    },
    /// The next message is queue slots to add (`slots.rs`): the workspace's (`None`) or an account's own.
    SlotsAdd {
        account: Option<AccountId>,
    },
    /// `/api`: the next message names a new API token (`name` is `None`), or renames it while its settings are
    /// chosen (`api_tokens.rs`).
    ApiToken {
        name: Option<String>,
    },
    /// A campaign being created or one of its fields edited (`campaigns/wizard.rs`).
    Campaign {
        draft: campaign::CampaignDraft,
    },
    /// A batch being set up from a campaign (`campaigns/batch.rs`).
    CampaignBatch {
        draft: campaign::BatchDraft,
    },
    /// A spread of a batch's approved drafts shown, waiting for Confirm (`campaigns/spread.rs`).
    CampaignSpread {
        plan: campaign::SpreadPlan,
    },
}

impl State {
    /// The least role that may answer this state in the workspace its flow started in; `None` for states that
    /// belong to no workspace (idle, naming a new one). The match has no wildcard on purpose: a new state must
    /// say who may answer it.
    pub fn needed_role(&self) -> Option<Role> {
        match self {
            // The operator's prompt belongs to no workspace: its handler checks that the person is an operator.
            State::Idle | State::SetupName | State::AdminQuota { .. } => None,
            State::LibrarySearch | State::LibraryRange | State::StatsRange { .. } => Some(Role::Viewer),
            State::SetupDescription { .. }
            | State::SetupAudience { .. }
            | State::SetupTone { .. }
            | State::SetupLanguage { .. }
            | State::SetupTimezone { .. } => Some(Role::Admin),
            State::Ideas { .. }
            | State::EditText { .. }
            | State::Rewrite { .. }
            | State::Attach { .. }
            | State::EditVersion { .. }
            | State::Compose
            | State::ScheduleAt { .. }
            | State::EditPublished { .. }
            | State::LibraryTags { .. }
            | State::Campaign { .. }
            | State::CampaignBatch { .. } => Some(Role::Editor),
            State::CampaignSpread { .. } => Some(Role::Admin),
            State::RejectReason { .. } | State::Automation { .. } | State::SlotsAdd { .. } | State::ApiToken { .. } => {
                Some(Role::Admin)
            }
        }
    }
}

/// A stored dialogue row: the state and the workspace its flow started in (absent in rows written before flows
/// were bound; such a flow is refused rather than guessed).
#[derive(Debug, Serialize, Deserialize)]
struct StoredFlow {
    #[serde(flatten)]
    state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ws: Option<TenantId>,
}

/// The dialogue of one person in one chat.
///
/// The dialogue of an update arrives with the person (`Store::person_in_chat`, one read) and is kept here for the
/// rest of that update: reading it again costs nothing, saving the state it already has writes nothing, and each
/// write updates the kept copy, so every clone of this update's context sees the latest state.
#[derive(Clone)]
pub struct ChatUserDialogue {
    store: Store,
    pub chat_id: i64,
    pub user_id: i64,
    /// The workspace this update acts in: a state saved through this dialogue is bound to it.
    workspace: Option<TenantId>,
    /// The stored row as this update knows it (`None` inside: no row); unknown until read or preloaded.
    known: Arc<Mutex<Option<Option<String>>>>,
}

impl ChatUserDialogue {
    pub fn new(store: Store, chat_id: i64, user_id: i64) -> Self {
        Self { store, chat_id, user_id, workspace: None, known: Default::default() }
    }

    /// The same dialogue, saving states bound to `workspace`.
    pub fn in_workspace(mut self, workspace: Option<TenantId>) -> Self {
        self.workspace = workspace;
        self
    }

    /// The same dialogue, with its stored row already read (`None`: there is none).
    pub fn with_stored(self, raw: Option<String>) -> Self {
        *self.known.lock().expect("dialogue lock") = Some(raw);
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn get(&self) -> anyhow::Result<State> {
        Ok(self.flow().await?.0)
    }

    /// The state and the workspace its flow is bound to.
    pub async fn flow(&self) -> anyhow::Result<(State, Option<TenantId>)> {
        let known = self.known.lock().expect("dialogue lock").clone();
        let raw = match known {
            Some(raw) => raw,
            None => {
                let raw = self.store.dialogue_state(self.chat_id, self.user_id).await?;
                *self.known.lock().expect("dialogue lock") = Some(raw.clone());
                raw
            }
        };
        let stored = raw.and_then(|r| serde_json::from_str::<StoredFlow>(&r).ok());
        Ok(stored.map(|s| (s.state, s.ws)).unwrap_or_default())
    }

    /// Whether the stored row is known to be `raw` already (then saving it again would change nothing).
    fn holds(&self, raw: Option<&str>) -> bool {
        matches!(&*self.known.lock().expect("dialogue lock"), Some(k) if k.as_deref() == raw)
    }

    /// Saves `state`, bound to the workspace this update acts in.
    pub async fn update(&self, state: State) -> anyhow::Result<()> {
        if state == State::Idle {
            return self.exit().await;
        }
        let json = serde_json::to_string(&StoredFlow { state, ws: self.workspace })?;
        if self.holds(Some(&json)) {
            return Ok(());
        }
        self.store.set_dialogue_state(self.chat_id, self.user_id, &json).await?;
        *self.known.lock().expect("dialogue lock") = Some(Some(json));
        Ok(())
    }

    pub async fn exit(&self) -> anyhow::Result<()> {
        if self.holds(None) {
            return Ok(());
        }
        self.store.remove_dialogue_state(self.chat_id, self.user_id).await?;
        *self.known.lock().expect("dialogue lock") = Some(None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_flow_keeps_its_workspace_beside_the_state() {
        let ws = TenantId::new();
        let state = State::RejectReason { post: PostId::new(), version: 3, card: Some(7) };
        let json = serde_json::to_string(&StoredFlow { state: state.clone(), ws: Some(ws) }).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["s"], "RejectReason");
        assert_eq!(v["ws"], serde_json::json!(ws));
        let back: StoredFlow = serde_json::from_str(&json).unwrap();
        assert_eq!((back.state, back.ws), (state, Some(ws)));
    }

    #[test]
    fn a_row_from_before_flows_were_bound_reads_without_a_workspace() {
        let back: StoredFlow = serde_json::from_str(r#"{"s":"SetupTone","editing":true}"#).unwrap();
        assert_eq!((back.state, back.ws), (State::SetupTone { editing: true }, None));
        let idle: StoredFlow = serde_json::from_str(r#"{"s":"Idle"}"#).unwrap();
        assert_eq!(idle.state, State::Idle);
    }
}
