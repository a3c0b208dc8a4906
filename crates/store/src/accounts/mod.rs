//! Connected platform accounts. Tokens are encrypted with the store's `SecretBox` on the way in and decrypted
//! only on request (`account_tokens`), never as part of an ordinary read. A disconnected account keeps no token
//! (`accounts/revocations.rs`). The token-refresh sweep reads its candidates here too.
//!
//! The accounts the token-refresh sweep looks at.

use crate::{col, parse_enum, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, TenantId, UserId};
use tochen_domain::secret::SecretString;
use tochen_domain::{AccountStatus, AuthKind, Platform};

mod revocations;

pub use revocations::TokenRevocation;

/// A connected account, without its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub tenant_id: TenantId,
    pub platform: Platform,
    pub auth_kind: AuthKind,
    /// Page id, Instagram user id, or TikTok open_id.
    pub external_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub token_expires_at: Option<Millis>,
    pub refresh_expires_at: Option<Millis>,
    pub token_issued_at: Millis,
    pub status: AccountStatus,
    pub status_reason: Option<String>,
    pub created_at: Millis,
}

/// The decrypted tokens of an account.
#[derive(Debug, Clone)]
pub struct AccountTokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
}

/// What a successful OAuth exchange yields.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub platform: Platform,
    pub auth_kind: AuthKind,
    pub external_id: String,
    pub name: String,
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub scopes: Vec<String>,
    pub token_expires_at: Option<Millis>,
    pub refresh_expires_at: Option<Millis>,
    pub connected_by: Option<UserId>,
}

pub(crate) const COLUMNS: &str = "id, tenant_id, platform, auth_kind, external_id, name, scopes, token_expires_at, \
                       refresh_expires_at, token_issued_at, status, status_reason, created_at";

/// A row of `social_accounts` as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: String,
    tenant_id: String,
    platform: String,
    auth_kind: String,
    external_id: String,
    name: String,
    scopes: String,
    token_expires_at: Option<Millis>,
    refresh_expires_at: Option<Millis>,
    token_issued_at: Millis,
    status: String,
    status_reason: Option<String>,
    created_at: Millis,
}

impl AccountRow {
    /// Reads a row whose columns carry `prefix` (a joined read that aliases them): the derive has no prefix that
    /// is chosen at run time, so this one is by hand.
    fn prefixed(row: &AnyRow, prefix: &str) -> Result<Self> {
        Ok(Self {
            id: col(row, &format!("{prefix}id"))?,
            tenant_id: col(row, &format!("{prefix}tenant_id"))?,
            platform: col(row, &format!("{prefix}platform"))?,
            auth_kind: col(row, &format!("{prefix}auth_kind"))?,
            external_id: col(row, &format!("{prefix}external_id"))?,
            name: col(row, &format!("{prefix}name"))?,
            scopes: col(row, &format!("{prefix}scopes"))?,
            token_expires_at: col(row, &format!("{prefix}token_expires_at"))?,
            refresh_expires_at: col(row, &format!("{prefix}refresh_expires_at"))?,
            token_issued_at: col(row, &format!("{prefix}token_issued_at"))?,
            status: col(row, &format!("{prefix}status"))?,
            status_reason: col(row, &format!("{prefix}status_reason"))?,
            created_at: col(row, &format!("{prefix}created_at"))?,
        })
    }
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;

    fn try_from(r: AccountRow) -> Result<Self> {
        Ok(Account {
            id: AccountId::from_db(&r.id)?,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            platform: parse_enum(&r.platform, Platform::parse, "platform")?,
            auth_kind: parse_enum(&r.auth_kind, AuthKind::parse, "auth kind")?,
            external_id: r.external_id,
            name: r.name,
            scopes: r.scopes.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            token_expires_at: r.token_expires_at,
            refresh_expires_at: r.refresh_expires_at,
            token_issued_at: r.token_issued_at,
            status: parse_enum(&r.status, AccountStatus::parse, "account status")?,
            status_reason: r.status_reason,
            created_at: r.created_at,
        })
    }
}

pub(crate) fn account_from_row(row: &AnyRow) -> Result<Account> {
    AccountRow::from_row(row)?.try_into()
}

/// Decodes a row whose columns carry `prefix` (a joined read that aliases them).
pub(crate) fn account_from_prefixed(row: &AnyRow, prefix: &str) -> Result<Account> {
    AccountRow::prefixed(row, prefix)?.try_into()
}

impl Store {
    /// Stores a connected account, or refreshes the tokens of the same (platform, external id) in this workspace
    /// and marks it active again (reconnect).
    #[tracing::instrument(skip(self, new), fields(platform = %new.platform, external_id = %new.external_id))]
    pub async fn upsert_account(&self, tenant: TenantId, new: &NewAccount) -> Result<Account> {
        let now = now_ms();
        let access = self.secrets.encrypt(new.access_token.expose());
        let refresh = new.refresh_token.as_ref().map(|t| self.secrets.encrypt(t.expose()));
        let row = sqlx::query(&format!(
            "INSERT INTO social_accounts (id, tenant_id, platform, auth_kind, external_id, name, access_token_enc, \
             refresh_token_enc, scopes, token_expires_at, refresh_expires_at, token_issued_at, status, connected_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'active', $13, $12, $12) \
             ON CONFLICT (tenant_id, platform, external_id) DO UPDATE SET auth_kind = excluded.auth_kind, \
             name = excluded.name, access_token_enc = excluded.access_token_enc, \
             refresh_token_enc = excluded.refresh_token_enc, scopes = excluded.scopes, \
             token_expires_at = excluded.token_expires_at, refresh_expires_at = excluded.refresh_expires_at, \
             token_issued_at = excluded.token_issued_at, status = 'active', status_reason = NULL, \
             connected_by = excluded.connected_by, updated_at = excluded.updated_at RETURNING {COLUMNS}"
        ))
        .bind(AccountId::new().to_db())
        .bind(tenant.to_db())
        .bind(new.platform.as_str())
        .bind(new.auth_kind.as_str())
        .bind(&new.external_id)
        .bind(&new.name)
        .bind(access)
        .bind(refresh)
        .bind(new.scopes.join(","))
        .bind(new.token_expires_at)
        .bind(new.refresh_expires_at)
        .bind(now)
        .bind(new.connected_by.map(|u| u.to_db()))
        .fetch_one(&self.pool)
        .await?;
        account_from_row(&row)
    }

