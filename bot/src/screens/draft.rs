//! The draft screen, drawn by several flows (the draft itself, ideas, approval previews): a preview per platform
//! with its problems and the buttons its viewer may press, and loading a post a button names.

use super::llm::sandbox_note;
use super::photo;
use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{AccountId, PostId};
use tochen_domain::{AccountStatus, MediaKind, Platform, PostStatus, Role, TargetStatus};
use tochen_platforms::Problem;
use tochen_store::{Account, Post, PostContent, StoreError};
use tochen_telegram::button::{Button, Campaign, Draft, DraftAct, Menu, Queue};
use tochen_telegram::text::clip;

/// Longest body shown per platform in the preview, and longest hashtag line, so the whole screen (three
/// platforms, the title, media, accounts and problems) stays under Telegram's 4096 characters as it counts
/// them (UTF-16 units). `Ctx` cuts anything longer still, but the problems at the end matter most.
const PREVIEW_CHARS: usize = 800;
const TAGS_CHARS: usize = 250;
/// Longest title shown.
const TITLE_CHARS: usize = 200;

/// The platform's name as the locale writes it (`bot.platform.<id>`).
pub fn platform_name(lang: &str, p: Platform) -> String {
    t(lang, &format!("bot.platform.{}", p.as_str()))
}

/// Statuses in which a post's content, media and accounts can still change: not yet going out.
pub const EDITABLE: &[PostStatus] =
    &[PostStatus::Draft, PostStatus::Rejected, PostStatus::Scheduled, PostStatus::PendingApproval];

/// The accounts a post goes to: a scheduled or waiting post's targets, else the stored choice, or every active
/// account of its platforms.
pub async fn chosen_accounts(app: &App, a: &Active, post: &Post) -> anyhow::Result<(Vec<Account>, Vec<AccountId>)> {
    let all: Vec<Account> =
        app.accounts(a.tenant.id).await?.into_iter().filter(|x| x.status != AccountStatus::Disconnected).collect();
    if matches!(post.status, PostStatus::Scheduled | PostStatus::PendingApproval) {
        let targets = app.store.targets_of_post(a.tenant.id, post.id).await?;
        let chosen = targets.iter().filter(|x| x.status == TargetStatus::Pending).map(|x| x.account_id).collect();
        return Ok((all, chosen));
    }
    let chosen = match app.store.draft_accounts(a.tenant.id, post.id).await? {
        Some(c) => c,
        None => {
            let platforms: Vec<Platform> =
                app.store.post_contents(a.tenant.id, post.id).await?.iter().map(|c| c.platform).collect();
            all.iter().filter(|x| platforms.contains(&x.platform)).map(|x| x.id).collect()
        }
    };
    Ok((all, chosen))
}

fn problem_text(lang: &str, p: Platform, problem: &Problem) -> String {
    let name = platform_name(lang, p);
    match problem {
        Problem::TooLong { len, max } => {
            tf(lang, "bot.draft.too_long", &[("platform", &name), ("len", len), ("max", max)])
        }
        Problem::TooManyHashtags { count, max } => {
            tf(lang, "bot.draft.too_many_tags", &[("platform", &name), ("count", count), ("max", max)])
        }
        Problem::TooManyMentions { count, max } => {
            tf(lang, "bot.draft.too_many_mentions", &[("platform", &name), ("count", count), ("max", max)])
        }
        Problem::LinkNotClickable => tf(lang, "bot.draft.link_not_clickable", &[("platform", &name)]),
        Problem::NeedsImageOrVideo => tf(lang, "bot.draft.needs_media", &[("platform", &name)]),
        Problem::NeedsVideoOrPhotos => tf(lang, "bot.draft.needs_video", &[("platform", &name)]),
    }
}

