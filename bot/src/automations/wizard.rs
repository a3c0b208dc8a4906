//! The guided creation and the editing of an automation, one screen per decision.
//!
//! Creation walks type → schedule (a preset, or a typed cron expression) → time zone (the workspace's by default)
//! → destinations (toggles over the workspace's destinations) → options → confirm. Editing opens a menu over the
//! same screens and saves everything at once. The draft lives in the person's dialogue state
//! (`State::Automation`), so it is kept per (chat, user) and survives restarts; `/cancel` or the ✖ button drops it
//! without changing anything, and ⬅ goes one screen back (in an edit, back to the menu).
//!
//! Schedules are checked with `tochen_domain::cron::Schedule::parse`, the code the scheduler runs them with, and the
//! saved edit recomputes `next_run_at` through `Store::update_automation`. Wizard buttons carry no state of their
//! own (`aw:<op>[:<arg>]`, at most 37 bytes); a press whose owner has no wizard open is refused as stale.

use super::view::render;
use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::state::wizard::{OptRules, Step, Wizard};
use crate::state::State;
use teloxide::types::Message;
use tochen_delivery::ads_report::{AdMetric, AdPreset, AdsReportConfig, ReportLevel};
use tochen_delivery::alerts::{AlertConfig, AlertRule};
use tochen_delivery::automations::PeriodConfig;
use tochen_domain::cron::Schedule;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::AutomationId;
use tochen_domain::{MissedRunPolicy, Role};
use tochen_store::{AutomationChanges, NewAutomation};
use tochen_telegram::button::wizard::Section;
use tochen_telegram::button::Wizard as WizBtn;

pub use tochen_telegram::button::wizard::{KINDS, PRESETS};

/// A cron expression for a preset name.
pub fn preset_cron(name: &str) -> Option<&'static str> {
    Some(match name {
        "q15" => "*/15 * * * *",
        "hourly" => "0 * * * *",
        "daily" => "0 9 * * *",
        "weekly" => "0 9 * * 1",
        "monthly" => "0 9 1 * *",
        _ => return None,
    })
}

/// The name an automation gets unless someone types one: its type and schedule ("📊 Report · 0 9 * * 1").
pub fn auto_name(l: &str, kind: &str, cron: &str) -> String {
    format!("{} · {}", super::view::kind_label(l, kind), cron)
}

/// Longest name a person may type.
pub(super) const NAME_MAX_CHARS: usize = 64;

/// A typed name, trimmed: 1 to [`NAME_MAX_CHARS`] characters, no control characters.
fn valid_name(text: &str) -> Option<String> {
    let name = text.trim();
    let ok = !name.is_empty() && name.chars().count() <= NAME_MAX_CHARS && !name.chars().any(char::is_control);
    ok.then(|| name.to_owned())
}

/// Switches alert rule `index` (of `AlertRule::ALL`) in an alert's configuration; `None` when the index is not a
/// rule or the last rule would be switched off.
fn toggle_rule(config: &serde_json::Value, index: u8) -> Option<serde_json::Value> {
    let rule = *AlertRule::ALL.get(usize::from(index))?;
    let mut rules = serde_json::from_value::<AlertConfig>(config.clone()).unwrap_or_default().rules;
    match rules.iter().position(|r| *r == rule) {
        Some(i) => drop(rules.remove(i)),
        None => rules.push(rule),
    }
    if rules.is_empty() {
        return None;
    }
    rules.sort_by_key(|r| AlertRule::ALL.iter().position(|x| x == r));
    let mut next = config.clone();
    next["rules"] = serde_json::to_value(rules).ok()?;
    Some(next)
}

fn default_config(kind: &str) -> serde_json::Value {
    if kind == "alert" {
        serde_json::to_value(AlertConfig::default()).expect("serializes")
    } else if kind == "ads" {
        serde_json::to_value(AdsReportConfig::default()).expect("serializes")
    } else {
        serde_json::to_value(PeriodConfig::default()).expect("serializes")
    }
}

