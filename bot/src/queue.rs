//! Lists: `/queue` (upcoming, paginated, with reschedule / cancel / publish now), `/drafts`, `/history` (with
//! permalinks), and the scheduler's buttons on targets whose outcome was unknown or failed. On a post waiting for
//! approval, reschedule submits it again, cancel withdraws it and an admin's publish now approves it, each with
//! its approval cards updated in the same transaction (`approval.rs`).

use crate::codec::{Cb, DraftAct};
use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::draft::{load_for_change, platform_name};
use crate::kb::kb;
use crate::schedule::local_time;
use tochen_core::clock::now_ms;
use tochen_core::domain::{PostStatus, Role, TargetStatus};
use tochen_core::i18n::{t, tf};
use tochen_core::jobs::escape_html;
use tochen_core::{PostId, StoreError, TargetId};

const PAGE: i64 = 5;
const UPCOMING: [PostStatus; 2] = [PostStatus::Scheduled, PostStatus::PendingApproval];

fn status_name(lang: &str, s: PostStatus) -> String {
    match s {
        PostStatus::PendingApproval => t(lang, "bot.status.pending_approval"),
        PostStatus::Scheduled => t(lang, "bot.status.scheduled"),
        PostStatus::Published => t(lang, "bot.status.published"),
        PostStatus::PartiallyPublished => t(lang, "bot.status.partially_published"),
        PostStatus::Failed => t(lang, "bot.status.failed"),
        _ => s.as_str().to_owned(),
    }
}

pub async fn queue(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    queue_page(bot, app, ctx, 0).await
}

pub async fn queue_page(bot: TgBot, app: App, ctx: Ctx, page: u32) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    ctx.answer(&bot, None).await?;
    let l = ctx.lang;
    let posts = app.store.posts_with_status(a.tenant.id, &UPCOMING, page as i64 * PAGE, PAGE + 1).await?;
    if posts.is_empty() && page == 0 {
        return ctx.show(&bot, t(l, "bot.queue.empty"), None).await;
    }
    let mut text = tf(l, "bot.queue.title", &[("page", &(page + 1))]);
    let mut rows = Vec::new();
    for (i, p) in posts.iter().take(PAGE as usize).enumerate() {
        let n = page as usize * PAGE as usize + i + 1;
        let when = p.scheduled_at.map(|at| local_time(&a, at)).unwrap_or_default();
        text.push_str(&format!("\n{n}. {when}: <b>{}</b> ({})", escape_html(&p.title), status_name(l, p.status)));
        rows.push(vec![(format!("{n}. {}", p.title), Cb::QueueItem(p.id))]);
    }
    let mut nav = Vec::new();
    if page > 0 {
        nav.push(("‹".to_owned(), Cb::QueuePage(page - 1)));
    }
    if posts.len() as i64 > PAGE {
        nav.push(("›".to_owned(), Cb::QueuePage(page + 1)));
    }
    rows.push(nav);
    ctx.show(&bot, text, Some(kb(rows))).await
}

pub async fn item(bot: TgBot, app: App, ctx: Ctx, id: PostId) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let l = ctx.lang;
    let post = match app.store.post(a.tenant.id, id).await {
        Ok(p) => p,
        Err(StoreError::NotFound(_)) => return ctx.refuse(&bot, t(l, "bot.post.not_found")).await,
        Err(e) => return Err(e.into()),
    };
    ctx.answer(&bot, None).await?;
    // Coming back from a reschedule: the typed-time conversation ends here.
    ctx.dlg.exit().await?;
    let when = post.scheduled_at.map(|at| local_time(&a, at)).unwrap_or_default();
    let text = tf(
        l,
        "bot.queue.item",
        &[("title", &escape_html(&post.title)), ("when", &when), ("status", &status_name(l, post.status))],
    );
    let v = post.version;
    let rows = if a.role.at_least(Role::Editor) && UPCOMING.contains(&post.status) {
        vec![
            vec![
                (t(l, "bot.queue.btn_reschedule"), Cb::Reschedule(id, v)),
                (t(l, "bot.queue.btn_now"), Cb::PublishNow(id, v)),
            ],
            vec![(t(l, "bot.queue.btn_cancel"), Cb::CancelPost(id, v)), (t(l, "bot.back"), Cb::QueuePage(0))],
        ]
    } else {
        vec![vec![(t(l, "bot.back"), Cb::QueuePage(0))]]
    };
    ctx.show(&bot, text, Some(kb(rows))).await
}

pub async fn cancel_post(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &UPCOMING).await? else { return Ok(()) };
    // A waiting post's approval cards say who withdrew it, in the transaction of the cancel.
    if !crate::approval::cancel(&bot, &app, &ctx, &a, &post).await? {
        return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await;
    }
    app.store
        .audit(a.tenant.id, Some(ctx.user.id), "post.cancelled", "post", Some(&id.to_db()), serde_json::json!({}))
        .await?;
    ctx.answer(&bot, None).await?;
    ctx.show(&bot, t(ctx.lang, "bot.queue.cancelled"), None).await
}

