//! Approval of editors' posts. The card goes to every admin's private chat and to the team chat, each as a
//! durable `notify` job: the post is already waiting for approval when the cards are queued, and the scheduler
//! sends them with retries, so a crash or a Telegram hiccup in the middle loses none. One admin's decision wins
//! (the post's version check); their card is edited to show it, a press on any other card is told the post was
//! already decided, and the author hears the outcome.

use crate::codec::{Cb, DraftAct};
use crate::ctx::{send_to, Active, App, Ctx, HandlerResult, TgBot};
use crate::draft::load_for_change;
use crate::schedule::local_time;
use crate::state::State;
use teloxide::prelude::*;
use tochen_core::domain::{PostStatus, Role};
use tochen_core::i18n::{normalize, t, tf};
use tochen_core::jobs::{escape_html, NotifyButton, NotifyPayload, NOTIFY};
use tochen_core::store::{NewJob, Post, ScheduleError};
use tochen_core::PostId;

/// The card in `lang` for the post as it is now.
fn card(lang: &str, ctx: &Ctx, a: &Active, post: &Post, platforms: &str) -> NotifyPayload {
    let text = tf(
        lang,
        "bot.approval.card",
        &[
            ("author", &escape_html(&ctx.user.first_name)),
            ("when", &local_time(a, post.scheduled_at.unwrap_or_default())),
            ("title", &escape_html(&post.title)),
            ("platforms", &platforms),
        ],
    );
    let button = |key: &str, cb: Cb| NotifyButton { text: t(lang, key), callback_data: Some(cb.encode()), url: None };
    let (id, v) = (post.id, post.version);
    NotifyPayload {
        chat_id: 0,
        text_html: text,
        buttons: vec![vec![
            button("bot.approval.btn_preview", Cb::Draft(DraftAct::Show, id, v)),
            button("bot.approval.btn_approve", Cb::Approve(id, v)),
            button("bot.approval.btn_reject", Cb::Reject(id, v)),
        ]],
        attachment_path: None,
    }
}

/// Queues the approval card for every admin (in their language) and for the team chat (in the workspace's).
pub async fn request(app: &App, ctx: &Ctx, a: &Active, id: PostId) -> HandlerResult {
    let post = app.store.post(a.tenant.id, id).await?;
    let targets = app.store.targets_of_post(a.tenant.id, id).await?;
    let platforms: Vec<&str> = targets.iter().map(|x| x.platform.as_str()).collect();
    let platforms = platforms.join(", ");
    let mut recipients: Vec<(i64, String)> = Vec::new();
    if let Some(chat) = a.tenant.team_chat_id {
        recipients.push((chat, normalize(&a.tenant.profile.language).to_owned()));
    }
    for admin in app.store.admin_telegram_ids(a.tenant.id).await? {
        let lang = match app.store.user_by_telegram_id(admin).await? {
            Some(u) => normalize(u.language_override.as_deref().or(u.language_code.as_deref()).unwrap_or("en")),
            None => "en",
        };
        recipients.push((admin, lang.to_owned()));
    }
    for (chat, lang) in recipients {
        let payload = NotifyPayload { chat_id: chat, ..card(&lang, ctx, a, &post, &platforms) };
        let key = format!("approval:{}:{}:{chat}", id.to_db(), post.version);
        app.store
            .enqueue(&NewJob::new(NOTIFY, serde_json::to_value(&payload)?).tenant(a.tenant.id).unique(key))
            .await?;
    }
    Ok(())
}

async fn tell_author(bot: &TgBot, ctx: &Ctx, post: &Post, text: String) -> HandlerResult {
    if let Some(chat) = post.author_chat_id {
        send_to(bot, &ctx.dlg, ChatId(chat), text, None).await?;
    }
    Ok(())
}

