//! Campaigns in the chat (issue 18): `/campaigns` (the list, with status and counts, in pages), `/campaign new`
//! (the guided flow, `wizard.rs`), a campaign's screen with its fields, archive and restore, and its batch
//! history. A campaign's batches are set up and started in `batch.rs`, reviewed in `review.rs` and spread over the
//! campaign's queue slots in `spread.rs`; `pick.rs` puts a post from `/idea` or `/new` in a campaign.
//!
//! Every button names its campaign or batch by id and is checked against the caller's active workspace: another
//! workspace's id reads as a missing campaign (`bot.stale`), like a forged one.

mod batch;
mod pick;
mod review;
mod spread;
pub mod texts;
mod wizard;

pub use batch::{got_text as got_batch_text, progress_screen};
pub use wizard::got_text;

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::draft::platform_name;
use crate::screens::time::tz_of;
use crate::state::State;
use chrono::TimeZone;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{BatchId, BatchItemStatus, BatchStatus, CampaignId, CampaignStatus, Role};
use tochen_store::{Batch, Campaign, CampaignSummary, StoreError};
use tochen_telegram::button::{Button, Campaign as Cb, CampaignField};
use tochen_telegram::text::clip;

/// Campaigns per page of the list.
const PAGE: usize = 8;
/// Batches the history shows (newest first).
const HISTORY: usize = 5;
/// Failed items each batch of the history lists.
const HISTORY_ERRORS: usize = 2;

/// `/campaigns`.
pub async fn campaigns(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    list(&bot, &app, &ctx, &a, 0, false).await
}

/// `/campaign new` starts the guided flow; `/campaign` alone is the list.
pub async fn campaign(bot: TgBot, app: App, ctx: Ctx, arg: String) -> HandlerResult {
    match arg.trim().to_lowercase().as_str() {
        "" => campaigns(bot, app, ctx).await,
        "new" => wizard::start(&bot, &ctx).await,
        _ => ctx.say(&bot, t(ctx.lang, "campaign.usage"), None).await.map(|_| ()),
    }
}

/// Every campaign button.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, state: State, b: Cb) -> HandlerResult {
    match b {
        Cb::List(page, archived) => {
            let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
            ctx.answer(&bot, None).await?;
            list(&bot, &app, &ctx, &a, page as usize, archived).await
        }
        Cb::Show(id) => {
            let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
            let Some(c) = load(&bot, &app, &ctx, &a, id).await? else { return Ok(()) };
            ctx.answer(&bot, None).await?;
            show(&bot, &app, &ctx, &a, &c).await
        }
        Cb::History(id) => {
            let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
            let Some(c) = load(&bot, &app, &ctx, &a, id).await? else { return Ok(()) };
            ctx.answer(&bot, None).await?;
            history(&bot, &app, &ctx, &a, &c).await
        }
        Cb::Activate(id) => set_status(&bot, &app, &ctx, id, CampaignStatus::Active, Role::Editor).await,
        Cb::Archive(id) => set_status(&bot, &app, &ctx, id, CampaignStatus::Archived, Role::Admin).await,
        Cb::Restore(id) => set_status(&bot, &app, &ctx, id, CampaignStatus::Draft, Role::Admin).await,
        Cb::New => {
            ctx.answer(&bot, None).await?;
            wizard::start(&bot, &ctx).await
        }
        Cb::Edit(id, field) => wizard::edit(&bot, &app, &ctx, id, field).await,
        Cb::TogglePlatform(_) | Cb::ToggleAccount(_) | Cb::Skip | Cb::Next => {
            wizard::on_step(&bot, &app, &ctx, state, b).await
        }
        Cb::Batch(_) | Cb::Count(_) | Cb::Topics(_) | Cb::Images | Cb::Start | Cb::Cancel(_) | Cb::RetryFailed(_) => {
            batch::on_button(&bot, &app, &ctx, state, b).await
        }
        Cb::Review(..) | Cb::Post(..) | Cb::Approve(..) | Cb::ApproveAll(_) | Cb::Drop(..) | Cb::SendForApproval(_) => {
            review::on_button(&bot, &app, &ctx, b).await
        }
        Cb::Spread(_) | Cb::SpreadConfirm(_) => spread::on_button(&bot, &app, &ctx, state, b).await,
        Cb::PickFor(_) | Cb::SetFor(..) => pick::on_button(&bot, &app, &ctx, b).await,
    }
}

