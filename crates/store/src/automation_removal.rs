//! Deleting an automation from the bot. Its runs and destination links go with it (foreign keys), and its queued
//! slot jobs are cancelled in the same transaction so no orphan slot fires later. A slot job already running
//! finds the automation gone and ends quietly.

use super::{Result, Store};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{AutomationId, TenantId};

impl Store {
    /// Deletes an automation of the workspace; false when there was none.
    pub async fn delete_automation(&self, tenant: TenantId, id: AutomationId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE jobs SET state = 'cancelled', updated_at = $3, finished_at = $3 \
             WHERE tenant_id = $1 AND state = 'queued' AND unique_key LIKE $2",
        )
        .bind(tenant.to_db())
        .bind(format!("automation:{id}:%"))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM automations WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(id.to_db())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
