//! What every platform's login shares: the callback route of each login provider, the redirect URI, the error
//! that stops a connect flow, PKCE, and the helpers of the token exchanges. The providers' own authorize links and
//! code exchanges are in each platform's `oauth.rs`; `oauth.rs` runs the flow. Errors of the exchanges are plain
//! messages for the user; they never hold a token.

use crate::http::{send, Effect};
use crate::pending::PendingError;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tochen_config::Config;
use tochen_domain::clock::now_ms;
use tochen_store::{OAuthState, OAuthStateError};

/// Which redirect URI (one per provider) a callback came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Facebook,
    Instagram,
    TikTok,
}

impl Provider {
    pub fn path(self) -> &'static str {
        match self {
            Provider::Facebook => "facebook",
            Provider::Instagram => "instagram",
            Provider::TikTok => "tiktok",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Provider::Facebook, Provider::Instagram, Provider::TikTok].into_iter().find(|p| p.path() == s)
    }
}

/// `{public_url}/oauth/{provider}/callback`: registered with the provider and compared exactly.
pub fn redirect_uri(config: &Config, p: Provider) -> String {
    format!("{}/oauth/{}/callback", config.web.public_url.as_str().trim_end_matches('/'), p.path())
}

/// Why the connect flow stopped. Every variant stores nothing.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0} is not configured on this server")]
    NotConfigured(&'static str),
    #[error("the callback has no state")]
    MissingState,
    #[error(transparent)]
    State(#[from] OAuthStateError),
    #[error("the state belongs to another provider")]
    WrongProvider(Box<OAuthState>),
    #[error("consent was refused: {reason}")]
    Denied { state: Box<OAuthState>, reason: String },
    #[error("the token exchange failed: {message}")]
    Exchange { state: Box<OAuthState>, message: String },
    #[error("no account to connect: {message}")]
    NothingToConnect { state: Box<OAuthState>, message: String },
    #[error(transparent)]
    Store(#[from] tochen_store::StoreError),
    #[error(transparent)]
    Pending(#[from] PendingError),
}

impl ConnectError {
    /// The spent state, when the flow got that far (to tell the right chat).
    pub fn state(&self) -> Option<&OAuthState> {
        match self {
            ConnectError::Denied { state, .. }
            | ConnectError::Exchange { state, .. }
            | ConnectError::NothingToConnect { state, .. }
            | ConnectError::WrongProvider(state) => Some(state),
            _ => None,
        }
    }
}

/// PKCE S256 challenge of a verifier (RFC 7636).
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub(crate) fn url_with(base: &str, path: &str, q: &[(&str, &str)]) -> String {
    let mut u = format!("{}{}", base.trim_end_matches('/'), path);
    u.push('?');
    u.push_str(&url::form_urlencoded::Serializer::new(String::new()).extend_pairs(q).finish());
    u
}

pub(crate) fn expiry(v: &Value, field: &str) -> Option<i64> {
    v[field].as_i64().filter(|s| *s > 0).map(|s| now_ms() + s * 1000)
}

pub(crate) async fn get_json(http: &reqwest::Client, url: String, q: &[(&str, &str)]) -> Result<Value, String> {
    let a = send(http.get(url).query(q), Effect::Read).await.map_err(|e| e.message)?;
    check(a)
}

pub(crate) fn check(a: crate::http::Answer) -> Result<Value, String> {
    if let Some(e) = crate::errors::graph_error(&a) {
        return Err(e.message);
    }
    Ok(a.json())
}
