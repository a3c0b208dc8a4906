//! Revoking a disconnected account's grant at the provider: the body of the `account.revoke` job.
//!
//! Disconnecting (`Store::disconnect_account`) already removed every token from the account and parked the one
//! needed here in `token_revocations`. This asks the provider to revoke it, where the provider offers an endpoint
//! (Facebook `DELETE /{user-id}/permissions`, TikTok `POST /v2/oauth/revoke/`; Instagram Login has none), then
//! deletes the row, so the token is gone from the database once the provider answered.
//!
//! A Facebook revocation removes the user's whole grant to the app: every Page token derived from it dies, in
//! every workspace. So it is skipped (the token is still deleted here) while any other account still relies on the
//! same grant, or might (an account whose grantor was not recorded). TikTok's grant is per open_id, checked the
//! same way. Sending a revocation twice is harmless, so a lost answer is simply retried.

pub use crate::module::RevokeOutcome;
use crate::tokens::RevokeError;
use tochen_config::Config;
use tochen_domain::ids::TenantId;
use tochen_store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RevokeJobError {
    /// Try again later; the token stays parked until then.
    #[error(transparent)]
    Temporary(RevokeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Revokes the parked token `revocation_id` of `tenant`, then deletes it. On a temporary failure the row stays for
/// the next attempt; [`give_up`] deletes it when there will be none.
#[tracing::instrument(skip(store, config, http))]
pub async fn revoke(
    store: &Store,
    config: &Config,
    http: &reqwest::Client,
    tenant: TenantId,
    revocation_id: &str,
) -> Result<RevokeOutcome, RevokeJobError> {
    let Some(r) = store.token_revocation(tenant, revocation_id).await? else { return Ok(RevokeOutcome::AlreadyDone) };
    let outcome = match call(store, config, http, &r).await {
        Ok(outcome) => outcome,
        Err(RevokeError::Refused(why)) => RevokeOutcome::Refused(why),
        Err(e @ RevokeError::Temporary(_)) => return Err(RevokeJobError::Temporary(e)),
    };
    store.delete_token_revocation(tenant, &r.id).await?;
    tracing::info!(account = %r.account_id, kind = %r.auth_kind, ?outcome, "disconnected account's token handled");
    Ok(outcome)
}

async fn call(
    store: &Store,
    config: &Config,
    http: &reqwest::Client,
    r: &tochen_store::TokenRevocation,
) -> Result<RevokeOutcome, RevokeError> {
    crate::registry::owner(r.auth_kind).revoke(store, config, http, r).await
}

/// The last attempt failed: the token is deleted anyway (it must not outlive the account's disconnect), and the
/// grant stays valid at the provider until it expires or the person removes the app there.
pub async fn give_up(store: &Store, tenant: TenantId, revocation_id: &str) -> Result<(), StoreError> {
    tracing::warn!(revocation = revocation_id, "revoking a disconnected account's token gave up; token deleted");
    store.delete_token_revocation(tenant, revocation_id).await
}
