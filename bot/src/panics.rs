//! The panic boundary around the whole handler tree.
//!
//! teloxide runs each chat's updates on a worker task. A handler that panics kills that worker; the next update
//! of the same chat then panics the dispatcher itself ("TX is dead") and the bot stops. Whatever a bug or an
//! unforeseen input does inside a handler, it must cost one answer, not the service: the boundary runs the tree
//! under `catch_unwind`, logs the panic with the update id, tells the person (or answers the pressed button)
//! that something went wrong and nothing was changed, and returns an error, so the dispatcher goes on and, in
//! webhook mode, the stored update is marked done instead of being replayed into the same panic.

use crate::ctx::{App, TgBot};
use futures::FutureExt;
use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use teloxide::dispatching::{DpHandlerDescription, UpdateHandler};
use teloxide::dptree::{self, di::DependencyMap, HandlerDescription, HandlerSignature};
use teloxide::prelude::*;
use teloxide::types::{CallbackQueryId, UpdateKind, User};
use tochen_domain::i18n::{normalize, t};

/// `tree`, with panics caught and answered.
pub fn boundary(tree: UpdateHandler<anyhow::Error>) -> UpdateHandler<anyhow::Error> {
    let guard = dptree::from_fn_with_description(
        DpHandlerDescription::entry(),
        |deps: DependencyMap, cont| async move {
            let update = deps.try_get::<Update>();
            let bot = deps.try_get::<TgBot>();
            let app = deps.try_get::<App>();
            match AssertUnwindSafe(cont(deps)).catch_unwind().await {
                Ok(flow) => flow,
                Err(panic) => {
                    let message = panic_message(panic.as_ref());
                    let update_id = update.as_ref().map(|u| u.id.0);
                    tracing::error!(update_id, panic = %message, "a bot handler panicked; the update was answered and the bot goes on");
                    if let (Some(update), Some(bot)) = (update.as_deref(), bot.as_deref()) {
                        tell(bot, app.as_deref(), update).await;
                    }
                    ControlFlow::Break(Err(anyhow::anyhow!("a handler panicked on update {update_id:?}: {message}")))
                }
            }
        },
        HandlerSignature::Entry,
    );
    guard.chain(tree)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// The person's language as `Ctx` reads it: their choice in the bot when the store answers, else their Telegram
/// client's (the store may not have seen this update: the panic can come before the context is loaded).
async fn language(app: Option<&App>, from: &User) -> &'static str {
    let id = i64::try_from(from.id.0).unwrap_or_default();
    let stored = match app {
        Some(app) => app.store.user_by_telegram_id(id).await.ok().flatten(),
        None => None,
    };
    let (chosen, known) = stored.map(|u| (u.language_override, u.language_code)).unwrap_or_default();
    normalize(chosen.or(from.language_code.clone()).or(known).as_deref().unwrap_or("en"))
}

/// Answers the update that panicked: the pressed button's notice, or a message in the chat. Failures are only
/// logged: the boundary itself must not fail.
async fn tell(bot: &TgBot, app: Option<&App>, update: &Update) {
    match &update.kind {
        UpdateKind::Message(m) => {
            let Some(from) = m.from.as_ref().filter(|u| !u.is_bot) else { return };
            let text = t(language(app, from).await, "bot.crashed");
            if let Err(e) = bot.send_message(m.chat.id, text).await {
                tracing::warn!(error = %e, "cannot tell the chat that its update failed");
            }
        }
        UpdateKind::CallbackQuery(q) => {
            let text = t(language(app, &q.from).await, "bot.crashed");
            let answered =
                bot.answer_callback_query(CallbackQueryId(q.id.0.clone())).text(text.clone()).show_alert(true).await;
            // The handler may have answered the press before it panicked; then the chat gets a message.
            if answered.is_err() {
                if let Some(chat) = q.message.as_ref().map(|m| m.chat().id) {
                    if let Err(e) = bot.send_message(chat, text).await {
                        tracing::warn!(error = %e, "cannot tell the chat that its button press failed");
                    }
                }
            }
        }
        _ => {}
    }
}
