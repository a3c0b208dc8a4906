//! Single-use workspace creation codes (`TOCHEN_WORKSPACE_CREATION=code`), handed out by the operator as
//! `t.me/<bot>?start=new_<code>` deep links.
//!
//! Opening the link claims the code for that person ([`Store::claim_workspace_code`]); creating the workspace
//! spends it in the same transaction ([`Store::create_tenant_spending_code`]). A claimed code stays the person's
//! until spent, so someone who opens the link and finishes the setup later is not locked out, and nobody else can
//! use it.

use crate::operator::record;
use crate::tenants::{insert_tenant, Tenant, TenantProfile};
use crate::{Result, Store, StoreError};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::UserId;

/// The deep link payload prefix of a creation code.
pub const CODE_PREFIX: &str = "new_";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceCode {
    /// 22 characters of `[A-Za-z0-9]`.
    pub code: String,
    pub expires_at: Millis,
}

#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("this workspace code is unknown")]
    Unknown,
    #[error("this workspace code has expired")]
    Expired,
    #[error("this workspace code was already used")]
    Used,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CodeError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

impl Store {
    /// A new code, valid for `ttl_ms`, audited as the operator's action.
    pub async fn create_workspace_code(&self, actor: &str, ttl_ms: i64) -> Result<WorkspaceCode> {
        let now = now_ms();
        let code = WorkspaceCode { code: crate::invites::random_code(), expires_at: now + ttl_ms };
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO workspace_codes (code, created_by, expires_at, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&code.code)
            .bind(actor)
            .bind(code.expires_at)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let details = serde_json::json!({ "expires_at": code.expires_at });
        // The code itself is not in the log: whoever reads the log could otherwise use an unclaimed one.
        record(&mut *tx, actor, "code.created", None, Some(&code.code[..4]), details).await?;
        tx.commit().await?;
        Ok(code)
    }

    /// Claims `code` for `user`. Claiming one's own unspent code again is fine (the link opened twice).
    pub async fn claim_workspace_code(&self, code: &str, user: UserId) -> Result<(), CodeError> {
        let now = now_ms();
        let claimed = sqlx::query(
            "UPDATE workspace_codes SET claimed_by = $2, claimed_at = $3 \
             WHERE code = $1 AND claimed_by IS NULL AND spent_at IS NULL AND expires_at > $3",
        )
        .bind(code)
        .bind(user.to_db())
        .bind(now)
        .execute(&self.pool)
        .await?;
        if claimed.rows_affected() == 1 {
            return Ok(());
        }
        let row: Option<(Option<String>, Option<Millis>, Millis)> =
            sqlx::query_as("SELECT claimed_by, spent_at, expires_at FROM workspace_codes WHERE code = $1")
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            None => Err(CodeError::Unknown),
            Some((Some(by), None, _)) if by == user.to_db() => Ok(()),
            Some((Some(_), _, _)) | Some((None, Some(_), _)) => Err(CodeError::Used),
            Some((None, None, _)) => Err(CodeError::Expired),
        }
    }

    /// Whether `user` holds a claimed code not spent yet.
    pub async fn holds_workspace_code(&self, user: UserId) -> Result<bool> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT code FROM workspace_codes WHERE claimed_by = $1 AND spent_at IS NULL LIMIT 1")
                .bind(user.to_db())
                .fetch_optional(self.reader())
                .await?;
        Ok(row.is_some())
    }

    /// Creates a workspace as [`Store::create_tenant`] does, spending one of `admin`'s claimed codes in the same
    /// transaction. `None` (and nothing created) when `admin` holds no unspent code.
    pub async fn create_tenant_spending_code(
        &self,
        name: &str,
        profile: &TenantProfile,
        monthly_token_quota: i64,
        admin: UserId,
    ) -> Result<Option<Tenant>> {
        let mut tx = self.pool.begin().await?;
        let code: Option<(String,)> = sqlx::query_as(
            "SELECT code FROM workspace_codes WHERE claimed_by = $1 AND spent_at IS NULL ORDER BY claimed_at LIMIT 1",
        )
        .bind(admin.to_db())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((code,)) = code else { return Ok(None) };
        let id = insert_tenant(&mut tx, name, profile, monthly_token_quota, admin).await?;
        // Conditional on still being unspent: a concurrent creation by the same person spends it only once.
        let spent = sqlx::query(
            "UPDATE workspace_codes SET spent_at = $2, tenant_id = $3 WHERE code = $1 AND spent_at IS NULL",
        )
        .bind(&code)
        .bind(now_ms())
        .bind(id.to_db())
        .execute(&mut *tx)
        .await?;
        if spent.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(self.tenant(id).await?))
    }
}
