//! `/ads`: every ad account of the workspace with today, yesterday and the last 7 days (spend in the account's
//! currency, impressions, clicks, CTR, CPC, CPM, results), and per account its campaigns of the last 7 days, worst
//! performers first, a page at a time. Numbers are the synced daily insights (`tochen_delivery::ads_report`);
//! currencies are never added together. Buttons: `tochen_telegram::button::Ads::{Overview, Account}`.

use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use tochen_delivery::ads_report::{self, render};
use tochen_domain::clock::now_ms;
use tochen_domain::i18n::{t, tf};
use tochen_domain::ids::AdAccountId;
use tochen_store::StoreError;
use tochen_telegram::button::{Ads, Button};

/// Accounts on the overview (the rest are named by count).
const MAX_ACCOUNTS: usize = 8;
/// Campaigns per page.
const PAGE: usize = 8;

fn cb(text: String, b: Ads) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(text, Button::from(b).encode())
}

async fn overview(app: &App, ctx: &Ctx) -> anyhow::Result<Option<(String, Option<InlineKeyboardMarkup>)>> {
    let Some(a) = ctx.active.clone() else { return Ok(None) };
    let accounts = app.store.ad_accounts(a.tenant.id).await?;
    if accounts.is_empty() {
        return Ok(Some((t(ctx.lang, "ads.none_connected"), None)));
    }
    let now = now_ms();
    let mut glances = Vec::new();
    for acc in accounts.iter().take(MAX_ACCOUNTS) {
        glances.push(ads_report::glance(&app.store, acc, now).await?);
    }
    let mut text = render::glance_html(&glances, ctx.lang);
    if accounts.len() > MAX_ACCOUNTS {
        text.push_str("\n\n");
        text.push_str(&tf(ctx.lang, "ads.more_accounts", &[("n", &(accounts.len() - MAX_ACCOUNTS))]));
    }
    let rows: Vec<Vec<InlineKeyboardButton>> = glances
        .iter()
        .map(|g| {
            let label = tf(ctx.lang, "ads.campaigns_button", &[("account", &g.account.name)]);
            vec![cb(label, Ads::Account { account: g.account.id, page: 0 })]
        })
        .collect();
    Ok(Some((text, Some(InlineKeyboardMarkup::new(rows)))))
}

/// `/ads`.
pub async fn ads(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    if ctx.workspace(&bot).await?.is_none() {
        return Ok(());
    }
    if let Some((text, kb)) = overview(&app, &ctx).await? {
        ctx.say(&bot, text, kb).await?;
    }
    Ok(())
}

async fn campaigns(bot: &TgBot, app: &App, ctx: &Ctx, id: AdAccountId, page: usize) -> HandlerResult {
    let Some(a) = ctx.workspace(bot).await? else { return Ok(()) };
    // Another workspace's id (a forged button) or a removed account: stale.
    let account = match app.store.ad_account(a.tenant.id, id).await {
        Ok(x) => x,
        Err(StoreError::NotFound(_)) => return ctx.refuse(bot, t(ctx.lang, "bot.stale")).await,
        Err(e) => return Err(e.into()),
    };
    let lines = ads_report::campaigns_worst_first(&app.store, &account, now_ms()).await?;
    let pages = lines.len().div_ceil(PAGE).max(1);
    let page = page.min(pages - 1);
    let shown: Vec<_> = lines.iter().skip(page * PAGE).take(PAGE).cloned().collect();
    let mut text = render::campaigns_html(&account, &shown, ctx.lang);
    if pages > 1 {
        text.push_str(&format!("\n\n{}", tf(ctx.lang, "ads.page", &[("n", &(page + 1)), ("of", &pages)])));
    }
    let mut nav = Vec::new();
    if page > 0 {
        nav.push(cb("◀".into(), Ads::Account { account: id, page: page - 1 }));
    }
    if page + 1 < pages {
        nav.push(cb("▶".into(), Ads::Account { account: id, page: page + 1 }));
    }
    let mut rows = vec![];
    if !nav.is_empty() {
        rows.push(nav);
    }
    rows.push(vec![cb(t(ctx.lang, "ads.back"), Ads::Overview)]);
    ctx.answer(bot, None).await?;
    ctx.show(bot, text, Some(InlineKeyboardMarkup::new(rows))).await
}

/// The `/ads` screens' buttons.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, b: Ads) -> HandlerResult {
    match b {
        Ads::Overview => {
            if ctx.workspace(&bot).await?.is_none() {
                return Ok(());
            }
            ctx.answer(&bot, None).await?;
            match overview(&app, &ctx).await? {
                Some((text, kb)) => ctx.show(&bot, text, kb).await,
                None => Ok(()),
            }
        }
        Ads::Account { account, page } => campaigns(&bot, &app, &ctx, account, page).await,
        // Connecting is the connect flow's; the handler tree never routes it here.
        _ => ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await,
    }
}
