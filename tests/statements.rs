//! How many SQL statements each hot path sends, on both databases, so a regression shows (issue 21).
//!
//! A test binary of its own: it installs a global tracing subscriber that counts sqlx's per-statement events
//! (target `sqlx::query`, one per statement string sent; SQLite's worker thread included), and only one
//! measurement runs at a time. Counted: one signed Meta webhook through the web router; a hundred no-op jobs
//! claimed and completed by the runner; ten posts published one at a time against a fake platform; the bot
//! handling a typed answer in a flow and a button press. The counts are printed (BENCHMARKS.md keeps them) and
//! checked against ceilings: a hot path that starts sending more statements fails here. On PostgreSQL a
//! transaction's `COMMIT` is counted (its `BEGIN` is not logged by sqlx); on SQLite neither is.

#[path = "it/components.rs"]
#[allow(dead_code)]
mod components;
#[path = "../scheduler/tests/it/common/seed.rs"]
mod seed;

use axum::body::Body;
use axum::http::Request;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::clock::now_ms;
use tochen_domain::jobs::PublishPayload;
use tochen_domain::{AuthKind, Platform, SecretString};
use tochen_platforms::publish::Publisher;
use tochen_scheduler::handlers::publish::PublishHandler;
use tochen_scheduler::{JobContext, JobError, Runner, RunnerConfig, Worker};
use tochen_store::{NewAccount, NewJob, TenantProfile};
use tochen_testkit::fake_graph::sign_meta_webhook;
use tochen_testkit::fake_platform::{CountingPlatform, HttpPublisher};
use tochen_testkit::fake_telegram::FakeTelegram;
use tochen_testkit::TestDb;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// The statements seen since the last [`take`]: their SQL, first line.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// One measurement at a time (the tests of this binary run in parallel otherwise).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Counter;

#[derive(Default)]
struct Sql(String);

impl Visit for Sql {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" && self.0.is_empty() || field.name() == "db.statement" && !value.trim().is_empty()
        {
            self.0 = value.trim().to_owned();
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> Layer<S> for Counter {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            let mut sql = Sql::default();
            event.record(&mut sql);
            // SQLite's WAL checkpoint runs on a timer on its own connection (`checkpoint`), in no hot path.
            if !sql.0.contains("wal_checkpoint") {
                SEEN.lock().unwrap().push(sql.0);
            }
        }
    }
}

fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let filter = tracing_subscriber::filter::Targets::new().with_target("sqlx::query", tracing::Level::TRACE);
        let subscriber = tracing_subscriber::registry().with(Counter.with_filter(filter));
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");
    });
}

/// The statements seen since the last call, excluding `ignore`d ones.
fn take(ignore: impl Fn(&str) -> bool) -> Vec<String> {
    std::mem::take(&mut *SEEN.lock().unwrap()).into_iter().filter(|s| !ignore(s)).collect()
}

fn nothing(_: &str) -> bool {
    false
}

/// Waits until no statement arrived for a while (the work of what was just sent has ended).
async fn settle() {
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = SEEN.lock().unwrap().len();
        if now == last {
            return;
        }
        last = now;
    }
}

fn report(backend: &str, what: &str, seen: &[String], ceiling: usize) {
    println!("[{backend}] {what}: {} statements", seen.len());
    for s in seen {
        println!("    {}", s.lines().next().unwrap_or_default().chars().take(140).collect::<String>());
    }
    assert!(seen.len() <= ceiling, "[{backend}] {what}: {} statements, more than {ceiling}:\n{seen:#?}", seen.len());
}

async fn databases() -> Vec<(&'static str, TestDb)> {
    let mut dbs = vec![("sqlite", TestDb::sqlite().await)];
    if let Some(pg) = TestDb::postgres().await {
        dbs.push(("postgres", pg));
    }
    dbs
}

