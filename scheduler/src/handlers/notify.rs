//! The `notify` job: sends one Telegram message (text, optional buttons, optional attachment).
//!
//! Telegram's answers decide the job's fate: 429 waits exactly as long as `retry_after` says; a user who blocked
//! the bot or a chat that removed it will never accept the message, so the job stops at once instead of burning
//! retries; a group that became a supergroup gets the message at its new id.

use crate::error::JobError;
use crate::runner::JobHandler;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use teloxide::payloads::{SendDocumentSetters, SendMessageSetters, SendPhotoSetters};
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, ParseMode};
use teloxide::{ApiError, Bot, RequestError};
use tochen_core::jobs::NotifyPayload;
use tochen_core::store::Job;
use tochen_core::Store;

/// Sends a message. The Telegram implementation is [`TelegramNotifier`]; tests record messages instead.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync + 'static {
    async fn send(&self, message: &NotifyPayload) -> Result<(), JobError>;

    /// Sends for a job, with the store at hand to act on what Telegram says about the chat (see
    /// `chat_changes`). Notifiers that cannot learn such things just send.
    async fn send_for(&self, _store: &Store, _job: &Job, message: &NotifyPayload) -> Result<(), JobError> {
        self.send(message).await
    }
}

/// Runs `notify` jobs through a [`Notifier`].
pub struct NotifyHandler {
    pub notifier: Arc<dyn Notifier>,
}

#[async_trait::async_trait]
impl JobHandler for NotifyHandler {
    async fn run(&self, store: &Store, job: &Job) -> Result<(), JobError> {
        let message: NotifyPayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::permanent(format!("notify payload is not valid: {e}")))?;
        self.notifier.send_for(store, job, &message).await
    }
}

/// Sends through the Bot API at the configured URL, in HTML parse mode.
pub struct TelegramNotifier {
    bot: Bot,
    data_dir: PathBuf,
}

impl TelegramNotifier {
    pub fn new(token: &str, api_url: url::Url, data_dir: PathBuf) -> Self {
        Self { bot: Bot::new(token).set_api_url(api_url), data_dir }
    }

    async fn send_to(&self, chat: ChatId, m: &NotifyPayload) -> Result<(), RequestError> {
        let markup = keyboard(m);
        match &m.attachment_path {
            None => {
                let mut req = self.bot.send_message(chat, &m.text_html).parse_mode(ParseMode::Html);
                if let Some(k) = markup {
                    req = req.reply_markup(k);
                }
                req.await?;
            }
            Some(path) => {
                let file = InputFile::file(self.data_dir.join(path));
                if path.ends_with(".png") || path.ends_with(".jpg") || path.ends_with(".jpeg") {
                    let mut req = self.bot.send_photo(chat, file).caption(&m.text_html).parse_mode(ParseMode::Html);
                    if let Some(k) = markup {
                        req = req.reply_markup(k);
                    }
                    req.await?;
                } else {
                    let mut req = self.bot.send_document(chat, file).caption(&m.text_html).parse_mode(ParseMode::Html);
                    if let Some(k) = markup {
                        req = req.reply_markup(k);
                    }
                    req.await?;
                }
            }
        }
        Ok(())
    }
}

fn keyboard(m: &NotifyPayload) -> Option<InlineKeyboardMarkup> {
    if m.buttons.is_empty() {
        return None;
    }
    let rows = m.buttons.iter().map(|row| {
        row.iter()
            .filter_map(|b| match (&b.callback_data, &b.url) {
                (Some(data), _) => Some(InlineKeyboardButton::callback(b.text.clone(), data.clone())),
                (None, Some(u)) => url::Url::parse(u).ok().map(|u| InlineKeyboardButton::url(b.text.clone(), u)),
                (None, None) => None,
            })
            .collect::<Vec<_>>()
    });
    Some(InlineKeyboardMarkup::new(rows))
}

/// Sorts a Bot API error into the job's error classes.
pub fn classify(e: &RequestError) -> JobError {
    match e {
        RequestError::RetryAfter(s) => JobError::retry_after(format!("telegram rate limit: {e}"), s.duration()),
        RequestError::Api(
            ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::ChatNotFound
            | ApiError::NotEnoughRightsToPostMessages,
        ) => JobError::permanent(format!("telegram refused the chat: {e}")),
        RequestError::Api(ApiError::Unknown(text))
            if text.contains("Too Many Requests") || text.contains("Internal") =>
        {
            JobError::retry(format!("telegram: {e}"))
        }
        RequestError::Api(_) => JobError::permanent(format!("telegram refused the message: {e}")),
        RequestError::MigrateToChatId(_) => JobError::retry(format!("telegram: {e}")),
        RequestError::InvalidJson { raw, .. } => {
            classify_raw(raw).unwrap_or_else(|| JobError::retry(format!("telegram: {e}")))
        }
        RequestError::Network(_) | RequestError::Io(_) => JobError::retry(format!("telegram unreachable: {e}")),
    }
}

/// An error envelope teloxide could not map (an unusual `parameters` shape): read its code ourselves, so a 403 is
/// still final and a 429 still waits.
fn classify_raw(raw: &str) -> Option<JobError> {
    let v: serde_json::Value = serde_json::from_str(raw).ok()?;
    let description = v["description"].as_str().unwrap_or_default();
    match v["error_code"].as_i64()? {
        403 => Some(JobError::permanent(format!("telegram refused the chat: {description}"))),
        429 => {
            let after = v["parameters"]["retry_after"].as_u64().unwrap_or(5);
            Some(JobError::retry_after(format!("telegram rate limit: {description}"), Duration::from_secs(after)))
        }
        400 => Some(JobError::permanent(format!("telegram refused the message: {description}"))),
        _ => None,
    }
}

#[async_trait::async_trait]
impl Notifier for TelegramNotifier {
    async fn send(&self, m: &NotifyPayload) -> Result<(), JobError> {
        match self.send_to(ChatId(m.chat_id), m).await {
            Ok(()) => Ok(()),
            Err(RequestError::MigrateToChatId(new_chat)) => {
                tracing::info!(old = m.chat_id, new = new_chat.0, "chat migrated to a supergroup; resending");
                self.send_to(new_chat, m).await.map_err(|e| classify(&e))
            }
            Err(e) => Err(classify(&e)),
        }
    }

    async fn send_for(&self, store: &Store, job: &Job, m: &NotifyPayload) -> Result<(), JobError> {
        match self.send_to(ChatId(m.chat_id), m).await {
            Ok(()) => Ok(()),
            Err(RequestError::MigrateToChatId(new_chat)) => {
                super::chat_changes::migrated(store, m.chat_id, new_chat.0).await?;
                self.send_to(new_chat, m).await.map_err(|e| classify(&e))
            }
            Err(e) => {
                if super::chat_changes::chat_is_closed(&e) {
                    super::chat_changes::closed(store, job, m.chat_id, &e.to_string()).await?;
                }
                Err(classify(&e))
            }
        }
    }
}

/// A notifier for deployments without a bot token: messages cannot be sent, and say so.
pub struct NoNotifier;

#[async_trait::async_trait]
impl Notifier for NoNotifier {
    async fn send(&self, _m: &NotifyPayload) -> Result<(), JobError> {
        Err(JobError::permanent("TELEGRAM_BOT_TOKEN is not set, so messages cannot be sent"))
    }
}
