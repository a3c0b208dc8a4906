//! Facebook tokens: `debug_token` (validity, expiry, the user behind a Page token) and revoking a user's grant.
//! Facebook has no refresh: the user logs in again.

use crate::http::{send, Effect};
use crate::module::RevokeOutcome;
use crate::refresh::RefreshError;
use crate::tokens::{revoke_error, stored, temp, RevokeError};
use serde_json::Value;
use tochen_config::Config;
use tochen_domain::clock::Millis;
use tochen_domain::secret::SecretString;
use tochen_domain::AuthKind;
use tochen_store::{Store, TokenRevocation};

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
    let g = crate::graph::GraphHost::new(http.clone(), config.meta.graph_url.clone(), &config.meta.graph_version);
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
    let g = crate::graph::GraphHost::new(http.clone(), config.meta.graph_url.clone(), &config.meta.graph_version);
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
    let g = crate::graph::GraphHost::new(http.clone(), config.meta.graph_url.clone(), &config.meta.graph_version);
    let app_token = format!("{id}|{}", secret.expose());
    let path = format!("{}/permissions", url::form_urlencoded::byte_serialize(user_id.as_bytes()).collect::<String>());
    let req = http.delete(g.url(&path)).query(&[("access_token", app_token.as_str())]);
    let a = send(req, Effect::Read).await.map_err(|e| revoke_error(&e.class, e.message))?;
    if let Some(e) = crate::errors::graph_error(&a) {
        return Err(revoke_error(&e.class, e.message));
    }
    Ok(())
}

/// Revokes the Facebook grant behind a disconnected Page (or Instagram-through-Page) account, unless another
/// connected account relies on the same user's grant: revoking it would kill their tokens too.
pub async fn revoke_grant(
    store: &Store,
    config: &Config,
    http: &reqwest::Client,
    r: &TokenRevocation,
) -> Result<RevokeOutcome, RevokeError> {
    let grantor = match &r.grantor_id {
        Some(g) => Some(g.clone()),
        None => facebook_grantor(http, config, &r.token).await?,
    };
    let Some(user) = grantor else { return Ok(RevokeOutcome::NothingToRevoke) };
    if store.accounts_relying_on_grant(r.auth_kind, &user).await.map_err(stored)? > 0 {
        return Ok(RevokeOutcome::StillInUse);
    }
    revoke_facebook(http, config, &user).await?;
    Ok(RevokeOutcome::Revoked)
}
