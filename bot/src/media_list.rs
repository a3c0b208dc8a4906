//! A post's media, in order: each item can move earlier or later or be removed, and the album can be previewed
//! again. The order is the order the platforms show (the first item is an Instagram carousel's cover and sets
//! its aspect ratio).

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::edits::apply;
use crate::kb::kb;
use crate::screens::draft::{load_for_change, EDITABLE};
use crate::screens::photo;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{MediaKind, PostId, Role};
use tochen_store::{Post, PostEdit};
use tochen_telegram::button::{Button, Draft, DraftAct, MediaAct};

/// The media screen.
pub async fn show(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, post: &Post) -> HandlerResult {
    ctx.answer(bot, None).await?;
    let l = ctx.lang;
    let items = app.store.post_media_kinds(a.tenant.id, post.id).await?;
    let (id, v) = (post.id, post.version);
    let mut text = if items.is_empty() { t(l, "bot.draft.media_none") } else { t(l, "bot.media.title") };
    let mut rows = Vec::new();
    for (i, (media, _)) in items.iter().enumerate() {
        let m = app.store.media(a.tenant.id, *media).await?;
        let icon = if m.info.kind == MediaKind::Video { "🎬" } else { "🖼" };
        let mb = format!("{:.1}", m.info.size_bytes as f64 / 1_048_576.0);
        let size = match (m.info.width, m.info.height) {
            (Some(w), Some(h)) => format!("{w}×{h}, {mb} MB"),
            _ => format!("{mb} MB"),
        };
        text.push_str(&format!("\n{}. {icon} {size}", i + 1));
        let b = |act| Button::Draft(Draft::MediaItem(id, v, act, i as u8));
        let mut row = Vec::new();
        if i > 0 {
            row.push((format!("⬆️ {}", i + 1), b(MediaAct::Earlier)));
        }
        if i + 1 < items.len() {
            row.push((format!("⬇️ {}", i + 1), b(MediaAct::Later)));
        }
        row.push((tf(l, "bot.media.btn_remove", &[("n", &(i + 1))]), b(MediaAct::Remove)));
        rows.push(row);
    }
    let mut last = vec![(t(l, "bot.back"), Button::Draft(Draft::Act(DraftAct::Show, id, v)))];
    if items.len() > 1 {
        last.insert(0, (t(l, "bot.media.btn_preview"), Button::Draft(Draft::MediaItem(id, v, MediaAct::Preview, 0))));
    }
    rows.push(last);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// A button on a media item.
pub async fn on_button(
    bot: TgBot,
    app: App,
    ctx: Ctx,
    id: PostId,
    version: i64,
    act: MediaAct,
    index: u8,
) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, EDITABLE).await? else { return Ok(()) };
    if act == MediaAct::Preview {
        ctx.answer(&bot, None).await?;
        return photo::show_post(&bot, &app, &ctx, &a, id, true).await;
    }
    let items = app.store.post_media_kinds(a.tenant.id, id).await?;
    let Some((media, _)) = items.get(index as usize) else { return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await };
    let change = match act {
        MediaAct::Remove => PostEdit::RemoveMedia(*media),
        MediaAct::Earlier => PostEdit::MoveMedia { media: *media, earlier: true },
        MediaAct::Later | MediaAct::Preview => PostEdit::MoveMedia { media: *media, earlier: false },
    };
    if !apply(&bot, &app, &ctx, &a, &post, change).await? {
        return Ok(());
    }
    let post = app.store.post(a.tenant.id, id).await?;
    if app.store.post_media_kinds(a.tenant.id, id).await?.is_empty() {
        ctx.answer(&bot, None).await?;
        return photo::show_post(&bot, &app, &ctx, &a, id, true).await;
    }
    show(&bot, &app, &ctx, &a, &post).await
}
