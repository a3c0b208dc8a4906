//! The home screen (every workspace in totals, with the way to the other screens) and the new workspace link.

use super::{actor, dollars, month};
use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use tochen_config::WorkspaceCreation;
use tochen_domain::clock::DAY_MS;
use tochen_domain::i18n::{t, tf};
use tochen_store::CODE_PREFIX;
use tochen_telegram::button::{Admin, Button};

/// How long a workspace link stays valid.
const LINK_DAYS: i64 = 7;

pub async fn home(bot: &TgBot, app: &App, ctx: &Ctx) -> HandlerResult {
    let all = app.store.workspace_overviews(month()).await?;
    let suspended = all.iter().filter(|w| w.suspended_at.is_some()).count();
    let tokens: i64 = all.iter().map(|w| w.tokens).sum();
    let cost: i64 = all.iter().map(|w| w.cost_micros).sum();
    let l = ctx.lang;
    let text = tf(
        l,
        "admin.home",
        &[
            ("total", &all.len()),
            ("active", &(all.len() - suspended)),
            ("suspended", &suspended),
            ("tokens", &tokens),
            ("cost", &dollars(cost)),
        ],
    );
    let b = |key: &str, a: Admin| (t(l, key), Button::Admin(a));
    let rows = vec![
        vec![b("admin.btn_workspaces", Admin::Workspaces(0))],
        vec![b("admin.btn_costs", Admin::Costs), b("admin.btn_health", Admin::Health)],
        vec![b("admin.btn_link", Admin::NewLink)],
    ];
    ctx.show(bot, text, Some(kb(rows))).await
}

/// A single-use link to create one workspace, shown this once (the store keeps no copy an operator could read
/// back).
pub async fn new_link(bot: &TgBot, app: &App, ctx: &Ctx) -> HandlerResult {
    let code = app.store.create_workspace_code(&actor(ctx), LINK_DAYS * DAY_MS).await?;
    let link = format!("https://t.me/{}?start={CODE_PREFIX}{}", app.bot_username, code.code);
    let l = ctx.lang;
    let mut text = tf(l, "admin.link", &[("link", &link), ("days", &LINK_DAYS)]);
    if app.operator.creation != WorkspaceCreation::Code {
        text.push_str(&tf(l, "admin.link_note", &[("mode", &app.operator.creation.as_str())]));
    }
    let back = kb(vec![vec![(t(l, "admin.btn_back"), Button::Admin(Admin::Home))]]);
    ctx.show(bot, text, Some(back)).await
}
