//! Telegram webhook mode: `POST /telegram/webhook`, checked against `X-Telegram-Bot-Api-Secret-Token`.
//!
//! Each update is persisted (deduplicated by `update_id`, source `telegram`) before the 200, together with its
//! `telegram_update` job in the same transaction (`tochen_store::telegram_updates`), so an update Telegram considers
//! delivered survives a crash; Telegram re-sends anything that got no 2xx, and the dedup makes that harmless (a
//! duplicate queues nothing). The job carries the update's chat as its concurrency key, so one chat's updates run
//! one at a time in arrival order. Only the bot runs these jobs (its runner registers that one kind; the
//! scheduler's does not).
//!
//! At start-up the web service asks Telegram for the bot's username (the links back to the bot) and, in webhook
//! mode, registers the webhook: [`start_up`] does both in the background, retrying with a capped backoff while the
//! Bot API is unreachable, so Meta and TikTok webhooks, OAuth callbacks and media keep being served meanwhile;
//! `/ready` names what is waiting. Request URLs carry the bot token, so errors are logged without their URL.

use crate::limits::SignedRoute;
use crate::middleware::{admit_signed, Peer};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use subtle::ConstantTimeEq;
use tochen_config::Config;
use tochen_config::TelegramMode;
use tochen_domain::readiness::{backoff, Readiness, FIRST_RETRY, MAX_RETRY};
use tochen_domain::SecretString;

/// The name webhook registration reports under in the readiness registry.
pub const WEBHOOK_COMPONENT: &str = "telegram_webhook";

/// `https://t.me/<bot>`, learnt once the Bot API answers; shared by every clone of the state.
#[derive(Clone, Debug, Default)]
pub struct BotLink(Arc<OnceLock<String>>);

impl BotLink {
    /// The link, when known.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }

    /// Records the link (the first one wins).
    pub fn set(&self, link: String) {
        let _ = self.0.set(link);
    }
}

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
    let Some((text, update_id, chat)) = parse_update(&body) else { return StatusCode::BAD_REQUEST.into_response() };
    match state.store.record_telegram_update(update_id, chat, text).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, update_id, "could not store a telegram update");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The body as text, its `update_id` and the chat it belongs to (see [`chat_of`]), or `None` for anything that is
/// not a JSON object with an integer `update_id`.
pub fn parse_update(body: &[u8]) -> Option<(&str, i64, Option<i64>)> {
    let text = std::str::from_utf8(body).ok()?;
    let value = serde_json::from_str::<serde_json::Value>(text).ok()?;
    let update_id = value["update_id"].as_i64()?;
    Some((text, update_id, chat_of(&value)))
}

/// The kinds of update that carry a `chat` object of their own.
const WITH_CHAT: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "message_reaction",
    "message_reaction_count",
    "chat_boost",
    "removed_chat_boost",
];

/// The chat an update belongs to, as the bot's dispatcher groups updates: the chat of a message-like update, the
/// message's chat for a button press; `None` for updates without one (inline queries, polls, ...).
pub fn chat_of(update: &serde_json::Value) -> Option<i64> {
    WITH_CHAT
        .iter()
        .find_map(|kind| update[*kind]["chat"]["id"].as_i64())
        .or_else(|| update["callback_query"]["message"]["chat"]["id"].as_i64())
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
pub async fn bot_link(http: &reqwest::Client, config: &Config, token: &SecretString) -> anyhow::Result<String> {
    let resp = http
        .get(method_url(config, token, "getMe"))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("getMe failed: {}", e.without_url()))?;
    let v: serde_json::Value =
        resp.json().await.map_err(|e| anyhow::anyhow!("getMe answered no JSON: {}", e.without_url()))?;
    match v["result"]["username"].as_str() {
        Some(u) => Ok(format!("https://t.me/{u}")),
        None => anyhow::bail!("getMe was refused: {}", v["description"].as_str().unwrap_or("no username")),
    }
}

/// Learns the bot link and, in webhook mode, registers the webhook, retrying both until they succeed (the
/// caller stops it at shutdown). Webhook mode reports under [`WEBHOOK_COMPONENT`] until registered: without it
/// Telegram delivers nothing.
pub async fn start_up(config: &Config, link: &BotLink, readiness: &Readiness) {
    let Some(token) = &config.telegram.bot_token else { return };
    let http = match reqwest::Client::builder().timeout(Duration::from_secs(15)).build() {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the HTTP client for the Telegram start-up calls");
            return;
        }
    };
    let secret = match &config.telegram.mode {
        TelegramMode::Webhook { secret } => Some(secret),
        TelegramMode::Polling => None,
    };
    if secret.is_some() {
        readiness.waiting(WEBHOOK_COMPONENT, "registering the Telegram webhook");
    }
    let mut attempt: u32 = 0;
    loop {
        let result = async {
            if link.as_deref().is_none() {
                link.set(bot_link(&http, config, token).await?);
            }
            if let Some(secret) = secret {
                set_webhook(&http, config, token, secret).await?;
            }
            anyhow::Ok(())
        }
        .await;
        let Err(e) = result else {
            readiness.ready(WEBHOOK_COMPONENT);
            return;
        };
        attempt = attempt.saturating_add(1);
        let wait = backoff(attempt, FIRST_RETRY, MAX_RETRY);
        if secret.is_some() {
            readiness.waiting(
                WEBHOOK_COMPONENT,
                format!("Telegram webhook not registered ({e}), retrying (attempt {attempt})"),
            );
        }
        tracing::warn!(error = %e, attempt, retry_in_ms = wait.as_millis() as u64, "telegram start-up call failed; retrying");
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(tochen_testkit::props::config(1024))]

        /// Any body: read only when it is JSON with an integer `update_id`, and then that id.
        #[test]
        fn any_body_is_an_update_or_refused(
            body in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..256),
                "\\PC{0,200}".prop_map(String::into_bytes),
                (any::<i64>(), "\\PC{0,40}").prop_map(|(id, t)| serde_json::json!({"update_id": id, "message": t}).to_string().into_bytes()),
                any::<f64>().prop_map(|f| format!("{{\"update_id\":{f}}}").into_bytes()),
                "[0-9]{19,25}".prop_map(|n| format!("{{\"update_id\":{n}}}").into_bytes()),
            ]
        ) {
            if let Some((text, id, chat)) = parse_update(&body) {
                prop_assert_eq!(text.as_bytes(), &body[..]);
                let v: serde_json::Value = serde_json::from_str(text).unwrap();
                prop_assert_eq!(v["update_id"].as_i64(), Some(id));
                prop_assert_eq!(chat, chat_of(&v));
            }
        }

        /// The chat of a message, an edit or a button press is found; an update without one has none.
        #[test]
        fn the_chat_of_an_update_is_where_the_dispatcher_looks(id in any::<i64>(), chat in any::<i64>()) {
            let message = serde_json::json!({"update_id": 1, "message": {"chat": {"id": chat}}});
            prop_assert_eq!(chat_of(&message), Some(chat));
            let edit = serde_json::json!({"update_id": 1, "edited_message": {"chat": {"id": chat}}});
            prop_assert_eq!(chat_of(&edit), Some(chat));
            let press = serde_json::json!({"update_id": id, "callback_query": {"id": "q", "message": {"chat": {"id": chat}}}});
            prop_assert_eq!(chat_of(&press), Some(chat));
            let inline = serde_json::json!({"update_id": id, "inline_query": {"id": "q", "from": {"id": chat}}});
            prop_assert_eq!(chat_of(&inline), None);
        }
    }
}
