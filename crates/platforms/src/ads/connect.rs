//! Connecting ad accounts: the sign-in link the bot hands out, the callback the web service completes, the
//! browser's confirmation and the admin's choice in the chat.
//!
//! Meta: Facebook Login asking for `ads_read` only; the code becomes a long-lived user token, and the ad accounts
//! come from `/me/adaccounts`. TikTok: the TikTok for Business advertiser authorisation; the `auth_code` becomes the
//! advertiser token, and the advertisers come from `oauth2/advertiser/get/` and `advertiser/info/`.
//!
//! The same safeguards as for Pages (`oauth.rs`, `pending.rs`): the link's `state` is random, single-use and
//! expires after [`STATE_TTL_MS`] (only its hash is stored); the callback spends it before anything else, parks the
//! token and the accounts found (encrypted) and asks the browser to confirm which workspace, requested by which
//! admin, they would go to; only then does the chat offer the accounts to tick. Keeping stores only the ticked
//! accounts (each with the token, encrypted) and deletes the sign-in, so nothing of the others stays.

use super::meta::MetaAds;
use super::tiktok::TikTokAds;
use super::usage::{AccountGate, Backoff};
use super::{AdAccountInfo, AdPlatform, AdsError};
use crate::http::no_redirect_client;
use crate::login::{get_json, url_with};
use crate::sign_in_state::{random_token, state_hash, STATE_TTL_MS};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{TenantId, UserId};
use tochen_domain::secret::SecretString;
use tochen_store::{AdAccount, AdSignIn, NewAdAccount, NewAdSignIn, Store, StoreError};

/// The one permission asked of Facebook Login for ad reporting.
pub const META_ADS_SCOPE: &str = "ads_read";

/// At most this many ad accounts are offered after one sign-in (the pick is one message of buttons).
pub const MAX_OFFERED: usize = 40;

/// Why connecting ad accounts stopped. Every variant stores no ad account.
#[derive(Debug, thiserror::Error)]
pub enum AdConnectError {
    #[error("{0} is not configured on this server")]
    NotConfigured(&'static str),
    /// The state or confirmation is unknown, spent or expired.
    #[error("this sign-in is unknown, expired or was already used")]
    Unknown,
    #[error("consent was refused: {reason}")]
    Denied { sign_in: Box<AdSignIn>, reason: String },
    #[error("the sign-in failed: {message}")]
    Exchange { sign_in: Box<AdSignIn>, message: String },
    #[error("the sign-in found no ad account")]
    Nothing { sign_in: Box<AdSignIn> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AdConnectError {
    /// The spent sign-in, when the flow got that far (to tell the right chat).
    pub fn sign_in(&self) -> Option<&AdSignIn> {
        match self {
            Self::Denied { sign_in, .. } | Self::Exchange { sign_in, .. } | Self::Nothing { sign_in } => Some(sign_in),
            _ => None,
        }
    }
}

/// An ad account a sign-in found, as parked (encrypted) until the admin picks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdCandidate {
    pub account_ref: String,
    pub name: String,
    pub currency: String,
    pub zone: String,
    pub status: String,
    pub disable_reason: Option<i64>,
}

impl From<AdAccountInfo> for AdCandidate {
    fn from(a: AdAccountInfo) -> Self {
        Self {
            account_ref: a.account_ref,
            name: a.name,
            currency: a.currency,
            zone: a.zone,
            status: a.status,
            disable_reason: a.disable_reason,
        }
    }
}

/// A parked sign-in and what it found.
#[derive(Debug)]
pub struct Found {
    pub sign_in: AdSignIn,
    pub candidates: Vec<AdCandidate>,
}

/// What a callback produced: the confirmation to ask for.
#[derive(Debug)]
pub struct AwaitingAdConfirmation {
    pub sign_in: AdSignIn,
    pub confirm_token: String,
    pub names: Vec<String>,
}

/// The callback path segment of a platform (`/oauth/ads/{segment}/callback`).
pub fn segment(p: AdPlatform) -> &'static str {
    p.as_str()
}

/// `{public_url}/oauth/ads/{meta|tiktok}/callback`: registered with the Meta app and the TikTok for Business app.
pub fn redirect_uri(config: &Config, p: AdPlatform) -> String {
    format!("{}/oauth/ads/{}/callback", config.web.public_url.as_str().trim_end_matches('/'), segment(p))
}

/// Whether this server can connect ad accounts of `p` (the variable to set otherwise).
pub fn configured(config: &Config, p: AdPlatform) -> Result<(), &'static str> {
    match p {
        AdPlatform::Meta if config.meta.app_id.is_some() && config.meta.app_secret.is_some() => Ok(()),
        AdPlatform::Meta => Err("META_APP_ID"),
        AdPlatform::TikTok if config.ads.tiktok_app_id.is_some() => Ok(()),
        AdPlatform::TikTok => Err("TIKTOK_ADS_APP_ID"),
    }
}

fn http() -> reqwest::Client {
    no_redirect_client(Duration::from_secs(30))
}

