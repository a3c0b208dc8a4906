//! /connect and /accounts: connecting platform accounts, listing them with health and expiry, disconnecting and
//! reconnecting, and picking among several Pages after a sign-in.
//!
//! The OAuth work itself lives in `tochen_platforms::oauth` (authorize links with single-use state and
//! PKCE) and in the web service's callback and confirmation page; this module only talks to people. Only admins
//! connect or disconnect. Disconnecting deletes the account's tokens at once (`Store::disconnect_account`) and
//! queues an `account.revoke` job that revokes the grant at the provider.
//!
//! Button data: `cnk:<kind>` (start a sign-in), `cnp:<pending>:<index>` (pick one of several accounts; sent by
//! the web service in a `notify` job), `cnd:<account>` (disconnect), `cnr:<account>` (reconnect), `cna:c|r` (turn comment or reaction alerts in the team chat on or off).

use crate::ctx::{Active, App, ConnectConfig, Ctx, HandlerResult, TgBot};
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use tochen_config::Config;
use tochen_domain::clock::to_datetime;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::ids::AccountId;
use tochen_domain::{AccountStatus, AuthKind, Role};
use tochen_platforms::oauth::{authorize_url, choose, ConnectError};
use tochen_store::StoreError;
use tochen_telegram::callback::{build, pack_uuid, split, unpack_uuid};

/// A pressed connect button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectButton {
    Start(AuthKind),
    Pick {
        pending: String,
        index: usize,
    },
    Disconnect(AccountId),
    Reconnect(AccountId),
    /// Toggle the team-chat alerts for comments (`c`) or reactions (`r`).
    Alerts(char),
}

fn kind_code(k: AuthKind) -> &'static str {
    match k {
        AuthKind::FacebookPage => "fb",
        AuthKind::InstagramViaPage => "igp",
        AuthKind::InstagramLogin => "igl",
        AuthKind::TikTok => "tt",
    }
}

impl ConnectButton {
    pub fn encode(&self) -> String {
        match self {
            ConnectButton::Start(k) => build("cnk", &[kind_code(*k)]),
            ConnectButton::Pick { pending, index } => build("cnp", &[pending, &index.to_string()]),
            ConnectButton::Disconnect(a) => build("cnd", &[&pack_uuid(a.as_uuid())]),
            ConnectButton::Reconnect(a) => build("cnr", &[&pack_uuid(a.as_uuid())]),
            ConnectButton::Alerts(which) => build("cna", &[&which.to_string()]),
        }
    }

    pub fn decode(data: &str) -> Option<Self> {
        let (prefix, f) = split(data);
        let account = || f.first().and_then(|s| unpack_uuid(s)).map(AccountId::from_uuid);
        match (prefix, f.len()) {
            ("cnk", 1) => AuthKind::ALL.iter().copied().find(|k| kind_code(*k) == f[0]).map(ConnectButton::Start),
            ("cnp", 2) => Some(ConnectButton::Pick { pending: f[0].to_string(), index: f[1].parse().ok()? }),
            ("cnd", 1) => account().map(ConnectButton::Disconnect),
            ("cnr", 1) => account().map(ConnectButton::Reconnect),
            ("cna", 1) if matches!(f[0], "c" | "r") => f[0].chars().next().map(ConnectButton::Alerts),
            _ => None,
        }
    }
}

/// The callback-query branch of the connect flow.
pub fn connect_handlers() -> UpdateHandler<anyhow::Error> {
    Update::filter_callback_query()
        .filter_map(|q: CallbackQuery| q.data.as_deref().and_then(ConnectButton::decode))
        .endpoint(on_button)
}

fn kind_label(lang: &str, k: AuthKind) -> String {
    match k {
        AuthKind::FacebookPage => t(lang, "connect.kind_facebook"),
        AuthKind::InstagramViaPage => t(lang, "connect.kind_instagram_page"),
        AuthKind::InstagramLogin => t(lang, "connect.kind_instagram_login"),
        AuthKind::TikTok => t(lang, "connect.kind_tiktok"),
    }
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

/// `/connect`: the platforms this server is set up for.
pub async fn connect(bot: TgBot, ctx: Ctx, cfg: ConnectConfig) -> HandlerResult {
    let Some(_) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    if !private_only(&bot, &ctx).await? {
        return Ok(());
    }
    let rows: Vec<Vec<InlineKeyboardButton>> = tochen_platforms::registry::connectable(&cfg.0)
        .into_iter()
        .map(|k| vec![InlineKeyboardButton::callback(kind_label(ctx.lang, k), ConnectButton::Start(k).encode())])
        .collect();
    if rows.is_empty() {
        ctx.say(&bot, t(ctx.lang, "connect.not_configured"), None).await?;
        return Ok(());
    }
    ctx.say(&bot, t(ctx.lang, "connect.menu"), Some(InlineKeyboardMarkup::new(rows))).await?;
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
    let accounts = app.store.accounts(a.tenant.id).await?;
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
                    ConnectButton::Reconnect(acc.id).encode(),
                ),
                InlineKeyboardButton::callback(
                    label("connect.disconnect_button"),
                    ConnectButton::Disconnect(acc.id).encode(),
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
                ConnectButton::Alerts('c').encode(),
            ),
            InlineKeyboardButton::callback(
                tf(ctx.lang, "connect.alert_reactions", &[("state", &state(alerts.reactions))]),
                ConnectButton::Alerts('r').encode(),
            ),
        ]);
    }
    Ok((text, (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))))
}

