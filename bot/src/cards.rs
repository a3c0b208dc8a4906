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
use crate::screens::time::{local_time, local_time_in, tz_of};
use teloxide::prelude::*;
use tochen_domain::clock::Millis;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{normalize, t, tf};
use tochen_domain::jobs::{NotifyButton, NotifyPayload};
use tochen_domain::{AccountId, PostId, TenantId};
use tochen_domain::{PostStatus, Role};
use tochen_store::StoreError;
use tochen_store::{ApprovalCard, CardOutcome, EditApproval, EditOutcome, Post, PostEdit, ScheduleError, Target};
use tochen_telegram::button::{Approval, Button, Draft, DraftAct};
use tochen_telegram::text::clip;

/// Longest title a card or a notice about a post quotes.
const TITLE_CHARS: usize = 200;

/// A post's title as cards and notices quote it: escaped, and cut short when long.
pub fn title_of(post: &Post) -> String {
    escape_html(&clip(&post.title, TITLE_CHARS))
}

/// What a card says, apart from the buttons (which carry the post's version once submitted).
struct CardText {
    author: String,
    /// The workspace's zone and the time: each card writes it in its own language.
    tz: chrono_tz::Tz,
    at: Millis,
    title: String,
}

/// The card for `chat` in `lang`, with buttons for version `version` of post `id`.
fn card(lang: &str, chat: i64, c: &CardText, platforms: &str, id: PostId, version: i64) -> NotifyPayload {
    let when = local_time_in(lang, c.tz, c.at);
    let text = tf(
        lang,
        "bot.approval.card",
        &[("author", &c.author), ("when", &when), ("title", &c.title), ("platforms", &platforms)],
    );
    let button =
        |key: &str, cb: Button| NotifyButton { text: t(lang, key), callback_data: Some(cb.encode()), url: None };
    NotifyPayload {
        chat_id: chat,
        text_html: text,
        buttons: vec![vec![
            button("bot.approval.btn_preview", Button::Draft(Draft::Act(DraftAct::Show, id, version))),
            button("bot.approval.btn_approve", Button::Approval(Approval::Approve(id, version))),
            button("bot.approval.btn_reject", Button::Approval(Approval::Reject(id, version))),
        ]],
        attachment_path: None,
    }
}

/// Who gets a card: the team chat if set (in the workspace's language) and every admin (in their language),
/// each chat once.
pub(crate) async fn recipients(app: &App, a: &Active) -> tochen_store::Result<Vec<(i64, String)>> {
    let mut out: Vec<(i64, String)> = Vec::new();
    if let Some(chat) = a.tenant.team_chat_id {
        out.push((chat, normalize(&a.tenant.profile.language).to_owned()));
    }
    for admin in app.store.admin_telegram_ids(a.tenant.id).await? {
        if out.iter().any(|(c, _)| *c == admin) {
            continue;
        }
        let lang = match app.store.user_by_telegram_id(admin).await? {
            Some(u) => normalize(u.language_override.as_deref().or(u.language_code.as_deref()).unwrap_or("en")),
            None => "en",
        };
        out.push((admin, lang.to_owned()));
    }
    Ok(out)
}

/// Everything a round of cards needs, read before the transaction that queues them.
struct Round {
    recipients: Vec<(i64, String)>,
    text: CardText,
}

impl Round {
    /// `author` wrote the post, which goes out at `at`.
    async fn read(app: &App, a: &Active, author: &str, post: &Post, at: Millis) -> tochen_store::Result<Self> {
        let recipients = recipients(app, a).await?;
        let text = CardText { author: escape_html(author), tz: tz_of(a), at, title: title_of(post) };
        Ok(Round { recipients, text })
    }

    /// The cards, for the round's version and the post's targets (run inside the transaction: no store calls).
    fn cards(&self, id: PostId, version: i64, targets: &[Target]) -> Vec<ApprovalCard> {
        let mut platforms: Vec<&str> = targets.iter().map(|x| x.platform.as_str()).collect();
        platforms.sort_unstable();
        platforms.dedup();
        let platforms = platforms.join(", ");
        self.recipients
            .iter()
            .map(|(chat, lang)| ApprovalCard {
                lang: lang.clone(),
                message: card(lang, *chat, &self.text, &platforms, id, version),
            })
            .collect()
    }
}

/// Submits `post` for approval at `at` on `accounts`, with its cards queued in the same transaction. Everything
/// the cards need is read first: the transaction holds no other store call.
pub async fn submit(
    app: &App,
    ctx: &Ctx,
    a: &Active,
    post: &Post,
    at: Millis,
    accounts: &[AccountId],
) -> Result<Vec<Target>, ScheduleError> {
    let round = Round::read(app, a, &ctx.user.first_name, post, at).await?;
    let cards = |version: i64, targets: &[Target]| round.cards(post.id, version, targets);
    app.store.submit_for_approval(a.tenant.id, post.id, post.version, at, accounts, cards).await
}

/// Moves a waiting `post` to `at` and submits it again: the earlier cards say who changed it (their buttons go)
/// and new cards go to every admin and the team chat, in the transaction of the change. The author is told when
/// someone else moved it.
pub async fn resubmit(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    post: &Post,
    at: Millis,
) -> Result<Vec<Target>, ScheduleError> {
    let author = match post.author_id {
        Some(u) if u != ctx.user.id => app.store.user(u).await.map(|u| u.first_name).ok(),
        _ => None,
    };
    let round = Round::read(app, a, author.as_deref().unwrap_or(&ctx.user.first_name), post, at).await?;
    let (name, title) = (escape_html(&ctx.user.first_name), title_of(post));
    let on_cards = |lang: &str| tf(lang, "bot.approval.replaced_by", &[("name", &name), ("title", &title)]);
    let replaced = CardOutcome { text: &on_cards, shown: None };
    let cards = |version: i64, targets: &[Target]| round.cards(post.id, version, targets);
    let targets = app.store.resubmit_for_approval(a.tenant.id, post.id, post.version, at, &replaced, cards).await?;
    if author.is_some() {
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
    let (name, title) = (escape_html(&ctx.user.first_name), title_of(post));
    let on_cards = |lang: &str| tf(lang, "bot.approval.withdrawn_by", &[("name", &name), ("title", &title)]);
    let withdrawn = CardOutcome { text: &on_cards, shown: None };
    if !app.store.cancel_post_with_cards(a.tenant.id, post.id, post.version, &withdrawn).await? {
        return Ok(false);
    }
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
    if !matches!(post.status, PostStatus::Scheduled | PostStatus::PendingApproval) {
        return app.store.edit_post(a.tenant.id, post.id, post.version, change, None).await;
    }
    let author = match post.author_id {
        Some(u) if u != ctx.user.id => app.store.user(u).await.map(|u| u.first_name).ok(),
        _ => None,
    };
    let at = post.scheduled_at.unwrap_or_default();
    let round = Round::read(app, a, author.as_deref().unwrap_or(&ctx.user.first_name), post, at).await?;
    let (name, title) = (escape_html(&ctx.user.first_name), title_of(post));
    let on_cards = |lang: &str| tf(lang, "bot.approval.replaced_by", &[("name", &name), ("title", &title)]);
    let replaced = CardOutcome { text: &on_cards, shown: None };
    let cards = |version: i64, targets: &[Target]| round.cards(post.id, version, targets);
    let approval = EditApproval { send_back: a.role == Role::Editor, replaced: &replaced, cards: &cards };
    app.store.edit_post(a.tenant.id, post.id, post.version, change, Some(&approval)).await
}
