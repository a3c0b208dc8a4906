//! Composing a post by hand: `/new` (and the "New post" buttons) waits for one message (text, a photo, a video,
//! a file, an album or a forward) and makes it a draft with the same screen, checks, approval and scheduling as a
//! draft the LLM wrote. `/new <link>` imports the linked image or video. Nothing here calls the LLM: a team can
//! post with the LLM down, unconfigured or over quota, and the LLM's help stays one tap away on the draft screen.
//!
//! A Telegram album (media group) arrives as one message per item. The first item makes the draft and records
//! the group (`Store::claim_album`); later items of the group join that draft wherever the conversation is. The
//! screen is drawn once the album has stopped arriving ([`ALBUM_QUIET`] after its last item), as an album preview
//! and the draft screen under it.

use crate::ctx::{Active, App, ConnectConfig, Ctx, HandlerResult, TgBot};
use crate::draft::ask;
use crate::edits::apply;
use crate::screens::llm::draft_rules;
use crate::screens::photo;
use crate::state::State;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::types::FileId;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{MediaKind, PostId, Role};
use tochen_llm::store_media_bytes;
use tochen_store::{Media, Post, PostEdit};
use tochen_telegram::text::clip;

/// How long after an album's last item its screen is drawn.
pub const ALBUM_QUIET: Duration = Duration::from_millis(1200);
/// Longest title taken from the first line of the text.
const TITLE_CHARS: usize = 60;
/// How long a linked file may take to arrive.
const IMPORT_TIMEOUT: Duration = Duration::from_secs(120);

/// A media file a message carries.
#[derive(Debug, Clone)]
pub struct MessageMedia {
    pub file_id: FileId,
    pub size: u32,
    pub kind: MediaKind,
    pub content_type: String,
}

/// The photo (its largest size), video, or image or video file a message carries.
pub fn message_media(msg: &Message) -> Option<MessageMedia> {
    if let Some(p) = msg.photo().and_then(|p| p.iter().max_by_key(|s| s.width * s.height)) {
        return Some(MessageMedia {
            file_id: p.file.id.clone(),
            size: p.file.size,
            kind: MediaKind::Image,
            content_type: "image/jpeg".into(),
        });
    }
    if let Some(v) = msg.video() {
        let content_type = v.mime_type.as_ref().map(|m| m.to_string()).unwrap_or_else(|| "video/mp4".into());
        return Some(MessageMedia {
            file_id: v.file.id.clone(),
            size: v.file.size,
            kind: MediaKind::Video,
            content_type,
        });
    }
    // A photo or video sent "as a file" keeps its quality: taken as what its type says.
    let d = msg.document()?;
    let mime = d.mime_type.as_ref()?.to_string();
    let kind = if mime.starts_with("image/") {
        MediaKind::Image
    } else if mime.starts_with("video/") {
        MediaKind::Video
    } else {
        return None;
    };
    Some(MessageMedia { file_id: d.file.id.clone(), size: d.file.size, kind, content_type: mime })
}

/// Why a file could not be taken, as the person reads it.
#[derive(Debug)]
pub enum MediaRefusal {
    /// A Telegram file that could not be taken (too big for the cloud Bot API, unreadable...).
    File(crate::files::FileError),
    /// A linked file that could not be fetched; the reason names the link and what to do.
    Import(String),
    /// A linked file that is neither an image nor a video this product handles.
    NotMedia,
}

impl MediaRefusal {
    pub fn text(&self, lang: &str) -> String {
        match self {
            MediaRefusal::File(e) => e.text(lang),
            MediaRefusal::Import(why) => tf(lang, "bot.compose.import_failed", &[("why", &escape_html(why))]),
            MediaRefusal::NotMedia => t(lang, "bot.compose.not_media"),
        }
    }
}

/// Downloads a message's file from Telegram (from the self-hosted Bot API's disk in its local mode) and stores it
/// in the workspace's media (`files::store_telegram_file`).
pub async fn store_message_media(
    bot: &TgBot,
    app: &App,
    a: &Active,
    item: &MessageMedia,
) -> anyhow::Result<Result<Media, MediaRefusal>> {
    let stored = crate::files::store_telegram_file(
        bot,
        app,
        a.tenant.id,
        &item.file_id.0,
        item.size,
        item.kind,
        &item.content_type,
    )
    .await;
    Ok(stored.map_err(MediaRefusal::File))
}

