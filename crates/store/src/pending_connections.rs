//! Rows of `pending_connections`: what a sign-in found, parked until the person confirms it in the browser and
//! picks one candidate in the chat. The rules (one-time confirmation, compare-and-set choice) live with the
//! platform code; here are the rows. The candidates are one JSON text, encrypted by the store's `SecretBox`.

use crate::{Result, Store};
use tochen_domain::clock::Millis;
use tochen_domain::ids::{TenantId, UserId};
use tochen_domain::Platform;

/// A sign-in to park.
#[derive(Debug, Clone)]
pub struct NewPendingConnection<'a> {
    pub id: &'a str,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub chat_id: i64,
    pub platform: Platform,
    /// The candidates as JSON, in clear; stored encrypted.
    pub candidates_json: &'a str,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub confirm_hash: &'a str,
}

/// A parked row as read back. `candidates_enc` is still encrypted (decrypt with [`Store::secrets`]); `platform`
/// is the stored spelling.
#[derive(Debug, Clone)]
pub struct PendingConnection {
    pub id: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub chat_id: i64,
    pub platform: String,
    pub candidates_enc: String,
}

type Row = (String, String, String, i64, String, String);

fn from_row((id, tenant, user, chat_id, platform, candidates_enc): Row) -> Result<PendingConnection> {
    Ok(PendingConnection {
        id,
        tenant_id: TenantId::from_db(&tenant)?,
        user_id: UserId::from_db(&user)?,
        chat_id,
        platform,
        candidates_enc,
    })
}

impl Store {
    pub async fn insert_pending_connection(&self, new: &NewPendingConnection<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO pending_connections (id, tenant_id, user_id, chat_id, platform, candidates_enc, created_at, \
             expires_at, confirm_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new.id)
        .bind(new.tenant_id.to_db())
        .bind(new.user_id.to_db())
        .bind(new.chat_id)
        .bind(new.platform.as_str())
        .bind(self.secrets.encrypt(new.candidates_json))
        .bind(new.created_at)
        .bind(new.expires_at)
        .bind(new.confirm_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Clears the confirmation hash of the unexpired row that carries it and sets its new expiry; `None` when no
    /// such row (unknown, spent or expired).
    pub async fn confirm_pending_connection(
        &self,
        confirm_hash: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<Option<PendingConnection>> {
        let row: Option<Row> = sqlx::query_as(
            "UPDATE pending_connections SET confirm_hash = NULL, expires_at = $3 WHERE confirm_hash = $1 \
             AND expires_at > $2 RETURNING id, tenant_id, user_id, chat_id, platform, candidates_enc",
        )
        .bind(confirm_hash)
        .bind(now)
        .bind(expires_at)
        .fetch_optional(&self.pool)
        .await?;
        row.map(from_row).transpose()
    }

    /// Deletes the unconfirmed row that carries `confirm_hash` and returns it.
    pub async fn cancel_pending_connection(&self, confirm_hash: &str) -> Result<Option<PendingConnection>> {
        let row: Option<Row> = sqlx::query_as(
            "DELETE FROM pending_connections WHERE confirm_hash = $1 \
             RETURNING id, tenant_id, user_id, chat_id, platform, candidates_enc",
        )
        .bind(confirm_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(from_row).transpose()
    }

    /// The confirmed, unexpired row `id` started by `user` in `tenant`.
    pub async fn confirmed_pending_connection(
        &self,
        tenant: TenantId,
        user: UserId,
        id: &str,
        now: Millis,
    ) -> Result<Option<PendingConnection>> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, tenant_id, user_id, chat_id, platform, candidates_enc FROM pending_connections \
             WHERE id = $1 AND tenant_id = $2 AND user_id = $3 AND confirm_hash IS NULL AND expires_at > $4",
        )
        .bind(id)
        .bind(tenant.to_db())
        .bind(user.to_db())
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        row.map(from_row).transpose()
    }

    /// Deletes the confirmed, unexpired row `id` of `user` in `tenant`; true when this call deleted it.
    pub async fn spend_pending_connection(
        &self,
        tenant: TenantId,
        user: UserId,
        id: &str,
        now: Millis,
    ) -> Result<bool> {
        let spent = sqlx::query(
            "DELETE FROM pending_connections WHERE id = $1 AND tenant_id = $2 AND user_id = $3 \
             AND confirm_hash IS NULL AND expires_at > $4",
        )
        .bind(id)
        .bind(tenant.to_db())
        .bind(user.to_db())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(spent.rows_affected() == 1)
    }

    pub async fn delete_pending_connection(&self, tenant: TenantId, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM pending_connections WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant.to_db())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes every row that expired by `now`, confirmed or not; returns how many.
    pub async fn delete_expired_pending_connections(&self, now: Millis) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM pending_connections WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
