//! Token refresh calls for the scheduler's refresh sweep: TikTok's rotating `refresh_token` grant, Instagram
//! Login's `ig_refresh_token`, and Facebook's `debug_token` to learn when a long-lived token expires (Facebook
//! has no refresh: the user logs in again).
//!
//! Every call uses a client that follows no redirects, and errors never carry a token.

use super::errors::tiktok_class;
use super::http::{send, Effect};
use crate::publish::ErrorClass;
use crate::refresh::{RefreshError, RefreshRequest, RefreshedTokens, TokenRefresher};
use serde_json::Value;
use tochen_config::Config;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::secret::SecretString;
use tochen_domain::AuthKind;

/// Refreshes tokens against the configured platforms.
#[derive(Debug, Clone)]
pub struct PlatformRefresher {
    http: reqwest::Client,
    config: Config,
}

impl PlatformRefresher {
    pub fn new(config: &Config, http: reqwest::Client) -> Self {
        Self { http, config: config.clone() }
    }
}

fn expires(v: &Value, field: &str) -> Option<Millis> {
    v[field].as_i64().filter(|s| *s > 0).map(|s| now_ms() + s * 1000)
}

fn temp(e: crate::publish::PublishError) -> RefreshError {
    RefreshError::Temporary(e.message)
}

/// TikTok `grant_type=refresh_token`. The answer carries a NEW refresh token: the old one is dead from now on,
/// so the caller must store the result before anything else.
pub async fn refresh_tiktok(
    http: &reqwest::Client,
    config: &Config,
    refresh_token: &SecretString,
) -> Result<RefreshedTokens, RefreshError> {
    let (Some(key), Some(secret)) = (&config.tiktok.client_key, &config.tiktok.client_secret) else {
        return Err(RefreshError::Unsupported(AuthKind::TikTok));
    };
    let url = format!("{}/v2/oauth/token/", config.tiktok.api_url.as_str().trim_end_matches('/'));
    let form = [
        ("client_key", key.as_str()),
        ("client_secret", secret.expose()),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
    ];
    let a = send(http.post(url).form(&form), Effect::Read).await.map_err(temp)?;
    let v = a.json();
    if let Some(err) = v["error"].as_str().filter(|e| !e.is_empty() && *e != "ok") {
        let msg = format!("{err}: {}", v["error_description"].as_str().unwrap_or(""));
        return Err(match tiktok_class(a.status.as_u16(), err) {
            ErrorClass::Retryable { .. } => RefreshError::Temporary(msg),
            _ => RefreshError::Invalid(msg),
        });
    }
    if !a.status.is_success() {
        return Err(RefreshError::Temporary(format!("TikTok answered {}", a.status)));
    }
    let access = v["access_token"].as_str().ok_or_else(|| RefreshError::Temporary("no access_token".into()))?;
    Ok(RefreshedTokens {
        access_token: SecretString::new(access),
        token_expires_at: expires(&v, "expires_in"),
        refresh_token: v["refresh_token"].as_str().map(SecretString::new),
        refresh_expires_at: expires(&v, "refresh_expires_in"),
    })
}

/// Instagram Login `grant_type=ig_refresh_token` (token at least 24 hours old and not expired).
pub async fn refresh_instagram(
    http: &reqwest::Client,
    config: &Config,
    access_token: &SecretString,
) -> Result<RefreshedTokens, RefreshError> {
    let url = format!("{}/refresh_access_token", config.meta.instagram_graph_url.as_str().trim_end_matches('/'));
    let q = [("grant_type", "ig_refresh_token"), ("access_token", access_token.expose())];
    let a = send(http.get(url).query(&q), Effect::Read).await.map_err(temp)?;
    if let Some(e) = super::errors::graph_error(&a) {
        return Err(match e.class {
            ErrorClass::Retryable { .. } => RefreshError::Temporary(e.message),
            _ => RefreshError::Invalid(e.message),
        });
    }
    let v = a.json();
    let access = v["access_token"].as_str().ok_or_else(|| RefreshError::Temporary("no access_token".into()))?;
    Ok(RefreshedTokens {
        access_token: SecretString::new(access),
        token_expires_at: expires(&v, "expires_in"),
        refresh_token: None,
        refresh_expires_at: None,
    })
}

/// What `debug_token` says about a Facebook token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub is_valid: bool,
    /// `None` for tokens that do not expire (Page tokens from a long-lived user token).
    pub expires_at: Option<Millis>,
    pub scopes: Vec<String>,
}