    pub async fn account(&self, tenant: TenantId, id: AccountId) -> Result<Account> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM social_accounts WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.to_db())
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("account"))?;
        account_from_row(&row)
    }

    /// The workspace's accounts that are not disconnected, by platform and name.
    pub async fn accounts(&self, tenant: TenantId) -> Result<Vec<Account>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM social_accounts WHERE tenant_id = $1 AND status <> 'disconnected' \
             ORDER BY platform, name, id"
        ))
        .bind(tenant.to_db())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(account_from_row).collect()
    }

    /// Finds the account a webhook is about, by platform and external id (a Page id or a TikTok open_id).
    /// Webhooks do not name a workspace, so this is the one account read that is not scoped by tenant.
    pub async fn accounts_by_external_id(&self, platform: Platform, external_id: &str) -> Result<Vec<Account>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM social_accounts WHERE platform = $1 AND external_id = $2 ORDER BY id"
        ))
        .bind(platform.as_str())
        .bind(external_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(account_from_row).collect()
    }

    /// Decrypts the tokens of an account, for the one call that needs them.
    pub async fn account_tokens(&self, tenant: TenantId, id: AccountId) -> Result<AccountTokens> {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT access_token_enc, refresh_token_enc FROM social_accounts WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .fetch_optional(&self.pool)
        .await?;
        let (access, refresh) = row.ok_or(StoreError::NotFound("account"))?;
        if access.is_empty() {
            // Disconnected: its tokens were deleted.
            return Err(StoreError::NotFound("account token"));
        }
        Ok(AccountTokens {
            access_token: self.secrets.decrypt(&access)?,
            refresh_token: refresh.map(|r| self.secrets.decrypt(&r)).transpose()?,
        })
    }

    /// Stores refreshed tokens. A rotating refresh token (TikTok) must be saved here before the new access token
    /// is used, since the old refresh token stops working once the new one is issued. An account disconnected
    /// meanwhile takes no tokens: `Ok` and nothing written, so a refresh that raced a disconnect cannot put tokens
    /// back on it.
    pub async fn update_account_tokens(
        &self,
        tenant: TenantId,
        id: AccountId,
        tokens: &AccountTokens,
        token_expires_at: Option<Millis>,
        refresh_expires_at: Option<Millis>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE social_accounts SET access_token_enc = $3, refresh_token_enc = COALESCE($4, refresh_token_enc), \
             token_expires_at = $5, refresh_expires_at = COALESCE($6, refresh_expires_at), token_issued_at = $7, \
             updated_at = $7 WHERE tenant_id = $1 AND id = $2 AND status <> 'disconnected'",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(self.secrets.encrypt(tokens.access_token.expose()))
        .bind(tokens.refresh_token.as_ref().map(|t| self.secrets.encrypt(t.expose())))
        .bind(token_expires_at)
        .bind(refresh_expires_at)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 && self.account(tenant, id).await?.status != AccountStatus::Disconnected {
            return Err(StoreError::NotFound("account"));
        }
        Ok(())
    }

    /// Records who granted an account's token at the provider (see `accounts/revocations.rs`); `None` keeps it unknown.
    pub async fn set_account_grantor(&self, tenant: TenantId, id: AccountId, grantor: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE social_accounts SET grantor_id = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(id.to_db())
            .bind(grantor)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_account_status(
        &self,
        tenant: TenantId,
        id: AccountId,
        status: AccountStatus,
        reason: Option<&str>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE social_accounts SET status = $3, status_reason = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(status.as_str())
        .bind(reason)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("account"));
        }
        Ok(())
    }
}

/// An account the sweep looks at, with the times that decide what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshCandidate {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub auth_kind: AuthKind,
    pub name: String,
    pub token_expires_at: Option<Millis>,
    pub token_issued_at: Millis,
}

impl Store {
    /// Active accounts of every workspace, for the refresh sweep. This is a system sweep over all workspaces,
    /// like the webhook lookup, so it is not scoped by tenant; every follow-up call is.
    pub async fn refresh_candidates(&self) -> Result<Vec<RefreshCandidate>> {
        let rows: Vec<(String, String, String, String, Option<i64>, i64)> = sqlx::query_as(
            "SELECT tenant_id, id, auth_kind, name, token_expires_at, token_issued_at FROM social_accounts \
             WHERE status = 'active' ORDER BY tenant_id, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (tenant, id, kind, name, token_expires_at, token_issued_at) in rows {
            let Some(auth_kind) = AuthKind::parse(&kind) else { continue };
            out.push(RefreshCandidate {
                tenant_id: TenantId::from_db(&tenant)?,
                account_id: AccountId::from_db(&id)?,
                auth_kind,
                name,
                token_expires_at,
                token_issued_at,
            });
        }
        Ok(out)
    }
}
