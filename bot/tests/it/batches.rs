//! Campaign batches run by the batch runner against the fake LLM, on SQLite and PostgreSQL (issue 18): a 50-item
//! batch with some items failing and others rate-limited (never more than the workspace's limit in flight, the
//! fake counts), a runner killed mid-batch and another taking over (every item ends exactly once), the quota
//! running out (a clean stop), and cancel (drafts made stay).

use crate::common;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::{BatchItemStatus, BatchStatus, JobState, TenantId};
use tochen_llm::LlmClient;
use tochen_store::{
    Batch, CampaignFields, LibraryFilter, NewBatch, NewBatchItem, Store, TelegramIdentity, TenantProfile,
};
use tochen_testkit::fake_llm::{FakeLlm, Reply};
use tochen_testkit::store_test;
use tokio_util::sync::CancellationToken;

struct Setup {
    llm: FakeLlm,
    client: LlmClient,
    config: Config,
    _dir: tempfile::TempDir,
}

async fn setup(store: &Store, db_url: &str, key: &str) -> Setup {
    let llm = FakeLlm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let vars: HashMap<String, String> = [
        ("TELEGRAM_BOT_TOKEN", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ".to_owned()),
        ("DATABASE_URL", db_url.to_owned()),
        ("TOCHEN_SECRET_KEYS", key.to_owned()),
        ("TOCHEN_DATA_DIR", dir.path().display().to_string()),
        ("LLM_PROVIDER", "openai_compatible".into()),
        ("LLM_BASE_URL", llm.base_url.clone()),
        ("LLM_API_KEY", "sk-test".into()),
        ("LLM_TIMEOUT_SECS", "5".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Config::from_source(&vars).unwrap();
    assert_eq!(config.llm.batch_concurrency, 5, "LLM_BATCH_CONCURRENCY defaults to 5");
    let client = LlmClient::new(config.llm.clone(), store.clone(), dir.path().to_path_buf())
        .unwrap()
        .with_backoff(Duration::from_millis(5));
    Setup { llm, client, config, _dir: dir }
}

async fn workspace(store: &Store, telegram_id: i64, quota: i64) -> TenantId {
    let who = TelegramIdentity {
        telegram_id,
        username: None,
        first_name: "Ana".into(),
        last_name: None,
        language_code: Some("en".into()),
    };
    let admin = store.upsert_user(&who).await.unwrap();
    store.create_tenant("Roastery", &TenantProfile::default(), quota, admin.id).await.unwrap().id
}

/// A campaign with a batch of `n` items whose topics are `item-00`, `item-01`, …
async fn batch(store: &Store, t: TenantId, n: usize) -> Batch {
    let f = CampaignFields {
        name: "Autumn".into(),
        brief: "Autumn menu".into(),
        platforms: vec![tochen_domain::Platform::Facebook],
        ..Default::default()
    };
    let c = store.create_campaign(t, None, &f).await.unwrap();
    let items = (0..n).map(|i| NewBatchItem { topic: format!("item-{i:02} seasonal"), ..Default::default() }).collect();
    store.start_batch(t, c.id, &NewBatch { items, ..Default::default() }).await.unwrap().0
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn start(s: &Setup, store: &Store, lease: Duration) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let rules = tochen_platforms::RuleBook::new(&s.config);
    let runner = tochen_bot::batches::runner_with(store, s.client.clone(), rules, 5, 20, lease);
    let stop = CancellationToken::new();
    let token = stop.clone();
    let handle = tokio::spawn(async move {
        runner.run(token).await.unwrap();
    });
    (stop, handle)
}

async fn ended(store: &Store, t: TenantId, b: &Batch) -> bool {
    store.batch(t, b.id).await.unwrap().status != BatchStatus::Running
}

/// Posts of the batch's campaign.
async fn drafts(store: &Store, t: TenantId, b: &Batch) -> usize {
    let f = LibraryFilter { campaign: Some(b.campaign_id), ..Default::default() };
    store.library(t, &f, 0, 1000).await.unwrap().len()
}

store_test!(fifty_items_with_failures_and_rate_limits_stay_within_the_limit, |store, db| {
    let s = setup(&store, &db.url, &db.key).await;
    let t = workspace(&store, 1, 0).await;
    let b = batch(&store, t, 50).await;
    s.llm.set_delay(Duration::from_millis(30));
    let server_errors = ["item-07", "item-21", "item-33"];
    let malformed = ["item-12", "item-44"];
    let limited = ["item-03", "item-15", "item-28", "item-40", "item-49"];
    for n in server_errors {
        s.llm.when_contains(n, Reply::ServerError, None);
    }
    for n in malformed {
        s.llm.when_contains(n, Reply::Text("no json here".into()), None);
    }
    for n in limited {
        s.llm.when_contains(n, Reply::RateLimited { retry_after_secs: 0 }, Some(2));
    }
    let (stop, handle) = start(&s, &store, Duration::from_secs(30));
    wait_until("the batch to end", || ended(&store, t, &b)).await;
    stop.cancel();
    handle.await.unwrap();

    assert_eq!(store.batch(t, b.id).await.unwrap().status, BatchStatus::Finished);
    assert!(s.llm.max_in_flight() <= 5, "{} calls in flight at once", s.llm.max_in_flight());
    assert!(s.llm.max_in_flight() > 1, "the items ran one at a time");
    let items = store.batch_items(t, b.id).await.unwrap();
    let failed: BTreeSet<String> =
        items.iter().filter(|i| i.status == BatchItemStatus::Failed).map(|i| i.item.topic[..7].to_owned()).collect();
    let expected: BTreeSet<String> = server_errors.iter().chain(&malformed).map(|s| s.to_string()).collect();
    assert_eq!(failed, expected);
    for i in items.iter().filter(|i| i.status == BatchItemStatus::Failed) {
        assert!(i.error.as_deref().is_some_and(|e| !e.is_empty()), "{i:?}");
        assert!(i.post_id.is_none());
    }
    // A server error is retried up to the limit of failures; a malformed answer fails at once.
    let server = items.iter().find(|i| i.item.topic.starts_with("item-07")).unwrap();
    assert_eq!(server.attempts, tochen_domain::jobs::BATCH_ITEM_MAX_FAILURES);
    assert!(server.error.as_deref().unwrap().contains("500"), "{:?}", server.error);
    // Rate-limited items were retried later and made it, their rate limits not counted as failures.
    for n in limited {
        let i = items.iter().find(|i| i.item.topic.starts_with(n)).unwrap();
        assert_eq!((i.status, i.attempts), (BatchItemStatus::Done, 0), "{i:?}");
    }
    let done: Vec<_> = items.iter().filter(|i| i.status == BatchItemStatus::Done).collect();
    assert_eq!(done.len(), 45);
    let posts: BTreeSet<_> = done.iter().map(|i| i.post_id.unwrap()).collect();
    assert_eq!(posts.len(), 45);
    assert_eq!(drafts(&store, t, &b).await, 45);
    let p = store.batch_progress(t, b.id).await.unwrap();
    assert_eq!((p.done, p.failed, p.ended(), p.total), (45, 5, 50, 50));
    assert!(store.tenant_jobs(t, JobState::Queued, 10).await.unwrap().is_empty());
    // The failed items retried by a person (the provider fixed) run again and end done.
    s.llm.clear_rules();
    let (stop, handle) = start(&s, &store, Duration::from_secs(30));
    assert_eq!(store.retry_batch_items(t, b.id, None).await.unwrap(), 5);
    wait_until("the retried items to end", || ended(&store, t, &b)).await;
    stop.cancel();
    handle.await.unwrap();
    let p = store.batch_progress(t, b.id).await.unwrap();
    assert_eq!((p.done, p.ended()), (50, 50));
    assert_eq!(drafts(&store, t, &b).await, 50);
});

store_test!(a_runner_killed_mid_batch_is_taken_over_and_every_item_ends_once, |store, db| {
    let s = setup(&store, &db.url, &db.key).await;
    let t = workspace(&store, 1, 0).await;
    let b = batch(&store, t, 30).await;
    s.llm.set_delay(Duration::from_millis(150));
    let (_stop, killed) = start(&s, &store, Duration::from_secs(1));
    wait_until("some items done", || async { store.batch_progress(t, b.id).await.unwrap().done >= 5 }).await;
    killed.abort(); // a crash: no graceful shutdown, its claimed jobs stay leased
    let _ = killed.await;
    assert_eq!(store.batch(t, b.id).await.unwrap().status, BatchStatus::Running);
    let (stop, handle) = start(&s, &store, Duration::from_secs(1));
    wait_until("the batch to end", || ended(&store, t, &b)).await;
    stop.cancel();
    handle.await.unwrap();

    let items = store.batch_items(t, b.id).await.unwrap();
    assert!(items.iter().all(|i| i.status == BatchItemStatus::Done), "{items:?}");
    let posts: BTreeSet<_> = items.iter().map(|i| i.post_id.unwrap()).collect();
    assert_eq!(posts.len(), 30);
    assert_eq!(drafts(&store, t, &b).await, 30, "no item saved a second draft");
});

store_test!(the_batch_stops_cleanly_when_the_quota_runs_out, |store, db| {
    let s = setup(&store, &db.url, &db.key).await;
    // Each fake call uses 150 tokens: the quota allows 4 calls, a few more may pass while in flight.
    let t = workspace(&store, 1, 600).await;
    let b = batch(&store, t, 20).await;
    let left = s.client.quota_left(t).await.unwrap();
    let (tokens, _) = s.client.estimate_batch(20, false);
    assert_eq!(left, Some(600));
    assert!(tokens > 600, "the estimate tells the batch will not fit");
    let (stop, handle) = start(&s, &store, Duration::from_secs(30));
    wait_until("the batch to stop", || ended(&store, t, &b)).await;
    wait_until("no call in flight", || async { s.llm.in_flight() == 0 }).await;
    stop.cancel();
    handle.await.unwrap();

    let batch = store.batch(t, b.id).await.unwrap();
    assert_eq!(batch.status, BatchStatus::QuotaStopped);
    let p = store.batch_progress(t, b.id).await.unwrap();
    // At least the four calls the quota allows, at most those plus the ones already in flight: the stop skips
    // only the items not started, so the ones in flight finish and keep their drafts.
    assert!(p.done >= 4 && p.done <= 9, "{p:?}");
    assert_eq!((p.pending, p.running, p.failed), (0, 0, 0));
    assert_eq!(p.done + p.skipped, 20);
    let skipped = store.batch_items(t, b.id).await.unwrap();
    let reason = skipped.iter().find(|i| i.status == BatchItemStatus::Skipped).unwrap().error.clone().unwrap();
    assert!(reason.contains("quota"), "{reason}");
    assert_eq!(drafts(&store, t, &b).await as i64, p.done);
});

store_test!(cancel_stops_the_remaining_items_and_keeps_the_drafts, |store, db| {
    let s = setup(&store, &db.url, &db.key).await;
    let t = workspace(&store, 1, 0).await;
    let b = batch(&store, t, 20).await;
    s.llm.set_delay(Duration::from_millis(200));
    let (stop, handle) = start(&s, &store, Duration::from_secs(30));
    wait_until("an item done", || async { store.batch_progress(t, b.id).await.unwrap().done >= 1 }).await;
    assert!(store.cancel_batch(t, b.id).await.unwrap() > 0);
    wait_until("no call in flight", || async { s.llm.in_flight() == 0 }).await;
    wait_until("no job running", || async {
        store.tenant_jobs(t, JobState::Running, 10).await.unwrap().is_empty()
            && store.tenant_jobs(t, JobState::Queued, 10).await.unwrap().is_empty()
    })
    .await;
    stop.cancel();
    handle.await.unwrap();

    assert_eq!(store.batch(t, b.id).await.unwrap().status, BatchStatus::Cancelled);
    let p = store.batch_progress(t, b.id).await.unwrap();
    assert!(p.done >= 1 && p.cancelled >= 1, "{p:?}");
    assert_eq!(p.done + p.cancelled, 20);
    assert_eq!(drafts(&store, t, &b).await as i64, p.done, "made drafts stay, nothing after the cancel");
});

bot_test!(the_progress_message_is_edited_in_place_until_the_batch_ends, |h| {
    let t = h.onboard(common::ALICE, "Roastery").await;
    let msg = h.tg.messages_in(common::ALICE).last().unwrap().clone();
    h.llm.set_delay(Duration::from_millis(100));
    let b = batch(&h.store, t, 10).await;
    h.store.set_batch_progress_message(t, b.id, common::ALICE, msg.message_id).await.unwrap();
    wait_until("the batch to end", || ended(&h.store, t, &b)).await;
    wait_until("the last edit", || async {
        h.tg.message(common::ALICE, msg.message_id).is_some_and(|m| m.text.contains("Finished in"))
    })
    .await;
    let text = h.tg.message(common::ALICE, msg.message_id).unwrap().text;
    assert!(text.contains("Autumn") && text.contains("10 done") && text.contains("0 failed"), "{text}");
    let edits: Vec<_> =
        h.tg.calls()
            .into_iter()
            .filter(|c| c.method == "editmessagetext" && c.params["message_id"].as_i64() == Some(msg.message_id))
            .collect();
    // At most one edit per 3-second window, each queued by an item that ended: never more than the items; none
    // refused by the (fake) Bot API.
    assert!(!edits.is_empty() && edits.len() <= 10, "{} edits", edits.len());
    assert!(edits.iter().all(|c| c.params["__failed"].is_null()));
    assert_eq!(h.store.batch_progress(t, b.id).await.unwrap().done, 10);
});
