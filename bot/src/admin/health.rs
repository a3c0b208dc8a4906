//! The queue's health: the scheduler's heartbeat, job counts, destinations that are not delivering and dead jobs,
//! with retries of dead jobs.

use super::{actor, clip};
use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use tochen_domain::clock::now_ms;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::ids::JobId;
use tochen_telegram::button::{Admin, Button};

/// Failing destinations and dead jobs listed at most.
const LISTED: usize = 10;

pub async fn health(bot: &TgBot, app: &App, ctx: &Ctx) -> HandlerResult {
    let h = app.store.queue_health().await?;
    let failing = app.store.failing_destinations().await?;
    let dead = app.store.dead_jobs(LISTED as i64).await?;
    let l = ctx.lang;
    let mut lines = vec![t(l, "admin.health.title")];
    lines.push(match h.last_beat {
        Some(at) => tf(l, "admin.health.beat", &[("secs", &((now_ms() - at).max(0) / 1000))]),
        None => t(l, "admin.health.never"),
    });
    lines.push(tf(
        l,
        "admin.health.jobs",
        &[("due", &h.due), ("queued", &h.queued), ("running", &h.running), ("held", &h.held), ("dead", &h.dead)],
    ));
    if !failing.is_empty() {
        lines.push(t(l, "admin.health.failing"));
    }
    for d in failing.iter().take(LISTED) {
        let reason = d.reason.as_deref().unwrap_or("-");
        lines.push(tf(
            l,
            "admin.health.failing_line",
            &[
                ("workspace", &escape_html(&clip(&d.workspace, 40))),
                ("name", &escape_html(&clip(&d.name, 40))),
                ("kind", &d.kind.as_str()),
                ("reason", &escape_html(&clip(reason, 80))),
            ],
        ));
    }
    if !dead.is_empty() {
        lines.push(t(l, "admin.health.dead"));
    }
    let mut retry_one = Vec::new();
    for (i, j) in dead.iter().enumerate() {
        let error = j.last_error.as_deref().unwrap_or("-");
        lines.push(tf(
            l,
            "admin.health.dead_line",
            &[("n", &(i + 1)), ("kind", &escape_html(&j.kind)), ("error", &escape_html(&clip(error, 100)))],
        ));
        retry_one.push((tf(l, "admin.btn_retry", &[("n", &(i + 1))]), Button::Admin(Admin::Retry(j.id))));
    }
    let b = |key: &str, a: Admin| (t(l, key), Button::Admin(a));
    let mut rows: Vec<Vec<(String, Button)>> = retry_one.chunks(5).map(<[_]>::to_vec).collect();
    if h.dead > 0 {
        rows.push(vec![b("admin.btn_retry_all", Admin::RetryAll)]);
    }
    rows.push(vec![b("admin.btn_refresh", Admin::Health), b("admin.btn_back", Admin::Home)]);
    ctx.show(bot, lines.join("\n"), Some(kb(rows))).await
}

/// Retries one dead job, or all of them, says how many, and shows the health screen again.
pub async fn retry(bot: &TgBot, app: &App, ctx: &Ctx, only: Option<JobId>) -> HandlerResult {
    let n = app.store.retry_dead_jobs(only, &actor(ctx)).await?;
    let notice = match (n, only) {
        (0, Some(_)) => t(ctx.lang, "admin.retry_none"),
        (n, _) => tf(ctx.lang, "admin.retried", &[("n", &n)]),
    };
    ctx.answer(bot, Some(notice)).await?;
    health(bot, app, ctx).await
}
