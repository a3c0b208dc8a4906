//! /connect and /accounts: connecting platform accounts, listing them with health and expiry, disconnecting and
//! reconnecting, and picking among several Pages after a sign-in.
//!
//! The OAuth work itself lives in `tochen_platforms::oauth` (authorize links with single-use state and
//! PKCE) and in the web service's callback and confirmation page; this module only talks to people. Only admins
//! connect or disconnect. Disconnecting deletes the account's tokens at once (`Store::disconnect_account`) and
//! queues an `account.revoke` job that revokes the grant at the provider.
//!
//! Its buttons are `tochen_telegram::button::Connect` (the pick among several accounts is sent by the web service).

use crate::ctx::{Active, App, ConnectConfig, Ctx, HandlerResult, TgBot};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use tochen_config::Config;
use tochen_domain::ads::AdPlatform;
use tochen_domain::clock::to_datetime;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{AccountStatus, AuthKind, Role};
use tochen_platforms::ads::connect::{self as ad_connect, AdConnectError};
use tochen_platforms::oauth::{authorize_url, choose, ConnectError};
use tochen_platforms::{registry, sandbox};
use tochen_store::StoreError;
use tochen_telegram::button::{Ads, Button, Connect};

/// How `/connect` names a way of connecting (`connect.kind_<kind>`).
fn kind_label(lang: &str, k: AuthKind) -> String {
    t(lang, &format!("connect.kind_{}", k.as_str()))
}

/// Sign-in links are only handed out in a private chat: in a group anyone could open the admin's link and connect
/// their own account to the workspace. In a group the admin is pointed to the private chat instead.
async fn private_only(bot: &TgBot, ctx: &Ctx) -> anyhow::Result<bool> {
    if ctx.private {
        return Ok(true);
    }
    ctx.answer(bot, None).await?;
    let username = match bot.get_me().await {
        Ok(me) => me.username.clone().unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the bot's username for the private-chat link");
            String::new()
        }
    };
    let kb = format!("https://t.me/{username}").parse().ok().filter(|_| !username.is_empty()).map(|link| {
        InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::url(t(ctx.lang, "connect.open_private"), link)]])
    });
    ctx.say(bot, t(ctx.lang, "connect.private_only"), kb).await?;
    Ok(false)
}

/// `/connect`: the ways of connecting this server is set up for, then what is not set up here and the variable the
/// operator sets for it, and in sandbox mode a line saying what the sandbox is.
pub async fn connect(bot: TgBot, ctx: Ctx, cfg: ConnectConfig) -> HandlerResult {
    let Some(_) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    if !private_only(&bot, &ctx).await? {
        return Ok(());
    }
    let config = &cfg.0;
    let mut rows: Vec<Vec<InlineKeyboardButton>> = registry::connectable(config)
        .into_iter()
        .map(|k| {
            vec![InlineKeyboardButton::callback(kind_label(ctx.lang, k), Button::from(Connect::Start(k)).encode())]
        })
        .collect();
    let mut missing = not_set_up(ctx.lang, config);
    for p in AdPlatform::ALL {
        match ad_connect::configured(config, p) {
            Ok(()) => rows.push(vec![InlineKeyboardButton::callback(
                ad_kind_label(ctx.lang, p),
                Button::from(Ads::Start(p)).encode(),
            )]),
            Err(var) => missing.push(format!("• {} (<code>{var}</code>)", ad_kind_label(ctx.lang, p))),
        }
    }
    if rows.is_empty() {
        let text = tf(ctx.lang, "connect.not_configured", &[("missing", &missing.join("\n"))]);
        ctx.say(&bot, text, None).await?;
        return Ok(());
    }
    let mut text = t(ctx.lang, "connect.menu");
    if registry::sandbox_on(config) {
        text.push_str("\n\n");
        text.push_str(&t(ctx.lang, "connect.sandbox_note"));
    }
    if !missing.is_empty() {
        text.push_str("\n\n");
        text.push_str(&tf(ctx.lang, "connect.unavailable", &[("missing", &missing.join("\n"))]));
    }
    ctx.say(&bot, text, Some(InlineKeyboardMarkup::new(rows))).await?;
    Ok(())
}

