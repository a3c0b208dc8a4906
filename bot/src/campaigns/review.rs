//! Reviewing a batch: its drafts as a list (in pages), each with a short view; admins approve all or one, editors
//! and admins edit (the draft screen) or drop one (it is discarded). Approved drafts are spread over the campaign
//! (`spread.rs`).
//!
//! Editors' batches: an editor cannot approve or schedule, so the review offers "Send for approval", which sends
//! ONE card for the whole batch to the admins and the team chat (the same recipients and durable `notify` jobs as
//! a post's approval cards, `cards.rs`), whose button opens this review for the admin; the per-post view is the
//! review's own. A post's own approval round (`Store::submit_for_approval`) is not used: it needs a time per post,
//! which the spread decides only once the admin approved.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::names::status_name;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::jobs::{NotifyButton, NotifyPayload};
use tochen_domain::{BatchItemStatus, PostId, PostStatus, Role};
use tochen_store::{Batch, BatchItem, Campaign, Post};
use tochen_telegram::button::{Button, Campaign as Cb, Draft, DraftAct};
use tochen_telegram::text::clip;

/// Drafts per page of the review.
const PAGE: usize = 8;
/// Longest text the per-post view shows.
const VIEW_CHARS: usize = 1500;

pub async fn on_button(bot: &TgBot, app: &App, ctx: &Ctx, b: Cb) -> HandlerResult {
    let needed = match b {
        Cb::Approve(..) | Cb::ApproveAll(_) => Role::Admin,
        Cb::Drop(..) | Cb::SendForApproval(_) => Role::Editor,
        _ => Role::Viewer,
    };
    let Some(a) = ctx.require(bot, needed).await? else { return Ok(()) };
    let l = ctx.lang;
    let batch_id = match b {
        Cb::Review(x, _) | Cb::Post(x, _) | Cb::Approve(x, _) | Cb::ApproveAll(x) | Cb::Drop(x, _) => x,
        Cb::SendForApproval(x) => x,
        _ => return ctx.refuse(bot, t(l, "bot.stale")).await,
    };
    let Some((batch, campaign)) = super::load_batch(bot, app, ctx, &a, batch_id).await? else { return Ok(()) };
    let items = app.store.batch_items(a.tenant.id, batch.id).await?;
    // A post a button names must be one of this batch's drafts.
    let of_batch = |p: PostId| items.iter().find(|i| i.post_id == Some(p)).cloned();
    match b {
        Cb::Review(_, page) => {
            ctx.answer(bot, None).await?;
            // From the progress message the review is a message of its own: the progress stays readable.
            let from_progress = ctx.screen.map(|m| i64::from(m.0)) == batch.progress_message_id;
            let ctx = if from_progress { ctx.in_new_message() } else { ctx.clone() };
            list(bot, app, &ctx, &a, &batch, &campaign, &items, page as usize).await
        }
        Cb::Post(_, p) => {
            let Some(item) = of_batch(p) else { return ctx.refuse(bot, t(l, "bot.stale")).await };
            ctx.answer(bot, None).await?;
            view(bot, app, ctx, &a, &batch, &item, p).await
        }
        Cb::Approve(_, p) => {
            if of_batch(p).is_none() {
                return ctx.refuse(bot, t(l, "bot.stale")).await;
            }
            let n = app.store.approve_batch_drafts(a.tenant.id, batch.id, Some(p), ctx.user.id).await?;
            if n == 0 {
                return ctx.refuse(bot, t(l, "campaign.review.not_approvable")).await;
            }
            audit(app, ctx, &a, "campaign.draft_approved", &batch, Some(p)).await?;
            ctx.answer(bot, Some(t(l, "campaign.review.approved_one"))).await?;
            let items = app.store.batch_items(a.tenant.id, batch.id).await?;
            list(bot, app, ctx, &a, &batch, &campaign, &items, 0).await
        }
        Cb::ApproveAll(_) => {
            let n = app.store.approve_batch_drafts(a.tenant.id, batch.id, None, ctx.user.id).await?;
            audit(app, ctx, &a, "campaign.drafts_approved", &batch, None).await?;
            let notice = tf(l, "campaign.review.approved_all", &[("n", &n)]);
            ctx.answer(bot, Some(notice)).await?;
            let items = app.store.batch_items(a.tenant.id, batch.id).await?;
            list(bot, app, ctx, &a, &batch, &campaign, &items, 0).await
        }
        Cb::Drop(_, p) => {
            if of_batch(p).is_none() {
                return ctx.refuse(bot, t(l, "bot.stale")).await;
            }
            let post = app.store.post(a.tenant.id, p).await?;
            if post.status != PostStatus::Draft || !app.store.cancel_post(a.tenant.id, p, post.version).await? {
                return ctx.refuse(bot, t(l, "bot.post.wrong_status")).await;
            }
            audit(app, ctx, &a, "post.discarded", &batch, Some(p)).await?;
            ctx.answer(bot, Some(t(l, "campaign.review.dropped"))).await?;
            list(bot, app, ctx, &a, &batch, &campaign, &items, 0).await
        }
        Cb::SendForApproval(_) => send_for_approval(bot, app, ctx, &a, &batch, &campaign, &items).await,
        _ => ctx.refuse(bot, t(l, "bot.stale")).await,
    }
}

