//! Buttons drawn by one flow that open another. Flows never import each other (a test reads their `use` lines):
//! such a button is recognised here and routed by the handler tree straight to the flow it opens, ahead of the
//! per-flow routing.

use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use tochen_domain::PostId;
use tochen_telegram::button::{Button, Draft, DraftAct, Queue, Team};

/// A button that hands over to another flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    /// The draft screen's Schedule: the schedule flow's time prompt.
    ScheduleDraft(PostId, i64),
    /// The draft screen's Publish now: the schedule flow's confirmation for now.
    PublishDraftNow(PostId, i64),
    /// Reschedule on a queued post: the time prompt, whose Back returns to the post.
    Reschedule(PostId, i64),
    /// New workspace on the workspaces list: the onboarding questions, if the creation policy allows.
    NewWorkspace,
    /// A page of `/drafts` or `/history` drawn before they were the library's views: the library with that
    /// status preset.
    LibraryPreset(u8, u32),
}

/// The handover a button means, if it is one.
pub fn of(b: Button) -> Option<Handover> {
    Some(match b {
        Button::Draft(Draft::Act(DraftAct::Schedule, id, v)) => Handover::ScheduleDraft(id, v),
        Button::Draft(Draft::Act(DraftAct::PublishNow, id, v)) => Handover::PublishDraftNow(id, v),
        Button::Queue(Queue::Reschedule(id, v)) => Handover::Reschedule(id, v),
        Button::Team(Team::NewWorkspace) => Handover::NewWorkspace,
        Button::Queue(Queue::DraftsPage(p)) => Handover::LibraryPreset(crate::library::view::DRAFTS, p),
        Button::Queue(Queue::HistoryPage(p)) => Handover::LibraryPreset(crate::library::view::HISTORY, p),
        _ => return None,
    })
}

/// Routes handover buttons to the flow they open.
pub fn handler() -> UpdateHandler<anyhow::Error> {
    dptree::filter_map(of).endpoint(route)
}

async fn route(bot: TgBot, app: App, ctx: Ctx, h: Handover) -> HandlerResult {
    match h {
        Handover::ScheduleDraft(id, v) => crate::schedule::from_draft(bot, app, ctx, id, v).await,
        Handover::PublishDraftNow(id, v) => crate::schedule::draft_now(bot, app, ctx, id, v).await,
        Handover::Reschedule(id, v) => crate::schedule::reschedule(bot, app, ctx, id, v).await,
        Handover::NewWorkspace => crate::onboarding::new_workspace(bot, app, ctx).await,
        Handover::LibraryPreset(status, page) => crate::library::preset(bot, app, ctx, status, page).await,
    }
}

/// What a flow's own router does with a handover button, which the handler tree never gives it: treat it as a
/// stale button (and log, since it means the routing changed).
pub async fn not_here(bot: &TgBot, ctx: &Ctx, b: &Button) -> HandlerResult {
    tracing::error!(button = ?b, "a handover button reached a flow's own router");
    ctx.refuse(bot, tochen_domain::i18n::t(ctx.lang, "bot.stale")).await
}