/// `/automate` without arguments: the first screen of the guided creation.
pub async fn start(bot: &TgBot, app: &App, ctx: &Ctx) -> HandlerResult {
    let Some(a) = ctx.active.clone() else { return Ok(()) };
    let w = Wizard { timezone: a.tenant.profile.timezone.clone(), ..Default::default() };
    show(bot, app, ctx, w).await
}

/// The edit button of an automation: the edit menu, filled from the stored automation (of the caller's workspace).
pub async fn start_edit(bot: &TgBot, app: &App, ctx: &Ctx, id: AutomationId) -> HandlerResult {
    let Some(a) = ctx.require(bot, Role::Admin).await? else { return Ok(()) };
    let Ok(x) = app.store.automation(a.tenant.id, id).await else {
        let text = tf(ctx.lang, "error.not_found", &[("what", &"automation")]);
        return ctx.refuse(bot, text).await;
    };
    ctx.answer(bot, None).await?;
    let destinations = app.store.automation_destinations(a.tenant.id, id).await?.into_iter().map(|d| d.id).collect();
    // A name made from the type and schedule follows the schedule when it changes; a typed one stays.
    let name = if x.name == auto_name(ctx.lang, &x.kind, &x.cron) { String::new() } else { x.name };
    let w = Wizard {
        editing: Some(id),
        step: Step::Menu,
        kind: x.kind,
        cron: x.cron,
        timezone: x.timezone,
        destinations,
        config: x.config,
        name,
    };
    show(bot, app, ctx, w).await
}

/// Changes an ads report's options with `f`; `None` when the draft is not an ads report.
fn edit_ads(w: &Wizard, f: impl FnOnce(&mut AdsReportConfig)) -> Option<serde_json::Value> {
    if w.kind != "ads" {
        return None;
    }
    let mut c: AdsReportConfig = serde_json::from_value(w.config.clone()).unwrap_or_default();
    f(&mut c);
    serde_json::to_value(c).ok()
}

/// The item after `x` in `all`, wrapping around.
fn next_of<T: Copy + PartialEq>(all: &[T], x: T) -> T {
    let i = all.iter().position(|y| *y == x).map_or(0, |i| (i + 1) % all.len());
    all[i]
}

/// Saves the draft in the dialogue and draws its screen.
async fn show(bot: &TgBot, app: &App, ctx: &Ctx, w: Wizard) -> HandlerResult {
    let Some(a) = ctx.active.clone() else { return Ok(()) };
    let all = app.store.destinations(a.tenant.id).await?;
    let campaigns: Vec<_> = app
        .store
        .campaigns(a.tenant.id, false)
        .await?
        .into_iter()
        .map(|s| (s.campaign.id, s.campaign.fields.name))
        .collect();
    let ads = if w.kind == "ads" { app.store.ad_accounts(a.tenant.id).await? } else { Vec::new() };
    let (text, kb) = render(&w, ctx.lang, &all, &campaigns, &ads);
    ctx.dlg.update(State::Automation { wizard: w }).await?;
    ctx.show(bot, text, Some(kb)).await
}

/// Where ⬅ goes from a screen.
fn back(w: &Wizard) -> Option<Step> {
    if w.editing.is_some() {
        return (w.step != Step::Menu).then_some(Step::Menu);
    }
    Some(match w.step {
        Step::Kind | Step::Menu => return None,
        Step::Name => Step::Confirm,
        Step::Schedule => Step::Kind,
        Step::Cron | Step::Timezone => Step::Schedule,
        Step::TypeTimezone | Step::Destinations => Step::Timezone,
        Step::Options => Step::Destinations,
        Step::OptionValue(_) => Step::Options,
        Step::Confirm => Step::Options,
    })
}

/// The screen an edit menu button opens.
fn step_of(section: Section) -> Step {
    match section {
        Section::Schedule => Step::Schedule,
        Section::Timezone => Step::Timezone,
        Section::Destinations => Step::Destinations,
        Section::Options => Step::Options,
        Section::Name => Step::Name,
    }
}