/// One line per real way of connecting this server is not set up for, naming the variable the operator sets.
fn not_set_up(lang: &str, config: &Config) -> Vec<String> {
    registry::not_set_up(config)
        .into_iter()
        .map(|(k, var)| format!("• {} (<code>{var}</code>)", kind_label(lang, k)))
        .collect()
}

/// Connects the workspace's sandbox account of `kind`: one tap, no sign-in.
async fn connect_sandbox(bot: &TgBot, app: &App, ctx: &Ctx, cfg: &Config, kind: AuthKind) -> HandlerResult {
    let Some(a) = ctx.require(bot, Role::Admin).await? else { return Ok(()) };
    if !registry::configured(cfg, kind) {
        return ctx.refuse(bot, t(ctx.lang, "connect.sandbox_off")).await;
    }
    let acc = sandbox::connect(&app.store, a.tenant.id, &a.tenant.name, kind, Some(ctx.user.id)).await?;
    ctx.answer(bot, None).await?;
    let platform = acc.platform.name();
    let text =
        tf(ctx.lang, "connect.sandbox_connected", &[("account", &escape_html(&acc.name)), ("platform", &platform)]);
    ctx.say(bot, text, None).await?;
    Ok(())
}

/// `/accounts`: every connected account with its health and token expiry, and buttons to fix or remove it.
pub async fn accounts(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    let Some(a) = ctx.workspace(&bot).await? else { return Ok(()) };
    let (text, kb) = accounts_screen(&app, &ctx, &a).await?;
    ctx.say(&bot, text, kb).await?;
    Ok(())
}

async fn accounts_screen(app: &App, ctx: &Ctx, a: &Active) -> anyhow::Result<(String, Option<InlineKeyboardMarkup>)> {
    let accounts = app.accounts(a.tenant.id).await?;
    if accounts.is_empty() {
        return Ok((t(ctx.lang, "connect.accounts_empty"), None));
    }
    let mut text = t(ctx.lang, "connect.accounts_header");
    let mut rows = Vec::new();
    for acc in &accounts {
        let status = match acc.status {
            AccountStatus::Active => t(ctx.lang, "connect.status_active"),
            _ => t(ctx.lang, "connect.status_needs_reconnect"),
        };
        let expiry = match acc.token_expires_at {
            Some(ms) => tf(ctx.lang, "connect.expires", &[("date", &to_datetime(ms).format("%Y-%m-%d"))]),
            None => t(ctx.lang, "connect.never_expires"),
        };
        let name = escape_html(&acc.name);
        let platform = acc.platform.name();
        text.push('\n');
        text.push_str(&tf(
            ctx.lang,
            "connect.account_line",
            &[("platform", &platform), ("name", &name), ("status", &status), ("expiry", &expiry)],
        ));
        if a.role.at_least(Role::Admin) {
            let label = |key: &str| tf(ctx.lang, key, &[("name", &acc.name)]);
            rows.push(vec![
                InlineKeyboardButton::callback(
                    label("connect.reconnect_button"),
                    Button::from(Connect::Reconnect(acc.id)).encode(),
                ),
                InlineKeyboardButton::callback(
                    label("connect.disconnect_button"),
                    Button::from(Connect::Disconnect(acc.id)).encode(),
                ),
            ]);
        }
    }
    if a.role.at_least(Role::Admin) {
        let alerts = app.store.engagement_alerts(a.tenant.id).await?;
        let state = |on: bool| if on { t(ctx.lang, "connect.on") } else { t(ctx.lang, "connect.off") };
        rows.push(vec![
            InlineKeyboardButton::callback(
                tf(ctx.lang, "connect.alert_comments", &[("state", &state(alerts.comments))]),
                Button::from(Connect::Alerts('c')).encode(),
            ),
            InlineKeyboardButton::callback(
                tf(ctx.lang, "connect.alert_reactions", &[("state", &state(alerts.reactions))]),
                Button::from(Connect::Alerts('r')).encode(),
            ),
        ]);
    }
    Ok((text, (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))))
}

