//! Every action on a draft (regenerate, edit, rewrite, image, own photo or video, accounts, discard); the screen
//! itself is `screens::draft`, and scheduling or publishing it now belongs to `schedule.rs`.
//!
//! Buttons carry the post's version. A button from an older screen (the post changed since) or for a post the
//! caller's workspace does not own changes nothing and says so.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::draft::{chosen_accounts, is_draft, load_for_change, platform_name, render, show};
use crate::screens::llm::{draft_rules, llm_error_text, typing};
use crate::screens::photo;
use crate::state::State;
use teloxide::prelude::*;
use tochen_domain::i18n::t;
use tochen_domain::PostId;
use tochen_domain::{MediaKind, PostStatus, Role};
use tochen_llm::DraftText;
use tochen_store::{Post, PostContent};
use tochen_telegram::button::{Button, Draft, DraftAct};

/// The draft screen's buttons; scheduling and publishing now open the schedule flow (`handover.rs`).
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Draft) -> HandlerResult {
    match b {
        Draft::Act(DraftAct::Schedule | DraftAct::PublishNow, ..) => {
            crate::handover::not_here(&bot, &ctx, &Button::Draft(b)).await
        }
        Draft::Act(act, id, v) => on_action(bot, app, ctx, act, id, v).await,
        Draft::ToggleAccount(id, v, i) => toggle_account(bot, app, ctx, id, v, i).await,
    }
}

pub async fn on_action(bot: TgBot, app: App, ctx: Ctx, act: DraftAct, id: PostId, version: i64) -> HandlerResult {
    let needed = if act == DraftAct::Show { Role::Viewer } else { Role::Editor };
    let Some(a) = ctx.require(&bot, needed).await? else { return Ok(()) };
    if act == DraftAct::Show {
        let Ok(post) = app.store.post(a.tenant.id, id).await else {
            return ctx.refuse(&bot, t(ctx.lang, "bot.post.not_found")).await;
        };
        ctx.answer(&bot, None).await?;
        if !is_draft(&post) {
            // A preview from an approval card (the post waits for a decision): it opens as its own message, so
            // the card keeps its Approve and Reject buttons, and the presser's conversation is left alone.
            return show(&bot, &app, &ctx.in_new_message(), &a, id).await;
        }
        ctx.dlg.exit().await?;
        return show(&bot, &app, &ctx, &a, id).await;
    }
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &[PostStatus::Draft]).await? else {
        return Ok(());
    };
    let l = ctx.lang;
    match act {
        DraftAct::Regenerate => {
            ctx.answer(&bot, None).await?;
            typing(&bot, &ctx).await;
            let rules = draft_rules(&app, &a).await?;
            match app.llm.draft(ctx.llm_ctx(&a), &a.tenant.name, &a.tenant.profile, &post.idea, &rules).await {
                Ok(d) if !d.texts.is_empty() => {
                    for x in &d.texts {
                        app.store
                            .set_post_content(
                                a.tenant.id,
                                id,
                                &PostContent {
                                    platform: x.platform,
                                    body: x.body.clone(),
                                    hashtags: x.hashtags.clone(),
                                    link: None,
                                },
                            )
                            .await?;
                    }
                    let title = if d.title.is_empty() { post.title.clone() } else { d.title };
                    app.store.set_post_meta(a.tenant.id, id, &title, &d.image_prompt).await?;
                    show(&bot, &app, &ctx, &a, id).await
                }
                Ok(_) => ctx.say(&bot, t(l, "llm.error.malformed"), None).await.map(|_| ()),
                Err(e) => ctx.say(&bot, llm_error_text(l, &e), None).await.map(|_| ()),
            }
        }
        DraftAct::Edit => ask(&bot, &ctx, State::EditText { post: id, version }, t(l, "bot.draft.ask_edit")).await,
        DraftAct::Rewrite => ask(&bot, &ctx, State::Rewrite { post: id, version }, t(l, "bot.draft.ask_rewrite")).await,
        DraftAct::Attach => ask(&bot, &ctx, State::Attach { post: id, version }, t(l, "bot.draft.ask_attach")).await,
        DraftAct::Image => {
            ctx.answer(&bot, None).await?;
            let progress = ctx.say(&bot, t(l, "bot.draft.generating_image"), None).await?;
            let prompt = if post.image_prompt.is_empty() { post.title.clone() } else { post.image_prompt.clone() };
            match app.llm.image(ctx.llm_ctx(&a), &prompt).await {
                Ok(media) => {
                    app.store.set_post_media(a.tenant.id, id, media.id).await?;
                    let post = app.store.post(a.tenant.id, id).await?;
                    let (text, buttons) = render(&app, &a, l, &post).await?;
                    photo::show(&bot, &app, &ctx, &a, &post, (text, buttons), true).await?;
                    if let Some(p) = progress {
                        photo::delete(&bot, ctx.chat_id, p.id).await;
                    }
                    Ok(())
                }
                Err(e) => ctx.say(&bot, llm_error_text(l, &e), None).await.map(|_| ()),
            }
        }
        DraftAct::Accounts => {
            ctx.answer(&bot, None).await?;
            accounts_screen(&bot, &app, &ctx, &a, &post).await
        }
        DraftAct::Discard => {
            if app.store.cancel_post(a.tenant.id, id, version).await? {
                app.store
                    .audit(
                        a.tenant.id,
                        Some(ctx.user.id),
                        "post.discarded",
                        "post",
                        Some(&id.to_db()),
                        serde_json::json!({}),
                    )
                    .await?;
                ctx.answer(&bot, None).await?;
                ctx.show(&bot, t(l, "bot.draft.discarded"), None).await
            } else {
                ctx.refuse(&bot, t(l, "bot.stale")).await
            }
        }
        // Routed to the schedule flow by `handover.rs`.
        DraftAct::Schedule | DraftAct::PublishNow | DraftAct::Show => Ok(()),
    }
}

