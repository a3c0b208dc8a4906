//! The simulated platform's permalinks: `/sandbox/{id}` shows a post published to a sandbox account as it would
//! look on its platform, with its simulated engagement so far, and `/sandbox/{id}/media/{n}` serves its media.
//! The id (a UUIDv7 with 74 random bits) is the only credential, like an unlisted post's link: anything else gets
//! a bare 404 that reveals nothing.

use crate::media::stream_file;
use crate::page::{browser_language, with_page_headers};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tochen_domain::clock::{now_ms, to_datetime};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_domain::{MediaKind, Platform};
use tochen_platforms::sandbox::simulate;
use tochen_store::SandboxPost;

fn not_found() -> Response {
    with_page_headers(StatusCode::NOT_FOUND.into_response())
}

async fn find(state: &AppState, id: &str) -> Option<SandboxPost> {
    if uuid::Uuid::parse_str(id).is_err() {
        return None;
    }
    match state.store.sandbox_post(id).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read a sandbox post");
            None
        }
    }
}

/// The caption as HTML: escaped, line breaks kept, hashtags and mentions drawn as the platforms draw them.
fn caption_html(caption: &str) -> String {
    caption
        .split('\n')
        .map(|line| {
            line.split(' ')
                .map(|word| {
                    let escaped = escape_html(word);
                    if (word.starts_with('#') || word.starts_with('@')) && word.chars().count() > 1 {
                        format!("<span class=\"tag\">{escaped}</span>")
                    } else {
                        escaped
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

fn style(platform: Platform) -> (&'static str, &'static str) {
    // (accent colour, page background), after each platform's own look.
    match platform {
        Platform::Facebook => ("#1877f2", "#f0f2f5"),
        Platform::Instagram => ("#e1306c", "#fafafa"),
        Platform::TikTok => ("#25f4ee", "#121212"),
    }
}

/// `GET /sandbox/{id}`.
pub async fn page(State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let Some(post) = find(&state, &id).await else { return not_found() };
    let lang = browser_language(&headers);
    let platform = post.platform.name();
    let media: String = post
        .media
        .iter()
        .enumerate()
        .map(|(n, m)| {
            // Relative to the page (`/sandbox/{id}`), so a public URL with a path prefix still works.
            let src = format!("{}/media/{n}", escape_html(&post.id));
            match m.kind {
                MediaKind::Image => format!("<img src=\"{src}\" alt=\"\">"),
                MediaKind::Video => format!("<video src=\"{src}\" controls playsinline></video>"),
            }
        })
        .collect();
    let external = state.store.account(post.tenant_id, post.account_id).await.map(|a| a.external_id).ok();
    let engagement = simulate::post(
        post.platform,
        &post.id,
        external.as_deref().unwrap_or(&post.account_id.to_db()),
        post.created_at,
        now_ms(),
    );
    let n = |v: Option<i64>| v.map_or_else(|| "—".to_owned(), |v| v.to_string());
    let metrics = tf(
        lang,
        "web.sandbox_metrics",
        &[
            ("views", &n(engagement.views)),
            ("likes", &n(engagement.likes)),
            ("comments", &n(engagement.comments)),
            ("shares", &n(engagement.shares)),
        ],
    );
    let (accent, background) = style(post.platform);
    let text_colour = if post.platform == Platform::TikTok { "#f1f1f1" } else { "#1c1e21" };
    let card = if post.platform == Platform::TikTok { "#1f1f1f" } else { "#ffffff" };
    let title = tf(lang, "web.sandbox_title", &[("platform", &platform)]);
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;background:{background};color:{text_colour};margin:0;\
         padding:1rem;line-height:1.45}}.banner{{max-width:34rem;margin:0 auto 1rem;padding:.6rem .9rem;\
         border-radius:.5rem;background:#fff3cd;color:#664d03}}.card{{max-width:34rem;margin:0 auto;\
         background:{card};border-radius:.75rem;padding:1rem;box-shadow:0 1px 3px rgba(0,0,0,.2)}}\
         .who{{font-weight:600}}.who small{{font-weight:400;opacity:.7;display:block}}\
         .tag{{color:{accent}}}.text{{margin:.8rem 0}}img,video{{width:100%;border-radius:.5rem;margin-top:.5rem}}\
         .metrics{{margin-top:.8rem;opacity:.8;font-size:.9rem}}</style></head>\
         <body><p class=\"banner\">{banner}</p><article class=\"card\">\
         <div class=\"who\">{account}<small>{platform} · {when}</small></div>\
         <div class=\"text\">{caption}</div>{media}<p class=\"metrics\">{metrics}</p></article></body></html>",
        banner = tf(lang, "web.sandbox_banner", &[("platform", &platform)]),
        account = escape_html(&post.account_name),
        when = to_datetime(post.created_at).format("%Y-%m-%d %H:%M UTC"),
        caption = caption_html(&post.caption),
    );
    // The page shows media of its own origin only.
    let mut r = with_page_headers((StatusCode::OK, Html(html)).into_response());
    r.headers_mut().insert(
        "content-security-policy",
        axum::http::HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    r
}

/// `GET /sandbox/{id}/media/{n}`.
pub async fn media(
    State(state): State<AppState>,
    Path((id, n)): Path<(String, usize)>,
    headers: HeaderMap,
) -> Response {
    let Some(post) = find(&state, &id).await else { return not_found() };
    let Some(m) = post.media.get(n) else { return not_found() };
    stream_file(&state.config.data_dir, &m.storage_path, &m.content_type, &headers).await
}

#[cfg(test)]
mod tests {
    use super::caption_html;

    #[test]
    fn the_caption_is_escaped_and_tags_are_drawn() {
        assert_eq!(
            caption_html("Fresh <b>bread</b> & more\n\n#bakery @ana #"),
            "Fresh &lt;b&gt;bread&lt;/b&gt; &amp; more<br><br><span class=\"tag\">#bakery</span> \
             <span class=\"tag\">@ana</span> #"
        );
    }
}
