//! Campaign batch benchmark (harness = false, issue 18): a 200-post batch against the fake LLM answering each call
//! after 1 s, at `LLM_BATCH_CONCURRENCY` 5: the ideal is 200 / 5 x 1 s = 40 s, the target within 1.1x of it
//! (44 s). Numbers, not asserts; results go to BENCHMARKS.md.
//!
//! Each round starts a new 200-item batch in one workspace (the batch, its items and its 200 jobs in one
//! transaction) and measures from just before `Store::start_batch` until the batch is `finished`, with the batch
//! runner (`tochen_bot::batches::runner_with`, per workspace 5, global 20) running throughout. Printed per round:
//! the wall time, the ratio to the ideal and the most calls the fake saw in flight at once; then the median of the
//! rounds with min and max.
//!
//! `cargo bench -p tochen-bot --bench batch` runs SQLite, and PostgreSQL too when TEST_DATABASE_URL is set
//! (`BENCH_BACKEND=sqlite|postgres` narrows it down; `BENCH_ROUNDS`, default 5; `BENCH_ITEMS`, default 200).

use std::collections::HashMap;
use std::time::{Duration, Instant};
use tochen_config::Config;
use tochen_domain::BatchStatus;
use tochen_llm::LlmClient;
use tochen_store::{CampaignFields, NewBatch, NewBatchItem, Store, TelegramIdentity, TenantProfile};
use tochen_testkit::fake_llm::FakeLlm;
use tochen_testkit::TestDb;
use tokio_util::sync::CancellationToken;

const CONCURRENCY: usize = 5;
const CALL: Duration = Duration::from_secs(1);

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn bench(label: &str, db: TestDb, rounds: usize, items: usize) {
    let store: Store = db.store.clone();
    let llm = FakeLlm::start().await;
    llm.set_delay(CALL);
    let dir = tempfile::tempdir().unwrap();
    let vars: HashMap<String, String> = [
        ("TELEGRAM_BOT_TOKEN", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ".to_owned()),
        ("DATABASE_URL", db.url.clone()),
        ("TOCHEN_SECRET_KEYS", db.key.clone()),
        ("TOCHEN_DATA_DIR", dir.path().display().to_string()),
        ("LLM_PROVIDER", "openai_compatible".into()),
        ("LLM_BASE_URL", llm.base_url.clone()),
        ("LLM_API_KEY", "sk-bench".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Config::from_source(&vars).unwrap();
    let client = LlmClient::new(config.llm.clone(), store.clone(), dir.path().to_path_buf()).unwrap();
    let rules = tochen_platforms::RuleBook::new(&config);
    let runner = tochen_bot::batches::runner_with(&store, client, rules, CONCURRENCY, 20, Duration::from_secs(120));
    let stop = CancellationToken::new();
    let running = tokio::spawn(runner.run(stop.clone()));

    let who = TelegramIdentity {
        telegram_id: 1,
        username: None,
        first_name: "B".into(),
        last_name: None,
        language_code: None,
    };
    let user = store.upsert_user(&who).await.unwrap();
    let tenant = store.create_tenant("Bench", &TenantProfile::default(), 0, user.id).await.unwrap().id;
    let fields = CampaignFields {
        name: "Bench".into(),
        brief: "Benchmark".into(),
        platforms: vec![tochen_domain::Platform::Facebook],
        ..Default::default()
    };
    let campaign = store.create_campaign(tenant, Some(user.id), &fields).await.unwrap();
    let ideal = CALL.as_secs_f64() * (items as f64 / CONCURRENCY as f64).ceil();
    let mut times = Vec::new();
    for round in 1..=rounds {
        llm.reset_max_in_flight();
        let list =
            (0..items).map(|i| NewBatchItem { topic: format!("post {i}"), ..Default::default() }).collect::<Vec<_>>();
        let started = Instant::now();
        let (batch, _) =
            store.start_batch(tenant, campaign.id, &NewBatch { items: list, ..Default::default() }).await.unwrap();
        loop {
            if store.batch(tenant, batch.id).await.unwrap().status != BatchStatus::Running {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = started.elapsed().as_secs_f64();
        let p = store.batch_progress(tenant, batch.id).await.unwrap();
        println!(
            "{label} round {round}: {secs:.2} s ({:.3}x of {ideal:.0} s), {} done, {} failed, max in flight {}",
            secs / ideal,
            p.done,
            p.failed,
            llm.max_in_flight()
        );
        times.push(secs);
    }
    stop.cancel();
    let _ = running.await;
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    println!(
        "{label}: median {median:.2} s ({:.3}x), min {:.2} s, max {:.2} s over {} rounds",
        median / ideal,
        times[0],
        times[times.len() - 1],
        times.len()
    );
    db.cleanup().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds = env_num("BENCH_ROUNDS", 5).max(1);
    let items = env_num("BENCH_ITEMS", 200).max(1);
    let backend = std::env::var("BENCH_BACKEND").unwrap_or_default();
    if backend.is_empty() || backend == "sqlite" {
        bench("sqlite", TestDb::sqlite().await, rounds, items).await;
    }
    if backend.is_empty() || backend == "postgres" {
        match TestDb::postgres().await {
            Some(db) => bench("postgres", db, rounds, items).await,
            None => println!("postgres: skipped (TEST_DATABASE_URL is not set)"),
        }
    }
}
