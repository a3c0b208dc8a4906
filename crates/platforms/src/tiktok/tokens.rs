//! TikTok tokens: the rotating `refresh_token` grant and revocation at `/v2/oauth/revoke/`.

use crate::errors::tiktok_class;
use crate::http::{send, Effect};
use crate::module::RevokeOutcome;
use crate::publish::ErrorClass;
use crate::refresh::{RefreshError, RefreshedTokens};
use crate::tokens::{expires, revoke_error, stored, temp, RevokeError};
use tochen_config::Config;
use tochen_domain::secret::SecretString;
use tochen_domain::AuthKind;
use tochen_store::{Store, TokenRevocation};

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

/// Revokes a disconnected TikTok account's grant, unless another connected account relies on the same open_id.
pub async fn revoke_grant(
    store: &Store,
    config: &Config,
    http: &reqwest::Client,
    r: &TokenRevocation,
) -> Result<RevokeOutcome, RevokeError> {
    let Some(open_id) = r.grantor_id.as_deref() else { return Ok(RevokeOutcome::NothingToRevoke) };
    let in_use = store.accounts_relying_on_grant(r.auth_kind, open_id).await.map_err(stored)?;
    if in_use > 0 {
        return Ok(RevokeOutcome::StillInUse);
    }
    revoke_tiktok(http, config, &r.token).await?;
    Ok(RevokeOutcome::Revoked)
}
