//! The draft screen: a preview per platform with its problems, and every action on a draft (regenerate, edit,
//! rewrite, image, own photo or video, accounts, schedule, publish now, discard).
//!
//! Buttons carry the post's version. A button from an older screen (the post changed since) or for a post the
//! caller's workspace does not own changes nothing and says so.

use crate::codec::{Cb, DraftAct};
use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::ideas::{draft_platforms, llm_error_text, typing};
use crate::kb::kb;
use crate::state::State;
use crate::validate::{check, Problem};
use teloxide::net::Download;
use teloxide::prelude::*;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{AccountId, PostId};
use tochen_domain::{AccountStatus, MediaKind, Platform, PostStatus, Role};
use tochen_llm::{store_media_bytes, DraftText};
use tochen_store::{Account, Post, PostContent, StoreError};
use tochen_telegram::text::clip;

/// Longest body shown per platform in the preview, and longest hashtag line, so the whole screen (three
/// platforms, the title, media, accounts and problems) stays under Telegram's 4096 characters as it counts
/// them (UTF-16 units). `Ctx` cuts anything longer still, but the problems at the end matter most.
const PREVIEW_CHARS: usize = 800;
const TAGS_CHARS: usize = 250;
/// Longest title shown.
const TITLE_CHARS: usize = 200;
/// Largest file the public Bot API lets a bot download.
const MAX_DOWNLOAD: u32 = 20 * 1024 * 1024;

pub fn platform_name(lang: &str, p: Platform) -> String {
    match p {
        Platform::Facebook => t(lang, "bot.platform.facebook"),
        Platform::Instagram => t(lang, "bot.platform.instagram"),
        Platform::TikTok => t(lang, "bot.platform.tiktok"),
    }
}

