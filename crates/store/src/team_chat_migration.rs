//! A team chat that became a supergroup: the workspaces that named the old id follow it.
//!
//! The bot sees the migration as a service message (two, in fact: `migrate_to_chat_id` in the old group and
//! `migrate_from_chat_id` in the new supergroup), or as a send answered with `migrate_to_chat_id`; the scheduler
//! may learn of it first, from a `notify` job answered so. Every path moves the same things and a second pass
//! finds nothing left under the old id, so it does not matter which comes first or how often. A chat id names no
//! workspace, so these are system lookups that return the workspaces they changed rather than rows.

use super::{Result, Store};
use tochen_domain::ids::TenantId;

impl Store {
    /// Moves every workspace whose team chat is `old_chat_id` to `new_chat_id`; returns those workspaces.
    pub async fn migrate_team_chat(&self, old_chat_id: i64, new_chat_id: i64) -> Result<Vec<TenantId>> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM tenants WHERE team_chat_id = $1 ORDER BY id")
            .bind(old_chat_id)
            .fetch_all(&self.pool)
            .await?;
        let tenants = rows
            .iter()
            .map(|r| TenantId::from_db(&r.0).map_err(crate::StoreError::from))
            .collect::<Result<Vec<_>>>()?;
        for tenant in &tenants {
            self.set_team_chat(*tenant, Some(new_chat_id)).await?;
        }
        Ok(tenants)
    }

    /// Everything that names a group follows it to its supergroup: destinations, the team chat of the
    /// workspaces that use it, and open conversations. Idempotent.
    pub async fn follow_chat_migration(&self, old_chat_id: i64, new_chat_id: i64) -> Result<()> {
        if old_chat_id == new_chat_id {
            return Ok(());
        }
        self.migrate_destination_chat(old_chat_id, new_chat_id).await?;
        self.migrate_team_chat(old_chat_id, new_chat_id).await?;
        self.migrate_dialogue_chat(old_chat_id, new_chat_id).await?;
        Ok(())
    }
}
