//! First contact and the business profile: `/start` creates a workspace (or redeems an invite link), then asks
//! what the business does, who it talks to, its tone, the language of its posts and reports (separate from the
//! person's own interface language: a Kyiv shop run in Russian may post in Ukrainian) and its time zone, each with
//! a default and a way to skip.
//! `/profile` walks the same questions with the current answers shown.
//!
//! Each answer is saved to the workspace the questions started in, and only by one of its admins: `flow.rs`
//! refuses an answer once the person switched workspaces or lost the role, and every step here checks the role
//! again before it writes.

use crate::ctx::{Active, App, Ctx, HandlerResult, TgBot};
use crate::kb::{kb, one};
use crate::screens::names::role_name;
use crate::state::State;
use teloxide::prelude::*;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf, LANGUAGES};
use tochen_domain::Role;
use tochen_store::{ProfileField, RedeemError, TenantProfile};
use tochen_telegram::button::{Button, Menu, Onboarding};

pub const TONES: [&str; 4] = ["friendly", "professional", "playful", "bold"];

/// A first guess of the time zone from the Telegram language; the person confirms or changes it.
pub fn guess_timezone(lang: &str) -> &'static str {
    match lang {
        "ru" => "Europe/Moscow",
        "uk" => "Europe/Kyiv",
        "de" => "Europe/Berlin",
        "es" => "Europe/Madrid",
        _ => "Europe/London",
    }
}

fn tone_name(lang: &str, tone: &str) -> String {
    match tone {
        "friendly" => t(lang, "bot.tone.friendly"),
        "professional" => t(lang, "bot.tone.professional"),
        "playful" => t(lang, "bot.tone.playful"),
        "bold" => t(lang, "bot.tone.bold"),
        other => escape_html(other),
    }
}

/// The "what next" menu after setup or joining, with only what `role` may do: ideas for editors, inviting and
/// connecting accounts for admins (a viewer gets no buttons).
pub fn next_steps(lang: &str, role: Role) -> Option<teloxide::types::InlineKeyboardMarkup> {
    if !role.at_least(Role::Editor) {
        return None;
    }
    let mut rows = vec![vec![
        (t(lang, "bot.menu.ideas"), Button::Menu(Menu::Ideas)),
        (t(lang, "bot.menu.new_post"), Button::Menu(Menu::NewPost)),
    ]];
    if role == Role::Admin {
        rows.push(vec![
            (t(lang, "bot.menu.invite"), Button::Menu(Menu::Invite)),
            (t(lang, "bot.menu.connect"), Button::Menu(Menu::Connect)),
        ]);
    }
    Some(kb(rows))
}

pub async fn start(bot: TgBot, app: App, ctx: Ctx, payload: String) -> HandlerResult {
    ctx.dlg.exit().await?;
    let payload = payload.trim();
    if let Some(code) = payload.strip_prefix("inv_") {
        return redeem(&bot, &app, &ctx, code).await;
    }
    if !ctx.private {
        let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
        app.store.set_team_chat(a.tenant.id, Some(ctx.chat_id.0)).await?;
        let text = tf(ctx.lang, "bot.start.group_linked", &[("name", &escape_html(&a.tenant.name))]);
        ctx.say(&bot, text, None).await?;
        return Ok(());
    }
    crate::creation::claim_operator_if_first(&bot, &app, &ctx).await?;
    if let Some(code) = payload.strip_prefix(tochen_store::CODE_PREFIX) {
        if !crate::creation::claim_code(&bot, &app, &ctx, code).await? {
            return Ok(());
        }
        return ask_name(&bot, &app, &ctx).await;
    }
    if let Some(a) = &ctx.active {
        let mut text = tf(
            ctx.lang,
            "bot.start.welcome_back",
            &[("first_name", &escape_html(&ctx.user.first_name)), ("name", &escape_html(&a.tenant.name))],
        );
        if a.tenant.suspended_at.is_some() {
            text.push_str("\n\n");
            text.push_str(&crate::suspended::notice(ctx.lang, &a.tenant.name));
            ctx.say(&bot, text, None).await?;
            return Ok(());
        }
        text.push_str(&sandbox_line(&app, ctx.lang));
        ctx.say(&bot, text, next_steps(ctx.lang, a.role)).await?;
        return Ok(());
    }
    match crate::creation::creation(&app, &ctx).await? {
        crate::creation::Creation::Refused(key) => {
            ctx.say(&bot, t(ctx.lang, key), None).await?;
            Ok(())
        }
        _ => ask_name(&bot, &app, &ctx).await,
    }
}

