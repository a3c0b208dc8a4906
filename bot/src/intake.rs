//! What arrives in a message to become part of a post, shared by composing (`compose.rs`) and the draft's own
//! prompts (`draft.rs`, `versions.rs`): typed text split into body and hashtags, the media file a message carries
//! (downloaded through `files.rs`), and the album whose screen is drawn once it has stopped arriving.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::screens::draft::{load_for_change, EDITABLE};
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
use tochen_store::{Media, Post};
use tochen_telegram::text::clip;

/// How long after an album's last item its screen is drawn.
pub const ALBUM_QUIET: Duration = Duration::from_millis(1200);

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

/// Longest current text quoted under a request for a new one (so it can be copied and changed).
const QUOTE_CHARS: usize = 3000;

/// The current text under a request for a new one, as a block a tap copies.
pub fn quote(text: &str) -> String {
    if text.trim().is_empty() {
        String::new()
    } else {
        format!("\n\n<code>{}</code>", escape_html(&clip(text, QUOTE_CHARS)))
    }
}

/// Asks for the next message: the conversation waits in `state`.
pub async fn ask(bot: &TgBot, ctx: &Ctx, state: State, text: String) -> HandlerResult {
    ctx.answer(bot, None).await?;
    ctx.dlg.update(state).await?;
    ctx.say(bot, text, None).await?;
    Ok(())
}

/// Checks that a text-input state still points at the same post version.
pub async fn current(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    id: PostId,
    version: i64,
) -> anyhow::Result<Option<(Active, Post)>> {
    let Some(a) = ctx.require(bot, Role::Editor).await? else { return Ok(None) };
    let post = load_for_change(bot, app, ctx, &a, id, version, EDITABLE).await?;
    if post.is_none() {
        ctx.dlg.exit().await?;
    }
    Ok(post.map(|p| (a, p)))
}

/// The text of a message that answers a request for text; `None` after asking again.
pub async fn text_answer(bot: &TgBot, ctx: &Ctx, msg: &Message) -> anyhow::Result<Option<String>> {
    let text = msg.text().or(msg.caption()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if text.is_none() {
        ctx.say(bot, t(ctx.lang, "bot.draft.text_needed"), None).await?;
    }
    Ok(text)
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
}
