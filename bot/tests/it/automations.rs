//! Destinations and automations managed from the bot, end to end through the fake Bot API on both databases:
//! /link in a group, /webhook with its secret shown once, the guided /automate (with back and /cancel), editing a
//! schedule with a typed cron expression, pause and resume, run now, run history, and a viewer who may look but
//! not change anything.

use crate::common;

use common::{en, ALICE, CAROL};
use tochen_domain::cron::Schedule;
use tochen_domain::jobs::AUTOMATION_RUN;
use tochen_domain::{AutomationStatus, DestinationKind, JobState, Role};
use tochen_testkit::fake_telegram::BotMessage;

pub const GROUP: i64 = -100_321;

/// `/link` in the group, then `/webhook` in private; returns the group destination's id.
pub async fn link_destinations(h: &common::Harness, tenant: tochen_domain::TenantId) -> tochen_domain::DestinationId {
    let mark = h.tg.mark();
    h.tg.send_text_as(GROUP, ALICE, "en", "/link@tochen_test_bot");
    h.tg.said(GROUP, mark, "now receives reports and alerts").await;
    let group = h.store.destinations(tenant).await.unwrap().into_iter().find(|d| d.telegram_chat_id == Some(GROUP));
    let group = group.expect("the group is a destination");

    h.say(ALICE, "/webhook http://127.0.0.1/hook", "loopback").await;
    let added = h.say(ALICE, "/webhook https://93.184.216.34/hook", "shown only this once").await;
    let at = added.text.find("whsec_").expect("the secret is shown");
    let secret: String =
        added.text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || "_+/=".contains(*c)).collect();
    assert!(secret.len() > 20, "{secret}");
    let list = h.say(ALICE, "/destinations", "Destinations").await;
    assert!(!list.text.contains(&secret), "the secret is never shown again");
    let kinds: Vec<DestinationKind> = h.store.destinations(tenant).await.unwrap().iter().map(|d| d.kind).collect();
    assert!(kinds.contains(&DestinationKind::Webhook) && kinds.contains(&DestinationKind::Telegram));
    group.id
}

/// The guided creation of a weekly report to the group, with one step back on the way.
async fn create_report(h: &common::Harness) -> BotMessage {
    let m = h.say(ALICE, "/automate", &en("bot.auto.title_new")).await;
    let m = h.press(ALICE, &m, &en("bot.auto.kind_report"), "How often?").await;
    // Back to the type, and forward again.
    let m = h.press(ALICE, &m, &en("bot.auto.btn_back"), "What should it do?").await;
    let m = h.press(ALICE, &m, &en("bot.auto.kind_report"), "How often?").await;
    let m = h.press(ALICE, &m, &en("bot.auto.preset_weekly"), "Time zone:").await;
    let m = h.press(ALICE, &m, &en("bot.auto.btn_keep"), "Where should it deliver?").await;
    let m = h.press(ALICE, &m, "Team chat (telegram)", "Where should it deliver?").await;
    assert!(m.buttons.iter().flatten().any(|(label, _)| label.starts_with('✅')), "{m:#?}");
    let m = h.press(ALICE, &m, &en("bot.auto.btn_next"), "Options:").await;
    let m = h.press(ALICE, &m, "30-day", "Options: 30-day period").await;
    let m = h.press(ALICE, &m, &en("bot.auto.btn_next"), "Next runs:").await;
    assert!(m.text.contains("0 9 * * 1") && m.text.contains("Team chat"), "{}", m.text);
    h.press(ALICE, &m, &en("bot.auto.btn_create"), &en("bot.auto.created")).await
}