/// The accounts a draft goes to: the stored choice, or every active account of its platforms.
pub async fn chosen_accounts(app: &App, a: &Active, post: PostId) -> anyhow::Result<(Vec<Account>, Vec<AccountId>)> {
    let all: Vec<Account> = app
        .store
        .accounts(a.tenant.id)
        .await?
        .into_iter()
        .filter(|x| x.status != AccountStatus::Disconnected)
        .collect();
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
            for p in check(&app.rules, c.platform, &c.body, &c.hashtags, has_media) {
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
    let mut problems = Vec::new();
    for c in &contents {
        let body = clip(&c.body, PREVIEW_CHARS);
        let tags: Vec<String> = c.hashtags.iter().map(|h| format!("#{h}")).collect();
        text.push_str(&format!("\n\n<b>─ {} ─</b>\n{}", platform_name(lang, c.platform), escape_html(&body)));
        if !tags.is_empty() {
            let tags = tags.join(" ");
            let line = clip(&tags, TAGS_CHARS);
            let max = app.rules.max_hashtags(c.platform);
            text.push_str(&format!("\n{} ({}/{max})", escape_html(&line), c.hashtags.len()));
        }
        for p in check(&app.rules, c.platform, &c.body, &c.hashtags, !media.is_empty()) {
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
    let d = |act| Cb::Draft(act, id, v);
    // Only someone who may change the draft is offered its buttons: a viewer reads it (and may go back to the
    // list), and a post that is no longer a draft (previewed from its approval card) is only read.
    if !is_draft(post) {
        return Ok((text, kb(Vec::new())));
    }
    if !a.role.at_least(Role::Editor) {
        return Ok((text, kb(vec![vec![(t(lang, "bot.back"), Cb::DraftsPage(0))]])));
    }
    let buttons = kb(vec![
        vec![
            (t(lang, "bot.draft.btn_image"), d(DraftAct::Image)),
            (t(lang, "bot.draft.btn_attach"), d(DraftAct::Attach)),
        ],
        vec![
            (t(lang, "bot.draft.btn_edit"), d(DraftAct::Edit)),
            (t(lang, "bot.draft.btn_rewrite"), d(DraftAct::Rewrite)),
            (t(lang, "bot.draft.btn_regenerate"), d(DraftAct::Regenerate)),
        ],
        vec![(t(lang, "bot.draft.btn_accounts"), d(DraftAct::Accounts))],
        vec![
            (t(lang, "bot.draft.btn_schedule"), d(DraftAct::Schedule)),
            (t(lang, "bot.draft.btn_now"), d(DraftAct::PublishNow)),
            (t(lang, "bot.draft.btn_discard"), d(DraftAct::Discard)),
        ],
    ]);
    Ok((text, buttons))
}

/// A post whose draft screen can still change it: a draft, or a rejected post being reworked.
fn is_draft(post: &Post) -> bool {
    matches!(post.status, PostStatus::Draft | PostStatus::Rejected)
}

/// Shows the draft screen (in place when a button led here).
pub async fn show(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, post: PostId) -> HandlerResult {
    let post = app.store.post(a.tenant.id, post).await?;
    let (text, buttons) = render(app, a, ctx.lang, &post).await?;
    crate::draft_photo::show(bot, app, ctx, a, &post, (text, buttons), false).await
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

pub async fn on_action(bot: TgBot, app: App, ctx: Ctx, act: DraftAct, id: PostId, version: i64) -> HandlerResult {
    let needed = if act == DraftAct::Show { Role::Viewer } else { Role::Editor };
    let Some(a) = ctx.require(&bot, needed).await? else { return Ok(()) };
    if act == DraftAct::Show {
        let Ok(post) = app.store.post(a.tenant.id, id).await else {
            return ctx.refuse(&bot, t(ctx.lang, "bot.post.not_found")).await;
        };
        ctx.answer(&bot, None).await?;
        if !is_draft(&post) {
            // A preview from an approval card (the post waits for a decision): it opens as its own message, so
            // the card keeps its Approve and Reject buttons, and the presser's conversation is left alone.
            return show(&bot, &app, &ctx.in_new_message(), &a, id).await;
        }
        ctx.dlg.exit().await?;
        return show(&bot, &app, &ctx, &a, id).await;
    }
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &[PostStatus::Draft]).await? else {
        return Ok(());
    };
    let l = ctx.lang;
    match act {
        DraftAct::Regenerate => {
            ctx.answer(&bot, None).await?;
            typing(&bot, &ctx).await;
            let platforms = draft_platforms(&app, &a).await?;
            match app.llm.draft(ctx.llm_ctx(&a), &a.tenant.name, &a.tenant.profile, &post.idea, &platforms).await {
                Ok(d) if !d.texts.is_empty() => {
                    for x in &d.texts {
                        app.store
                            .set_post_content(
                                a.tenant.id,
                                id,
                                &PostContent {
                                    platform: x.platform,
                                    body: x.body.clone(),
                                    hashtags: x.hashtags.clone(),
                                    link: None,
                                },
                            )
                            .await?;
                    }
                    let title = if d.title.is_empty() { post.title.clone() } else { d.title };
                    app.store.set_post_meta(a.tenant.id, id, &title, &d.image_prompt).await?;
                    show(&bot, &app, &ctx, &a, id).await
                }
                Ok(_) => ctx.say(&bot, t(l, "llm.error.malformed"), None).await.map(|_| ()),
                Err(e) => ctx.say(&bot, llm_error_text(l, &e), None).await.map(|_| ()),
            }
        }
        DraftAct::Edit => ask(&bot, &ctx, State::EditText { post: id, version }, t(l, "bot.draft.ask_edit")).await,
        DraftAct::Rewrite => ask(&bot, &ctx, State::Rewrite { post: id, version }, t(l, "bot.draft.ask_rewrite")).await,
        DraftAct::Attach => ask(&bot, &ctx, State::Attach { post: id, version }, t(l, "bot.draft.ask_attach")).await,
        DraftAct::Image => {
            ctx.answer(&bot, None).await?;
            let progress = ctx.say(&bot, t(l, "bot.draft.generating_image"), None).await?;
            let prompt = if post.image_prompt.is_empty() { post.title.clone() } else { post.image_prompt.clone() };
            match app.llm.image(ctx.llm_ctx(&a), &prompt).await {
                Ok(media) => {
                    app.store.set_post_media(a.tenant.id, id, media.id).await?;
                    let post = app.store.post(a.tenant.id, id).await?;
                    let (text, buttons) = render(&app, &a, l, &post).await?;
                    crate::draft_photo::show(&bot, &app, &ctx, &a, &post, (text, buttons), true).await?;
                    if let Some(p) = progress {
                        crate::draft_photo::delete(&bot, ctx.chat_id, p.id).await;
                    }
                    Ok(())
                }
                Err(e) => ctx.say(&bot, llm_error_text(l, &e), None).await.map(|_| ()),
            }
        }
        DraftAct::Accounts => {
            ctx.answer(&bot, None).await?;
            accounts_screen(&bot, &app, &ctx, &a, &post).await
        }
        DraftAct::Schedule => {
            ctx.answer(&bot, None).await?;
            crate::schedule::ask_time(&bot, &app, &ctx, &a, &post, false).await
        }
        DraftAct::PublishNow => {
            crate::schedule::confirm(bot, app, ctx, id, version, tochen_domain::clock::now_ms() / 1000).await
        }
        DraftAct::Discard => {
            if app.store.cancel_post(a.tenant.id, id, version).await? {
                app.store
                    .audit(
                        a.tenant.id,
                        Some(ctx.user.id),
                        "post.discarded",
                        "post",
                        Some(&id.to_db()),
                        serde_json::json!({}),
                    )
                    .await?;
                ctx.answer(&bot, None).await?;
                ctx.show(&bot, t(l, "bot.draft.discarded"), None).await
            } else {
                ctx.refuse(&bot, t(l, "bot.stale")).await
            }
        }
        DraftAct::Show => Ok(()),
    }
}

async fn ask(bot: &TgBot, ctx: &Ctx, state: State, text: String) -> HandlerResult {
    ctx.answer(bot, None).await?;
    ctx.dlg.update(state).await?;
    ctx.say(bot, text, None).await?;
    Ok(())
}

async fn accounts_screen(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, post: &Post) -> HandlerResult {
    let (all, chosen) = chosen_accounts(app, a, post.id).await?;
    if all.is_empty() {
        return ctx.say(bot, t(ctx.lang, "bot.draft.connect_first"), None).await.map(|_| ());
    }
    let mut rows: Vec<Vec<(String, Cb)>> = all
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let mark = if chosen.contains(&x.id) { "✓" } else { "✗" };
            vec![(
                format!("{mark} {} {}", platform_name(ctx.lang, x.platform), x.name),
                Cb::ToggleAccount(post.id, post.version, i as u8),
            )]
        })
        .collect();
    rows.push(vec![(t(ctx.lang, "bot.back"), Cb::Draft(DraftAct::Show, post.id, post.version))]);
    ctx.show(bot, t(ctx.lang, "bot.draft.pick_accounts"), Some(kb(rows))).await
}

pub async fn toggle_account(bot: TgBot, app: App, ctx: Ctx, id: PostId, version: i64, index: u8) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, &[PostStatus::Draft]).await? else {
        return Ok(());
    };
    let (all, mut chosen) = chosen_accounts(&app, &a, id).await?;
    let Some(acc) = all.get(index as usize) else { return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await };
    if let Some(pos) = chosen.iter().position(|x| *x == acc.id) {
        if chosen.len() == 1 {
            return ctx.refuse(&bot, t(ctx.lang, "bot.draft.keep_one")).await;
        }
        chosen.remove(pos);
    } else {
        chosen.push(acc.id);
    }
    app.store.set_draft_accounts(a.tenant.id, id, &chosen).await?;
    // The draft needs text for a newly chosen platform: borrow the first text until someone rewrites it.
    let contents = app.store.post_contents(a.tenant.id, id).await?;
    if !contents.iter().any(|c| c.platform == acc.platform) {
        if let Some(first) = contents.first() {
            app.store
                .set_post_content(a.tenant.id, id, &PostContent { platform: acc.platform, ..first.clone() })
                .await?;
        }
    }
    ctx.answer(&bot, None).await?;
    let post = app.store.post(a.tenant.id, post.id).await?;
    accounts_screen(&bot, &app, &ctx, &a, &post).await
}

