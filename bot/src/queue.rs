//! Lists: `/queue` (upcoming, soonest first, paginated, with reschedule / cancel / publish now; `/drafts` and
//! `/history` are the library's views, `library/`), and the scheduler's buttons on targets whose
//! outcome was unknown or failed. On a post waiting for approval, reschedule submits it again, cancel withdraws
//! it and an admin's publish now approves it, each with its approval cards updated in the same transaction
//! (`cards.rs`); reschedule opens the schedule flow (`handover.rs`).

use crate::cards;
use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::draft::{load_for_change, platform_name};
use crate::screens::names::status_name;
use crate::screens::time::local_time;
use tochen_domain::clock::now_ms;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{PostId, TargetId};
use tochen_domain::{PostStatus, Role, TargetStatus};
use tochen_store::StoreError;
use tochen_telegram::button::{Button, Draft, DraftAct, Queue, Target};
use tochen_telegram::text::clip;

const PAGE: i64 = 5;
/// Longest title shown in a list or on a button.
const TITLE_CHARS: usize = 100;
const UPCOMING: [PostStatus; 2] = [PostStatus::Scheduled, PostStatus::PendingApproval];

/// The ‹ › row of a paged list: back when not on the first page, on when there is more.
fn nav(page: u32, more: bool, to: fn(u32) -> Queue) -> Vec<(String, Button)> {
    let mut row = Vec::new();
    if page > 0 {
        row.push(("‹".to_owned(), Button::Queue(to(page - 1))));
    }
    if more {
        row.push(("›".to_owned(), Button::Queue(to(page.saturating_add(1)))));
    }
    row
}

/// A page's offset; a forged page number far past the end finds an empty page, never an overflow.
fn offset(page: u32, per_page: i64) -> i64 {
    i64::from(page).saturating_mul(per_page)
}

pub async fn queue(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    queue_page(bot, app, ctx, 0).await
}

/// The buttons of the post lists and of a queued post's screen (rescheduling opens the schedule flow).
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Queue) -> HandlerResult {
    match b {
        Queue::Page(p) => queue_page(bot, app, ctx, p).await,
        Queue::Item(id) => item(bot, app, ctx, id).await,
        Queue::Reschedule(..) | Queue::DraftsPage(_) | Queue::HistoryPage(_) => {
            crate::handover::not_here(&bot, &ctx, &Button::Queue(b)).await
        }
        Queue::Cancel(id, v) => cancel_post(bot, app, ctx, id, v).await,
        Queue::PublishNow(id, v) => publish_now(bot, app, ctx, id, v).await,
        Queue::Earlier(id, v) => swap(bot, app, ctx, id, v, true).await,
        Queue::Later(id, v) => swap(bot, app, ctx, id, v, false).await,
    }
}

pub async fn queue_page(bot: TgBot, app: App, ctx: Ctx, page: u32) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    ctx.answer(&bot, None).await?;
    let l = ctx.lang;
    let posts = app.store.posts_with_status(a.tenant.id, &UPCOMING, offset(page, PAGE), PAGE + 1).await?;
    if posts.is_empty() && page == 0 {
        return ctx.show(&bot, t(l, "bot.queue.empty"), None).await;
    }
    let mut text = tf(l, "bot.queue.title", &[("page", &(page + 1))]);
    let mut rows = Vec::new();
    for (i, p) in posts.iter().take(PAGE as usize).enumerate() {
        let n = page as usize * PAGE as usize + i + 1;
        let when = p.scheduled_at.map(|at| local_time(l, &a, at)).unwrap_or_default();
        let title = escape_html(&clip(&p.title, TITLE_CHARS));
        text.push_str(&format!("\n{n}. {when}: <b>{title}</b> ({})", status_name(l, p.status)));
        rows.push(vec![(format!("{n}. {}", clip(&p.title, TITLE_CHARS)), Button::Queue(Queue::Item(p.id)))]);
    }
    rows.push(nav(page, posts.len() as i64 > PAGE, Queue::Page));
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
    let when = post.scheduled_at.map(|at| local_time(l, &a, at)).unwrap_or_default();
    let text = tf(
        l,
        "bot.queue.item",
        &[("title", &escape_html(&post.title)), ("when", &when), ("status", &status_name(l, post.status))],
    );
    let v = post.version;
    let mut rows = if a.role.at_least(Role::Editor) && UPCOMING.contains(&post.status) {
        // Publishing a post that waits for approval approves it: an admin's decision, so only admins see it.
        let now = (post.status != PostStatus::PendingApproval || a.role == Role::Admin)
            .then(|| (t(l, "bot.queue.btn_now"), Button::Queue(Queue::PublishNow(id, v))));
        let mut rows = vec![
            std::iter::once((t(l, "bot.queue.btn_reschedule"), Button::Queue(Queue::Reschedule(id, v))))
                .chain(now)
                .collect(),
            vec![(t(l, "bot.queue.btn_edit"), Button::Draft(Draft::Act(DraftAct::Show, id, v)))],
            vec![
                (t(l, "bot.queue.btn_cancel"), Button::Queue(Queue::Cancel(id, v))),
                (t(l, "bot.back"), Button::Queue(Queue::Page(0))),
            ],
        ];
        // Reordering swaps times with the neighbour in the queue; a waiting post moves by Reschedule.
        if post.status == PostStatus::Scheduled {
            rows.insert(
                1,
                vec![
                    (t(l, "bot.queue.btn_earlier"), Button::Queue(Queue::Earlier(id, v))),
                    (t(l, "bot.queue.btn_later"), Button::Queue(Queue::Later(id, v))),
                ],
            );
        }
        rows
    } else {
        vec![vec![(t(l, "bot.back"), Button::Queue(Queue::Page(0)))]]
    };
    if a.role.at_least(Role::Editor) {
        rows.insert(rows.len() - 1, vec![crate::screens::buttons::duplicate_button(l, id)]);
    }
    ctx.show(&bot, text, Some(kb(rows))).await
}

