//! A team chat that became a supergroup: the workspaces that named the old id follow it.
//!
//! The bot sees the migration as a service message, but the scheduler may learn of it first, from a `notify` job
//! that Telegram answers with `migrate_to_chat_id`. A chat id names no workspace, so this is a system lookup that
//! returns the workspaces it changed rather than rows.

use super::{Result, Store};
use crate::ids::TenantId;

impl Store {
    /// Moves every workspace whose team chat is `old_chat_id` to `new_chat_id`; returns those workspaces.
    pub async fn migrate_team_chat(&self, old_chat_id: i64, new_chat_id: i64) -> Result<Vec<TenantId>> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM tenants WHERE team_chat_id = $1 ORDER BY id")
            .bind(old_chat_id)
            .fetch_all(&self.pool)
            .await?;
        let tenants = rows.iter().map(|r| TenantId::from_db(&r.0)).collect::<Result<Vec<_>>>()?;
        for tenant in &tenants {
            self.set_team_chat(*tenant, Some(new_chat_id)).await?;
        }
        Ok(tenants)
    }
}