/// Checks that a text-input state still points at the same draft version.
async fn current(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    id: PostId,
    version: i64,
) -> anyhow::Result<Option<(Active, Post)>> {
    let Some(a) = ctx.require(bot, Role::Editor).await? else { return Ok(None) };
    let post = load_for_change(bot, app, ctx, &a, id, version, &[PostStatus::Draft]).await?;
    if post.is_none() {
        ctx.dlg.exit().await?;
    }
    Ok(post.map(|p| (a, p)))
}

pub async fn got_edit(bot: TgBot, app: App, ctx: Ctx, msg: Message, (id, version): (PostId, i64)) -> HandlerResult {
    let Some(text) = msg.text().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned) else {
        return ctx.say(&bot, t(ctx.lang, "bot.draft.text_needed"), None).await.map(|_| ());
    };
    let Some((a, _)) = current(&bot, &app, &ctx, id, version).await? else { return Ok(()) };
    for c in app.store.post_contents(a.tenant.id, id).await? {
        app.store.set_post_content(a.tenant.id, id, &PostContent { body: text.clone(), ..c }).await?;
    }
    ctx.dlg.exit().await?;
    show(&bot, &app, &ctx, &a, id).await
}

pub async fn got_rewrite(bot: TgBot, app: App, ctx: Ctx, msg: Message, (id, version): (PostId, i64)) -> HandlerResult {
    let Some(instruction) = msg.text().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned) else {
        return ctx.say(&bot, t(ctx.lang, "bot.draft.text_needed"), None).await.map(|_| ());
    };
    let Some((a, _)) = current(&bot, &app, &ctx, id, version).await? else { return Ok(()) };
    typing(&bot, &ctx).await;
    let mut rewritten = Vec::new();
    for c in app.store.post_contents(a.tenant.id, id).await? {
        let cur = DraftText { platform: c.platform, body: c.body.clone(), hashtags: c.hashtags.clone() };
        match app.llm.rewrite(ctx.llm_ctx(&a), &a.tenant.name, &a.tenant.profile, &cur, &instruction).await {
            Ok(r) => rewritten.push(PostContent { body: r.body, hashtags: r.hashtags, ..c }),
            // Nothing is written unless every platform was rewritten; the person may try again.
            Err(e) => return ctx.say(&bot, llm_error_text(ctx.lang, &e), None).await.map(|_| ()),
        }
    }
    for c in &rewritten {
        app.store.set_post_content(a.tenant.id, id, c).await?;
    }
    ctx.dlg.exit().await?;
    show(&bot, &app, &ctx, &a, id).await
}

