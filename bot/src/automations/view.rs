//! The wizard's screens: text and keyboard for each step, and the options an automation type has.
//!
//! Kept apart from the transitions in `wizard.rs` so each file reads in one sitting; nothing here touches the
//! store or Telegram.

use super::wizard::{KINDS, PRESETS};
use crate::kb::{buttons, toggles};
use crate::state::wizard::{Opt, OptRules, Step, Wizard};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use tochen_delivery::ads_report::{render as ads_render, AdsReportConfig, ReportLevel};
use tochen_delivery::alerts::{AlertConfig, AlertRule};
use tochen_domain::clock::now_ms;
use tochen_domain::cron::Schedule;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{CampaignId, DestinationStatus};
use tochen_store::{AdAccount, Destination};
use tochen_telegram::button::wizard::Section;
use tochen_telegram::button::{Button, Wizard as WizBtn};

pub fn kind_label(l: &str, kind: &str) -> String {
    match kind {
        "report" => t(l, "bot.auto.kind_report"),
        "alert" => t(l, "bot.auto.kind_alert"),
        "ads" => t(l, "bot.auto.kind_ads"),
        _ => t(l, "bot.auto.kind_data_sync"),
    }
}

fn preset_label(l: &str, preset: &str) -> String {
    match preset {
        "q15" => t(l, "bot.auto.preset_q15"),
        "hourly" => t(l, "bot.auto.preset_hourly"),
        "daily" => t(l, "bot.auto.preset_daily"),
        "weekly" => t(l, "bot.auto.preset_weekly"),
        _ => t(l, "bot.auto.preset_monthly"),
    }
}

fn btn(text: String, b: WizBtn) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(text, Button::Wizard(b).encode())
}

/// The next five runs of a schedule in its zone (`next_runs.rs`), or `None` when it does not parse.
pub fn next_five(lang: &str, cron: &str, tz: &str) -> Option<String> {
    let s = Schedule::parse(cron, tz).ok()?;
    Some(super::next_runs::next_runs(lang, &s, now_ms()).join("\n"))
}

/// An alert rule's name in `l`.
fn rule_label(l: &str, rule: AlertRule) -> String {
    t(l, &format!("bot.auto.rule_{}", rule.as_str()))
}

/// The rules an alert watches (all of them unless some were switched off).
fn alert_rules(w: &Wizard) -> Vec<AlertRule> {
    serde_json::from_value::<AlertConfig>(w.config.clone()).unwrap_or_default().rules
}

/// An ads report's options in words: period, accounts, level, preset, ranking.
fn ads_line(l: &str, w: &Wizard, ads: &[AdAccount]) -> String {
    let c: AdsReportConfig = serde_json::from_value(w.config.clone()).unwrap_or_default();
    let accounts = if c.accounts.is_empty() {
        t(l, "bot.auto.ads_all_accounts")
    } else {
        ads.iter().filter(|a| c.accounts.contains(&a.id)).map(|a| escape_html(&a.name)).collect::<Vec<_>>().join(", ")
    };
    tf(
        l,
        "bot.auto.ads_options",
        &[
            ("n", &c.period_days),
            ("accounts", &accounts),
            (
                "level",
                &t(
                    l,
                    &format!(
                        "bot.auto.ads_level_{}",
                        if c.level == ReportLevel::Campaign { "campaign" } else { "account" }
                    ),
                ),
            ),
            ("preset", &t(l, &format!("bot.auto.ads_preset_{}", c.preset.as_str()))),
            ("rank", &ads_render::metric_name(c.rank_by, l)),
        ],
    )
}

fn options_line(l: &str, w: &Wizard) -> String {
    if w.kind == "ads" {
        return ads_line(l, w, &[]);
    }
    if w.kind == "alert" {
        let rules = alert_rules(w).into_iter().map(|r| rule_label(l, r)).collect::<Vec<_>>().join(", ");
        let thresholds = Opt::ALL.iter().map(|o| label(*o, l, o.current(&w.config))).collect::<Vec<_>>().join(", ");
        format!(
            "{}
{thresholds}",
            tf(l, "bot.auto.rules", &[("rules", &rules)])
        )
    } else {
        let days = w.config.get("period_days").and_then(|v| v.as_i64()).unwrap_or(7);
        let skip = w.config.get("skip_when_empty").and_then(|v| v.as_bool()).unwrap_or(false);
        let mut line = tf(l, "bot.auto.period", &[("n", &days.to_string())]);
        if skip {
            line = format!("{line}, {}", t(l, "bot.auto.skip_empty_on"));
        }
        line
    }
}

