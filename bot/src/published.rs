//! A published post's screen (opened from `/history`): per target its permalink, metrics and state, "Edit text on
//! <platform>" and "Delete from <platform>" where the platform's API allows it (a line saying it does not,
//! elsewhere), and the post's history. And "Duplicate" on any post, which makes a new draft of it.
//!
//! Editing asks for the new text, shows it for confirmation, then requests the change: a `post_changes` row and its
//! `post.change` job, run by the scheduler, which tells the requester how it ended. Every action button carries the
//! post's version: requesting a change bumps it, so a screen drawn before is refused as stale. Only editors and
//! admins act; viewers read.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::draft::platform_name;
use crate::screens::metrics::metrics_line;
use crate::screens::names::status_name;
use crate::screens::time::local_time;
use crate::state::State;
use std::collections::BTreeMap;
use teloxide::types::Message;
use tochen_domain::clock::Millis;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{PostId, PostStatus, Role, TargetId, TargetStatus};
use tochen_platforms::edit::PublishedActions;
use tochen_platforms::registry::published_actions;
use tochen_store::{Account, ChangeError, ChangeKind, ChangeStatus, Post, StoreError, TargetOnPlatform};
use tochen_telegram::button::{Button, Library, Published};
use tochen_telegram::text::{clip, visible_len, MESSAGE_MAX};

/// Longest title shown, longest quoted text (current or new) and longest quoted platform error.
const TITLE_CHARS: usize = 100;
const QUOTE_CHARS: usize = 1500;
const ERROR_CHARS: usize = 150;
/// History lines read from the audit log.
const HISTORY_LINES: i64 = 60;
/// The screen stays this far under Telegram's limit, for the "…" of a clipped history.
const SCREEN_MAX: usize = MESSAGE_MAX - 96;

pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Published) -> HandlerResult {
    match b {
        Published::Show(post) => {
            let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
            // Coming back from an edit prompt: the conversation ends here.
            if matches!(ctx.dlg.get().await?, State::EditPublished { .. }) {
                ctx.dlg.exit().await?;
            }
            show(&bot, &app, &ctx, &a, post).await
        }
        Published::EditText(target, v) => ask_text(bot, app, ctx, target, v).await,
        Published::ConfirmEdit(target, v) => confirm_edit(bot, app, ctx, target, v).await,
        Published::Delete(target, v) => ask_delete(bot, app, ctx, target, v).await,
        Published::ConfirmDelete(target, v) => request(bot, app, ctx, target, v, ChangeKind::Delete, None).await,
        Published::Duplicate(post) => duplicate(bot, app, ctx, post).await,
    }
}

/// The statuses a post has once something of it went out.
const DONE: [PostStatus; 3] = [PostStatus::Published, PostStatus::PartiallyPublished, PostStatus::Failed];

