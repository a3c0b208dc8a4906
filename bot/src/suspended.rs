//! A suspended workspace: the operator paused it, so the bot refuses its work politely (what is there is kept,
//! and its jobs wait in the queue until it is resumed) while leaving the ways out open: switching or creating
//! workspaces, the language, help, cancelling, and the operator's own screens.

use crate::catalog::Command;
use crate::ctx::{Ctx, HandlerResult, TgBot};
use crate::state::State;
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{Me, UpdateKind};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_telegram::button::{Button, Team};

/// The line that says a workspace is suspended and what that means.
pub fn notice(lang: &str, workspace: &str) -> String {
    tf(lang, "bot.suspended", &[("name", &escape_html(workspace))])
}

/// Refuses what a member of a suspended workspace may not do now; everything else passes on.
pub fn gate() -> UpdateHandler<anyhow::Error> {
    dptree::filter(|ctx: Ctx, state: State, upd: Update, me: Me| held(&ctx, &state, &upd, &me)).endpoint(refuse)
}

fn held(ctx: &Ctx, state: &State, upd: &Update, me: &Me) -> bool {
    let Some(a) = &ctx.active else { return false };
    if a.tenant.suspended_at.is_none() {
        return false;
    }
    match &upd.kind {
        UpdateKind::Message(m) => match crate::commands::parse(m, me) {
            Some(c) => !matches!(
                c,
                Command::Start(_)
                    | Command::Workspaces
                    | Command::Language
                    | Command::Help
                    | Command::Cancel
                    | Command::Admin
            ),
            // Text in a group is not addressed to the bot; in a private chat the name of a new workspace (asked
            // after "New workspace") and the operator's quota (`/admin` checks the operator itself) are let through.
            None => ctx.private && !matches!(state, State::SetupName | State::AdminQuota { .. }),
        },
        UpdateKind::CallbackQuery(q) => !matches!(
            q.data.as_deref().and_then(Button::decode),
            Some(Button::Team(Team::Workspace(_) | Team::NewWorkspace | Team::Language(_)) | Button::Admin(_))
        ),
        _ => false,
    }
}

async fn refuse(bot: TgBot, ctx: Ctx) -> HandlerResult {
    let Some(a) = &ctx.active else { return Ok(()) };
    ctx.refuse(&bot, notice(ctx.lang, &a.tenant.name)).await
}
