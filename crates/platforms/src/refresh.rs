//! The seam between the scheduler's token-refresh sweep and the platform clients.
//!
//! The sweep decides *when* an account's token needs attention (TikTok access tokens before they expire,
//! Instagram-login tokens once they are a day old, Facebook long-lived tokens that cannot be refreshed and need a
//! warning); a [`TokenRefresher`] only makes the HTTP call. The platform clients implement it in
//! `crate`; tests use a fake.
//!
//! TikTok rotates refresh tokens: once a refresh succeeds, the old refresh token is dead. The sweep therefore
//! stores the whole answer (new refresh token included) in one write before anything uses the new access token.

use tochen_domain::clock::Millis;
use tochen_domain::ids::{AccountId, TenantId};
use tochen_domain::secret::SecretString;
use tochen_domain::AuthKind;
use tochen_store::AccountTokens;

/// How an account's token is kept usable: each connector says it for its kinds (`Connector::refresh_rule`), and the
/// sweep applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRule {
    /// Exchanged for a new one once less than this is left (TikTok's 24-hour tokens: 6 hours).
    BeforeExpiry(Millis),
    /// Exchanged once it is older than this (Instagram Login's long-lived tokens: a day).
    OlderThan(Millis),
    /// Cannot be refreshed (Facebook's long-lived tokens): the admins are warned 7 days and 1 day before it expires.
    WarnBeforeExpiry,
    /// Nothing to do: the token does not expire (sandbox accounts).
    Never,
}

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

/// A refresher for deployments without platform clients: every refresh is a temporary failure, so nothing is
/// marked for reconnection by mistake.
pub struct NoRefresher;

#[async_trait::async_trait]
impl TokenRefresher for NoRefresher {
    async fn refresh(&self, req: &RefreshRequest) -> Result<RefreshedTokens, RefreshError> {
        Err(RefreshError::Temporary(format!("no token refresher is configured for {}", req.auth_kind)))
    }
}
