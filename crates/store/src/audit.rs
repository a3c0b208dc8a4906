//! The audit log: who did what in a workspace.

use crate::{col, Result, Store};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{TenantId, UserId};

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub actor_id: Option<UserId>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<String>,
    pub details: serde_json::Value,
    pub created_at: Millis,
}

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

    /// The newest entries of a workspace, newest first.
    pub async fn audit_log(&self, tenant: TenantId, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT actor_id, action, subject_type, subject_id, details, created_at FROM audit_log \
             WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(tenant.to_db())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let actor: Option<String> = col(row, "actor_id")?;
                let details: String = col(row, "details")?;
                Ok(AuditEntry {
                    actor_id: actor.as_deref().map(UserId::from_db).transpose()?,
                    action: col(row, "action")?,
                    subject_type: col(row, "subject_type")?,
                    subject_id: col(row, "subject_id")?,
                    details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
                    created_at: col(row, "created_at")?,
                })
            })
            .collect()
    }
}
