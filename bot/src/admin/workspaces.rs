//! The workspace list (paged), one workspace's screen, and its actions: the monthly token quota (a prompt),
//! suspending (after a confirmation) and resuming.

use super::{actor, clip, dollars, month, quota, when};
use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::state::State;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::TenantId;
use tochen_store::{StoreError, WorkspaceOverview};
use tochen_telegram::button::{Admin, Button};

/// Workspaces per page of the list.
pub const PAGE: usize = 8;

pub async fn list(bot: &TgBot, app: &App, ctx: &Ctx, page: u32) -> HandlerResult {
    let all = app.store.workspace_overviews(month()).await?;
    let l = ctx.lang;
    let back = (t(l, "admin.btn_back"), Button::Admin(Admin::Home));
    if all.is_empty() {
        return ctx.show(bot, t(l, "admin.ws.none"), Some(kb(vec![vec![back]]))).await;
    }
    let pages = all.len().div_ceil(PAGE);
    let page = (page as usize).min(pages - 1);
    let mut text = tf(l, "admin.ws.title", &[("total", &all.len()), ("page", &(page + 1)), ("pages", &pages)]);
    let mut rows = Vec::new();
    for (i, w) in all.iter().enumerate().skip(page * PAGE).take(PAGE) {
        let mark = if w.suspended_at.is_some() { " ⏸" } else { "" };
        let n = i + 1;
        text.push('\n');
        text.push_str(&tf(
            l,
            "admin.ws.line",
            &[
                ("n", &n),
                ("name", &escape_html(&clip(&w.name, 40))),
                ("mark", &mark),
                ("members", &w.members),
                ("tokens", &w.tokens),
            ],
        ));
        rows.push(vec![(format!("{n}. {}{mark}", clip(&w.name, 40)), Button::Admin(Admin::Workspace(w.id)))]);
    }
    let mut nav = Vec::new();
    if page > 0 {
        nav.push((t(l, "admin.btn_prev"), Button::Admin(Admin::Workspaces(page as u32 - 1))));
    }
    if page + 1 < pages {
        nav.push((t(l, "admin.btn_next"), Button::Admin(Admin::Workspaces(page as u32 + 1))));
    }
    rows.push(nav);
    rows.push(vec![back]);
    ctx.show(bot, text, Some(kb(rows))).await
}

