//! Composing a post by hand: `/new` (and the "New post" buttons) waits for one message (text, a photo, a video,
//! a file, an album or a forward) and makes it a draft with the same screen, checks, approval and scheduling as a
//! draft the LLM wrote. `/new <link>` imports the linked image or video. Nothing here calls the LLM: a team can
//! post with the LLM down, unconfigured or over quota, and the LLM's help stays one tap away on the draft screen.
//!
//! A Telegram album (media group) arrives as one message per item. The first item makes the draft and records
//! the group (`Store::claim_album`); later items of the group join that draft wherever the conversation is. The
//! screen is drawn once the album has stopped arriving (`intake::ALBUM_QUIET` after its last item), as an album preview
//! and the draft screen under it.

use crate::ctx::{Active, App, ConnectConfig, Ctx, HandlerResult, TgBot};
use crate::edits::apply;
use crate::intake::{ask, message_media, settle_album, split_hashtags, store_message_media, MediaRefusal};
use crate::screens::llm::draft_rules;
use crate::screens::photo;
use crate::state::State;
use std::time::Duration;
use teloxide::prelude::*;
use tochen_domain::i18n::t;
use tochen_domain::{MediaKind, PostId, Role};
use tochen_llm::store_media_bytes;
use tochen_platforms::media::Format;
use tochen_store::{Post, PostEdit};
use tochen_telegram::text::clip;

/// Longest title taken from the first line of the text.
const TITLE_CHARS: usize = 60;
/// How long a linked file may take to arrive.
const IMPORT_TIMEOUT: Duration = Duration::from_secs(120);

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

/// What a file is, from its bytes (the media probe, never a name or a header a server sent): an image or a video
/// with its type, or `None` for anything else.
pub fn sniff(bytes: &[u8]) -> Option<(MediaKind, &'static str)> {
    let format = tochen_platforms::media::probe_bytes(bytes).format;
    match format {
        Format::Unknown => None,
        f if f.is_video() => Some((MediaKind::Video, f.content_type())),
        f => Some((MediaKind::Image, f.content_type())),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_bytes() {
        let jpeg = tochen_testkit::images::jpeg(8, 8);
        let png = tochen_testkit::images::png(8, 8);
        assert_eq!(sniff(&jpeg), Some((MediaKind::Image, "image/jpeg")));
        assert_eq!(sniff(&png), Some((MediaKind::Image, "image/png")));
        let mp4 = tochen_testkit::video::video_bytes(&tochen_testkit::video::VideoSpec::vertical(10), 64 * 1024);
        assert_eq!(sniff(&mp4), Some((MediaKind::Video, "video/mp4")));
        assert_eq!(sniff(b"<html>not a file</html>"), None);
    }
}
