//! The content library: every post of the workspace, newest first (by when it goes or went out, else when it was
//! made), in pages, under a filter each person keeps per workspace (status, platform, account, author, tag, dates,
//! words of the text; `view.rs`). `/library` opens it (`/library words` searches, `/library #tag` filters by a
//! tag), `/drafts` and `/history` are the library with a status preset. Each item shows its first line, its
//! platforms with each one's status, and once published its latest numbers and link; a post's card
//! (`card.rs`) adds its image, text, tags and the way to its own screen. The filter's pickers are in
//! `filters.rs`. Everyone in the workspace reads; editors tag.

mod card;
mod filters;
pub mod view;

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::draft::platform_name;
use crate::screens::metrics::metrics_line;
use crate::screens::names::status_name;
use crate::screens::time::{local_time, tz_of};
use chrono::Utc;
use std::collections::{BTreeMap, HashMap};
use teloxide::types::Message;
use tochen_domain::clock::Millis;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{PostId, PostStatus, TargetId, TargetStatus};
use tochen_store::{normalize_tag, MetricValues, Post, Target};
use tochen_telegram::button::{Button, Draft, DraftAct, Library};
use tochen_telegram::text::clip;
use view::View;

pub use card::got_tags;
pub use filters::{got_range, got_search};

/// Posts per page: each with a line per platform, so a page stays within one message.
const PAGE: i64 = 5;
/// Drafts per page: a draft has no platform lines yet.
const DRAFTS_PAGE: i64 = 10;
/// Longest title in a list or on a button, longest platform error quoted.
const TITLE_CHARS: usize = 80;
const ERROR_CHARS: usize = 150;

/// The person's saved view in the active workspace (everything when none was saved, or it no longer reads).
async fn load(app: &App, ctx: &Ctx, a: &Active) -> anyhow::Result<View> {
    let saved = app.store.library_view(a.tenant.id, ctx.user.id).await?;
    Ok(saved.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
}

async fn save(app: &App, ctx: &Ctx, a: &Active, view: &View) -> anyhow::Result<()> {
    app.store.set_library_view(a.tenant.id, ctx.user.id, &serde_json::to_string(view)?).await?;
    Ok(())
}

/// `/library`, `/library words` (a search), `/library #tag` (a tag): a fresh view.
pub async fn library(bot: TgBot, app: App, ctx: Ctx, arg: String) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let arg = arg.trim();
    let view = match arg.strip_prefix('#') {
        Some(tag) if !arg.contains(char::is_whitespace) => View { tag: normalize_tag(tag), ..View::default() },
        _ if arg.is_empty() => View::default(),
        _ => View { search: Some(clip(arg, view::SEARCH_CHARS).into_owned()), ..View::default() },
    };
    show_page(&bot, &app, &ctx, &a, view, 0).await
}

/// `/drafts`: the library's drafts (and rejected posts to rework).
pub async fn drafts(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    preset(bot, app, ctx, view::DRAFTS, 0).await
}

/// `/history`: what went out or failed.
pub async fn history(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    preset(bot, app, ctx, view::HISTORY, 0).await
}

/// The library with only a status preset, at `page` (also the pages of `/drafts` and `/history` drawn before
/// they were the library's views).
pub async fn preset(bot: TgBot, app: App, ctx: Ctx, status: u8, page: u32) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    ctx.answer(&bot, None).await?;
    show_page(&bot, &app, &ctx, &a, View::only(status), page).await
}

pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Library) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    match b {
        Library::Page(page) => {
            ctx.answer(&bot, None).await?;
            let view = load(&app, &ctx, &a).await?;
            let changed = view.page != page;
            draw(&bot, &app, &ctx, &a, View { page, ..view }, changed).await
        }
        Library::Back => {
            ctx.answer(&bot, None).await?;
            // Coming back from a prompt (tags, search, dates): the conversation ends here.
            ctx.dlg.exit().await?;
            let view = load(&app, &ctx, &a).await?;
            draw(&bot, &app, &ctx, &a, view, false).await
        }
        Library::Item(post) => card::show(&bot, &app, &ctx, &a, post, None).await,
        Library::Tags(post) => card::ask_tags(&bot, &app, &ctx, post).await,
        other => filters::on_button(&bot, &app, &ctx, &a, other).await,
    }
}