async fn ask(bot: &TgBot, ctx: &Ctx, state: State, text: String) -> HandlerResult {
    ctx.answer(bot, None).await?;
    ctx.dlg.update(state).await?;
    ctx.say(bot, text, None).await?;
    Ok(())
}

async fn accounts_screen(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, post: &Post) -> HandlerResult {
    let (all, chosen) = chosen_accounts(app, a, post.id).await?;
    if all.is_empty() {
        return ctx.say(bot, t(ctx.lang, "bot.draft.connect_first"), None).await.map(|_| ());
    }
    let mut rows: Vec<Vec<(String, Button)>> = all
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let mark = if chosen.contains(&x.id) { "✓" } else { "✗" };
            vec![(
                format!("{mark} {} {}", platform_name(ctx.lang, x.platform), x.name),
                Button::Draft(Draft::ToggleAccount(post.id, post.version, i as u8)),
            )]
        })
        .collect();
    rows.push(vec![(t(ctx.lang, "bot.back"), Button::Draft(Draft::Act(DraftAct::Show, post.id, post.version)))]);
    ctx.show(bot, t(ctx.lang, "bot.draft.pick_accounts"), Some(kb(rows))).await
}

pub async fn toggle_account(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64, index: u8) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &[PostStatus::Draft]).await? else {
        return Ok(());
    };
    let (all, mut chosen) = chosen_accounts(&app, &a, id).await?;
    let Some(acc) = all.get(index as usize) else { return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await };
    if let Some(pos) = chosen.iter().position(|x| *x == acc.id) {
        if chosen.len() == 1 {
            return ctx.refuse(&bot, t(ctx.lang, "bot.draft.keep_one")).await;
        }
        chosen.remove(pos);
    } else {
        chosen.push(acc.id);
    }
    app.store.set_draft_accounts(a.tenant.id, id, &chosen).await?;
    // The draft needs text for a newly chosen platform: borrow the first text until someone rewrites it.
    let contents = app.store.post_contents(a.tenant.id, id).await?;
    if !contents.iter().any(|c| c.platform == acc.platform) {
        if let Some(first) = contents.first() {
            app.store
                .set_post_content(a.tenant.id, id, &PostContent { platform: acc.platform, ..first.clone() })
                .await?;
        }
    }
    ctx.answer(&bot, None).await?;
    let post = app.store.post(a.tenant.id, post.id).await?;
    accounts_screen(&bot, &app, &ctx, &a, &post).await
}