/// The screen after `done` was answered: the next one when creating, the menu when editing.
fn after(w: &Wizard, done: Step) -> Step {
    if w.editing.is_some() {
        return Step::Menu;
    }
    match done {
        Step::Kind => Step::Schedule,
        Step::Schedule | Step::Cron => Step::Timezone,
        Step::Timezone | Step::TypeTimezone => Step::Destinations,
        Step::Destinations => Step::Options,
        Step::OptionValue(_) => Step::Options,
        _ => Step::Confirm,
    }
}

/// A wizard button press.
pub async fn on_button(bot: TgBot, app: App, ctx: Ctx, state: State, b: WizBtn) -> HandlerResult {
    let State::Automation { wizard: mut w } = state else {
        return ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await;
    };
    let Some(a) = ctx.require(&bot, Role::Admin).await? else { return Ok(()) };
    let l = ctx.lang;
    match b {
        WizBtn::Cancel => {
            ctx.dlg.exit().await?;
            ctx.answer(&bot, None).await?;
            return ctx.show(&bot, t(l, "common.cancelled"), None).await;
        }
        WizBtn::Back => match back(&w) {
            Some(step) => w.step = step,
            None => return ctx.answer(&bot, None).await,
        },
        WizBtn::Kind(k) => {
            w.config = default_config(&k);
            w.kind = k;
            w.step = after(&w, Step::Kind);
        }
        WizBtn::Preset(p) => {
            w.cron = preset_cron(&p).unwrap_or_default().to_owned();
            if w.editing.is_none() && w.kind != "alert" {
                let days = match p.as_str() {
                    "daily" => 1,
                    "monthly" => 30,
                    _ => 7,
                };
                w.config["period_days"] = days.into();
            }
            w.step = after(&w, Step::Schedule);
        }
        WizBtn::TypeCron => w.step = Step::Cron,
        WizBtn::TzKeep => w.step = after(&w, Step::Timezone),
        WizBtn::TzType => w.step = Step::TypeTimezone,
        WizBtn::Toggle(d) => {
            // Only the caller's workspace's destinations can be picked.
            if app.store.destination(a.tenant.id, d).await.is_err() {
                let text = tf(l, "error.not_found", &[("what", &"destination")]);
                return ctx.refuse(&bot, text).await;
            }
            match w.destinations.iter().position(|x| *x == d) {
                Some(i) => drop(w.destinations.remove(i)),
                None => w.destinations.push(d),
            }
        }
        WizBtn::Period(n) => w.config["period_days"] = n.into(),
        WizBtn::Campaign(c) => {
            // Only the caller's workspace's campaigns, and only for reports and data syncs.
            if w.kind == "alert" {
                return ctx.refuse(&bot, t(l, "bot.stale")).await;
            }
            match c {
                Some(c) => {
                    if app.store.campaign(a.tenant.id, c).await.is_err() {
                        return ctx.refuse(&bot, t(l, "bot.stale")).await;
                    }
                    w.config["campaign"] = c.to_string().into();
                }
                None => {
                    if let Some(o) = w.config.as_object_mut() {
                        o.remove("campaign");
                    }
                }
            }
        }
        WizBtn::SkipEmpty => {
            let on = w.config.get("skip_when_empty").and_then(|v| v.as_bool()).unwrap_or(false);
            w.config["skip_when_empty"] = (!on).into();
        }
        WizBtn::Rule(n) => match toggle_rule(&w.config, n).filter(|_| w.kind == "alert") {
            Some(config) => w.config = config,
            None if usize::from(n) < AlertRule::ALL.len() && w.kind == "alert" => {
                return ctx.refuse(&bot, t(l, "bot.auto.rules_keep_one")).await;
            }
            None => return ctx.refuse(&bot, t(l, "bot.stale")).await,
        },
        WizBtn::AdsLevel | WizBtn::AdsPreset | WizBtn::AdsRank | WizBtn::AdsAccount(_) => {
            if let WizBtn::AdsAccount(id) = &b {
                // Only the caller's workspace's ad accounts can be picked.
                if app.store.ad_account(a.tenant.id, *id).await.is_err() {
                    return ctx.refuse(&bot, t(l, "bot.stale")).await;
                }
            }
            let changed = edit_ads(&w, |c| match &b {
                WizBtn::AdsLevel => {
                    c.level =
                        if c.level == ReportLevel::Campaign { ReportLevel::Account } else { ReportLevel::Campaign }
                }
                WizBtn::AdsPreset => c.preset = next_of(&AdPreset::ALL, c.preset),
                WizBtn::AdsRank => c.rank_by = next_of(&AdMetric::ALL, c.rank_by),
                WizBtn::AdsAccount(id) => match c.accounts.iter().position(|x| x == id) {
                    Some(i) => drop(c.accounts.remove(i)),
                    None => c.accounts.push(*id),
                },
                _ => {}
            });
            match changed {
                Some(config) => w.config = config,
                None => return ctx.refuse(&bot, t(l, "bot.stale")).await,
            }
        }
        WizBtn::Rename => w.step = Step::Name,
        WizBtn::Ask(o) => w.step = Step::OptionValue(o),
        WizBtn::Next => w.step = after(&w, w.step),
        WizBtn::Menu(section) => w.step = step_of(section),
        WizBtn::Save => return save(&bot, &app, &ctx, w).await,
    }
    ctx.answer(&bot, None).await?;
    show(&bot, &app, &ctx, w).await
}