/// The published post's screen.
pub async fn show(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, id: PostId) -> HandlerResult {
    let l = ctx.lang;
    let tenant = a.tenant.id;
    let post = match app.store.post(tenant, id).await {
        Ok(p) if DONE.contains(&p.status) || p.status == PostStatus::Publishing => p,
        Ok(_) => return ctx.refuse(bot, t(l, "bot.post.wrong_status")).await,
        Err(StoreError::NotFound(_)) => return ctx.refuse(bot, t(l, "bot.post.not_found")).await,
        Err(e) => return Err(e.into()),
    };
    ctx.answer(bot, None).await?;
    let targets = app.store.targets_on_platform(tenant, id).await?;
    let changes = app.store.post_changes(tenant, id).await?;
    let ids: Vec<TargetId> = targets.iter().map(|tp| tp.target.id).collect();
    let metrics = app.store.latest_metrics_of_targets(tenant, &ids).await?;
    let accounts: BTreeMap<String, Account> =
        app.store.accounts(tenant).await?.into_iter().map(|acc| (acc.id.to_db(), acc)).collect();
    let editor = a.role.at_least(Role::Editor);

    let title = escape_html(&clip(&post.title, TITLE_CHARS));
    let mut text = tf(l, "bot.published.title", &[("title", &title), ("status", &status_name(l, post.status))]);
    let mut rows: Vec<Vec<(String, Button)>> = Vec::new();
    for tp in &targets {
        let tg = &tp.target;
        let platform = platform_name(l, tg.platform);
        let account = accounts.get(&tg.account_id.to_db());
        let account_name = account.map(|acc| acc.name.as_str()).unwrap_or_default();
        let state = match (tp.deleted_at, tg.status) {
            (Some(at), _) => tf(l, "bot.published.deleted", &[("when", &local_time(l, a, at))]),
            (None, TargetStatus::Published) => t(l, "bot.status.published"),
            (None, s) => s.as_str().to_owned(),
        };
        let link = match (&tg.permalink, tp.deleted_at) {
            (Some(u), None) => format!(" <a href=\"{}\">{}</a>", escape_html(u), t(l, "bot.history.open")),
            _ => String::new(),
        };
        text.push_str(&format!("\n\n• <b>{platform}</b> ({}): {state}{link}", escape_html(account_name)));
        if tp.current_text.is_some() && tp.deleted_at.is_none() {
            text.push_str(&format!("\n  {}", t(l, "bot.published.edited")));
        }
        if let Some(line) =
            metrics.get(&tg.id).filter(|_| tp.deleted_at.is_none()).and_then(|(_, m)| metrics_line(l, m))
        {
            text.push_str(&format!("\n  {line}"));
        }
        if let Some(err) = tg.error_message.as_deref().filter(|_| tg.status != TargetStatus::Published) {
            text.push_str(&format!("\n  {}", escape_html(&clip(err, ERROR_CHARS))));
        }
        let live = tg.status == TargetStatus::Published && tp.deleted_at.is_none();
        let Some(account) = account.filter(|_| live) else { continue };
        let allowed = published_actions(account.auth_kind);
        if let Some(key) = not_allowed_key(allowed) {
            text.push_str(&format!("\n  {}", tf(l, key, &[("platform", &platform)])));
        }
        let open = changes.iter().any(|c| c.target_id == tg.id && !c.status.is_final());
        if open {
            text.push_str(&format!("\n  {}", t(l, "bot.published.change_open")));
        }
        if editor && !open {
            let v = post.version;
            let mut row = Vec::new();
            if allowed.edit_text {
                let label = tf(l, "bot.published.btn_edit", &[("platform", &platform)]);
                row.push((label, Button::Published(Published::EditText(tg.id, v))));
            }
            if allowed.delete {
                let label = tf(l, "bot.published.btn_delete", &[("platform", &platform)]);
                row.push((label, Button::Published(Published::Delete(tg.id, v))));
            }
            rows.push(row);
        }
    }
    text.push_str(&history(app, ctx, a, &post, &targets, &changes, visible_len(&text)).await?);
    let mut last = Vec::new();
    if editor {
        last.push(crate::screens::buttons::duplicate_button(l, id));
    }
    last.push((t(l, "bot.back"), Button::Library(Library::Back)));
    rows.push(last);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// The line for what a platform does not allow, if anything.
fn not_allowed_key(allowed: PublishedActions) -> Option<&'static str> {
    match (allowed.edit_text, allowed.delete) {
        (true, true) => None,
        (false, false) => Some("bot.published.no_edit_delete"),
        (false, true) => Some("bot.published.no_edit"),
        (true, false) => Some("bot.published.no_delete"),
    }
}