/// In sandbox mode, the one line `/start` adds: what the sandbox is and what the operator sets to go live.
fn sandbox_line(app: &App, lang: &str) -> String {
    if app.sandbox {
        format!("\n\n{}", t(lang, "bot.start.sandbox"))
    } else {
        String::new()
    }
}

/// "New workspace" on the workspaces list: the name question, if the creation policy allows.
pub async fn new_workspace(bot: TgBot, app: App, ctx: Ctx) -> HandlerResult {
    match crate::creation::creation(&app, &ctx).await? {
        crate::creation::Creation::Refused(key) => ctx.refuse(&bot, t(ctx.lang, key)).await,
        _ => {
            ctx.answer(&bot, None).await?;
            ask_name(&bot, &app, &ctx).await
        }
    }
}

pub async fn ask_name(bot: &TgBot, app: &App, ctx: &Ctx) -> HandlerResult {
    let mut text = tf(ctx.lang, "bot.start.hello", &[("first_name", &escape_html(&ctx.user.first_name))]);
    text.push_str(&sandbox_line(app, ctx.lang));
    ctx.dlg.update(State::SetupName).await?;
    ctx.show(bot, text, None).await
}

async fn redeem(bot: &TgBot, app: &App, ctx: &Ctx, code: &str) -> HandlerResult {
    let text = match app.store.redeem_invite(code, ctx.user.id).await {
        Ok((tenant, role)) => {
            let tenant = app.store.tenant(tenant).await?;
            app.store
                .audit(
                    tenant.id,
                    Some(ctx.user.id),
                    "member.joined",
                    "user",
                    Some(&ctx.user.id.to_db()),
                    serde_json::json!({"role": role.as_str()}),
                )
                .await?;
            let text = tf(
                ctx.lang,
                "bot.invite.joined",
                &[("name", &escape_html(&tenant.name)), ("role", &role_name(ctx.lang, role))],
            );
            ctx.say(bot, text, next_steps(ctx.lang, role)).await?;
            return Ok(());
        }
        Err(RedeemError::Unknown) => t(ctx.lang, "bot.invite.unknown"),
        Err(RedeemError::Expired) => t(ctx.lang, "bot.invite.expired"),
        Err(RedeemError::Used) => t(ctx.lang, "bot.invite.used"),
        Err(RedeemError::Store(e)) => return Err(e.into()),
    };
    ctx.say(bot, text, None).await?;
    Ok(())
}

