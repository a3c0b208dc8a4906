//! What a sign-in found, parked (`pending_connections`) until the person confirms it in the browser and, when
//! there were several Pages or accounts, picks one in the chat.
//!
//! The candidates carry tokens, so the whole list is encrypted as one JSON text by the store's `SecretBox`. A row
//! goes through two single-use steps, each a compare-and-set:
//! 1. confirmation: the callback page's form carries a random one-time token; only its SHA-256 (`confirm_hash`)
//!    is stored. Confirming clears the hash, cancelling deletes the row. Until then nothing is connected, so a
//!    forwarded sign-in link cannot attach a stranger's Pages without the stranger seeing where they would go.
//! 2. the choice (several candidates only): made in the chat by the person who started the sign-in, in their
//!    workspace. The row is deleted with it, so the tokens of the Pages not chosen are gone at once.
//!
//! Rows that expire before either step are deleted by the cleanup sweep ([`delete_expired`]). The lookups by
//! confirmation token are the one read here not scoped by tenant: the token is what finds the workspace, like an
//! OAuth state does.

use serde::{Deserialize, Serialize};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{TenantId, UserId};
use tochen_domain::{AuthKind, Platform};
use tochen_store::{NewPendingConnection, OAuthState, Store, StoreError};

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
    /// Who granted the token at the provider (the Facebook user, the TikTok open_id), when known.
    #[serde(default)]
    pub grantor_id: Option<String>,
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
    #[error("this sign-in is unknown, expired, or was already confirmed, cancelled or chosen from")]
    Unknown,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A confirmed row: who started the sign-in, and what it found.
#[derive(Debug)]
pub struct Confirmed {
    pub id: String,
    pub state: OAuthState,
    pub candidates: Vec<Candidate>,
}

fn confirm_hash(token: &str) -> String {
    super::sign_in_state::state_hash(token)
}

/// Parks the candidates of a spent `state` until the browser confirms; returns the row id and the confirmation
/// form's one-time token (only its hash is stored).
pub async fn park(
    store: &Store,
    state: &OAuthState,
    candidates: &[Candidate],
) -> Result<(String, String), PendingError> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let token = super::sign_in_state::random_token();
    let json = serde_json::to_string(candidates).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let now = now_ms();
    store
        .insert_pending_connection(&NewPendingConnection {
            id: &id,
            tenant_id: state.tenant_id,
            user_id: state.user_id,
            chat_id: state.chat_id,
            platform: state.platform,
            candidates_json: &json,
            created_at: now,
            expires_at: now + super::sign_in_state::STATE_TTL_MS,
            confirm_hash: &confirm_hash(&token),
        })
        .await?;
    Ok((id, token))
}

/// Spends the confirmation `token` of an unexpired row: clears its hash and restarts its lifetime for the chat's
/// choice. A second confirmation, a cancelled or an expired row is `Unknown`.
pub async fn confirm(store: &Store, token: &str) -> Result<Confirmed, PendingError> {
    let now = now_ms();
    let row = store
        .confirm_pending_connection(&confirm_hash(token), now, now + super::sign_in_state::STATE_TTL_MS)
        .await?
        .ok_or(PendingError::Unknown)?;
    let candidates = decrypt(store, &row.candidates_enc)?;
    let auth_kind = candidates.first().map(|c| c.auth_kind).ok_or(PendingError::Unknown)?;
    let state = OAuthState {
        tenant_id: row.tenant_id,
        user_id: row.user_id,
        chat_id: row.chat_id,
        platform: Platform::parse(&row.platform).ok_or(PendingError::Unknown)?,
        auth_kind,
        pkce_verifier: None,
    };
    Ok(Confirmed { id: row.id, state, candidates })
}

/// Cancels an unconfirmed row by its confirmation `token`, deleting its tokens; returns who started the sign-in.
pub async fn cancel(store: &Store, token: &str) -> Result<OAuthState, PendingError> {
    let row = store.cancel_pending_connection(&confirm_hash(token)).await?.ok_or(PendingError::Unknown)?;
    let auth_kind = decrypt(store, &row.candidates_enc).ok().and_then(|c| c.first().map(|c| c.auth_kind));
    let platform = Platform::parse(&row.platform).ok_or(PendingError::Unknown)?;
    Ok(OAuthState {
        tenant_id: row.tenant_id,
        user_id: row.user_id,
        chat_id: row.chat_id,
        platform,
        auth_kind: auth_kind.unwrap_or(match platform {
            Platform::Facebook => AuthKind::FacebookPage,
            Platform::Instagram => AuthKind::InstagramViaPage,
            Platform::TikTok => AuthKind::TikTok,
        }),
        pkce_verifier: None,
    })
}

fn decrypt(store: &Store, enc: &str) -> Result<Vec<Candidate>, PendingError> {
    let json = store.secrets().decrypt(enc).map_err(StoreError::from)?;
    Ok(serde_json::from_str(json.expose()).map_err(|e| StoreError::Corrupt(format!("pending connection: {e}")))?)
}

/// Spends a confirmed choice made by `user` in `tenant`: returns the bound state and the chosen candidate, and
/// deletes the row, so the tokens of every candidate not chosen go with it. The row is read and the index checked
/// first, then deleted with a compare-and-set, so a forged button with a bad index does not use up the person's
/// real choice, and two presses cannot both spend it.
pub async fn take(
    store: &Store,
    tenant: TenantId,
    user: UserId,
    id: &str,
    index: usize,
) -> Result<(OAuthState, Candidate), PendingError> {
    let now = now_ms();
    let row = store.confirmed_pending_connection(tenant, user, id, now).await?.ok_or(PendingError::Unknown)?;
    let mut candidates = decrypt(store, &row.candidates_enc)?;
    if index >= candidates.len() {
        return Err(PendingError::Unknown);
    }
    let chosen = candidates.swap_remove(index);
    if !store.spend_pending_connection(tenant, user, id, now).await? {
        return Err(PendingError::Unknown);
    }
    let state = OAuthState {
        tenant_id: tenant,
        user_id: user,
        chat_id: row.chat_id,
        platform: Platform::parse(&row.platform).ok_or(PendingError::Unknown)?,
        auth_kind: chosen.auth_kind,
        pkce_verifier: None,
    };
    Ok((state, chosen))
}

/// Deletes a confirmed row whose single candidate was stored as an account.
pub async fn discard(store: &Store, tenant: TenantId, id: &str) -> Result<(), PendingError> {
    store.delete_pending_connection(tenant, id).await?;
    Ok(())
}

/// Deletes every row (and so every parked token) that expired before `now`, confirmed or not; returns how many.
pub async fn delete_expired(store: &Store, now: Millis) -> Result<u64, PendingError> {
    Ok(store.delete_expired_pending_connections(now).await?)
}
