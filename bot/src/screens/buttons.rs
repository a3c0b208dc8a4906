//! Buttons several screens offer, drawn here so that the screens need not import the flows they lead to.

use tochen_domain::i18n::t;
use tochen_domain::{Platform, PostId};
use tochen_store::Post;
use tochen_telegram::button::{Button, PostOpt, Published};

/// The button to a post's options (`post_options.rs`), when a chosen platform has options (TikTok's audience and
/// switches, Facebook's Reel or Page video).
pub fn options_button(lang: &str, post: &Post, platforms: &[Platform]) -> Option<(String, Button)> {
    platforms
        .iter()
        .any(|p| matches!(p, Platform::TikTok | Platform::Facebook))
        .then(|| (t(lang, "bot.options.button"), Button::PostOpt(PostOpt::Show(post.id))))
}

/// "Duplicate" for any post's screen: a new draft with its text, media and accounts (`published.rs`).
pub fn duplicate_button(lang: &str, post: PostId) -> (String, Button) {
    (t(lang, "bot.published.btn_duplicate"), Button::Published(Published::Duplicate(post)))
}
