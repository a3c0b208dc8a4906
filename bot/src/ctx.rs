//! The context of one update: who is asking, in which chat, in which workspace and with which role, plus the
//! helpers that answer them (send, edit in place, answer the button) with Telegram's failure modes handled once.
//!
//! Every text the bot sends or edits goes through here, so Telegram's length limits are applied here once
//! (`tochen_telegram::text::fit`): a message over them would be refused and the person would get nothing.

use crate::state::ChatUserDialogue;
use std::path::PathBuf;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, InputFile, MessageId};
use teloxide::{ApiError, RequestError};
use tochen_domain::i18n::{normalize, t};
use tochen_domain::Role;
use tochen_llm::{CallContext, LlmClient};
use tochen_store::Store;
use tochen_store::{TelegramIdentity, Tenant, User};
use tochen_telegram::text::{clip, fit, fits, CALLBACK_ANSWER_MAX, MESSAGE_MAX};

pub use tochen_telegram::text::CAPTION_MAX;

/// The bot as handlers see it: HTML by default, sends paced to Telegram's limits (`pace.rs`).
pub use crate::pace::TgBot;
pub type HandlerResult = anyhow::Result<()>;

/// Shared dependencies, injected into every handler.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub llm: LlmClient,
    pub bot_username: String,
    pub data_dir: PathBuf,
    pub rules: tochen_platforms::RuleBook,
    /// Sandbox mode is on (`tochen_platforms::registry::sandbox_on`); when off, sandbox accounts are hidden.
    pub sandbox: bool,
    /// `TOCHEN_OPERATORS` and `TOCHEN_WORKSPACE_CREATION`.
    pub operator: tochen_config::OperatorConfig,
    /// The mail relay's sender, built once at start-up; `None` without a usable relay, and then `/destinations` and
    /// `/email` say what the operator sets.
    pub email: Option<tochen_delivery::email::EmailSender>,
    /// Local Bot API mode and the media limits table (`files.rs`).
    pub media: MediaSettings,
    /// `TOCHEN_PUBLIC_URL` without a trailing slash: where the web service (the HTTP API) answers.
    pub public_url: String,
    /// The Mini App's address when it is served over https (`miniapp::url`).
    pub miniapp_url: Option<reqwest::Url>,
}

impl App {
    /// Whether the Telegram user `telegram_id` operates this instance: one of `TOCHEN_OPERATORS`, or, when that
    /// is empty, the person who claimed the instance by being the first to `/start`.
    pub async fn is_operator(&self, telegram_id: i64) -> Result<bool, tochen_store::StoreError> {
        if !self.operator.operators.is_empty() {
            return Ok(self.operator.operators.contains(&telegram_id));
        }
        Ok(self.store.claimed_operator().await? == Some(telegram_id))
    }

    /// The workspace's accounts as the bot shows and offers them: sandbox accounts only while sandbox mode is on,
    /// so switching it off hides them.
    pub async fn accounts(
        &self,
        tenant: tochen_domain::ids::TenantId,
    ) -> Result<Vec<tochen_store::Account>, tochen_store::StoreError> {
        let all = self.store.accounts(tenant).await?;
        Ok(all.into_iter().filter(|a| self.sandbox || !a.auth_kind.is_sandbox()).collect())
    }
}

/// The configuration the connect flow and webhook destinations need (app ids, public URL, private webhooks), as
/// a dptree dependency.
#[derive(Clone)]
pub struct ConnectConfig(pub std::sync::Arc<tochen_config::Config>);

/// The caller's active workspace and their role in it.
#[derive(Clone, Debug)]
pub struct Active {
    pub tenant: Tenant,
    pub role: Role,
}