/// A message while a wizard waits for typed input (a cron expression, a time zone, an option's value).
pub async fn on_text(bot: TgBot, app: App, ctx: Ctx, msg: Message, state: State) -> HandlerResult {
    let State::Automation { wizard: mut w } = state else { return Ok(()) };
    if ctx.require(&bot, Role::Admin).await?.is_none() {
        return Ok(());
    }
    let l = ctx.lang;
    let text = msg.text().unwrap_or_default().trim().trim_matches('"').to_owned();
    match w.step {
        Step::Cron => match Schedule::parse(&text, &w.timezone) {
            Ok(s) => {
                w.cron = s.expression().to_owned();
                w.step = after(&w, Step::Cron);
            }
            Err(e) => {
                let text = tf(l, "bot.auto.bad_input", &[("reason", &escape_html(&e.to_string()))]);
                return retry(&bot, &ctx, text).await;
            }
        },
        Step::TypeTimezone => match Schedule::parse(&w.cron, &text) {
            Ok(s) => {
                w.timezone = s.timezone().name().to_owned();
                w.step = after(&w, Step::TypeTimezone);
            }
            Err(e) => {
                let text = tf(l, "bot.auto.bad_input", &[("reason", &escape_html(&e.to_string()))]);
                return retry(&bot, &ctx, text).await;
            }
        },
        Step::OptionValue(o) => match o.parse(&text) {
            Some(v) => {
                o.store(&mut w.config, v);
                w.step = after(&w, Step::OptionValue(o));
            }
            None => {
                let (lo, hi) = o.range();
                let text = tf(l, "bot.auto.bad_number", &[("min", &lo.to_string()), ("max", &hi.to_string())]);
                return retry(&bot, &ctx, text).await;
            }
        },
        Step::Name => match valid_name(&msg.text().unwrap_or_default().replace(['\n', '\r'], " ")) {
            Some(name) => {
                w.name = name;
                w.step = after(&w, Step::Name);
            }
            None => {
                let text = tf(l, "bot.auto.bad_name", &[("max", &NAME_MAX_CHARS)]);
                return retry(&bot, &ctx, text).await;
            }
        },
        _ => return ctx.say(&bot, t(l, "bot.auto.use_buttons"), None).await.map(drop),
    }
    show(&bot, &app, &ctx, w).await
}

async fn retry(bot: &TgBot, ctx: &Ctx, text: String) -> HandlerResult {
    ctx.say(bot, text, None).await.map(drop)
}

