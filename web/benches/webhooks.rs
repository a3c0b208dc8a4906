//! Load benchmark: signed Meta webhook deliveries against the real router on loopback, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL. Every delivery is verified (once, before any rate limit), takes a token from
//! the route's shared allowance, and is stored, deduplicated and queued before its 200, so this measures the
//! whole acknowledged path.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-web TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!       cargo bench -p tochen-web --bench webhooks` (env `BENCH_REQUESTS`, `BENCH_CONCURRENCY` to change the load).

use std::collections::HashMap;
use std::net::SocketAddr;
use tochen_config::Config;
use tochen_domain::SecretString;
use tochen_testkit::webhook_load::signed_meta_deliveries;
use tochen_testkit::TestDb;
use tochen_web::{app, AppState, RateLimit};

const SECRET: &str = "bench-meta-secret";

fn config(data_dir: &str) -> Config {
    // The shared allowance of signed deliveries is raised out of the way: this measures the path, not the limit.
    let env: HashMap<String, String> = [
        ("META_APP_ID", "bench-app"),
        ("META_APP_SECRET", SECRET),
        ("TOCHEN_DATA_DIR", data_dir),
        ("TOCHEN_WEBHOOK_RATE_LIMIT", "1000000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Config::from_source(&env).expect("bench config")
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn run(label: &str, db: TestDb, requests: usize, concurrency: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = AppState::new(
        config(dir.path().to_str().unwrap_or(".")),
        db.store.clone(),
        &SecretString::new(db.key.clone()),
        RateLimit { per_second: 1_000_000, burst: 1_000_000 },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    let url = format!("http://{addr}/webhooks/meta");
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().expect("client");
    let load = signed_meta_deliveries(&http, &url, SECRET, requests, concurrency, "c").await;
    let (stored,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_events").fetch_one(db.store.sql_for_tests()).await.expect("count");
    assert_eq!(stored as usize, requests, "every delivery was stored");
    println!(
        "{label:<10} requests={requests} concurrency={concurrency} req/s={:.0} p50={:.2}ms p99={:.2}ms max={:.2}ms",
        load.per_second,
        load.quantile(0.50).as_secs_f64() * 1000.0,
        load.quantile(0.99).as_secs_f64() * 1000.0,
        load.quantile(1.0).as_secs_f64() * 1000.0,
    );
    server.abort();
    db.cleanup().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let requests = env_usize("BENCH_REQUESTS", 5000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 32);
    run("sqlite", TestDb::sqlite().await, requests, concurrency).await;
    match TestDb::postgres().await {
        Some(db) => run("postgres", db, requests, concurrency).await,
        None => println!("postgres   skipped: TEST_DATABASE_URL is not set"),
    }
}
