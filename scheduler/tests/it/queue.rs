//! The job queue and runner on both databases: exactly-once claiming, rescue, fencing, retries, dead jobs,
//! unique keys, per-key concurrency, waking, and graceful shutdown.

use crate::common;

use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tochen_domain::clock::now_ms;
use tochen_domain::{AccountStatus, JobState, Platform};
use tochen_scheduler::{new_workers, JobContext, JobError, Worker, Workers};
use tochen_store::{ClaimRequest, Job, NewJob};
use tochen_testkit::store_test;

fn kinds(k: &[&str]) -> Vec<String> {
    k.iter().map(|s| s.to_string()).collect()
}

fn claim<'a>(owner: &'a str, limit: i64, lease_ms: i64, kinds: &'a [String]) -> ClaimRequest<'a> {
    ClaimRequest { owner, limit, lease_ms, per_key: 1, kinds }
}

/// A handler that runs a closure and counts calls, remembering when each happened.
struct FnHandler<F> {
    f: F,
    calls: Arc<Mutex<Vec<Instant>>>,
}

#[async_trait::async_trait]
impl<F> Worker<Value> for FnHandler<F>
where
    F: Fn(&Job) -> Result<(), JobError> + Send + Sync + 'static,
{
    async fn work(&self, cx: &JobContext, _args: Value) -> Result<(), JobError> {
        self.calls.lock().unwrap().push(Instant::now());
        (self.f)(cx.job())
    }
}

fn handler<F>(f: F) -> (Arc<FnHandler<F>>, Arc<Mutex<Vec<Instant>>>)
where
    F: Fn(&Job) -> Result<(), JobError> + Send + Sync + 'static,
{
    let calls = Arc::new(Mutex::new(Vec::new()));
    (Arc::new(FnHandler { f, calls: calls.clone() }), calls)
}