/// The platforms of the accounts a post goes to.
fn chosen_platforms(all: &[Account], chosen: &[AccountId]) -> Vec<Platform> {
    let mut out: Vec<Platform> = all.iter().filter(|x| chosen.contains(&x.id)).map(|x| x.platform).collect();
    out.sort_by_key(|p| p.as_str());
    out.dedup();
    out
}

/// What is wrong with a post for `platforms` (those of its chosen accounts), given its versions and whether it has
/// media: (blocking problems, warnings).
async fn problems(
    app: &App,
    a: &Active,
    post: PostId,
    lang: &str,
    platforms: &[Platform],
    contents: &[PostContent],
    has_media: bool,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    // What the media must be for each platform (count, format, size, duration, aspect), and the TikTok choices.
    let mut blocking = super::media_checks::media_problems(app, a, post, platforms, lang).await?;
    let mut warnings = Vec::new();
    for c in contents {
        if platforms.contains(&c.platform) {
            for p in app.rules.get(c.platform).check(&c.body, &c.hashtags, has_media) {
                let text = problem_text(lang, c.platform, &p);
                if p.blocks() {
                    blocking.push(text);
                } else {
                    warnings.push(text);
                }
            }
        }
    }
    Ok((blocking, warnings))
}

/// Problems that block scheduling, for the platforms of the chosen accounts.
pub async fn blocking_problems(app: &App, a: &Active, post: PostId, lang: &str) -> anyhow::Result<Vec<String>> {
    let post = app.store.post(a.tenant.id, post).await?;
    let (all, chosen) = chosen_accounts(app, a, &post).await?;
    let contents = app.store.post_contents(a.tenant.id, post.id).await?;
    let has_media = !app.store.post_media_kinds(a.tenant.id, post.id).await?.is_empty();
    let platforms = chosen_platforms(&all, &chosen);
    Ok(problems(app, a, post.id, lang, &platforms, &contents, has_media).await?.0)
}

/// The media line of the screen: what is attached, counted by kind.
fn media_line(lang: &str, media: &[(tochen_domain::MediaId, String)]) -> String {
    let videos = media.iter().filter(|(_, k)| k == MediaKind::Video.as_str()).count();
    let images = media.len() - videos;
    match (images, videos) {
        (0, 0) => t(lang, "bot.draft.media_none"),
        (1, 0) => t(lang, "bot.draft.media_image"),
        (0, 1) => t(lang, "bot.draft.media_video"),
        _ => tf(lang, "bot.draft.media_album", &[("count", &media.len()), ("images", &images), ("videos", &videos)]),
    }
}

