//! `/api`: the workspace's HTTP API tokens, for admins, in a private chat only (a token is shown once, in the chat
//! where it is made). The list shows each usable token's name, first characters, role, scopes, expiry and last
//! use, with a Revoke button; "New token" asks for a name, then the role, scopes and expiry are chosen with buttons
//! (the settings travel in the buttons, the name in the dialogue), and Create shows the token once.

use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use crate::screens::names::role_name;
use crate::screens::time::local_time;
use crate::state::State;
use teloxide::prelude::*;
use tochen_domain::clock::{now_ms, DAY_MS};
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{ApiScope, Role};
use tochen_store::NewApiToken;
use tochen_telegram::button::{ApiTokens, Button, TokenSettings};

/// Longest token name, in characters.
const NAME_CHARS: usize = 64;
/// Most tokens listed with a Revoke button.
const LISTED: usize = 10;
/// The expiry choices, in days (0: never).
const EXPIRIES: [u16; 4] = [0, 30, 90, 365];
/// What a new token starts with: an editor's, reading and writing, for 90 days.
const DEFAULTS: TokenSettings = TokenSettings { role: Role::Editor, scopes: 0b011, expiry_days: 90 };

/// `/api` and the list button.
pub async fn tokens(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let l = ctx.lang;
    if !ctx.private {
        return ctx.refuse(&bot, t(l, "bot.api.private_only")).await;
    }
    let now = now_ms();
    let all: Vec<_> = app.store.api_tokens(a.tenant.id).await?.into_iter().filter(|x| x.active(now)).collect();
    let mut text = format!("{}\n{}", t(l, "bot.api.title"), t(l, "bot.api.intro"));
    if all.is_empty() {
        text.push_str(&format!("\n\n{}", t(l, "bot.api.none")));
    }
    let mut rows = Vec::new();
    for x in all.iter().take(LISTED) {
        let scopes: Vec<&str> = x.scopes.iter().map(|s| s.as_str()).collect();
        let expires = x.expires_at.map_or_else(|| t(l, "bot.api.never"), |e| local_time(l, &a, e));
        let used = x.last_used_at.map_or_else(|| t(l, "bot.api.unused"), |u| local_time(l, &a, u));
        text.push_str(&format!(
            "\n\n{}",
            tf(
                l,
                "bot.api.line",
                &[
                    ("name", &escape_html(&x.name)),
                    ("shown", &escape_html(&x.shown)),
                    ("role", &role_name(l, x.role)),
                    ("scopes", &scopes.join(", ")),
                    ("expires", &expires),
                    ("used", &used),
                ],
            )
        ));
        let label = tf(l, "bot.api.btn_revoke", &[("name", &x.name.chars().take(24).collect::<String>())]);
        rows.push(vec![(label, Button::ApiTokens(ApiTokens::Revoke(x.id)))]);
    }
    if all.len() > LISTED {
        text.push_str(&format!("\n\n{}", tf(l, "bot.api.more", &[("n", &(all.len() - LISTED))])));
    }
    rows.push(vec![(t(l, "bot.api.btn_new"), Button::ApiTokens(ApiTokens::New))]);
    ctx.show(&bot, text, Some(kb(rows))).await
}

pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: ApiTokens) -> HandlerResult {
    match b {
        ApiTokens::List => tokens(bot, app, ctx).await,
        ApiTokens::New => ask_name(bot, ctx).await,
        ApiTokens::Settings(s) => settings(bot, ctx, s).await,
        ApiTokens::Create(s) => create(bot, app, ctx, s).await,
        ApiTokens::Revoke(id) => revoke(bot, app, ctx, id).await,
    }
}

async fn ask_name(bot: TgBot, ctx: Ctx) -> HandlerResult {
    let Some(_) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    if !ctx.private {
        return ctx.refuse(&bot, t(ctx.lang, "bot.api.private_only")).await;
    }
    ctx.dlg.update(State::ApiToken { name: None }).await?;
    ctx.answer(&bot, None).await?;
    ctx.say(&bot, t(ctx.lang, "bot.api.ask_name"), None).await.map(|_| ())
}

/// A name for the new token (or, while its settings are chosen, a new name).
pub async fn got_name(bot: TgBot, ctx: Ctx, msg: Message) -> HandlerResult {
    let Some(_) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let name = msg.text().map(str::trim).unwrap_or_default().to_owned();
    if name.is_empty() || name.chars().count() > NAME_CHARS || name.chars().any(char::is_control) {
        let text = tf(ctx.lang, "bot.api.bad_name", &[("max", &NAME_CHARS)]);
        return ctx.say(&bot, text, None).await.map(|_| ());
    }
    ctx.dlg.update(State::ApiToken { name: Some(name.clone()) }).await?;
    let (text, buttons) = settings_screen(ctx.lang, &name, DEFAULTS);
    ctx.say(&bot, text, Some(buttons)).await.map(|_| ())
}

