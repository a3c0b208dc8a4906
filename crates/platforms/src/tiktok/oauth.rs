//! TikTok Login Kit: the authorize link (with PKCE, S256) and the code exchange, which yields an access token (24
//! hours), a rotating refresh token and the creator's open_id.

use crate::http::{send, Effect};
use crate::login::{expiry, pkce_challenge, redirect_uri, url_with, ConnectError, Provider};
use crate::pending::Candidate;
use serde_json::Value;
use tochen_config::Config;
use tochen_domain::AuthKind;
use tochen_store::OAuthState;

const TIKTOK_SCOPES: &str = "user.info.basic,video.publish,video.upload,video.list";

/// TikTok's authorize page; `verifier` is the PKCE verifier stored with the state.
pub fn authorize_url(config: &Config, redirect: &str, state: &str, verifier: &str) -> Result<String, ConnectError> {
    let key = config.tiktok.client_key.as_deref().ok_or(ConnectError::NotConfigured("TIKTOK_CLIENT_KEY"))?;
    let challenge = pkce_challenge(verifier);
    Ok(url_with(
        config.tiktok.auth_url.as_str(),
        "/v2/auth/authorize/",
        &[
            ("client_key", key),
            ("response_type", "code"),
            ("scope", TIKTOK_SCOPES),
            ("redirect_uri", redirect),
            ("state", state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    ))
}

pub async fn exchange(
    http: &reqwest::Client,
    config: &Config,
    state: &OAuthState,
    code: &str,
) -> Result<Vec<Candidate>, String> {
    let t = &config.tiktok;
    let (Some(key), Some(secret)) = (&t.client_key, &t.client_secret) else {
        return Err("TikTok is not configured".into());
    };
    let api = t.api_url.as_str().trim_end_matches('/');
    let redirect = redirect_uri(config, Provider::TikTok);
    let mut form = vec![
        ("client_key", key.clone()),
        ("client_secret", secret.expose().to_string()),
        ("code", code.to_string()),
        ("grant_type", "authorization_code".into()),
        ("redirect_uri", redirect),
    ];
    if let Some(v) = &state.pkce_verifier {
        form.push(("code_verifier", v.expose().to_string()));
    }
    let a = send(http.post(format!("{api}/v2/oauth/token/")).form(&form), Effect::Read).await.map_err(|e| e.message)?;
    let v = a.json();
    if let Some(err) = v["error"].as_str().filter(|e| !e.is_empty()) {
        return Err(format!("{err}: {}", v["error_description"].as_str().unwrap_or("")));
    }
    let access = v["access_token"].as_str().ok_or("no access_token in the TikTok answer")?.to_string();
    let open_id = v["open_id"].as_str().ok_or("no open_id in the TikTok answer")?.to_string();
    let info = send(
        http.post(format!("{api}/v2/post/publish/creator_info/query/"))
            .bearer_auth(&access)
            .json(&serde_json::json!({})),
        Effect::Read,
    )
    .await
    .ok()
    .and_then(|a| super::envelope(a).ok())
    .unwrap_or(Value::Null);
    let name = info["creator_username"]
        .as_str()
        .map(|u| format!("@{u}"))
        .or_else(|| info["creator_nickname"].as_str().map(str::to_string))
        .unwrap_or_else(|| open_id.clone());
    Ok(vec![Candidate {
        auth_kind: AuthKind::TikTok,
        grantor_id: Some(open_id.clone()),
        external_id: open_id,
        name,
        access_token: access,
        refresh_token: v["refresh_token"].as_str().map(str::to_string),
        scopes: v["scope"].as_str().unwrap_or("").split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        token_expires_at: expiry(&v, "expires_in"),
        refresh_expires_at: expiry(&v, "refresh_expires_in"),
    }])
}