pub async fn render(
    app: &App,
    a: &Active,
    lang: &str,
    post: &Post,
) -> anyhow::Result<(String, teloxide::types::InlineKeyboardMarkup)> {
    let contents = app.store.post_contents(a.tenant.id, post.id).await?;
    let media = app.store.post_media_kinds(a.tenant.id, post.id).await?;
    let (all, chosen) = chosen_accounts(app, a, post).await?;
    let platforms = chosen_platforms(&all, &chosen);
    let live = matches!(post.status, PostStatus::Scheduled | PostStatus::PendingApproval);
    let mut text = tf(lang, "bot.draft.title", &[("title", &escape_html(&clip(&post.title, TITLE_CHARS)))]);
    if live {
        let key = if post.status == PostStatus::Scheduled { "bot.draft.is_scheduled" } else { "bot.draft.is_waiting" };
        let when = super::time::local_time(lang, a, post.scheduled_at.unwrap_or_default());
        text.push_str(&format!("\n{}", tf(lang, key, &[("when", &when)])));
    }
    // Near the top, so a long preview cut to fit still shows it.
    if let Some(note) = sandbox_note(app, lang) {
        text.push_str(&format!("\n{note}"));
    }
    // The versions of the chosen platforms (all of them while none is chosen), each marked when edited for its
    // platform.
    let shown: Vec<_> = contents.iter().filter(|c| platforms.is_empty() || platforms.contains(&c.platform)).collect();
    for c in &shown {
        let body = clip(&c.body, PREVIEW_CHARS);
        let tags: Vec<String> = c.hashtags.iter().map(|h| format!("#{h}")).collect();
        let own = if c.custom { format!(" {}", t(lang, "bot.draft.own_version")) } else { String::new() };
        text.push_str(&format!("\n\n<b>─ {}{own} ─</b>\n{}", platform_name(lang, c.platform), escape_html(&body)));
        if !tags.is_empty() {
            let tags = tags.join(" ");
            let line = clip(&tags, TAGS_CHARS);
            let max = app.rules.get(c.platform).max_hashtags;
            text.push_str(&format!("\n{} ({}/{max})", escape_html(&line), c.hashtags.len()));
        }
    }
    text.push_str("\n\n");
    text.push_str(&media_line(lang, &media));
    let names: Vec<String> = all
        .iter()
        .filter(|x| chosen.contains(&x.id))
        .map(|x| format!("{} {}", platform_name(lang, x.platform), escape_html(&x.name)))
        .collect();
    text.push('\n');
    text.push_str(&if names.is_empty() {
        t(lang, "bot.draft.no_accounts")
    } else {
        tf(lang, "bot.draft.accounts", &[("list", &names.join(", "))])
    });
    // The campaign the post belongs to (issue 18), and whether the workspace has any to choose from.
    let campaign = match app.store.post_campaign(a.tenant.id, post.id).await? {
        Some(c) => app.store.campaign(a.tenant.id, c).await.ok(),
        None => None,
    };
    if let Some(c) = &campaign {
        text.push('\n');
        text.push_str(&tf(lang, "campaign.of_post", &[("name", &escape_html(&clip(&c.fields.name, 60)))]));
    }
    let campaigns = campaign.is_some() || app.store.has_open_campaigns(a.tenant.id).await?;
    let (blocking, warnings) = problems(app, a, post.id, lang, &platforms, &contents, !media.is_empty()).await?;
    for p in &blocking {
        text.push_str(&format!("\n⚠ {p}"));
    }
    for p in &warnings {
        text.push_str(&format!("\nℹ️ {p}"));
    }
    let (id, v) = (post.id, post.version);
    let d = |act| Button::Draft(Draft::Act(act, id, v));
    // Only someone who may change the post is offered its buttons: a viewer reads it (and may go back to the
    // list), and a post that is going out or gone is only read.
    if !EDITABLE.contains(&post.status) {
        return Ok((text, kb(Vec::new())));
    }
    if !a.role.at_least(Role::Editor) {
        let back = if live { Queue::Page(0) } else { Queue::DraftsPage(0) };
        return Ok((text, kb(vec![vec![(t(lang, "bot.back"), Button::Queue(back))]])));
    }
    let mut rows = vec![
        vec![
            (t(lang, "bot.draft.btn_image"), d(DraftAct::Image)),
            (t(lang, "bot.draft.btn_attach"), d(DraftAct::Attach)),
        ],
        vec![
            (t(lang, "bot.draft.btn_edit"), d(DraftAct::Edit)),
            (t(lang, "bot.draft.btn_versions"), d(DraftAct::Versions)),
        ],
    ];
    if !media.is_empty() {
        rows[0].push((tf(lang, "bot.draft.btn_media", &[("count", &media.len())]), d(DraftAct::Media)));
    }
    let mut llm = vec![
        (t(lang, "bot.draft.btn_rewrite"), d(DraftAct::Rewrite)),
        (t(lang, "bot.draft.btn_hashtags"), d(DraftAct::Hashtags)),
    ];
    if !post.idea.trim().is_empty() || !post.body.trim().is_empty() {
        llm.push((t(lang, "bot.draft.btn_regenerate"), d(DraftAct::Regenerate)));
    }
    rows.push(llm);
    if !all.is_empty() && !names.is_empty() {
        let mut row = vec![(t(lang, "bot.draft.btn_accounts"), d(DraftAct::Accounts))];
        row.extend(super::buttons::options_button(lang, post, &platforms));
        rows.push(row);
    }
    if campaigns {
        rows.push(vec![(t(lang, "campaign.btn.for_post"), Button::Campaign(Campaign::PickFor(id)))]);
    }
    if live {
        rows.push(vec![
            (t(lang, "bot.queue.btn_reschedule"), Button::Queue(Queue::Reschedule(id, v))),
            (t(lang, "bot.queue.btn_cancel"), Button::Queue(Queue::Cancel(id, v))),
        ]);
        rows.push(vec![
            (t(lang, "bot.back"), Button::Queue(Queue::Page(0))),
            super::buttons::duplicate_button(lang, id),
        ]);
        return Ok((text, kb(rows)));
    }
    // No dead ends: without an account the way forward is connecting one (an admin's job), and without a chosen
    // account there is nothing to schedule or publish yet.
    let ahead = if all.is_empty() {
        vec![(t(lang, "bot.menu.connect"), Button::Menu(Menu::Connect))]
    } else if names.is_empty() {
        vec![(t(lang, "bot.draft.btn_accounts"), d(DraftAct::Accounts))]
    } else {
        vec![
            (t(lang, "bot.draft.btn_schedule"), d(DraftAct::Schedule)),
            (t(lang, "bot.draft.btn_now"), d(DraftAct::PublishNow)),
        ]
    };
    rows.push(ahead);
    rows.push(vec![
        (t(lang, "bot.draft.btn_discard"), d(DraftAct::Discard)),
        super::buttons::duplicate_button(lang, id),
        (t(lang, "bot.menu.new_post"), Button::Menu(Menu::NewPost)),
    ]);
    Ok((text, kb(rows)))
}