pub async fn got_media(bot: TgBot, app: App, ctx: Ctx, msg: Message, (id, version): (PostId, i64)) -> HandlerResult {
    let (file_id, size, kind, content_type) =
        if let Some(p) = msg.photo().and_then(|p| p.iter().max_by_key(|s| s.width * s.height)) {
            (p.file.id.clone(), p.file.size, MediaKind::Image, "image/jpeg")
        } else if let Some(v) = msg.video() {
            (v.file.id.clone(), v.file.size, MediaKind::Video, "video/mp4")
        } else {
            return ctx.say(&bot, t(ctx.lang, "bot.draft.media_needed"), None).await.map(|_| ());
        };
    if size > MAX_DOWNLOAD {
        let msg_text = tf(ctx.lang, "bot.draft.media_too_big", &[("max", &20)]);
        return ctx.say(&bot, msg_text, None).await.map(|_| ());
    }
    let Some((a, _)) = current(&bot, &app, &ctx, id, version).await? else { return Ok(()) };
    let file = bot.get_file(file_id).await?;
    let mut bytes = Vec::new();
    bot.download_file(&file.path, &mut bytes).await?;
    let media =
        store_media_bytes(&app.store, &app.data_dir, a.tenant.id, &bytes, kind, content_type, "telegram").await?;
    app.store.set_post_media(a.tenant.id, id, media.id).await?;
    ctx.dlg.exit().await?;
    show(&bot, &app, &ctx, &a, id).await
}