async fn send_link(bot: &TgBot, app: &App, ctx: &Ctx, cfg: &Config, kind: AuthKind) -> HandlerResult {
    let Some(a) = ctx.require(bot, Role::Admin).await? else { return Ok(()) };
    if !private_only(bot, ctx).await? {
        return Ok(());
    }
    let url = match authorize_url(&app.store, cfg, a.tenant.id, ctx.user.id, ctx.chat_id.0, kind).await {
        Ok(url) => url,
        Err(ConnectError::NotConfigured(_)) => return ctx.refuse(bot, t(ctx.lang, "connect.not_configured")).await,
        Err(e) => return Err(e.into()),
    };
    ctx.answer(bot, None).await?;
    let Ok(link) = url.parse() else { return Ok(()) };
    let kb = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::url(t(ctx.lang, "connect.link_button"), link)]]);
    let text = tf(ctx.lang, "connect.open_link", &[("platform", &kind_label(ctx.lang, kind))]);
    ctx.say(bot, text, Some(kb)).await?;
    Ok(())
}

async fn on_button(bot: TgBot, app: App, ctx: Ctx, cfg: ConnectConfig, button: ConnectButton) -> HandlerResult {
    match button {
        ConnectButton::Start(kind) => send_link(&bot, &app, &ctx, &cfg.0, kind).await,
        ConnectButton::Reconnect(id) => {
            let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
            match app.store.account(a.tenant.id, id).await {
                Ok(acc) => send_link(&bot, &app, &ctx, &cfg.0, acc.auth_kind).await,
                Err(_) => ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await,
            }
        }
        ConnectButton::Disconnect(id) => {
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
        ConnectButton::Alerts(which) => {
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
        ConnectButton::Pick { pending, index } => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_buttons_round_trip_within_telegram_limits() {
        let cases = [
            ConnectButton::Start(AuthKind::InstagramLogin),
            ConnectButton::Pick { pending: "0193f1d2c3b4a5968778695a4b3c2d1e".into(), index: 12 },
            ConnectButton::Disconnect(AccountId::new()),
            ConnectButton::Reconnect(AccountId::new()),
            ConnectButton::Alerts('r'),
        ];
        for b in cases {
            let data = b.encode();
            assert!(data.len() <= 64, "{data}");
            assert_eq!(ConnectButton::decode(&data), Some(b));
        }
        assert_eq!(ConnectButton::decode("cnk:zz"), None);
        assert_eq!(ConnectButton::decode("tp:abc"), None);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;
    use tochen_telegram::callback::MAX_CALLBACK_BYTES;

    fn button() -> impl Strategy<Value = ConnectButton> {
        let account = || any::<u128>().prop_map(|n| AccountId::from_uuid(uuid::Uuid::from_u128(n)));
        prop_oneof![
            prop::sample::select(AuthKind::ALL.to_vec()).prop_map(ConnectButton::Start),
            // A pending choice is a simple-format UUID.
            (any::<u128>(), any::<usize>()).prop_map(|(p, index)| ConnectButton::Pick {
                pending: uuid::Uuid::from_u128(p).simple().to_string(),
                index
            }),
            account().prop_map(ConnectButton::Disconnect),
            account().prop_map(ConnectButton::Reconnect),
            prop::sample::select(vec!['c', 'r']).prop_map(ConnectButton::Alerts),
        ]
    }

    proptest! {
        #![proptest_config(tochen_testkit::props::config(1024))]

        #[test]
        fn connect_buttons_round_trip_within_64_bytes(b in button()) {
            let data = b.encode();
            prop_assert!(data.len() <= MAX_CALLBACK_BYTES, "{data}");
            prop_assert_eq!(ConnectButton::decode(&data), Some(b));
        }

        #[test]
        fn decoding_any_data_never_panics(
            data in prop_oneof![
                "\\PC{0,64}",
                "cn[kpdra]:[A-Za-z0-9_-]{0,34}(:[0-9]{0,22})?",
                button().prop_map(|b| b.encode()),
            ]
        ) {
            // Telegram sends at most 64 bytes; what decodes from that encodes back within them.
            if let Some(b) = ConnectButton::decode(&data).filter(|_| data.len() <= MAX_CALLBACK_BYTES) {
                prop_assert_eq!(ConnectButton::decode(&b.encode()), Some(b));
            }
        }
    }
}
