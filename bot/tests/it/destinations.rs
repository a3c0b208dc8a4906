//! `/destinations` end to end through the fake Bot API on both databases: "send test" on each destination kind
//! (a signed `ping` to a local webhook receiver, a message to the group, an email without and with a relay), the
//! delivery log with its `webhook-id` and attempts, a webhook's event filter, and editing an alert's rules and
//! name.

use crate::automations::{link_destinations, GROUP};
use crate::common;

use common::{en, ALICE, CAROL};
use tochen_delivery::alerts::{AlertConfig, AlertRule};
use tochen_domain::Role;
use tochen_domain::{DestinationKind, DestinationStatus};
use tochen_store::events::queue_event;
use tochen_testkit::fake_telegram::BotMessage;
use tochen_testkit::webhook_receiver::WebhookReceiver;

const ALLOW_LOCAL_WEBHOOKS: &[(&str, &str)] = &[("TOCHEN_WEBHOOK_ALLOW_PRIVATE", "true")];

/// The `msg_…` id a text shows.
fn webhook_id(text: &str) -> String {
    let at = text.find("msg_").unwrap_or_else(|| panic!("no webhook-id in {text}"));
    text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

async fn destinations(h: &common::Harness) -> BotMessage {
    h.say(ALICE, "/destinations", &en("delivery.bot_destinations")).await
}

bot_test!(
    send_test_reaches_each_kind_of_destination_and_the_log_shows_webhook_ids_and_attempts,
    env = ALLOW_LOCAL_WEBHOOKS,
    |h| {
        let tenant = h.onboard(ALICE, "Bloom").await;
        let receiver = WebhookReceiver::start().await;
        h.say(ALICE, "/link", &en("delivery.bot_link_in_group")).await;
        let mark = h.tg.mark();
        h.tg.send_text_as(GROUP, ALICE, "en", "/link@tochen_test_bot");
        h.tg.said(GROUP, mark, "now receives reports and alerts").await;
        h.say(ALICE, &format!("/webhook {}", receiver.url), "shown only this once").await;
        h.say(ALICE, "/email ops@example.com", "ops@example.com").await;

        // The group gets a short message; the admin is told it worked.
        let list = destinations(&h).await;
        let mark = h.tg.mark();
        h.tg.press(ALICE, &list, "🔔 Test Team chat");
        h.tg.said(GROUP, mark, "Test from tochen").await;
        h.tg.said(ALICE, mark, "Test message sent to Team chat").await;

        // The webhook gets a signed ping, logged with the webhook-id the chat shows.
        let sent = h.press(ALICE, &list, "🔔 Test 127.0.0.1", "Test delivered to 127.0.0.1").await;
        assert!(sent.text.contains("answered 204"), "{}", sent.text);
        let id = webhook_id(&sent.text);
        let received = receiver.received();
        assert_eq!(received.len(), 1, "{received:?}");
        assert_eq!(received[0].0, id);
        let body: serde_json::Value = serde_json::from_str(&received[0].1).unwrap();
        assert_eq!(body["type"], "ping");
        let log = h.press(ALICE, &list, &en("delivery.bot_btn_log"), "webhook-id").await;
        assert!(log.text.contains(&id) && log.text.contains("<code>ping</code> delivered"), "{}", log.text);
        assert!(
            log.text.contains("#1 ") && log.text.contains(" · 204 · "),
            "each attempt with its status: {}",
            log.text
        );

        // Without a relay, email cannot be tested and the admin is told what the operator sets.
        h.press(ALICE, &list, "🔔 Test ops@example.com", "SMTP_URL").await;

        // A receiver that does not answer: the failure and its reason are shown, and logged as an attempt.
        h.say(ALICE, "/webhook http://localhost:9/down", "shown only this once").await;
        let list = destinations(&h).await;
        let failed = h.press(ALICE, &list, "🔔 Test localhost", "The test to localhost failed").await;
        let dead = h
            .store
            .destinations(tenant)
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.url.as_deref() == Some("http://localhost:9/down"));
        let dead = dead.expect("the second webhook");
        let logged = h.store.deliveries(tenant, dead.id, 5).await.unwrap();
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].message_id, webhook_id(&failed.text));
        assert_eq!(logged[0].status, tochen_store::DeliveryStatus::Failed);
        assert!(logged[0].last_error.as_deref().is_some_and(|e| !e.is_empty()));
        assert_eq!(dead.status, DestinationStatus::Active, "a failed test changes nothing else");

        // A chat the bot was removed from: the test says so and pauses the destination.
        let list = destinations(&h).await;
        h.tg.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat", serde_json::json!({}));
        h.press(ALICE, &list, "🔔 Test Team chat", "so I paused it").await;
        let group =
            h.store.destinations(tenant).await.unwrap().into_iter().find(|d| d.kind == DestinationKind::Telegram);
        assert_eq!(group.unwrap().status, DestinationStatus::Inactive);

        // A viewer sees the list without test buttons, and a forged test button is refused.
        let carol = h.store.upsert_user(&common::identity(CAROL)).await.unwrap();
        h.store.add_member(tenant, carol.id, Role::Viewer).await.unwrap();
        h.store.set_active_tenant(carol.id, tenant).await.unwrap();
        let seen = h.say(CAROL, "/destinations", &en("delivery.bot_destinations")).await;
        assert!(!seen.has_button("🔔"), "{seen:#?}");
        let forged = format!("a:dt:{}", dead.id.as_uuid().simple());
        h.press_data_refused(CAROL, &seen, &forged, &en("bot.role.need_admin")).await;
        assert_eq!(receiver.received().len(), 1, "nothing more was sent");
    }
);

