//! The OAuth connect flow: the authorize link the bot hands out, and the callback the web service completes.
//!
//! The link carries a random `state` (only its SHA-256 is stored) bound to the workspace, the Telegram user, the
//! chat and the platform, single-use and expiring after [`STATE_TTL_MS`]; TikTok also gets PKCE (S256). The
//! callback spends the state before anything else, so a replayed or forged link stores nothing. Token exchanges
//! use a client that follows no redirects.
//!
//! Nothing is connected by the callback itself: what the exchange found is parked (encrypted) in
//! `pending_connections` (see `pending.rs`) and the browser is asked to confirm which workspace, requested by
//! which Telegram admin, it goes to. Without that step a sign-in link forwarded to someone else would connect
//! their Pages into the sender's workspace. On [`confirm`] one account is stored at once; several wait for the
//! chat's choice ([`choose`]), and the tokens of the ones not chosen are deleted with it.

use super::http::no_redirect_client;
use super::pending::Candidate;
pub use super::sign_in_state::{random_token, state_hash, STATE_TTL_MS};
pub use crate::login::{pkce_challenge, redirect_uri, ConnectError, Provider};
use std::collections::HashMap;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{TenantId, UserId};
use tochen_domain::secret::SecretString;
use tochen_domain::AuthKind;
use tochen_store::{Account, NewAccount, NewOAuthState, OAuthState, Store};

/// What a successful callback produced: nothing stored yet, a confirmation to ask for.
#[derive(Debug)]
pub struct AwaitingConfirmation {
    pub state: OAuthState,
    /// The confirmation form's one-time token (only its hash is stored).
    pub confirm_token: String,
    /// The accounts the sign-in found, as the provider names them.
    pub names: Vec<String>,
}

/// What a confirmed sign-in produced.
#[derive(Debug)]
pub enum Connected {
    Accounts {
        state: OAuthState,
        accounts: Vec<Account>,
    },
    /// Several candidates: the bot asks which (`pending_id` + index).
    Choose {
        state: OAuthState,
        pending_id: String,
        names: Vec<String>,
    },
}

/// Creates a single-use state for (tenant, user, chat, kind) and returns the provider's authorize URL.
#[tracing::instrument(skip(store, config))]
pub async fn authorize_url(
    store: &Store,
    config: &Config,
    tenant: TenantId,
    user: UserId,
    chat_id: i64,
    kind: AuthKind,
) -> Result<String, ConnectError> {
    // A sandbox account has no sign-in (`sandbox::connect` connects it); asking for a link is a configuration
    // question like any other.
    let provider = crate::registry::owner(kind)
        .provider(kind)
        .ok_or(ConnectError::NotConfigured("a sign-in for sandbox accounts"))?;
    let state = random_token();
    let verifier = (provider == Provider::TikTok).then(random_token);
    let redirect = redirect_uri(config, provider);
    let url = match provider {
        Provider::Facebook => crate::facebook::oauth::authorize_url(config, kind, &redirect, &state)?,
        Provider::Instagram => crate::instagram::oauth::authorize_url(config, &redirect, &state)?,
        Provider::TikTok => {
            crate::tiktok::oauth::authorize_url(config, &redirect, &state, verifier.as_deref().unwrap_or_default())?
        }
    };
    store
        .create_oauth_state(&NewOAuthState {
            state_hash: state_hash(&state),
            tenant_id: tenant,
            user_id: user,
            chat_id,
            platform: platform_of(kind),
            auth_kind: kind,
            pkce_verifier: verifier.map(SecretString::new),
            expires_at: now_ms() + STATE_TTL_MS,
        })
        .await?;
    Ok(url)
}

pub use crate::registry::platform_of;

/// Completes a callback: spends the state, handles refusal, exchanges the code and parks what it found until the
/// browser confirms ([`confirm`]) or cancels ([`cancel`]).
#[tracing::instrument(skip_all, fields(provider = ?provider))]
pub async fn complete(
    store: &Store,
    config: &Config,
    provider: Provider,
    params: &HashMap<String, String>,
) -> Result<AwaitingConfirmation, ConnectError> {
    let raw_state = params.get("state").filter(|s| !s.is_empty()).ok_or(ConnectError::MissingState)?;
    let state = store.consume_oauth_state(&state_hash(raw_state)).await?;
    if crate::registry::owner(state.auth_kind).provider(state.auth_kind) != Some(provider) {
        return Err(ConnectError::WrongProvider(Box::new(state)));
    }
    if let Some(err) = params.get("error").filter(|e| !e.is_empty()) {
        let reason = params.get("error_description").cloned().unwrap_or_else(|| err.clone());
        return Err(ConnectError::Denied { state: Box::new(state), reason });
    }
    let Some(code) = params.get("code").filter(|c| !c.is_empty()) else {
        return Err(ConnectError::Denied { state: Box::new(state), reason: "no code".into() });
    };
    let code = code.trim_end_matches("#_").to_string();
    let http = no_redirect_client(Duration::from_secs(20));
    let exchanged = match provider {
        Provider::Facebook => crate::facebook::oauth::exchange(&http, config, &state, &code).await,
        Provider::Instagram => crate::instagram::oauth::exchange(&http, config, &code).await,
        Provider::TikTok => crate::tiktok::oauth::exchange(&http, config, &state, &code).await,
    };
    let candidates = match exchanged {
        Ok(c) => c,
        Err(message) => return Err(ConnectError::Exchange { state: Box::new(state), message }),
    };
    if candidates.is_empty() {
        return Err(ConnectError::NothingToConnect {
            state: Box::new(state),
            message: "the login returned no Page or account that can publish".into(),
        });
    }
    let names = candidates.iter().map(|c| c.name.clone()).collect();
    let (_, confirm_token) = super::pending::park(store, &state, &candidates).await?;
    Ok(AwaitingConfirmation { state, confirm_token, names })
}

