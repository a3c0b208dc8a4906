//! Scheduler benchmarks (harness = false): numbers, not asserts. Results go to BENCHMARKS.md.
//!
//! 1. claim-and-complete throughput of no-op jobs, per backend;
//! 2. lateness p50/p99 of 1,000 posts due at scattered times over 10 s (in-process publisher, no latency);
//! 3. drain of 10,000 posts due at once against the counting fake platform with 50 ms latency, compared with the
//!    ideal `ceil(10,000 / concurrency) x 50 ms` for the configured concurrency.
//!
//! `cargo bench -p tochen-scheduler --bench scheduler` runs SQLite, and PostgreSQL too when TEST_DATABASE_URL is
//! set. `BENCH_ONLY=throughput|lateness|drain` and `BENCH_BACKEND=sqlite|postgres` narrow it down.

#[path = "../tests/it/common/seed.rs"]
mod seed;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{AccountId, TenantId};
use tochen_domain::jobs::{NotifyPayload, PublishPayload};
use tochen_domain::{AuthKind, Platform};
use tochen_domain::{SecretBox, SecretString};
use tochen_platforms::publish::{CheckOutcome, PublishError, PublishOutcome, PublishRequest, Publisher, RefRecorder};
use tochen_scheduler::handlers::publish::PublishHandler;
use tochen_scheduler::{
    AutomationRegistry, Backoff, Deps, JobContext, JobError, Notifier, Publishers, Runner, RunnerConfig, Worker,
};
use tochen_store::Store;
use tochen_store::{NewAccount, TelegramIdentity, TenantProfile};
use tochen_testkit::fake_platform::{CountingPlatform, HttpPublisher};
use tokio_util::sync::CancellationToken;

/// Concurrency of the lateness and drain runs (the drain's ideal is computed for it).
const CONCURRENCY: usize = 32;
/// Concurrency of the no-op throughput run: no-op jobs are pure queue overhead, so bigger batches per claim.
const THROUGHPUT_CONCURRENCY: usize = 128;

struct Noop(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl Worker<serde_json::Value> for Noop {
    async fn work(&self, _cx: &JobContext, _args: serde_json::Value) -> Result<(), JobError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Adds the time spent in the wrapped handler or publisher to a counter (microseconds), so the drain can tell how
/// much of each job slot went to the platform call, to the handler's database work, and to neither (claiming).
/// The third counter gets the start of every handler subtracted and the start of every platform call added
/// (microseconds since [`epoch`]): with one call per handler, its total is the time spent before the calls.
struct Timed<T: ?Sized>(Arc<T>, Arc<AtomicU64>, Arc<AtomicI64>);

/// The instant the drain's start offsets count from.
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

#[async_trait::async_trait]
impl<A: Send + 'static, W: Worker<A>> Worker<A> for Timed<W> {
    async fn work(&self, cx: &JobContext, args: A) -> Result<(), JobError> {
        let t = Instant::now();
        self.2.fetch_sub(t.duration_since(epoch()).as_micros() as i64, Ordering::Relaxed);
        let r = self.0.work(cx, args).await;
        self.1.fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
        r
    }
}

#[async_trait::async_trait]
impl Publisher for Timed<dyn Publisher> {
    async fn publish(&self, req: &PublishRequest, refs: &dyn RefRecorder) -> Result<PublishOutcome, PublishError> {
        let t = Instant::now();
        self.2.fetch_add(t.duration_since(epoch()).as_micros() as i64, Ordering::Relaxed);
        let r = self.0.publish(req, refs).await;
        self.1.fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
        r
    }
    async fn check(&self, r: &PublishRequest, p: &str, refs: &dyn RefRecorder) -> Result<CheckOutcome, PublishError> {
        self.0.check(r, p, refs).await
    }
}

struct Silent;

#[async_trait::async_trait]
impl Notifier for Silent {
    async fn send(&self, _m: &NotifyPayload) -> Result<(), JobError> {
        Ok(())
    }
}

/// Records when each target was published (unix ms).
#[derive(Default)]
struct Clocked(Mutex<HashMap<String, i64>>);

#[async_trait::async_trait]
impl Publisher for Clocked {
    async fn publish(&self, req: &PublishRequest, _refs: &dyn RefRecorder) -> Result<PublishOutcome, PublishError> {
        self.0.lock().unwrap().insert(req.target_id.to_string(), now_ms());
        Ok(PublishOutcome::Published { platform_post_id: format!("p-{}", req.target_id), permalink: None })
    }
    async fn check(&self, _r: &PublishRequest, _p: &str, _: &dyn RefRecorder) -> Result<CheckOutcome, PublishError> {
        Ok(CheckOutcome::Pending)
    }
}

struct Bench {
    store: Store,
    url: String,
    cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

async fn open(backend: &str) -> Option<Bench> {
    let secrets = SecretBox::from_keys(&[SecretString::new(SecretBox::generate_key())]).unwrap();
    match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            let store = Store::connect(&url, 1, secrets).await.unwrap();
            store.migrate().await.unwrap();
            Some(Bench { store, url, cleanup: None, _dir: Some(dir) })
        }
        _ => {
            let admin = std::env::var("TEST_DATABASE_URL").ok()?;
            let name = format!("tochen_bench_{}", uuid::Uuid::new_v4().simple());
            let url = tochen_testkit::db::create_database(&admin, &name).await;
            let store = Store::connect(&url, 24, secrets).await.unwrap();
            store.migrate().await.unwrap();
            Some(Bench { store, url, cleanup: Some((admin, name)), _dir: None })
        }
    }
}

