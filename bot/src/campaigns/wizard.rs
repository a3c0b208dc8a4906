//! The guided flow of `/campaign new` (name, brief, brand, audience, tone, goal, dates, platforms and accounts)
//! and editing one field of a campaign. Text answers are read by [`got_text`]; every step but the name can be
//! skipped; dates are a typed range read like the library's; platforms and accounts are toggles. Nothing is saved
//! until the last step (a new campaign) or the one answer (an edit), and a bad answer keeps the step.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::daterange::parse_date_range;
use crate::kb::{kb, toggles};
use crate::screens::draft::platform_name;
use crate::screens::time::tz_of;
use crate::state::campaign::CampaignDraft;
use crate::state::State;
use teloxide::prelude::*;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{AccountStatus, CampaignId, Platform, Role};
use tochen_store::{Account, Campaign, CampaignError, CampaignFields, CAMPAIGN_NAME_CHARS, CAMPAIGN_TEXT_CHARS};
use tochen_telegram::button::{Button, Campaign as Cb, CampaignField};
use tochen_telegram::text::clip;

/// The steps of a new campaign, in order.
const STEPS: [CampaignField; 8] = CampaignField::ALL;

fn empty(step: CampaignField, editing: Option<CampaignId>) -> CampaignDraft {
    CampaignDraft {
        editing,
        step,
        name: String::new(),
        brief: String::new(),
        brand: String::new(),
        audience: String::new(),
        tone: String::new(),
        goal: String::new(),
        starts_at: None,
        ends_at: None,
        platforms: Vec::new(),
        accounts: Vec::new(),
    }
}

fn from_campaign(c: &Campaign, step: CampaignField) -> CampaignDraft {
    let f = &c.fields;
    CampaignDraft {
        editing: Some(c.id),
        step,
        name: f.name.clone(),
        brief: f.brief.clone(),
        brand: f.brand.clone(),
        audience: f.audience.clone(),
        tone: f.tone.clone(),
        goal: f.goal.clone(),
        starts_at: f.starts_at,
        ends_at: f.ends_at,
        platforms: f.platforms.clone(),
        accounts: f.accounts.clone(),
    }
}

fn fields_of(d: &CampaignDraft) -> CampaignFields {
    CampaignFields {
        name: d.name.clone(),
        brief: d.brief.clone(),
        brand: d.brand.clone(),
        audience: d.audience.clone(),
        tone: d.tone.clone(),
        goal: d.goal.clone(),
        starts_at: d.starts_at,
        ends_at: d.ends_at,
        platforms: d.platforms.clone(),
        accounts: d.accounts.clone(),
    }
}

/// `/campaign new`: the first question.
pub async fn start(bot: &TgBot, ctx: &Ctx) -> HandlerResult {
    let Some(a) = ctx.require(bot, Role::Editor).await? else { return Ok(()) };
    let draft = empty(CampaignField::Name, None);
    ask(bot, ctx, &a, draft).await
}

/// A field's Edit button on the campaign screen.
pub async fn edit(bot: &TgBot, app: &App, ctx: &Ctx, id: CampaignId, field: CampaignField) -> HandlerResult {
    let Some(a) = ctx.require(bot, Role::Editor).await? else { return Ok(()) };
    let Some(c) = super::load(bot, app, ctx, &a, id).await? else { return Ok(()) };
    if c.status == tochen_domain::CampaignStatus::Archived {
        return ctx.refuse(bot, t(ctx.lang, "campaign.is_archived")).await;
    }
    ctx.answer(bot, None).await?;
    let draft = from_campaign(&c, field);
    if field == CampaignField::Platforms {
        ctx.dlg.update(State::Campaign { draft: draft.clone() }).await?;
        return platforms_screen(bot, app, ctx, &a, &draft).await;
    }
    ask(bot, ctx, &a, draft).await
}

/// Asks the step's question (the platforms step is its own screen).
async fn ask(bot: &TgBot, ctx: &Ctx, a: &Active, draft: CampaignDraft) -> HandlerResult {
    let l = ctx.lang;
    let key = format!("campaign.ask.{}", super::field_key(draft.step));
    let mut text = if draft.step == CampaignField::Dates {
        tf(l, &key, &[("tz", &escape_html(tz_of(a).name()))])
    } else {
        t(l, &key)
    };
    if draft.editing.is_none() {
        let n = STEPS.iter().position(|s| *s == draft.step).unwrap_or(0) + 1;
        text = format!("{}\n\n{text}", tf(l, "campaign.step", &[("n", &n), ("of", &STEPS.len())]));
    }
    let mut rows = Vec::new();
    if draft.step != CampaignField::Name {
        let skip = if draft.editing.is_some() { "campaign.btn.clear" } else { "campaign.btn.skip" };
        rows.push(vec![(t(l, skip), Button::Campaign(Cb::Skip))]);
    }
    if let Some(id) = draft.editing {
        rows.push(vec![(t(l, "bot.back"), Button::Campaign(Cb::Show(id)))]);
    }
    ctx.dlg.update(State::Campaign { draft }).await?;
    ctx.show(bot, text, Some(kb(rows))).await
}

