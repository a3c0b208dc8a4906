//! The `notify` job: sends one Telegram message (text, optional buttons, optional attachment), or edits one.
//!
//! Telegram's answers decide the job's fate: 429 waits exactly as long as `retry_after` says; a user who blocked
//! the bot or a chat that removed it will never accept the message, so the job stops at once instead of burning
//! retries; a group that became a supergroup gets the message at its new id.
//!
//! An approval card (`NotifyExtras::approval_card`) is not sent once its post was decided, and the id of the
//! sent card is recorded so the decision can edit it (`approval_cards` in the store). An edit
//! (`NotifyExtras::edit_message_id`) of a message that is gone, cannot be edited or already shows the text is
//! done: there is nothing left to show.
//!
//! Texts are shortened to Telegram's limits here (`tochen_telegram::text::fit`: 4,096 for a message, 1,024
//! for a caption), the same rule the bot applies to its replies: a notice over them would be refused for good and
//! the chat would hear nothing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use teloxide::payloads::{EditMessageTextSetters, SendDocumentSetters, SendMessageSetters, SendPhotoSetters};
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId, ParseMode};
use teloxide::{ApiError, Bot, RequestError};
use tochen_domain::jobs::{NotifyJob, NotifyPayload};
use tochen_queue::{JobContext, JobError, Worker};
use tochen_store::Job;
use tochen_store::Store;
use tochen_telegram::closed::chat_is_closed;
use tochen_telegram::text::{fit, CAPTION_MAX, MESSAGE_MAX};

/// Sends a message. The Telegram implementation is [`TelegramNotifier`]; tests record messages instead.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync + 'static {
    async fn send(&self, message: &NotifyPayload) -> Result<(), JobError>;

    /// Sends for a job, with the store at hand to act on what Telegram says about the chat (see
    /// `chat_changes`). Notifiers that cannot learn such things just send.
    async fn send_for(&self, _store: &Store, _job: &Job, message: &NotifyPayload) -> Result<(), JobError> {
        self.send(message).await
    }

    /// Sends for a job and says which message it became, (chat, message id), when the notifier can tell.
    async fn deliver(&self, store: &Store, job: &Job, message: &NotifyPayload) -> Result<Option<(i64, i64)>, JobError> {
        self.send_for(store, job, message).await.map(|()| None)
    }

    /// Edits message `message_id` of `message.chat_id` to show `message`'s text and buttons. Notifiers that
    /// cannot edit send the text as a new message.
    async fn edit(&self, message: &NotifyPayload, _message_id: i64) -> Result<(), JobError> {
        self.send(message).await
    }
}

/// Runs `notify` jobs through a [`Notifier`].
pub struct NotifyHandler {
    pub notifier: Arc<dyn Notifier>,
}

#[async_trait::async_trait]
impl Worker<NotifyJob> for NotifyHandler {
    async fn work(&self, cx: &JobContext, NotifyJob { message, extras }: NotifyJob) -> Result<(), JobError> {
        let (store, job) = (cx.store(), cx.job());
        if let Some(message_id) = extras.edit_message_id {
            return self.notifier.edit(&message, message_id).await;
        }
        let Some(card) = extras.approval_card else { return self.notifier.send_for(store, job, &message).await };
        let tenant = job.tenant_id.ok_or_else(|| JobError::permanent("an approval card job names no workspace"))?;
        if store.approval_card_settled(tenant, card, message.chat_id).await? {
            tracing::debug!(post = %card.post_id, chat = message.chat_id, "post decided before its card went out");
            return Ok(());
        }
        if let Some((chat, message_id)) = self.notifier.deliver(store, job, &message).await? {
            store.record_approval_card(tenant, card, message.chat_id, chat, message_id).await?;
        }
        Ok(())
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

    /// Sends `m` to `chat`; the sent message's id.
    async fn send_to(&self, chat: ChatId, m: &NotifyPayload) -> Result<i64, RequestError> {
        let markup = keyboard(m);
        let sent = match &m.attachment_path {
            None => {
                let mut req = self.bot.send_message(chat, fit(&m.text_html, MESSAGE_MAX)).parse_mode(ParseMode::Html);
                if let Some(k) = markup {
                    req = req.reply_markup(k);
                }
                req.await?
            }
            Some(path) => {
                let file = InputFile::file(self.data_dir.join(path));
                let caption = fit(&m.text_html, CAPTION_MAX);
                if path.ends_with(".png") || path.ends_with(".jpg") || path.ends_with(".jpeg") {
                    let mut req = self.bot.send_photo(chat, file).caption(caption).parse_mode(ParseMode::Html);
                    if let Some(k) = markup {
                        req = req.reply_markup(k);
                    }
                    req.await?
                } else {
                    let mut req = self.bot.send_document(chat, file).caption(caption).parse_mode(ParseMode::Html);
                    if let Some(k) = markup {
                        req = req.reply_markup(k);
                    }
                    req.await?
                }
            }
        };
        Ok(i64::from(sent.id.0))
    }

    async fn edit_text(&self, m: &NotifyPayload, message_id: i64) -> Result<(), RequestError> {
        let id = MessageId(i32::try_from(message_id).unwrap_or(i32::MAX));
        let text = fit(&m.text_html, MESSAGE_MAX);
        let mut req = self.bot.edit_message_text(ChatId(m.chat_id), id, text).parse_mode(ParseMode::Html);
        if let Some(k) = keyboard(m) {
            req = req.reply_markup(k);
        }
        req.await.map(drop)
    }
}

/// True when an edit failed because there is nothing left to edit: the message is gone, can no longer be edited,
/// or already shows exactly this (Telegram's "message is not modified").
fn edit_is_moot(e: &RequestError) -> bool {
    match e {
        RequestError::Api(
            ApiError::MessageNotModified | ApiError::MessageToEditNotFound | ApiError::MessageCantBeEdited,
        ) => true,
        RequestError::Api(ApiError::Unknown(d)) => {
            ["message is not modified", "message to edit not found", "message can't be edited"]
                .iter()
                .any(|w| d.contains(w))
        }
        // The message sits in a group that has become a supergroup; the old group's messages stay as they are.
        RequestError::MigrateToChatId(_) => true,
        RequestError::InvalidJson { raw, .. } => {
            ["message is not modified", "message to edit not found"].iter().any(|w| raw.contains(w))
        }
        _ => false,
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
        // The one list of closed chats (`tochen_telegram::closed`), plus a chat that stays open but where the bot may
        // not post: both are final for this message.
        e if chat_is_closed(e) || matches!(e, RequestError::Api(ApiError::NotEnoughRightsToPostMessages)) => {
            JobError::permanent(format!("telegram refused the chat: {e}"))
        }
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
            Ok(_) => Ok(()),
            Err(RequestError::MigrateToChatId(new_chat)) => {
                tracing::info!(old = m.chat_id, new = new_chat.0, "chat migrated to a supergroup; resending");
                self.send_to(new_chat, m).await.map(drop).map_err(|e| classify(&e))
            }
            Err(e) => Err(classify(&e)),
        }
    }

