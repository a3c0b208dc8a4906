//! The small localized HTML pages a browser sees after an OAuth round trip: the confirmation form ("connect these
//! Pages to this workspace, requested by this admin?") and the outcome pages. Each names what happened and links
//! back to the bot; every interpolated value is escaped. None may be cached, framed or leak a referrer.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};

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
    /// The person cancelled on the confirmation page.
    Cancelled,
    /// A confirmation form that is unknown, expired, or was already used.
    ConfirmExpired,
}

impl Outcome {
    fn status(self) -> StatusCode {
        match self {
            Outcome::Connected | Outcome::Choose => StatusCode::OK,
            Outcome::Denied | Outcome::Cancelled => StatusCode::OK,
            Outcome::Expired | Outcome::Unknown | Outcome::Replayed | Outcome::ConfirmExpired => {
                StatusCode::BAD_REQUEST
            }
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
            Outcome::Cancelled => (t(lang, "web.cancelled_title"), t(lang, "web.cancelled_body")),
            Outcome::ConfirmExpired => (t(lang, "web.confirm_expired_title"), t(lang, "web.confirm_expired_body")),
        }
    }
}

/// What the confirmation page asks about. Plain text: it is escaped when rendered.
#[derive(Debug, Clone)]
pub struct ConfirmPage<'a> {
    pub lang: &'a str,
    /// The platform's name ("Facebook").
    pub platform: &'a str,
    /// The accounts the sign-in found.
    pub accounts: &'a [String],
    pub workspace: &'a str,
    /// The Telegram admin who asked for the link, e.g. `Ana Lima (@ana)`.
    pub requester: &'a str,
    /// Where the form posts.
    pub action: &'a str,
    /// The form's one-time token.
    pub token: &'a str,
}

/// Renders the confirmation form: two buttons posting the one-time token, "confirm" or "cancel".
pub fn render_confirm(p: &ConfirmPage<'_>) -> Response {
    let lang = p.lang;
    let accounts = p.accounts.iter().map(|a| format!("<li>{}</li>", escape_html(a))).collect::<String>();
    let title = tf(lang, "web.confirm_title", &[("workspace", &escape_html(p.workspace))]);
    let body = tf(
        lang,
        "web.confirm_body",
        &[
            ("platform", &escape_html(p.platform)),
            ("workspace", &escape_html(p.workspace)),
            ("requester", &escape_html(p.requester)),
        ],
    );
    let html = format!(
        "<!doctype html><html lang=\"{lang_attr}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;\
         line-height:1.5}}button{{font-size:1rem;padding:.5rem 1rem;margin:1rem .5rem 0 0}}</style></head>\
         <body><h1>{title}</h1><p>{body}</p><ul>{accounts}</ul><p>{warning}</p>\
         <form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <button type=\"submit\" name=\"action\" value=\"confirm\">{confirm}</button>\
         <button type=\"submit\" name=\"action\" value=\"cancel\">{cancel}</button></form></body></html>",
        lang_attr = escape_html(lang),
        warning = t(lang, "web.confirm_warning"),
        action = escape_html(p.action),
        token = escape_html(p.token),
        confirm = t(lang, "web.confirm_button"),
        cancel = t(lang, "web.cancel_button"),
    );
    with_page_headers((StatusCode::OK, Html(html)).into_response())
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
    with_page_headers((outcome.status(), Html(html)).into_response())
}

/// Never cached (the confirmation form holds a one-time token), no referrer, never framed (no clickjacking of the
/// confirm button), and no script at all.
pub fn with_page_headers(mut r: Response) -> Response {
    use axum::http::HeaderValue;
    let h = r.headers_mut();
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    r
}

/// The first supported language of an `Accept-Language` header, English otherwise.
pub fn browser_language(h: &axum::http::HeaderMap) -> &'static str {
    let raw = h.get("accept-language").and_then(|v| v.to_str().ok()).unwrap_or("en");
    let first = raw.split(',').next().unwrap_or("en").split(';').next().unwrap_or("en").trim();
    tochen_domain::i18n::normalize(first)
}