/// The campaign a button names, when it is the active workspace's; otherwise the press is refused.
pub(crate) async fn load(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    id: CampaignId,
) -> anyhow::Result<Option<Campaign>> {
    match app.store.campaign(a.tenant.id, id).await {
        Ok(c) => Ok(Some(c)),
        Err(StoreError::NotFound(_)) => {
            ctx.refuse(bot, t(ctx.lang, "bot.stale")).await?;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The batch a button names, when it is the active workspace's; otherwise the press is refused.
pub(crate) async fn load_batch(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    id: BatchId,
) -> anyhow::Result<Option<(Batch, Campaign)>> {
    let batch = match app.store.batch(a.tenant.id, id).await {
        Ok(b) => b,
        Err(StoreError::NotFound(_)) => {
            ctx.refuse(bot, t(ctx.lang, "bot.stale")).await?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let campaign = app.store.campaign(a.tenant.id, batch.campaign_id).await?;
    Ok(Some((batch, campaign)))
}

/// A status in `lang`.
pub(crate) fn status_name(lang: &str, s: CampaignStatus) -> String {
    t(lang, &format!("campaign.status.{}", s.as_str()))
}

/// A local day of the workspace, like `2026-12-01`.
fn day(a: &Active, at: Millis) -> String {
    tz_of(a).timestamp_millis_opt(at).single().map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// The campaign's period as the person typed it: its first and last local day (the end is stored exclusive).
pub(crate) fn period_text(lang: &str, a: &Active, c: &Campaign) -> String {
    match (c.fields.starts_at, c.fields.ends_at) {
        (None, None) => t(lang, "campaign.period_open"),
        (s, e) => {
            let from = s.map(|s| day(a, s)).unwrap_or_else(|| "…".into());
            let to = e.map(|e| day(a, e - 1)).unwrap_or_else(|| "…".into());
            format!("{from} – {to}")
        }
    }
}

/// The list: campaigns newest first, each with its status and counts; archived ones only when asked.
async fn list(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, page: usize, archived: bool) -> HandlerResult {
    let l = ctx.lang;
    let all: Vec<CampaignSummary> = app.store.campaigns(a.tenant.id, archived).await?;
    let pages = all.len().div_ceil(PAGE).max(1);
    let page = page.min(pages - 1);
    let now = now_ms();
    let mut text = tf(l, "campaign.list.title", &[("page", &(page + 1)), ("pages", &pages)]);
    if all.is_empty() {
        text.push_str("\n\n");
        text.push_str(&t(l, "campaign.list.empty"));
    }
    let mut rows = Vec::new();
    for (i, s) in all.iter().enumerate().skip(page * PAGE).take(PAGE) {
        let c = &s.campaign;
        text.push_str(&format!(
            "\n\n{}. <b>{}</b> · {}\n{}",
            i + 1,
            escape_html(&clip(&c.fields.name, 60)),
            status_name(l, c.status_at(now)),
            tf(l, "campaign.counts", &[("posts", &s.posts), ("published", &s.published), ("batches", &s.batches)]),
        ));
        rows.push(vec![(format!("{}. {}", i + 1, clip(&c.fields.name, 40)), Button::Campaign(Cb::Show(c.id)))]);
    }
    let mut nav = Vec::new();
    if page > 0 {
        nav.push(("◀️".to_owned(), Button::Campaign(Cb::List(page as u32 - 1, archived))));
    }
    if page + 1 < pages {
        nav.push(("▶️".to_owned(), Button::Campaign(Cb::List(page as u32 + 1, archived))));
    }
    rows.push(nav);
    let mut last = Vec::new();
    if a.role.at_least(Role::Editor) {
        last.push((t(l, "campaign.btn.new"), Button::Campaign(Cb::New)));
    }
    let toggle = if archived { "campaign.btn.hide_archived" } else { "campaign.btn.show_archived" };
    last.push((t(l, toggle), Button::Campaign(Cb::List(0, !archived))));
    rows.push(last);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// A campaign's counts (they come with the list).
async fn summary(app: &App, a: &Active, id: CampaignId) -> anyhow::Result<Option<CampaignSummary>> {
    Ok(app.store.campaigns(a.tenant.id, true).await?.into_iter().find(|s| s.campaign.id == id))
}

/// The campaign's fields as the screen writes them.
pub(crate) async fn describe(app: &App, a: &Active, lang: &str, c: &Campaign) -> anyhow::Result<String> {
    let f = &c.fields;
    let none = t(lang, "campaign.none");
    let field = |key: &str, v: &str| {
        let v = if v.trim().is_empty() { none.clone() } else { escape_html(&clip(v, 300)) };
        format!("\n<b>{}</b>: {v}", t(lang, key))
    };
    let mut text = tf(
        lang,
        "campaign.screen.title",
        &[("name", &escape_html(&f.name)), ("status", &status_name(lang, c.status_at(now_ms())))],
    );
    text.push_str(&field("campaign.field.brief", &f.brief));
    text.push_str(&field("campaign.field.brand", &f.brand));
    text.push_str(&field("campaign.field.audience", &f.audience));
    text.push_str(&field("campaign.field.tone", &f.tone));
    text.push_str(&field("campaign.field.goal", &f.goal));
    text.push_str(&format!("\n<b>{}</b>: {}", t(lang, "campaign.field.dates"), period_text(lang, a, c)));
    let platforms: Vec<String> = f.platforms.iter().map(|p| platform_name(lang, *p)).collect();
    let platforms = if platforms.is_empty() { t(lang, "campaign.all_platforms") } else { platforms.join(", ") };
    text.push_str(&format!("\n<b>{}</b>: {platforms}", t(lang, "campaign.field.platforms")));
    if !f.accounts.is_empty() {
        let accounts = app.accounts(a.tenant.id).await?;
        let names: Vec<String> = accounts
            .iter()
            .filter(|x| f.accounts.contains(&x.id))
            .map(|x| format!("{} {}", platform_name(lang, x.platform), escape_html(&clip(&x.name, 40))))
            .collect();
        text.push_str(&format!("\n<b>{}</b>: {}", t(lang, "campaign.field.accounts"), names.join(", ")));
    }
    Ok(text)
}

/// A campaign's screen: its fields and counts, and what the caller may do with it.
pub(crate) async fn show(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, c: &Campaign) -> HandlerResult {
    let l = ctx.lang;
    let mut text = describe(app, a, l, c).await?;
    if let Some(s) = summary(app, a, c.id).await? {
        text.push_str("\n\n");
        text.push_str(&tf(
            l,
            "campaign.counts",
            &[("posts", &s.posts), ("published", &s.published), ("batches", &s.batches)],
        ));
    }
    let id = c.id;
    let cb = |key: &str, b: Cb| (t(l, key), Button::Campaign(b));
    let mut rows = Vec::new();
    let archived = c.status == CampaignStatus::Archived;
    if a.role.at_least(Role::Editor) && !archived {
        rows.push(vec![cb("campaign.btn.batch", Cb::Batch(id)), cb("campaign.btn.history", Cb::History(id))]);
        let edit = |f: CampaignField| {
            (format!("✏️ {}", t(l, &format!("campaign.field.{}", field_key(f)))), Button::Campaign(Cb::Edit(id, f)))
        };
        let fields: Vec<(String, Button)> = CampaignField::ALL.into_iter().map(edit).collect();
        rows.extend(fields.chunks(3).map(<[_]>::to_vec));
        if c.status == CampaignStatus::Draft {
            rows.push(vec![cb("campaign.btn.activate", Cb::Activate(id))]);
        }
    } else {
        rows.push(vec![cb("campaign.btn.history", Cb::History(id))]);
    }
    if a.role == Role::Admin {
        rows.push(vec![if archived {
            cb("campaign.btn.restore", Cb::Restore(id))
        } else {
            cb("campaign.btn.archive", Cb::Archive(id))
        }]);
    }
    rows.push(vec![cb("campaign.btn.list", Cb::List(0, archived))]);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// The locale name of a field (`campaign.field.<key>`).
pub(crate) fn field_key(f: CampaignField) -> &'static str {
    match f {
        CampaignField::Name => "name",
        CampaignField::Brief => "brief",
        CampaignField::Brand => "brand",
        CampaignField::Audience => "audience",
        CampaignField::Tone => "tone",
        CampaignField::Goal => "goal",
        CampaignField::Dates => "dates",
        CampaignField::Platforms => "platforms",
    }
}

async fn set_status(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    id: CampaignId,
    to: CampaignStatus,
    needed: Role,
) -> HandlerResult {
    let Some(a) = ctx.require(bot, needed).await? else { return Ok(()) };
    let Some(c) = load(bot, app, ctx, &a, id).await? else { return Ok(()) };
    // Only the moves the screen offers: activate a draft, archive what is not archived, restore what is.
    let allowed = match to {
        CampaignStatus::Active => c.status == CampaignStatus::Draft,
        CampaignStatus::Archived => c.status != CampaignStatus::Archived,
        _ => c.status == CampaignStatus::Archived,
    };
    if !allowed || !app.store.set_campaign_status(a.tenant.id, id, to).await? {
        return ctx.refuse(bot, t(ctx.lang, "bot.stale")).await;
    }
    let action = format!("campaign.{}", if to == CampaignStatus::Draft { "restored" } else { to.as_str() });
    app.store
        .audit(a.tenant.id, Some(ctx.user.id), &action, "campaign", Some(&id.to_db()), serde_json::json!({}))
        .await?;
    let key = match to {
        CampaignStatus::Active => "campaign.activated",
        CampaignStatus::Archived => "campaign.archived",
        _ => "campaign.restored",
    };
    ctx.answer(bot, Some(t(ctx.lang, key))).await?;
    let c = app.store.campaign(a.tenant.id, id).await?;
    show(bot, app, ctx, &a, &c).await
}

/// The batch history of a campaign: who started each batch, when, its totals and its error log.
async fn history(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, c: &Campaign) -> HandlerResult {
    let l = ctx.lang;
    let batches = app.store.campaign_batches(a.tenant.id, c.id).await?;
    let mut text = tf(l, "campaign.history.title", &[("name", &escape_html(&clip(&c.fields.name, 60)))]);
    if batches.is_empty() {
        text.push_str("\n\n");
        text.push_str(&t(l, "campaign.history.empty"));
    }
    let mut rows = Vec::new();
    for (n, b) in batches.iter().take(HISTORY).enumerate() {
        let p = app.store.batch_progress(a.tenant.id, b.id).await?;
        let who = match b.started_by {
            Some(u) => app.store.user(u).await.map(|u| u.first_name).unwrap_or_default(),
            None => String::new(),
        };
        text.push_str(&format!(
            "\n\n{}. {}",
            n + 1,
            tf(
                l,
                "campaign.history.line",
                &[
                    ("when", &crate::screens::time::local_time(l, a, b.created_at)),
                    ("who", &escape_html(&clip(&who, 40))),
                    ("status", &batch_status_name(l, b.status)),
                    ("done", &p.done),
                    ("failed", &p.failed),
                    ("skipped", &(p.skipped + p.cancelled)),
                    ("total", &p.total),
                ],
            )
        ));
        let items = app.store.batch_items(a.tenant.id, b.id).await?;
        let failed: Vec<_> = items
            .iter()
            .filter(|i| matches!(i.status, BatchItemStatus::Failed | BatchItemStatus::Skipped))
            .take(HISTORY_ERRORS)
            .collect();
        for i in failed {
            text.push('\n');
            text.push_str(&texts::failed_line(l, &i.item.topic, i.error.as_deref().unwrap_or("")));
        }
        if p.done > 0 {
            let label = tf(l, "campaign.btn.review_n", &[("n", &(n + 1))]);
            rows.push(vec![(label, Button::Campaign(Cb::Review(b.id, 0)))]);
        }
    }
    rows.push(vec![(t(l, "bot.back"), Button::Campaign(Cb::Show(c.id)))]);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// A batch status in `lang`.
pub(crate) fn batch_status_name(lang: &str, s: BatchStatus) -> String {
    t(lang, &format!("campaign.batch_status.{}", s.as_str()))
}
