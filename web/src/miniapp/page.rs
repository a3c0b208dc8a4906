//! The page itself and what it needs before drawing a screen: `GET /app` (the HTML, naming Telegram's script
//! from the configuration), `GET /app/static/{file}` (the script and the style sheet, embedded in the binary) and
//! `GET /app/api/me` (who is signed in, in which workspace and role, the workspace's zone, the platforms'
//! colours and every text of the page in the person's language, read from the locale files).

use super::{Member, Refusal};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::t;
use tochen_domain::{Platform, Role};

const HTML: &str = include_str!("static/app.html");
const JS: &str = include_str!("static/app.js");
const CSS: &str = include_str!("static/app.css");

/// The texts the page shows, by key in the locale files: its own (`miniapp.`) and the bot's where the bot
/// already says the same thing (status and platform names, weekday and month names, the calendar's marks).
const TEXTS: &[&str] = &[
    "miniapp.tab_calendar",
    "miniapp.tab_library",
    "miniapp.tab_stats",
    "miniapp.week",
    "miniapp.month",
    "miniapp.today",
    "miniapp.drag_hint",
    "miniapp.viewer_hint",
    "miniapp.moved",
    "miniapp.err_stale",
    "miniapp.err_not_movable",
    "miniapp.err_past",
    "miniapp.err_role",
    "miniapp.err_auth",
    "miniapp.err_generic",
    "miniapp.any_platform",
    "miniapp.search",
    "miniapp.more",
    "miniapp.no_posts",
    "miniapp.no_posts_period",
    "miniapp.platforms",
    "miniapp.tags",
    "miniapp.views",
    "miniapp.likes",
    "miniapp.comments",
    "miniapp.shares",
    "miniapp.saves",
    "miniapp.reach",
    "miniapp.measured",
    "miniapp.days",
    "miniapp.published",
    "miniapp.engagement",
    "miniapp.followers",
    "date.weekdays",
    "bot.calendar.months",
    "bot.calendar.mark_published",
    "bot.calendar.mark_scheduled",
    "bot.calendar.mark_pending",
    "bot.calendar.mark_failed",
    "bot.status.draft",
    "bot.status.pending_approval",
    "bot.status.scheduled",
    "bot.status.publishing",
    "bot.status.published",
    "bot.status.partially_published",
    "bot.status.failed",
    "bot.status.rejected",
    "bot.status.cancelled",
    "bot.library.status_any",
    "bot.library.status_drafts",
    "bot.library.status_waiting",
    "bot.library.status_scheduled",
    "bot.library.status_published",
    "bot.library.status_failed",
    "bot.library.no_numbers",
    "bot.history.open",
    "bot.platform.facebook",
    "bot.platform.instagram",
    "bot.platform.tiktok",
    "report.chart_title",
];

/// The texts of [`TEXTS`] in `lang`.
pub fn texts(lang: &str) -> Map<String, Value> {
    TEXTS.iter().map(|k| ((*k).to_owned(), Value::String(t(lang, k)))).collect()
}

/// A platform's colour as CSS (`#rrggbb`), the one the bot's calendar picture uses.
pub fn css_colour(p: Platform) -> String {
    let (r, g, b) = tochen_platforms::registry::module(p).colour();
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// `GET /app`: the page. It shows nothing until its script has signed in with `initData`.
pub async fn index(State(state): State<AppState>) -> Response {
    let sdk = state.config.web.miniapp.sdk_url.as_str();
    let html = HTML.replace("{{sdk}}", &escape_html(sdk));
    let mut resp = (StatusCode::OK, axum::response::Html(html)).into_response();
    let sdk_origin = state.config.web.miniapp.sdk_url.origin().ascii_serialization();
    let csp = format!(
        "default-src 'self'; script-src 'self' {sdk_origin}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; base-uri 'none'; form-action 'none'"
    );
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    resp
}

/// `GET /app/static/{file}`: the script and the style sheet.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        "app.css" => (CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// `GET /app/api/me`.
pub async fn me(member: Member) -> Result<Json<Value>, Refusal> {
    let platforms: Vec<Value> = Platform::ALL
        .iter()
        .map(|p| json!({"id": p.as_str(), "name": t(member.lang, &format!("bot.platform.{}", p.as_str())), "colour": css_colour(*p)}))
        .collect();
    Ok(Json(json!({
        "user": {"name": member.user.display_name()},
        "workspace": {"name": member.tenant.name},
        "role": member.role.as_str(),
        "can_move": member.role.at_least(Role::Editor),
        "lang": member.lang,
        "tz": member.tz().name(),
        "platforms": platforms,
        "texts": texts(member.lang),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_of_the_page_is_in_every_language() {
        for lang in tochen_domain::i18n::LANGUAGES {
            for (key, text) in texts(lang) {
                assert_ne!(text.as_str(), Some(key.as_str()), "{lang}: {key} is missing");
            }
        }
        assert_eq!(css_colour(Platform::TikTok).len(), 7);
    }
}