bot_test!(an_admin_picks_the_events_a_webhook_receives, env = ALLOW_LOCAL_WEBHOOKS, |h| {
    let tenant = h.onboard(ALICE, "Bloom").await;
    let receiver = WebhookReceiver::start().await;
    h.say(ALICE, &format!("/webhook {}", receiver.url), "shown only this once").await;
    let hook = h.store.destinations(tenant).await.unwrap().pop().unwrap();
    let list = destinations(&h).await;
    assert!(list.text.contains("events: all events"), "{}", list.text);

    let screen = h.press(ALICE, &list, &en("delivery.bot_btn_events"), "Events for 127.0.0.1").await;
    assert!(screen.has_button("✅ post.scheduled") && screen.has_button("✅ alert.resolved"), "{screen:#?}");
    let screen = h.press(ALICE, &screen, "✅ post.scheduled", "Events for").await;
    assert!(screen.has_button("▫️ post.scheduled"), "{screen:#?}");
    let filter = h.store.destination(tenant, hook.id).await.unwrap().event_types.expect("a filter");
    assert!(!filter.iter().any(|e| e == "post.scheduled") && filter.iter().any(|e| e == "post.published"));

    // The filter decides what is queued; a ping ignores it.
    assert!(queue_event(&h.store, tenant, "post.scheduled", serde_json::json!({})).await.unwrap().is_empty());
    assert_eq!(queue_event(&h.store, tenant, "post.published", serde_json::json!({})).await.unwrap().len(), 1);
    let list = destinations(&h).await;
    assert!(list.text.contains("events: post.published"), "{}", list.text);
    h.press(ALICE, &list, "🔔 Test 127.0.0.1", "Test delivered").await;

    // "All events" drops the filter (types added later are received too).
    let screen = h.press(ALICE, &list, &en("delivery.bot_btn_events"), "Events for").await;
    h.press(ALICE, &screen, &en("delivery.bot_btn_events_all"), "Events for").await;
    assert_eq!(h.store.destination(tenant, hook.id).await.unwrap().event_types, None);

    // The last event cannot be switched off; a forged index is refused.
    h.store.set_destination_events(tenant, hook.id, Some(&["alert.triggered".to_owned()])).await.unwrap();
    let screen = h.press(ALICE, &destinations(&h).await, &en("delivery.bot_btn_events"), "Events for").await;
    let mark = h.tg.mark();
    h.tg.press(ALICE, &screen, "✅ alert.triggered");
    h.tg.answered(mark, &en("delivery.bot_events_keep_one")).await;
    let forged = format!("a:dy:{}:200", hook.id.as_uuid().simple());
    h.press_data_refused(ALICE, &screen, &forged, &en("bot.stale")).await;
    let kept = h.store.destination(tenant, hook.id).await.unwrap().event_types;
    assert_eq!(kept, Some(vec!["alert.triggered".to_owned()]));
});