pub async fn cancel_post(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &UPCOMING).await? else { return Ok(()) };
    // A waiting post's approval cards say who withdrew it, in the transaction of the cancel.
    if !cards::cancel(&bot, &app, &ctx, &a, &post).await? {
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
        return cards::approve_now(&bot, &app, &ctx, &a, id, version).await;
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

/// How many queued posts "Earlier" and "Later" look through for the neighbour.
const REORDER_WINDOW: i64 = 1000;

/// "Earlier" / "Later" on a scheduled post: it swaps times with the previous / next post in the queue (both posts'
/// publish jobs move with them, in one transaction). A neighbour waiting for approval is not moved: it would need
/// a new approval round, so the person is told to reschedule instead.
async fn swap(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64, earlier: bool) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    let scheduled = [PostStatus::Scheduled];
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &scheduled).await? else { return Ok(()) };
    let queued = app.store.posts_with_status(a.tenant.id, &UPCOMING, 0, REORDER_WINDOW).await?;
    let Some(i) = queued.iter().position(|p| p.id == post.id) else {
        return ctx.refuse(&bot, t(l, "bot.stale")).await;
    };
    let neighbour = if earlier { i.checked_sub(1).and_then(|j| queued.get(j)) } else { queued.get(i + 1) };
    let Some(other) = neighbour else {
        let key = if earlier { "bot.queue.already_first" } else { "bot.queue.already_last" };
        return ctx.refuse(&bot, t(l, key)).await;
    };
    if other.status != PostStatus::Scheduled {
        return ctx.refuse(&bot, t(l, "bot.queue.neighbour_waiting")).await;
    }
    if !app.store.swap_scheduled_posts(a.tenant.id, (post.id, post.version), (other.id, other.version)).await? {
        return ctx.refuse(&bot, t(l, "bot.stale")).await;
    }
    let details = serde_json::json!({"with": other.id.to_db(), "at": other.scheduled_at, "earlier": earlier});
    app.store.audit(a.tenant.id, Some(ctx.user.id), "post.reordered", "post", Some(&id.to_db()), details).await?;
    item(bot, app, ctx, id).await
}

/// The scheduler's buttons on a target: "it's published", "post again", "skip this platform".
pub async fn on_target(bot: TgBot, app: App, ctx: Ctx, b: Target) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    let id: TargetId = b.target();
    let target = match app.store.target(a.tenant.id, id).await {
        Ok(x) => x,
        Err(StoreError::NotFound(_)) => return ctx.refuse(&bot, t(l, "bot.post.not_found")).await,
        Err(e) => return Err(e.into()),
    };
    // Each is the store's one implementation of that move, which recomputes the post in the same transaction.
    let (done, action, key) = match b {
        Target::Published(_) => {
            (app.store.confirm_target_by_hand(a.tenant.id, id).await?, "target.confirmed", "bot.target.confirmed")
        }
        Target::Retry(_) => {
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