/// A post whose draft screen can still change it: a draft, or a rejected post being reworked.
pub fn is_draft(post: &Post) -> bool {
    matches!(post.status, PostStatus::Draft | PostStatus::Rejected)
}

/// Shows the draft screen (in place when a button led here).
pub async fn show(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, post: PostId) -> HandlerResult {
    photo::show_post(bot, app, ctx, a, post, false).await
}

/// Loads a post named by a button, refusing posts of other workspaces, stale versions and non-drafts.
pub async fn load_for_change(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    id: PostId,
    version: i64,
    statuses: &[PostStatus],
) -> anyhow::Result<Option<Post>> {
    let post = match app.store.post(a.tenant.id, id).await {
        Ok(p) => p,
        Err(StoreError::NotFound(_)) => {
            ctx.refuse(bot, t(ctx.lang, "bot.post.not_found")).await?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    if !statuses.contains(&post.status) {
        ctx.refuse(bot, t(ctx.lang, "bot.post.wrong_status")).await?;
        return Ok(None);
    }
    if post.version != version {
        ctx.refuse(bot, t(ctx.lang, "bot.stale")).await?;
        return Ok(None);
    }
    Ok(Some(post))
}

#[cfg(test)]
mod tests {
    use tochen_domain::i18n::{keys, LANGUAGES};
    use tochen_domain::Platform;

    #[test]
    fn the_sandbox_note_is_in_every_language_and_names_the_variable() {
        for lang in LANGUAGES {
            assert!(keys(lang).contains(&"bot.sandbox.note".to_owned()), "{lang}");
            let note = tochen_domain::i18n::t(lang, "bot.sandbox.note");
            assert!(note.starts_with("🧪") && note.contains("LLM_API_KEY"), "{lang}: {note}");
        }
    }

    #[test]
    fn every_platform_is_named_in_every_language() {
        for lang in LANGUAGES {
            let known = keys(lang);
            for p in Platform::ALL {
                assert!(known.contains(&format!("bot.platform.{}", p.as_str())), "{lang}: {p:?}");
            }
        }
    }
}
