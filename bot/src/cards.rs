//! A post's approval cards, changed together with the post: submitting it (the cards queued in the same
//! transaction), submitting it again after a change, withdrawing it, approving it, and why a card's button
//! changed nothing. The approval flow (`approval.rs`), scheduling (`schedule.rs`) and the queue (`queue.rs`) all
//! change posts through here.
//!
//! Approval of editors' posts. The card goes to every admin's private chat and to the team chat, each as a
//! durable `notify` job queued in the transaction that puts the post in `pending_approval`
//! (`Store::submit_for_approval`), so a post never waits without its cards, and the scheduler sends them with
//! retries. One admin's decision wins (the post's version check): their card is edited here to show it, and the
//! decision's transaction queues the edits that show who decided on every other card already sent (a card not
//! yet sent is not sent any more). A press on a card whose edit has not arrived yet is told why nothing happened
//! (decided, replaced by a newer request, or withdrawn), and the author hears the outcome.
//!
//! A waiting post that is changed (moved to another time in /queue) is submitted again
//! (`Store::resubmit_for_approval`): the earlier cards are edited to say who changed it, without buttons, and a
//! new round of cards goes out, in the transaction of the change. A waiting post that is cancelled
//! (`Store::cancel_post_with_cards`) has its cards edited to say who withdrew it. An admin's "publish now" on a
//! waiting post approves it.

use crate::ctx::{send_to, Active, App, Ctx, HandlerResult, TgBot};
use crate::screens::time::local_time;
use teloxide::prelude::*;
use tochen_domain::clock::Millis;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::PostStatus;
use tochen_domain::{AccountId, PostId, TenantId};
use tochen_store::StoreError;
use tochen_store::{CardOutcome, EditOutcome, Post, PostEdit, ScheduleError, Target};

pub use tochen_posting::approval::title_of;
use tochen_posting::approval::{self, Actor};

/// Submits `post` for approval at `at` on `accounts` (`tochen_posting::approval::submit`).
pub async fn submit(
    app: &App,
    ctx: &Ctx,
    a: &Active,
    post: &Post,
    at: Millis,
    accounts: &[AccountId],
) -> Result<Vec<Target>, ScheduleError> {
    approval::submit(&app.store, &a.tenant, &ctx.user.first_name, post, at, accounts).await
}

/// The member pressing buttons, as the shared post operations name them.
fn actor<'a>(ctx: &'a Ctx, a: &Active) -> Actor<'a> {
    Actor { user: Some(ctx.user.id), name: &ctx.user.first_name, role: a.role }
}

/// Moves a waiting `post` to `at` and submits it again (`tochen_posting::approval::resubmit`). The author is told
/// when someone else moved it.
pub async fn resubmit(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    post: &Post,
    at: Millis,
) -> Result<Vec<Target>, ScheduleError> {
    let (targets, author) = approval::resubmit(&app.store, &a.tenant, &actor(ctx, a), post, at).await?;
    if author.is_some() {
        let (name, title) = (escape_html(&ctx.user.first_name), title_of(post));
        let al = author_lang(app, post).await;
        let text = tf(
            &al,
            "bot.approval.author_moved",
            &[("name", &name), ("title", &title), ("when", &local_time(&al, a, at))],
        );
        // The change is made; a failure to tell the author is logged, not turned into a failed change.
        if let Err(e) = tell_author(bot, ctx, post, text).await {
            tracing::warn!(error = %e, post = %post.id, "cannot tell the author their post was moved");
        }
    }
    Ok(targets)
}

/// Cancels a post that has not gone out; a waiting post's cards say who withdrew it (their buttons go), in the
/// same transaction, and its author is told when someone else withdrew it. `Ok(false)` when the post moved on.
pub async fn cancel(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, post: &Post) -> anyhow::Result<bool> {
    if !approval::cancel(&app.store, &a.tenant, &actor(ctx, a), post).await? {
        return Ok(false);
    }
    let (name, title) = (escape_html(&ctx.user.first_name), title_of(post));
    if post.status == PostStatus::PendingApproval && post.author_id.is_some_and(|u| u != ctx.user.id) {
        let al = author_lang(app, post).await;
        let text = tf(&al, "bot.approval.author_withdrawn", &[("name", &name), ("title", &title)]);
        if let Err(e) = tell_author(bot, ctx, post, text).await {
            tracing::warn!(error = %e, post = %post.id, "cannot tell the author their post was withdrawn");
        }
    }
    Ok(true)
}

