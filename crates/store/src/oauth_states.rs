//! OAuth `state` values: random, single-use, short-lived, bound to the workspace, the Telegram user and the
//! platform. Only a SHA-256 hash of the state is stored; the PKCE verifier is encrypted.

use crate::{Result, Store, StoreError};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{TenantId, UserId};
use tochen_domain::secret::SecretString;
use tochen_domain::{AuthKind, Platform};

#[derive(Debug, Clone)]
pub struct NewOAuthState {
    pub state_hash: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub chat_id: i64,
    pub platform: Platform,
    pub auth_kind: AuthKind,
    pub pkce_verifier: Option<SecretString>,
    pub expires_at: Millis,
}

#[derive(Debug, Clone)]
pub struct OAuthState {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub chat_id: i64,
    pub platform: Platform,
    pub auth_kind: AuthKind,
    pub pkce_verifier: Option<SecretString>,
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthStateError {
    #[error("unknown sign-in state")]
    Unknown,
    #[error("the sign-in link has expired")]
    Expired,
    #[error("the sign-in link was already used")]
    Replayed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for OAuthStateError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// A spent state as stored (the PKCE verifier encrypted; it is decrypted with the store's secret box).
#[derive(sqlx::FromRow)]
struct OAuthStateRow {
    tenant_id: String,
    user_id: String,
    chat_id: i64,
    platform: String,
    auth_kind: String,
    pkce_verifier_enc: Option<String>,
}

impl Store {
    pub async fn create_oauth_state(&self, s: &NewOAuthState) -> Result<()> {
        sqlx::query(
            "INSERT INTO oauth_states (state_hash, tenant_id, user_id, chat_id, platform, auth_kind, pkce_verifier_enc, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&s.state_hash)
        .bind(s.tenant_id.to_db())
        .bind(s.user_id.to_db())
        .bind(s.chat_id)
        .bind(s.platform.as_str())
        .bind(s.auth_kind.as_str())
        .bind(s.pkce_verifier.as_ref().map(|v| self.secrets.encrypt(v.expose())))
        .bind(now_ms())
        .bind(s.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Spends a state: succeeds once, for an unexpired state; a second use is `Replayed`.
    pub async fn consume_oauth_state(&self, state_hash: &str) -> Result<OAuthState, OAuthStateError> {
        let now = now_ms();
        let row: Option<OAuthStateRow> = sqlx::query_as(
            "UPDATE oauth_states SET used_at = $2 WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING tenant_id, user_id, chat_id, platform, auth_kind, pkce_verifier_enc",
        )
        .bind(state_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            let seen: Option<(Option<i64>,)> = sqlx::query_as("SELECT used_at FROM oauth_states WHERE state_hash = $1")
                .bind(state_hash)
                .fetch_optional(&self.pool)
                .await?;
            return Err(match seen {
                None => OAuthStateError::Unknown,
                Some((Some(_),)) => OAuthStateError::Replayed,
                Some((None,)) => OAuthStateError::Expired,
            });
        };
        Ok(OAuthState {
            tenant_id: TenantId::from_db(&row.tenant_id).map_err(StoreError::from)?,
            user_id: UserId::from_db(&row.user_id).map_err(StoreError::from)?,
            chat_id: row.chat_id,
            platform: crate::parse_enum(&row.platform, Platform::parse, "platform")?,
            auth_kind: crate::parse_enum(&row.auth_kind, AuthKind::parse, "auth kind")?,
            pkce_verifier: row
                .pkce_verifier_enc
                .map(|v| self.secrets.decrypt(&v))
                .transpose()
                .map_err(StoreError::from)?,
        })
    }

    /// Deletes states that expired before `cutoff`; returns how many.
    pub async fn delete_expired_oauth_states(&self, cutoff: Millis) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1").bind(cutoff).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