bot_test!(an_alert_is_created_with_chosen_rules_and_a_name_and_both_are_edited_later, |h| {
    let tenant = h.onboard(ALICE, "Bloom").await;
    let m = h.say(ALICE, "/automate", &en("bot.auto.title_new")).await;
    let m = h.press(ALICE, &m, &en("bot.auto.kind_alert"), "How often?").await;
    let m = h.press(ALICE, &m, &en("bot.auto.preset_hourly"), "Time zone:").await;
    let m = h.press(ALICE, &m, &en("bot.auto.btn_keep"), &en("bot.auto.step_dest_none")).await;
    let m = h.press(ALICE, &m, &en("bot.auto.btn_next"), "Options:").await;
    assert!(m.text.contains(&en("bot.auto.rule_publish_failed")), "{}", m.text);
    let m = h.press(ALICE, &m, &format!("✅ {}", en("bot.auto.rule_publish_failed")), "Options:").await;
    assert!(m.has_button(&format!("▫️ {}", en("bot.auto.rule_publish_failed"))), "{m:#?}");
    h.press(ALICE, &m, "Compared with: 4 weeks", "from 1 to 12").await;
    h.say(ALICE, "13", "from 1 to 12").await;
    let m = h.say(ALICE, "6", "Compared with: 6 weeks").await;
    let m = h.press(ALICE, &m, &en("bot.auto.btn_next"), "Next runs:").await;
    let m = h.press(ALICE, &m, &en("bot.auto.btn_name"), "Send a name").await;
    assert!(m.has_button(&en("bot.auto.btn_back")));
    h.say(ALICE, &"x".repeat(65), "1 to 64 characters").await;
    let m = h.say(ALICE, "Morning watch", "Next runs:").await;
    assert!(m.text.contains("<b>Morning watch</b>"), "{}", m.text);
    h.press(ALICE, &m, &en("bot.auto.btn_create"), &en("bot.auto.created")).await;

    let a = h.store.automations(tenant).await.unwrap().pop().expect("the alert");
    assert_eq!(a.name, "Morning watch");
    let config: AlertConfig = serde_json::from_value(a.config.clone()).unwrap();
    assert_eq!(config.rules, AlertRule::ALL[1..].to_vec());
    assert_eq!(config.trailing_weeks, 6);

    // Edit: switch a rule off, a threshold, and the name; everything the creation set can be changed.
    let list = h.say(ALICE, "/automations", "Morning watch").await;
    let menu = h.press(ALICE, &list, "✏️", &en("bot.auto.title_edit")).await;
    let m = h.press(ALICE, &menu, &en("bot.auto.btn_options"), "Options:").await;
    let m = h.press(ALICE, &m, &format!("✅ {}", en("bot.auto.rule_llm_quota")), "Options:").await;
    h.press(ALICE, &m, "Scheduler silent after: 10 min", "from 2 to 1440").await;
    // A typed value returns to the edit menu.
    let menu = h.say(ALICE, "30", &en("bot.auto.title_edit")).await;
    h.press(ALICE, &menu, &en("bot.auto.btn_name"), "Send a name").await;
    let menu = h.say(ALICE, "Evening watch", &en("bot.auto.title_edit")).await;
    h.press(ALICE, &menu, &en("bot.auto.btn_save"), &en("bot.auto.saved")).await;
    let edited = h.store.automation(tenant, a.id).await.unwrap();
    assert_eq!(edited.name, "Evening watch");
    let config: AlertConfig = serde_json::from_value(edited.config).unwrap();
    let expected: Vec<AlertRule> = AlertRule::ALL[1..].iter().copied().filter(|r| *r != AlertRule::LlmQuota).collect();
    assert_eq!(config.rules, expected);
    assert_eq!((config.trailing_weeks, config.heartbeat_stale_minutes), (6, 30));
});

