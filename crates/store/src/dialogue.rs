//! Persisted dialogue state of the bot, keyed by (chat, user) so two people in one group never share a
//! conversation, and surviving restarts. The state itself is the bot's serialized JSON; the store does not
//! interpret it.

use crate::{Result, Store};
use tochen_domain::clock::now_ms;

impl Store {
    pub async fn dialogue_state(&self, chat_id: i64, user_id: i64) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT state FROM dialogue_states WHERE chat_id = $1 AND user_id = $2")
                .bind(chat_id)
                .bind(user_id)
                .fetch_optional(self.reader())
                .await?;
        Ok(row.map(|r| r.0))
    }

    pub async fn set_dialogue_state(&self, chat_id: i64, user_id: i64, state: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO dialogue_states (chat_id, user_id, state, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (chat_id, user_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(chat_id)
        .bind(user_id)
        .bind(state)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn remove_dialogue_state(&self, chat_id: i64, user_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM dialogue_states WHERE chat_id = $1 AND user_id = $2")
            .bind(chat_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Moves every conversation of a group to its new supergroup id (Telegram's `migrate_to_chat_id`).
    pub async fn migrate_dialogue_chat(&self, old_chat_id: i64, new_chat_id: i64) -> Result<()> {
        sqlx::query("UPDATE dialogue_states SET chat_id = $2 WHERE chat_id = $1")
            .bind(old_chat_id)
            .bind(new_chat_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