/// Creates the automation (guided creation) or applies the edit, then shows it with its next five runs.
async fn save(bot: &TgBot, app: &App, ctx: &Ctx, w: Wizard) -> HandlerResult {
    let Some(a) = ctx.active.clone() else { return Ok(()) };
    let (l, tenant) = (ctx.lang, a.tenant.id);
    let name = if w.name.is_empty() { auto_name(l, &w.kind, &w.cron) } else { w.name.clone() };
    let saved = match w.editing {
        None => {
            let new = NewAutomation {
                kind: w.kind.clone(),
                name,
                cron: w.cron.clone(),
                timezone: w.timezone.clone(),
                config: w.config.clone(),
                missed_run_policy: MissedRunPolicy::RunOnce,
                max_consecutive_failures: 5,
                created_by: Some(ctx.user.id),
            };
            app.store.create_automation(tenant, &new).await.map_err(|e| e.to_string())
        }
        Some(id) => {
            let changes = AutomationChanges {
                name: Some(name),
                cron: Some(w.cron.clone()),
                timezone: Some(w.timezone.clone()),
                config: Some(w.config.clone()),
            };
            app.store.update_automation(tenant, id, &changes).await.map_err(|e| e.to_string())
        }
    };
    let saved = match saved {
        Ok(x) => x,
        Err(reason) => {
            ctx.answer(bot, None).await?;
            let text = tf(l, "bot.auto.bad_input", &[("reason", &escape_html(&reason))]);
            return retry(bot, ctx, text).await;
        }
    };
    app.store.set_automation_destinations(tenant, saved.id, &w.destinations).await?;
    ctx.dlg.exit().await?;
    ctx.answer(bot, None).await?;
    let head = if w.editing.is_some() { t(l, "bot.auto.saved") } else { t(l, "bot.auto.created") };
    let text = format!("{head}\n\n{}", super::describe(&saved, l));
    ctx.show(bot, text, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_retraces_creation_and_returns_to_the_menu_when_editing() {
        let mut w = Wizard { step: Step::Destinations, ..Default::default() };
        assert_eq!(back(&w), Some(Step::Timezone));
        w.step = Step::Kind;
        assert_eq!(back(&w), None);
        w.editing = Some(AutomationId::new());
        w.step = Step::Cron;
        assert_eq!(back(&w), Some(Step::Menu));
        assert_eq!(after(&w, Step::Cron), Step::Menu);
    }

    #[test]
    fn alert_rules_switch_on_and_off_but_never_all_off() {
        let all = default_config("alert");
        let off = toggle_rule(&all, 0).expect("one rule off");
        let rules: AlertConfig = serde_json::from_value(off.clone()).unwrap();
        assert_eq!(rules.rules, AlertRule::ALL[1..].to_vec());
        assert_eq!(off["cooldown_minutes"], all["cooldown_minutes"], "other options stay");
        let back: AlertConfig = serde_json::from_value(toggle_rule(&off, 0).unwrap()).unwrap();
        assert_eq!(back.rules, AlertRule::ALL.to_vec(), "switched on again, in the list's order");
        let only_one = serde_json::json!({"rules": ["llm_quota"]});
        assert_eq!(toggle_rule(&only_one, 4), None, "the last rule stays on");
        assert_eq!(toggle_rule(&all, u8::MAX), None, "no such rule");
    }

    #[test]
    fn typed_names_are_trimmed_and_bounded() {
        assert_eq!(valid_name("  Weekly numbers "), Some("Weekly numbers".into()));
        assert_eq!(valid_name("   "), None);
        assert_eq!(valid_name(&"x".repeat(NAME_MAX_CHARS + 1)), None);
        assert_eq!(valid_name("a\u{7}b"), None);
    }

    #[test]
    fn every_preset_is_a_valid_schedule() {
        for p in PRESETS {
            Schedule::parse(preset_cron(p).unwrap(), "Europe/Lisbon").unwrap();
        }
    }
}