/// The history section: created, audit-log actions, published per platform, and every requested change with who
/// asked and how it ended, oldest first; the oldest lines give way when the screen would not fit (`used` is what
/// the screen already takes).
async fn history(
    app: &App,
    ctx: &Ctx,
    a: &Active,
    post: &Post,
    targets: &[TargetOnPlatform],
    changes: &[tochen_store::PostChange],
    used: usize,
) -> anyhow::Result<String> {
    let l = ctx.lang;
    let tenant = a.tenant.id;
    let platform_of =
        |id: TargetId| targets.iter().find(|t| t.target.id == id).map(|t| platform_name(l, t.target.platform));
    let someone = t(l, "bot.published.someone");
    let mut lines: Vec<(Millis, String)> = Vec::new();
    let author = match post.author_id {
        Some(u) => app.store.user(u).await.ok().map(|u| u.display_name()),
        None => None,
    };
    let who = author.unwrap_or_else(|| someone.clone());
    lines.push((post.created_at, hline(l, a, "bot.published.h_created", post.created_at, &who, "")));
    for e in app.store.post_history(tenant, post.id, HISTORY_LINES).await? {
        // Changes are shown from their own rows (with their outcome), not from the audit lines they also write.
        if e.action.starts_with("post.change_") {
            continue;
        }
        let what = match e.action.as_str() {
            "post.drafted" | "post.duplicated" => continue,
            "post.approved" => t(l, "bot.published.a_approved"),
            "post.cancelled" => t(l, "bot.published.a_cancelled"),
            "post.publish_now" => t(l, "bot.published.a_publish_now"),
            "target.confirmed" => t(l, "bot.published.a_confirmed"),
            "target.retried" => t(l, "bot.published.a_retried"),
            "target.skipped" => t(l, "bot.published.a_skipped"),
            other => escape_html(other),
        };
        let what = match e.target_id.and_then(platform_of) {
            Some(p) => format!("{what} ({p})"),
            None => what,
        };
        let who = e.actor_name.unwrap_or_else(|| someone.clone());
        lines.push((e.at, hline(l, a, "bot.published.h_action", e.at, &who, &what)));
    }
    for tp in targets {
        if let Some(at) = tp.target.published_at {
            let p = platform_name(l, tp.target.platform);
            lines.push((at, hline(l, a, "bot.published.h_published", at, "", &p)));
        }
    }
    for c in changes {
        let key = match c.kind {
            ChangeKind::EditText => "bot.published.h_edit",
            ChangeKind::Delete => "bot.published.h_delete",
        };
        let status = match c.status {
            ChangeStatus::Queued | ChangeStatus::Sending => t(l, "bot.published.st_open"),
            ChangeStatus::Done => t(l, "bot.published.st_done"),
            ChangeStatus::Failed => t(l, "bot.published.st_failed"),
            ChangeStatus::Unknown => t(l, "bot.published.st_unknown"),
        };
        let error = c.error.as_deref().map(|e| format!(": {}", escape_html(&clip(e, ERROR_CHARS)))).unwrap_or_default();
        let who = c.requested_by_name.clone().unwrap_or_else(|| someone.clone());
        let line = tf(
            l,
            key,
            &[
                ("when", &local_time(l, a, c.created_at)),
                ("who", &escape_html(&who)),
                ("platform", &platform_of(c.target_id).unwrap_or_default()),
                ("status", &format!("{status}{error}")),
            ],
        );
        lines.push((c.created_at, line));
    }
    lines.sort_by_key(|(at, _)| *at);
    // The newest lines are kept: a long history loses its oldest lines first.
    let head = format!("\n\n{}", t(l, "bot.published.history"));
    let mut budget = SCREEN_MAX.saturating_sub(used + visible_len(&head));
    let mut kept: Vec<String> = Vec::new();
    let total = lines.len();
    for (_, line) in lines.into_iter().rev() {
        let line = format!("\n• {line}");
        let len = visible_len(&line);
        if len > budget {
            break;
        }
        budget -= len;
        kept.push(line);
    }
    let mut out = head;
    if kept.len() < total {
        out.push_str("\n…");
    }
    kept.reverse();
    out.push_str(&kept.concat());
    Ok(out)
}

/// A history line: `key` with its time, who (escaped here) and what (already HTML; also the `{platform}`).
fn hline(l: &str, a: &Active, key: &str, at: Millis, who: &str, what: &str) -> String {
    tf(l, key, &[("when", &local_time(l, a, at)), ("who", &escape_html(who)), ("what", &what), ("platform", &what)])
}

