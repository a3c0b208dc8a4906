//! Disconnecting an account: its tokens leave `social_accounts` at once, and the one token a provider needs to
//! revoke the grant waits, encrypted, in `token_revocations` for its `account.revoke` job
//! (`platforms::revoke`), which deletes the row once the provider answered or the job gave up.
//!
//! Keeping the token in its own row, rather than on the account, means a reconnect of the same Page before the job
//! ran gets fresh tokens that the job never touches, and that the account row holds no token from the moment the
//! admin pressed "Disconnect". The row and its job are written in the disconnect's transaction, so a crash cannot
//! leave a token that nothing will revoke or delete.

use crate::accounts::{AccountRow, COLUMNS};
use crate::{parse_enum, Result, Store, StoreError};
use crate::{Account, NewJob};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, TenantId};
use tochen_domain::jobs::RevokePayload;
use tochen_domain::secret::SecretString;
use tochen_domain::{AccountStatus, AuthKind};

/// A token waiting to be revoked at the provider.
#[derive(Debug, Clone)]
pub struct TokenRevocation {
    pub id: String,
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub auth_kind: AuthKind,
    /// Who granted it (the Facebook user, the TikTok open_id), when known.
    pub grantor_id: Option<String>,
    pub token: SecretString,
    pub created_at: Millis,
}

/// The account being disconnected, with the token to revoke and who granted it.
#[derive(sqlx::FromRow)]
struct DisconnectRow {
    #[sqlx(flatten)]
    account: AccountRow,
    access_token_enc: String,
    grantor_id: Option<String>,
}

impl Store {
    /// Disconnects an account: status `disconnected`, no token left on it (the access token column, NOT NULL since
    /// the first migration, becomes empty; the refresh token NULL), and, where the provider can revoke, its
    /// access token moved to `token_revocations` with an `account.revoke` job, all in one transaction. Returns the
    /// account as it was, and whether a revocation was queued. `NotFound` for an account of another workspace.
    #[tracing::instrument(skip(self))]
    pub async fn disconnect_account(&self, tenant: TenantId, id: AccountId) -> Result<(Account, bool)> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row: DisconnectRow = sqlx::query_as(&format!(
            "SELECT {COLUMNS}, access_token_enc, grantor_id FROM social_accounts WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.to_db())
        .bind(id.to_db())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("account"))?;
        let (token, grantor) = (row.access_token_enc, row.grantor_id);
        let account = Account::try_from(row.account)?;
        // TikTok's grant is its open_id, which is also the account's external id (accounts connected before the
        // grantor was recorded have only that).
        let grantor = grantor.or_else(|| (account.auth_kind == AuthKind::TikTok).then(|| account.external_id.clone()));
        let queued = account.auth_kind.revocable() && !token.is_empty();
        if queued {
            let revocation = uuid::Uuid::now_v7().simple().to_string();
            sqlx::query(
                "INSERT INTO token_revocations (id, tenant_id, account_id, auth_kind, grantor_id, token_enc, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&revocation)
            .bind(tenant.to_db())
            .bind(id.to_db())
            .bind(account.auth_kind.as_str())
            .bind(&grantor)
            .bind(&token)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let job = NewJob::new(&RevokePayload { revocation_id: revocation.clone() }).tenant(tenant);
            crate::jobs::insert_job(&mut tx, &job, now).await?;
        }
        sqlx::query(
            "UPDATE social_accounts SET access_token_enc = '', refresh_token_enc = NULL, status = $3, \
             status_reason = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(AccountStatus::Disconnected.as_str())
        .bind("disconnected in the bot")
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if queued {
            self.notify_jobs_changed();
        }
        Ok((account, queued))
    }

    /// A token waiting to be revoked, decrypted; `None` once it was handled.
    pub async fn token_revocation(&self, tenant: TenantId, id: &str) -> Result<Option<TokenRevocation>> {
        let row: Option<(String, String, String, Option<String>, String, i64)> = sqlx::query_as(
            "SELECT id, account_id, auth_kind, grantor_id, token_enc, created_at FROM token_revocations \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((id, account, kind, grantor_id, token, created_at)) = row else { return Ok(None) };
        Ok(Some(TokenRevocation {
            id,
            tenant_id: tenant,
            account_id: AccountId::from_db(&account)?,
            auth_kind: parse_enum(&kind, AuthKind::parse, "auth kind")?,
            grantor_id,
            token: self.secrets.decrypt(&token)?,
            created_at,
        }))
    }

    /// Deletes a handled revocation (and with it the last copy of the token).
    pub async fn delete_token_revocation(&self, tenant: TenantId, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM token_revocations WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes revocations older than `cutoff` whose job could not finish (a backstop for the cleanup sweep).
    pub async fn delete_token_revocations_before(&self, cutoff: Millis) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM token_revocations WHERE created_at < $1").bind(cutoff).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// How many accounts, in any workspace, still rely on `grantor`'s grant at the provider of `kind` (not
    /// disconnected). Accounts of that provider whose grantor was never recorded count too, since they might. This
    /// is a count across workspaces on purpose: revoking a Facebook user's grant kills the Page tokens of every
    /// workspace that user connected, so it must not happen while one still uses them. No rows are returned.
    pub async fn accounts_relying_on_grant(&self, kind: AuthKind, grantor: &str) -> Result<i64> {
        let kinds = kind.same_grant();
        let list = kinds.iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", ");
        // A TikTok account's grant is its own open_id (= external id), so an unrecorded grantor is known anyway.
        let unknown = if kind == AuthKind::TikTok { "external_id = $1" } else { "grantor_id IS NULL" };
        let (n,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM social_accounts WHERE auth_kind IN ({list}) AND status <> 'disconnected' \
             AND (grantor_id = $1 OR {unknown})"
        ))
        .bind(grantor)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }
}