async fn send_link(bot: &TgBot, app: &App, ctx: &Ctx, cfg: &Config, kind: AuthKind) -> HandlerResult {
    if kind.is_sandbox() {
        return connect_sandbox(bot, app, ctx, cfg, kind).await;
    }
    let Some(a) = ctx.require(bot, Role::Admin).await? else { return Ok(()) };
    if !private_only(bot, ctx).await? {
        return Ok(());
    }
    let url = match authorize_url(&app.store, cfg, a.tenant.id, ctx.user.id, ctx.chat_id.0, kind).await {
        Ok(url) => url,
        Err(ConnectError::NotConfigured(var)) => {
            ctx.answer(bot, None).await?;
            let missing = format!("• {} (<code>{var}</code>)", kind_label(ctx.lang, kind));
            let text = tf(ctx.lang, "connect.kind_not_configured", &[("missing", &missing)]);
            ctx.say(bot, text, None).await?;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    ctx.answer(bot, None).await?;
    let Ok(link) = url.parse() else { return Ok(()) };
    let kb = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::url(t(ctx.lang, "connect.link_button"), link)]]);
    let text = tf(ctx.lang, "connect.open_link", &[("platform", &kind_label(ctx.lang, kind))]);
    ctx.say(bot, text, Some(kb)).await?;
    Ok(())
}

/// A pressed connect button.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, cfg: ConnectConfig, button: Connect) -> HandlerResult {
    match button {
        Connect::Start(kind) => send_link(&bot, &app, &ctx, &cfg.0, kind).await,
        Connect::Reconnect(id) => {
            let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
            match app.store.account(a.tenant.id, id).await {
                Ok(acc) => send_link(&bot, &app, &ctx, &cfg.0, acc.auth_kind).await,
                Err(_) => ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await,
            }
        }
        Connect::Disconnect(id) => {
            let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
            // The tokens leave the account now; revoking at the provider is a job (network, retries).
            let acc = match app.store.disconnect_account(a.tenant.id, id).await {
                Ok((acc, _)) => acc,
                Err(StoreError::NotFound(_)) => return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await,
                Err(e) => return Err(e.into()),
            };
            ctx.answer(&bot, None).await?;
            // The argument list of `tf` holds `&dyn Display`, which must not live across an await.
            let text = tf(ctx.lang, "connect.disconnected", &[("name", &escape_html(&acc.name))]);
            ctx.say(&bot, text, None).await?;
            Ok(())
        }
        Connect::Alerts(which) => {
            let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
            let mut alerts = app.store.engagement_alerts(a.tenant.id).await?;
            if which == 'c' {
                alerts.comments = !alerts.comments;
            } else {
                alerts.reactions = !alerts.reactions;
            }
            app.store.set_engagement_alerts(a.tenant.id, alerts).await?;
            ctx.answer(&bot, None).await?;
            let (text, kb) = accounts_screen(&app, &ctx, &a).await?;
            ctx.show(&bot, text, kb).await
        }
        Connect::Pick { pending, index } => {
            let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
            match choose(&app.store, &cfg.0, a.tenant.id, ctx.user.id, &pending, index).await {
                Ok(acc) => {
                    ctx.answer(&bot, None).await?;
                    let text = tf(ctx.lang, "connect.picked", &[("account", &escape_html(&acc.name))]);
                    ctx.show(&bot, text, None).await
                }
                Err(_) => ctx.refuse(&bot, t(ctx.lang, "connect.pick_expired")).await,
            }
        }
    }
}

/// How `/connect` names an ad platform (`ads.kind_<platform>`).
fn ad_kind_label(lang: &str, p: AdPlatform) -> String {
    t(lang, &format!("ads.kind_{}", p.as_str()))
}

