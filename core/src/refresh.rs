//! The seam between the scheduler's token-refresh sweep and the platform clients.
//!
//! The sweep decides *when* an account's token needs attention (TikTok access tokens before they expire,
//! Instagram-login tokens once they are a day old, Facebook long-lived tokens that cannot be refreshed and need a
//! warning); a [`TokenRefresher`] only makes the HTTP call. The platform clients implement it in
//! `crate::platforms`; tests use a fake.
//!
//! TikTok rotates refresh tokens: once a refresh succeeds, the old refresh token is dead. The sweep therefore
//! stores the whole answer (new refresh token included) in one write before anything uses the new access token.

use crate::clock::Millis;
use crate::domain::AuthKind;
use crate::ids::{AccountId, TenantId};
use crate::secret::SecretString;
use crate::store::{AccountTokens, Result as StoreResult, Store};

/// What a successful refresh yields.
#[derive(Debug, Clone)]
pub struct RefreshedTokens {
    pub access_token: SecretString,
    pub token_expires_at: Option<Millis>,
    /// A new refresh token when the platform rotates them (TikTok); `None` keeps the stored one.
    pub refresh_token: Option<SecretString>,
    pub refresh_expires_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// The grant is invalid or revoked: the account must be reconnected by a person.
    #[error("the platform refused the refresh: {0}")]
    Invalid(String),
    /// A timeout or 5xx: try again at the next sweep.
    #[error("the refresh failed for now: {0}")]
    Temporary(String),
    /// This kind of account cannot be refreshed (Facebook long-lived tokens).
    #[error("accounts of kind {0} cannot be refreshed")]
    Unsupported(AuthKind),
}

/// What the refresh call needs to know about the account.
#[derive(Debug, Clone)]
pub struct RefreshRequest {
    pub tenant_id: TenantId,
    pub account_id: AccountId,
    pub auth_kind: AuthKind,
    pub external_id: String,
    pub tokens: AccountTokens,
}

/// Exchanges a refresh token (TikTok `grant_type=refresh_token`) or a long-lived token (Instagram
/// `grant_type=ig_refresh_token`) for a fresh access token.
#[async_trait::async_trait]
pub trait TokenRefresher: Send + Sync {
    async fn refresh(&self, req: &RefreshRequest) -> Result<RefreshedTokens, RefreshError>;
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
    pub async fn refresh_candidates(&self) -> StoreResult<Vec<RefreshCandidate>> {
        let rows: Vec<(String, String, String, String, Option<i64>, i64)> = sqlx::query_as(
            "SELECT tenant_id, id, auth_kind, name, token_expires_at, token_issued_at FROM social_accounts \
             WHERE status = 'active' ORDER BY tenant_id, id",
        )
        .fetch_all(self.pool())
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

/// A refresher for deployments without platform clients: every refresh is a temporary failure, so nothing is
/// marked for reconnection by mistake.
pub struct NoRefresher;

#[async_trait::async_trait]
impl TokenRefresher for NoRefresher {
    async fn refresh(&self, req: &RefreshRequest) -> Result<RefreshedTokens, RefreshError> {
        Err(RefreshError::Temporary(format!("no token refresher is configured for {}", req.auth_kind)))
    }
}
