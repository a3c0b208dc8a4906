//! Facebook Login: the authorize link and the code exchange. One login connects Facebook Pages and the Instagram
//! accounts linked to them (the scopes differ by the kind asked for); the exchange turns the code into a
//! long-lived user token and lists the Pages (or their Instagram accounts) it may publish to.

use crate::login::{get_json, redirect_uri, url_with, ConnectError, Provider};
use crate::pending::Candidate;
use serde_json::Value;
use tochen_config::Config;
use tochen_domain::AuthKind;
use tochen_store::OAuthState;

const FACEBOOK_SCOPES: &str =
    "pages_show_list,pages_manage_posts,pages_read_engagement,read_insights,business_management,pages_manage_metadata";
const INSTAGRAM_VIA_PAGE_SCOPES: &str = "pages_show_list,pages_read_engagement,business_management,instagram_basic,\
instagram_content_publish,instagram_manage_comments,instagram_manage_insights";

/// The Facebook Login dialog for `kind` (a Page, or an Instagram account through its Page).
pub fn authorize_url(config: &Config, kind: AuthKind, redirect: &str, state: &str) -> Result<String, ConnectError> {
    let id = config.meta.app_id.as_deref().ok_or(ConnectError::NotConfigured("META_APP_ID"))?;
    let scope = if kind == AuthKind::InstagramViaPage { INSTAGRAM_VIA_PAGE_SCOPES } else { FACEBOOK_SCOPES };
    let path = format!("/{}/dialog/oauth", config.meta.graph_version);
    Ok(url_with(
        config.meta.dialog_url.as_str(),
        &path,
        &[("client_id", id), ("redirect_uri", redirect), ("state", state), ("scope", scope), ("response_type", "code")],
    ))
}

pub async fn exchange(
    http: &reqwest::Client,
    config: &Config,
    state: &OAuthState,
    code: &str,
) -> Result<Vec<Candidate>, String> {
    let m = &config.meta;
    let (Some(id), Some(secret)) = (&m.app_id, &m.app_secret) else {
        return Err("Facebook is not configured".into());
    };
    let base = format!("{}/{}", m.graph_url.as_str().trim_end_matches('/'), m.graph_version);
    let redirect = redirect_uri(config, Provider::Facebook);
    let short = get_json(
        http,
        format!("{base}/oauth/access_token"),
        &[("client_id", id), ("redirect_uri", &redirect), ("client_secret", secret.expose()), ("code", code)],
    )
    .await?;
    let short = short["access_token"].as_str().ok_or("no access_token in the code exchange")?.to_string();
    let long = get_json(
        http,
        format!("{base}/oauth/access_token"),
        &[
            ("grant_type", "fb_exchange_token"),
            ("client_id", id),
            ("client_secret", secret.expose()),
            ("fb_exchange_token", &short),
        ],
    )
    .await?;
    let user_token = long["access_token"].as_str().ok_or("no long-lived access_token")?.to_string();
    let app_token = format!("{id}|{}", secret.expose());
    let debug =
        get_json(http, format!("{base}/debug_token"), &[("input_token", &user_token), ("access_token", &app_token)])
            .await?;
    let scopes: Vec<String> = debug["data"]["scopes"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    // The Facebook user whose grant the Page tokens derive from: revoking it later revokes them all.
    let grantor = match &debug["data"]["user_id"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let mut pages = Vec::new();
    let mut next = Some(format!(
        "{base}/me/accounts?fields=id,name,access_token,tasks,instagram_business_account&limit=100&access_token={}",
        url::form_urlencoded::byte_serialize(user_token.as_bytes()).collect::<String>()
    ));
    let mut guard = 0;
    while let Some(url) = next.take() {
        guard += 1;
        let v = get_json(http, url, &[]).await?;
        pages.extend(v["data"].as_array().cloned().unwrap_or_default());
        next = v["paging"]["next"].as_str().map(str::to_string).filter(|_| guard < 50);
    }
    let want_ig = state.auth_kind == AuthKind::InstagramViaPage;
    Ok(pages
        .iter()
        .filter_map(|p| {
            let token = p["access_token"].as_str()?.to_string();
            let name = p["name"].as_str().unwrap_or("Page").to_string();
            let external_id = if want_ig {
                p["instagram_business_account"]["id"].as_str()?.to_string()
            } else {
                p["id"].as_str()?.to_string()
            };
            Some(Candidate {
                auth_kind: state.auth_kind,
                external_id,
                name,
                access_token: token,
                refresh_token: None,
                scopes: scopes.clone(),
                // A Page token fetched with a long-lived user token does not expire.
                token_expires_at: None,
                refresh_expires_at: None,
                grantor_id: grantor.clone(),
            })
        })
        .collect())
}