/// Why a card's button for version `version` of post `id` changed nothing: the post was withdrawn, a change
/// replaced the request with a newer one, or it was decided already.
pub async fn why_refused(app: &App, tenant: TenantId, lang: &str, id: PostId, version: i64) -> anyhow::Result<String> {
    let post = match app.store.post(tenant, id).await {
        Ok(p) => p,
        Err(StoreError::NotFound(_)) => return Ok(t(lang, "bot.post.not_found")),
        Err(e) => return Err(e.into()),
    };
    if post.status == PostStatus::Cancelled {
        return Ok(t(lang, "bot.approval.withdrawn"));
    }
    if app.store.approval_round(tenant, id).await?.is_some_and(|round| round > version) {
        return Ok(t(lang, "bot.approval.replaced"));
    }
    Ok(t(lang, "bot.approval.already"))
}

pub async fn tell_author(bot: &TgBot, ctx: &Ctx, post: &Post, text: String) -> HandlerResult {
    if let Some(chat) = post.author_chat_id {
        send_to(bot, &ctx.dlg, ChatId(chat), text, None).await?;
    }
    Ok(())
}

/// An admin's "publish now" on a post waiting for approval: approves it, to go out now.
pub async fn approve_now(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, id: PostId, version: i64) -> HandlerResult {
    decide_approve(bot, app, ctx, a, id, version, None, true).await
}

#[allow(clippy::too_many_arguments)]
pub async fn decide_approve(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    id: PostId,
    version: i64,
    shown: Option<(i64, i64)>,
    now: bool,
) -> HandlerResult {
    let l = ctx.lang;
    let Ok(before) = app.store.post(a.tenant.id, id).await else {
        return ctx.refuse(bot, t(l, "bot.post.not_found")).await;
    };
    let name = escape_html(&ctx.user.first_name);
    let title = title_of(&before);
    let on_cards = |lang: &str| tf(lang, "bot.approval.approved_by", &[("name", &name), ("title", &title)]);
    let outcome = CardOutcome { text: &on_cards, shown };
    let approved = if now {
        app.store.approve_post_now_with_cards(a.tenant.id, id, version, ctx.user.id, &outcome).await
    } else {
        app.store.approve_post_with_cards(a.tenant.id, id, version, ctx.user.id, &outcome).await
    };
    match approved {
        Ok(_) => {}
        Err(ScheduleError::Store(tochen_store::StoreError::NotFound(_))) => {
            return ctx.refuse(bot, t(l, "bot.post.not_found")).await
        }
        Err(ScheduleError::Stale) | Err(ScheduleError::WrongStatus(_)) => {
            return ctx.refuse(bot, why_refused(app, a.tenant.id, l, id, version).await?).await
        }
        Err(e) => return Err(e.into()),
    }
    app.store
        .audit(a.tenant.id, Some(ctx.user.id), "post.approved", "post", Some(&id.to_db()), serde_json::json!({}))
        .await?;
    tochen_store::events::post_scheduled(&app.store, a.tenant.id, id).await?;
    let post = app.store.post(a.tenant.id, id).await?;
    ctx.answer(bot, None).await?;
    ctx.show(bot, if now { t(l, "bot.queue.publishing_now") } else { on_cards(l) }, None).await?;
    let author_lang = author_lang(app, &post).await;
    let text = tf(
        &author_lang,
        "bot.approval.author_approved",
        &[("title", &title_of(&post)), ("when", &local_time(&author_lang, a, post.scheduled_at.unwrap_or_default()))],
    );
    tell_author(bot, ctx, &post, text).await
}

pub async fn author_lang(app: &App, post: &Post) -> String {
    match post.author_id {
        Some(u) => match app.store.user(u).await {
            Ok(u) => tochen_domain::i18n::normalize(
                u.language_override.as_deref().or(u.language_code.as_deref()).unwrap_or("en"),
            )
            .to_owned(),
            Err(_) => "en".into(),
        },
        None => "en".into(),
    }
}

/// Applies `edit` to `post` (read by the caller at the version its button carried). A scheduled or waiting post
/// gets its approval round in the same transaction: a waiting post a new round (the earlier cards say who changed
/// it), and an approved post changed by an editor goes back to approval.
pub async fn edit(
    app: &App,
    ctx: &Ctx,
    a: &Active,
    post: &Post,
    change: &PostEdit,
) -> tochen_store::Result<EditOutcome> {
    approval::edit(&app.store, &a.tenant, &actor(ctx, a), post, change).await
}
