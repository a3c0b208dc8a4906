//! The audit log: who did what in a workspace.

use crate::{Result, Store};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{TenantId, UserId};

impl Store {
    /// Records an action. `action` is a dotted verb such as `post.approved` or `member.removed`.
    pub async fn audit(
        &self,
        tenant: TenantId,
        actor: Option<UserId>,
        action: &str,
        subject_type: &str,
        subject_id: Option<&str>,
        details: serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (id, tenant_id, actor_id, action, subject_type, subject_id, details, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(tenant.to_db())
        .bind(actor.map(|a| a.to_db()))
        .bind(action)
        .bind(subject_type)
        .bind(subject_id)
        .bind(details.to_string())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