/// The accounts the platforms step offers: the workspace's connected ones, of the chosen platforms (all while none
/// is chosen).
async fn offered_accounts(app: &App, a: &Active, d: &CampaignDraft) -> anyhow::Result<Vec<Account>> {
    Ok(app
        .accounts(a.tenant.id)
        .await?
        .into_iter()
        .filter(|x| x.status != AccountStatus::Disconnected)
        .filter(|x| d.platforms.is_empty() || d.platforms.contains(&x.platform))
        .collect())
}

async fn platforms_screen(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, d: &CampaignDraft) -> HandlerResult {
    let l = ctx.lang;
    let mut text = t(l, "campaign.ask.platforms");
    if d.editing.is_none() {
        text = format!("{}\n\n{text}", tf(l, "campaign.step", &[("n", &STEPS.len()), ("of", &STEPS.len())]));
    }
    let mut rows = toggles(
        Platform::ALL,
        |p| d.platforms.contains(p),
        |p| platform_name(l, *p),
        |i| Button::Campaign(Cb::TogglePlatform(i)),
    );
    let accounts = offered_accounts(app, a, d).await?;
    rows.extend(toggles(
        &accounts,
        |x| d.accounts.contains(&x.id),
        |x| format!("{} {}", platform_name(l, x.platform), clip(&x.name, 30)),
        |i| Button::Campaign(Cb::ToggleAccount(i)),
    ));
    let done = if d.editing.is_some() { "campaign.btn.save" } else { "campaign.btn.create" };
    rows.push(vec![(t(l, done), Button::Campaign(Cb::Next))]);
    if let Some(id) = d.editing {
        rows.push(vec![(t(l, "bot.back"), Button::Campaign(Cb::Show(id)))]);
    }
    ctx.show(bot, text, Some(kb(rows))).await
}

/// The flow's buttons: toggles, Skip and Next. They act on the flow kept in the dialogue.
pub async fn on_step(bot: &TgBot, app: &App, ctx: &Ctx, state: State, b: Cb) -> HandlerResult {
    let Some(a) = ctx.require(bot, Role::Editor).await? else { return Ok(()) };
    let State::Campaign { mut draft } = state else {
        return ctx.refuse(bot, t(ctx.lang, "bot.stale")).await;
    };
    match b {
        Cb::TogglePlatform(i) if draft.step == CampaignField::Platforms => {
            let Some(p) = Platform::ALL.get(i as usize).copied() else {
                return ctx.refuse(bot, t(ctx.lang, "bot.stale")).await;
            };
            if let Some(at) = draft.platforms.iter().position(|x| *x == p) {
                draft.platforms.remove(at);
            } else {
                draft.platforms.push(p);
            }
            // Accounts of a platform no longer chosen leave the choice.
            let offered = offered_accounts(app, &a, &draft).await?;
            draft.accounts.retain(|x| offered.iter().any(|o| o.id == *x));
            ctx.answer(bot, None).await?;
            ctx.dlg.update(State::Campaign { draft: draft.clone() }).await?;
            platforms_screen(bot, app, ctx, &a, &draft).await
        }
        Cb::ToggleAccount(i) if draft.step == CampaignField::Platforms => {
            let offered = offered_accounts(app, &a, &draft).await?;
            let Some(x) = offered.get(i as usize) else {
                return ctx.refuse(bot, t(ctx.lang, "bot.stale")).await;
            };
            if let Some(at) = draft.accounts.iter().position(|y| *y == x.id) {
                draft.accounts.remove(at);
            } else {
                draft.accounts.push(x.id);
            }
            ctx.answer(bot, None).await?;
            ctx.dlg.update(State::Campaign { draft: draft.clone() }).await?;
            platforms_screen(bot, app, ctx, &a, &draft).await
        }
        Cb::Next if draft.step == CampaignField::Platforms => {
            ctx.answer(bot, None).await?;
            save(bot, app, ctx, &a, draft).await
        }
        Cb::Skip if draft.step != CampaignField::Name && draft.step != CampaignField::Platforms => {
            ctx.answer(bot, None).await?;
            match draft.step {
                CampaignField::Dates => {
                    draft.starts_at = None;
                    draft.ends_at = None;
                }
                f => *text_field(&mut draft, f) = String::new(),
            }
            advance(bot, app, ctx, &a, draft).await
        }
        _ => ctx.refuse(bot, t(ctx.lang, "bot.stale")).await,
    }
}

