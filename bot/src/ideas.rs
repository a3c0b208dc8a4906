//! `/idea [topic]`: ideas from the LLM as buttons, "more ideas", and drafting the picked one for the workspace's
//! platforms. The LLM is called before anything is written, so a failed or malformed generation leaves no
//! half-made draft behind.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::draft;
use crate::screens::llm::{draft_rules, llm_error_text, llm_versions, sandbox_note, typing};
use crate::state::State;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::Role;
use tochen_llm::Idea;
use tochen_telegram::button::{Button, Ideas};
use tochen_telegram::text::{clip, ECHO_MAX};

const IDEAS: usize = 5;

pub async fn idea(bot: TgBot, app: App, ctx: Ctx, topic: String) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    ctx.answer(&bot, None).await?;
    show_ideas(&bot, &app, &ctx, &a, topic.trim().to_owned(), Vec::new()).await
}

async fn show_ideas(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, topic: String, avoid: Vec<String>) -> HandlerResult {
    typing(bot, ctx).await;
    let ideas = match app.llm.ideas(ctx.llm_ctx(a), &a.tenant.name, &a.tenant.profile, &topic, IDEAS, &avoid).await {
        Ok(i) if !i.is_empty() => i,
        Ok(_) => return ctx.refuse(bot, t(ctx.lang, "llm.error.malformed")).await,
        Err(e) => {
            tracing::warn!(error = %e, "idea generation failed");
            return ctx.refuse(bot, llm_error_text(ctx.lang, &e)).await;
        }
    };
    let mut text = if topic.is_empty() {
        t(ctx.lang, "bot.ideas.title")
    } else {
        tf(ctx.lang, "bot.ideas.title_topic", &[("topic", &escape_html(&clip(&topic, ECHO_MAX)))])
    };
    for (i, idea) in ideas.iter().enumerate() {
        text.push_str(&format!("\n\n<b>{}. {}</b>\n{}", i + 1, escape_html(&idea.title), escape_html(&idea.angle)));
    }
    if let Some(note) = sandbox_note(app, ctx.lang) {
        text.push_str(&format!("\n\n{note}"));
    }
    let numbers = (0..ideas.len()).map(|i| ((i + 1).to_string(), Button::Ideas(Ideas::Pick(i as u8)))).collect();
    let buttons = kb(vec![numbers, vec![(t(ctx.lang, "bot.ideas.more"), Button::Ideas(Ideas::More))]]);
    ctx.dlg.update(State::Ideas { topic, ideas }).await?;
    ctx.show(bot, text, Some(buttons)).await
}

/// The buttons under a list of ideas; they answer the list kept in the dialogue.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, state: State, b: Ideas) -> HandlerResult {
    match (b, state) {
        (Ideas::Pick(n), State::Ideas { ideas, .. }) => pick(bot, app, ctx, ideas, n).await,
        (Ideas::More, State::Ideas { topic, ideas }) => more(bot, app, ctx, topic, ideas).await,
        _ => ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await,
    }
}

pub async fn more(bot: TgBot, app: App, ctx: Ctx, topic: String, ideas: Vec<Idea>) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    ctx.answer(&bot, None).await?;
    let avoid = ideas.into_iter().map(|i| i.title).collect();
    show_ideas(&bot, &app, &ctx, &a, topic, avoid).await
}

pub async fn pick(bot: TgBot, app: App, ctx: Ctx, ideas: Vec<Idea>, n: u8) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some(idea) = ideas.get(n as usize) else {
        return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await;
    };
    ctx.answer(&bot, None).await?;
    typing(&bot, &ctx).await;
    let rules = draft_rules(&app, &a).await?;
    let idea_text = format!("{}: {}", idea.title, idea.angle);
    let generated = match app.llm.draft(ctx.llm_ctx(&a), &a.tenant.name, &a.tenant.profile, &idea_text, &rules).await {
        Ok(d) if !d.texts.is_empty() => d,
        Ok(_) => return ctx.refuse(&bot, t(ctx.lang, "llm.error.malformed")).await,
        Err(e) => {
            tracing::warn!(error = %e, "draft generation failed");
            return ctx.refuse(&bot, llm_error_text(ctx.lang, &e)).await;
        }
    };
    let title = if generated.title.is_empty() { idea.title.clone() } else { generated.title.clone() };
    let post = app.store.create_draft(a.tenant.id, Some(ctx.user.id), Some(ctx.chat_id.0), &title, &idea_text).await?;
    // The versions follow the main text (the first one's), so an edit of the text reaches all of them.
    app.store.edit_post(a.tenant.id, post.id, post.version, &llm_versions(&generated.texts), None).await?;
    app.store.set_post_meta(a.tenant.id, post.id, &title, &generated.image_prompt).await?;
    app.store
        .audit(a.tenant.id, Some(ctx.user.id), "post.drafted", "post", Some(&post.id.to_db()), serde_json::json!({}))
        .await?;
    ctx.dlg.exit().await?;
    draft::show(&bot, &app, &ctx, &a, post.id).await
}