/// Checks that a text-input state still points at the same draft version.
async fn current(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    id: PostId,
    version: i64,
) -> anyhow::Result<Option<(Active, Post)>> {
    let Some(a) = ctx.require(bot, Role::Editor).await? else { return Ok(None) };
    let post = load_for_change(bot, app, ctx, &a, id, version, &[PostStatus::Draft]).await?;
    if post.is_none() {
        ctx.dlg.exit().await?;
    }
    Ok(post.map(|p| (a, p)))
}

pub async fn got_edit(bot: TgBot, app: App, ctx: Ctx, msg: Message, (id, version): (PostId, i64)) -> HandlerResult {
    let Some(text) = msg.text().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned) else {
        return ctx.say(&bot, t(ctx.lang, "bot.draft.text_needed"), None).await.map(|_| ());
    };
    let Some((a, _)) = current(&bot, &app, &ctx, id, version).await? else { return Ok(()) };
    for c in app.store.post_contents(a.tenant.id, id).await? {
        app.store.set_post_content(a.tenant.id, id, &PostContent { body: text.clone(), ..c }).await?;
    }
    ctx.dlg.exit().await?;
    show(&bot, &app, &ctx, &a, id).await
}

pub async fn got_rewrite(bot: TgBot, app: App, ctx: Ctx, msg: Message, (id, version): (PostId, i64)) -> HandlerResult {
    let Some(instruction) = msg.text().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned) else {
        return ctx.say(&bot, t(ctx.lang, "bot.draft.text_needed"), None).await.map(|_| ());
    };
    let Some((a, _)) = current(&bot, &app, &ctx, id, version).await? else { return Ok(()) };
    typing(&bot, &ctx).await;
    let mut rewritten = Vec::new();
    for c in app.store.post_contents(a.tenant.id, id).await? {
        let cur = DraftText { platform: c.platform, body: c.body.clone(), hashtags: c.hashtags.clone() };
        match app
            .llm
            .rewrite(
                ctx.llm_ctx(&a),
                &a.tenant.name,
                &a.tenant.profile,
                &cur,
                &app.rules.get(cur.platform),
                &instruction,
            )
            .await
        {
            Ok(r) => rewritten.push(PostContent { body: r.body, hashtags: r.hashtags, ..c }),
            // Nothing is written unless every platform was rewritten; the person may try again.
            Err(e) => return ctx.say(&bot, llm_error_text(ctx.lang, &e), None).await.map(|_| ()),
        }
    }
    for c in &rewritten {
        app.store.set_post_content(a.tenant.id, id, c).await?;
    }
    ctx.dlg.exit().await?;
    show(&bot, &app, &ctx, &a, id).await
}

pub async fn got_media(bot: TgBot, app: App, ctx: Ctx, msg: Message, (id, version): (PostId, i64)) -> HandlerResult {
    let (file_id, size, kind, content_type) =
        if let Some(p) = msg.photo().and_then(|p| p.iter().max_by_key(|s| s.width * s.height)) {
            (p.file.id.clone(), p.file.size, MediaKind::Image, "image/jpeg")
        } else if let Some(v) = msg.video() {
            (v.file.id.clone(), v.file.size, MediaKind::Video, "video/mp4")
        } else {
            return ctx.say(&bot, t(ctx.lang, "bot.draft.media_needed"), None).await.map(|_| ());
        };
    let Some((a, _)) = current(&bot, &app, &ctx, id, version).await? else { return Ok(()) };
    let media =
        match crate::files::store_telegram_file(&bot, &app, a.tenant.id, &file_id.0, size, kind, content_type).await {
            Ok(m) => m,
            Err(e) => return ctx.say(&bot, e.text(ctx.lang), None).await.map(|_| ()),
        };
    app.store.set_post_media(a.tenant.id, id, media.id).await?;
    ctx.dlg.exit().await?;
    show(&bot, &app, &ctx, &a, id).await
}