bot_test!(an_admin_links_destinations_and_builds_and_edits_a_report_step_by_step, |h| {
    let tenant = h.onboard(ALICE, "Bloom").await;
    let group = link_destinations(&h, tenant).await;

    // /cancel leaves the guided creation without creating anything.
    h.say(ALICE, "/automate", &en("bot.auto.title_new")).await;
    h.say(ALICE, "/cancel", &en("common.cancelled")).await;
    assert!(h.store.dialogue_state(ALICE, ALICE).await.unwrap().is_none());
    assert!(h.store.automations(tenant).await.unwrap().is_empty());

    let created = create_report(&h).await;
    assert!(created.text.contains("Next:"), "the next runs are shown: {}", created.text);
    let a = h.store.automations(tenant).await.unwrap().pop().expect("one automation");
    assert_eq!((a.kind.as_str(), a.cron.as_str()), ("report", "0 9 * * 1"));
    assert_eq!(a.config["period_days"], 30);
    let linked: Vec<_> = h.store.automation_destinations(tenant, a.id).await.unwrap().iter().map(|d| d.id).collect();
    assert_eq!(linked, vec![group]);

    // Edit the schedule with a typed cron expression; a bad one is refused and can be typed again.
    let list = h.say(ALICE, "/automations", "Next:").await;
    let menu = h.press(ALICE, &list, "✏️", &en("bot.auto.title_edit")).await;
    let m = h.press(ALICE, &menu, &en("bot.auto.btn_schedule"), "How often?").await;
    h.press(ALICE, &m, &en("bot.auto.btn_type_cron"), "Send a cron expression").await;
    h.say(ALICE, "every friday", "That didn't work").await;
    let menu = h.say(ALICE, "0 8 * * 5", &en("bot.auto.title_edit")).await;
    assert!(menu.text.contains("0 8 * * 5") && menu.text.contains("Next runs:"), "{}", menu.text);
    // The time zone too: an unknown name is refused, an IANA name accepted.
    let m = h.press(ALICE, &menu, &en("bot.auto.btn_tz"), "Time zone:").await;
    h.press(ALICE, &m, &en("bot.auto.btn_type_tz"), "Send the time zone name").await;
    h.say(ALICE, "Mars/Olympus", "That didn't work").await;
    let menu = h.say(ALICE, "America/New_York", &en("bot.auto.title_edit")).await;
    assert!(menu.text.contains("America/New_York"), "{}", menu.text);
    let saved = h.press(ALICE, &menu, &en("bot.auto.btn_save"), &en("bot.auto.saved")).await;
    assert!(saved.text.contains("0 8 * * 5"));
    let edited = h.store.automation(tenant, a.id).await.unwrap();
    assert_eq!(edited.cron, "0 8 * * 5");
    assert_eq!(edited.timezone, "America/New_York");
    let expected = Schedule::parse("0 8 * * 5", &edited.timezone).unwrap().next_after(tochen_domain::clock::now_ms());
    assert_eq!(edited.next_run_at, expected);

    // Pause, resume, run now, history.
    let list = h.say(ALICE, "/automations", "Next:").await;
    let list = h.press(ALICE, &list, &en("delivery.bot_btn_pause"), "paused").await;
    assert_eq!(h.store.automation(tenant, a.id).await.unwrap().status, AutomationStatus::Paused);
    let list = h.press(ALICE, &list, &en("delivery.bot_btn_resume"), "active").await;
    assert_eq!(h.store.automation(tenant, a.id).await.unwrap().status, AutomationStatus::Active);
    let mark = h.tg.mark();
    h.tg.press(ALICE, &list, "▶");
    h.tg.answered(mark, &en("delivery.bot_run_queued")).await;
    let jobs = h.store.tenant_jobs(tenant, JobState::Queued, 50).await.unwrap();
    assert!(jobs.iter().any(|j| j.kind == AUTOMATION_RUN && j.payload["manual"] == true));
    h.press(ALICE, &list, &en("delivery.bot_btn_history"), &en("delivery.bot_history_empty")).await;
});

bot_test!(a_viewer_sees_automations_but_cannot_change_them, |h| {
    let tenant = h.onboard(ALICE, "Bloom").await;
    link_destinations(&h, tenant).await;
    create_report(&h).await;
    let a = h.store.automations(tenant).await.unwrap().pop().unwrap();
    let carol = h.store.upsert_user(&common::identity(CAROL)).await.unwrap();
    h.store.add_member(tenant, carol.id, Role::Viewer).await.unwrap();
    h.store.set_active_tenant(carol.id, tenant).await.unwrap();

    h.say(CAROL, "/automate", &en("bot.role.need_admin")).await;
    h.say(CAROL, "/webhook https://93.184.216.34/hook", &en("bot.role.need_admin")).await;
    let list = h.say(CAROL, "/automations", "Next:").await;
    assert!(list.buttons.iter().flatten().all(|(label, _)| label.contains(&en("delivery.bot_btn_history"))));
    h.press(CAROL, &list, &en("delivery.bot_btn_history"), &en("delivery.bot_history_empty")).await;
    // A forged pause or edit button changes nothing.
    let pause = format!("a:ap:{}", a.id.as_uuid().simple());
    h.press_data_refused(CAROL, &list, &pause, &en("bot.role.need_admin")).await;
    let edit = format!("a:ae:{}", a.id.as_uuid().simple());
    h.press_data_refused(CAROL, &list, &edit, &en("bot.role.need_admin")).await;
    assert_eq!(h.store.automation(tenant, a.id).await.unwrap().status, AutomationStatus::Active);
    assert!(h.store.dialogue_state(CAROL, CAROL).await.unwrap().is_none());
});

bot_test!(without_a_mail_relay_destinations_and_email_say_what_the_operator_sets, |h| {
    let tenant = h.onboard(ALICE, "Bloom").await;
    let unavailable = en("delivery.bot_email_unavailable");
    // The empty list says it; /email adds the address (for when the relay is set up) and says it too.
    let list = h.say(ALICE, "/destinations", &en("delivery.bot_no_destinations")).await;
    assert!(list.text.contains("SMTP_URL") && list.text.contains("SMTP_FROM"), "{}", list.text);
    let added = h.say(ALICE, "/email boss@bloom.test", "boss@bloom.test").await;
    assert!(added.text.contains("Email is not available here") && added.text.contains("SMTP_URL"), "{}", added.text);
    // A list with destinations says it too, after them.
    link_destinations(&h, tenant).await;
    let list = h.say(ALICE, "/destinations", "Destinations").await;
    assert!(list.text.contains("SMTP_URL") && list.text.contains("SMTP_TLS"), "{}", list.text);
    assert!(unavailable.contains("SMTP_CA_FILE"));
});

bot_test!(
    with_a_mail_relay_email_destinations_are_added_and_nothing_is_said_about_smtp,
    env = &[("SMTP_URL", "smtp://127.0.0.1:2525"), ("SMTP_FROM", "r@tochen.test"), ("SMTP_TLS", "none")],
    |h| {
        let tenant = h.onboard(ALICE, "Bloom").await;
        h.say(ALICE, "/email boss@bloom.test", "boss@bloom.test").await;
        let list = h.say(ALICE, "/destinations", "Destinations").await;
        assert!(list.text.contains("boss@bloom.test") && !list.text.contains("SMTP_URL"), "{}", list.text);
        assert!(!list.text.contains("Email is not available"), "{}", list.text);
        assert_eq!(h.store.destinations(tenant).await.unwrap()[0].kind, DestinationKind::Email);
    }
);