/// Splits typed text into the body and the hashtags of its last lines, when those lines hold hashtags only:
/// `"Fresh bread\n\n#bakery #morning"` is `("Fresh bread", Some(["bakery", "morning"]))`. Text without such lines
/// keeps its hashtags inline and gives `None`.
pub fn split_hashtags(text: &str) -> (String, Option<Vec<String>>) {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let is_tag_line = |l: &str| {
        let words: Vec<&str> = l.split_whitespace().collect();
        !words.is_empty() && words.iter().all(|w| w.len() > 1 && w.starts_with('#') && !w[1..].contains('#'))
    };
    let keep = lines.iter().rposition(|l| !l.trim().is_empty() && !is_tag_line(l)).map_or(0, |i| i + 1);
    if keep == lines.len() {
        return (text.trim().to_owned(), None);
    }
    let tags = lines[keep..].iter().flat_map(|l| l.split_whitespace()).map(|w| w[1..].to_owned()).collect();
    (lines[..keep].join("\n").trim().to_owned(), Some(tags))
}

/// `/new`, or `/new <link to a file>`.
pub async fn new_post(bot: TgBot, app: App, ctx: Ctx, arg: String, cfg: ConnectConfig) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let link = arg.trim();
    if link.is_empty() {
        return ask(&bot, &ctx, State::Compose, t(ctx.lang, "bot.compose.ask")).await;
    }
    ctx.dlg.exit().await?;
    let fetched = tochen_delivery::fetch::fetch_file(
        link,
        cfg.0.webhook_allow_private,
        cfg.0.media_import_max_bytes,
        IMPORT_TIMEOUT,
    )
    .await;
    let fetched = match fetched {
        Ok(f) => f,
        Err(e) => return ctx.say(&bot, MediaRefusal::Import(e.to_string()).text(ctx.lang), None).await.map(|_| ()),
    };
    let Some((kind, content_type)) = sniff(&fetched.bytes) else {
        return ctx.say(&bot, MediaRefusal::NotMedia.text(ctx.lang), None).await.map(|_| ());
    };
    let media =
        store_media_bytes(&app.store, &app.data_dir, a.tenant.id, &fetched.bytes, kind, content_type, "url").await?;
    let Some(post) = create(&bot, &app, &ctx, &a, "").await? else { return Ok(()) };
    if !apply(&bot, &app, &ctx, &a, &post, PostEdit::AddMedia(vec![media.id])).await? {
        return Ok(());
    }
    photo::show_post(&bot, &app, &ctx, &a, post.id, true).await
}

/// What a file is, from its first bytes (never from a name or a header a server sent).
pub fn sniff(bytes: &[u8]) -> Option<(MediaKind, &'static str)> {
    let head = |n: usize| bytes.get(..n);
    if head(3) == Some(&[0xFF, 0xD8, 0xFF]) {
        return Some((MediaKind::Image, "image/jpeg"));
    }
    if head(8) == Some(b"\x89PNG\r\n\x1a\n") {
        return Some((MediaKind::Image, "image/png"));
    }
    if head(4) == Some(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Some((MediaKind::Image, "image/webp"));
    }
    match bytes.get(4..8) {
        Some(b"ftyp") if bytes.get(8..10) == Some(b"qt") => Some((MediaKind::Video, "video/quicktime")),
        Some(b"ftyp") => Some((MediaKind::Video, "video/mp4")),
        Some(b"moov" | b"mdat" | b"wide") => Some((MediaKind::Video, "video/quicktime")),
        _ => None,
    }
}

/// Makes a draft written by hand: titled by the text's first line, with a version following the main text for
/// each platform the workspace posts to. `None` after telling the person why not.
async fn create(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, text: &str) -> anyhow::Result<Option<Post>> {
    let (body, hashtags) = split_hashtags(text);
    let first = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    let title =
        if first.is_empty() { t(ctx.lang, "bot.compose.untitled") } else { clip(first, TITLE_CHARS).into_owned() };
    let post = app.store.create_draft(a.tenant.id, Some(ctx.user.id), Some(ctx.chat_id.0), &title, "").await?;
    let platforms = draft_rules(app, a).await?.into_iter().map(|r| r.platform).collect();
    if !apply(bot, app, ctx, a, &post, PostEdit::MainText { body, hashtags, platforms }).await? {
        return Ok(None);
    }
    app.store
        .audit(
            a.tenant.id,
            Some(ctx.user.id),
            "post.drafted",
            "post",
            Some(&post.id.to_db()),
            serde_json::json!({"by_hand": true}),
        )
        .await?;
    Ok(Some(app.store.post(a.tenant.id, post.id).await?))
}

