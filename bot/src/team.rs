//! People and workspaces: invite links, the member list with role changes, switching workspaces, the language
//! override, usage, help and cancel.

use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::names::role_name;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf, LANGUAGES};
use tochen_domain::Role;
use tochen_store::MembershipError;
use tochen_telegram::button::{Button, Menu, Team};

const INVITE_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

pub async fn invite(bot: TgBot, ctx: Ctx) -> HandlerResult {
    let Some(_) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let l = ctx.lang;
    let buttons = kb(vec![
        vec![
            (role_name(l, Role::Editor), Button::Team(Team::InviteRole(Role::Editor))),
            (role_name(l, Role::Viewer), Button::Team(Team::InviteRole(Role::Viewer))),
        ],
        vec![(role_name(l, Role::Admin), Button::Team(Team::InviteRole(Role::Admin)))],
    ]);
    ctx.show(&bot, t(l, "bot.invite.pick_role"), Some(buttons)).await
}

/// The buttons of the team, workspace and language screens.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Team) -> HandlerResult {
    match b {
        Team::InviteRole(r) => invite_role(bot, app, ctx, r).await,
        Team::Member(u) => member(bot, app, ctx, u).await,
        Team::SetRole(u, r) => set_role(bot, app, ctx, u, r).await,
        Team::RemoveMember(u) => remove(bot, app, ctx, u).await,
        Team::Workspace(tid) => switch(bot, app, ctx, tid).await,
        Team::NewWorkspace => crate::handover::not_here(&bot, &ctx, &Button::Team(b)).await,
        Team::Language(l) => set_language(bot, app, ctx, l).await,
    }
}

pub async fn invite_role(bot: TgBot, app: App, ctx: Ctx, role: Role) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    ctx.answer(&bot, None).await?;
    let invite = app.store.create_invite(a.tenant.id, role, ctx.user.id, INVITE_TTL_MS).await?;
    app.store
        .audit(
            a.tenant.id,
            Some(ctx.user.id),
            "invite.created",
            "invite",
            Some(&invite.id.to_db()),
            serde_json::json!({"role": role.as_str()}),
        )
        .await?;
    let link = format!("https://t.me/{}?start=inv_{}", app.bot_username, invite.code);
    let text = tf(
        ctx.lang,
        "bot.invite.link",
        &[("role", &role_name(ctx.lang, role)), ("name", &escape_html(&a.tenant.name)), ("link", &link), ("days", &7)],
    );
    ctx.show(&bot, text, None).await
}

pub async fn team(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let members = app.store.members(a.tenant.id).await?;
    let mut text = tf(ctx.lang, "bot.team.title", &[("name", &escape_html(&a.tenant.name))]);
    let mut rows = Vec::new();
    for m in &members {
        let handle = m.username.as_deref().map(|u| format!(" @{}", escape_html(u))).unwrap_or_default();
        text.push_str(&format!("\n• {}{handle}: {}", escape_html(&m.name), role_name(ctx.lang, m.role)));
        if a.role == Role::Admin && m.user_id != ctx.user.id {
            rows.push(vec![(
                format!("{} ({})", m.name, role_name(ctx.lang, m.role)),
                Button::Team(Team::Member(m.user_id)),
            )]);
        }
    }
    if a.role == Role::Admin {
        rows.push(vec![(t(ctx.lang, "bot.menu.invite"), Button::Menu(Menu::Invite))]);
    }
    ctx.show(&bot, text, Some(kb(rows))).await
}

pub async fn member(bot: TgBot, app: App, ctx: Ctx, user: tochen_domain::UserId) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let Some(m) = app.store.members(a.tenant.id).await?.into_iter().find(|m| m.user_id == user) else {
        return ctx.refuse(&bot, t(ctx.lang, "bot.team.not_member")).await;
    };
    ctx.answer(&bot, None).await?;
    let l = ctx.lang;
    let text = tf(l, "bot.team.member", &[("name", &escape_html(&m.name)), ("role", &role_name(l, m.role))]);
    let roles = [Role::Admin, Role::Editor, Role::Viewer]
        .into_iter()
        .filter(|r| *r != m.role)
        .map(|r| (tf(l, "bot.team.make", &[("role", &role_name(l, r))]), Button::Team(Team::SetRole(user, r))))
        .collect();
    ctx.show(&bot, text, Some(kb(vec![roles, vec![(t(l, "bot.team.remove"), Button::Team(Team::RemoveMember(user)))]])))
        .await
}

pub async fn set_role(bot: TgBot, app: App, ctx: Ctx, user: tochen_domain::UserId, role: Role) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    match app.store.set_role(a.tenant.id, user, role).await {
        Ok(()) => {
            app.store
                .audit(
                    a.tenant.id,
                    Some(ctx.user.id),
                    "member.role_changed",
                    "user",
                    Some(&user.to_db()),
                    serde_json::json!({"role": role.as_str()}),
                )
                .await?;
            ctx.answer(&bot, None).await?;
            team(bot, app, ctx).await
        }
        Err(MembershipError::LastAdmin) => ctx.refuse(&bot, t(ctx.lang, "bot.team.last_admin")).await,
        Err(MembershipError::NotMember) => ctx.refuse(&bot, t(ctx.lang, "bot.team.not_member")).await,
        Err(MembershipError::Store(e)) => Err(e.into()),
    }
}

