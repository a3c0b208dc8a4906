//! Telegram webhook mode end to end: updates POSTed to the web service are stored before the 200, and the bot
//! (against the fake Bot API) reads them from the database instead of polling: each is answered once, a
//! duplicate delivery is processed once, and an update claimed by a bot that died is answered by the next bot.

use axum::body::Body;
use axum::http::Request;
use std::collections::HashMap;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::SecretString;
use tochen_store::Store;
use tochen_testkit::fake_llm::FakeLlm;
use tochen_testkit::fake_telegram::FakeTelegram;
use tochen_testkit::TestDb;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

const SECRET: &str = "tg_webhook-secret";
const ANSWER: &str = "What's it called";

struct Setup {
    tg: FakeTelegram,
    _llm: FakeLlm,
    config: Config,
    _dir: tempfile::TempDir,
}

async fn setup(db: &TestDb) -> Setup {
    let tg = FakeTelegram::start().await;
    let llm = FakeLlm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let env: HashMap<String, String> = [
        ("TELEGRAM_BOT_TOKEN", tg.token.clone()),
        ("TELEGRAM_API_URL", tg.api_url.clone()),
        ("TELEGRAM_MODE", "webhook".into()),
        ("TELEGRAM_WEBHOOK_SECRET", SECRET.into()),
        ("TOCHEN_PUBLIC_URL", "https://tochen.example".into()),
        ("DATABASE_URL", db.url.clone()),
        ("TOCHEN_SECRET_KEYS", db.key.clone()),
        ("TOCHEN_DATA_DIR", dir.path().display().to_string()),
        ("LLM_PROVIDER", "openai_compatible".into()),
        ("LLM_BASE_URL", llm.base_url.clone()),
        ("LLM_API_KEY", "sk-test".into()),
        ("LLM_TIMEOUT_SECS", "5".into()),
        // Several people start the bot; who may create workspaces has its own tests.
        ("TOCHEN_WORKSPACE_CREATION", "open".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Config::from_source(&env).unwrap();
    Setup { tg, _llm: llm, config, _dir: dir }
}

type Running = (CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>);

fn start_bot(s: &Setup, store: &Store) -> Running {
    start_bot_with(s, store, None)
}

fn start_bot_with(
    s: &Setup,
    store: &Store,
    before: Option<teloxide::dispatching::UpdateHandler<anyhow::Error>>,
) -> Running {
    let token = CancellationToken::new();
    let options = tochen_bot::Options { llm_backoff: Duration::from_millis(5), before, ..Default::default() };
    (token.clone(), tokio::spawn(tochen_bot::run_with(s.config.clone(), store.clone(), token, options)))
}

async fn stop_bot((token, handle): Running) {
    token.cancel();
    tokio::time::timeout(Duration::from_secs(20), handle).await.expect("bot stops").unwrap().unwrap();
}

/// Telegram delivers `/start` from `user` as update `update_id` to the web service; returns the status.
async fn deliver(s: &Setup, db: &TestDb, update_id: i64, user: i64) -> u16 {
    deliver_text(s, db, update_id, user, "/start").await
}

/// Telegram delivers `text` from `user` as update `update_id` to the web service; returns the status.
async fn deliver_text(s: &Setup, db: &TestDb, update_id: i64, user: i64, text: &str) -> u16 {
    let mut update = serde_json::json!({"update_id": update_id, "message": {"message_id": update_id, "date": 1790000000,
        "chat": {"id": user, "type": "private", "first_name": "Ana"},
        "from": {"id": user, "is_bot": false, "first_name": "Ana", "language_code": "en"},
        "text": text}});
    if text.starts_with('/') {
        update["message"]["entities"] = serde_json::json!([{"type": "bot_command", "offset": 0, "length": text.len()}]);
    }
    let state = tochen_web::AppState::new(
        s.config.clone(),
        db.store.clone(),
        &SecretString::new(db.key.clone()),
        tochen_web::RateLimit { per_second: 10_000, burst: 10_000 },
    );
    let req = Request::post("/telegram/webhook")
        .header("content-type", "application/json")
        .header("x-telegram-bot-api-secret-token", SECRET)
        .body(Body::from(update.to_string()))
        .unwrap();
    tochen_web::app(state).oneshot(req).await.unwrap().status().as_u16()
}

fn answers_to(tg: &FakeTelegram, chat: i64) -> usize {
    tg.calls()
        .iter()
        .filter(|c| c.method == "sendmessage" && c.params["chat_id"].as_i64() == Some(chat))
        .filter(|c| c.params["text"].as_str().is_some_and(|t| t.contains(ANSWER)))
        .count()
}

async fn row(store: &Store, update_id: i64) -> (String, i64) {
    sqlx::query_as("SELECT status, attempts FROM webhook_events WHERE source = 'telegram' AND update_id = $1")
        .bind(update_id)
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap()
}

tochen_testkit::store_test!(an_update_posted_to_the_web_service_is_answered_by_the_bot_once, |store, db| {
    let s = setup(&db).await;
    let bot = start_bot(&s, &store);
    let mark = s.tg.mark();
    assert_eq!(deliver(&s, &db, 500, 5001).await, 200);
    assert_eq!(deliver(&s, &db, 500, 5001).await, 200, "Telegram's retry of the same update_id");
    s.tg.said(5001, mark, ANSWER).await;
    assert_eq!(deliver(&s, &db, 500, 5001).await, 200, "a late retry after processing");

    // A later update from someone else is answered too; by then the duplicates would have run.
    assert_eq!(deliver(&s, &db, 501, 5002).await, 200);
    s.tg.said(5002, mark, ANSWER).await;
    stop_bot(bot).await;

    assert_eq!(answers_to(&s.tg, 5001), 1, "the duplicate update is processed once");
    assert_eq!(row(&store, 500).await.0, "processed");
    assert_eq!(row(&store, 501).await.0, "processed");
    assert_eq!(s.tg.count(0, "getupdates"), 0, "webhook mode never polls");
    let (jobs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs").fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!(jobs, 0, "no job is left for the scheduler");
    db.store.close().await;
});

tochen_testkit::store_test!(an_update_claimed_by_a_bot_that_died_is_answered_once_by_the_next_bot, |store, db| {
    let s = setup(&db).await;
    assert_eq!(deliver(&s, &db, 700, 7001).await, 200);
    // A bot claimed it and died before its handler ran: the claim expires and nobody marked it.
    let claimed = store.claim_telegram_updates("bot-that-died", 10, Duration::from_millis(1)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    tokio::time::sleep(Duration::from_millis(5)).await;

    let mark = s.tg.mark();
    let bot = start_bot(&s, &store);
    s.tg.said(7001, mark, ANSWER).await;
    stop_bot(bot).await;
    assert_eq!(row(&store, 700).await, ("processed".to_string(), 2));

    // Another bot instance on the same database answers new updates and does not repeat the old one.
    let bot = start_bot(&s, &store);
    assert_eq!(deliver(&s, &db, 701, 7002).await, 200);
    s.tg.said(7002, mark, ANSWER).await;
    stop_bot(bot).await;
    assert_eq!(answers_to(&s.tg, 7001), 1, "exactly once");
    assert_eq!(store.pending_telegram_updates().await.unwrap(), 0);
    db.store.close().await;
});

tochen_testkit::store_test!(
    an_unreadable_update_is_ignored_and_one_that_keeps_crashing_the_bot_is_given_up,
    |store, db| {
        let s = setup(&db).await;
        store.record_telegram_update(900, r#"{"update_id":900,"message":"not a message"}"#).await.unwrap().unwrap();
        assert_eq!(deliver(&s, &db, 901, 9001).await, 200);
        // Update 901 was claimed five times and never marked: every bot that took it died.
        sqlx::query(
            "UPDATE webhook_events SET attempts = 5, lease_owner = 'died', lease_expires_at = 1 WHERE update_id = 901",
        )
        .execute(store.sql_for_tests())
        .await
        .unwrap();
        assert_eq!(deliver(&s, &db, 902, 9002).await, 200);

        let mark = s.tg.mark();
        let bot = start_bot(&s, &store);
        s.tg.said(9002, mark, ANSWER).await;
        stop_bot(bot).await;
        assert_eq!(row(&store, 900).await.0, "ignored");
        assert_eq!(row(&store, 901).await, ("failed".to_string(), 5), "set aside without a sixth claim");
        assert_eq!(answers_to(&s.tg, 9001), 0);
        db.store.close().await;
    }
);

tochen_testkit::store_test!(an_update_whose_handler_panics_is_answered_once_and_not_replayed, |store, db| {
    use teloxide::prelude::*;
    let s = setup(&db).await;
    let panicking =
        Update::filter_message().filter(|m: Message| m.text() == Some("boom")).endpoint(|_: Message| async move {
            if true {
                panic!("a handler bug");
            }
            anyhow::Ok(())
        });
    let mark = s.tg.mark();
    let bot = start_bot_with(&s, &store, Some(panicking));
    assert_eq!(deliver_text(&s, &db, 800, 8001, "boom").await, 200);
    s.tg.said(8001, mark, &tochen_domain::i18n::t("en", "bot.crashed")).await;
    // The same chat is served next; the panicking update is done with, not held or replayed.
    assert_eq!(deliver(&s, &db, 801, 8001).await, 200);
    s.tg.said(8001, mark, ANSWER).await;
    stop_bot(bot).await;
    assert_eq!(row(&store, 800).await, ("processed".to_string(), 1));
    assert_eq!(row(&store, 801).await.0, "processed");
    assert!(store.claim_telegram_updates("another-bot", 10, Duration::from_secs(60)).await.unwrap().is_empty());
    let crashed =
        s.tg.calls()
            .iter()
            .filter(|c| c.params["text"].as_str() == Some(tochen_domain::i18n::t("en", "bot.crashed").as_str()))
            .count();
    assert_eq!(crashed, 1, "answered once");
    db.store.close().await;
});