/// What a page needs besides its posts: their targets, tags, the accounts' names and the latest numbers.
struct PageData {
    targets: HashMap<PostId, Vec<Target>>,
    tags: HashMap<PostId, Vec<String>>,
    accounts: BTreeMap<String, String>,
    metrics: BTreeMap<TargetId, (Millis, MetricValues)>,
}

async fn page_data(app: &App, a: &Active, posts: &[Post]) -> anyhow::Result<PageData> {
    let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
    let tenant = a.tenant.id;
    let mut targets: HashMap<PostId, Vec<Target>> = HashMap::new();
    for t in app.store.targets_of_posts(tenant, &ids).await? {
        targets.entry(t.post_id).or_default().push(t);
    }
    let mut tags: HashMap<PostId, Vec<String>> = HashMap::new();
    for (p, tag) in app.store.tags_of_posts(tenant, &ids).await? {
        tags.entry(p).or_default().push(tag);
    }
    let published: Vec<TargetId> =
        targets.values().flatten().filter(|t| t.status == TargetStatus::Published).map(|t| t.id).collect();
    let metrics = app.store.latest_metrics_of_targets(tenant, &published).await?;
    let accounts = app.store.accounts(tenant).await?.into_iter().map(|acc| (acc.id.to_db(), acc.name)).collect();
    Ok(PageData { targets, tags, accounts, metrics })
}

/// A target's line: platform, account, status, numbers, link or error.
fn target_lines(lang: &str, target: &Target, data: &PageData, indent: &str) -> String {
    let account = data.accounts.get(&target.account_id.to_db()).map(String::as_str).unwrap_or_default();
    let status = match target.status {
        TargetStatus::Published => t(lang, "bot.status.published"),
        s => s.as_str().to_owned(),
    };
    let link = target
        .permalink
        .as_deref()
        .map(|u| format!(" <a href=\"{}\">{}</a>", escape_html(u), t(lang, "bot.history.open")))
        .unwrap_or_default();
    let err = target
        .error_message
        .as_deref()
        .filter(|_| target.status != TargetStatus::Published)
        .map(|e| format!(": {}", escape_html(&clip(e, ERROR_CHARS))))
        .unwrap_or_default();
    let mut line =
        format!("\n{indent}• {} ({}) {status}{err}{link}", platform_name(lang, target.platform), escape_html(account));
    if target.status == TargetStatus::Published {
        let numbers = data.metrics.get(&target.id).and_then(|(_, m)| metrics_line(lang, m));
        let numbers = numbers.unwrap_or_else(|| t(lang, "bot.library.no_numbers"));
        line.push_str(&format!("\n{indent}  {numbers}"));
    }
    line
}

/// The filter in words (`Filter: …`), or nothing when every post shows.
fn filter_summary(
    lang: &str,
    a: &Active,
    v: &View,
    data_accounts: &BTreeMap<String, String>,
    campaign: Option<&str>,
) -> String {
    if v.is_everything() {
        return String::new();
    }
    let mut parts = Vec::new();
    if v.status != 0 {
        parts.push(v.status_label(lang));
    }
    if let Some(p) = v.platform() {
        parts.push(platform_name(lang, p));
    }
    if let Some(acc) = &v.account {
        parts.push(escape_html(data_accounts.get(acc).map(String::as_str).unwrap_or("?")));
    }
    if v.author.is_some() {
        parts.push(t(lang, "bot.library.by_author"));
    }
    if let Some(tag) = &v.tag {
        parts.push(format!("#{}", escape_html(tag)));
    }
    if v.dates != 0 {
        parts.push(filters::dates_label(lang, a, v));
    }
    if v.campaign.is_some() {
        parts.push(format!("📣 {}", escape_html(campaign.unwrap_or("?"))));
    }
    if let Some(s) = &v.search {
        parts.push(format!("“{}”", escape_html(s)));
    }
    format!("\n{}", tf(lang, "bot.library.filter_line", &[("filter", &parts.join(" · "))]))
}

/// The view's page `page`: saved as the person's view, then drawn.
pub(crate) async fn show_page(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, view: View, page: u32) -> HandlerResult {
    draw(bot, app, ctx, a, View { page, ..view }, true).await
}