/// The name in the dialogue, or `None` when the settings screen is stale (the person moved on).
async fn pending_name(ctx: &Ctx) -> anyhow::Result<Option<String>> {
    Ok(match ctx.dlg.get().await? {
        State::ApiToken { name: Some(n) } => Some(n),
        _ => None,
    })
}

fn settings_screen(l: &str, name: &str, s: TokenSettings) -> (String, teloxide::types::InlineKeyboardMarkup) {
    let mark = |on: bool, label: String| if on { format!("✓ {label}") } else { label };
    let with = |s: TokenSettings| Button::ApiTokens(ApiTokens::Settings(s));
    let roles = [Role::Admin, Role::Editor, Role::Viewer]
        .into_iter()
        .map(|r| (mark(s.role == r, role_name(l, r)), with(TokenSettings { role: r, ..s })))
        .collect();
    let scopes = ApiScope::ALL
        .iter()
        .map(|sc| {
            let bit = TokenSettings::bit(*sc);
            (mark(s.scopes & bit != 0, sc.as_str().to_owned()), with(TokenSettings { scopes: s.scopes ^ bit, ..s }))
        })
        .collect();
    let expiry_label = |d: u16| if d == 0 { t(l, "bot.api.never") } else { tf(l, "bot.api.days", &[("n", &d)]) };
    let expiries = EXPIRIES
        .iter()
        .map(|d| (mark(s.expiry_days == *d, expiry_label(*d)), with(TokenSettings { expiry_days: *d, ..s })))
        .collect();
    let scope_names: Vec<&str> = s.scope_list().iter().map(|x| x.as_str()).collect();
    let text = tf(
        l,
        "bot.api.settings",
        &[
            ("name", &escape_html(name)),
            ("role", &role_name(l, s.role)),
            ("scopes", &if scope_names.is_empty() { "—".to_owned() } else { scope_names.join(", ") }),
            ("expires", &expiry_label(s.expiry_days)),
        ],
    );
    let buttons = kb(vec![
        roles,
        scopes,
        expiries,
        vec![
            (t(l, "bot.api.btn_create"), Button::ApiTokens(ApiTokens::Create(s))),
            (t(l, "bot.back"), Button::ApiTokens(ApiTokens::List)),
        ],
    ]);
    (text, buttons)
}

async fn settings(bot: TgBot, ctx: Ctx, s: TokenSettings) -> HandlerResult {
    let Some(_) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let Some(name) = pending_name(&ctx).await? else { return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await };
    let (text, buttons) = settings_screen(ctx.lang, &name, s);
    ctx.answer(&bot, None).await?;
    ctx.show(&bot, text, Some(buttons)).await
}

async fn create(bot: TgBot, app: App, ctx: Ctx, s: TokenSettings) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let l = ctx.lang;
    if !ctx.private {
        return ctx.refuse(&bot, t(l, "bot.api.private_only")).await;
    }
    let Some(name) = pending_name(&ctx).await? else { return ctx.refuse(&bot, t(l, "bot.stale")).await };
    let scopes = s.scope_list();
    if scopes.is_empty() {
        return ctx.refuse(&bot, t(l, "bot.api.no_scope")).await;
    }
    let now = now_ms();
    let expires_at = (s.expiry_days > 0).then(|| now + i64::from(s.expiry_days) * DAY_MS);
    let new = NewApiToken { name: name.clone(), role: s.role, scopes, created_by: Some(ctx.user.id), expires_at };
    let (token, secret) = app.store.create_api_token(a.tenant.id, &new, now).await?;
    ctx.dlg.exit().await?;
    let details = serde_json::json!({"name": name, "role": s.role.as_str(), "shown": token.shown});
    app.store
        .audit(a.tenant.id, Some(ctx.user.id), "api_token.created", "api_token", Some(&token.id.to_db()), details)
        .await?;
    ctx.answer(&bot, None).await?;
    let text = tf(l, "bot.api.created", &[("name", &escape_html(&name)), ("token", &secret), ("url", &app.public_url)]);
    ctx.show(&bot, text, Some(kb(vec![vec![(t(l, "bot.api.btn_list"), Button::ApiTokens(ApiTokens::List))]]))).await
}

async fn revoke(bot: TgBot, app: App, ctx: Ctx, id: tochen_domain::ApiTokenId) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    // Another workspace's id revokes nothing, as an already revoked one.
    if !app.store.revoke_api_token(a.tenant.id, id, now_ms()).await? {
        return ctx.refuse(&bot, t(ctx.lang, "bot.api.already_revoked")).await;
    }
    app.store
        .audit(
            a.tenant.id,
            Some(ctx.user.id),
            "api_token.revoked",
            "api_token",
            Some(&id.to_db()),
            serde_json::json!({}),
        )
        .await?;
    ctx.answer(&bot, Some(t(ctx.lang, "bot.api.revoked"))).await?;
    tokens(bot, app, ctx).await
}
