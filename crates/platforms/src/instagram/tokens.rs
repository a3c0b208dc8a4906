//! Instagram Login tokens: `ig_refresh_token` extends a long-lived token by 60 days.

use crate::http::{send, Effect};
use crate::publish::ErrorClass;
use crate::refresh::{RefreshError, RefreshedTokens};
use crate::tokens::{expires, temp};
use tochen_config::Config;
use tochen_domain::secret::SecretString;

/// Instagram Login `grant_type=ig_refresh_token` (token at least 24 hours old and not expired).
pub async fn refresh_instagram(
    http: &reqwest::Client,
    config: &Config,
    access_token: &SecretString,
) -> Result<RefreshedTokens, RefreshError> {
    let url = format!("{}/refresh_access_token", config.meta.instagram_graph_url.as_str().trim_end_matches('/'));
    let q = [("grant_type", "ig_refresh_token"), ("access_token", access_token.expose())];
    let a = send(http.get(url).query(&q), Effect::Read).await.map_err(temp)?;
    if let Some(e) = crate::errors::graph_error(&a) {
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
