//! Reaching the Bot API at start-up, for as long as it takes.
//!
//! `tochen run` starts the bot next to the scheduler and the web service. If the Bot API is down (or the network
//! is not up yet) when the process starts, failing would take the whole process down with it, and with it the
//! platforms' webhooks and the publishing of scheduled posts. So the bot asks `getMe` again with a capped
//! exponential backoff until it answers or shutdown is requested, and says what it is waiting for in the shared
//! readiness registry (`/ready` shows it). Errors are logged through teloxide's display, which replaces the token
//! in request URLs with `token:redacted`.

use crate::ctx::TgBot;
use crate::COMPONENT;
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::types::Me;
use tochen_domain::readiness::{backoff, Readiness, MAX_RETRY};
use tokio_util::sync::CancellationToken;

/// `getMe`, retried until it answers; `None` when shutdown came first.
pub async fn reach_bot_api(
    bot: &TgBot,
    readiness: &Readiness,
    first_wait: Duration,
    shutdown: &CancellationToken,
) -> Option<Me> {
    let mut attempt: u32 = 0;
    readiness.waiting(COMPONENT, "connecting to the Telegram Bot API");
    loop {
        let result = tokio::select! {
            r = bot.get_me() => r,
            _ = shutdown.cancelled() => return None,
        };
        match result {
            Ok(me) => {
                if attempt > 0 {
                    tracing::info!(attempts = attempt + 1, "the Telegram Bot API answered; the bot starts");
                }
                readiness.ready(COMPONENT);
                return Some(me);
            }
            Err(e) => {
                attempt = attempt.saturating_add(1);
                let wait = backoff(attempt, first_wait, MAX_RETRY);
                let why = match &e {
                    teloxide::RequestError::Api(teloxide::ApiError::InvalidToken) => {
                        "Telegram refused the bot token (check TELEGRAM_BOT_TOKEN)"
                    }
                    _ => "Telegram Bot API unreachable",
                };
                readiness.waiting(COMPONENT, format!("{why}, retrying (attempt {attempt})"));
                tracing::warn!(error = %e, attempt, retry_in_ms = wait.as_millis() as u64,
                    "cannot reach the Telegram Bot API; the bot retries while the other components serve");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.cancelled() => return None,
                }
            }
        }
    }
}

/// The bot's username by one `getMe`, for links printed outside the bot (`tochen admin code`); `None` when no
/// token is configured or the Bot API does not answer within `wait`.
pub async fn username(config: &tochen_config::Config, wait: Duration) -> Option<String> {
    let token = config.telegram.bot_token.as_ref()?.expose().to_owned();
    let bot = Bot::new(token).set_api_url(config.telegram.api_url.clone());
    match tokio::time::timeout(wait, bot.get_me()).await {
        Ok(Ok(me)) => me.username.clone(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot ask the Telegram Bot API for the bot's username");
            None
        }
        Err(_) => None,
    }
}