pub async fn publish_now(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &UPCOMING).await? else { return Ok(()) };
    if post.status == PostStatus::PendingApproval {
        if a.role != Role::Admin {
            return ctx.refuse(&bot, t(ctx.lang, "bot.role.need_admin")).await;
        }
        // An admin publishing a waiting post approves it; its cards say so.
        return crate::approval::approve_now(&bot, &app, &ctx, &a, id, version).await;
    }
    if !app.store.reschedule_post(a.tenant.id, id, version, now_ms()).await? {
        return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await;
    }
    app.store
        .audit(a.tenant.id, Some(ctx.user.id), "post.publish_now", "post", Some(&id.to_db()), serde_json::json!({}))
        .await?;
    ctx.answer(&bot, None).await?;
    ctx.show(&bot, t(ctx.lang, "bot.queue.publishing_now"), None).await
}

pub async fn reschedule(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &UPCOMING).await? else { return Ok(()) };
    ctx.answer(&bot, None).await?;
    crate::schedule::ask_time(&bot, &app, &ctx, &a, &post, true).await
}

pub async fn drafts(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let posts = app.store.posts_with_status(a.tenant.id, &[PostStatus::Draft, PostStatus::Rejected], 0, 20).await?;
    if posts.is_empty() {
        return ctx.say(&bot, t(ctx.lang, "bot.drafts.empty"), None).await.map(|_| ());
    }
    let rows = posts.iter().map(|p| vec![(p.title.clone(), Cb::Draft(DraftAct::Show, p.id, p.version))]).collect();
    ctx.say(&bot, t(ctx.lang, "bot.drafts.title"), Some(kb(rows))).await?;
    Ok(())
}

pub async fn history(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let l = ctx.lang;
    let done = [PostStatus::Published, PostStatus::PartiallyPublished, PostStatus::Failed];
    let posts = app.store.posts_with_status(a.tenant.id, &done, 0, 200).await?;
    if posts.is_empty() {
        return ctx.say(&bot, t(l, "bot.history.empty"), None).await.map(|_| ());
    }
    let mut text = t(l, "bot.history.title");
    for p in posts.iter().rev().take(10) {
        let when = p.scheduled_at.map(|at| local_time(&a, at)).unwrap_or_default();
        text.push_str(&format!("\n\n<b>{}</b> ({}), {when}", escape_html(&p.title), status_name(l, p.status)));
        for target in app.store.targets_of_post(a.tenant.id, p.id).await? {
            let link = target
                .permalink
                .as_deref()
                .map(|u| format!(" <a href=\"{}\">{}</a>", escape_html(u), t(l, "bot.history.open")))
                .unwrap_or_default();
            let err = target.error_message.as_deref().map(|e| format!(": {}", escape_html(e))).unwrap_or_default();
            text.push_str(&format!("\n• {} {}{err}{link}", platform_name(l, target.platform), target.status));
        }
    }
    ctx.say(&bot, text, None).await?;
    Ok(())
}

/// The scheduler's buttons on a target: "it's published", "post again", "skip this platform".
pub async fn on_target(bot: TgBot, app: App, ctx: Ctx, cb: Cb) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    let id: TargetId = match cb {
        Cb::TargetPublished(x) | Cb::TargetRetry(x) | Cb::TargetSkip(x) => x,
        _ => return Ok(()),
    };
    let target = match app.store.target(a.tenant.id, id).await {
        Ok(x) => x,
        Err(StoreError::NotFound(_)) => return ctx.refuse(&bot, t(l, "bot.post.not_found")).await,
        Err(e) => return Err(e.into()),
    };
    // Each is the store's one implementation of that move, which recomputes the post in the same transaction.
    let (done, action, key) = match cb {
        Cb::TargetPublished(_) => {
            (app.store.confirm_target_by_hand(a.tenant.id, id).await?, "target.confirmed", "bot.target.confirmed")
        }
        Cb::TargetRetry(_) => {
            let from = [TargetStatus::Unknown, TargetStatus::Failed];
            let retried = app.store.retry_target(a.tenant.id, id, &from, None, true).await?;
            (retried, "target.retried", "bot.target.retried")
        }
        _ => (app.store.skip_target(a.tenant.id, id).await?, "target.skipped", "bot.target.skipped"),
    };
    if !done {
        let status = target.status;
        let text =
            if status == TargetStatus::Published { t(l, "bot.target.already_published") } else { t(l, "bot.stale") };
        return ctx.refuse(&bot, text).await;
    }
    app.store.audit(a.tenant.id, Some(ctx.user.id), action, "target", Some(&id.to_db()), serde_json::json!({})).await?;
    ctx.answer(&bot, None).await?;
    let text = match key {
        "bot.target.confirmed" => t(l, "bot.target.confirmed"),
        "bot.target.retried" => t(l, "bot.target.retried"),
        _ => t(l, "bot.target.skipped"),
    };
    let msg_text = tf(l, "bot.target.done", &[("platform", &platform_name(l, target.platform)), ("what", &text)]);
    ctx.show(&bot, msg_text, None).await
}
