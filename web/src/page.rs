//! The small localized HTML pages a browser sees after an OAuth round trip. Each names what happened and links
//! back to the bot; every interpolated value is escaped.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tochen_core::i18n::{t, tf};
use tochen_core::jobs::escape_html;

/// What the callback page reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Connected,
    Choose,
    Denied,
    Expired,
    Unknown,
    Replayed,
    Failed,
    NotConfigured,
}

impl Outcome {
    fn status(self) -> StatusCode {
        match self {
            Outcome::Connected | Outcome::Choose => StatusCode::OK,
            Outcome::Denied => StatusCode::OK,
            Outcome::Expired | Outcome::Unknown | Outcome::Replayed => StatusCode::BAD_REQUEST,
            Outcome::Failed => StatusCode::BAD_GATEWAY,
            Outcome::NotConfigured => StatusCode::NOT_FOUND,
        }
    }

    fn texts(self, lang: &str, detail: &str) -> (String, String) {
        match self {
            Outcome::Connected => {
                (t(lang, "web.connected_title"), tf(lang, "web.connected_body", &[("account", &detail)]))
            }
            Outcome::Choose => (t(lang, "web.choose_title"), t(lang, "web.choose_body")),
            Outcome::Denied => (t(lang, "web.denied_title"), t(lang, "web.denied_body")),
            Outcome::Expired => (t(lang, "web.expired_title"), t(lang, "web.expired_body")),
            Outcome::Unknown => (t(lang, "web.unknown_title"), t(lang, "web.unknown_body")),
            Outcome::Replayed => (t(lang, "web.replayed_title"), t(lang, "web.replayed_body")),
            Outcome::Failed => (t(lang, "web.failed_title"), tf(lang, "web.failed_body", &[("reason", &detail)])),
            Outcome::NotConfigured => (t(lang, "web.unknown_title"), t(lang, "web.unknown_body")),
        }
    }
}

/// Renders the page; `detail` (an account name or a platform message) is escaped here.
pub fn render(outcome: Outcome, lang: &str, detail: &str, bot_link: Option<&str>) -> Response {
    let (title, body) = outcome.texts(lang, &escape_html(detail));
    let link = bot_link.unwrap_or("https://t.me/");
    let back = t(lang, "web.back_to_bot");
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}\
         a{{display:inline-block;margin-top:1rem}}</style></head>\
         <body><h1>{title}</h1><p>{body}</p><a href=\"{link}\">{back}</a></body></html>",
        lang = escape_html(lang),
        link = escape_html(link),
    );
    let mut r = (outcome.status(), Html(html)).into_response();
    r.headers_mut().insert("cache-control", axum::http::HeaderValue::from_static("no-store"));
    r.headers_mut().insert("referrer-policy", axum::http::HeaderValue::from_static("no-referrer"));
    r
}

/// The first supported language of an `Accept-Language` header, English otherwise.
pub fn browser_language(h: &axum::http::HeaderMap) -> &'static str {
    let raw = h.get("accept-language").and_then(|v| v.to_str().ok()).unwrap_or("en");
    let first = raw.split(',').next().unwrap_or("en").split(';').next().unwrap_or("en").trim();
    tochen_core::i18n::normalize(first)
}