pub async fn approve(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let l = ctx.lang;
    match app.store.approve_post(a.tenant.id, id, version, ctx.user.id).await {
        Ok(_) => {}
        Err(ScheduleError::Store(tochen_core::StoreError::NotFound(_))) => {
            return ctx.refuse(&bot, t(l, "bot.post.not_found")).await
        }
        Err(ScheduleError::Stale) | Err(ScheduleError::WrongStatus(_)) => {
            return ctx.refuse(&bot, t(l, "bot.approval.already")).await
        }
        Err(e) => return Err(e.into()),
    }
    app.store
        .audit(a.tenant.id, Some(ctx.user.id), "post.approved", "post", Some(&id.to_db()), serde_json::json!({}))
        .await?;
    tochen_core::delivery::events::post_scheduled(&app.store, a.tenant.id, id).await?;
    let post = app.store.post(a.tenant.id, id).await?;
    ctx.answer(&bot, None).await?;
    let name = escape_html(&ctx.user.first_name);
    let msg_text = tf(l, "bot.approval.approved_by", &[("name", &name), ("title", &escape_html(&post.title))]);
    ctx.show(&bot, msg_text, None).await?;
    let author_lang = author_lang(&app, &post).await;
    let text = tf(
        &author_lang,
        "bot.approval.author_approved",
        &[("title", &escape_html(&post.title)), ("when", &local_time(&a, post.scheduled_at.unwrap_or_default()))],
    );
    tell_author(&bot, &ctx, &post, text).await
}

async fn author_lang(app: &App, post: &Post) -> String {
    match post.author_id {
        Some(u) => match app.store.user(u).await {
            Ok(u) => tochen_core::i18n::normalize(
                u.language_override.as_deref().or(u.language_code.as_deref()).unwrap_or("en"),
            )
            .to_owned(),
            Err(_) => "en".into(),
        },
        None => "en".into(),
    }
}

pub async fn reject(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    // Another admin decided first: say so plainly rather than "the post moved on".
    if app.store.post(a.tenant.id, id).await.is_ok_and(|p| p.status != PostStatus::PendingApproval) {
        return ctx.refuse(&bot, t(ctx.lang, "bot.approval.already")).await;
    }
    if load_for_change(&bot, &app, &ctx, &a, id, version, &[PostStatus::PendingApproval]).await?.is_none() {
        return Ok(());
    }
    ctx.answer(&bot, None).await?;
    ctx.dlg.update(State::RejectReason { post: id, version, card: ctx.screen.map(|m| m.0) }).await?;
    ctx.say(&bot, t(ctx.lang, "bot.approval.ask_reason"), None).await?;
    Ok(())
}

pub async fn got_reason(
    bot: TgBot,
    app: App,
    ctx: Ctx,
    msg: Message,
    (id, version, card): (PostId, i64, Option<i32>),
) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let l = ctx.lang;
    let Some(reason) = msg.text().map(str::trim).filter(|s| !s.is_empty()) else {
        return ctx.say(&bot, t(l, "bot.draft.text_needed"), None).await.map(|_| ());
    };
    let reason: String = reason.chars().take(500).collect();
    ctx.dlg.exit().await?;
    if !app.store.reject_post(a.tenant.id, id, version, &reason).await? {
        return ctx.say(&bot, t(l, "bot.approval.already"), None).await.map(|_| ());
    }
    app.store
        .audit(
            a.tenant.id,
            Some(ctx.user.id),
            "post.rejected",
            "post",
            Some(&id.to_db()),
            serde_json::json!({"reason": reason}),
        )
        .await?;
    let post = app.store.post(a.tenant.id, id).await?;
    let msg_text = tf(l, "bot.approval.rejected", &[("title", &escape_html(&post.title))]);
    // The card the admin pressed shows the outcome in place (its buttons go); without one, a new message does.
    let edited = match card {
        Some(card) => {
            bot.edit_message_text(ctx.chat_id, teloxide::types::MessageId(card), msg_text.clone()).await.is_ok()
        }
        None => false,
    };
    if !edited {
        ctx.say(&bot, msg_text, None).await?;
    }
    let al = author_lang(&app, &post).await;
    let text = tf(
        &al,
        "bot.approval.author_rejected",
        &[("title", &escape_html(&post.title)), ("reason", &escape_html(&reason))],
    );
    tell_author(&bot, &ctx, &post, text).await
}