/// A target named by an action button, with its post and account: refused (changing nothing) when it is another
/// workspace's or gone, when the post changed since the button was drawn, or when the target is not live there.
async fn load(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    target: TargetId,
    version: i64,
) -> anyhow::Result<Option<(Post, TargetOnPlatform, Account)>> {
    let l = ctx.lang;
    let tenant = a.tenant.id;
    let found = match app.store.target(tenant, target).await {
        Ok(tg) => tg,
        Err(StoreError::NotFound(_)) => {
            ctx.refuse(bot, t(l, "bot.post.not_found")).await?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let post = app.store.post(tenant, found.post_id).await?;
    if post.version != version {
        ctx.refuse(bot, t(l, "bot.stale")).await?;
        return Ok(None);
    }
    let tp = app.store.targets_on_platform(tenant, post.id).await?.into_iter().find(|tp| tp.target.id == target);
    let Some(tp) = tp.filter(|tp| tp.target.status == TargetStatus::Published && tp.deleted_at.is_none()) else {
        ctx.refuse(bot, t(l, "bot.published.not_published")).await?;
        return Ok(None);
    };
    let account = match app.store.account(tenant, tp.target.account_id).await {
        Ok(acc) => acc,
        Err(StoreError::NotFound(_)) => {
            ctx.refuse(bot, t(l, "bot.post.not_found")).await?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Some((post, tp, account)))
}

/// Refuses (changing nothing) an action the account's platform does not allow.
async fn allowed(bot: &TgBot, ctx: &Ctx, account: &Account, kind: ChangeKind) -> anyhow::Result<bool> {
    let can = published_actions(account.auth_kind);
    let ok = match kind {
        ChangeKind::EditText => can.edit_text,
        ChangeKind::Delete => can.delete,
    };
    if !ok {
        let platform = platform_name(ctx.lang, account.platform);
        let text = tf(ctx.lang, "bot.published.not_allowed", &[("platform", &platform)]);
        ctx.refuse(bot, text).await?;
    }
    Ok(ok)
}

/// The text the target shows now: its last edit, else the post's text for its platform with the hashtags.
async fn current_text(app: &App, a: &Active, post: &Post, tp: &TargetOnPlatform) -> anyhow::Result<String> {
    if let Some(text) = &tp.current_text {
        return Ok(text.clone());
    }
    let content =
        app.store.post_contents(a.tenant.id, post.id).await?.into_iter().find(|c| c.platform == tp.target.platform);
    Ok(match content {
        Some(c) if c.hashtags.is_empty() => c.body,
        Some(c) => {
            let tags: Vec<String> = c.hashtags.iter().map(|h| format!("#{}", h.trim_start_matches('#'))).collect();
            format!("{}\n\n{}", c.body, tags.join(" "))
        }
        None => post.idea.clone(),
    })
}

async fn ask_text(bot: TgBot, app: App, ctx: Ctx, target: TargetId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some((post, tp, account)) = load(&bot, &app, &ctx, &a, target, version).await? else { return Ok(()) };
    if !allowed(&bot, &ctx, &account, ChangeKind::EditText).await? {
        return Ok(());
    }
    ctx.answer(&bot, None).await?;
    let l = ctx.lang;
    let current = current_text(&app, &a, &post, &tp).await?;
    ctx.dlg.update(State::EditPublished { post: post.id, target, version, text: None }).await?;
    let text = tf(
        l,
        "bot.published.ask_text",
        &[
            ("title", &escape_html(&clip(&post.title, TITLE_CHARS))),
            ("platform", &platform_name(l, account.platform)),
            ("current", &escape_html(&clip(&current, QUOTE_CHARS))),
        ],
    );
    let back = vec![vec![(t(l, "bot.back"), Button::Published(Published::Show(post.id)))]];
    ctx.show(&bot, text, Some(kb(back))).await
}

/// The new text of a published target: checked against the platform's limit, then shown for confirmation.
pub async fn got_text(
    bot: TgBot,
    app: App,
    ctx: Ctx,
    msg: Message,
    (post, target, version, _): (PostId, TargetId, i64, Option<String>),
) -> HandlerResult {
    let l = ctx.lang;
    let Some(new) = msg.text().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned) else {
        return ctx.say(&bot, t(l, "bot.draft.text_needed"), None).await.map(|_| ());
    };
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some((p, tp, account)) = load(&bot, &app, &ctx, &a, target, version).await? else {
        ctx.dlg.exit().await?;
        return Ok(());
    };
    let platform = platform_name(l, account.platform);
    let rules = app.rules.get(tp.target.platform);
    let len = rules.length(&new);
    if len > rules.max_caption {
        let text =
            tf(l, "bot.published.too_long", &[("len", &len), ("max", &rules.max_caption), ("platform", &platform)]);
        return ctx.say(&bot, text, None).await.map(|_| ());
    }
    ctx.dlg.update(State::EditPublished { post, target, version, text: Some(new.clone()) }).await?;
    let text = tf(
        l,
        "bot.published.confirm_edit",
        &[
            ("title", &escape_html(&clip(&p.title, TITLE_CHARS))),
            ("platform", &platform),
            ("text", &escape_html(&clip(&new, QUOTE_CHARS))),
        ],
    );
    let rows = vec![vec![
        (t(l, "bot.published.btn_confirm_edit"), Button::Published(Published::ConfirmEdit(target, version))),
        (t(l, "bot.back"), Button::Published(Published::Show(post))),
    ]];
    ctx.say(&bot, text, Some(kb(rows))).await.map(|_| ())
}

async fn confirm_edit(bot: TgBot, app: App, ctx: Ctx, target: TargetId, version: i64) -> HandlerResult {
    let Some(_) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    // The text is the one this person sent for this target at this version; anything else is a stale screen.
    let text = match ctx.dlg.get().await? {
        State::EditPublished { target: t_, version: v, text: Some(text), .. } if t_ == target && v == version => text,
        _ => return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await,
    };
    request(bot, app, ctx, target, version, ChangeKind::EditText, Some(text)).await
}

async fn ask_delete(bot: TgBot, app: App, ctx: Ctx, target: TargetId, version: i64) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let Some((post, _, account)) = load(&bot, &app, &ctx, &a, target, version).await? else { return Ok(()) };
    if !allowed(&bot, &ctx, &account, ChangeKind::Delete).await? {
        return Ok(());
    }
    ctx.answer(&bot, None).await?;
    let l = ctx.lang;
    let text = tf(
        l,
        "bot.published.confirm_delete",
        &[
            ("title", &escape_html(&clip(&post.title, TITLE_CHARS))),
            ("platform", &platform_name(l, account.platform)),
            ("account", &escape_html(&account.name)),
        ],
    );
    let rows = vec![vec![
        (t(l, "bot.published.btn_confirm_delete"), Button::Published(Published::ConfirmDelete(target, version))),
        (t(l, "bot.back"), Button::Published(Published::Show(post.id))),
    ]];
    ctx.show(&bot, text, Some(kb(rows))).await
}

/// Requests the change (its job tells this chat how it ended) and says it is under way.
async fn request(
    bot: TgBot,
    app: App,
    ctx: Ctx,
    target: TargetId,
    version: i64,
    kind: ChangeKind,
    text: Option<String>,
) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    let Some((post, _, account)) = load(&bot, &app, &ctx, &a, target, version).await? else { return Ok(()) };
    if !allowed(&bot, &ctx, &account, kind).await? {
        return Ok(());
    }
    let asked = app
        .store
        .request_post_change(
            a.tenant.id,
            target,
            version,
            kind,
            text.as_deref(),
            Some(ctx.user.id),
            Some(ctx.chat_id.0),
        )
        .await;
    let refusal = match asked {
        Ok(_) => None,
        Err(ChangeError::Stale | ChangeError::NoText) => Some(t(l, "bot.stale")),
        Err(ChangeError::Busy) => Some(t(l, "bot.published.busy")),
        Err(ChangeError::NotPublished) => Some(t(l, "bot.published.not_published")),
        Err(ChangeError::Store(StoreError::NotFound(_))) => Some(t(l, "bot.post.not_found")),
        Err(ChangeError::Store(e)) => return Err(e.into()),
    };
    if let Some(text) = refusal {
        return ctx.refuse(&bot, text).await;
    }
    if kind == ChangeKind::EditText {
        ctx.dlg.exit().await?;
    }
    ctx.answer(&bot, None).await?;
    let key = match kind {
        ChangeKind::EditText => "bot.published.queued_edit",
        ChangeKind::Delete => "bot.published.queued_delete",
    };
    let text = tf(l, key, &[("platform", &platform_name(l, account.platform))]);
    let back = vec![vec![(t(l, "bot.back"), Button::Published(Published::Show(post.id)))]];
    ctx.show(&bot, text, Some(kb(back))).await
}

/// "Duplicate": a new draft of the post, whose screen opens.
async fn duplicate(bot: TgBot, app: App, ctx: Ctx, post: PostId) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let copy = match app.store.duplicate_post(a.tenant.id, post, Some(ctx.user.id), Some(ctx.chat_id.0)).await {
        Ok(copy) => copy,
        Err(StoreError::NotFound(_)) => return ctx.refuse(&bot, t(ctx.lang, "bot.post.not_found")).await,
        Err(e) => return Err(e.into()),
    };
    ctx.answer(&bot, None).await?;
    // A new message: the screen pressed stays as it was (the original post).
    crate::screens::draft::show(&bot, &app, &ctx.in_new_message(), &a, copy.id).await
}
