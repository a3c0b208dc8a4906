//! The approval flow: an admin's Approve, Reject and the typed reason, on the cards `cards.rs` queues. The first
//! decision wins; the card the admin pressed shows it in place, and the author hears the outcome.

use crate::cards::{author_lang, decide_approve, tell_author, title_of, why_refused};
use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::screens::draft::load_for_change;
use crate::state::State;
use teloxide::prelude::*;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::PostId;
use tochen_domain::{PostStatus, Role};
use tochen_store::CardOutcome;
use tochen_telegram::button::Approval;

/// The card the person pressed, (chat, message id): the decision shows on it in place.
fn pressed(ctx: &Ctx, card: Option<i32>) -> Option<(i64, i64)> {
    card.map(|m| (ctx.chat_id.0, i64::from(m)))
}

/// An admin's decision on a post waiting for approval.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Approval) -> HandlerResult {
    match b {
        Approval::Approve(id, v) => approve(bot, app, ctx, id, v).await,
        Approval::Reject(id, v) => reject(bot, app, ctx, id, v).await,
    }
}

pub async fn approve(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let shown = pressed(&ctx, ctx.screen.map(|m| m.0));
    decide_approve(&bot, &app, &ctx, &a, id, version, shown, false).await
}

pub async fn reject(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    // Another admin decided first, or the request was replaced or withdrawn: say which, rather than "the post
    // moved on".
    if app
        .store
        .post(a.tenant.id, id)
        .await
        .is_ok_and(|p| p.status != PostStatus::PendingApproval || p.version != version)
    {
        return ctx.refuse(&bot, why_refused(&app, a.tenant.id, ctx.lang, id, version).await?).await;
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
    let Ok(before) = app.store.post(a.tenant.id, id).await else {
        return ctx.say(&bot, t(l, "bot.post.not_found"), None).await.map(|_| ());
    };
    let (name, title, why) = (escape_html(&ctx.user.first_name), title_of(&before), escape_html(&reason));
    let on_cards =
        |lang: &str| tf(lang, "bot.approval.rejected_by", &[("name", &name), ("title", &title), ("reason", &why)]);
    let outcome = CardOutcome { text: &on_cards, shown: pressed(&ctx, card) };
    if !app.store.reject_post_with_cards(a.tenant.id, id, version, &reason, &outcome).await? {
        return ctx.say(&bot, why_refused(&app, a.tenant.id, l, id, version).await?, None).await.map(|_| ());
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
    let msg_text = tf(l, "bot.approval.rejected", &[("title", &title_of(&post))]);
    // The card the admin pressed shows the outcome in place (its buttons go); without one, a new message does.
    let edited = match card {
        Some(card) => ctx.edit_message(&bot, teloxide::types::MessageId(card), &msg_text).await,
        None => false,
    };
    if !edited {
        ctx.say(&bot, msg_text, None).await?;
    }
    let al = author_lang(&app, &post).await;
    let text =
        tf(&al, "bot.approval.author_rejected", &[("title", &title_of(&post)), ("reason", &escape_html(&reason))]);
    tell_author(&bot, &ctx, &post, text).await
}
