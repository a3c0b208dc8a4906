//! The draft screen as a photo: once a draft has an image (generated or attached), the screen is that image with
//! the preview as its caption and the draft buttons under it, as people expect from a post preview.
//!
//! Telegram cannot turn a text message into a photo, so the first photo screen is sent anew and the old screen
//! deleted; later screens edit the photo's caption (`Ctx::show` does that for any screen shown from a photo).
//! A caption holds 1024 characters, a preview can be longer: then the photo keeps a short caption (the title)
//! and the full preview follows as a text message carrying the buttons, which later screens edit in place.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot, CAPTION_MAX};
use std::path::PathBuf;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardMarkup, InputFile, InputMedia, InputMediaPhoto, InputMediaVideo};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_domain::{MediaId, MediaKind, PostId};
use tochen_store::Post;
use tochen_telegram::text::{clip, fits};

/// Longest title in a short caption, far below the caption limit.
const TITLE_CHARS: usize = 200;

/// The file of the draft's first image, when it has one and the file is on disk.
async fn image_path(app: &App, a: &Active, post: &Post) -> anyhow::Result<Option<PathBuf>> {
    let media = app.store.post_media_kinds(a.tenant.id, post.id).await?;
    let Some((id, _)) = media.into_iter().find(|(_, kind)| kind == MediaKind::Image.as_str()) else {
        return Ok(None);
    };
    let path = app.data_dir.join(app.store.media(a.tenant.id, id).await?.info.storage_path);
    Ok(tokio::fs::try_exists(&path).await.unwrap_or(false).then_some(path))
}

fn short_caption(lang: &str, post: &Post) -> String {
    tf(lang, "bot.draft.title", &[("title", &escape_html(&clip(&post.title, TITLE_CHARS)))])
}

/// Shows a rendered draft screen with the draft's image; `new_image` says the image just changed, so a photo
/// already on screen is replaced rather than re-captioned.
pub async fn show(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    post: &Post,
    screen: (String, InlineKeyboardMarkup),
    new_image: bool,
) -> HandlerResult {
    show_as(bot, app, ctx, a, post, screen, new_image, short_caption(ctx.lang, post)).await
}

/// [`show`] with `short` as the photo's caption when the screen does not fit one (another screen than the draft's,
/// such as the library's card of a published post).
#[allow(clippy::too_many_arguments)]
pub async fn show_as(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    post: &Post,
    (text, buttons): (String, InlineKeyboardMarkup),
    new_image: bool,
    short: String,
) -> HandlerResult {
    let Some(path) = image_path(app, a, post).await? else { return ctx.show(bot, text, Some(buttons)).await };
    // Measured as Telegram counts a caption (visible text, UTF-16 units: an emoji can count twice).
    let fits = fits(&text, CAPTION_MAX);
    if !new_image && ctx.screen_photo {
        if fits {
            return ctx.show(bot, text, Some(buttons)).await;
        }
        ctx.show(bot, short, None).await?;
        return ctx.say(bot, text, Some(buttons)).await.map(|_| ());
    }
    if !new_image && !fits && ctx.screen.is_some() {
        // The long preview under its photo: edit it in place rather than piling up photos.
        return ctx.show(bot, text, Some(buttons)).await;
    }
    let (caption, kb) = if fits { (text.clone(), Some(buttons.clone())) } else { (short, None) };
    if let Err(e) = ctx.send_photo(bot, path, &caption, kb).await {
        tracing::warn!(error = %e, "cannot send the draft's photo; showing the draft as text");
        return ctx.show(bot, text, Some(buttons)).await;
    }
    if !fits {
        ctx.say(bot, text, Some(buttons)).await?;
    }
    if let Some(old) = ctx.screen {
        delete(bot, ctx.chat_id, old).await;
    }
    Ok(())
}

/// Deletes a message the bot no longer needs; a message too old to delete (48 h) simply stays.
pub async fn delete(bot: &TgBot, chat: ChatId, id: teloxide::types::MessageId) {
    if let Err(e) = bot.delete_message(chat, id).await {
        tracing::info!(error = %e, "cannot delete an old screen; leaving it");
    }
}

/// Most items Telegram puts in one album message.
const ALBUM_MAX: usize = 10;
/// Largest photo and video a bot may upload to the cloud Bot API, and any file to a self-hosted one in its local
/// mode.
const UPLOAD_PHOTO_MAX: i64 = 10 * 1024 * 1024;
const UPLOAD_VIDEO_MAX: i64 = 50 * 1024 * 1024;
const LOCAL_UPLOAD_MAX: i64 = 2000 * 1024 * 1024;

/// Shows the screen of post `id`: with one image, as that photo (see [`show`]); with several media, the album is
/// sent as an album preview first (when the media changed, or there is no screen to edit) and the screen follows
/// as text with the buttons.
pub async fn show_post(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, id: PostId, new_media: bool) -> HandlerResult {
    let post = app.store.post(a.tenant.id, id).await?;
    let rendered = super::draft::render(app, a, ctx.lang, &post).await?;
    let media = app.store.post_media_kinds(a.tenant.id, id).await?;
    if media.len() < 2 {
        return show(bot, app, ctx, a, &post, rendered, new_media).await;
    }
    if !new_media && ctx.screen.is_some() && !ctx.screen_photo {
        return ctx.show(bot, rendered.0, Some(rendered.1)).await;
    }
    send_album(bot, app, ctx, a, &media).await;
    ctx.say(bot, rendered.0, Some(rendered.1)).await?;
    if let Some(old) = ctx.screen {
        delete(bot, ctx.chat_id, old).await;
    }
    Ok(())
}

/// Sends the post's media as an album preview (at most ten, those a bot may upload); a failure is logged and the
/// screen goes on without it.
async fn send_album(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, media: &[(MediaId, String)]) {
    let video_max = if app.media.local_mode { LOCAL_UPLOAD_MAX } else { UPLOAD_VIDEO_MAX };
    let mut items = Vec::new();
    for (id, _) in media.iter().take(ALBUM_MAX) {
        let Ok(m) = app.store.media(a.tenant.id, *id).await else { continue };
        let path = app.data_dir.join(&m.info.storage_path);
        let file = InputFile::file(path);
        match m.info.kind {
            MediaKind::Image if m.info.size_bytes <= UPLOAD_PHOTO_MAX => {
                items.push(InputMedia::Photo(InputMediaPhoto::new(file)))
            }
            MediaKind::Video if m.info.size_bytes <= video_max => {
                items.push(InputMedia::Video(InputMediaVideo::new(file)))
            }
            _ => {}
        }
    }
    if items.len() < 2 {
        return;
    }
    if let Err(e) = bot.send_media_group(ctx.chat_id, items).await {
        tracing::warn!(error = %e, "cannot send the album preview; showing the post as text");
    }
}