fn config(db: &TestDb, dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> Config {
    let mut env: HashMap<String, String> = [
        ("DATABASE_URL", db.url.as_str()),
        ("TOCHEN_SECRET_KEYS", db.key.as_str()),
        ("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()),
        ("TOCHEN_PUBLIC_URL", "https://tochen.example"),
        ("META_APP_ID", "meta-app"),
        ("META_APP_SECRET", "meta-app-secret"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_source(&env).unwrap()
}

/// (backend, ceiling): what each path may send at most; lower these when a change sends fewer.
const WEBHOOK_CEILING: [(&str, usize); 2] = [("sqlite", 2), ("postgres", 1)];
const JOBS_CEILING: [(&str, usize); 2] = [("sqlite", 25), ("postgres", 25)];
const PUBLISH_CEILING: [(&str, usize); 2] = [("sqlite", 66), ("postgres", 70)];
const ANSWER_CEILING: [(&str, usize); 2] = [("sqlite", 3), ("postgres", 3)];
const PRESS_CEILING: [(&str, usize); 2] = [("sqlite", 2), ("postgres", 2)];

fn ceiling(table: [(&str, usize); 2], backend: &str) -> usize {
    table.iter().find(|(b, _)| *b == backend).map(|(_, n)| *n).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_webhook_is_stored_with_its_job_in_few_statements() {
    install();
    let _one = ONE_AT_A_TIME.lock().await;
    for (backend, db) in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let config = config(&db, &dir, &[]);
        let state = tochen_web::AppState::new(
            config,
            db.store.clone(),
            &SecretString::new(db.key.clone()),
            tochen_web::RateLimit { per_second: 10_000, burst: 10_000 },
        );
        let app = tochen_web::app(state);
        let body = br#"{"object":"page","entry":[{"id":"111","time":1790000000,"changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"c1","post_id":"111_9","message":"hi","created_time":1790000000}}]}]}"#;
        let sig = sign_meta_webhook("meta-app-secret", body);
        settle().await;
        take(nothing);
        let req = Request::post("/webhooks/meta")
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sig)
            .body(Body::from(body.to_vec()))
            .unwrap();
        assert_eq!(app.oneshot(req).await.unwrap().status(), 200);
        report(backend, "one signed Meta webhook (event + job)", &take(nothing), ceiling(WEBHOOK_CEILING, backend));
        db.cleanup().await;
    }
}

struct Noop(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl Worker<serde_json::Value> for Noop {
    async fn work(&self, _cx: &JobContext, _args: serde_json::Value) -> Result<(), JobError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claiming_and_completing_jobs_takes_few_statements_per_job() {
    install();
    let _one = ONE_AT_A_TIME.lock().await;
    for (backend, db) in databases().await {
        let jobs = 100;
        for i in 0..jobs {
            db.store.enqueue(&NewJob::untyped("noop", serde_json::json!({ "i": i }))).await.unwrap();
        }
        let done = Arc::new(AtomicUsize::new(0));
        let mut workers = tochen_scheduler::new_workers();
        workers.register_as::<serde_json::Value, _>("noop", Noop(done.clone()));
        let rc = RunnerConfig { concurrency: 32, max_idle: Duration::from_secs(30), ..RunnerConfig::new("stmts") };
        settle().await;
        take(nothing);
        let stop = CancellationToken::new();
        let runner = tokio::spawn(Runner::new(db.store.clone(), workers, rc).run(stop.clone()));
        while done.load(Ordering::Relaxed) < jobs {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        settle().await;
        stop.cancel();
        runner.await.unwrap().unwrap();
        let seen = take(nothing);
        // The runner's start and stop (its lease sweep, releasing what it held) are in the count too.
        report(backend, &format!("{jobs} no-op jobs claimed and completed"), &seen, ceiling(JOBS_CEILING, backend));
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_posts_takes_few_statements_per_post() {
    install();
    let _one = ONE_AT_A_TIME.lock().await;
    for (backend, db) in databases().await {
        let user = db.store.upsert_user(&tochen_testkit::person(6161, "Pia")).await.unwrap();
        let tenant = db.store.create_tenant("Press", &TenantProfile::default(), 0, user.id).await.unwrap().id;
        let page = NewAccount {
            platform: Platform::Facebook,
            auth_kind: AuthKind::FacebookPage,
            external_id: "page-1".into(),
            name: "Page".into(),
            access_token: SecretString::new("t"),
            refresh_token: None,
            scopes: vec![],
            token_expires_at: None,
            refresh_expires_at: None,
            connected_by: None,
        };
        let account = db.store.upsert_account(tenant, &page).await.unwrap().id;
        let posts = 10;
        let platform = CountingPlatform::start(Duration::ZERO).await;
        let publisher: Arc<dyn Publisher> = Arc::new(HttpPublisher::new(platform.url.clone(), Duration::from_secs(10)));
        let mut workers = tochen_scheduler::new_workers();
        workers.register::<PublishPayload, _>(PublishHandler {
            publishers: Arc::new([(AuthKind::FacebookPage, publisher)].into_iter().collect()),
            media_urls: Arc::new(|_, id| format!("http://127.0.0.1:1/media/{id}")),
            data_dir: std::env::temp_dir(),
        });
        // One at a time, so nothing is shared between posts (a busy runner claims and completes in batches).
        let rc = RunnerConfig { concurrency: 1, max_idle: Duration::from_secs(30), ..RunnerConfig::new("stmts") };
        seed::seed_posts(&db.store, tenant, &[(account, Platform::Facebook)], posts, |_| now_ms()).await;
        settle().await;
        take(nothing);
        let stop = CancellationToken::new();
        let runner = tokio::spawn(Runner::new(db.store.clone(), workers, rc).run(stop.clone()));
        while platform.total() < posts as u64 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        settle().await;
        stop.cancel();
        runner.await.unwrap().unwrap();
        let seen = take(nothing);
        // The runner's start and stop are in the count too.
        report(backend, &format!("{posts} posts published one at a time"), &seen, ceiling(PUBLISH_CEILING, backend));
        db.cleanup().await;
    }
}

/// The batch runner's claims and its look for the next due job, when it wakes (on the store's "jobs changed"
/// signal, at the latest every 30 s), are not part of an update.
fn runner_claim(sql: &str) -> bool {
    sql.contains("tochen_claim_jobs")
        || sql.contains("UPDATE jobs SET state = 'running'")
        || sql.starts_with("SELECT (SELECT run_at FROM jobs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_handles_an_update_in_few_statements() {
    install();
    let _one = ONE_AT_A_TIME.lock().await;
    for (backend, db) in databases().await {
        let tg = FakeTelegram::start().await;
        let dir = tempfile::tempdir().unwrap();
        let config = config(&db, &dir, &[("TELEGRAM_BOT_TOKEN", &tg.token), ("TELEGRAM_API_URL", &tg.api_url)]);
        let who = tochen_testkit::person(5151, "Ana");
        let user = db.store.upsert_user(&who).await.unwrap();
        db.store.create_tenant("Bakery", &TenantProfile::default(), 0, user.id).await.unwrap();
        let bot = components::Components::bot(&config, &db.store, &tg).await;

        // Into the profile flow (not counted), then one typed answer: the person, their workspace and role, the
        // dialogue state, the answer stored, the next state stored.
        let mark = tg.mark();
        tg.send_text(5151, "/profile");
        tg.said(5151, mark, "").await;
        settle().await;
        take(nothing);
        let mark = tg.mark();
        tg.send_text(5151, "We bake sourdough bread every morning");
        tg.said(5151, mark, "").await;
        settle().await;
        report(backend, "a typed answer in a flow", &take(runner_claim), ceiling(ANSWER_CEILING, backend));

        // A button press: /language's list (not counted), then a language picked (stored, the screen edited).
        let mark = tg.mark();
        tg.send_text(5151, "/cancel");
        tg.said(5151, mark, "").await;
        let mark = tg.mark();
        tg.send_text(5151, "/language");
        let screen = tg.said(5151, mark, "").await;
        settle().await;
        take(nothing);
        let first = screen.buttons.first().and_then(|row| row.first()).expect("/language shows buttons").clone();
        let mark = tg.mark();
        tg.press_as(5151, 5151, screen.message_id, &first.1);
        tg.wait_call(mark, |c| c.method == "answercallbackquery").await;
        settle().await;
        report(backend, "a button press", &take(runner_claim), ceiling(PRESS_CEILING, backend));

        bot.stop().await;
        db.cleanup().await;
    }
}