/// Creates a single-use sign-in for (tenant, user, chat, platform) and returns the platform's authorisation URL.
pub async fn authorize_url(
    store: &Store,
    config: &Config,
    tenant: TenantId,
    user: UserId,
    chat_id: i64,
    p: AdPlatform,
) -> Result<String, AdConnectError> {
    configured(config, p).map_err(AdConnectError::NotConfigured)?;
    let state = random_token();
    let redirect = redirect_uri(config, p);
    let url = match p {
        AdPlatform::Meta => {
            let id = config.meta.app_id.as_deref().ok_or(AdConnectError::NotConfigured("META_APP_ID"))?;
            url_with(
                config.meta.dialog_url.as_str(),
                &format!("/{}/dialog/oauth", config.meta.graph_version),
                &[
                    ("client_id", id),
                    ("redirect_uri", &redirect),
                    ("state", &state),
                    ("scope", META_ADS_SCOPE),
                    ("response_type", "code"),
                ],
            )
        }
        AdPlatform::TikTok => TikTokAds::from_config(config, http())
            .ok_or(AdConnectError::NotConfigured("TIKTOK_ADS_APP_ID"))?
            .authorize_url(&state, &redirect),
    };
    let now = now_ms();
    store
        .insert_ad_sign_in(&NewAdSignIn {
            id: &uuid::Uuid::now_v7().simple().to_string(),
            tenant_id: tenant,
            user_id: user,
            chat_id,
            platform: p,
            state_hash: &state_hash(&state),
            created_at: now,
            expires_at: now + STATE_TTL_MS,
        })
        .await?;
    Ok(url)
}

/// Completes a callback: spends the state, handles refusal, exchanges the code, lists the ad accounts and parks
/// them until the browser confirms. A failure deletes the sign-in.
pub async fn complete(
    store: &Store,
    config: &Config,
    p: AdPlatform,
    params: &HashMap<String, String>,
) -> Result<AwaitingAdConfirmation, AdConnectError> {
    let raw = params.get("state").filter(|s| !s.is_empty()).ok_or(AdConnectError::Unknown)?;
    let sign_in = store.spend_ad_sign_in_state(p, &state_hash(raw), now_ms()).await?.ok_or(AdConnectError::Unknown)?;
    let fail = |e: AdConnectError| async {
        let _ = store.delete_ad_sign_in(&sign_in.id).await;
        e
    };
    if let Some(err) = params.get("error").filter(|e| !e.is_empty()) {
        let reason = params.get("error_description").cloned().unwrap_or_else(|| err.clone());
        return Err(fail(AdConnectError::Denied { sign_in: Box::new(sign_in.clone()), reason }).await);
    }
    // TikTok sends the code as `auth_code` and `code`; Meta as `code`.
    let code = params.get("auth_code").or_else(|| params.get("code")).filter(|c| !c.is_empty());
    let Some(code) = code.map(|c| c.trim_end_matches("#_").to_string()) else {
        let e = AdConnectError::Denied { sign_in: Box::new(sign_in.clone()), reason: "no code".into() };
        return Err(fail(e).await);
    };
    let exchanged = match p {
        AdPlatform::Meta => meta_exchange(config, &code).await,
        AdPlatform::TikTok => tiktok_exchange(config, &code).await,
    };
    let (token, found) = match exchanged {
        Ok(x) => x,
        Err(message) => {
            return Err(fail(AdConnectError::Exchange { sign_in: Box::new(sign_in.clone()), message }).await);
        }
    };
    if found.is_empty() {
        return Err(fail(AdConnectError::Nothing { sign_in: Box::new(sign_in.clone()) }).await);
    }
    let candidates: Vec<AdCandidate> = found.into_iter().take(MAX_OFFERED).map(AdCandidate::from).collect();
    let json = serde_json::to_string(&candidates).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let confirm_token = random_token();
    store.park_ad_sign_in(&sign_in.id, &token, &json, &state_hash(&confirm_token), now_ms() + STATE_TTL_MS).await?;
    let names = candidates.iter().map(label).collect();
    Ok(AwaitingAdConfirmation { sign_in, confirm_token, names })
}

/// "Shop EU (EUR, Europe/Berlin)": how a candidate is named on the confirmation page and in the chat.
pub fn label(c: &AdCandidate) -> String {
    format!("{} ({}, {})", c.name, c.currency, c.zone)
}

/// Code -> short-lived -> long-lived user token (meta.md), then `/me/adaccounts`.
async fn meta_exchange(config: &Config, code: &str) -> Result<(SecretString, Vec<AdAccountInfo>), String> {
    let m = &config.meta;
    let (Some(id), Some(secret)) = (&m.app_id, &m.app_secret) else {
        return Err("Facebook is not configured".into());
    };
    let http = http();
    let base = format!("{}/{}", m.graph_url.as_str().trim_end_matches('/'), m.graph_version);
    let redirect = redirect_uri(config, AdPlatform::Meta);
    let short = get_json(
        &http,
        format!("{base}/oauth/access_token"),
        &[("client_id", id), ("redirect_uri", &redirect), ("client_secret", secret.expose()), ("code", code)],
    )
    .await?;
    let short = short["access_token"].as_str().ok_or("no access_token in the code exchange")?.to_string();
    let long = get_json(
        &http,
        format!("{base}/oauth/access_token"),
        &[
            ("grant_type", "fb_exchange_token"),
            ("client_id", id),
            ("client_secret", secret.expose()),
            ("fb_exchange_token", &short),
        ],
    )
    .await?;
    let token = SecretString::new(long["access_token"].as_str().ok_or("no long-lived access_token")?.to_string());
    let mut gate = AccountGate::new(Backoff::META, None);
    let accounts = MetaAds::from_config(config, http).ad_accounts(&mut gate, &token).await.map_err(message)?;
    Ok((token, accounts))
}