/// Draws `view` (at its page), first saving it as the person's view when `save` (it changed).
async fn draw(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, view: View, save_it: bool) -> HandlerResult {
    let l = ctx.lang;
    let page = view.page;
    // From a post's photo card the list comes as a new message, and the photo goes.
    let fresh;
    let ctx = match ctx.screen.filter(|_| ctx.screen_photo) {
        Some(photo_id) => {
            crate::screens::photo::delete(bot, ctx.chat_id, photo_id).await;
            fresh = ctx.in_new_message();
            &fresh
        }
        None => ctx,
    };
    if save_it {
        save(app, ctx, a, &view).await?;
    }
    let drafts_only = view == View { page, ..View::only(view::DRAFTS) };
    let history_only = view == View { page, ..View::only(view::HISTORY) };
    let per_page = if view.status == view::DRAFTS { DRAFTS_PAGE } else { PAGE };
    let filter = view.filter(tz_of(a), Utc::now());
    let offset = i64::from(page).saturating_mul(per_page);
    let posts = app.store.library(a.tenant.id, &filter, offset, per_page + 1).await?;
    let more = posts.len() as i64 > per_page;
    let posts: Vec<Post> = posts.into_iter().take(per_page as usize).collect();
    let data = page_data(app, a, &posts).await?;
    let campaign = match view.campaign() {
        Some(c) => app.store.campaign(a.tenant.id, c).await.ok().map(|c| c.fields.name),
        None => None,
    };
    let filtered = !view.is_everything();
    let tools = {
        let mut row = vec![
            (t(l, "bot.library.btn_filter"), Button::Library(Library::Menu)),
            (t(l, "bot.library.btn_search"), Button::Library(Library::Search)),
        ];
        if filtered {
            row.push((t(l, "bot.library.btn_clear"), Button::Library(Library::Clear)));
        }
        row
    };
    if posts.is_empty() && page == 0 {
        let text = if drafts_only {
            t(l, "bot.drafts.empty")
        } else if history_only {
            t(l, "bot.history.empty")
        } else if filtered {
            format!(
                "{}{}",
                t(l, "bot.library.no_match"),
                filter_summary(l, a, &view, &data.accounts, campaign.as_deref())
            )
        } else {
            t(l, "bot.library.empty")
        };
        return ctx.show(bot, text, Some(crate::miniapp::with_button(kb(vec![tools]), app, ctx, "library"))).await;
    }
    let number = u64::from(page) + 1;
    let mut text = if drafts_only {
        tf(l, "bot.drafts.title", &[("page", &number)])
    } else if history_only {
        tf(l, "bot.history.title", &[("page", &number)])
    } else {
        tf(l, "bot.library.title", &[("page", &number)])
    };
    if !drafts_only && !history_only {
        text.push_str(&filter_summary(l, a, &view, &data.accounts, campaign.as_deref()));
    }
    let mut rows = Vec::new();
    for (i, p) in posts.iter().enumerate() {
        let n = offset as usize + i + 1;
        let title = clip(&p.title, TITLE_CHARS);
        let when = p.scheduled_at.map(|at| format!(", {}", local_time(l, a, at))).unwrap_or_default();
        text.push_str(&format!("\n\n{n}. <b>{}</b> ({}){when}", escape_html(&title), status_name(l, p.status)));
        if let Some(tags) = data.tags.get(&p.id) {
            let tags: Vec<String> = tags.iter().map(|t| format!("#{}", escape_html(t))).collect();
            text.push_str(&format!("\n   🏷 {}", tags.join(" ")));
        }
        for target in data.targets.get(&p.id).into_iter().flatten() {
            text.push_str(&target_lines(l, target, &data, "   "));
        }
        // Drafts open their screen directly, as they always did; other posts open their card.
        let button = if matches!(p.status, PostStatus::Draft | PostStatus::Rejected) && view.status == view::DRAFTS {
            Button::Draft(Draft::Act(DraftAct::Show, p.id, p.version))
        } else {
            Button::Library(Library::Item(p.id))
        };
        let label = if view.status == view::DRAFTS { title.into_owned() } else { format!("{n}. {title}") };
        rows.push(vec![(label, button)]);
    }
    let mut nav = Vec::new();
    if page > 0 {
        nav.push(("‹".to_owned(), Button::Library(Library::Page(page - 1))));
    }
    if more {
        nav.push(("›".to_owned(), Button::Library(Library::Page(page.saturating_add(1)))));
    }
    rows.push(nav);
    rows.push(tools);
    ctx.show(bot, text, Some(crate::miniapp::with_button(kb(rows), app, ctx, "library"))).await
}

/// A prompt's answer ended: the person's message is text, or nothing to read.
fn text_of(msg: &Message) -> &str {
    msg.text().unwrap_or_default().trim()
}