fn text_field(d: &mut CampaignDraft, f: CampaignField) -> &mut String {
    match f {
        CampaignField::Name => &mut d.name,
        CampaignField::Brief => &mut d.brief,
        CampaignField::Brand => &mut d.brand,
        CampaignField::Audience => &mut d.audience,
        CampaignField::Tone => &mut d.tone,
        _ => &mut d.goal,
    }
}

/// After an answer: an edit is saved; a new campaign goes on to the next step.
async fn advance(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, mut draft: CampaignDraft) -> HandlerResult {
    if draft.editing.is_some() {
        return save(bot, app, ctx, a, draft).await;
    }
    let at = STEPS.iter().position(|s| *s == draft.step).unwrap_or(0);
    draft.step = STEPS[(at + 1).min(STEPS.len() - 1)];
    if draft.step == CampaignField::Platforms {
        ctx.dlg.update(State::Campaign { draft: draft.clone() }).await?;
        return platforms_screen(bot, app, ctx, a, &draft).await;
    }
    ask(bot, &ctx.in_new_message(), a, draft).await
}

/// A text answer to the step asked.
pub async fn got_text(bot: TgBot, app: App, ctx: Ctx, msg: Message, mut draft: CampaignDraft) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Editor).await? else { return Ok(()) };
    let l = ctx.lang;
    let Some(text) = msg.text().map(str::trim).filter(|s| !s.is_empty()) else {
        return ctx.say(&bot, t(l, "campaign.text_needed"), None).await.map(|_| ());
    };
    match draft.step {
        CampaignField::Platforms => {
            return ctx.say(&bot, t(l, "campaign.use_buttons"), None).await.map(|_| ());
        }
        CampaignField::Dates => match parse_date_range(text, tz_of(&a)) {
            Ok((start, end)) => {
                draft.starts_at = Some(start);
                draft.ends_at = Some(end);
            }
            Err(e) => return ctx.say(&bot, e.explain(l), None).await.map(|_| ()),
        },
        CampaignField::Name => {
            if text.chars().count() > CAMPAIGN_NAME_CHARS {
                let why = tf(l, "campaign.name_too_long", &[("max", &CAMPAIGN_NAME_CHARS)]);
                return ctx.say(&bot, why, None).await.map(|_| ());
            }
            draft.name = text.to_owned();
        }
        f => {
            if text.chars().count() > CAMPAIGN_TEXT_CHARS {
                let why = tf(l, "campaign.text_too_long", &[("max", &CAMPAIGN_TEXT_CHARS)]);
                return ctx.say(&bot, why, None).await.map(|_| ());
            }
            *text_field(&mut draft, f) = text.to_owned();
        }
    }
    advance(&bot, &app, &ctx, &a, draft).await
}

/// Creates the campaign or saves the edit, then shows the campaign.
async fn save(bot: &TgBot, app: &App, ctx: &Ctx, a: &Active, draft: CampaignDraft) -> HandlerResult {
    let l = ctx.lang;
    let fields = fields_of(&draft);
    let saved = match draft.editing {
        Some(id) => app.store.update_campaign(a.tenant.id, id, &fields).await,
        None => app.store.create_campaign(a.tenant.id, Some(ctx.user.id), &fields).await,
    };
    let c = match saved {
        Ok(c) => c,
        Err(e) => {
            let why = match e {
                CampaignError::BadName => tf(l, "campaign.name_too_long", &[("max", &CAMPAIGN_NAME_CHARS)]),
                CampaignError::BadPeriod => t(l, "bot.library.range_reversed"),
                CampaignError::UnknownAccount(_) => t(l, "bot.stale"),
                CampaignError::Archived => t(l, "campaign.is_archived"),
                CampaignError::Store(tochen_store::StoreError::NotFound(_)) => t(l, "bot.stale"),
                e => return Err(e.into()),
            };
            ctx.dlg.exit().await?;
            return ctx.say(bot, why, None).await.map(|_| ());
        }
    };
    ctx.dlg.exit().await?;
    let action = if draft.editing.is_some() { "campaign.edited" } else { "campaign.created" };
    app.store
        .audit(a.tenant.id, Some(ctx.user.id), action, "campaign", Some(&c.id.to_db()), serde_json::json!({}))
        .await?;
    let notice = if draft.editing.is_some() { t(l, "campaign.saved") } else { t(l, "campaign.created") };
    ctx.say(bot, notice, None).await?;
    super::show(bot, app, &ctx.in_new_message(), a, &c).await
}