/// `auth_code` -> advertiser token, then the advertisers with their details.
async fn tiktok_exchange(config: &Config, code: &str) -> Result<(SecretString, Vec<AdAccountInfo>), String> {
    let tt = TikTokAds::from_config(config, http()).ok_or("TikTok for Business is not configured")?;
    let grant = tt.exchange(code).await.map_err(message)?;
    let mut gate = AccountGate::new(Backoff::TIKTOK, None);
    let accounts = tt.advertisers(&mut gate, &grant.access_token).await.map_err(message)?;
    Ok((grant.access_token, accounts))
}

fn message(e: AdsError) -> String {
    e.to_string()
}

fn decode(s: &AdSignIn) -> Result<Vec<AdCandidate>, AdConnectError> {
    let json = s.candidates_json.as_ref().ok_or(AdConnectError::Unknown)?;
    Ok(serde_json::from_str(json.expose()).map_err(|e| StoreError::Corrupt(format!("ad sign-in: {e}")))?)
}

/// The browser confirmed: the sign-in now waits for the chat's choice.
pub async fn confirm(store: &Store, confirm_token: &str) -> Result<Found, AdConnectError> {
    let now = now_ms();
    let sign_in = store
        .confirm_ad_sign_in(&state_hash(confirm_token), now, now + STATE_TTL_MS)
        .await?
        .ok_or(AdConnectError::Unknown)?;
    let candidates = decode(&sign_in)?;
    Ok(Found { sign_in, candidates })
}

/// The browser cancelled: the parked token goes; returns the sign-in (to tell its chat).
pub async fn cancel(store: &Store, confirm_token: &str) -> Result<AdSignIn, AdConnectError> {
    store.cancel_ad_sign_in(&state_hash(confirm_token)).await?.ok_or(AdConnectError::Unknown)
}

/// The confirmed sign-in `id` of `user` with what it found.
pub async fn found(store: &Store, tenant: TenantId, user: UserId, id: &str) -> Result<Found, AdConnectError> {
    let sign_in = store.confirmed_ad_sign_in(tenant, user, id, now_ms()).await?.ok_or(AdConnectError::Unknown)?;
    let candidates = decode(&sign_in)?;
    Ok(Found { sign_in, candidates })
}

/// Ticks or unticks candidate `index`; returns the sign-in as it is now.
pub async fn toggle(
    store: &Store,
    tenant: TenantId,
    user: UserId,
    id: &str,
    index: usize,
) -> Result<Found, AdConnectError> {
    let mut f = found(store, tenant, user, id).await?;
    if index >= f.candidates.len() {
        return Err(AdConnectError::Unknown);
    }
    let picked = &mut f.sign_in.picked;
    match picked.iter().position(|i| *i == index) {
        Some(at) => {
            picked.remove(at);
        }
        None => picked.push(index),
    }
    picked.sort_unstable();
    if !store.set_ad_sign_in_picked(tenant, user, id, picked, now_ms()).await? {
        return Err(AdConnectError::Unknown);
    }
    Ok(f)
}

/// Keeps the ticked ad accounts (each with the token, encrypted) and deletes the sign-in with everything else it
/// found. Returns the stored ad accounts (none when nothing was ticked: the sign-in is dropped all the same).
pub async fn keep(store: &Store, tenant: TenantId, user: UserId, id: &str) -> Result<Vec<AdAccount>, AdConnectError> {
    let sign_in = store.take_ad_sign_in(tenant, user, id, now_ms()).await?.ok_or(AdConnectError::Unknown)?;
    let candidates = decode(&sign_in)?;
    let token = sign_in.token.clone().ok_or(AdConnectError::Unknown)?;
    let mut kept = Vec::new();
    for i in &sign_in.picked {
        let Some(c) = candidates.get(*i) else { continue };
        let new = NewAdAccount {
            platform: sign_in.platform,
            account_ref: c.account_ref.clone(),
            name: c.name.clone(),
            currency: c.currency.clone(),
            zone: c.zone.clone(),
            status: c.status.clone(),
            disable_reason: c.disable_reason,
            token: token.clone(),
            connected_by: Some(user),
        };
        kept.push(store.upsert_ad_account(tenant, &new).await?);
    }
    Ok(kept)
}

/// The callback URL's platform segment.
pub fn parse_segment(s: &str) -> Option<AdPlatform> {
    AdPlatform::ALL.into_iter().find(|p| segment(*p) == s)
}
