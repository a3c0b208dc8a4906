//! Telegram webhook mode end to end: updates POSTed to the web service are stored with their `telegram_update` job
//! before the 200, and the bot (against the fake Bot API) runs those jobs instead of polling: each update is
//! answered once, a duplicate delivery is processed once, an update whose bot died is answered by the next bot, and
//! the scheduler's runner never takes these jobs.

use axum::body::Body;
use axum::http::Request;
use std::collections::HashMap;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::jobs::{keys, TELEGRAM_UPDATE, TELEGRAM_UPDATE_MAX_ATTEMPTS};
use tochen_domain::{JobState, SecretString};
use tochen_store::{ClaimRequest, Store};
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

/// The status of the stored update's row.
async fn row(store: &Store, update_id: i64) -> String {
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM webhook_events WHERE source = 'telegram' AND update_id = $1")
            .bind(update_id)
            .fetch_one(store.sql_for_tests())
            .await
            .unwrap();
    status
}

/// The state and attempts of the update's job.
async fn job(store: &Store, update_id: i64) -> (JobState, i64) {
    let job = store.job_by_unique_key(&keys::telegram_update(update_id)).await.unwrap().expect("the update's job");
    (job.state, job.attempts)
}

/// Claims `telegram_update` jobs as `owner` would, for `lease_ms`; their update_ids.
async fn claim_updates(store: &Store, owner: &str, lease_ms: i64) -> Vec<i64> {
    let kinds = vec![TELEGRAM_UPDATE.to_string()];
    let req = ClaimRequest { owner, limit: 10, lease_ms, per_key: 1, kinds: &kinds };
    store.claim_jobs(&req).await.unwrap().iter().map(|j| j.payload["update_id"].as_i64().unwrap()).collect()
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
    assert_eq!(row(&store, 500).await, "processed");
    assert_eq!(row(&store, 501).await, "processed");
    assert_eq!(job(&store, 500).await, (JobState::Succeeded, 1));
    assert_eq!(job(&store, 501).await, (JobState::Succeeded, 1));
    assert_eq!(s.tg.count(0, "getupdates"), 0, "webhook mode never polls");
    let counts = store.job_state_counts().await.unwrap();
    assert_eq!(counts, vec![(JobState::Succeeded, 2)], "one job per update, none for the duplicates, none left");
    db.store.close().await;
});

tochen_testkit::store_test!(an_update_claimed_by_a_bot_that_died_is_answered_once_by_the_next_bot, |store, db| {
    let s = setup(&db).await;
    assert_eq!(deliver(&s, &db, 700, 7001).await, 200);
    // A bot claimed its job and died before the handler ran: the lease expires and nobody marked the update.
    assert_eq!(claim_updates(&store, "bot-that-died", 1).await, vec![700]);
    tokio::time::sleep(Duration::from_millis(5)).await;

    let mark = s.tg.mark();
    let bot = start_bot(&s, &store);
    s.tg.said(7001, mark, ANSWER).await;
    stop_bot(bot).await;
    assert_eq!(row(&store, 700).await, "processed");
    assert_eq!(job(&store, 700).await, (JobState::Succeeded, 2), "rescued by the next bot: its second attempt");

    // Another bot instance on the same database answers new updates and does not repeat the old one.
    let bot = start_bot(&s, &store);
    assert_eq!(deliver(&s, &db, 701, 7002).await, 200);
    s.tg.said(7002, mark, ANSWER).await;
    stop_bot(bot).await;
    assert_eq!(answers_to(&s.tg, 7001), 1, "exactly once");
    assert_eq!(store.pending_telegram_updates().await.unwrap(), 0);
    assert_eq!(job(&store, 701).await, (JobState::Succeeded, 1));
    db.store.close().await;
});

tochen_testkit::store_test!(
    an_unreadable_update_is_ignored_and_one_that_keeps_crashing_the_bot_is_given_up,
    |store, db| {
        let s = setup(&db).await;
        store
            .record_telegram_update(900, None, r#"{"update_id":900,"message":"not a message"}"#)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(deliver(&s, &db, 901, 9001).await, 200);
        // Update 901's job was started five times and never finished: every bot that took it died.
        sqlx::query(
            "UPDATE jobs SET state = 'running', attempts = $1, lease_owner = 'died', lease_expires_at = 1 \
             WHERE unique_key = $2",
        )
        .bind(TELEGRAM_UPDATE_MAX_ATTEMPTS)
        .bind(keys::telegram_update(901))
        .execute(store.sql_for_tests())
        .await
        .unwrap();
        assert_eq!(deliver(&s, &db, 902, 9002).await, 200);

        let mark = s.tg.mark();
        let bot = start_bot(&s, &store);
        s.tg.said(9002, mark, ANSWER).await;
        stop_bot(bot).await;
        assert_eq!(row(&store, 900).await, "ignored");
        assert_eq!(job(&store, 900).await, (JobState::Succeeded, 1), "nothing to retry");
        assert_eq!(row(&store, 901).await, "failed", "kept for inspection");
        assert_eq!(job(&store, 901).await, (JobState::Dead, 5), "given up without a sixth attempt");
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
    assert_eq!(row(&store, 800).await, "processed");
    assert_eq!(job(&store, 800).await, (JobState::Succeeded, 1), "done at once, not retried");
    assert_eq!(row(&store, 801).await, "processed");
    assert!(claim_updates(&store, "another-bot", 60_000).await.is_empty());
    let crashed =
        s.tg.calls()
            .iter()
            .filter(|c| c.params["text"].as_str() == Some(tochen_domain::i18n::t("en", "bot.crashed").as_str()))
            .count();
    assert_eq!(crashed, 1, "answered once");
    db.store.close().await;
});

tochen_testkit::store_test!(the_schedulers_runner_never_claims_telegram_updates_and_the_bots_does, |store, db| {
    let s = setup(&db).await;
    assert_eq!(deliver(&s, &db, 600, 6001).await, 200);
    let scheduler = tochen_scheduler::handlers(&tochen_scheduler::Deps::from_config(&s.config, &store).unwrap());
    assert!(!scheduler.has(TELEGRAM_UPDATE), "the scheduler has no worker for telegram updates");
    let kinds = scheduler.kinds();
    let req = ClaimRequest { owner: "scheduler", limit: 100, lease_ms: 60_000, per_key: 1, kinds: &kinds };
    assert!(store.claim_jobs(&req).await.unwrap().is_empty(), "its runner claims only the kinds it has workers for");
    assert_eq!(job(&store, 600).await, (JobState::Queued, 0));

    let mark = s.tg.mark();
    let bot = start_bot(&s, &store);
    s.tg.said(6001, mark, ANSWER).await;
    stop_bot(bot).await;
    assert_eq!(job(&store, 600).await, (JobState::Succeeded, 1));
    db.store.close().await;
});