fn summary(l: &str, w: &Wizard, all: &[Destination]) -> String {
    let names: Vec<String> =
        all.iter().filter(|d| w.destinations.contains(&d.id)).map(|d| escape_html(&d.name)).collect();
    let destinations = if names.is_empty() { t(l, "bot.auto.dest_team_chat") } else { names.join(", ") };
    let name = if w.name.is_empty() { super::wizard::auto_name(l, &w.kind, &w.cron) } else { w.name.clone() };
    let summary = tf(
        l,
        "bot.auto.summary",
        &[
            ("kind", &kind_label(l, &w.kind)),
            ("cron", &escape_html(&w.cron)),
            ("tz", &escape_html(&w.timezone)),
            ("destinations", &destinations),
            ("options", &options_line(l, w)),
            ("next", &next_five(l, &w.cron, &w.timezone).unwrap_or_default()),
        ],
    );
    format!("<b>{}</b>\n{summary}", escape_html(&name))
}

/// Campaigns the options screen offers.
const MAX_CAMPAIGNS: usize = 8;

/// The text and buttons of the wizard's current screen.
/// `campaigns` are the workspace's campaigns not archived (id and name), offered to reports and data syncs;
/// `ads` the ad accounts an ads report chooses from.
pub fn render(
    w: &Wizard,
    l: &str,
    all: &[Destination],
    campaigns: &[(CampaignId, String)],
    ads: &[AdAccount],
) -> (String, InlineKeyboardMarkup) {
    let mut rows: Vec<Vec<InlineKeyboardButton>> = Vec::new();
    let body = match w.step {
        Step::Kind => {
            rows.push(KINDS.iter().map(|k| btn(kind_label(l, k), WizBtn::Kind((*k).to_owned()))).collect());
            t(l, "bot.auto.step_kind")
        }
        Step::Schedule => {
            for pair in PRESETS.chunks(2) {
                rows.push(pair.iter().map(|p| btn(preset_label(l, p), WizBtn::Preset((*p).to_owned()))).collect());
            }
            rows.push(vec![btn(t(l, "bot.auto.btn_type_cron"), WizBtn::TypeCron)]);
            let current =
                if w.cron.is_empty() { String::new() } else { format!(" <code>{}</code>", escape_html(&w.cron)) };
            format!("{}{current}", t(l, "bot.auto.step_schedule"))
        }
        Step::Cron => tf(l, "bot.auto.step_cron", &[("tz", &escape_html(&w.timezone))]),
        Step::Timezone => {
            rows.push(vec![
                btn(t(l, "bot.auto.btn_keep"), WizBtn::TzKeep),
                btn(t(l, "bot.auto.btn_type_tz"), WizBtn::TzType),
            ]);
            tf(l, "bot.auto.step_tz", &[("tz", &escape_html(&w.timezone))])
        }
        Step::TypeTimezone => t(l, "bot.auto.step_tz_type"),
        Step::Destinations => {
            for d in all {
                let on = w.destinations.contains(&d.id);
                let mark = if on { "✅" } else { "▫️" };
                let paused = if d.status == DestinationStatus::Active { "" } else { " ⏸" };
                let label = format!("{mark} {} ({}){paused}", d.name.chars().take(24).collect::<String>(), d.kind);
                rows.push(vec![btn(label, WizBtn::Toggle(d.id))]);
            }
            rows.push(vec![btn(t(l, "bot.auto.btn_next"), WizBtn::Next)]);
            if all.is_empty() {
                t(l, "bot.auto.step_dest_none")
            } else {
                t(l, "bot.auto.step_dest")
            }
        }
        Step::Options => {
            if w.kind == "alert" {
                let on = alert_rules(w);
                let rules =
                    toggles(AlertRule::ALL, |r| on.contains(r), |r| rule_label(l, *r), |i| WizBtn::Rule(i).into());
                rows.extend(rules.into_iter().map(buttons));
                for pair in Opt::ALL.chunks(2) {
                    rows.push(pair.iter().map(|o| btn(label(*o, l, o.current(&w.config)), WizBtn::Ask(*o))).collect());
                }
            } else if w.kind == "ads" {
                let c: AdsReportConfig = serde_json::from_value(w.config.clone()).unwrap_or_default();
                rows.push(
                    [1, 7, 30]
                        .into_iter()
                        .map(|n| {
                            let mark = if n == c.period_days { "✓ " } else { "" };
                            btn(
                                format!("{mark}{}", tf(l, "bot.auto.period", &[("n", &n.to_string())])),
                                WizBtn::Period(n),
                            )
                        })
                        .collect(),
                );
                for a in ads {
                    let mark = if c.accounts.contains(&a.id) { "✅" } else { "▫️" };
                    let label = format!("{mark} {} ({})", a.name.chars().take(24).collect::<String>(), a.currency);
                    rows.push(vec![btn(label, WizBtn::AdsAccount(a.id))]);
                }
                rows.push(vec![
                    btn(t(l, "bot.auto.ads_btn_level"), WizBtn::AdsLevel),
                    btn(t(l, "bot.auto.ads_btn_preset"), WizBtn::AdsPreset),
                    btn(t(l, "bot.auto.ads_btn_rank"), WizBtn::AdsRank),
                ]);
                let label =
                    if c.skip_when_empty { t(l, "bot.auto.skip_empty_on") } else { t(l, "bot.auto.skip_empty_off") };
                rows.push(vec![btn(label, WizBtn::SkipEmpty)]);
            } else {
                let days = w.config.get("period_days").and_then(|v| v.as_i64()).unwrap_or(7);
                rows.push(
                    [1, 7, 30]
                        .into_iter()
                        .map(|n| {
                            let mark = if n == days { "✓ " } else { "" };
                            btn(
                                format!("{mark}{}", tf(l, "bot.auto.period", &[("n", &n.to_string())])),
                                WizBtn::Period(n),
                            )
                        })
                        .collect(),
                );
                let skip = w.config.get("skip_when_empty").and_then(|v| v.as_bool()).unwrap_or(false);
                let label = if skip { t(l, "bot.auto.skip_empty_on") } else { t(l, "bot.auto.skip_empty_off") };
                rows.push(vec![btn(label, WizBtn::SkipEmpty)]);
                // Only one campaign's posts, or the whole workspace (`PeriodConfig::campaign`).
                let chosen =
                    w.config.get("campaign").and_then(|v| v.as_str()).and_then(|c| CampaignId::from_db(c).ok());
                if !campaigns.is_empty() || chosen.is_some() {
                    let mark = |on: bool| if on { "✓ " } else { "" };
                    let whole = format!("{}{}", mark(chosen.is_none()), t(l, "bot.auto.campaign_all"));
                    rows.push(vec![btn(whole, WizBtn::Campaign(None))]);
                    for (id, name) in campaigns.iter().take(MAX_CAMPAIGNS) {
                        let label =
                            format!("{}📣 {}", mark(chosen == Some(*id)), name.chars().take(40).collect::<String>());
                        rows.push(vec![btn(label, WizBtn::Campaign(Some(*id)))]);
                    }
                }
            }
            rows.push(vec![btn(t(l, "bot.auto.btn_next"), WizBtn::Next)]);
            let line = if w.kind == "ads" { ads_line(l, w, ads) } else { options_line(l, w) };
            tf(l, "bot.auto.step_options", &[("options", &line)])
        }
        Step::OptionValue(o) => {
            let (lo, hi) = o.range();
            tf(
                l,
                "bot.auto.ask_value",
                &[("option", &label(o, l, o.current(&w.config))), ("min", &lo.to_string()), ("max", &hi.to_string())],
            )
        }
        Step::Confirm => {
            rows.push(vec![
                btn(t(l, "bot.auto.btn_create"), WizBtn::Save),
                btn(t(l, "bot.auto.btn_name"), WizBtn::Rename),
            ]);
            summary(l, w, all)
        }
        Step::Name => tf(l, "bot.auto.step_name", &[("max", &super::wizard::NAME_MAX_CHARS)]),
        Step::Menu => {
            rows.push(vec![
                btn(t(l, "bot.auto.btn_schedule"), WizBtn::Menu(Section::Schedule)),
                btn(t(l, "bot.auto.btn_tz"), WizBtn::Menu(Section::Timezone)),
            ]);
            rows.push(vec![
                btn(t(l, "bot.auto.btn_destinations"), WizBtn::Menu(Section::Destinations)),
                btn(t(l, "bot.auto.btn_options"), WizBtn::Menu(Section::Options)),
            ]);
            rows.push(vec![btn(t(l, "bot.auto.btn_name"), WizBtn::Menu(Section::Name))]);
            rows.push(vec![btn(t(l, "bot.auto.btn_save"), WizBtn::Save)]);
            summary(l, w, all)
        }
    };
    let mut nav = Vec::new();
    let top = if w.editing.is_some() { w.step == Step::Menu } else { w.step == Step::Kind };
    if !top {
        nav.push(btn(t(l, "bot.auto.btn_back"), WizBtn::Back));
    }
    nav.push(btn(t(l, "bot.auto.btn_cancel"), WizBtn::Cancel));
    rows.push(nav);
    let title = if w.editing.is_some() { t(l, "bot.auto.title_edit") } else { t(l, "bot.auto.title_new") };
    (format!("{title}\n\n{body}"), InlineKeyboardMarkup::new(rows))
}

