//! Telegram webhook mode: `POST /telegram/webhook`, checked against `X-Telegram-Bot-Api-Secret-Token`.
//!
//! Each update is persisted (deduplicated by `update_id`, source `telegram`) before the 200, so an update
//! Telegram considers delivered survives a crash; Telegram re-sends anything that got no 2xx, and the dedup makes
//! that harmless. No job is queued: the scheduler cannot run the bot's dispatcher. The bot claims stored updates
//! itself (`tochen_core::store::telegram_updates`), woken by a PostgreSQL trigger (NOTIFY) or its idle timer.

use crate::limits::SignedRoute;
use crate::middleware::{admit_signed, Peer};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use subtle::ConstantTimeEq;
use tochen_core::config::TelegramMode;
use tochen_core::{Config, SecretString};

/// The updates the bot handles; `chat_member` is only sent when listed.
pub const ALLOWED_UPDATES: &[&str] = &["message", "edited_message", "callback_query", "my_chat_member", "chat_member"];

/// 404 when webhook mode is off, 401 unless `X-Telegram-Bot-Api-Secret-Token` is the secret (constant time).
fn check_secret(state: &AppState, headers: &HeaderMap) -> Result<(), StatusCode> {
    let TelegramMode::Webhook { secret } = &state.config.telegram.mode else { return Err(StatusCode::NOT_FOUND) };
    let given = headers.get("x-telegram-bot-api-secret-token").map(|v| v.as_bytes()).unwrap_or(b"");
    if bool::from(given.ct_eq(secret.expose().as_bytes())) {
        Ok(())
    } else {
        Err(StatusCode::UNAUTHORIZED)
    }
}

pub async fn update(State(state): State<AppState>, Peer(peer): Peer, headers: HeaderMap, body: Bytes) -> Response {
    // The secret first: Telegram's servers are few and shared, so only a wrong secret counts per address.
    let checked = check_secret(&state, &headers);
    if let Some(refused) = admit_signed(&state, SignedRoute::Telegram, checked, peer, &headers) {
        return refused;
    }
    let Ok(text) = std::str::from_utf8(&body) else { return StatusCode::BAD_REQUEST.into_response() };
    let Some(update_id) = serde_json::from_str::<serde_json::Value>(text).ok().and_then(|v| v["update_id"].as_i64())
    else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    match state.store.record_telegram_update(update_id, text).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, update_id, "could not store a telegram update");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn method_url(config: &Config, token: &SecretString, method: &str) -> String {
    format!("{}/bot{}/{method}", config.telegram.api_url.as_str().trim_end_matches('/'), token.expose())
}

/// Registers `{public_url}/telegram/webhook` with the secret and the allowed updates.
pub async fn set_webhook(
    http: &reqwest::Client,
    config: &Config,
    token: &SecretString,
    secret: &SecretString,
) -> anyhow::Result<()> {
    let url = format!("{}/telegram/webhook", config.web.public_url.as_str().trim_end_matches('/'));
    let body = json!({"url": url, "secret_token": secret.expose(), "allowed_updates": ALLOWED_UPDATES,
        "max_connections": 40});
    let resp = http
        .post(method_url(config, token, "setWebhook"))
        .json(&body)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("setWebhook failed: {}", e.without_url()))?;
    let v: serde_json::Value = resp.json().await.unwrap_or_default();
    if v["ok"] != json!(true) {
        anyhow::bail!("setWebhook was refused: {}", v["description"].as_str().unwrap_or("no description"));
    }
    tracing::info!(%url, "telegram webhook registered");
    Ok(())
}

/// `https://t.me/<username>` from getMe, for the links back to the bot.
pub async fn bot_link(http: &reqwest::Client, config: &Config, token: &SecretString) -> Option<String> {
    let v: serde_json::Value = http.get(method_url(config, token, "getMe")).send().await.ok()?.json().await.ok()?;
    v["result"]["username"].as_str().map(|u| format!("https://t.me/{u}"))
}
