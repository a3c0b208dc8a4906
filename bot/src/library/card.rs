//! A post's library card: its image (when it has one) with its first lines, status and time, author, tags, and
//! per platform its status, latest numbers (with when they were measured) and link; buttons to the post's own
//! screen for its status (the draft, the queued post, the published post), to its tags and to a copy.
//!
//! Tags are typed ("#launch bread, promo"; `-` removes them all): at most `MAX_TAGS`, each one word of at most
//! `TAG_CHARS` characters. They are the team's labels, not content, so changing them leaves the post's version
//! (and its approval cards) alone.

use super::{page_data, target_lines, text_of};
use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::names::status_name;
use crate::screens::time::local_time_in;
use crate::screens::{photo, time::tz_of};
use crate::state::State;
use teloxide::types::Message;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{PostId, PostStatus, Role};
use tochen_store::{normalize_tag, Post, StoreError, MAX_TAGS, TAG_CHARS};
use tochen_telegram::button::{Button, Draft, DraftAct, Library, Published, Queue};
use tochen_telegram::text::{clip, ECHO_MAX};

/// Longest title and longest piece of the text shown on a card.
const TITLE_CHARS: usize = 200;
const TEXT_CHARS: usize = 600;

async fn post_of(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, id: PostId) -> anyhow::Result<Option<Post>> {
    match app.store.post(a.tenant.id, id).await {
        Ok(p) => Ok(Some(p)),
        Err(StoreError::NotFound(_)) => {
            ctx.refuse(bot, t(ctx.lang, "bot.post.not_found")).await?;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The button to the post's own screen, where its status has one.
fn open_button(lang: &str, post: &Post) -> Option<(String, Button)> {
    let b = match post.status {
        PostStatus::Draft | PostStatus::Rejected => Button::Draft(Draft::Act(DraftAct::Show, post.id, post.version)),
        PostStatus::Scheduled | PostStatus::PendingApproval => Button::Queue(Queue::Item(post.id)),
        PostStatus::Publishing | PostStatus::Published | PostStatus::PartiallyPublished | PostStatus::Failed => {
            Button::Published(Published::Show(post.id))
        }
        PostStatus::Cancelled => return None,
    };
    Some((t(lang, "bot.library.btn_open"), b))
}

/// Shows post `id`'s card; `notice` (already localized) goes first.
pub async fn show(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, id: PostId, notice: Option<String>) -> HandlerResult {
    let l = ctx.lang;
    let Some(post) = post_of(bot, app, ctx, a, id).await? else { return Ok(()) };
    ctx.answer(bot, None).await?;
    let data = page_data(app, a, std::slice::from_ref(&post)).await?;
    let tz = tz_of(a);
    let mut text = notice.map(|n| format!("{n}\n\n")).unwrap_or_default();
    text.push_str(&format!(
        "<b>{}</b> ({})",
        escape_html(&clip(&post.title, TITLE_CHARS)),
        status_name(l, post.status)
    ));
    let when = post.scheduled_at.unwrap_or(post.created_at);
    text.push_str(&format!("\n🕒 {}", local_time_in(l, tz, when)));
    if let Some(author) = post.author_id {
        if let Some(m) = app.store.members(a.tenant.id).await?.into_iter().find(|m| m.user_id == author) {
            text.push_str(&format!("\n✍️ {}", escape_html(&m.name)));
        }
    }
    let tags = data.tags.get(&post.id).cloned().unwrap_or_default();
    if !tags.is_empty() {
        let tags: Vec<String> = tags.iter().map(|t| format!("#{}", escape_html(t))).collect();
        text.push_str(&format!("\n🏷 {}", tags.join(" ")));
    }
    let body = post.body.trim();
    if !body.is_empty() {
        text.push_str(&format!("\n\n<i>{}</i>", escape_html(&clip(body, TEXT_CHARS))));
    }
    let targets = data.targets.get(&post.id).cloned().unwrap_or_default();
    if !targets.is_empty() {
        text.push('\n');
    }
    for target in &targets {
        text.push_str(&target_lines(l, target, &data, ""));
        if let Some((at, _)) = data.metrics.get(&target.id) {
            text.push_str(&format!("\n  {}", tf(l, "bot.library.measured", &[("when", &local_time_in(l, tz, *at))])));
        }
    }
    if !data.metrics.is_empty() {
        text.push_str(&format!("\n\n{}", t(l, "bot.library.engagement_note")));
    }
    let mut rows: Vec<Vec<(String, Button)>> = Vec::new();
    if let Some(open) = open_button(l, &post) {
        rows.push(vec![open]);
    }
    if a.role.at_least(Role::Editor) {
        rows.push(vec![
            (t(l, "bot.library.btn_tags"), Button::Library(Library::Tags(post.id))),
            crate::screens::buttons::duplicate_button(l, post.id),
        ]);
    }
    rows.push(vec![(t(l, "bot.library.btn_back"), Button::Library(Library::Back))]);
    let short = tf(l, "bot.library.card_short", &[("title", &escape_html(&clip(&post.title, TITLE_CHARS)))]);
    photo::show_as(bot, app, ctx, a, &post, (text, kb(rows)), false, short).await
}

/// "🏷 Tags": asks for the post's tags, showing the current ones.
pub async fn ask_tags(bot: &TgBot, app: &App, ctx: &Ctx, id: PostId) -> HandlerResult {
    let Some(a) = ctx.require(bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    let Some(post) = post_of(bot, app, ctx, &a, id).await? else { return Ok(()) };
    ctx.answer(bot, None).await?;
    let tags = app.store.post_tags(a.tenant.id, id).await?;
    let now = if tags.is_empty() {
        t(l, "bot.library.tags_none")
    } else {
        tags.iter().map(|t| format!("#{}", escape_html(t))).collect::<Vec<_>>().join(" ")
    };
    ctx.dlg.update(State::LibraryTags { post: id }).await?;
    let text = tf(
        l,
        "bot.library.ask_tags",
        &[("title", &escape_html(&clip(&post.title, 100))), ("now", &now), ("max", &MAX_TAGS)],
    );
    let back = kb(vec![vec![(t(l, "bot.back"), Button::Library(Library::Item(id)))]]);
    ctx.say(bot, text, Some(back)).await.map(|_| ())
}

/// Why typed tags cannot be kept, if they cannot.
fn check_tags(lang: &str, words: &[&str]) -> Option<String> {
    if words.is_empty() {
        return Some(t(lang, "bot.library.tags_empty"));
    }
    for w in words {
        let bare = w.trim_start_matches('#');
        if bare.chars().count() > TAG_CHARS {
            return Some(tf(
                lang,
                "bot.library.tag_too_long",
                &[("tag", &escape_html(&clip(w, ECHO_MAX))), ("max", &TAG_CHARS)],
            ));
        }
        if normalize_tag(w).is_none() {
            return Some(tf(lang, "bot.library.tag_bad", &[("tag", &escape_html(&clip(w, ECHO_MAX)))]));
        }
    }
    let mut distinct: Vec<String> = words.iter().filter_map(|w| normalize_tag(w)).collect();
    distinct.sort();
    distinct.dedup();
    (distinct.len() > MAX_TAGS)
        .then(|| tf(lang, "bot.library.too_many_tags", &[("n", &distinct.len()), ("max", &MAX_TAGS)]))
}

/// The answer to "which tags": saved, then the card again.
pub async fn got_tags(bot: TgBot, app: App, ctx: Ctx, msg: Message, post: PostId) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    let text = text_of(&msg);
    let words: Vec<&str> = if text == "-" {
        Vec::new()
    } else {
        text.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect()
    };
    if text != "-" {
        if let Some(why) = check_tags(l, &words) {
            // The prompt stays: the next message is read as the tags again.
            return ctx.say(&bot, why, None).await.map(|_| ());
        }
    }
    let tags: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    ctx.dlg.exit().await?;
    let saved = match app.store.set_post_tags(a.tenant.id, post, &tags).await {
        Ok(saved) => saved,
        Err(StoreError::NotFound(_)) => return ctx.refuse(&bot, t(l, "bot.post.not_found")).await,
        Err(e) => return Err(e.into()),
    };
    app.store
        .audit(
            a.tenant.id,
            Some(ctx.user.id),
            "post.tagged",
            "post",
            Some(&post.to_db()),
            serde_json::json!({ "tags": saved }),
        )
        .await?;
    let notice = if saved.is_empty() { t(l, "bot.library.tags_cleared") } else { t(l, "bot.library.tags_saved") };
    show(&bot, &app, &ctx.in_new_message(), &a, post, Some(notice)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_tags_are_checked_before_saving() {
        assert_eq!(check_tags("en", &["#launch", "bread"]), None);
        assert!(check_tags("en", &[]).is_some());
        assert!(check_tags("en", &["##"]).is_some());
        let long = "x".repeat(TAG_CHARS + 1);
        assert!(check_tags("en", &[long.as_str()]).is_some());
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(check_tags("en", &many).is_some());
        // The same tag twice counts once.
        let same: Vec<&str> = std::iter::repeat_n("bread", MAX_TAGS + 5).collect();
        assert_eq!(check_tags("en", &same), None);
    }
}