impl Bench {
    async fn close(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.cleanup {
            tochen_testkit::db::drop_database(&admin, &name).await;
        }
    }

    /// PostgreSQL: gathers the planner statistics autovacuum keeps in a running database. The bulk seed is
    /// something a real database never sees at once, and without statistics the planner cannot tell a primary-key
    /// lookup from a scan of the whole workspace. Statistics taken when nothing runs are also the worst case for
    /// the job queue (the planner then believes no job is running): the claim-and-complete run starts from them.
    /// SQLite plans from its indexes alone (the product never runs ANALYZE there), so it is left as it is.
    async fn analyze(&self) {
        if self.url.starts_with("postgres") {
            sqlx::query("ANALYZE").execute(self.store.sql_for_tests()).await.unwrap();
        }
    }

    fn config(&self) -> RunnerConfig {
        let mut c = RunnerConfig::new(tochen_scheduler::owner_name());
        c.concurrency = std::env::var("BENCH_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(CONCURRENCY);
        c.claim_ahead = std::env::var("BENCH_CLAIM_AHEAD").ok().and_then(|v| v.parse().ok());
        c.per_key = 1;
        c.backoff = Backoff::default();
        if self.url.starts_with("postgres") {
            c.listen_url = Some(self.url.clone());
        }
        c
    }

    async fn workspace(&self, accounts: usize) -> (TenantId, Vec<(AccountId, Platform)>) {
        let who = TelegramIdentity {
            telegram_id: 1,
            username: None,
            first_name: "Bench".into(),
            last_name: None,
            language_code: None,
        };
        let admin = self.store.upsert_user(&who).await.unwrap();
        let tenant = self.store.create_tenant("Bench", &TenantProfile::default(), 0, admin.id).await.unwrap().id;
        let mut out = Vec::new();
        for i in 0..accounts {
            let new = NewAccount {
                platform: Platform::Facebook,
                auth_kind: AuthKind::FacebookPage,
                external_id: format!("page-{i}"),
                name: format!("Page {i}"),
                access_token: SecretString::new("t"),
                refresh_token: None,
                scopes: vec![],
                token_expires_at: None,
                refresh_expires_at: None,
                connected_by: None,
            };
            out.push((self.store.upsert_account(tenant, &new).await.unwrap().id, Platform::Facebook));
        }
        (tenant, out)
    }
}

fn deps(publisher: Arc<dyn Publisher>) -> Deps {
    let publishers: Publishers = [(AuthKind::FacebookPage, publisher)].into_iter().collect();
    Deps {
        publishers,
        notifier: Arc::new(Silent),
        refresher: Arc::new(tochen_platforms::refresh::NoRefresher),
        automations: AutomationRegistry::new(),
        media_urls: Arc::new(|_, id| format!("http://127.0.0.1:1/media/{id}")),
        data_dir: std::env::temp_dir(),
        sources: tochen_scheduler::Sources::Real,
    }
}

async fn count_state(store: &Store, state: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE state = $1")
        .bind(state)
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    n
}

async fn published(store: &Store) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM post_targets WHERE status = 'published'")
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    n
}