pub async fn remove(bot: TgBot, app: App, ctx: Ctx, user: tochen_domain::UserId) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    match app.store.remove_member(a.tenant.id, user).await {
        Ok(()) => {
            app.store
                .audit(
                    a.tenant.id,
                    Some(ctx.user.id),
                    "member.removed",
                    "user",
                    Some(&user.to_db()),
                    serde_json::json!({}),
                )
                .await?;
            ctx.answer(&bot, None).await?;
            team(bot, app, ctx).await
        }
        Err(MembershipError::LastAdmin) => ctx.refuse(&bot, t(ctx.lang, "bot.team.last_admin")).await,
        Err(MembershipError::NotMember) => ctx.refuse(&bot, t(ctx.lang, "bot.team.not_member")).await,
        Err(MembershipError::Store(e)) => Err(e.into()),
    }
}

pub async fn workspaces(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    let list = app.store.tenants_of(ctx.user.id).await?;
    let active = ctx.active.as_ref().map(|a| a.tenant.id);
    let mut rows: Vec<Vec<(String, Button)>> = list
        .iter()
        .map(|(id, name, role)| {
            let mark = if Some(*id) == active { "✓ " } else { "" };
            vec![(format!("{mark}{name} ({})", role_name(ctx.lang, *role)), Button::Team(Team::Workspace(*id)))]
        })
        .collect();
    // Offered only where the policy allows it: no button that would be refused.
    match crate::creation::creation(&app, &ctx).await? {
        crate::creation::Creation::Refused(why) if rows.is_empty() => {
            return ctx.show(&bot, t(ctx.lang, why), None).await;
        }
        crate::creation::Creation::Refused(_) => {}
        _ => rows.push(vec![(t(ctx.lang, "bot.workspaces.new"), Button::Team(Team::NewWorkspace))]),
    }
    ctx.show(&bot, t(ctx.lang, "bot.workspaces.title"), Some(kb(rows))).await
}

pub async fn switch(bot: TgBot, app: App, ctx: Ctx, tenant: tochen_domain::TenantId) -> HandlerResult {
    // Only a workspace the caller belongs to: a forged id of another workspace finds no membership.
    let Some(role) = app.store.role_of(tenant, ctx.user.id).await? else {
        return ctx.refuse(&bot, t(ctx.lang, "bot.workspaces.not_member")).await;
    };
    app.store.set_active_tenant(ctx.user.id, tenant).await?;
    ctx.dlg.exit().await?;
    ctx.answer(&bot, None).await?;
    let name = app.store.tenant(tenant).await?.name;
    let text =
        tf(ctx.lang, "bot.workspaces.switched", &[("name", &escape_html(&name)), ("role", &role_name(ctx.lang, role))]);
    ctx.show(&bot, text, None).await
}

pub async fn language(bot: TgBot, ctx: Ctx) -> HandlerResult {
    let rows = LANGUAGES
        .iter()
        .map(|l| vec![(t(l, "bot.language.name"), Button::Team(Team::Language((*l).to_owned())))])
        .collect();
    ctx.show(&bot, t(ctx.lang, "bot.language.pick"), Some(kb(rows))).await
}

pub async fn set_language(bot: TgBot, app: App, ctx: Ctx, lang: String) -> HandlerResult {
    let Some(lang) = LANGUAGES.iter().copied().find(|l| *l == lang) else {
        return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await;
    };
    app.store.set_user_language(ctx.user.id, Some(lang)).await?;
    ctx.answer(&bot, None).await?;
    ctx.show(&bot, t(lang, "bot.language.set"), None).await
}

pub async fn usage(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let since = tochen_domain::clock::month_start_ms(&a.tenant.profile.timezone, tochen_domain::clock::now_ms());
    let u = app.store.llm_usage_since(a.tenant.id, since).await?;
    let quota = if a.tenant.llm_monthly_token_quota > 0 {
        a.tenant.llm_monthly_token_quota.to_string()
    } else {
        t(ctx.lang, "bot.usage.unlimited")
    };
    let text = tf(
        ctx.lang,
        "bot.usage.text",
        &[
            ("tokens", &u.tokens),
            ("quota", &quota),
            ("calls", &u.calls),
            ("failed", &u.failed_calls),
            ("images", &u.images),
            ("cost", &format!("{:.4}", u.cost_micros as f64 / 1_000_000.0)),
        ],
    );
    ctx.say(&bot, text, None).await?;
    Ok(())
}

pub async fn help(bot: TgBot, ctx: Ctx) -> HandlerResult {
    ctx.say(&bot, crate::catalog::help_text(ctx.lang), None).await?;
    Ok(())
}

pub async fn cancel(bot: TgBot, ctx: Ctx) -> HandlerResult {
    ctx.dlg.exit().await?;
    ctx.say(&bot, t(ctx.lang, "common.cancelled"), None).await?;
    Ok(())
}