store_test!(several_concurrent_runners_claim_every_job_exactly_once, |store| {
    for i in 0..400 {
        store.enqueue(&NewJob::untyped("noop", serde_json::json!({ "i": i }))).await.unwrap();
    }
    let k = kinds(&["noop"]);
    let mut tasks = Vec::new();
    for r in 0..4 {
        let (store, k) = (store.clone(), k.clone());
        tasks.push(tokio::spawn(async move {
            let owner = format!("runner-{r}");
            let mut mine = Vec::new();
            loop {
                let jobs = store.claim_jobs(&claim(&owner, 7, 60_000, &k)).await.unwrap();
                if jobs.is_empty() {
                    break;
                }
                for j in jobs {
                    assert!(store.complete_job(j.id, j.attempts, &owner).await.unwrap());
                    mine.push(j.id);
                }
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 400, "every job claimed once");
    assert_eq!(unique.len(), 400, "no job claimed twice");
    assert_eq!(store.job_state_counts().await.unwrap(), vec![(JobState::Succeeded, 400)]);
});

store_test!(an_expired_lease_is_rescued_and_the_stale_attempt_cannot_complete, |store| {
    let id = store.enqueue(&NewJob::untyped("noop", serde_json::json!({}))).await.unwrap().unwrap();
    let k = kinds(&["noop"]);
    let first = store.claim_jobs(&claim("a", 10, 60_000, &k)).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(store.claim_jobs(&claim("b", 10, 60_000, &k)).await.unwrap().is_empty(), "a live lease is not stolen");

    // Runner a freezes; its lease runs out.
    sqlx::query("UPDATE jobs SET lease_expires_at = $1 WHERE id = $2")
        .bind(now_ms() - 1)
        .bind(id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let rescued = store.claim_jobs(&claim("b", 10, 60_000, &k)).await.unwrap();
    assert_eq!(rescued.len(), 1);
    assert_eq!(rescued[0].attempts, 2);
    assert_eq!(rescued[0].lease_owner.as_deref(), Some("b"));

    // Fencing: the overtaken attempt's completion, retry and lease extension all change nothing.
    assert!(!store.complete_job(id, 1, "a").await.unwrap());
    assert!(!store.retry_job(id, 1, "a", now_ms(), "late").await.unwrap());
    assert!(!store.extend_lease(id, 1, "a", 60_000).await.unwrap());
    assert_eq!(store.job(id).await.unwrap().unwrap().state, JobState::Running);
    assert!(store.complete_job(id, 2, "b").await.unwrap());
    assert_eq!(store.job(id).await.unwrap().unwrap().state, JobState::Succeeded);
});

store_test!(a_handed_back_job_is_queued_as_it_was_and_an_overtaken_one_is_left_alone, |store| {
    let due = now_ms() - 1000;
    let kept =
        store.enqueue(&NewJob::untyped("noop", serde_json::json!({ "n": 1 })).run_at(due)).await.unwrap().unwrap();
    let lost =
        store.enqueue(&NewJob::untyped("noop", serde_json::json!({ "n": 2 })).run_at(due)).await.unwrap().unwrap();
    let k = kinds(&["noop"]);
    assert_eq!(store.claim_jobs(&claim("a", 10, 60_000, &k)).await.unwrap().len(), 2);

    // Runner a is overtaken on `lost`: its lease ran out and b holds the job now.
    sqlx::query("UPDATE jobs SET lease_expires_at = $1 WHERE id = $2")
        .bind(now_ms() - 1)
        .bind(lost.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(store.claim_jobs(&claim("b", 10, 60_000, &k)).await.unwrap().len(), 1);

    assert_eq!(store.release_jobs("a", &[(kept, 1), (lost, 1)]).await.unwrap(), 1, "only the job a still holds");
    let back = store.job(kept).await.unwrap().unwrap();
    assert_eq!(back.state, JobState::Queued);
    assert_eq!(back.attempts, 0, "a job that never started has not used an attempt");
    assert_eq!(back.lease_owner, None);
    assert_eq!(back.run_at, due, "it keeps its place in the queue");
    let overtaken = store.job(lost).await.unwrap().unwrap();
    assert_eq!((overtaken.state, overtaken.attempts), (JobState::Running, 2));
    assert_eq!(overtaken.lease_owner.as_deref(), Some("b"));
    assert_eq!(store.release_jobs("b", &[(lost, 1)]).await.unwrap(), 0, "a stale attempt number changes nothing");

    let again = store.claim_jobs(&claim("c", 10, 60_000, &k)).await.unwrap();
    assert_eq!(again.iter().map(|j| (j.id, j.attempts)).collect::<Vec<_>>(), vec![(kept, 1)]);
});

store_test!(a_unique_key_admits_one_job, |store| {
    let job = NewJob::untyped("noop", serde_json::json!({})).unique("sweep.cleanup:42");
    assert!(store.enqueue(&job).await.unwrap().is_some());
    assert!(store.enqueue(&job).await.unwrap().is_none());
    assert!(store.enqueue(&job.clone().run_at(now_ms() + 5000)).await.unwrap().is_none());
    assert_eq!(store.jobs_of_kind("noop", JobState::Queued, 10).await.unwrap().len(), 1);
});

store_test!(jobs_of_one_account_run_one_at_a_time_while_others_proceed, |store| {
    for i in 0..3 {
        store.enqueue(&NewJob::untyped("noop", serde_json::json!({ "i": i })).concurrency("account:a")).await.unwrap();
        store.enqueue(&NewJob::untyped("noop", serde_json::json!({ "i": i })).concurrency("account:b")).await.unwrap();
    }
    store.enqueue(&NewJob::untyped("noop", serde_json::json!({}))).await.unwrap();
    let k = kinds(&["noop"]);
    let got = store.claim_jobs(&claim("r", 10, 60_000, &k)).await.unwrap();
    let keys: Vec<_> = got.iter().map(|j| j.concurrency_key.clone()).collect();
    assert_eq!(got.len(), 3, "{keys:?}");
    assert!(keys.contains(&Some("account:a".into())) && keys.contains(&Some("account:b".into())));
    assert!(keys.contains(&None));
    assert!(store.claim_jobs(&claim("r2", 10, 60_000, &k)).await.unwrap().is_empty(), "both accounts are busy");
    let a = got.iter().find(|j| j.concurrency_key.as_deref() == Some("account:a")).unwrap();
    store.complete_job(a.id, a.attempts, "r").await.unwrap();
    let next = store.claim_jobs(&claim("r2", 10, 60_000, &k)).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].concurrency_key.as_deref(), Some("account:a"));
});

store_test!(a_runner_only_claims_kinds_it_has_handlers_for, |store| {
    store.enqueue(&NewJob::untyped("from.the.future", serde_json::json!({}))).await.unwrap();
    assert!(store.claim_jobs(&claim("r", 10, 60_000, &kinds(&["noop"]))).await.unwrap().is_empty());
});

store_test!(retries_back_off_exponentially_then_the_job_dies_and_admins_are_told, |store| {
    let tenant = workspace(&store).await;
    let (h, calls) = handler(|_| Err(JobError::retry("platform returned 503")));
    let mut handlers = new_workers();
    handlers.register_as::<Value, _>("flaky", h);
    let job = NewJob::untyped("flaky", serde_json::json!({})).tenant(tenant).max_attempts(4);
    let id = store.enqueue(&job).await.unwrap().unwrap();
    let (stop, done) = spawn_runner(&store, handlers, quick_config("r"));
    wait_for("the job to die", Duration::from_secs(10), || async {
        store.job(id).await.unwrap().unwrap().state == JobState::Dead
    })
    .await;
    stop.cancel();
    done.await.unwrap().unwrap();
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!(job.attempts, 4);
    assert_eq!(job.last_error.as_deref(), Some("platform returned 503"));
    // Backoff base 40 ms: the waits after attempts 1, 2, 3 lie within [20, 40], [40, 80], [80, 160] ms (+ slack).
    let at = calls.lock().unwrap().clone();
    assert_eq!(at.len(), 4);
    for (i, ceiling) in [40u64, 80, 160].iter().enumerate() {
        let gap = at[i + 1] - at[i];
        assert!(gap >= Duration::from_millis(ceiling / 2), "gap {i} was {gap:?}");
        assert!(gap <= Duration::from_millis(ceiling + 400), "gap {i} was {gap:?}");
    }
    let notices = store.tenant_jobs(tenant, JobState::Queued, 10).await.unwrap();
    let dead_notice = notices.iter().find(|j| j.kind == "notify").expect("admins are told");
    assert_eq!(dead_notice.payload["chat_id"], ADMIN_TG);
    assert!(dead_notice.payload["text_html"].as_str().unwrap().contains("flaky"));
});

store_test!(a_retry_after_from_the_platform_is_honoured, |store| {
    let (h, _calls) = handler(|_| Err(JobError::retry_after("429", Duration::from_secs(30))));
    let mut handlers = new_workers();
    handlers.register_as::<Value, _>("limited", h);
    let id = store.enqueue(&NewJob::untyped("limited", serde_json::json!({}))).await.unwrap().unwrap();
    let (stop, done) = spawn_runner(&store, handlers, quick_config("r"));
    wait_for("the retry", Duration::from_secs(5), || async {
        let j = store.job(id).await.unwrap().unwrap();
        j.state == JobState::Queued && j.attempts == 1
    })
    .await;
    stop.cancel();
    done.await.unwrap().unwrap();
    let j = store.job(id).await.unwrap().unwrap();
    assert!(j.run_at >= now_ms() + 28_000, "retry is at least 30 s out");
});

store_test!(a_permanent_error_fails_the_job_at_once, |store| {
    let (h, calls) = handler(|_| Err(JobError::permanent("caption too long")));
    let mut handlers = new_workers();
    handlers.register_as::<Value, _>("bad", h);
    let id = store.enqueue(&NewJob::untyped("bad", serde_json::json!({}))).await.unwrap().unwrap();
    let (stop, done) = spawn_runner(&store, handlers, quick_config("r"));
    wait_for("the failure", Duration::from_secs(5), || async {
        store.job(id).await.unwrap().unwrap().state == JobState::Failed
    })
    .await;
    stop.cancel();
    done.await.unwrap().unwrap();
    assert_eq!(calls.lock().unwrap().len(), 1);
});

store_test!(a_needs_reconnect_error_marks_the_account_and_tells_the_admins, |store| {
    let tenant = workspace(&store).await;
    let account = account(&store, tenant, Platform::Facebook, "page-1").await;
    let (h, _) = handler(move |_| Err(JobError::NeedsReconnect { tenant, account, message: "token expired".into() }));
    let mut handlers = new_workers();
    handlers.register_as::<Value, _>("needs", h);
    let id = store.enqueue(&NewJob::untyped("needs", serde_json::json!({})).tenant(tenant)).await.unwrap().unwrap();
    let (stop, done) = spawn_runner(&store, handlers, quick_config("r"));
    wait_for("the failure", Duration::from_secs(5), || async {
        store.job(id).await.unwrap().unwrap().state == JobState::Failed
    })
    .await;
    stop.cancel();
    done.await.unwrap().unwrap();
    assert_eq!(store.account(tenant, account).await.unwrap().status, AccountStatus::NeedsReconnect);
    let notices = store.tenant_jobs(tenant, JobState::Queued, 10).await.unwrap();
    let n = notices.iter().find(|j| j.kind == "notify").expect("admins are told");
    assert!(n.payload["text_html"].as_str().unwrap().contains("/accounts"), "{:?}", n.payload);
});

store_test!(an_idle_runner_wakes_for_new_work_and_for_the_next_due_job_without_polling, |store| {
    let (h, calls) = handler(|_| Ok(()));
    let mut handlers = new_workers();
    handlers.register_as::<Value, _>("noop", h);
    let (stop, done) = spawn_runner(&store, handlers, quick_config("r"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t0 = Instant::now();
    store.enqueue(&NewJob::untyped("noop", serde_json::json!({}))).await.unwrap();
    wait_for("the new job", Duration::from_secs(2), || async { calls.lock().unwrap().len() == 1 }).await;
    assert!(t0.elapsed() < Duration::from_millis(500), "woke in {:?}", t0.elapsed());

    let due = Instant::now() + Duration::from_millis(1200);
    store.enqueue(&NewJob::untyped("noop", serde_json::json!({})).run_at(now_ms() + 1200)).await.unwrap();
    wait_for("the due job", Duration::from_secs(4), || async { calls.lock().unwrap().len() == 2 }).await;
    let ran = *calls.lock().unwrap().last().unwrap();
    assert!(ran + Duration::from_millis(20) >= due, "ran early");
    assert!(ran < due + Duration::from_millis(300), "ran {:?} late", ran - due);
    stop.cancel();
    done.await.unwrap().unwrap();
});

struct Slow {
    started: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl Worker<Value> for Slow {
    async fn work(&self, _cx: &JobContext, _args: Value) -> Result<(), JobError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(400)).await;
        Ok(())
    }
}

store_test!(shutdown_stops_claiming_and_lets_running_jobs_finish, |store| {
    let started = Arc::new(AtomicUsize::new(0));
    let mut handlers = new_workers();
    handlers.register_as::<Value, _>("slow", Arc::new(Slow { started: started.clone() }));
    let mut config = quick_config("r");
    config.concurrency = 2;
    let first = store.enqueue(&NewJob::untyped("slow", serde_json::json!({ "n": 1 }))).await.unwrap().unwrap();
    let second = store.enqueue(&NewJob::untyped("slow", serde_json::json!({ "n": 2 }))).await.unwrap().unwrap();
    let (stop, done) = spawn_runner(&store, handlers, config);
    wait_for("both started", Duration::from_secs(3), || async { started.load(Ordering::SeqCst) == 2 }).await;
    let third = store.enqueue(&NewJob::untyped("slow", serde_json::json!({ "n": 3 }))).await.unwrap().unwrap();
    stop.cancel();
    done.await.unwrap().unwrap();
    assert_eq!(store.job(first).await.unwrap().unwrap().state, JobState::Succeeded);
    assert_eq!(store.job(second).await.unwrap().unwrap().state, JobState::Succeeded);
    assert_eq!(store.job(third).await.unwrap().unwrap().state, JobState::Queued, "not claimed after shutdown");
});

store_test!(jobs_claimed_ahead_are_handed_back_at_shutdown_unstarted, |store| {
    let started = Arc::new(AtomicUsize::new(0));
    let mut handlers = new_workers();
    handlers.register_as::<Value, _>("slow", Arc::new(Slow { started: started.clone() }));
    let mut config = quick_config("r");
    config.concurrency = 1;
    config.claim_ahead = Some(2);
    let mut ids = Vec::new();
    for n in 0..3 {
        let job = NewJob::untyped("slow", serde_json::json!({ "n": n })).run_at(now_ms() - 1000 + n);
        ids.push(store.enqueue(&job).await.unwrap().unwrap());
    }
    let (stop, done) = spawn_runner(&store, handlers, config);
    wait_for("one running and two held", Duration::from_secs(3), || async {
        let held = store.jobs_of_kind("slow", JobState::Running, 10).await.unwrap().len();
        started.load(Ordering::SeqCst) == 1 && held == 3
    })
    .await;
    stop.cancel();
    done.await.unwrap().unwrap();
    assert_eq!(started.load(Ordering::SeqCst), 1, "held jobs are not started once shutdown begins");
    assert_eq!(store.job(ids[0]).await.unwrap().unwrap().state, JobState::Succeeded);
    for id in &ids[1..] {
        let job = store.job(*id).await.unwrap().unwrap();
        assert_eq!((job.state, job.attempts, job.lease_owner), (JobState::Queued, 0, None), "{id} handed back");
    }
});

/// A handler that runs until the test lets it finish; with `frees_slot`, it frees its slot first, as a publish
/// does once the platform answered.
struct Gated {
    started: Arc<AtomicUsize>,
    open: Arc<tokio::sync::Notify>,
    frees_slot: bool,
}

impl Gated {
    /// Handlers with a gated handler for `kind`, its count of started jobs and the gate that lets one finish.
    fn handlers(kind: &str, frees_slot: bool) -> (Workers, Arc<AtomicUsize>, Arc<tokio::sync::Notify>) {
        let (started, open) = (Arc::new(AtomicUsize::new(0)), Arc::new(tokio::sync::Notify::new()));
        let mut handlers = new_workers();
        handlers.register_as::<Value, _>(
            kind,
            Arc::new(Gated { started: started.clone(), open: open.clone(), frees_slot }),
        );
        (handlers, started, open)
    }
}

#[async_trait::async_trait]
impl Worker<Value> for Gated {
    async fn work(&self, cx: &JobContext, _args: Value) -> Result<(), JobError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        if self.frees_slot {
            cx.release_slot();
        }
        self.open.notified().await;
        Ok(())
    }
}

store_test!(a_job_claimed_ahead_whose_lease_ran_out_is_not_started, |store| {
    let (handlers, started, open) = Gated::handlers("gated", false);
    let mut config = quick_config("r");
    config.concurrency = 1;
    config.claim_ahead = Some(1);
    config.lease = Duration::from_millis(300);
    let first = store.enqueue(&NewJob::untyped("gated", serde_json::json!({ "n": 1 })).run_at(now_ms() - 2000)).await;
    let second = store.enqueue(&NewJob::untyped("gated", serde_json::json!({ "n": 2 })).run_at(now_ms() - 1000)).await;
    let (first, second) = (first.unwrap().unwrap(), second.unwrap().unwrap());
    let (stop, done) = spawn_runner(&store, handlers, config);
    wait_for("one running and one held", Duration::from_secs(3), || async {
        let held = store.job(second).await.unwrap().unwrap().state == JobState::Running;
        started.load(Ordering::SeqCst) == 1 && held
    })
    .await;
    // The running job's lease is kept alive; the held one's runs out, and another runner takes it.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let k = kinds(&["gated"]);
    let taken = store.claim_jobs(&claim("other", 10, 60_000, &k)).await.unwrap();
    assert_eq!(taken.iter().map(|j| j.id).collect::<Vec<_>>(), vec![second]);
    open.notify_one();
    wait_for("the first done", Duration::from_secs(3), || async {
        store.job(first).await.unwrap().unwrap().state == JobState::Succeeded
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.cancel();
    done.await.unwrap().unwrap();
    assert_eq!(started.load(Ordering::SeqCst), 1, "the overtaken job did not run here");
    let job = store.job(second).await.unwrap().unwrap();
    assert_eq!((job.state, job.lease_owner.as_deref()), (JobState::Running, Some("other")));
});

store_test!(a_job_that_frees_its_slot_early_lets_the_next_start_while_it_finishes, |store| {
    let (handlers, started, open) = Gated::handlers("early", true);
    let mut config = quick_config("r");
    config.concurrency = 1;
    let mut ids = Vec::new();
    for n in 0..2 {
        let job = NewJob::untyped("early", serde_json::json!({ "n": n })).run_at(now_ms() - 1000 + n);
        ids.push(store.enqueue(&job).await.unwrap().unwrap());
    }
    let (stop, done) = spawn_runner(&store, handlers, config);
    wait_for("both started with one slot", Duration::from_secs(3), || async { started.load(Ordering::SeqCst) == 2 })
        .await;
    for id in &ids {
        let job = store.job(*id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Running, "still finishing, still holding its lease");
    }
    open.notify_waiters();
    wait_for("both done", Duration::from_secs(3), || async {
        let done = store.jobs_of_kind("early", JobState::Succeeded, 10).await.unwrap().len();
        if done < 2 {
            open.notify_waiters();
        }
        done == 2
    })
    .await;
    stop.cancel();
    done.await.unwrap().unwrap();
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_job_written_by_another_process_wakes_the_runner_through_listen_notify() {
    let Some(db) = tochen_testkit::TestDb::postgres().await else { return };
    let store = db.store.clone();
    let (h, calls) = handler(|_| Ok(()));
    let mut handlers = new_workers();
    handlers.register_as::<Value, _>("noop", h);
    let mut config = quick_config("r");
    config.listen_url = Some(db.url.clone());
    let (stop, done) = spawn_runner(&store, handlers, config);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A raw insert, as another process would make it: nothing in this process signals the runner.
    let t0 = Instant::now();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, run_at, created_at, updated_at) VALUES ($1, 'noop', '{}', $2, $2, $2)",
    )
    .bind(tochen_domain::ids::JobId::new().to_db())
    .bind(now_ms())
    .execute(store.sql_for_tests())
    .await
    .unwrap();
    wait_for("the job from elsewhere", Duration::from_secs(5), || async { calls.lock().unwrap().len() == 1 }).await;
    assert!(t0.elapsed() < Duration::from_secs(2), "woke after {:?}, not by the 60 s idle timer", t0.elapsed());
    stop.cancel();
    done.await.unwrap().unwrap();
    db.cleanup().await;
}

/// A payload type of the tests' own: its kind and insert options come with it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Echo {
    n: i64,
}

impl tochen_domain::jobs::JobArgs for Echo {
    const KIND: &'static str = "test.echo";

    fn insert_opts(&self) -> tochen_domain::jobs::InsertOpts {
        tochen_domain::jobs::InsertOpts {
            unique_key: Some(format!("echo:{}", self.n)),
            max_attempts: Some(2),
            ..Default::default()
        }
    }
}

struct EchoWorker(Arc<Mutex<Vec<i64>>>);

#[async_trait::async_trait]
impl Worker<Echo> for EchoWorker {
    async fn work(&self, _cx: &JobContext, args: Echo) -> Result<(), JobError> {
        self.0.lock().unwrap().push(args.n);
        Ok(())
    }
}

store_test!(a_typed_worker_gets_its_payload_decoded_and_a_payload_that_does_not_decode_fails_at_once, |store| {
    let good = store.enqueue_args(None, &Echo { n: 7 }).await.unwrap().expect("queued");
    assert_eq!(store.enqueue_args(None, &Echo { n: 7 }).await.unwrap(), None, "the payload's unique key holds");
    let job = store.job(good).await.unwrap().unwrap();
    assert_eq!((job.kind.as_str(), job.unique_key.as_deref(), job.max_attempts), ("test.echo", Some("echo:7"), 2));
    let bad = store.enqueue(&NewJob::untyped("test.echo", serde_json::json!({ "n": "seven" }))).await.unwrap();
    let bad = bad.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut workers = new_workers();
    workers.register::<Echo, _>(EchoWorker(seen.clone()));
    assert_eq!(workers.kinds(), vec!["test.echo".to_owned()]);
    let (stop, done) = spawn_runner(&store, workers, quick_config("r"));
    wait_for("both finished", Duration::from_secs(5), || async {
        let states = [store.job(good).await.unwrap().unwrap().state, store.job(bad).await.unwrap().unwrap().state];
        states == [JobState::Succeeded, JobState::Failed]
    })
    .await;
    stop.cancel();
    done.await.unwrap().unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![7]);
    let bad = store.job(bad).await.unwrap().unwrap();
    assert_eq!(bad.attempts, 1, "not retried");
    let error = bad.last_error.unwrap();
    assert!(error.starts_with("test.echo payload is not valid: "), "{error}");
});

store_test!(the_jobs_changed_signal_belongs_to_a_store_and_its_clones, |store| {
    let clone = store.clone();
    let woken = clone.jobs_changed().notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    store.enqueue_args(None, &Echo { n: 1 }).await.unwrap();
    tokio::time::timeout(Duration::from_secs(1), woken).await.expect("an enqueue wakes the clone's waiters");
});
