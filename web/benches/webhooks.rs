//! Load benchmark: signed Meta webhook deliveries against the real router on loopback, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL. Every delivery is verified (once, before any rate limit), takes a token from
//! the route's shared allowance, and is stored, deduplicated and queued before its 200, so this measures the
//! whole acknowledged path.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-web TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!       cargo bench -p tochen-web --bench webhooks` (env `BENCH_REQUESTS`, `BENCH_CONCURRENCY` to change the load).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tochen_config::Config;
use tochen_domain::SecretString;
use tochen_testkit::fake_graph::sign_meta_webhook;
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
    let bodies: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
        (0..requests)
            .map(|i| {
                let body = format!(
                    r#"{{"object":"page","entry":[{{"id":"999","time":{i},"changes":[{{"field":"feed","value":{{"item":"comment","verb":"add","comment_id":"c{i}","post_id":"999_1","from":{{"id":"5","name":"Bench"}},"message":"hello {i}"}}}}]}}]}}"#
                );
                let sig = sign_meta_webhook(SECRET, body.as_bytes());
                (body.into_bytes(), sig)
            })
            .collect(),
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, url, bodies, next) = (http.clone(), url.clone(), bodies.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((body, sig)) = bodies.get(i) else { break };
                let t = Instant::now();
                let resp = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", sig)
                    .body(body.clone())
                    .send()
                    .await
                    .expect("request");
                assert_eq!(resp.status().as_u16(), 200, "every signed delivery is accepted");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all: Vec<Duration> = Vec::with_capacity(requests);
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p).ceil() as usize).saturating_sub(1).min(all.len() - 1)];
    let (stored,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM webhook_events").fetch_one(db.store.sql_for_tests()).await.expect("count");
    assert_eq!(stored as usize, requests, "every delivery was stored");
    println!(
        "{label:<10} requests={requests} concurrency={concurrency} req/s={:.0} p50={:.2}ms p99={:.2}ms max={:.2}ms",
        requests as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
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
