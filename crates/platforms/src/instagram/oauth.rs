//! Instagram Login (Instagram API with Instagram Login): the authorize link and the code exchange, which yields a
//! long-lived token (60 days, refreshed by `tokens.rs`) for one professional account.

use crate::http::{send, Effect};
use crate::login::{check, expiry, get_json, redirect_uri, url_with, ConnectError, Provider};
use crate::pending::Candidate;
use serde_json::Value;
use tochen_config::Config;
use tochen_domain::AuthKind;

const INSTAGRAM_LOGIN_SCOPES: &str = "instagram_business_basic,instagram_business_content_publish,\
instagram_business_manage_comments,instagram_business_manage_insights";

/// Instagram's authorize page.
pub fn authorize_url(config: &Config, redirect: &str, state: &str) -> Result<String, ConnectError> {
    let id = config.meta.instagram_app_id.as_deref().ok_or(ConnectError::NotConfigured("INSTAGRAM_APP_ID"))?;
    Ok(url_with(
        config.meta.instagram_authorize_url.as_str(),
        "/oauth/authorize",
        &[
            ("client_id", id),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("scope", INSTAGRAM_LOGIN_SCOPES),
            ("state", state),
        ],
    ))
}

pub async fn exchange(http: &reqwest::Client, config: &Config, code: &str) -> Result<Vec<Candidate>, String> {
    let m = &config.meta;
    let (Some(id), Some(secret)) = (&m.instagram_app_id, &m.instagram_app_secret) else {
        return Err("Instagram Login is not configured".into());
    };
    let redirect = redirect_uri(config, Provider::Instagram);
    let url = format!("{}/oauth/access_token", m.instagram_api_url.as_str().trim_end_matches('/'));
    let form = [
        ("client_id", id.as_str()),
        ("client_secret", secret.expose()),
        ("grant_type", "authorization_code"),
        ("redirect_uri", &redirect),
        ("code", code),
    ];
    let a = send(http.post(url).form(&form), Effect::Read).await.map_err(|e| e.message)?;
    let v = check(a)?;
    // `{"data":[{...}]}` or a flat object: accept both.
    let entry = if v["data"].is_array() { v["data"][0].clone() } else { v };
    let short = entry["access_token"].as_str().ok_or("no access_token in the code exchange")?.to_string();
    let user_id = match &entry["user_id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err("no user_id in the code exchange".into()),
    };
    let scopes: Vec<String> = match &entry["permissions"] {
        Value::String(s) => s.split(',').map(str::to_string).collect(),
        Value::Array(a) => a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    let ig = m.instagram_graph_url.as_str().trim_end_matches('/');
    let long = get_json(
        http,
        format!("{ig}/access_token"),
        &[("grant_type", "ig_exchange_token"), ("client_secret", secret.expose()), ("access_token", &short)],
    )
    .await?;
    let token = long["access_token"].as_str().ok_or("no long-lived access_token")?.to_string();
    let me = get_json(
        http,
        format!("{ig}/{}/me", m.graph_version),
        &[("fields", "user_id,username"), ("access_token", &token)],
    )
    .await
    .unwrap_or(Value::Null);
    let name = me["username"].as_str().map(|u| format!("@{u}")).unwrap_or_else(|| user_id.clone());
    Ok(vec![Candidate {
        auth_kind: AuthKind::InstagramLogin,
        grantor_id: Some(user_id.clone()),
        external_id: user_id,
        name,
        access_token: token,
        refresh_token: None,
        scopes,
        token_expires_at: expiry(&long, "expires_in"),
        refresh_expires_at: None,
    }])
}
