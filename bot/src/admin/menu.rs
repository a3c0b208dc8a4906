//! `/admin` in the operators' own command menus: registered for each operator's private chat, so nobody else
//! sees it listed.

use crate::catalog::{menu, Menu};
use crate::ctx::TgBot;
use teloxide::prelude::*;
use teloxide::types::{BotCommandScope, Recipient};
use tochen_config::OperatorConfig;
use tochen_domain::i18n::LANGUAGES;
use tochen_store::Store;

/// Registers the private menu plus `/admin` in every language for each configured operator's chat (or, when none
/// is configured, the person who claimed the instance, if someone has). A failure is logged and skipped: the
/// command works whether it is listed or not.
pub async fn register_commands(bot: &TgBot, store: &Store, config: &OperatorConfig) {
    let mut operators = config.operators.clone();
    if operators.is_empty() {
        match store.claimed_operator().await {
            Ok(Some(id)) => operators.push(id),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the claimed operator"),
        }
    }
    for id in operators {
        for lang in LANGUAGES.iter().copied() {
            let mut commands = menu(lang, Menu::Private);
            commands.extend(menu(lang, Menu::Operator));
            let scope = BotCommandScope::Chat { chat_id: Recipient::Id(ChatId(id)) };
            let mut req = bot.set_my_commands(commands).scope(scope);
            if lang != "en" {
                req = req.language_code(lang);
            }
            if let Err(e) = req.await {
                tracing::warn!(error = %e, operator = id, lang, "cannot register the operator's commands");
                break;
            }
        }
    }
}