/// The workspace's overview, or `None` after telling the operator it is gone.
async fn overview(bot: &TgBot, app: &App, ctx: &Ctx, id: TenantId) -> anyhow::Result<Option<WorkspaceOverview>> {
    match app.store.workspace_overview(id, month()).await {
        Ok(w) => Ok(Some(w)),
        Err(StoreError::NotFound(_)) => {
            ctx.refuse(bot, t(ctx.lang, "admin.gone")).await?;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The text of one workspace's screen.
pub fn screen_text(lang: &str, w: &WorkspaceOverview) -> String {
    let status = match w.suspended_at {
        Some(at) => tf(lang, "admin.status_suspended", &[("at", &when(at))]),
        None => t(lang, "admin.status_active"),
    };
    tf(
        lang,
        "admin.ws.screen",
        &[
            ("name", &escape_html(&w.name)),
            ("id", &w.id.to_db()),
            ("created", &when(w.created_at)),
            ("status", &status),
            ("members", &w.members),
            ("posts", &w.posts),
            ("accounts", &w.accounts),
            ("tokens", &w.tokens),
            ("quota", &quota(lang, w.quota)),
            ("cost", &dollars(w.cost_micros)),
        ],
    )
}

fn screen_buttons(lang: &str, w: &WorkspaceOverview) -> teloxide::types::InlineKeyboardMarkup {
    let b = |key: &str, a: Admin| (t(lang, key), Button::Admin(a));
    let toggle = match w.suspended_at {
        Some(_) => b("admin.btn_resume", Admin::Resume(w.id)),
        None => b("admin.btn_suspend", Admin::Suspend(w.id)),
    };
    kb(vec![vec![b("admin.btn_quota", Admin::Quota(w.id)), toggle], vec![b("admin.btn_back", Admin::Workspaces(0))]])
}

/// One workspace's screen, under `note` (what was just done) when given.
pub async fn one(bot: &TgBot, app: &App, ctx: &Ctx, id: TenantId, note: Option<String>) -> HandlerResult {
    let Some(w) = overview(bot, app, ctx, id).await? else { return Ok(()) };
    let mut text = note.map(|n| format!("{n}\n\n")).unwrap_or_default();
    text.push_str(&screen_text(ctx.lang, &w));
    ctx.show(bot, text, Some(screen_buttons(ctx.lang, &w))).await
}

pub async fn ask_quota(bot: &TgBot, app: &App, ctx: &Ctx, id: TenantId) -> HandlerResult {
    let Some(w) = overview(bot, app, ctx, id).await? else { return Ok(()) };
    ctx.dlg.update(State::AdminQuota { tenant: id }).await?;
    let text =
        tf(ctx.lang, "admin.quota.ask", &[("name", &escape_html(&w.name)), ("quota", &quota(ctx.lang, w.quota))]);
    ctx.show(bot, text, None).await
}

/// A quota as typed: a whole number of tokens above 0, or "unlimited" (in English or the person's language).
pub fn parse_quota(lang: &str, text: &str) -> Option<i64> {
    let typed: String = text.trim().chars().filter(|c| !matches!(c, '_' | ' ' | ',' | '\u{a0}' | '\'')).collect();
    let typed = typed.to_lowercase();
    if typed == "unlimited" || typed == t(lang, "admin.unlimited").to_lowercase().replace(' ', "") {
        return Some(0);
    }
    typed.parse::<i64>().ok().filter(|n| *n > 0)
}

pub async fn got_quota(bot: &TgBot, app: &App, ctx: &Ctx, text: &str, id: TenantId) -> HandlerResult {
    let l = ctx.lang;
    let Some(tokens) = parse_quota(l, text) else {
        // The prompt stays: the next message is read as the quota again.
        let text = tf(l, "admin.quota.bad", &[("text", &escape_html(&clip(text.trim(), 40)))]);
        return ctx.say(bot, text, None).await.map(|_| ());
    };
    ctx.dlg.exit().await?;
    match app.store.set_workspace_quota(id, tokens, &actor(ctx)).await {
        Ok(()) => {}
        Err(StoreError::NotFound(_)) => return ctx.refuse(bot, t(l, "admin.gone")).await,
        Err(e) => return Err(e.into()),
    }
    let note = tf(l, "admin.quota.set", &[("quota", &quota(l, tokens))]);
    one(bot, app, ctx, id, Some(note)).await
}

pub async fn ask_suspend(bot: &TgBot, app: &App, ctx: &Ctx, id: TenantId) -> HandlerResult {
    let Some(w) = overview(bot, app, ctx, id).await? else { return Ok(()) };
    let l = ctx.lang;
    if w.suspended_at.is_some() {
        return one(bot, app, ctx, id, Some(t(l, "admin.suspend.already"))).await;
    }
    let text = tf(l, "admin.suspend.ask", &[("name", &escape_html(&w.name))]);
    let rows = vec![
        vec![(t(l, "admin.btn_suspend_yes"), Button::Admin(Admin::SuspendConfirmed(id)))],
        vec![(t(l, "admin.btn_back"), Button::Admin(Admin::Workspace(id)))],
    ];
    ctx.show(bot, text, Some(kb(rows))).await
}

/// Suspends (`suspend`) or resumes the workspace, then shows it with what happened.
pub async fn suspend(bot: &TgBot, app: &App, ctx: &Ctx, id: TenantId, suspend: bool) -> HandlerResult {
    let actor = actor(ctx);
    let changed = if suspend {
        app.store.suspend_workspace(id, &actor).await
    } else {
        app.store.resume_workspace(id, &actor).await
    };
    let l = ctx.lang;
    let note = match (changed, suspend) {
        (Ok(true), true) => t(l, "admin.suspend.done"),
        (Ok(true), false) => t(l, "admin.resume.done"),
        (Ok(false), true) => t(l, "admin.suspend.already"),
        (Ok(false), false) => t(l, "admin.resume.already"),
        (Err(StoreError::NotFound(_)), _) => return ctx.refuse(bot, t(l, "admin.gone")).await,
        (Err(e), _) => return Err(e.into()),
    };
    one(bot, app, ctx, id, Some(note)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_are_read_as_people_type_them() {
        assert_eq!(parse_quota("en", "50000"), Some(50_000));
        assert_eq!(parse_quota("en", "1 000 000"), Some(1_000_000));
        assert_eq!(parse_quota("de", "1_000"), Some(1_000));
        assert_eq!(parse_quota("en", " Unlimited "), Some(0));
        assert_eq!(parse_quota("ru", &t("ru", "admin.unlimited")), Some(0));
        for bad in ["0", "-5", "lots", "", "1.5"] {
            assert_eq!(parse_quota("en", bad), None, "{bad}");
        }
    }
}
