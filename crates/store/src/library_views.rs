//! What each person last filtered the content library by, per workspace. A button carries at most 64 bytes, far
//! less than a filter with an account, an author, a tag and search words, so the library's buttons change this
//! row and the list reads it. The view itself is the bot's JSON; the store does not interpret it.

use crate::{Result, Store};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{TenantId, UserId};

impl Store {
    /// The person's saved library view in this workspace, if any.
    pub async fn library_view(&self, tenant: TenantId, user: UserId) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT view FROM library_views WHERE tenant_id = $1 AND user_id = $2")
                .bind(tenant.to_db())
                .bind(user.to_db())
                .fetch_optional(self.reader())
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// Saves (replaces) the person's library view in this workspace.
    pub async fn set_library_view(&self, tenant: TenantId, user: UserId, view: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO library_views (tenant_id, user_id, view, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET view = excluded.view, updated_at = excluded.updated_at",
        )
        .bind(tenant.to_db())
        .bind(user.to_db())
        .bind(view)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
