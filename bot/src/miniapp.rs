//! Opening the Mini App (`/app` on the web service, docs/miniapp.md) from the bot: the chat menu button for every
//! private chat, set at start-up, and an "Open in the app" button under `/calendar`, `/library` and `/stats` in
//! private chats (Telegram refuses Web App buttons in groups). Both only when the public URL is https, as Telegram
//! requires.

use crate::ctx::{App, Ctx, TgBot};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MenuButton, WebAppInfo};
use tochen_domain::i18n::t;

/// The Mini App's address, `{TOCHEN_PUBLIC_URL}/app`; `None` unless the public URL is https.
pub fn url(config: &tochen_config::Config) -> Option<reqwest::Url> {
    let base = &config.web.public_url;
    if base.scheme() != "https" {
        return None;
    }
    let mut u = base.clone();
    let path = format!("{}/app", u.path().trim_end_matches('/'));
    u.set_path(&path);
    Some(u)
}

/// `kb` with a last row opening the Mini App at `screen` (`calendar`, `library`, `stats`), in private chats when
/// the app is served.
pub fn with_button(kb: InlineKeyboardMarkup, app: &App, ctx: &Ctx, screen: &str) -> InlineKeyboardMarkup {
    match (&app.miniapp_url, ctx.private) {
        (Some(base), true) => {
            let mut url = base.clone();
            url.set_query(Some(&format!("screen={screen}")));
            let button = InlineKeyboardButton::web_app(t(ctx.lang, "miniapp.open_button"), WebAppInfo { url });
            kb.append_row(vec![button])
        }
        _ => kb,
    }
}

/// Makes the menu button of every private chat open the Mini App (`setChatMenuButton` without a chat).
pub async fn set_menu_button(bot: &TgBot, url: &reqwest::Url) {
    let button = MenuButton::WebApp { text: t("en", "miniapp.menu_button"), web_app: WebAppInfo { url: url.clone() } };
    if let Err(e) = bot.set_chat_menu_button().menu_button(button).await {
        tracing::warn!(error = %e, "cannot set the Mini App as the menu button");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(public: &str) -> tochen_config::Config {
        let vars: HashMap<String, String> =
            [("TOCHEN_PUBLIC_URL", public)].into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        tochen_config::Config::from_source(&vars).unwrap()
    }

    #[test]
    fn the_app_is_offered_only_at_an_https_address() {
        assert_eq!(url(&config("https://tochen.example")).unwrap().as_str(), "https://tochen.example/app");
        assert_eq!(url(&config("https://x.example/tochen/")).unwrap().as_str(), "https://x.example/tochen/app");
        assert_eq!(url(&config("http://localhost:8080")), None);
    }
}