/// The pick after an ad sign-in, as it is now: the accounts found, the ticked ones marked, and "keep".
fn ad_pick_markup(lang: &str, found: &ad_connect::Found) -> (String, InlineKeyboardMarkup) {
    let (text, rows) = tochen_delivery::ads_pick::pick(lang, found);
    let rows =
        rows.into_iter().map(|(text, data)| vec![InlineKeyboardButton::callback(text, data)]).collect::<Vec<_>>();
    (text, InlineKeyboardMarkup::new(rows))
}

/// The connecting buttons of ad accounts: the sign-in link, ticking the accounts found, keeping the ticked ones.
/// Kept ad accounts get their backfill queued at once.
pub async fn on_ads_button(bot: TgBot, app: App, ctx: Ctx, cfg: ConnectConfig, button: Ads) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    match button {
        Ads::Start(p) => {
            if !private_only(&bot, &ctx).await? {
                return Ok(());
            }
            let url =
                match ad_connect::authorize_url(&app.store, &cfg.0, a.tenant.id, ctx.user.id, ctx.chat_id.0, p).await {
                    Ok(url) => url,
                    Err(AdConnectError::NotConfigured(var)) => {
                        ctx.answer(&bot, None).await?;
                        let missing = format!("• {} (<code>{var}</code>)", ad_kind_label(ctx.lang, p));
                        let text = tf(ctx.lang, "connect.kind_not_configured", &[("missing", &missing)]);
                        ctx.say(&bot, text, None).await?;
                        return Ok(());
                    }
                    Err(e) => return Err(e.into()),
                };
            ctx.answer(&bot, None).await?;
            let Ok(link) = url.parse() else { return Ok(()) };
            let kb = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::url(
                t(ctx.lang, "connect.link_button"),
                link,
            )]]);
            let text = tf(ctx.lang, "connect.open_link", &[("platform", &ad_kind_label(ctx.lang, p))]);
            ctx.say(&bot, text, Some(kb)).await?;
            Ok(())
        }
        Ads::Toggle { sign_in, index } => {
            match ad_connect::toggle(&app.store, a.tenant.id, ctx.user.id, &sign_in, index).await {
                Ok(found) => {
                    ctx.answer(&bot, None).await?;
                    let (text, kb) = ad_pick_markup(ctx.lang, &found);
                    ctx.show(&bot, text, Some(kb)).await
                }
                Err(AdConnectError::Unknown) => ctx.refuse(&bot, t(ctx.lang, "connect.pick_expired")).await,
                Err(e) => Err(e.into()),
            }
        }
        Ads::Keep(sign_in) => match ad_connect::keep(&app.store, a.tenant.id, ctx.user.id, &sign_in).await {
            Ok(kept) if kept.is_empty() => {
                ctx.answer(&bot, None).await?;
                ctx.show(&bot, t(ctx.lang, "ads.kept_none"), None).await
            }
            Ok(kept) => {
                let days = cfg.0.ads.backfill_days;
                for acc in &kept {
                    let range =
                        tochen_delivery::ads_sync::backfill_range(tochen_delivery::ads_sync::today_in(acc), days);
                    tochen_delivery::ads_sync::enqueue(&app.store, a.tenant.id, acc.id, range).await?;
                }
                ctx.answer(&bot, None).await?;
                let names = kept.iter().map(|k| escape_html(&k.name)).collect::<Vec<_>>().join(", ");
                let text = tf(ctx.lang, "ads.kept", &[("accounts", &names), ("days", &days)]);
                ctx.show(&bot, text, None).await
            }
            Err(AdConnectError::Unknown) => ctx.refuse(&bot, t(ctx.lang, "connect.pick_expired")).await,
            Err(e) => Err(e.into()),
        },
        // The `/ads` screens are the ads flow's; the handler tree never routes them here.
        Ads::Overview | Ads::Account { .. } => ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await,
    }
}
