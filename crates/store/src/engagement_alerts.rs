//! Per-workspace choice of which webhook engagement reaches the team chat (comments, reactions). Both are on
//! until a workspace turns one off.

use super::{Result, Store};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::TenantId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngagementAlerts {
    pub comments: bool,
    pub reactions: bool,
}

impl Default for EngagementAlerts {
    fn default() -> Self {
        Self { comments: true, reactions: true }
    }
}

impl Store {
    /// The workspace's choice, or both on when it never chose.
    pub async fn engagement_alerts(&self, tenant: TenantId) -> Result<EngagementAlerts> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT comments, reactions FROM engagement_alerts WHERE tenant_id = $1")
                .bind(tenant.to_db())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(c, r)| EngagementAlerts { comments: c != 0, reactions: r != 0 }).unwrap_or_default())
    }

    pub async fn set_engagement_alerts(&self, tenant: TenantId, a: EngagementAlerts) -> Result<()> {
        sqlx::query(
            "INSERT INTO engagement_alerts (tenant_id, comments, reactions, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id) DO UPDATE SET comments = excluded.comments, reactions = excluded.reactions, \
             updated_at = excluded.updated_at",
        )
        .bind(tenant.to_db())
        .bind(i64::from(a.comments))
        .bind(i64::from(a.reactions))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
