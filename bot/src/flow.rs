//! Answers to a flow that no longer holds.
//!
//! A multi-step flow (the profile questions, editing or rewriting a draft, attaching media, typing a time, a
//! rejection reason, the automation wizard, the idea buttons) is bound to the workspace it started in: the
//! dialogue row carries it (`state.rs`). Before an answer reaches the flow's handler, this branch checks, in THAT
//! workspace, that the person is still a member, that their role still allows the step (a demoted admin cannot
//! finish the profile), and that it is still the workspace they act in. When one fails, the flow is closed,
//! nothing is saved, and the person is told which of the three it was.
//!
//! Refusing, rather than sending the answer to the flow's workspace, keeps the bot's one rule: everything a person
//! does acts in their active workspace, and every screen a flow ends on carries buttons that only work there.
//! Only answers are checked (text and media, and the buttons that belong to the state); commands and buttons that
//! carry their own ids pass on and check the active workspace themselves, so `/workspaces` and `/cancel` always
//! work.

use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::screens::names::role_name;
use crate::state::State;
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::UpdateKind;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::Role;
use tochen_domain::TenantId;
use tochen_store::StoreError;
use tochen_telegram::button::Button;

/// Why an answer cannot go to its flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    /// The row was saved before flows were bound, or the person has no active workspace.
    Unbound,
    /// The person is no longer a member of the flow's workspace (or it is gone).
    NoAccess { flow: String },
    /// Still a member, with a role below what the step needs.
    Demoted { flow: String, role: Role },
    /// The person now acts in another workspace.
    Switched { flow: String, active: String },
    /// The check itself failed (the database): the answer is held back, the flow kept, and the person asked to
    /// try again.
    Unchecked,
}

/// The branch that stops stale answers; everything else passes on to the rest of the tree.
pub fn stale_answers() -> UpdateHandler<anyhow::Error> {
    dptree::filter_map_async(|app: App, ctx: Ctx, state: State, upd: Update| async move {
        let needed = state.needed_role()?;
        if !is_answer(&state, &upd) {
            return None;
        }
        match check(&app, &ctx, needed).await {
            Ok(stale) => stale,
            // Fail closed: an answer whose flow could not be checked does not reach the flow.
            Err(e) => {
                tracing::error!(error = %e, "cannot check the workspace of a flow");
                Some(Stale::Unchecked)
            }
        }
    })
    .endpoint(close)
}

/// Whether the update answers `state` (as opposed to a command or a button that stands on its own).
fn is_answer(state: &State, upd: &Update) -> bool {
    match &upd.kind {
        UpdateKind::Message(m) => match m.text() {
            Some(text) => !text.starts_with('/'),
            None => m.photo().is_some() || m.video().is_some() || m.document().is_some(),
        },
        UpdateKind::CallbackQuery(q) => {
            let Some(b) = q.data.as_deref().and_then(Button::decode) else { return false };
            match state {
                State::Automation { .. } => matches!(b, Button::Wizard(_)),
                State::Campaign { .. } | State::CampaignBatch { .. } | State::CampaignSpread { .. } => {
                    matches!(b, Button::Campaign(_))
                }
                _ => matches!(b, Button::Onboarding(_) | Button::Ideas(_)),
            }
        }
        _ => false,
    }
}

/// `None` when the flow still holds for this person.
async fn check(app: &App, ctx: &Ctx, needed: Role) -> anyhow::Result<Option<Stale>> {
    let (_, bound) = ctx.dlg.flow().await?;
    let Some(ws) = bound else { return Ok(Some(Stale::Unbound)) };
    // The common case, from what this update already read (the person, with their active workspace and their
    // role in it): the flow's workspace is the active one.
    if let Some(a) = ctx.active.as_ref().filter(|a| a.tenant.id == ws) {
        return Ok((!a.role.at_least(needed)).then(|| Stale::Demoted { flow: a.tenant.name.clone(), role: a.role }));
    }
    let Some(flow) = workspace_name(app, ws).await? else {
        return Ok(Some(Stale::NoAccess { flow: "—".into() }));
    };
    let Some(role) = app.store.role_of(ws, ctx.user.id).await? else {
        return Ok(Some(Stale::NoAccess { flow }));
    };
    if !role.at_least(needed) {
        return Ok(Some(Stale::Demoted { flow, role }));
    }
    Ok(match &ctx.active {
        Some(a) if a.tenant.id == ws => None,
        Some(a) => Some(Stale::Switched { flow, active: a.tenant.name.clone() }),
        None => Some(Stale::Unbound),
    })
}

async fn workspace_name(app: &App, ws: TenantId) -> anyhow::Result<Option<String>> {
    match app.store.tenant(ws).await {
        Ok(t) => Ok(Some(t.name)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Closes the flow and says why. Names are HTML, so a button press gets its answer as a message.
async fn close(bot: TgBot, ctx: Ctx, why: Stale) -> HandlerResult {
    tracing::info!(?why, "an answer to a flow that no longer holds was refused");
    if why != Stale::Unchecked {
        ctx.dlg.exit().await?;
    }
    let l = ctx.lang;
    let text = match why {
        Stale::Unchecked => t(l, "error.internal"),
        Stale::Unbound => t(l, "bot.flow.closed"),
        Stale::NoAccess { flow } => tf(l, "bot.flow.no_access", &[("name", &escape_html(&flow))]),
        Stale::Demoted { flow, role } => {
            tf(l, "bot.flow.demoted", &[("name", &escape_html(&flow)), ("role", &role_name(l, role))])
        }
        Stale::Switched { flow, active } => {
            tf(l, "bot.flow.switched", &[("flow", &escape_html(&flow)), ("active", &escape_html(&active))])
        }
    };
    ctx.answer(&bot, None).await?;
    ctx.say(&bot, text, None).await?;
    Ok(())
}