async fn throughput(backend: &str) {
    let Some(b) = open(backend).await else { return };
    let n = 20_000;
    tochen_testkit::db::insert_due_noop_jobs(&b.store, n, now_ms()).await;
    b.analyze().await;
    let counter = Arc::new(AtomicUsize::new(0));
    let mut handlers = tochen_scheduler::new_workers();
    handlers.register_as::<serde_json::Value, _>("noop", Noop(counter.clone()));
    let stop = CancellationToken::new();
    let started = Instant::now();
    let mut config = b.config();
    config.concurrency = THROUGHPUT_CONCURRENCY;
    let runner = tokio::spawn(Runner::new(b.store.clone(), handlers, config).run(stop.clone()));
    while count_state(&b.store, "succeeded").await < n as i64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    stop.cancel();
    runner.await.unwrap().unwrap();
    println!(
        "[{backend}] claim-and-complete: {n} no-op jobs in {:.2} s = {:.0} jobs/s (concurrency {THROUGHPUT_CONCURRENCY})",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    b.close().await;
}

async fn lateness(backend: &str) {
    let Some(b) = open(backend).await else { return };
    let (tenant, accounts) = b.workspace(200).await;
    let n = 1000;
    let start = now_ms() + 1000;
    let spread = 10_000i64;
    let times: Vec<i64> = (0..n).map(|i| start + (i as i64 * 7919) % spread).collect();
    let targets = seed::seed_posts(&b.store, tenant, &accounts, n, |i| times[i]).await;
    let clock = Arc::new(Clocked::default());
    let stop = CancellationToken::new();
    let runner = tokio::spawn(
        Runner::new(b.store.clone(), tochen_scheduler::handlers(&deps(clock.clone())), b.config()).run(stop.clone()),
    );
    while published(&b.store).await < n as i64 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.cancel();
    runner.await.unwrap().unwrap();
    let seen = clock.0.lock().unwrap().clone();
    let mut late: Vec<i64> = targets.iter().enumerate().map(|(i, t)| seen[&t.to_string()] - times[i]).collect();
    late.sort();
    let p = |q: f64| late[((late.len() as f64 * q) as usize).min(late.len() - 1)];
    println!(
        "[{backend}] lateness of {n} posts over {} s: p50 {} ms, p99 {} ms, max {} ms, early {}",
        spread / 1000,
        p(0.50),
        p(0.99),
        late.last().unwrap(),
        late.iter().filter(|l| **l < 0).count()
    );
    b.close().await;
}

async fn drain(backend: &str) {
    let Some(b) = open(backend).await else { return };
    let (tenant, accounts) = b.workspace(b.config().concurrency * 2).await;
    let n = 10_000;
    let platform = CountingPlatform::start(Duration::from_millis(50)).await;
    let at = now_ms();
    seed::seed_posts(&b.store, tenant, &accounts, n, |_| at).await;
    b.analyze().await;
    let http_us = Arc::new(AtomicU64::new(0));
    let handler_us = Arc::new(AtomicU64::new(0));
    let before_call_us = Arc::new(AtomicI64::new(0));
    let inner: Arc<dyn Publisher> = Arc::new(HttpPublisher::new(platform.url.clone(), Duration::from_secs(10)));
    let publisher: Arc<dyn Publisher> = Arc::new(Timed(inner, http_us.clone(), before_call_us.clone()));
    let deps = deps(publisher);
    let mut handlers = tochen_scheduler::handlers(&deps);
    let publish = PublishHandler {
        publishers: Arc::new(deps.publishers.clone()),
        media_urls: deps.media_urls.clone(),
        data_dir: deps.data_dir.clone(),
    };
    handlers.register::<PublishPayload, _>(Timed(Arc::new(publish), handler_us.clone(), before_call_us.clone()));
    let stop = CancellationToken::new();
    let started = Instant::now();
    epoch();
    let runner = tokio::spawn(Runner::new(b.store.clone(), handlers, b.config()).run(stop.clone()));
    // The fake platform's in-memory count is polled, not the database, so the measurement costs the database
    // nothing while the drain runs; the last results are then waited for in the database.
    while platform.total() < n as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    while published(&b.store).await < n as i64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    stop.cancel();
    runner.await.unwrap().unwrap();
    let concurrency = b.config().concurrency;
    let per_job = |us: &AtomicU64| us.load(Ordering::Relaxed) as f64 / 1e3 / n as f64;
    let busy = |us: &AtomicU64| us.load(Ordering::Relaxed) as f64 / 1e6 / took.as_secs_f64();
    println!(
        "[{backend}] drain: per publish {:.1} ms in the handler, {:.1} ms of it the platform call and {:.2} ms before \
         it; on average {:.1} publishes in a handler, {:.1} in a platform call ({concurrency} slots; a publish frees \
         its slot once the platform answered)",
        per_job(&handler_us),
        per_job(&http_us),
        before_call_us.load(Ordering::Relaxed) as f64 / 1e3 / n as f64,
        busy(&handler_us),
        busy(&http_us)
    );
    let ideal = Duration::from_millis(50) * n.div_ceil(concurrency) as u32;
    println!(
        "[{backend}] drain of {n} posts at 50 ms each, concurrency {concurrency}: {:.2} s vs ideal {:.2} s = {:.2}x \
         (platform saw {} publishes)",
        took.as_secs_f64(),
        ideal.as_secs_f64(),
        took.as_secs_f64() / ideal.as_secs_f64(),
        platform.total()
    );
    b.close().await;
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let backends: Vec<String> = match std::env::var("BENCH_BACKEND") {
        Ok(b) => vec![b],
        Err(_) => vec!["sqlite".into(), "postgres".into()],
    };
    rt.block_on(async {
        for backend in &backends {
            if only.is_empty() || only == "throughput" {
                throughput(backend).await;
            }
            if only.is_empty() || only == "lateness" {
                lateness(backend).await;
            }
            if only.is_empty() || only == "drain" {
                drain(backend).await;
            }
        }
    });
}