async fn audit(app: &App, ctx: &Ctx, a: &Active, action: &str, b: &Batch, post: Option<PostId>) -> HandlerResult {
    let details = serde_json::json!({"batch": b.id.to_db(), "post": post.map(|p| p.to_db())});
    app.store.audit(a.tenant.id, Some(ctx.user.id), action, "campaign", Some(&b.campaign_id.to_db()), details).await?;
    Ok(())
}

/// The batch's drafts: the items that made one, in order, with their posts.
pub(crate) async fn drafts(app: &App, a: &Active, items: &[BatchItem]) -> anyhow::Result<Vec<(BatchItem, Post)>> {
    let mut out = Vec::new();
    for i in items.iter().filter(|i| i.status == BatchItemStatus::Done) {
        let Some(p) = i.post_id else { continue };
        if let Ok(post) = app.store.post(a.tenant.id, p).await {
            out.push((i.clone(), post));
        }
    }
    Ok(out)
}

/// How a draft stands in the review.
fn mark(item: &BatchItem, post: &Post) -> &'static str {
    match post.status {
        PostStatus::Draft if item.approved_at.is_some() => "✅",
        PostStatus::Draft => "📝",
        PostStatus::Cancelled => "🗑",
        PostStatus::Scheduled | PostStatus::PendingApproval => "🗓",
        PostStatus::Published | PostStatus::PartiallyPublished => "📣",
        _ => "•",
    }
}

