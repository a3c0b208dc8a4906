//! The chat's pick after an ad sign-in was confirmed in the browser: one button per ad account found (ticked ones
//! marked) and "Keep". The web service sends it as a `notify` job; the bot redraws it on every tick.

use tochen_domain::ads::AdPlatform;
use tochen_domain::i18n::{t, tf};
use tochen_domain::jobs::{NotifyButton, NotifyPayload};
use tochen_platforms::ads::connect::{label, Found};

/// How pages and the chat name an ad platform.
pub fn platform_label(p: AdPlatform) -> &'static str {
    match p {
        AdPlatform::Meta => "Meta Ads",
        AdPlatform::TikTok => "TikTok Ads",
    }
}

/// The pick's text and its buttons as (label, callback data) rows.
pub fn pick(lang: &str, found: &Found) -> (String, Vec<(String, String)>) {
    let labels: Vec<String> = found.candidates.iter().map(label).collect();
    let rows =
        tochen_telegram::button::ads_pick_rows(&found.sign_in.id, &labels, &found.sign_in.picked, &t(lang, "ads.keep"));
    let text = tf(
        lang,
        "ads.pick",
        &[("platform", &platform_label(found.sign_in.platform)), ("count", &found.candidates.len())],
    );
    (text, rows)
}

/// The pick as a message to the chat the sign-in started in.
pub fn pick_payload(lang: &str, found: &Found) -> NotifyPayload {
    let (text, rows) = pick(lang, found);
    let mut payload = NotifyPayload::text(found.sign_in.chat_id, text);
    payload.buttons = rows
        .into_iter()
        .map(|(text, data)| vec![NotifyButton { text, callback_data: Some(data), url: None }])
        .collect();
    payload
}