/// An option's name with its value, in `l`.
fn label(o: Opt, l: &str, value: i64) -> String {
    let v = value.to_string();
    match o {
        Opt::EngagementDrop => tf(l, "bot.auto.opt_engagement", &[("n", &v)]),
        Opt::LlmQuota => tf(l, "bot.auto.opt_quota", &[("n", &v)]),
        Opt::TokenExpiry => tf(l, "bot.auto.opt_token", &[("n", &v)]),
        Opt::CooldownHours => tf(l, "bot.auto.opt_cooldown", &[("n", &v)]),
        Opt::TrailingWeeks => tf(l, "bot.auto.opt_trailing", &[("n", &v)]),
        Opt::StaleMinutes => tf(l, "bot.auto.opt_stale", &[("n", &v)]),
        Opt::AdSpend | Opt::AdBudget | Opt::AdCpc | Opt::AdCpm | Opt::AdCtr | Opt::AdZeroHours => {
            use crate::state::wizard::AdOpt;
            let shown = match (value, o.hundredths()) {
                (0, _) => t(l, "bot.auto.opt_off"),
                (n, true) => format!("{}.{:02}", n / 100, n % 100),
                (n, false) => n.to_string(),
            };
            tf(l, &format!("bot.auto.opt_{}", o.ad_key().unwrap_or_default()), &[("n", &shown)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automations::wizard::preset_cron;

    #[test]
    fn option_values_outside_their_range_are_refused() {
        assert_eq!(Opt::EngagementDrop.parse("30%"), Some(30));
        assert_eq!(Opt::EngagementDrop.parse("0"), None);
        assert_eq!(Opt::TokenExpiry.parse("91"), None);
        let mut config = serde_json::json!({});
        Opt::CooldownHours.store(&mut config, 3);
        assert_eq!(config["cooldown_minutes"], 180);
        assert_eq!(Opt::CooldownHours.current(&config), 3);
    }

    #[test]
    fn every_step_has_a_cancel_button_and_later_steps_a_back_button() {
        let w = Wizard {
            kind: "report".into(),
            cron: preset_cron("weekly").unwrap().into(),
            timezone: "UTC".into(),
            ..Default::default()
        };
        for step in [
            Step::Kind,
            Step::Schedule,
            Step::Cron,
            Step::Timezone,
            Step::Destinations,
            Step::Options,
            Step::Confirm,
            Step::Name,
        ] {
            let (_, kb) = render(&Wizard { step, ..w.clone() }, "en", &[], &[(CampaignId::new(), "C".into())], &[]);
            let data: Vec<String> = kb
                .inline_keyboard
                .iter()
                .flatten()
                .filter_map(|b| match &b.kind {
                    teloxide::types::InlineKeyboardButtonKind::CallbackData(d) => Some(d.clone()),
                    _ => None,
                })
                .collect();
            assert!(data.contains(&Button::Wizard(WizBtn::Cancel).encode()), "{step:?}");
            assert_eq!(data.contains(&Button::Wizard(WizBtn::Back).encode()), step != Step::Kind, "{step:?}");
        }
    }
}
