//! The draft screen, drawn by several flows (the draft itself, ideas, approval previews): a preview per platform
//! with its problems and the buttons its viewer may press, and loading a post a button names.

use super::llm::sandbox_note;
use super::photo;
use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{AccountId, PostId};
use tochen_domain::{AccountStatus, MediaKind, Platform, PostStatus, Role};
use tochen_platforms::Problem;
use tochen_store::{Account, Post, StoreError};
use tochen_telegram::button::{Button, Draft, DraftAct, Menu, Queue};
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

/// The accounts a draft goes to: the stored choice, or every active account of its platforms.
pub async fn chosen_accounts(app: &App, a: &Active, post: PostId) -> anyhow::Result<(Vec<Account>, Vec<AccountId>)> {
    let all: Vec<Account> =
        app.accounts(a.tenant.id).await?.into_iter().filter(|x| x.status != AccountStatus::Disconnected).collect();
    let chosen = match app.store.draft_accounts(a.tenant.id, post).await? {
        Some(c) => c,
        None => {
            let platforms: Vec<Platform> =
                app.store.post_contents(a.tenant.id, post).await?.iter().map(|c| c.platform).collect();
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
        Problem::NeedsImageOrVideo => tf(lang, "bot.draft.needs_media", &[("platform", &name)]),
        Problem::NeedsVideoOrPhotos => tf(lang, "bot.draft.needs_video", &[("platform", &name)]),
    }
}

/// Problems that block scheduling, for the platforms of the chosen accounts.
pub async fn blocking_problems(app: &App, a: &Active, post: PostId, lang: &str) -> anyhow::Result<Vec<String>> {
    let (all, chosen) = chosen_accounts(app, a, post).await?;
    let has_media = !app.store.post_media_kinds(a.tenant.id, post).await?.is_empty();
    let mut out = Vec::new();
    for c in app.store.post_contents(a.tenant.id, post).await? {
        if all.iter().any(|x| chosen.contains(&x.id) && x.platform == c.platform) {
            for p in app.rules.get(c.platform).check(&c.body, &c.hashtags, has_media) {
                out.push(problem_text(lang, c.platform, &p));
            }
        }
    }
    Ok(out)
}

pub async fn render(
    app: &App,
    a: &Active,
    lang: &str,
    post: &Post,
) -> anyhow::Result<(String, teloxide::types::InlineKeyboardMarkup)> {
    let contents = app.store.post_contents(a.tenant.id, post.id).await?;
    let media = app.store.post_media_kinds(a.tenant.id, post.id).await?;
    let (all, chosen) = chosen_accounts(app, a, post.id).await?;
    let mut text = tf(lang, "bot.draft.title", &[("title", &escape_html(&clip(&post.title, TITLE_CHARS)))]);
    // Near the top, so a long preview cut to fit still shows it.
    if let Some(note) = sandbox_note(app, lang) {
        text.push_str(&format!("\n{note}"));
    }
    let mut problems = Vec::new();
    for c in &contents {
        let body = clip(&c.body, PREVIEW_CHARS);
        let tags: Vec<String> = c.hashtags.iter().map(|h| format!("#{h}")).collect();
        text.push_str(&format!("\n\n<b>─ {} ─</b>\n{}", platform_name(lang, c.platform), escape_html(&body)));
        if !tags.is_empty() {
            let tags = tags.join(" ");
            let line = clip(&tags, TAGS_CHARS);
            let max = app.rules.get(c.platform).max_hashtags;
            text.push_str(&format!("\n{} ({}/{max})", escape_html(&line), c.hashtags.len()));
        }
        for p in app.rules.get(c.platform).check(&c.body, &c.hashtags, !media.is_empty()) {
            problems.push(problem_text(lang, c.platform, &p));
        }
    }
    text.push_str("\n\n");
    text.push_str(&match media.first() {
        Some((_, kind)) if kind == MediaKind::Video.as_str() => t(lang, "bot.draft.media_video"),
        Some(_) => t(lang, "bot.draft.media_image"),
        None => t(lang, "bot.draft.media_none"),
    });
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
    for p in &problems {
        text.push_str(&format!("\n⚠ {p}"));
    }
    let (id, v) = (post.id, post.version);
    let d = |act| Button::Draft(Draft::Act(act, id, v));
    // Only someone who may change the draft is offered its buttons: a viewer reads it (and may go back to the
    // list), and a post that is no longer a draft (previewed from its approval card) is only read.
    if !is_draft(post) {
        return Ok((text, kb(Vec::new())));
    }
    if !a.role.at_least(Role::Editor) {
        return Ok((text, kb(vec![vec![(t(lang, "bot.back"), Button::Queue(Queue::DraftsPage(0)))]])));
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
    let mut rows = vec![
        vec![
            (t(lang, "bot.draft.btn_image"), d(DraftAct::Image)),
            (t(lang, "bot.draft.btn_attach"), d(DraftAct::Attach)),
        ],
        vec![
            (t(lang, "bot.draft.btn_edit"), d(DraftAct::Edit)),
            (t(lang, "bot.draft.btn_rewrite"), d(DraftAct::Rewrite)),
            (t(lang, "bot.draft.btn_regenerate"), d(DraftAct::Regenerate)),
        ],
    ];
    if !all.is_empty() && !names.is_empty() {
        rows.push(vec![(t(lang, "bot.draft.btn_accounts"), d(DraftAct::Accounts))]);
    }
    rows.push(ahead);
    rows.push(vec![(t(lang, "bot.draft.btn_discard"), d(DraftAct::Discard))]);
    let buttons = kb(rows);
    Ok((text, buttons))
}

/// A post whose draft screen can still change it: a draft, or a rejected post being reworked.
pub fn is_draft(post: &Post) -> bool {
    matches!(post.status, PostStatus::Draft | PostStatus::Rejected)
}

/// Shows the draft screen (in place when a button led here).
pub async fn show(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, post: PostId) -> HandlerResult {
    let post = app.store.post(a.tenant.id, post).await?;
    let (text, buttons) = render(app, a, ctx.lang, &post).await?;
    photo::show(bot, app, ctx, a, &post, (text, buttons), false).await
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
