//! A post's version per platform: each selected platform's text, edited for that platform alone ("edit for
//! Instagram"), rewritten for it by the LLM, or following the main text again. A version nobody edited follows
//! the main text: changing the main text changes it too.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::edits::apply;
use crate::intake::{ask, current, quote, split_hashtags, text_answer};
use crate::kb::kb;
use crate::screens::draft::{chosen_accounts, load_for_change, platform_name, show as show_draft, EDITABLE};
use crate::screens::llm::{llm_error_text, typing};
use crate::state::State;
use teloxide::prelude::*;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{Platform, PostId, Role};
use tochen_llm::DraftText;
use tochen_platforms::rules::caption;
use tochen_store::{Post, PostContent, PostEdit};
use tochen_telegram::button::{Button, Draft, DraftAct, VersionAct};
use tochen_telegram::text::clip;

/// Longest text shown per version on this screen (three fit in one message with room to spare).
const VERSION_CHARS: usize = 900;

/// The versions of the platforms the post goes to (every version while no account is chosen).
async fn versions(app: &App, a: &Active, post: &Post) -> anyhow::Result<Vec<PostContent>> {
    let (all, chosen) = chosen_accounts(app, a, post).await?;
    let platforms: Vec<Platform> = all.iter().filter(|x| chosen.contains(&x.id)).map(|x| x.platform).collect();
    let contents = app.store.post_contents(a.tenant.id, post.id).await?;
    Ok(contents.into_iter().filter(|c| platforms.is_empty() || platforms.contains(&c.platform)).collect())
}

/// The versions screen.
pub async fn show(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, post: &Post) -> HandlerResult {
    let l = ctx.lang;
    let mut text = t(l, "bot.versions.title");
    let mut rows = Vec::new();
    let (id, v) = (post.id, post.version);
    for c in versions(app, a, post).await? {
        let name = platform_name(l, c.platform);
        let state = if c.custom { t(l, "bot.versions.own") } else { t(l, "bot.versions.follows") };
        let full = caption(&c.body, &c.hashtags);
        let shown = clip(&full, VERSION_CHARS);
        text.push_str(&format!("\n\n<b>{name}</b> · {state}\n{}", escape_html(&shown)));
        let b = |act| Button::Draft(Draft::Version(id, v, act, c.platform));
        let mut row = vec![
            (tf(l, "bot.versions.btn_edit", &[("platform", &name)]), b(VersionAct::Edit)),
            (tf(l, "bot.versions.btn_rewrite", &[("platform", &name)]), b(VersionAct::Rewrite)),
        ];
        if c.custom {
            row.push((t(l, "bot.versions.btn_follow"), b(VersionAct::FollowMain)));
        }
        rows.push(row);
    }
    rows.push(vec![(t(l, "bot.back"), Button::Draft(Draft::Act(DraftAct::Show, id, v)))]);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// A button of the versions screen.
pub async fn on_button(
    bot: TgBot,
    app: App,
    ctx: Ctx,
    id: PostId,
    version: i64,
    act: VersionAct,
    platform: Platform,
) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some(post) = load_for_change(&bot, &app, &ctx, &a, id, version, EDITABLE).await? else { return Ok(()) };
    let l = ctx.lang;
    let name = platform_name(l, platform);
    let content = app.store.post_contents(a.tenant.id, id).await?.into_iter().find(|c| c.platform == platform);
    let Some(content) = content else { return ctx.refuse(&bot, t(l, "bot.stale")).await };
    match act {
        VersionAct::Edit => {
            let state = State::EditVersion { post: id, version, platform };
            let current = quote(&caption(&content.body, &content.hashtags));
            let text = format!("{}{current}", tf(l, "bot.versions.ask_edit", &[("platform", &name)]));
            ask(&bot, &ctx, state, text).await
        }
        VersionAct::Rewrite => {
            let state = State::Rewrite { post: id, version, platform: Some(platform) };
            let text = tf(l, "bot.versions.ask_rewrite", &[("platform", &name)]);
            ask(&bot, &ctx, state, text).await
        }
        VersionAct::FollowMain => {
            if !apply(&bot, &app, &ctx, &a, &post, PostEdit::FollowMain(platform)).await? {
                return Ok(());
            }
            ctx.answer(&bot, None).await?;
            let post = app.store.post(a.tenant.id, id).await?;
            show(&bot, &app, &ctx, &a, &post).await
        }
    }
}

/// One platform's own text, typed (hashtags on the last lines replace the version's; without them it keeps its
/// own).
pub async fn got_version(
    bot: TgBot,
    app: App,
    ctx: Ctx,
    msg: Message,
    (id, version, platform): (PostId, i64, Platform),
) -> HandlerResult {
    let Some(text) = text_answer(&bot, &ctx, &msg).await? else { return Ok(()) };
    let Some((a, post)) = current(&bot, &app, &ctx, id, version).await? else { return Ok(()) };
    let (body, typed) = split_hashtags(&text);
    let kept = app.store.post_contents(a.tenant.id, id).await?.into_iter().find(|c| c.platform == platform);
    let hashtags = typed.unwrap_or_else(|| kept.map(|c| c.hashtags).unwrap_or_default());
    if !apply(&bot, &app, &ctx, &a, &post, PostEdit::Version { platform, body, hashtags }).await? {
        return Ok(());
    }
    ctx.dlg.exit().await?;
    show_draft(&bot, &app, &ctx, &a, id).await
}

/// What the LLM is asked when it suggests hashtags: the text stays as it is.
const HASHTAG_INSTRUCTION: &str =
    "Keep the text exactly as it is, word for word; only choose fitting hashtags for this platform.";

/// Hashtags for every version of the chosen platforms, suggested by the LLM; the texts stay as they are. Nothing
/// is written unless every version got its hashtags.
pub async fn suggest_hashtags(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, post: &Post) -> HandlerResult {
    ctx.answer(bot, None).await?;
    typing(bot, ctx).await;
    let mut tagged = Vec::new();
    for c in versions(app, a, post).await? {
        let cur = DraftText { platform: c.platform, body: c.body.clone(), hashtags: c.hashtags.clone() };
        let rules = app.rules.get(c.platform);
        let llm_ctx = ctx.llm_ctx(a);
        match app.llm.rewrite(llm_ctx, &a.tenant.name, &a.tenant.profile, &cur, &rules, HASHTAG_INSTRUCTION).await {
            Ok(r) => tagged.push(PostContent { hashtags: r.hashtags, ..c }),
            Err(e) => return ctx.say(bot, llm_error_text(ctx.lang, &e), None).await.map(|_| ()),
        }
    }
    if !apply(bot, app, ctx, a, post, PostEdit::Versions { contents: tagged, main: None }).await? {
        return Ok(());
    }
    show_draft(bot, app, ctx, a, post.id).await
}