/// The message `/new` waits for.
pub async fn got_message(bot: TgBot, app: App, ctx: Ctx, msg: Message) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let text = msg.text().or(msg.caption()).unwrap_or_default().trim().to_owned();
    let item = message_media(&msg);
    if text.is_empty() && item.is_none() {
        return ctx.say(&bot, t(ctx.lang, "bot.compose.nothing"), None).await.map(|_| ());
    }
    // The file first: a refused file makes no draft, and the person may send another.
    let media = match &item {
        Some(item) => match store_message_media(&bot, &app, &a, item).await? {
            Ok(m) => Some(m),
            Err(why) => return ctx.say(&bot, why.text(ctx.lang), None).await.map(|_| ()),
        },
        None => None,
    };
    let Some(post) = create(&bot, &app, &ctx, &a, &text).await? else { return Ok(()) };
    ctx.dlg.exit().await?;
    let Some(media) = media else { return photo::show_post(&bot, &app, &ctx, &a, post.id, true).await };
    if !apply(&bot, &app, &ctx, &a, &post, PostEdit::AddMedia(vec![media.id])).await? {
        return Ok(());
    }
    match msg.media_group_id() {
        Some(group) => {
            let album = app.store.claim_album(a.tenant.id, ctx.chat_id.0, &group.0, post.id).await?;
            settle_album(bot, app, ctx, a, album)
        }
        None => photo::show_post(&bot, &app, &ctx, &a, post.id, true).await,
    }
}

/// The draft a later item of an album joins, when the message belongs to an album being composed in this chat.
pub async fn album_of(app: App, ctx: Ctx, msg: Message) -> Option<PostId> {
    let group = msg.media_group_id()?;
    let a = ctx.active.as_ref()?;
    app.store.album_post(a.tenant.id, ctx.chat_id.0, &group.0).await.ok().flatten()
}

/// A later item of an album: added to its draft.
pub async fn album_item(bot: TgBot, app: App, ctx: Ctx, msg: Message, post: PostId) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some(item) = message_media(&msg) else { return Ok(()) };
    let media = match store_message_media(&bot, &app, &a, &item).await? {
        Ok(m) => m,
        Err(why) => return ctx.say(&bot, why.text(ctx.lang), None).await.map(|_| ()),
    };
    let current = app.store.post(a.tenant.id, post).await?;
    if !apply(&bot, &app, &ctx, &a, &current, PostEdit::AddMedia(vec![media.id])).await? {
        return Ok(());
    }
    // The caption of an album is on whichever item carried it; it becomes the text if there is none yet.
    let caption = msg.caption().unwrap_or_default().trim();
    let current = app.store.post(a.tenant.id, post).await?;
    if !caption.is_empty() && current.body.is_empty() {
        let (body, hashtags) = split_hashtags(caption);
        apply(&bot, &app, &ctx, &a, &current, PostEdit::MainText { body, hashtags, platforms: Vec::new() }).await?;
    }
    settle_album(bot, app, ctx, a, post)
}

/// The latest item seen per album draft: only the wait started by the last item draws the screen.
fn album_generations() -> &'static Mutex<HashMap<PostId, u64>> {
    static GENERATIONS: std::sync::OnceLock<Mutex<HashMap<PostId, u64>>> = std::sync::OnceLock::new();
    GENERATIONS.get_or_init(Default::default)
}

/// Draws the album draft's screen once no item has arrived for [`ALBUM_QUIET`].
pub fn settle_album(bot: TgBot, app: App, ctx: Ctx, a: Active, post: PostId) -> HandlerResult {
    let generation = {
        let mut g = album_generations().lock().unwrap_or_else(|e| e.into_inner());
        let n = g.entry(post).or_insert(0);
        *n += 1;
        *n
    };
    tokio::spawn(async move {
        tokio::time::sleep(ALBUM_QUIET).await;
        let latest = {
            let mut g = album_generations().lock().unwrap_or_else(|e| e.into_inner());
            let latest = g.get(&post).copied() == Some(generation);
            if latest {
                g.remove(&post);
            }
            latest
        };
        if latest {
            if let Err(e) = photo::show_post(&bot, &app, &ctx.in_new_message(), &a, post, true).await {
                tracing::warn!(error = %e, post = %post, "cannot show the album's draft");
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_hashtag_lines_become_hashtags() {
        assert_eq!(
            split_hashtags("Fresh bread\n\n#bakery #morning\n#new"),
            ("Fresh bread".into(), Some(vec!["bakery".into(), "morning".into(), "new".into()]))
        );
        assert_eq!(split_hashtags("Fresh #bread today"), ("Fresh #bread today".into(), None));
        assert_eq!(split_hashtags("#only #tags"), (String::new(), Some(vec!["only".into(), "tags".into()])));
        assert_eq!(split_hashtags("Price: # 5"), ("Price: # 5".into(), None));
    }

    #[test]
    fn files_are_known_by_their_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).map(|x| x.1), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").map(|x| x.1), Some("image/png"));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42").map(|x| x.1), Some("video/mp4"));
        assert_eq!(sniff(b"\0\0\0\x14ftypqt  ").map(|x| x.1), Some("video/quicktime"));
        assert_eq!(sniff(b"<html>not a file</html>"), None);
    }
}
