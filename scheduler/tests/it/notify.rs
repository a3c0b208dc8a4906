//! The `notify` sender against the fake Bot API: HTML with buttons, 429 retry-after, blocked users, migration.

use serde_json::json;
use std::time::Duration;
use tochen_domain::jobs::{NotifyButton, NotifyPayload};
use tochen_scheduler::{JobError, Notifier, TelegramNotifier};
use tochen_testkit::fake_telegram::FakeTelegram;

fn notifier(tg: &FakeTelegram) -> TelegramNotifier {
    TelegramNotifier::new(&tg.token, url::Url::parse(&tg.api_url).unwrap(), std::env::temp_dir())
}

fn message(chat: i64) -> NotifyPayload {
    NotifyPayload {
        chat_id: chat,
        text_html: "<b>Autumn menu</b> is live".into(),
        buttons: vec![vec![NotifyButton { text: "Open".into(), callback_data: Some("tp:abc".into()), url: None }]],
        attachment_path: None,
    }
}

#[tokio::test]
async fn a_message_goes_out_in_html_with_its_buttons() {
    let tg = FakeTelegram::start().await;
    notifier(&tg).send(&message(42)).await.unwrap();
    let call = tg.wait_call(0, |c| c.method == "sendmessage").await;
    assert_eq!(call.params["parse_mode"], "HTML");
    assert_eq!(call.params["chat_id"], 42);
    let msgs = tg.messages_in(42);
    assert_eq!(msgs[0].buttons, vec![vec![("Open".to_string(), "tp:abc".to_string())]]);
}

#[tokio::test]
async fn a_rate_limit_is_retried_after_the_time_telegram_asks_for() {
    let tg = FakeTelegram::start().await;
    tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", json!({"retry_after": 7}));
    let err = notifier(&tg).send(&message(42)).await.unwrap_err();
    assert_eq!(err, JobError::Retryable { message: err.to_string(), retry_after: Some(Duration::from_secs(7)) });
}

#[tokio::test]
async fn a_user_who_blocked_the_bot_is_not_retried() {
    let tg = FakeTelegram::start().await;
    tg.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", json!({}));
    let err = notifier(&tg).send(&message(42)).await.unwrap_err();
    assert!(matches!(err, JobError::Permanent(_)), "{err:?}");
}

#[tokio::test]
async fn a_group_that_became_a_supergroup_gets_the_message_at_its_new_id() {
    let tg = FakeTelegram::start().await;
    tg.fail_next(
        "sendMessage",
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        json!({"migrate_to_chat_id": -1001234}),
    );
    notifier(&tg).send(&message(-55)).await.unwrap();
    tg.wait_call(0, |c| c.method == "sendmessage" && c.params["chat_id"] == -1001234).await;
}
