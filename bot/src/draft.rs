//! Every action on a post that has not gone out (regenerate, edit, rewrite, hashtags, image, own photos and
//! videos, accounts, discard), on a draft and on a scheduled or waiting post alike; the screen itself is
//! `screens::draft`, the versions per platform `versions.rs`, the media list `media_list.rs`, and scheduling or
//! publishing it now belongs to `schedule.rs`.
//!
//! Buttons carry the post's version. A button from an older screen (the post changed since) or for a post the
//! caller's workspace does not own changes nothing and says so. Every change goes through `edits::apply`: one
//! transaction with the version check, and the approval round a scheduled or waiting post needs.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::edits::apply;
use crate::intake::{ask, current, message_media, quote, split_hashtags, store_message_media, text_answer};
use crate::kb::kb;
use crate::screens::draft::{chosen_accounts, is_draft, load_for_change, platform_name, show, EDITABLE};
use crate::screens::llm::{draft_rules, llm_error_text, llm_versions, typing};
use crate::screens::photo;
use crate::state::State;
use teloxide::prelude::*;
use tochen_domain::i18n::t;
use tochen_domain::{Platform, PostId};
use tochen_domain::{PostStatus, Role};
use tochen_llm::DraftText;
use tochen_store::{Post, PostContent, PostEdit};
use tochen_telegram::button::{Button, Draft, DraftAct};

/// The draft screen's buttons; scheduling and publishing now open the schedule flow (`handover.rs`).
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Draft) -> HandlerResult {
    match b {
        Draft::Act(DraftAct::Schedule | DraftAct::PublishNow, ..) => {
            crate::handover::not_here(&bot, &ctx, &Button::Draft(b)).await
        }
        Draft::Act(act, id, v) => on_action(bot, app, ctx, act, id, v).await,
        Draft::ToggleAccount(id, v, i) => toggle_account(bot, app, ctx, id, v, i).await,
        Draft::Version(id, v, act, p) => crate::versions::on_button(bot, app, ctx, id, v, act, p).await,
        Draft::MediaItem(id, v, act, i) => crate::media_list::on_button(bot, app, ctx, id, v, act, i).await,
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
            // A scheduled post opened from /queue, or a preview from an approval card: it opens as its own
            // message, so the list or the card keeps its buttons, and the presser's conversation is left alone.
            return show(&bot, &app, &ctx.in_new_message(), &a, id).await;
        }
        ctx.dlg.exit().await?;
        return show(&bot, &app, &ctx, &a, id).await;
    }
    let statuses: &[PostStatus] = if act == DraftAct::Discard { &[PostStatus::Draft] } else { EDITABLE };
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, statuses).await? else {
        return Ok(());
    };
    let l = ctx.lang;
    match act {
        DraftAct::Regenerate => regenerate(&bot, &app, &ctx, &a, &post).await,
        DraftAct::Edit => {
            let quote = quote(&post.body);
            ask(&bot, &ctx, State::EditText { post: id, version }, format!("{}{quote}", t(l, "bot.draft.ask_edit")))
                .await
        }
        DraftAct::Rewrite => {
            let state = State::Rewrite { post: id, version, platform: None };
            ask(&bot, &ctx, state, t(l, "bot.draft.ask_rewrite")).await
        }
        DraftAct::Attach => ask(&bot, &ctx, State::Attach { post: id, version }, t(l, "bot.draft.ask_attach")).await,
        DraftAct::Image => {
            ctx.answer(&bot, None).await?;
            let progress = ctx.say(&bot, t(l, "bot.draft.generating_image"), None).await?;
            let prompt = if post.image_prompt.is_empty() { post.title.clone() } else { post.image_prompt.clone() };
            let generated = app.llm.image(ctx.llm_ctx(&a), &prompt).await;
            if let Some(p) = progress {
                photo::delete(&bot, ctx.chat_id, p.id).await;
            }
            match generated {
                Ok(media) => {
                    if !apply(&bot, &app, &ctx, &a, &post, PostEdit::AddMedia(vec![media.id])).await? {
                        return Ok(());
                    }
                    photo::show_post(&bot, &app, &ctx, &a, id, true).await
                }
                Err(e) => ctx.say(&bot, llm_error_text(l, &e), None).await.map(|_| ()),
            }
        }
        DraftAct::Accounts => {
            ctx.answer(&bot, None).await?;
            accounts_screen(&bot, &app, &ctx, &a, &post).await
        }
        DraftAct::Media => crate::media_list::show(&bot, &app, &ctx, &a, &post).await,
        DraftAct::Versions => {
            ctx.answer(&bot, None).await?;
            crate::versions::show(&bot, &app, &ctx, &a, &post).await
        }
        DraftAct::Hashtags => crate::versions::suggest_hashtags(&bot, &app, &ctx, &a, &post).await,
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
        // Routed to the schedule flow by `handover.rs`, or handled above.
        DraftAct::Schedule | DraftAct::PublishNow | DraftAct::Show => Ok(()),
    }
}