/// The browser confirmed a sign-in: one account is stored now; several are offered in the chat (the row stays,
/// confirmed, until the choice or its expiry). An unknown, expired, cancelled or already confirmed token is
/// `Pending(Unknown)` and stores nothing.
#[tracing::instrument(skip_all)]
pub async fn confirm(store: &Store, config: &Config, confirm_token: &str) -> Result<Connected, ConnectError> {
    let parked = super::pending::confirm(store, confirm_token).await?;
    if let [only] = parked.candidates.as_slice() {
        let account = store_candidate(store, &parked.state, only).await?;
        super::pending::discard(store, parked.state.tenant_id, &parked.id).await?;
        if account.auth_kind == AuthKind::FacebookPage {
            subscribe_page(&no_redirect_client(Duration::from_secs(20)), config, only).await;
        }
        return Ok(Connected::Accounts { state: parked.state, accounts: vec![account] });
    }
    let names = parked.candidates.iter().map(|c| c.name.clone()).collect();
    Ok(Connected::Choose { state: parked.state, pending_id: parked.id, names })
}

/// The browser cancelled a sign-in: its parked tokens are deleted; returns who started it (to tell their chat).
pub async fn cancel(store: &Store, confirm_token: &str) -> Result<OAuthState, ConnectError> {
    Ok(super::pending::cancel(store, confirm_token).await?)
}

/// Stores one candidate as a connected account (tokens encrypted by the store).
pub async fn store_candidate(store: &Store, state: &OAuthState, c: &Candidate) -> Result<Account, ConnectError> {
    let new = NewAccount {
        platform: platform_of(c.auth_kind),
        auth_kind: c.auth_kind,
        external_id: c.external_id.clone(),
        name: c.name.clone(),
        access_token: SecretString::new(c.access_token.clone()),
        refresh_token: c.refresh_token.clone().map(SecretString::new),
        scopes: c.scopes.clone(),
        token_expires_at: c.token_expires_at,
        refresh_expires_at: c.refresh_expires_at,
        connected_by: Some(state.user_id),
    };
    let account = store.upsert_account(state.tenant_id, &new).await?;
    store.set_account_grantor(state.tenant_id, account.id, c.grantor_id.as_deref()).await?;
    tochen_store::events::account_connected(store, &account).await?;
    Ok(account)
}

/// Subscribes the app to a Page's `feed` webhooks, so comments and reactions arrive. Best effort: a failure is
/// logged and the account still works for publishing.
pub async fn subscribe_page(http: &reqwest::Client, config: &Config, page: &Candidate) {
    let g = super::graph::GraphHost::new(http.clone(), config.meta.graph_url.clone(), &config.meta.graph_version);
    let token = SecretString::new(page.access_token.clone());
    let path = format!("{}/subscribed_apps", page.external_id);
    if let Err(e) = g.post(&path, &token, &[("subscribed_fields", "feed".to_string())]).await {
        tracing::warn!(page = %page.external_id, error = %e, "could not subscribe the Page to webhooks");
    }
}

/// The bot's "connect this one" button: stores candidate `index` of a parked choice made by `user`.
pub async fn choose(
    store: &Store,
    config: &Config,
    tenant: TenantId,
    user: UserId,
    pending_id: &str,
    index: usize,
) -> Result<Account, ConnectError> {
    let (state, c) = super::pending::take(store, tenant, user, pending_id, index).await?;
    let account = store_candidate(store, &state, &c).await?;
    if c.auth_kind == AuthKind::FacebookPage {
        subscribe_page(&no_redirect_client(Duration::from_secs(20)), config, &c).await;
    }
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_the_rfc_7636_vector() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn states_are_random_and_stored_only_as_hashes() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(state_hash(&a).len(), 64);
        assert_ne!(state_hash(&a), a);
    }
}
