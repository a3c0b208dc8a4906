//! Where each person is in a conversation, persisted per (chat, user).
//!
//! teloxide's `Dialogue` keys state by chat only, so two people in a team's group would share one conversation.
//! `ChatUserDialogue` is the same idea keyed by both, stored through `Store::dialogue_state` as JSON so it
//! survives restarts: stop the bot mid-conversation, start another on the same database, and the next message
//! continues where the person was. A state that no longer deserializes (an older release) resets to `Idle`.

use serde::{Deserialize, Serialize};
use tochen_core::llm::Idea;
use tochen_core::{PostId, Store};

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
    /// The next message is a rewrite instruction.
    Rewrite {
        post: PostId,
        version: i64,
    },
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
        wizard: crate::automations::Wizard,
    },
}

/// The dialogue of one person in one chat.
#[derive(Clone)]
pub struct ChatUserDialogue {
    store: Store,
    pub chat_id: i64,
    pub user_id: i64,
}

impl ChatUserDialogue {
    pub fn new(store: Store, chat_id: i64, user_id: i64) -> Self {
        Self { store, chat_id, user_id }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn get(&self) -> anyhow::Result<State> {
        let raw = self.store.dialogue_state(self.chat_id, self.user_id).await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default())
    }

    pub async fn update(&self, state: State) -> anyhow::Result<()> {
        if state == State::Idle {
            return self.exit().await;
        }
        let json = serde_json::to_string(&state)?;
        self.store.set_dialogue_state(self.chat_id, self.user_id, &json).await?;
        Ok(())
    }

    pub async fn exit(&self) -> anyhow::Result<()> {
        self.store.remove_dialogue_state(self.chat_id, self.user_id).await?;
        Ok(())
    }
}