/// Facebook `debug_token` with the app token `{app-id}|{app-secret}`.
pub async fn facebook_token_info(
    http: &reqwest::Client,
    config: &Config,
    token: &SecretString,
) -> Result<TokenInfo, RefreshError> {
    let (Some(id), Some(secret)) = (&config.meta.app_id, &config.meta.app_secret) else {
        return Err(RefreshError::Unsupported(AuthKind::FacebookPage));
    };
    let app_token = SecretString::new(format!("{id}|{}", secret.expose()));
    let g = super::graph::GraphHost::new(http.clone(), config.meta.graph_url.clone(), &config.meta.graph_version);
    let v = g.get("debug_token", &app_token, &[("input_token", token.expose())]).await.map_err(temp)?;
    let d = &v["data"];
    Ok(TokenInfo {
        is_valid: d["is_valid"].as_bool().unwrap_or(false),
        expires_at: d["expires_at"].as_i64().filter(|s| *s > 0).map(|s| s * 1000),
        scopes: d["scopes"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
    })
}

#[async_trait::async_trait]
impl TokenRefresher for PlatformRefresher {
    async fn refresh(&self, req: &RefreshRequest) -> Result<RefreshedTokens, RefreshError> {
        match req.auth_kind {
            AuthKind::TikTok => {
                let rt = req
                    .tokens
                    .refresh_token
                    .as_ref()
                    .ok_or_else(|| RefreshError::Invalid("no refresh token stored".into()))?;
                refresh_tiktok(&self.http, &self.config, rt).await
            }
            AuthKind::InstagramLogin => refresh_instagram(&self.http, &self.config, &req.tokens.access_token).await,
            other => Err(RefreshError::Unsupported(other)),
        }
    }
}

/// Why a revocation at the provider did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevokeError {
    /// Worth another try later: the network, a 5xx, a rate limit.
    #[error("revoking failed for now: {0}")]
    Temporary(String),
    /// The provider refused for good (the token is already invalid, the app is not configured): retrying cannot
    /// help, and there is nothing left to revoke with this token.
    #[error("the provider refused the revocation: {0}")]
    Refused(String),
}

fn revoke_error(class: &ErrorClass, message: String) -> RevokeError {
    match class {
        ErrorClass::Retryable { .. } | ErrorClass::OutcomeUnknown => RevokeError::Temporary(message),
        _ => RevokeError::Refused(message),
    }
}

/// TikTok `POST /v2/oauth/revoke/` (client_key, client_secret, token): ends the app's authorization by the user.
pub async fn revoke_tiktok(
    http: &reqwest::Client,
    config: &Config,
    access_token: &SecretString,
) -> Result<(), RevokeError> {
    let (Some(key), Some(secret)) = (&config.tiktok.client_key, &config.tiktok.client_secret) else {
        return Err(RevokeError::Refused("TikTok is not configured".into()));
    };
    let url = format!("{}/v2/oauth/revoke/", config.tiktok.api_url.as_str().trim_end_matches('/'));
    let form = [("client_key", key.as_str()), ("client_secret", secret.expose()), ("token", access_token.expose())];
    let a = send(http.post(url).form(&form), Effect::Read).await.map_err(|e| revoke_error(&e.class, e.message))?;
    let v = a.json();
    if let Some(err) = v["error"].as_str().filter(|e| !e.is_empty() && *e != "ok") {
        let msg = format!("{err}: {}", v["error_description"].as_str().unwrap_or(""));
        return Err(revoke_error(&tiktok_class(a.status.as_u16(), err), msg));
    }
    if !a.status.is_success() {
        let class = if a.status.is_server_error() || a.status.as_u16() == 429 {
            ErrorClass::Retryable { retry_after: None }
        } else {
            ErrorClass::Permanent
        };
        return Err(revoke_error(&class, format!("TikTok answered {}", a.status)));
    }
    Ok(())
}

/// The Facebook user behind a (Page) token, from `debug_token`; `None` when Facebook does not say.
pub async fn facebook_grantor(
    http: &reqwest::Client,
    config: &Config,
    token: &SecretString,
) -> Result<Option<String>, RevokeError> {
    let (Some(id), Some(secret)) = (&config.meta.app_id, &config.meta.app_secret) else {
        return Err(RevokeError::Refused("Facebook is not configured".into()));
    };
    let app_token = SecretString::new(format!("{id}|{}", secret.expose()));
    let g = super::graph::GraphHost::new(http.clone(), config.meta.graph_url.clone(), &config.meta.graph_version);
    let v = g
        .get("debug_token", &app_token, &[("input_token", token.expose())])
        .await
        .map_err(|e| revoke_error(&e.class, e.message))?;
    Ok(match &v["data"]["user_id"] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Facebook `DELETE /{user-id}/permissions` with the app token: removes every permission the user granted the
/// app, which invalidates every token derived from that grant (all their Pages' tokens).
pub async fn revoke_facebook(http: &reqwest::Client, config: &Config, user_id: &str) -> Result<(), RevokeError> {
    let (Some(id), Some(secret)) = (&config.meta.app_id, &config.meta.app_secret) else {
        return Err(RevokeError::Refused("Facebook is not configured".into()));
    };
    let g = super::graph::GraphHost::new(http.clone(), config.meta.graph_url.clone(), &config.meta.graph_version);
    let app_token = format!("{id}|{}", secret.expose());
    let path = format!("{}/permissions", url::form_urlencoded::byte_serialize(user_id.as_bytes()).collect::<String>());
    let req = http.delete(g.url(&path)).query(&[("access_token", app_token.as_str())]);
    let a = send(req, Effect::Read).await.map_err(|e| revoke_error(&e.class, e.message))?;
    if let Some(e) = super::errors::graph_error(&a) {
        return Err(revoke_error(&e.class, e.message));
    }
    Ok(())
}
