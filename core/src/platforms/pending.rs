//! Candidates parked while the bot asks which Page or account to connect (`pending_connections`).
//!
//! The candidates carry tokens, so the whole list is encrypted as one JSON text by the store's `SecretBox`. A
//! choice is single-use, expires with the sign-in link's lifetime, and only the person who signed in can make it.

use crate::clock::now_ms;
use crate::domain::{AuthKind, Platform};
use crate::ids::{TenantId, UserId};
use crate::store::{OAuthState, Store, StoreError};
use serde::{Deserialize, Serialize};

/// One account an OAuth exchange found.
#[derive(Clone, Serialize, Deserialize)]
pub struct Candidate {
    pub auth_kind: AuthKind,
    pub external_id: String,
    pub name: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scopes: Vec<String>,
    pub token_expires_at: Option<i64>,
    pub refresh_expires_at: Option<i64>,
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("auth_kind", &self.auth_kind)
            .field("external_id", &self.external_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PendingError {
    #[error("this choice is unknown, expired or already made")]
    Unknown,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PendingError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// Stores the candidates; returns the choice id.
pub async fn park(store: &Store, state: &OAuthState, candidates: &[Candidate]) -> Result<String, PendingError> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let json = serde_json::to_string(candidates).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let now = now_ms();
    sqlx::query(
        "INSERT INTO pending_connections (id, tenant_id, user_id, chat_id, platform, candidates_enc, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(state.tenant_id.to_db())
    .bind(state.user_id.to_db())
    .bind(state.chat_id)
    .bind(state.platform.as_str())
    .bind(store.secrets().encrypt(&json))
    .bind(now)
    .bind(now + super::oauth::STATE_TTL_MS)
    .execute(store.pool())
    .await?;
    Ok(id)
}

/// Spends a choice made by `user` in `tenant`: returns the bound state and the chosen candidate. The choice is
/// read and the index checked first, then spent with a compare-and-set, so a forged button with a bad index
/// does not use up the person's real choice, and two presses cannot both spend it.
pub async fn take(
    store: &Store,
    tenant: TenantId,
    user: UserId,
    id: &str,
    index: usize,
) -> Result<(OAuthState, Candidate), PendingError> {
    let now = now_ms();
    let row: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT chat_id, platform, candidates_enc FROM pending_connections WHERE id = $1 AND tenant_id = $2 \
         AND user_id = $3 AND used_at IS NULL AND expires_at > $4",
    )
    .bind(id)
    .bind(tenant.to_db())
    .bind(user.to_db())
    .bind(now)
    .fetch_optional(store.pool())
    .await?;
    let (chat_id, platform, enc) = row.ok_or(PendingError::Unknown)?;
    let json = store.secrets().decrypt(&enc).map_err(StoreError::from)?;
    let mut candidates: Vec<Candidate> =
        serde_json::from_str(json.expose()).map_err(|e| StoreError::Corrupt(format!("pending connection: {e}")))?;
    if index >= candidates.len() {
        return Err(PendingError::Unknown);
    }
    let chosen = candidates.swap_remove(index);
    let spent = sqlx::query(
        "UPDATE pending_connections SET used_at = $4 WHERE id = $1 AND tenant_id = $2 AND user_id = $3 \
         AND used_at IS NULL AND expires_at > $4",
    )
    .bind(id)
    .bind(tenant.to_db())
    .bind(user.to_db())
    .bind(now)
    .execute(store.pool())
    .await?;
    if spent.rows_affected() != 1 {
        return Err(PendingError::Unknown);
    }
    let state = OAuthState {
        tenant_id: tenant,
        user_id: user,
        chat_id,
        platform: Platform::parse(&platform).ok_or(PendingError::Unknown)?,
        auth_kind: chosen.auth_kind,
        pkce_verifier: None,
    };
    Ok((state, chosen))
}