#[derive(Clone)]
pub struct Ctx {
    pub user: User,
    pub lang: &'static str,
    pub chat_id: ChatId,
    pub private: bool,
    pub dlg: ChatUserDialogue,
    pub active: Option<Active>,
    /// The message a pressed button sits on: answers edit it in place.
    pub screen: Option<MessageId>,
    /// The pressed message is a photo (a draft with its image): screens shown from it edit its caption.
    pub screen_photo: bool,
    pub callback_id: Option<String>,
    /// Set once the button press was answered: Telegram takes one answer per press, so later notices become
    /// messages.
    answered: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Ctx {
    /// Loads the context of an update; `None` for updates without a person (channel posts and the like).
    pub async fn load(app: &App, upd: &Update) -> Option<Ctx> {
        let (from, chat, screen, callback_id, screen_photo) = match &upd.kind {
            teloxide::types::UpdateKind::Message(m) => (m.from.clone()?, m.chat.clone(), None, None, false),
            teloxide::types::UpdateKind::CallbackQuery(q) => {
                let m = q.message.as_ref()?;
                let photo = q.regular_message().is_some_and(|m| m.photo().is_some());
                (q.from.clone(), m.chat().clone(), Some(m.id()), Some(q.id.0.clone()), photo)
            }
            _ => return None,
        };
        if from.is_bot {
            return None;
        }
        let identity = TelegramIdentity {
            telegram_id: from.id.0 as i64,
            username: from.username.clone(),
            first_name: from.first_name.clone(),
            last_name: from.last_name.clone(),
            language_code: from.language_code.clone(),
        };
        // One read for the person, their active workspace, their role in it and their dialogue in this chat (a
        // write only when they are new or their Telegram details changed).
        let (user, active, dialogue) = match app.store.person_in_chat(&identity, Some(chat.id.0)).await {
            Ok(p) => (p.user, p.active.map(|(tenant, role)| Active { tenant, role }), p.dialogue),
            Err(e) => {
                tracing::error!(error = %e, "cannot load the user of an update");
                return None;
            }
        };
        let lang = normalize(user.language_override.as_deref().or(user.language_code.as_deref()).unwrap_or("en"));
        // States saved while handling this update are bound to the workspace it acts in (see state.rs).
        let dlg = ChatUserDialogue::new(app.store.clone(), chat.id.0, from.id.0 as i64)
            .in_workspace(active.as_ref().map(|a: &Active| a.tenant.id))
            .with_stored(dialogue);
        Some(Ctx {
            user,
            lang,
            chat_id: chat.id,
            private: chat.is_private(),
            dlg,
            active,
            screen,
            screen_photo,
            callback_id,
            answered: Default::default(),
        })
    }

    /// This context with nothing to edit in place: what it shows arrives as a new message, and the pressed
    /// message (an approval card, say) stays as it is.
    pub fn in_new_message(&self) -> Ctx {
        Ctx { screen: None, screen_photo: false, ..self.clone() }
    }

    pub fn llm_ctx(&self, a: &Active) -> CallContext {
        CallContext { tenant: a.tenant.id, user: Some(self.user.id) }
    }

    /// Sends a new message; a blocked bot or a migrated group is dealt with here.
    pub async fn say(
        &self,
        bot: &TgBot,
        text: String,
        kb: Option<InlineKeyboardMarkup>,
    ) -> anyhow::Result<Option<Message>> {
        send_to(bot, &self.dlg, self.chat_id, text, kb).await
    }

    /// Shows a screen: edits the message of the pressed button in place, or sends a new one.
    /// A photo screen (a draft with its image) gets its caption edited while the text fits one (1024
    /// characters as Telegram counts them); a longer text arrives as a new message.
    pub async fn show(&self, bot: &TgBot, text: String, kb: Option<InlineKeyboardMarkup>) -> anyhow::Result<()> {
        if let Some(id) = self.screen.filter(|_| !self.screen_photo || fits(&text, CAPTION_MAX)) {
            if edit(bot, self.chat_id, id, &text, kb.clone(), self.screen_photo).await {
                return Ok(());
            }
        }
        self.say(bot, text, kb).await?;
        Ok(())
    }

    /// Edits the text of message `id` in this chat (a card or a screen the person is not pressing now); `false`
    /// when it could not be edited.
    pub async fn edit_message(&self, bot: &TgBot, id: MessageId, text: &str) -> bool {
        edit(bot, self.chat_id, id, text, None, false).await
    }

    /// Sends a photo with `caption` (shortened to a caption's limit).
    pub async fn send_photo(
        &self,
        bot: &TgBot,
        path: PathBuf,
        caption: &str,
        kb: Option<InlineKeyboardMarkup>,
    ) -> Result<Message, RequestError> {
        let mut req = bot.send_photo(self.chat_id, InputFile::file(path)).caption(fit(caption, CAPTION_MAX));
        if let Some(kb) = kb {
            req = req.reply_markup(kb);
        }
        req.await
    }

    /// Answers the pressed button (always, or the client spins); `text` pops up as a short notice.
    pub async fn answer(&self, bot: &TgBot, text: Option<String>) -> HandlerResult {
        if let Some(id) = &self.callback_id {
            if self.answered.swap(true, std::sync::atomic::Ordering::SeqCst) {
                if let Some(t) = text {
                    self.say(bot, t, None).await?;
                }
                return Ok(());
            }
            let mut req = bot.answer_callback_query(teloxide::types::CallbackQueryId(id.clone()));
            if let Some(t) = text {
                req = req.text(clip(&t, CALLBACK_ANSWER_MAX)).show_alert(true);
            }
            if let Err(e) = req.await {
                tracing::warn!(error = %e, "cannot answer a callback query");
            }
        }
        Ok(())
    }

    /// The active workspace, or a message saying how to get one.
    pub async fn workspace(&self, bot: &TgBot) -> anyhow::Result<Option<Active>> {
        if self.active.is_none() {
            self.answer(bot, None).await?;
            self.say(bot, t(self.lang, "bot.no_workspace"), None).await?;
        }
        Ok(self.active.clone())
    }

    /// The active workspace if the caller's role is at least `needed`; otherwise says why not.
    pub async fn require(&self, bot: &TgBot, needed: Role) -> anyhow::Result<Option<Active>> {
        let Some(a) = self.workspace(bot).await? else { return Ok(None) };
        if !a.role.at_least(needed) {
            let text = match needed {
                Role::Admin => t(self.lang, "bot.role.need_admin"),
                _ => t(self.lang, "bot.role.need_editor"),
            };
            if self.callback_id.is_some() {
                self.answer(bot, Some(text)).await?;
            } else {
                self.say(bot, text, None).await?;
            }
            return Ok(None);
        }
        Ok(Some(a))
    }

    /// Tells the person a button is out of date or not theirs to press, changing nothing.
    pub async fn refuse(&self, bot: &TgBot, text: String) -> HandlerResult {
        if self.callback_id.is_some() {
            self.answer(bot, Some(text)).await
        } else {
            self.say(bot, text, None).await.map(|_| ())
        }
    }
}

/// Edits message `id` (its caption when `caption`), shortened to Telegram's limit; "not modified" counts as
/// done. `false` when it could not be edited (gone, too old...), so the caller can send it anew.
async fn edit(
    bot: &TgBot,
    chat: ChatId,
    id: MessageId,
    text: &str,
    kb: Option<InlineKeyboardMarkup>,
    caption: bool,
) -> bool {
    let result = if caption {
        let mut req = bot.edit_message_caption(chat, id).caption(fit(text, CAPTION_MAX));
        if let Some(kb) = kb {
            req = req.reply_markup(kb);
        }
        req.await
    } else {
        let mut req = bot.edit_message_text(chat, id, fit(text, MESSAGE_MAX));
        if let Some(kb) = kb {
            req = req.reply_markup(kb);
        }
        req.await
    };
    match result {
        Ok(_) => true,
        Err(RequestError::Api(ApiError::MessageNotModified)) => true,
        Err(RequestError::Api(ApiError::Unknown(d))) if d.contains("not modified") => true,
        Err(e) => {
            tracing::warn!(error = %e, "cannot edit a message");
            false
        }
    }
}

/// Sends to a chat, following a group-to-supergroup migration once and giving up quietly on blocked chats.
/// The text is shortened to Telegram's limit.
pub async fn send_to(
    bot: &TgBot,
    dlg: &ChatUserDialogue,
    chat: ChatId,
    text: String,
    kb: Option<InlineKeyboardMarkup>,
) -> anyhow::Result<Option<Message>> {
    let text = fit(&text, MESSAGE_MAX).into_owned();
    let mut target = chat;
    for _ in 0..2 {
        let mut req = bot.send_message(target, text.clone());
        if let Some(kb) = kb.clone() {
            req = req.reply_markup(kb);
        }
        match req.await {
            Ok(m) => return Ok(Some(m)),
            Err(RequestError::MigrateToChatId(new)) => {
                tracing::info!(old = target.0, new = new.0, "group migrated to a supergroup");
                dlg_store(dlg).follow_chat_migration(target.0, new.0).await?;
                target = new;
            }
            Err(e) if tochen_telegram::closed::chat_is_closed(&e) => {
                tracing::info!(chat = target.0, "chat is closed to the bot; dropping its conversation");
                dlg.exit().await.ok();
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

fn dlg_store(dlg: &ChatUserDialogue) -> &Store {
    dlg.store()
}

/// How the bot reaches the files people send, and the media limits it checks posts against.
#[derive(Debug, Clone, Default)]
pub struct MediaSettings {
    /// `TELEGRAM_LOCAL_MODE`.
    pub local_mode: bool,
    /// `TELEGRAM_LOCAL_PATH_MAP`: (server prefix, local prefix).
    pub path_map: Option<(std::path::PathBuf, std::path::PathBuf)>,
    pub limits: tochen_platforms::media::MediaLimits,
}

impl MediaSettings {
    pub fn from_config(config: &tochen_config::Config) -> Self {
        MediaSettings {
            local_mode: config.telegram.local_mode,
            path_map: config.telegram.local_path_map.clone(),
            limits: tochen_platforms::media::MediaLimits::from_config(config),
        }
    }

    /// Where a path the local server answered with is on this machine.
    pub fn local_path(&self, server_path: &str) -> std::path::PathBuf {
        let p = std::path::Path::new(server_path);
        match &self.path_map {
            Some((from, to)) => match p.strip_prefix(from) {
                Ok(rest) => to.join(rest),
                Err(_) => p.to_path_buf(),
            },
            None => p.to_path_buf(),
        }
    }
}