bot_test!(a_generated_name_follows_an_edited_schedule, |h| {
    let tenant = h.onboard(ALICE, "Bloom").await;
    link_destinations(&h, tenant).await;
    let m = h.say(ALICE, "/automate", &en("bot.auto.title_new")).await;
    let m = h.press(ALICE, &m, &en("bot.auto.kind_report"), "How often?").await;
    let m = h.press(ALICE, &m, &en("bot.auto.preset_weekly"), "Time zone:").await;
    let m = h.press(ALICE, &m, &en("bot.auto.btn_keep"), "Where should it deliver?").await;
    let m = h.press(ALICE, &m, &en("bot.auto.btn_next"), "Options:").await;
    let m = h.press(ALICE, &m, &en("bot.auto.btn_next"), "Next runs:").await;
    h.press(ALICE, &m, &en("bot.auto.btn_create"), &en("bot.auto.created")).await;
    let a = h.store.automations(tenant).await.unwrap().pop().unwrap();
    assert!(a.name.ends_with("0 9 * * 1"), "{}", a.name);

    let list = h.say(ALICE, "/automations", "Next:").await;
    let menu = h.press(ALICE, &list, "✏️", &en("bot.auto.title_edit")).await;
    let m = h.press(ALICE, &menu, &en("bot.auto.btn_schedule"), "How often?").await;
    let menu = h.press(ALICE, &m, &en("bot.auto.preset_daily"), &en("bot.auto.title_edit")).await;
    h.press(ALICE, &menu, &en("bot.auto.btn_save"), &en("bot.auto.saved")).await;
    let edited = h.store.automation(tenant, a.id).await.unwrap();
    assert!(edited.name.ends_with("0 9 * * *"), "the generated name follows: {}", edited.name);
});

/// "Send test" on an email destination through a relay on loopback (`SMTP_TLS=none`): the email arrives, and a
/// relay that refuses the address gives the reason in the chat.
async fn an_email_destination_is_tested_through_the_relay(db: &tochen_testkit::TestDb) {
    let sink = tochen_testkit::smtp_sink::SmtpSink::start().await;
    let refusing = tochen_testkit::smtp_sink::SmtpSink::start_refusing("550 5.1.1 no such user").await;
    // Two people, one per relay, on the same database.
    for (relay, delivered, who) in [(&sink, true, ALICE), (&refusing, false, CAROL)] {
        let url = format!("smtp://{}", relay.addr);
        let env = [("SMTP_URL", url.as_str()), ("SMTP_FROM", "reports@tochen.test"), ("SMTP_TLS", "none")];
        let mut h = common::Harness::start_with_env(db, &env).await;
        h.onboard(who, "Bloom").await;
        h.say(who, "/email ops@example.com", "ops@example.com").await;
        let list = h.say(who, "/destinations", &en("delivery.bot_destinations")).await;
        if delivered {
            h.press(who, &list, "🔔 Test ops@example.com", "Test email sent to ops@example.com").await;
            let got = sink.messages();
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].to, vec!["ops@example.com".to_owned()]);
            assert!(got[0].data.contains("Test from tochen") && got[0].data.contains("Bloom"), "{}", got[0].data);
        } else {
            let failed = h.press(who, &list, "🔔 Test ops@example.com", "The test email to ops@example.com").await;
            assert!(failed.text.contains("550"), "the relay's answer is shown: {}", failed.text);
        }
        h.stop().await;
    }
}

mod an_email_destination_is_tested_through_the_relay {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let db = tochen_testkit::TestDb::sqlite().await;
        super::an_email_destination_is_tested_through_the_relay(&db).await;
        db.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(db) = tochen_testkit::TestDb::postgres().await else { return };
        super::an_email_destination_is_tested_through_the_relay(&db).await;
        db.cleanup().await;
    }
}
