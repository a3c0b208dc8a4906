//! Stored Telegram updates (webhook mode): each update and its `telegram_update` job are written in one transaction
//! (a duplicate writes neither); one chat's updates are claimed one at a time in arrival order; the row is marked
//! once; a job claimed again after its last attempt is buried without a further attempt.

use tochen_domain::jobs::{keys, TELEGRAM_UPDATE, TELEGRAM_UPDATE_MAX_ATTEMPTS};
use tochen_domain::JobState;
use tochen_store::{ClaimRequest, Store};
use tochen_testkit::store_test;

fn kinds() -> Vec<String> {
    vec![TELEGRAM_UPDATE.to_string()]
}

/// Claims up to `limit` telegram_update jobs for `owner`, one per chat at a time; their update_ids, in order.
async fn claim(store: &Store, owner: &str, limit: i64, lease_ms: i64) -> Vec<(i64, i64)> {
    let kinds = kinds();
    let req = ClaimRequest { owner, limit, lease_ms, per_key: 1, kinds: &kinds };
    let jobs = store.claim_jobs(&req).await.unwrap();
    jobs.iter().map(|j| (j.payload["update_id"].as_i64().unwrap(), j.attempts)).collect()
}

store_test!(an_update_and_its_job_are_written_together_and_a_duplicate_writes_neither, |store| {
    let id = store.record_telegram_update(10, Some(-77), r#"{"update_id":10}"#).await.unwrap().unwrap();
    assert!(store.record_telegram_update(10, Some(-77), "{}").await.unwrap().is_none(), "deduplicated by update_id");
    let job = store.job_by_unique_key(&keys::telegram_update(10)).await.unwrap().expect("the job exists");
    assert_eq!(
        (job.kind.as_str(), job.state, job.max_attempts),
        (TELEGRAM_UPDATE, JobState::Queued, TELEGRAM_UPDATE_MAX_ATTEMPTS)
    );
    assert_eq!(job.payload, serde_json::json!({"event_id": id, "update_id": 10, "chat_id": -77}));
    assert_eq!(job.concurrency_key.as_deref(), Some("telegram_update:chat:-77"));
    assert_eq!(job.tenant_id, None);
    store.record_telegram_update(11, None, r#"{"update_id":11}"#).await.unwrap().unwrap();
    let no_chat = store.job_by_unique_key(&keys::telegram_update(11)).await.unwrap().unwrap();
    assert_eq!(no_chat.concurrency_key, None, "an update without a chat has no key");
    let (jobs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs").fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!(jobs, 2, "the duplicate queued nothing");
    let stored = store.telegram_update(&id).await.unwrap().unwrap();
    assert_eq!(
        (stored.update_id, stored.payload.as_str(), stored.status.as_str()),
        (10, r#"{"update_id":10}"#, "received")
    );
    assert_eq!(store.pending_telegram_updates().await.unwrap(), 2);
});

store_test!(one_chats_updates_are_claimed_one_at_a_time_in_arrival_order, |store| {
    for (update_id, chat) in [(20, Some(1)), (21, Some(1)), (22, Some(2)), (23, None), (24, Some(1))] {
        store.record_telegram_update(update_id, chat, &format!(r#"{{"update_id":{update_id}}}"#)).await.unwrap();
    }
    assert_eq!(claim(&store, "a", 10, 60_000).await, vec![(20, 1), (22, 1), (23, 1)]);
    assert!(claim(&store, "b", 10, 60_000).await.is_empty(), "chat 1 is busy; the others are taken");
    let first = store.job_by_unique_key(&keys::telegram_update(20)).await.unwrap().unwrap();
    assert!(store.complete_job(first.id, 1, "a").await.unwrap());
    assert_eq!(claim(&store, "b", 10, 60_000).await, vec![(21, 1)], "the next of chat 1, in arrival order");
});

store_test!(an_update_is_marked_once, |store| {
    store.record_telegram_update(30, Some(3), r#"{"update_id":30}"#).await.unwrap().unwrap();
    assert!(store.finish_telegram_update(30, "processed").await.unwrap());
    assert!(!store.finish_telegram_update(30, "failed").await.unwrap(), "marked already");
    assert_eq!(store.pending_telegram_updates().await.unwrap(), 0);
});

store_test!(a_job_claimed_again_after_its_last_attempt_is_buried_with_its_attempts_as_they_were, |store| {
    store.record_telegram_update(40, Some(4), r#"{"update_id":40}"#).await.unwrap().unwrap();
    // Every attempt's runner died on it: claimed max_attempts times, the last lease expired.
    sqlx::query(
        "UPDATE jobs SET state = 'running', attempts = $1, lease_owner = 'died', lease_expires_at = 1 \
         WHERE unique_key = $2",
    )
    .bind(TELEGRAM_UPDATE_MAX_ATTEMPTS)
    .bind(keys::telegram_update(40))
    .execute(store.sql_for_tests())
    .await
    .unwrap();
    let kinds = kinds();
    let req = ClaimRequest { owner: "next", limit: 1, lease_ms: 60_000, per_key: 1, kinds: &kinds };
    let job = store.claim_jobs(&req).await.unwrap().pop().expect("rescued");
    assert_eq!(job.attempts, TELEGRAM_UPDATE_MAX_ATTEMPTS + 1);
    assert!(!store.bury_exhausted_job(job.id, job.attempts - 1, "next", "gone").await.unwrap(), "fenced by attempt");
    assert!(!store.bury_exhausted_job(job.id, job.attempts, "died", "gone").await.unwrap(), "fenced by owner");
    assert!(store.bury_exhausted_job(job.id, job.attempts, "next", "every attempt died").await.unwrap());
    let dead = store.job(job.id).await.unwrap().unwrap();
    assert_eq!((dead.state, dead.attempts, dead.lease_owner), (JobState::Dead, TELEGRAM_UPDATE_MAX_ATTEMPTS, None));
    assert_eq!(dead.last_error.as_deref(), Some("every attempt died"));
    assert!(store.claim_jobs(&req).await.unwrap().is_empty(), "never claimed again");
});

store_test!(an_event_and_its_job_are_written_together_and_a_duplicate_writes_neither, |store| {
    let id = store.record_inbound_event("meta", "k1", r#"{"object":"page","entry":[]}"#).await.unwrap().unwrap();
    assert!(store.record_inbound_event("meta", "k1", "{}").await.unwrap().is_none());
    let job = store.job_by_unique_key(&format!("webhook.event:{id}")).await.unwrap().expect("the job exists");
    assert_eq!(job.payload["event_id"], id.as_str());
    let (jobs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs").fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!(jobs, 1);
    assert_eq!(store.webhook_event_status(&id).await.unwrap().as_deref(), Some("received"));
});

store_test!(concurrent_events_share_group_commits_and_each_is_stored_once_with_its_job, |store| {
    // 300 deliveries at once: 200 distinct events, and 100 repeats of some of them (providers deliver at least
    // once), several arriving in the same group as their original.
    let calls: Vec<_> = (0..300)
        .map(|i| {
            let store = store.clone();
            let key = format!("k{}", if i < 200 { i } else { (i - 200) * 2 });
            tokio::spawn(async move { (key.clone(), store.record_inbound_event("meta", &key, "{}").await.unwrap()) })
        })
        .collect();
    let mut results = Vec::new();
    for call in calls {
        results.push(call.await.unwrap());
    }
    let mut new_per_key = std::collections::HashMap::<String, usize>::new();
    for (key, id) in &results {
        *new_per_key.entry(key.clone()).or_default() += usize::from(id.is_some());
    }
    assert_eq!(new_per_key.len(), 200);
    assert!(new_per_key.values().all(|n| *n == 1), "each event is new exactly once: {new_per_key:?}");
    let pool = store.sql_for_tests().clone();
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
            n
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM webhook_events").await, 200);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM jobs j JOIN webhook_events e ON j.unique_key = 'webhook.event:' || e.id \
             WHERE j.kind = 'webhook.event' AND j.state = 'queued'"
        )
        .await,
        200,
        "every new event has its job"
    );
    assert_eq!(count("SELECT COUNT(*) FROM jobs").await, 200, "and nothing else was queued");
    let (groups, events) = store.ingest_groups();
    assert_eq!(events, 300, "every delivery went through a group commit");
    assert!(groups < 300, "concurrent deliveries shared commits: {groups} groups for 300 events");
});

store_test!(an_event_that_fails_its_group_does_not_fail_its_neighbours, |store| {
    // A trigger refuses one event key, so any group holding it fails; each of its events is then written alone.
    let refuse = match store.backend() {
        tochen_store::Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_bad BEFORE INSERT ON webhook_events WHEN NEW.event_key = 'bad' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ],
        _ => vec![
            "CREATE FUNCTION refuse_bad() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.event_key = 'bad' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER refuse_bad BEFORE INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION refuse_bad()",
        ],
    };
    for sql in refuse {
        sqlx::query(sql).execute(store.sql_for_tests()).await.unwrap();
    }
    // Writes wait behind a held transaction (SQLite's one connection; a table lock on PostgreSQL). Good events go
    // first, one at a time, until every writer permit is held by a blocked writer; then the rest, the refused one
    // among them, queue together, so the refused one is sure to share its group with good ones.
    let mut hold = store.sql_for_tests().begin().await.unwrap();
    if store.backend() != tochen_store::Backend::Sqlite {
        sqlx::query("LOCK TABLE webhook_events IN SHARE MODE").execute(&mut *hold).await.unwrap();
    }
    let send = |key: String| {
        let store = store.clone();
        tokio::spawn(async move { (key.clone(), store.record_inbound_event("meta", &key, "{}").await) })
    };
    // Waits until `queued` events were queued in all, then says how many of them wait to be taken into a group
    // once that number has held for 300 ms (a free permit takes a queued event within microseconds).
    let waiting_after = |queued: u64| {
        let store = store.clone();
        async move {
            let mut last = (0, usize::MAX);
            let mut since = std::time::Instant::now();
            loop {
                let now = store.ingest_queue();
                if now != last {
                    (last, since) = (now, std::time::Instant::now());
                } else if now.0 == queued && since.elapsed() > std::time::Duration::from_millis(300) {
                    return now.1;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    };
    let mut calls = Vec::new();
    let mut stuck = 0;
    while stuck == 0 {
        calls.push(send(format!("good{}", calls.len())));
        stuck = waiting_after(calls.len() as u64).await; // 1 once every permit is held by a blocked writer
    }
    calls.push(send("bad".to_string()));
    while calls.len() < 40 {
        calls.push(send(format!("good{}", calls.len())));
    }
    assert!(waiting_after(40).await >= 2, "the refused event queues with a good one behind the blocked writers");
    hold.rollback().await.unwrap();
    for call in calls {
        let (key, stored) = call.await.unwrap();
        match key.as_str() {
            "bad" => assert!(stored.is_err(), "the refused event reports its error"),
            _ => assert!(stored.unwrap().is_some(), "{key} is stored"),
        }
    }
    let (events,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_events").fetch_one(store.sql_for_tests()).await.unwrap();
    let (jobs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs").fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!((events, jobs), (39, 39));
    let (_, grouped) = store.ingest_groups();
    assert!(grouped < 39, "good events shared the refused one's group and were written alone ({grouped} grouped)");
});