#[allow(clippy::too_many_arguments)]
async fn list(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    batch: &Batch,
    campaign: &Campaign,
    items: &[BatchItem],
    page: usize,
) -> HandlerResult {
    let l = ctx.lang;
    let all = drafts(app, a, items).await?;
    let pages = all.len().div_ceil(PAGE).max(1);
    let page = page.min(pages - 1);
    let approved = all.iter().filter(|(i, p)| p.status == PostStatus::Draft && i.approved_at.is_some()).count();
    let waiting = all.iter().filter(|(i, p)| p.status == PostStatus::Draft && i.approved_at.is_none()).count();
    let mut text = tf(
        l,
        "campaign.review.title",
        &[
            ("name", &escape_html(&clip(&campaign.fields.name, 60))),
            ("n", &all.len()),
            ("approved", &approved),
            ("waiting", &waiting),
            ("page", &(page + 1)),
            ("pages", &pages),
        ],
    );
    if all.is_empty() {
        text.push_str("\n\n");
        text.push_str(&t(l, "campaign.review.empty"));
    }
    let mut rows = Vec::new();
    for (n, (item, post)) in all.iter().enumerate().skip(page * PAGE).take(PAGE) {
        let title = clip(&post.title, 50);
        text.push_str(&format!("\n{} {}. {}", mark(item, post), n + 1, escape_html(&title)));
        rows.push(vec![(
            format!("{} {}. {}", mark(item, post), n + 1, title),
            Button::Campaign(Cb::Post(batch.id, post.id)),
        )]);
    }
    let mut nav = Vec::new();
    if page > 0 {
        nav.push(("◀️".to_owned(), Button::Campaign(Cb::Review(batch.id, page as u32 - 1))));
    }
    if page + 1 < pages {
        nav.push(("▶️".to_owned(), Button::Campaign(Cb::Review(batch.id, page as u32 + 1))));
    }
    rows.push(nav);
    if a.role == Role::Admin {
        let mut row = Vec::new();
        if waiting > 0 {
            row.push((t(l, "campaign.review.btn_approve_all"), Button::Campaign(Cb::ApproveAll(batch.id))));
        }
        if approved > 0 {
            row.push((t(l, "campaign.review.btn_spread"), Button::Campaign(Cb::Spread(batch.id))));
        }
        rows.push(row);
    } else if a.role == Role::Editor && waiting > 0 {
        rows.push(vec![(t(l, "campaign.review.btn_send"), Button::Campaign(Cb::SendForApproval(batch.id)))]);
    }
    rows.push(vec![(t(l, "bot.back"), Button::Campaign(Cb::Show(campaign.id)))]);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// One draft of the batch: its title, status, topic and main text, and what the caller may do with it.
async fn view(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    batch: &Batch,
    item: &BatchItem,
    p: PostId,
) -> HandlerResult {
    let l = ctx.lang;
    let post = app.store.post(a.tenant.id, p).await?;
    let mut text = format!(
        "{} <b>{}</b>\n{}",
        mark(item, &post),
        escape_html(&clip(&post.title, 200)),
        status_name(l, post.status)
    );
    if item.approved_at.is_some() && post.status == PostStatus::Draft {
        text.push_str(&format!(" · {}", t(l, "campaign.review.is_approved")));
    }
    text.push_str(&format!(
        "\n<i>{}</i>\n\n{}",
        escape_html(&clip(&item.item.topic, 200)),
        escape_html(&clip(&post.body, VIEW_CHARS))
    ));
    let mut rows = Vec::new();
    if post.status == PostStatus::Draft {
        let mut row = Vec::new();
        if a.role == Role::Admin && item.approved_at.is_none() {
            row.push((t(l, "campaign.review.btn_approve"), Button::Campaign(Cb::Approve(batch.id, p))));
        }
        if a.role.at_least(Role::Editor) {
            row.push((t(l, "campaign.review.btn_edit"), Button::Draft(Draft::Act(DraftAct::Show, p, post.version))));
            row.push((t(l, "campaign.review.btn_drop"), Button::Campaign(Cb::Drop(batch.id, p))));
        }
        rows.push(row);
    }
    rows.push(vec![(t(l, "campaign.review.btn_list"), Button::Campaign(Cb::Review(batch.id, 0)))]);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// An editor's batch goes to the admins as one card, whose button opens the review.
async fn send_for_approval(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    batch: &Batch,
    campaign: &Campaign,
    items: &[BatchItem],
) -> HandlerResult {
    let l = ctx.lang;
    let all = drafts(app, a, items).await?;
    let waiting = all.iter().filter(|(i, p)| p.status == PostStatus::Draft && i.approved_at.is_none()).count();
    if waiting == 0 {
        return ctx.refuse(bot, t(l, "campaign.review.nothing_to_send")).await;
    }
    let (author, name) = (escape_html(&ctx.user.first_name), escape_html(&clip(&campaign.fields.name, 60)));
    for (chat, lang) in tochen_posting::approval::recipients(&app.store, &a.tenant).await? {
        let card = NotifyPayload {
            chat_id: chat,
            text_html: tf(&lang, "campaign.review.card", &[("author", &author), ("name", &name), ("n", &waiting)]),
            buttons: vec![vec![NotifyButton {
                text: t(&lang, "campaign.review.btn_open"),
                callback_data: Some(Button::Campaign(Cb::Review(batch.id, 0)).encode()),
                url: None,
            }]],
            attachment_path: None,
        };
        app.store.enqueue_args(Some(a.tenant.id), &card).await?;
    }
    audit(app, ctx, a, "campaign.batch_submitted", batch, None).await?;
    ctx.answer(bot, None).await?;
    let text = tf(l, "campaign.review.sent", &[("n", &waiting)]);
    ctx.show(bot, text, None).await
}