fn text_of(msg: &Message) -> Option<String> {
    msg.text().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub async fn got_name(bot: TgBot, app: App, ctx: Ctx, msg: Message) -> HandlerResult {
    let Some(name) = text_of(&msg) else {
        ctx.say(&bot, t(ctx.lang, "bot.start.name_needed"), None).await?;
        return Ok(());
    };
    if name.chars().count() > 64 {
        let msg_text = tf(ctx.lang, "bot.start.name_too_long", &[("max", &64)]);
        ctx.say(&bot, msg_text, None).await?;
        return Ok(());
    }
    let profile = TenantProfile {
        business_description: String::new(),
        target_audience: String::new(),
        tone: "friendly".into(),
        language: ctx.lang.into(),
        timezone: guess_timezone(ctx.lang).into(),
    };
    let quota = app.llm.config().default_monthly_token_quota;
    let Some(tenant) = crate::creation::create(&bot, &app, &ctx, &name, &profile, quota).await? else {
        return Ok(());
    };
    // The new workspace is the creator's active one now: the profile questions that follow belong to it.
    let mut ctx = ctx;
    ctx.dlg = ctx.dlg.clone().in_workspace(Some(tenant.id));
    ctx.active = Some(Active { tenant: tenant.clone(), role: Role::Admin });
    app.store
        .audit(
            tenant.id,
            Some(ctx.user.id),
            "tenant.created",
            "tenant",
            Some(&tenant.id.to_db()),
            serde_json::json!({}),
        )
        .await?;
    ask_description(&bot, &ctx, &name, "", false).await
}

async fn ask_description(bot: &TgBot, ctx: &Ctx, name: &str, current: &str, editing: bool) -> HandlerResult {
    let mut text = tf(ctx.lang, "bot.profile.ask_description", &[("name", &escape_html(name))]);
    if !current.is_empty() {
        text.push_str(&tf(ctx.lang, "bot.profile.current", &[("value", &escape_html(current))]));
    }
    ctx.dlg.update(State::SetupDescription { editing }).await?;
    ctx.say(bot, text, Some(one(t(ctx.lang, "bot.profile.skip"), Button::Onboarding(Onboarding::Skip)))).await?;
    Ok(())
}

async fn ask_audience(bot: &TgBot, ctx: &Ctx, current: &str, editing: bool) -> HandlerResult {
    let mut text = t(ctx.lang, "bot.profile.ask_audience");
    if !current.is_empty() {
        text.push_str(&tf(ctx.lang, "bot.profile.current", &[("value", &escape_html(current))]));
    }
    ctx.dlg.update(State::SetupAudience { editing }).await?;
    ctx.say(bot, text, Some(one(t(ctx.lang, "bot.profile.skip"), Button::Onboarding(Onboarding::Skip)))).await?;
    Ok(())
}

async fn ask_tone(bot: &TgBot, ctx: &Ctx, editing: bool) -> HandlerResult {
    let l = ctx.lang;
    let buttons = kb(vec![
        vec![
            (t(l, "bot.tone.friendly"), Button::Onboarding(Onboarding::Tone(0))),
            (t(l, "bot.tone.professional"), Button::Onboarding(Onboarding::Tone(1))),
        ],
        vec![
            (t(l, "bot.tone.playful"), Button::Onboarding(Onboarding::Tone(2))),
            (t(l, "bot.tone.bold"), Button::Onboarding(Onboarding::Tone(3))),
        ],
        vec![(t(l, "bot.profile.skip"), Button::Onboarding(Onboarding::Skip))],
    ]);
    ctx.dlg.update(State::SetupTone { editing }).await?;
    ctx.say(bot, t(l, "bot.profile.ask_tone"), Some(buttons)).await?;
    Ok(())
}

/// A language's own name for the five the bot speaks, else the code as typed.
fn language_name(code: &str) -> String {
    if LANGUAGES.contains(&code) {
        t(code, "bot.language.name")
    } else {
        escape_html(code)
    }
}

async fn ask_language(bot: &TgBot, ctx: &Ctx, current: &str, editing: bool) -> HandlerResult {
    let l = ctx.lang;
    let mut rows: Vec<Vec<(String, Button)>> = LANGUAGES
        .chunks(3)
        .enumerate()
        .map(|(row, codes)| {
            codes
                .iter()
                .enumerate()
                .map(|(i, c)| (language_name(c), Button::Onboarding(Onboarding::ContentLang((row * 3 + i) as u8))))
                .collect()
        })
        .collect();
    rows.push(vec![(t(l, "bot.profile.skip"), Button::Onboarding(Onboarding::Skip))]);
    ctx.dlg.update(State::SetupLanguage { editing }).await?;
    let msg_text = tf(l, "bot.profile.ask_language", &[("lang", &language_name(current))]);
    ctx.say(bot, msg_text, Some(kb(rows))).await?;
    Ok(())
}

async fn ask_timezone(bot: &TgBot, ctx: &Ctx, tz: &str, editing: bool) -> HandlerResult {
    let l = ctx.lang;
    let buttons = kb(vec![vec![
        (t(l, "bot.profile.tz_keep"), Button::Onboarding(Onboarding::TzKeep)),
        (t(l, "bot.profile.tz_change"), Button::Onboarding(Onboarding::TzChange)),
    ]]);
    ctx.dlg.update(State::SetupTimezone { editing }).await?;
    let msg_text = tf(l, "bot.profile.ask_timezone", &[("tz", &escape_html(tz))]);
    ctx.say(bot, msg_text, Some(buttons)).await?;
    Ok(())
}

async fn finish(bot: &TgBot, ctx: &Ctx, editing: bool) -> HandlerResult {
    ctx.dlg.exit().await?;
    if editing {
        ctx.say(bot, t(ctx.lang, "bot.profile.saved"), None).await?;
    } else {
        // Whoever finishes the setup created the workspace: its admin.
        ctx.say(bot, t(ctx.lang, "bot.profile.all_set"), next_steps(ctx.lang, Role::Admin)).await?;
    }
    Ok(())
}

/// Saves one profile field to the workspace this step acts in (the flow's: `flow.rs` let the answer through),
/// after checking once more that the person is its admin. `None` when not (they were told). Only that field is
/// written: another admin may have changed other fields since this update's context was loaded.
async fn save(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    field: ProfileField,
    value: &str,
) -> anyhow::Result<Option<tochen_store::Tenant>> {
    let Some(a) = ctx.require(bot, Role::Admin).await? else {
        ctx.dlg.exit().await?;
        return Ok(None);
    };
    Ok(Some(app.store.set_profile_field(a.tenant.id, field, value).await?))
}

async fn limited(bot: &TgBot, ctx: &Ctx, msg: &Message, max: usize) -> anyhow::Result<Option<String>> {
    let Some(text) = text_of(msg) else {
        ctx.say(bot, t(ctx.lang, "bot.profile.text_needed"), None).await?;
        return Ok(None);
    };
    if text.chars().count() > max {
        let msg_text = tf(ctx.lang, "bot.profile.too_long", &[("max", &max)]);
        ctx.say(bot, msg_text, None).await?;
        return Ok(None);
    }
    Ok(Some(text))
}

pub async fn got_description(bot: TgBot, app: App, ctx: Ctx, msg: Message, editing: bool) -> HandlerResult {
    let Some(text) = limited(&bot, &ctx, &msg, 500).await? else { return Ok(()) };
    let Some(tenant) = save(&bot, &app, &ctx, ProfileField::BusinessDescription, &text).await? else { return Ok(()) };
    ask_audience(&bot, &ctx, &tenant.profile.target_audience, editing).await
}

pub async fn got_audience(bot: TgBot, app: App, ctx: Ctx, msg: Message, editing: bool) -> HandlerResult {
    let Some(text) = limited(&bot, &ctx, &msg, 500).await? else { return Ok(()) };
    if save(&bot, &app, &ctx, ProfileField::TargetAudience, &text).await?.is_none() {
        return Ok(());
    }
    ask_tone(&bot, &ctx, editing).await
}

pub async fn got_tone(bot: TgBot, app: App, ctx: Ctx, msg: Message, editing: bool) -> HandlerResult {
    let Some(text) = limited(&bot, &ctx, &msg, 100).await? else { return Ok(()) };
    let Some(tenant) = save(&bot, &app, &ctx, ProfileField::Tone, &text).await? else { return Ok(()) };
    ask_language(&bot, &ctx, &tenant.profile.language, editing).await
}

/// A typed content language: any two-letter code (posts may be in a language the bot itself does not speak).
pub async fn got_language(bot: TgBot, app: App, ctx: Ctx, msg: Message, editing: bool) -> HandlerResult {
    let Some(text) = text_of(&msg) else { return Ok(()) };
    let code = text.to_ascii_lowercase();
    if code.len() != 2 || !code.chars().all(|c| c.is_ascii_lowercase()) {
        let msg_text = tf(ctx.lang, "bot.profile.language_unknown", &[("code", &escape_html(&text))]);
        ctx.say(&bot, msg_text, None).await?;
        return Ok(());
    }
    let Some(tenant) = save(&bot, &app, &ctx, ProfileField::Language, &code).await? else { return Ok(()) };
    ask_timezone(&bot, &ctx, &tenant.profile.timezone, editing).await
}

pub async fn got_timezone(bot: TgBot, app: App, ctx: Ctx, msg: Message, editing: bool) -> HandlerResult {
    let Some(text) = text_of(&msg) else { return Ok(()) };
    let Ok(tz) = text.parse::<chrono_tz::Tz>() else {
        let msg_text = tf(ctx.lang, "bot.profile.tz_unknown", &[("tz", &escape_html(&text))]);
        ctx.say(&bot, msg_text, None).await?;
        return Ok(());
    };
    if save(&bot, &app, &ctx, ProfileField::Timezone, tz.name()).await?.is_none() {
        return Ok(());
    }
    finish(&bot, &ctx, editing).await
}

/// Buttons of the profile questions.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, state: State, b: Onboarding) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    ctx.answer(&bot, None).await?;
    let tenant = a.tenant;
    match (state, b) {
        (State::SetupDescription { editing }, Onboarding::Skip) => {
            ask_audience(&bot, &ctx, &tenant.profile.target_audience, editing).await
        }
        (State::SetupAudience { editing }, Onboarding::Skip) => ask_tone(&bot, &ctx, editing).await,
        (State::SetupTone { editing }, Onboarding::Skip) => {
            ask_language(&bot, &ctx, &tenant.profile.language, editing).await
        }
        (State::SetupTone { editing }, Onboarding::Tone(i)) => {
            let tone = TONES.get(i as usize).copied().unwrap_or("friendly");
            let Some(tenant) = save(&bot, &app, &ctx, ProfileField::Tone, tone).await? else { return Ok(()) };
            ask_language(&bot, &ctx, &tenant.profile.language, editing).await
        }
        (State::SetupLanguage { editing }, Onboarding::Skip) => {
            ask_timezone(&bot, &ctx, &tenant.profile.timezone, editing).await
        }
        (State::SetupLanguage { editing }, Onboarding::ContentLang(i)) => {
            let Some(code) = LANGUAGES.get(i as usize) else { return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await };
            let Some(tenant) = save(&bot, &app, &ctx, ProfileField::Language, code).await? else { return Ok(()) };
            ask_timezone(&bot, &ctx, &tenant.profile.timezone, editing).await
        }
        (State::SetupTimezone { editing }, Onboarding::TzKeep) => finish(&bot, &ctx, editing).await,
        (State::SetupTimezone { .. }, Onboarding::TzChange) => {
            ctx.say(&bot, t(ctx.lang, "bot.profile.tz_type"), None).await?;
            Ok(())
        }
        _ => ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await,
    }
}

/// `/profile`: shows the profile, then walks through its questions (admins only).
pub async fn profile(bot: TgBot, ctx: Ctx) -> HandlerResult {
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let p = &a.tenant.profile;
    let dash = |s: &str| if s.is_empty() { "—".to_owned() } else { escape_html(s) };
    let text = tf(
        ctx.lang,
        "bot.profile.summary",
        &[
            ("name", &escape_html(&a.tenant.name)),
            ("description", &dash(&p.business_description)),
            ("audience", &dash(&p.target_audience)),
            ("tone", &tone_name(ctx.lang, &p.tone)),
            ("tz", &escape_html(&p.timezone)),
        ],
    );
    let text = text + &tf(ctx.lang, "bot.profile.summary_language", &[("lang", &language_name(&p.language))]);
    ctx.say(&bot, text, None).await?;
    ask_description(&bot, &ctx, &a.tenant.name, &p.business_description, true).await
}
