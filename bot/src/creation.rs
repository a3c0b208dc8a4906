//! Who may create a workspace on this server (`TOCHEN_WORKSPACE_CREATION`), the operator claim, and the
//! creation itself.
//!
//! - `open`: anyone who starts the bot.
//! - `operators`: only the operators.
//! - `code` (the default): the operators, and whoever opened a single-use creation link
//!   (`t.me/<bot>?start=new_<code>`, made with `/admin` or `tochen admin code`). Opening the link claims the code
//!   for that person; creating the workspace spends it in the same transaction, so one link makes one workspace.
//!
//! Joining a team by invite link is always open. When `TOCHEN_OPERATORS` is empty, the first person to `/start`
//! becomes the operator, and is told so.

use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use tochen_config::WorkspaceCreation;
use tochen_domain::i18n::{t, tf};
use tochen_store::{CodeError, Tenant, TenantProfile};

/// Whether, and how, the person may create a workspace now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    /// Allowed without a code: the policy is open, or the person is an operator.
    Free,
    /// Allowed by a creation code the person claimed; creating spends it.
    ByCode,
    /// Not allowed; the locale key says why and what to do.
    Refused(&'static str),
}

/// What the policy allows `ctx`'s person.
pub async fn creation(app: &App, ctx: &Ctx) -> anyhow::Result<Creation> {
    if app.operator.creation == WorkspaceCreation::Open || app.is_operator(ctx.user.telegram_id).await? {
        return Ok(Creation::Free);
    }
    Ok(match app.operator.creation {
        WorkspaceCreation::Code if app.store.holds_workspace_code(ctx.user.id).await? => Creation::ByCode,
        WorkspaceCreation::Code => Creation::Refused("bot.create.code_needed"),
        _ => Creation::Refused("bot.create.operators_only"),
    })
}

/// Creates the workspace if the policy still allows it (checked again: a code may have been spent meanwhile);
/// `None` after telling the person why not.
pub async fn create(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    name: &str,
    profile: &TenantProfile,
    quota: i64,
) -> anyhow::Result<Option<Tenant>> {
    let created = match creation(app, ctx).await? {
        Creation::Free => Some(app.store.create_tenant(name, profile, quota, ctx.user.id).await?),
        Creation::ByCode => app.store.create_tenant_spending_code(name, profile, quota, ctx.user.id).await?,
        Creation::Refused(_) => None,
    };
    if created.is_none() {
        ctx.dlg.exit().await?;
        let why = match creation(app, ctx).await? {
            Creation::Refused(key) => key,
            _ => "bot.create.code_used",
        };
        ctx.say(bot, t(ctx.lang, why), None).await?;
    }
    Ok(created)
}

/// Claims the creation code of a `new_<code>` link for the person. `false` after telling them what is wrong
/// with the link.
pub async fn claim_code(bot: &TgBot, app: &App, ctx: &Ctx, code: &str) -> anyhow::Result<bool> {
    let key = match app.store.claim_workspace_code(code, ctx.user.id).await {
        Ok(()) => return Ok(true),
        Err(CodeError::Unknown) => "bot.create.code_unknown",
        Err(CodeError::Expired) => "bot.create.code_expired",
        Err(CodeError::Used) => "bot.create.code_used",
        Err(CodeError::Store(e)) => return Err(e.into()),
    };
    ctx.say(bot, t(ctx.lang, key), None).await?;
    Ok(false)
}

/// With no `TOCHEN_OPERATORS`, the first person to `/start` in a private chat becomes the operator: logged, and
/// told what that means and how to make it explicit.
pub async fn claim_operator_if_first(bot: &TgBot, app: &App, ctx: &Ctx) -> HandlerResult {
    if !ctx.private || !app.operator.operators.is_empty() || app.store.claimed_operator().await?.is_some() {
        return Ok(());
    }
    let id = ctx.user.telegram_id;
    if app.store.claim_operator(id).await? {
        tracing::warn!(
            telegram_id = id,
            "TOCHEN_OPERATORS is empty: the first person to /start is now this instance's operator; set \
             TOCHEN_OPERATORS to choose explicitly"
        );
        let text = tf(ctx.lang, "bot.operator.claimed", &[("id", &id)]);
        ctx.say(bot, text, None).await?;
        // Their private chat's command menu gains /admin now, not at the next start.
        crate::admin::register_commands(bot, &app.store, &app.operator).await;
    }
    Ok(())
}