async fn regenerate(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, post: &Post) -> HandlerResult {
    let l = ctx.lang;
    ctx.answer(bot, None).await?;
    typing(bot, ctx).await;
    let rules = draft_rules(app, a).await?;
    // A post composed by hand has no idea of its own: its main text is what the LLM starts from.
    let idea = if post.idea.trim().is_empty() { post.body.clone() } else { post.idea.clone() };
    match app.llm.draft(ctx.llm_ctx(a), &a.tenant.name, &a.tenant.profile, &idea, &rules).await {
        Ok(d) if !d.texts.is_empty() => {
            if !apply(bot, app, ctx, a, post, llm_versions(&d.texts)).await? {
                return Ok(());
            }
            let title = if d.title.is_empty() { post.title.clone() } else { d.title };
            app.store.set_post_meta(a.tenant.id, post.id, &title, &d.image_prompt).await?;
            show(bot, app, ctx, a, post.id).await
        }
        Ok(_) => ctx.say(bot, t(l, "llm.error.malformed"), None).await.map(|_| ()),
        Err(e) => ctx.say(bot, llm_error_text(l, &e), None).await.map(|_| ()),
    }
}

async fn accounts_screen(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, post: &Post) -> HandlerResult {
    let (all, chosen) = chosen_accounts(app, a, post).await?;
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
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, EDITABLE).await? else {
        return Ok(());
    };
    let (all, mut chosen) = chosen_accounts(&app, &a, &post).await?;
    let Some(acc) = all.get(index as usize) else { return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await };
    if let Some(pos) = chosen.iter().position(|x| *x == acc.id) {
        if chosen.len() == 1 {
            return ctx.refuse(&bot, t(ctx.lang, "bot.draft.keep_one")).await;
        }
        chosen.remove(pos);
    } else {
        chosen.push(acc.id);
    }
    if !apply(&bot, &app, &ctx, &a, &post, PostEdit::Accounts(chosen)).await? {
        return Ok(());
    }
    // A newly chosen platform gets a version that follows the main text, in the same change (`PostEdit::Accounts`).
    ctx.answer(&bot, None).await?;
    let post = app.store.post(a.tenant.id, post.id).await?;
    accounts_screen(&bot, &app, &ctx, &a, &post).await
}

pub async fn got_edit(bot: TgBot, app: App, ctx: Ctx, msg: Message, (id, version): (PostId, i64)) -> HandlerResult {
    let Some(text) = text_answer(&bot, &ctx, &msg).await? else { return Ok(()) };
    let Some((a, post)) = current(&bot, &app, &ctx, id, version).await? else { return Ok(()) };
    let (body, hashtags) = split_hashtags(&text);
    if !apply(&bot, &app, &ctx, &a, &post, PostEdit::MainText { body, hashtags, platforms: Vec::new() }).await? {
        return Ok(());
    }
    ctx.dlg.exit().await?;
    show(&bot, &app, &ctx, &a, id).await
}

pub async fn got_rewrite(
    bot: TgBot,
    app: App,
    ctx: Ctx,
    msg: Message,
    (id, version, platform): (PostId, i64, Option<Platform>),
) -> HandlerResult {
    let Some(instruction) = text_answer(&bot, &ctx, &msg).await? else { return Ok(()) };
    let Some((a, post)) = current(&bot, &app, &ctx, id, version).await? else { return Ok(()) };
    typing(&bot, &ctx).await;
    let mut rewritten = Vec::new();
    let contents = app.store.post_contents(a.tenant.id, id).await?;
    for c in contents.into_iter().filter(|c| platform.is_none_or(|p| p == c.platform)) {
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
            // One platform's rewrite is that platform's own version; a rewrite of all keeps each as it was.
            Ok(r) => rewritten.push(PostContent {
                body: r.body,
                hashtags: r.hashtags,
                custom: c.custom || platform.is_some(),
                ..c
            }),
            // Nothing is written unless every platform was rewritten; the person may try again.
            Err(e) => return ctx.say(&bot, llm_error_text(ctx.lang, &e), None).await.map(|_| ()),
        }
    }
    let main = if platform.is_none() { rewritten.iter().find(|c| !c.custom).map(|c| c.body.clone()) } else { None };
    if !apply(&bot, &app, &ctx, &a, &post, PostEdit::Versions { contents: rewritten, main }).await? {
        return Ok(());
    }
    ctx.dlg.exit().await?;
    show(&bot, &app, &ctx, &a, id).await
}

/// A photo, video or album for the post (the Attach button): added after its media. An album's later items join
/// through `compose::album_item`.
pub async fn got_media(bot: TgBot, app: App, ctx: Ctx, msg: Message, (id, version): (PostId, i64)) -> HandlerResult {
    let Some(item) = message_media(&msg) else {
        return ctx.say(&bot, t(ctx.lang, "bot.draft.media_needed"), None).await.map(|_| ());
    };
    let Some((a, post)) = current(&bot, &app, &ctx, id, version).await? else { return Ok(()) };
    let media = match store_message_media(&bot, &app, &a, &item).await? {
        Ok(m) => m,
        Err(why) => return ctx.say(&bot, why.text(ctx.lang), None).await.map(|_| ()),
    };
    if !apply(&bot, &app, &ctx, &a, &post, PostEdit::AddMedia(vec![media.id])).await? {
        return Ok(());
    }
    ctx.dlg.exit().await?;
    if let Some(group) = msg.media_group_id() {
        app.store.claim_album(a.tenant.id, ctx.chat_id.0, &group.0, id).await?;
        return crate::intake::settle_album(bot, app, ctx, a, id);
    }
    photo::show_post(&bot, &app, &ctx, &a, id, true).await
}