    async fn send_for(&self, store: &Store, job: &Job, m: &NotifyPayload) -> Result<(), JobError> {
        self.deliver(store, job, m).await.map(drop)
    }

    async fn deliver(&self, store: &Store, job: &Job, m: &NotifyPayload) -> Result<Option<(i64, i64)>, JobError> {
        match self.send_to(ChatId(m.chat_id), m).await {
            Ok(id) => Ok(Some((m.chat_id, id))),
            Err(RequestError::MigrateToChatId(new_chat)) => {
                super::chat_changes::migrated(store, m.chat_id, new_chat.0).await?;
                let id = self.send_to(new_chat, m).await.map_err(|e| classify(&e))?;
                Ok(Some((new_chat.0, id)))
            }
            Err(e) => {
                if chat_is_closed(&e) {
                    super::chat_changes::closed(store, job, m.chat_id, &e.to_string()).await?;
                }
                Err(classify(&e))
            }
        }
    }

    async fn edit(&self, m: &NotifyPayload, message_id: i64) -> Result<(), JobError> {
        match self.edit_text(m, message_id).await {
            Ok(()) => Ok(()),
            Err(e) if edit_is_moot(&e) => {
                tracing::debug!(chat = m.chat_id, message_id, error = %e, "nothing to edit; done");
                Ok(())
            }
            Err(e) => Err(classify(&e)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn permanent(e: ApiError) -> bool {
        matches!(classify(&RequestError::Api(e)), JobError::Permanent(_))
    }

    #[test]
    fn a_closed_chat_or_one_without_posting_rights_is_final_and_a_busy_telegram_is_not() {
        // Every error of the one closed-chat list, and a chat where the bot may not post.
        for e in [
            ApiError::BotBlocked,
            ApiError::BotKicked,
            ApiError::UserDeactivated,
            ApiError::CantInitiateConversation,
            ApiError::ChatNotFound,
            ApiError::Unknown("Forbidden: bot is not a member of the channel chat".into()),
            ApiError::NotEnoughRightsToPostMessages,
        ] {
            assert!(chat_is_closed(&RequestError::Api(e.clone())) || e == ApiError::NotEnoughRightsToPostMessages);
            assert!(permanent(e.clone()), "{e:?}");
            assert!(
                classify(&RequestError::Api(e.clone())).to_string().starts_with("telegram refused the chat"),
                "{e:?}"
            );
        }
        // A message Telegram refuses is final too, but it is the message, not the chat.
        let bad = classify(&RequestError::Api(ApiError::MessageTextIsEmpty));
        assert!(matches!(&bad, JobError::Permanent(m) if m.starts_with("telegram refused the message")), "{bad:?}");
        // Telegram busy or rate limiting: tried again.
        let busy = classify(&RequestError::Api(ApiError::Unknown("Internal Server Error".into())));
        assert!(matches!(busy, JobError::Retryable { retry_after: None, .. }), "{busy:?}");
        let limited = classify(&RequestError::RetryAfter(teloxide::types::Seconds::from_seconds(7)));
        assert!(matches!(limited, JobError::Retryable { retry_after: Some(d), .. } if d == Duration::from_secs(7)));
    }
}
